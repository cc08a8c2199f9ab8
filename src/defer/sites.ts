// What the defer transform rewrites, found once for both of its outputs: the run-time one (the
// load hook's stand-in imports) and the build-time one (plain code for bundlers and tsc output).
// A pure function of the source: it parses, lists the deferrable declarations and every
// reference to their bindings, and decides which must stay eager.
import type MagicString from 'magic-string';
import { isBuiltin } from 'node:module';
import { parseSync } from 'oxc-parser';
import { matchesDefer } from './config.js';
import { hasImportDeferCall } from './detect.js';
import { findReferences, hasDynamicScope, unparen, type Node, type Reference } from './scope.js';

export interface SiteOptions {
  /** Auto-defer patterns (package names, globs); empty for none. */
  readonly defer: readonly string[];
  /** COLDSTART_EAGER: auto-defer is off (`import defer` statements are still listed). */
  readonly eager: boolean;
  /** Node evaluates `import defer` itself: those statements are not listed. */
  readonly nativeImportDefer: boolean;
  /** Also list `const x = __importStar(require("x"))` and the like (compilers' interop wrappers), for
   *  build-time lowering, which keeps the wrapper; the run-time transform does not. */
  readonly interopRequire?: boolean;
  /** Learned deferral: every import, and every top-level `const`/`let`/`var` of a require
   *  (configured or not, including `require("x").y`); whether each may load later is the
   *  caller's decision. */
  readonly learned?: boolean;
  /** Also list the `import.defer(...)` calls (the run-time transform rewrites them). */
  readonly dynamic?: boolean;
}

export interface DeferSite {
  /** `import defer * as ns`, an ordinary import of a configured module, or a top-level `const x = require(...)`. */
  readonly kind: 'import-defer' | 'import' | 'require';
  readonly specifier: string;
  /** The statement (imports) or declarator (require) the rewrite replaces. */
  readonly start: number;
  readonly end: number;
  /** The variable the rewrite declares. */
  readonly object: string;
  /** What references read through: the object, or `object.m` for a lazily required value. */
  readonly read: string;
  /** local name -> imported name (`default` for a default import, '' for a required value). */
  readonly locals: ReadonlyMap<string, string>;
  /** For a require: the declarator's initialiser as written (`require("x")`, maybe wrapped). */
  readonly init?: string;
  /** The import attributes clause of an `import defer` statement, as written (` with { ... }`). */
  readonly attributes?: string | undefined;
  /** An `import.defer("x")` call (build-time lowering lists those with a literal specifier as
   *  sites): `start`/`end` span the call expression. */
  readonly call?: boolean;
  /** False when a reference leaves the module (`export { a }`): the declaration stays as written. */
  keep: boolean;
  /** Learned deferral's `const X = x.X` after `const x = require("x")`: the site whose value this
   *  one reads (its `init` already reads through that site); it loads at first use only with it. */
  readonly alias?: DeferSite;
  /** Learned deferral's bare `import "x"` that only orders evaluation (a bundler hoists them):
   *  dropped when accepted, since `x` loads through another import of the module. */
  readonly bare?: true;
  /** Learned deferral's default-only import of a builtin (`import fs from "fs"`): its value is the
   *  builtin's exports object, which `process.getBuiltinModule` gives without the ES module
   *  facade; it reads through `(object())`, a hoisted function, since an import binding exists
   *  before the module's code runs (a cycle can call the module's functions that early); the
   *  parentheses keep `new X()` constructing X. */
  readonly builtin?: true;
  /** An `import * as x`: the program sees the namespace object itself, its names included. */
  readonly namespace?: true;
}

export interface DeferPlan {
  readonly program: Node;
  readonly sites: readonly DeferSite[];
  /** References to the locals of sites that are rewritten. */
  readonly references: readonly Reference[];
  readonly owner: ReadonlyMap<string, DeferSite>;
  readonly commonjs: boolean;
  /** The `import.defer(...)` calls (ImportExpression nodes of phase "defer"), when asked for. */
  readonly calls: readonly Node[];
}

let parses = 0;

/** How many files this thread parsed: the evidence that a cached run parses nothing. */
export function parseCount(): number {
  return parses;
}

function isTypeScript(file: string, format: string | undefined): boolean {
  return format?.endsWith('-typescript') === true || /\.[cm]?tsx?$/.test(file);
}


export function parse(source: string, file: string, format: string | undefined): Node {
  parses++;
  const ts = isTypeScript(file, format);
  const commonjs = format === 'commonjs' || format === 'commonjs-typescript' || /\.c[jt]s$/.test(file);
  const jsx = /\.[jt]sx$/.test(file);
  const name = ts ? (jsx ? 'file.tsx' : 'file.ts') : jsx ? 'file.jsx' : 'file.js';
  // 'commonjs': a script inside Node's module wrapper, where a top-level `return` is legal.
  const result = parseSync(name, source, { sourceType: commonjs ? 'commonjs' : 'module', lang: ts ? (jsx ? 'tsx' : 'ts') : jsx ? 'jsx' : 'js' } as never);
  if (result.errors.length > 0) {
    const first = result.errors[0] as { message?: string } | undefined;
    throw new SyntaxError(first?.message ?? 'parse error');
  }
  return result.program as unknown as Node;
}

