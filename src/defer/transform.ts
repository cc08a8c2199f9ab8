// The defer transform, a pure function of (source, file, format, options): rewrites
// `import defer * as ns from "x"` and, for configured modules, ordinary imports and top-level
// requires into reads through a lazily evaluated namespace. Inserts no line breaks, so line
// numbers survive even without the inline source map it attaches.
import MagicString from 'magic-string';
import { parseSync } from 'oxc-parser';
import { matchesDefer } from './config.js';
import { mayNeedTransform, virtualPrefix } from './detect.js';
import { findReferences, hasDynamicScope, unparen, type Node } from './scope.js';

export interface TransformOptions {
  /** Auto-defer patterns (package names, globs); empty for none. */
  readonly defer: readonly string[];
  /** COLDSTART_EAGER: `import defer` becomes a plain import, nothing is auto-deferred. */
  readonly eager: boolean;
  /** Node evaluates `import defer` itself (--js-defer-import-eval): leave those statements alone. */
  readonly nativeImportDefer: boolean;
  /** Absolute path of the CommonJS bundle (dist/index.cjs) that CommonJS rewrites require for lazyModules. */
  readonly lazyRuntimePath: string;
  /** Attach an inline source map (skipped when the file already names its own map). */
  readonly sourceMap: boolean;
}

export interface TransformResult {
  readonly code: string;
  /** What was rewritten, for debug lines and tests. */
  readonly deferred: readonly string[];
}

let parses = 0;

/** How many files this thread parsed: the evidence that a cached run parses nothing. */
export function parseCount(): number {
  return parses;
}

function isTypeScript(file: string, format: string | undefined): boolean {
  return format?.endsWith('-typescript') === true || /\.[cm]?tsx?$/.test(file);
}

function parse(source: string, file: string, format: string | undefined): Node {
  parses++;
  const ts = isTypeScript(file, format);
  const commonjs = format === 'commonjs' || format === 'commonjs-typescript' || /\.c[jt]s$/.test(file);
  const result = parseSync(ts ? 'file.ts' : 'file.js', source, { sourceType: commonjs ? 'script' : 'module', lang: ts ? 'ts' : 'js' } as never);
  if (result.errors.length > 0) {
    const first = result.errors[0] as { message?: string } | undefined;
    throw new SyntaxError(first?.message ?? 'parse error');
  }
  return result.program as unknown as Node;
}

const identifierName = /^[A-Za-z_$][\w$]*$/;

function member(object: string, name: string): string {
  return identifierName.test(name) ? `${object}.${name}` : `${object}[${JSON.stringify(name)}]`;
}

