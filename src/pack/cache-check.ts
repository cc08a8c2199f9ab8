// Which packed CommonJS may keep a V8 code cache: a module compiled by loader/commonjs-compiler.ts must never
// call import() (Node 20 would print an ExperimentalWarning there, see loader/commonjs-compiler.ts), and a
// direct eval runs code that could. Decided once, when the pack is built, from the syntax tree
// (a JSDoc `import("x")` type in a comment is no call); served processes parse nothing.

/** The parser's entry point (oxc-parser's parseSync), passed in by the command that builds packs. */
export type ParseSync = (filename: string, source: string, options: { sourceType: 'script' }) => {
  errors: readonly unknown[];
  module: { dynamicImports: readonly unknown[] };
  program: unknown;
};

/**
 * A quick textual test: `import` or `eval` followed, after blanks, by `(` or a comment. Never
 * "no" for a source that calls either; often "yes" for one that does not (comments, strings).
 */
export function mentionsImportOrEval(source: string): boolean {
  return followedByCall(source, 'import') || followedByCall(source, 'eval');
}

function followedByCall(source: string, word: string): boolean {
  for (let at = source.indexOf(word); at !== -1; at = source.indexOf(word, at + word.length)) {
    let i = at + word.length;
    let c = source.charCodeAt(i);
    while (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) c = source.charCodeAt(++i);
    if (c === 0x28 /* ( */ || c === 0x2f /* a comment */) return true;
  }
  return false;
}

/** Whether a CommonJS source calls import() or a direct eval; a source that does not parse counts as calling. */
export function callsImportOrEval(source: string, parse: ParseSync): boolean {
  if (!mentionsImportOrEval(source)) return false;
  let result: ReturnType<ParseSync>;
  try {
    // Inside Node's wrapper, where a top-level `return` is allowed; a hashbang made a comment,
    // as loader/commonjs-compiler.ts compiles it.
    const body = source.startsWith('#!') ? `//${source.slice(2)}` : source;
    result = parse('module.cjs', `(function (exports, require, module, __filename, __dirname) {\n${body}\n})`, { sourceType: 'script' });
  } catch {
    return true;
  }
  if (result.errors.length > 0 || result.module.dynamicImports.length > 0) return true;
  return source.includes('eval') && hasDirectEval(result.program);
}

/** A call whose callee is the plain identifier `eval`, anywhere in an ESTree tree. */
function hasDirectEval(program: unknown): boolean {
  const stack: unknown[] = [program];
  while (stack.length > 0) {
    const node = stack.pop();
    if (node === null || typeof node !== 'object') continue;
    if (Array.isArray(node)) {
      for (const child of node) stack.push(child);
      continue;
    }
    const record = node as Record<string, unknown>;
    if (record['type'] === 'CallExpression') {
      const callee = record['callee'] as Record<string, unknown> | undefined;
      if (callee?.['type'] === 'Identifier' && callee['name'] === 'eval') return true;
    }
    for (const key in record) {
      const value = record[key];
      if (value !== null && typeof value === 'object') stack.push(value);
    }
  }
  return false;
}