export function uniqueName(source: string, base: string): string {
  let name = base;
  for (let i = 1; source.includes(name); i++) name = `${base}${i}`;
  return name;
}

/** Lists the declarations of `source` to defer; undefined when there are none. */
export function planDefer(source: string, file: string, format: string | undefined, options: SiteOptions): DeferPlan | undefined {
  return planProgram(parse(source, file, format), source, format, options);
}

/** planDefer over a program already parsed from `source`. */
export function planProgram(program: Node, source: string, format: string | undefined, options: SiteOptions): DeferPlan | undefined {
  const commonjs = format === 'commonjs' || format === 'commonjs-typescript';
  const every = options.learned === true;
  const autoDefer = !options.eager && (options.defer.length > 0 || every) && !hasDynamicScope(source);
  const sites: DeferSite[] = [];
  let counter = 0;
  // The prefix is lazy/learned-records.ts cellFramePrefix: the load records look past a builtin cell's frame.
  const objectName = () => uniqueName(source, `__coldstart_defer${counter++}`);

  for (const statement of program['body'] as Node[]) {
    if (statement.type === 'ImportDeclaration') {
      const specifier = String(statement['source'].value);
      if (statement['phase'] === 'defer') {
        if (options.nativeImportDefer) continue;
        const namespace = statement['specifiers'][0];
        if (namespace?.type !== 'ImportNamespaceSpecifier') continue; // a syntax error Node reports itself
        const object = namespace.local.name as string;
        // `with { type: "json" }` as written, kept on the stand-in import for Node to check.
        const attributes = (statement['attributes'] ?? []).length > 0 ? source.slice(statement['source'].end, statement.end).replace(/;\s*$/, '') : undefined;
        sites.push({ kind: 'import-defer', specifier, start: statement.start, end: statement.end, object, read: object, locals: new Map(), keep: false, attributes });
        continue;
      }
      if (!autoDefer || statement['phase'] === 'source' || statement['importKind'] === 'type') continue;
      if ((statement['attributes'] ?? []).length > 0 || statement['specifiers'].length === 0) continue;
      if (!(every || matchesDefer(options.defer, specifier))) continue;
      const locals = new Map<string, string>();
      let object: string | undefined;
      for (const spec of statement['specifiers'] as Node[]) {
        if (spec['importKind'] === 'type') continue;
        if (spec.type === 'ImportNamespaceSpecifier') object = spec['local'].name;
        else if (spec.type === 'ImportDefaultSpecifier') locals.set(spec['local'].name, 'default');
        else locals.set(spec['local'].name, spec['imported'].type === 'Identifier' ? spec['imported'].name : String(spec['imported'].value));
      }
      if (object === undefined && locals.size === 0) continue;
      if (every && object === undefined && locals.size === 1 && [...locals.values()][0] === 'default' && isBuiltin(specifier)) {
        const cell = objectName();
        sites.push({ kind: 'import', specifier, start: statement.start, end: statement.end, object: cell, read: `(${cell}())`, locals: new Map([[[...locals.keys()][0]!, '']]), keep: false, builtin: true });
        continue;
      }
      const namespace = object !== undefined;
      object ??= objectName();
      sites.push({ kind: 'import', specifier, start: statement.start, end: statement.end, object, read: object, locals, keep: false, ...(namespace ? { namespace: true as const } : {}) });
    } else if (autoDefer && commonjs && statement.type === 'VariableDeclaration' && (statement['kind'] === 'const' || every)) {
      for (const declarator of statement['declarations'] as Node[]) {
        const specifier = requireCall(every ? memberBase(declarator['init']) : declarator['init'], options.interopRequire === true);
        if (specifier === undefined || !(every || matchesDefer(options.defer, specifier))) continue;
        const locals = new Map<string, string>();
        const id = declarator['id'];
        if (id.type === 'Identifier') locals.set(id.name, '');
        else if (!simpleObjectPattern(id, locals)) continue;
        const object = objectName();
        const init = source.slice(declarator['init'].start, declarator['init'].end);
        sites.push({ kind: 'require', specifier, start: declarator.start, end: declarator.end, object, read: `${object}.m`, locals, init, keep: false });
      }
    }
  }
  const calls = options.dynamic === true && hasImportDeferCall(source) ? importDeferCalls(program) : [];
  if (sites.length === 0 && calls.length === 0) return undefined;

  const owner = new Map<string, DeferSite>();
  for (const site of sites) for (const local of site.locals.keys()) owner.set(local, site);
  const all = owner.size === 0 ? [] : findReferences(program, new Set(owner.keys()));
  for (const ref of all) if (ref.kind === 'export') owner.get(ref.name)!.keep = true;
  const references = all.filter((ref) => !owner.get(ref.name)!.keep);
  return { program, sites, references, owner, commonjs, calls };
}