/** 1-based line and 0-based column of `offset`, as stack traces count them (column 1-based there). */
function position(source: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = source.indexOf('\n'); i !== -1 && i < offset; i = source.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

/** The text that replaces `[start, end)`, padded with the line breaks it removes. */
function keepLines(source: string, start: number, end: number, text: string): string {
  let breaks = 0;
  for (let i = start; i < end; i++) if (source.charCodeAt(i) === 10) breaks++;
  return text + '\n'.repeat(breaks);
}

function uniqueName(source: string, base: string): string {
  let name = base;
  for (let i = 1; source.includes(name); i++) name = `${base}${i}`;
  return name;
}

interface Group {
  /** The object every reference reads through. */
  readonly object: string;
  /** local name -> imported name (`default` for a default import). */
  readonly locals: Map<string, string>;
  readonly specifier: string;
  /** The declaration to replace, and its replacement when the group stays deferred. */
  readonly start: number;
  readonly end: number;
  readonly replacement: string;
  /** False when a reference leaves the module (`export { a }`): the import stays as written. */
  keep: boolean;
}

/** Rewrites `source`; undefined when nothing in it needs rewriting. */
export function transformDefer(source: string, file: string, format: string | undefined, options: TransformOptions): TransformResult | undefined {
  if (!mayNeedTransform(source, options.eager ? [] : options.defer)) return undefined;
  const program = parse(source, file, format);
  const s = new MagicString(source);
  const deferred: string[] = [];
  const groups: Group[] = [];
  const commonjs = format === 'commonjs' || format === 'commonjs-typescript';
  const autoDefer = !options.eager && options.defer.length > 0 && !hasDynamicScope(source);
  let counter = 0;
  const objectName = () => uniqueName(source, `__coldstart_defer${counter++}`);
  const virtual = (offset: number, specifier: string) => {
    const { line, column } = position(source, offset);
    return JSON.stringify(`${virtualPrefix}${line}:${column}:${specifier}`);
  };

  for (const statement of program['body'] as Node[]) {
    if (statement.type === 'ImportDeclaration') {
      const specifier = String(statement['source'].value);
      if (statement['phase'] === 'defer') {
        if (options.nativeImportDefer) continue;
        const namespace = statement['specifiers'][0];
        if (namespace?.type !== 'ImportNamespaceSpecifier') continue; // a syntax error Node reports itself
        if (options.eager) {
          s.overwrite(statement.start, namespace.start, 'import ', { contentOnly: true });
        } else {
          const text = `import ${namespace.local.name} from ${virtual(statement.start, specifier)};`;
          s.overwrite(statement.start, statement.end, keepLines(source, statement.start, statement.end, text), { contentOnly: true });
        }
        deferred.push(`import defer ${specifier}`);
        continue;
      }
      if (!autoDefer || statement['phase'] === 'source' || statement['importKind'] === 'type') continue;
      if ((statement['attributes'] ?? []).length > 0 || statement['specifiers'].length === 0) continue;
      if (!matchesDefer(options.defer, specifier)) continue;
      const locals = new Map<string, string>();
      let object: string | undefined;
      for (const spec of statement['specifiers'] as Node[]) {
        if (spec['importKind'] === 'type') continue;
        if (spec.type === 'ImportNamespaceSpecifier') object = spec['local'].name;
        else if (spec.type === 'ImportDefaultSpecifier') locals.set(spec['local'].name, 'default');
        else locals.set(spec['local'].name, spec['imported'].type === 'Identifier' ? spec['imported'].name : String(spec['imported'].value));
      }
      if (object === undefined && locals.size === 0) continue;
      object ??= objectName();
      const replacement = keepLines(source, statement.start, statement.end, `import ${object} from ${virtual(statement.start, specifier)};`);
      groups.push({ object, locals, specifier, start: statement.start, end: statement.end, replacement, keep: false });
    } else if (autoDefer && commonjs && statement.type === 'VariableDeclaration' && statement['kind'] === 'const') {
      for (const declarator of statement['declarations'] as Node[]) {
        const specifier = requireCall(declarator['init']);
        if (specifier === undefined || !matchesDefer(options.defer, specifier)) continue;
        const locals = new Map<string, string>();
        const object = objectName();
        const id = declarator['id'];
        if (id.type === 'Identifier') locals.set(id.name, '');
        else if (!simpleObjectPattern(id, locals)) continue;
        const replacement = `${object} = ${lazyRuntimeName}(__filename, { m: ${JSON.stringify(specifier)} })`;
        groups.push({ object: `${object}.m`, locals, specifier, start: declarator.start, end: declarator.end, replacement: keepLines(source, declarator.start, declarator.end, replacement), keep: false });
      }
    }
  }

  if (groups.length > 0) {
    const owner = new Map<string, Group>();
    for (const group of groups) for (const local of group.locals.keys()) owner.set(local, group);
    const references = owner.size === 0 ? [] : findReferences(program, new Set(owner.keys()));
    for (const ref of references) if (ref.kind === 'export') owner.get(ref.name)!.keep = true;
    for (const group of groups) {
      if (group.keep) continue;
      s.overwrite(group.start, group.end, group.replacement, { contentOnly: true });
      deferred.push(group.specifier);
    }
    for (const ref of references) {
      const group = owner.get(ref.name)!;
      if (group.keep) continue;
      const imported = group.locals.get(ref.name)!;
      const expression = imported === '' ? group.object : member(group.object, imported);
      const text = ref.kind === 'callee' ? `(0, ${expression})` : ref.kind === 'shorthand' ? `${ref.name}: ${expression}` : expression;
      s.overwrite(ref.start, ref.end, text, { contentOnly: true });
    }
    if (commonjs && groups.some((group) => !group.keep)) {
      const at = afterDirectives(program);
      s.appendLeft(at, `const { lazyModules: ${lazyRuntimeName} } = require(${JSON.stringify(options.lazyRuntimePath)}); `);
    }
  }

  if (deferred.length === 0) return undefined;
  let code = s.toString();
  if (options.sourceMap) {
    const upstream = inlineMap.exec(source);
    if (upstream !== null) {
      // Another loader's output (tsx, a TypeScript compiler) with its own inline map: ours is
      // chained onto it, so stack traces still name the lines of the file the user wrote.
      const composed = chainMap(s.generateMap({ hires: true, source: file }).toString(), upstream[1]!, file);
      if (composed !== undefined) code = `${code.slice(0, code.length - (source.length - upstream.index))}${mapComment(composed)}`;
    } else if (!/\/\/[#@] sourceMappingURL=/.test(source)) {
      code += `\n${mapComment(s.generateMap({ hires: 'boundary', source: file, includeContent: true }).toString())}\n`;
    }
  }
  return { code, deferred };
}

/** A trailing inline source map comment, its base64 JSON captured. */
const inlineMap = /\/\/[#@] sourceMappingURL=data:application\/json;(?:charset=utf-8;)?base64,([A-Za-z0-9+/=]+)\s*$/;

function mapComment(json: string): string {
  return `//# sourceMappingURL=data:application/json;charset=utf-8;base64,${Buffer.from(json).toString('base64')}`;
}

/** Our map (output -> the loader's output) traced through the loader's (-> the original); undefined when unreadable. */
function chainMap(ours: string, upstreamBase64: string, file: string): string | undefined {
  try {
    const upstream = JSON.parse(Buffer.from(upstreamBase64, 'base64').toString('utf8')) as object;
    // Loaded on first need: only files that arrive with an inline map from another loader pay.
    const require = process.getBuiltinModule('node:module').createRequire(import.meta.url);
    const remapping = require('@jridgewell/remapping') as (map: string, loader: (source: string) => object | null) => { toString(): string };
    // Asked once: the loader's map names the same file as its source, which must end the chain.
    let given = false;
    return remapping(ours, (source) => {
      if (given || source !== file) return null;
      given = true;
      return upstream;
    }).toString();
  } catch {
    return undefined;
  }
}

const lazyRuntimeName = '__coldstart_lazyModules';

/** `require("x")` -> "x"; anything else -> undefined. */
function requireCall(node: Node | null | undefined): string | undefined {
  if (!node) return undefined;
  const call = unparen(node);
  if (call.type !== 'CallExpression' || call['callee'].type !== 'Identifier' || call['callee'].name !== 'require') return undefined;
  const [argument] = call['arguments'] as Node[];
  if (call['arguments'].length !== 1 || argument?.type !== 'Literal' || typeof argument['value'] !== 'string') return undefined;
  return argument['value'];
}

/** `{ a, b: c }` (no defaults, rest or nesting): fills local -> property name. */
function simpleObjectPattern(pattern: Node, locals: Map<string, string>): boolean {
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

/** Where code may be inserted without breaking a 'use strict' prologue. */
function afterDirectives(program: Node): number {
  let at = (program['body'] as Node[])[0]?.start ?? 0;
  for (const statement of program['body'] as Node[]) {
    if (statement.type === 'ExpressionStatement' && typeof statement['directive'] === 'string') at = statement.end;
    else break;
  }
  return at;
}

/** Whether an ES module awaits at its top level (then it cannot be evaluated through require). */
export function hasTopLevelAwait(source: string, file: string): boolean {
  if (!/\bawait\b/.test(source)) return false;
  let program: Node;
  try {
    program = parse(source, file, 'module');
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