/** Every `import.defer(...)` in the program, outermost first; a walk over the whole tree, run
 *  only when the text holds the words. */
function importDeferCalls(program: Node): Node[] {
  const found: Node[] = [];
  const visit = (node: unknown): void => {
    if (node === null || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const item of node) visit(item);
      return;
    }
    const n = node as Node;
    if (n.type === 'ImportExpression' && n['phase'] === 'defer') found.push(n);
    for (const key in n) {
      if (key !== 'type' && key !== 'start' && key !== 'end') visit((n as Record<string, unknown>)[key]);
    }
  };
  visit(program);
  return found;
}

const identifierName = /^[A-Za-z_$][\w$]*$/;

export function member(object: string, name: string): string {
  return identifierName.test(name) ? `${object}.${name}` : `${object}[${JSON.stringify(name)}]`;
}

/** Rewrites every reference of the plan to read through its site's object. */
export function rewriteReferences(s: MagicString, plan: DeferPlan, source: string): void {
  let starts: Set<number> | undefined;
  for (const ref of plan.references) {
    const site = plan.owner.get(ref.name)!;
    if (site.keep) continue;
    const imported = site.locals.get(ref.name)!;
    const expression = imported === '' ? site.read : member(site.read, imported);
    let text = ref.kind === 'callee' ? `(0, ${expression})` : ref.kind === 'shorthand' ? `${ref.name}: ${expression}` : expression;
    // A statement that now opens with `(` would continue the previous line's expression in code
    // written without semicolons (`a.join(' ')` then `debug(x)`): the `;` keeps the boundary that
    // automatic semicolon insertion gave the original. Only in a statement list, where an empty
    // statement changes nothing (not as the body of an `if` or a loop).
    if (text.startsWith('(')) {
      starts ??= statementListStarts(plan.program);
      if (starts.has(ref.start) && !afterStatementEnd(source, ref.start)) text = `;${text}`;
    }
    s.overwrite(ref.start, ref.end, text, { contentOnly: true });
  }
}

/** Whether only white space separates `at` from a `;`, `{` or `:` before it, or from the start. */
function afterStatementEnd(source: string, at: number): boolean {
  let i = at - 1;
  while (i >= 0 && /\s/.test(source[i]!)) i--;
  return i < 0 || source[i] === ';' || source[i] === '{' || source[i] === ':';
}

/** Start offsets of the expression statements that sit directly in a statement list. */
function statementListStarts(program: Node): Set<number> {
  const out = new Set<number>();
  const visit = (node: unknown): void => {
    if (node === null || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const child of node) visit(child);
      return;
    }
    const record = node as Record<string, unknown>;
    const type = record['type'];
    const list = type === 'Program' || type === 'BlockStatement' || type === 'StaticBlock' ? record['body'] : type === 'SwitchCase' ? record['consequent'] : undefined;
    if (Array.isArray(list)) {
      for (const statement of list as Record<string, unknown>[]) {
        if (statement?.['type'] === 'ExpressionStatement') out.add(statement['start'] as number);
      }
    }
    for (const key in record) {
      if (key !== 'type' && key !== 'start' && key !== 'end' && key !== 'loc' && key !== 'range') visit(record[key]);
    }
  };
  visit(program);
  return out;
}

/** The text that replaces `[start, end)`, padded with the line breaks it removes. */
export function keepLines(source: string, start: number, end: number, text: string): string {
  let breaks = 0;
  for (let i = start; i < end; i++) if (source.charCodeAt(i) === 10) breaks++;
  // A replacement that copies part of the original (a multi-line initialiser) keeps its breaks.
  for (let i = text.indexOf('\n'); i !== -1 && breaks > 0; i = text.indexOf('\n', i + 1)) breaks--;
  return text + '\n'.repeat(breaks);
}

/** 1-based line and column of `offset`, as stack traces count them. */
export function position(source: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = source.indexOf('\n'); i !== -1 && i < offset; i = source.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

/** `require("x").a.b` -> `require("x")`: the call a member chain starts from. */
function memberBase(node: Node | null | undefined): Node | null | undefined {
  let current = node ? unparen(node) : node;
  while (current && current.type === 'MemberExpression' && !current['computed']) current = unparen(current['object']);
  return current;
}

/** Helpers compilers wrap a require in (tsc, esbuild, Babel/SWC): their result is the module's. */
const interopWrappers = new Set(['__importStar', '__importDefault', '__toESM', '_interop_require_wildcard', '_interop_require_default', '_interopRequireWildcard', '_interopRequireDefault']);

/** `require("x")` (or, with `interop`, `__importStar(require("x"))`) -> "x"; anything else -> undefined. */
function requireCall(node: Node | null | undefined, interop = false): string | undefined {
  if (!node) return undefined;
  let call = unparen(node);
  if (interop && call.type === 'CallExpression' && call['callee'].type === 'Identifier' && interopWrappers.has(call['callee'].name) && call['arguments'].length >= 1) {
    call = unparen(call['arguments'][0]);
  }
  if (call.type !== 'CallExpression' || call['callee'].type !== 'Identifier' || call['callee'].name !== 'require') return undefined;
  const [argument] = call['arguments'] as Node[];
  if (call['arguments'].length !== 1 || argument?.type !== 'Literal' || typeof argument['value'] !== 'string') return undefined;
  return argument['value'];
}

/** `{ a, b: c }` (no defaults, rest or nesting): fills local -> property name. */
export function simpleObjectPattern(pattern: Node, locals: Map<string, string>): boolean {
  if (pattern.type !== 'ObjectPattern') return false;
  for (const property of pattern['properties'] as Node[]) {
    if (property.type !== 'Property' || property['computed'] || property['value'].type !== 'Identifier') return false;
    const key = property['key'];
    const name = key.type === 'Identifier' ? key.name : typeof key.value === 'string' ? key.value : undefined;
    if (name === undefined) return false;
    locals.set(property['value'].name, name);
  }
  return locals.size > 0;
}

/**
 * Inserts `text` where code may go without breaking a 'use strict' prologue: after the last
 * directive (with a `;` first when that directive has none: `'use strict'` alone on its line
 * is valid, `'use strict'function f() {}` is not), else before the first statement. On that
 * line: no line is added.
 */
export function insertAfterDirectives(s: MagicString, program: Node, source: string, text: string): void {
  let at = (program['body'] as Node[])[0]?.start ?? 0;
  let directive = false;
  for (const statement of program['body'] as Node[]) {
    if (statement.type === 'ExpressionStatement' && typeof statement['directive'] === 'string') {
      at = statement.end;
      directive = true;
    } else break;
  }
  s.appendLeft(at, directive && source.charCodeAt(at - 1) !== 59 ? `;${text}` : text);
}

/** Whether an ES module awaits at its top level (then it cannot be evaluated through require). */
/** What an ES module's text says about its exports: its own names, and the modules it re-exports
 *  everything from (`export * from "x"`, whose names are those of "x" but its default). */
export interface ExportFacts {
  readonly names: string[];
  readonly stars: string[];
}

/**
 * The export facts of an ES module, from its text (names sorted, as a namespace lists them);
 * undefined when the text cannot tell: TypeScript (type-only exports do not exist at run time) or
 * a syntax error (Node reports it when it loads the module).
 */
export function exportFacts(source: string, file: string): ExportFacts | undefined {
  if (/\.[cm]?tsx?$/.test(file)) return undefined;
  parses++;
  const result = parseSync('file.js', source, { sourceType: 'module', lang: 'js' } as never);
  if (result.errors.length > 0) return undefined;
  const names = new Set<string>();
  const stars: string[] = [];
  type Entry = { importName: { kind: string }; exportName: { kind: string; name: string | null }; moduleRequest: { value: string } | null };
  for (const statement of (result.module as unknown as { staticExports: { entries: Entry[] }[] }).staticExports) {
    for (const entry of statement.entries) {
      if (entry.exportName.kind === 'Default') names.add('default');
      else if (entry.exportName.kind === 'Name' && entry.exportName.name !== null) names.add(entry.exportName.name);
      else if (entry.importName.kind === 'AllButDefault' && entry.moduleRequest !== null) stars.push(entry.moduleRequest.value);
    }
  }
  return { names: [...names].sort(), stars };
}

export function hasTopLevelAwait(source: string, file: string): boolean {
  if (!/\bawait\b/.test(source)) return false;
  let program: Node;
  try {
    program = parse(source, file, /\.[cm]?tsx?$/.test(file) ? 'module-typescript' : 'module');
  } catch {
    return false; // Node reports the syntax error when it loads the module
  }
  const search = (node: any): boolean => {
    if (!node || typeof node !== 'object') return false;
    if (Array.isArray(node)) return node.some(search);
    if (typeof node.type !== 'string') return false;
    if (node.type === 'AwaitExpression' || (node.type === 'ForOfStatement' && node.await)) return true;
    if (/Function|ClassBody/.test(node.type)) return false;
    for (const key in node) {
      const child = node[key];
      if (child && typeof child === 'object' && search(child)) return true;
    }
    return false;
  };
  return search(program['body']);
}
