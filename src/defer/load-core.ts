// What the defer hooks do, apart from how Node calls them (sync registerHooks, async register,
// the CommonJS compile patch): decide whether a loaded file needs the transform, answer from the
// cache or transform it, and build the small module that stands for each deferred import.
import { readFileSync, statSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { debug } from '../debug.js';
import { generatedCodeKeys } from '../shared-state.js';
import { DeferCache, defaultCacheDir } from './cache.js';
import { distPath, distURL } from '../dist-paths.js';
import { mayNeedTransform, specifierPrefix, usesDeferredImport, virtualPrefix, withoutDefer } from './detect.js';
import type { TransformOptions } from './transform.js';
import { formatOf } from '../resolve/facts.js';
import { createFsView } from '../resolve/fs-view.js';

// The parser and magic-string load only when a file actually needs parsing.
let transformModule: typeof import('./transform.js') | undefined;
function transformer(): typeof import('./transform.js') {
  transformModule ??= createRequire(import.meta.url)(distPath('defer/transform.js')) as typeof import('./transform.js');
  return transformModule;
}

/** Everything the hooks need, made once per thread; plain data so it crosses to the loader worker. */
export interface DeferSettings {
  readonly defer: readonly string[];
  readonly root: string | undefined;
  readonly deferNodeModules: boolean;
  readonly eager: boolean;
  readonly nativeImportDefer: boolean;
  readonly cacheDir: string | undefined;
  readonly stats: boolean;
}

export interface DeferState {
  readonly settings: DeferSettings;
  readonly cache: DeferCache;
  readonly options: TransformOptions;
  readonly optionsKey: string;
}


export function makeState(settings: DeferSettings): DeferState {
  const options: TransformOptions = {
    defer: settings.defer,
    eager: settings.eager,
    nativeImportDefer: settings.nativeImportDefer,
    // The CommonJS bundle: a transformed CommonJS file requires it without the ES module loader.
    lazyRuntimePath: distPath('index.cjs'),
    sourceMap: true,
  };
  // The emitted specifiers' prefix is part of what a cached transform depends on.
  const optionsKey = JSON.stringify([options, distURL('defer-runtime.js'), specifierPrefix]);
  return { settings, cache: new DeferCache(settings.cacheDir ?? defaultCacheDir(settings.root)), options, optionsKey };
}

/** One line per transform decision on stderr under COLDSTART_DEFER_STATS=1 (written directly, so
 *  lines from the loader worker are not lost at exit): `parse`, `cache-hit`, `parse-facts`. */
function stat(state: DeferState, kind: string, file: string): void {
  if (state.settings.stats) writeSync(2, `coldstart-defer-stats: ${kind} ${file}\n`);
}

const transformable = new Set(['module', 'commonjs', 'module-typescript', 'commonjs-typescript']);

/** Whether auto-defer applies to `file`: the program's own files, node_modules only on request. */
function autoDeferApplies(state: DeferState, file: string): boolean {
  const { root, deferNodeModules, defer } = state.settings;
  if (defer.length === 0 || root === undefined) return false;
  if (!file.startsWith(root.endsWith('/') ? root : root + '/')) return false;
  return deferNodeModules || !file.slice(root.length).includes('/node_modules/');
}

/**
 * Whether the loaded file at `url` may be transformed at all, decided from its place and format
 * alone: asked before its bytes are decoded, which for an installed CommonJS file imported from
 * an ES module (typescript.js, 9 MB, holds the word `defer`) made a second 9 MB string
 * (docs/decisions/startup-costs.md#defer-hook-decodes-only-what-it-may-transform).
 */
export function mayTransformFile(state: DeferState, url: string, format: string | undefined): boolean {
  if (!url.startsWith('file:') || format === undefined || !transformable.has(format)) return false;
  const file = fileURLToPath(url);
  // coldstart's own files mention `import defer` in comments, and parsing them would re-enter
  // the loading of the parser itself.
  if (file.startsWith(distPath(''))) return false;
  // A CommonJS file can hold only the `import.defer()` form, and installed packages mention it in
  // text (TypeScript's compiler does, in 9 MB): only the program's own CommonJS files are looked at.
  return autoDeferApplies(state, file) || !((format === 'commonjs' || format === 'commonjs-typescript') && file.includes('/node_modules/'));
}

/** The transformed source of a loaded file, or undefined to keep Node's. Never throws. */
export function transformLoaded(state: DeferState, url: string, format: string | undefined, source: string): string | undefined {
  if (!mayTransformFile(state, url, format)) return undefined;
  const file = fileURLToPath(url);
  const auto = autoDeferApplies(state, file);
  const options = auto ? state.options : { ...state.options, defer: [] };
  if (!mayNeedTransform(source, options.eager ? [] : options.defer)) return undefined;
  const key = state.cache.key([state.optionsKey, String(auto), file, format!, source]);
  const cached = state.cache.get(key);
  if (cached !== undefined) {
    stat(state, 'cache-hit', file);
    return cached === 'unchanged' ? undefined : cached.code;
  }
  try {
    stat(state, 'parse', file);
    const result = transformer().transformDefer(source, file, format, options);
    state.cache.put(key, result === undefined ? 'unchanged' : { code: result.code });
    if (result !== undefined) debug('defer', `${file}: ${result.deferred.join(', ')}`);
    return result?.code;
  } catch (error) {
    // A file we cannot parse is Node's to report, with its own message and position: without the
    // `defer` keywords, which Node would stop at first.
    debug('defer', `${file}: not transformed: ${(error as Error).message}`);
    // Only in ES modules, where V8 would stop at `import defer` before any error of the file's own.
    return (format === 'module' || format === 'module-typescript') && usesDeferredImport(source) ? withoutDefer(source) : undefined;
  }
}

/** Parsed form of the specifier the transform emits: `#coldstart-defer:<line>:<col>:<specifier>`. */
export function parseVirtual(specifier: string): { line: number; column: number; specifier: string; checked: boolean } | undefined {
  // String scanning, no regular expression: this runs for every import of a transformed file,
  // and compiling a pattern at its first use showed up in start-up profiles.
  const prefix = specifier.startsWith(specifierPrefix) ? specifierPrefix.length : specifier.startsWith(virtualPrefix) ? virtualPrefix.length : -1;
  if (prefix === -1) return undefined;
  const lineEnd = specifier.indexOf(':', prefix);
  const columnEnd = lineEnd === -1 ? -1 : specifier.indexOf(':', lineEnd + 1);
  if (columnEnd === -1) return undefined;
  const line = digits(specifier, prefix, lineEnd);
  const column = digits(specifier, lineEnd + 1, columnEnd);
  if (line === undefined || column === undefined) return undefined;
  // `=` before the specifier: written by learned deferral, which checked at pack time that the
  // target does not await at top level (no specifier starts with `=`).
  const checked = specifier.charCodeAt(columnEnd + 1) === 61;
  return { line, column, specifier: specifier.slice(columnEnd + (checked ? 2 : 1)), checked };
}

/** The decimal number spelled by text[from, to), undefined unless it is all digits. */
function digits(text: string, from: number, to: number): number | undefined {
  if (to <= from) return undefined;
  let value = 0;
  for (let i = from; i < to; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return undefined;
    value = value * 10 + digit;
  }
  return value;
}

// The stand-in's URL is `coldstart-defer:?url=..&format=..&specifier=..&parent=..&at=<line>:<col>`,
// every value percent-encoded. Written and read by hand: URLSearchParams is slower per deferred
// import at start-up (docs/decisions/startup-costs.md#defer-standin-urls).
const virtualKeys = ['url', 'format', 'specifier', 'parent', 'at'] as const;

/** The URL of the stand-in module for one deferred import, carrying what its source needs. */
export function virtualURL(resolved: string, format: string | null | undefined, specifier: string, parentURL: string, line: number, column: number, checked = false): string {
  const values = [resolved, format ?? '', specifier, parentURL, `${line}:${column}`];
  return `${virtualPrefix}?${virtualKeys.map((key, i) => `${key}=${encodeURIComponent(values[i]!)}`).join('&')}${checked ? '&checked=1' : ''}`;
}

export interface VirtualModule {
  readonly url: string;
  /** The format the resolve step reported ('' when it did not say). */
  readonly format: string;
  readonly specifier: string;
  readonly parent: string;
  readonly line: number;
  readonly column: number;
  /** Learned deferral checked at pack time that the target does not await at top level. */
  readonly checked: boolean;
}

export function readVirtualURL(url: string): VirtualModule | undefined {
  if (!url.startsWith(virtualPrefix + '?')) return undefined;
  const fields = new Map<string, string>();
  for (const pair of url.slice(virtualPrefix.length + 1).split('&')) {
    const eq = pair.indexOf('=');
    if (eq === -1) continue;
    try {
      fields.set(pair.slice(0, eq), decodeURIComponent(pair.slice(eq + 1)));
    } catch {
      return undefined; // not one of ours: malformed percent-encoding
    }
  }
  const at = fields.get('at') ?? '0:0';
  const colon = at.indexOf(':');
  return {
    url: fields.get('url') ?? '',
    format: fields.get('format') ?? '',
    specifier: fields.get('specifier') ?? '',
    parent: fields.get('parent') ?? '',
    line: digits(at, 0, colon) ?? 0,
    column: digits(at, colon + 1, at.length) ?? 0,
    checked: fields.get('checked') === '1',
  };
}

/** Only ES modules can use top-level await; other formats never need the target's source. */
export function mayBeAsyncModule(module: VirtualModule): boolean {
  if (!module.url.startsWith('file:')) return false;
  if (module.format !== '') return module.format === 'module' || module.format === 'module-typescript';
  // The path's extension, without building a URL: a file: URL's path ends at '?' or '#'.
  let end = module.url.length;
  for (const mark of ['?', '#']) {
    const at = module.url.indexOf(mark);
    if (at !== -1 && at < end) end = at;
  }
  const path = module.url.slice(0, end);
  return path.endsWith('.mjs') || path.endsWith('.mts');
}

/** What a stand-in needs to know about the module it defers, learnt from its text. */
export interface TargetFacts {
  /** It awaits at top level: the proposal evaluates it at the import. */
  readonly tla: boolean;
  /** Its own export names, when its text tells them (see exportFacts). */
  readonly names: readonly string[] | undefined;
  /** What it re-exports everything from (`export * from`), as written. */
  readonly stars: readonly string[];
}

/**
 * What identifies a version of a file for the facts caches: size, mtime, and also the inode and
 * ctime, because a copy that keeps times (`cp -p`, rsync, tar, an image layer) can bring other
 * content of the same size with the old mtime, and ctime cannot be set back.
 */
function fileStamp(stats: { size: number; mtimeMs: number; ctimeMs: number; ino: number }): string[] {
  return [String(stats.size), String(stats.mtimeMs), String(stats.ctimeMs), String(stats.ino)];
}

/** The facts remembered for this file's size and mtime, so a warm start reads no deferred
 *  module's source; undefined when not known yet. */
export function knownTargetFacts(state: DeferState, url: string): TargetFacts | undefined {
  const key = factsKey(state, 'facts', url);
  const cached = key === undefined ? undefined : state.cache.get(key);
  if (cached === undefined || cached === 'unchanged') return undefined;
  try {
    const facts = JSON.parse(cached.code) as { tla?: unknown; names?: unknown; stars?: unknown };
    const strings = (value: unknown): string[] | undefined => (Array.isArray(value) && value.every((item) => typeof item === 'string') ? (value as string[]) : undefined);
    return { tla: facts.tla === true, names: strings(facts.names), stars: strings(facts.stars) ?? [] };
  } catch {
    return undefined;
  }
}

/** The cache key of one kind of facts about the file at `url`, for its present version. */
function factsKey(state: DeferState, kind: string, url: string): string | undefined {
  try {
    const stats = statSync(fileURLToPath(url));
    return state.cache.key([kind, url, ...fileStamp(stats)]);
  } catch {
    return undefined;
  }
}

/** Reads the facts off the deferred module's text (parsing it once per version of the file). */
export function targetFacts(state: DeferState, url: string, format: string | undefined, source: string): TargetFacts {
  let facts: TargetFacts = { tla: false, names: undefined, stars: [] };
  if (format === 'module' || format === 'module-typescript') {
    const file = fileURLToPath(url);
    stat(state, 'parse-facts', url);
    try {
      const exported = transformer().exportFacts(source, file);
      facts = { tla: /\bawait\b/.test(source) && transformer().hasTopLevelAwait(source, file), names: exported?.names, stars: exported?.stars ?? [] };
    } catch {
      // Node reports what it cannot parse when it loads the module.
    }
  }
  const key = factsKey(state, 'facts', url);
  if (key !== undefined) state.cache.put(key, { code: JSON.stringify(facts) });
  return facts;
}

/**
 * The names of the namespace of the module at `url` whose own facts are `facts`: its own names
 * and, through each `export *` of a relative file, that file's names but `default` (following
 * theirs in turn). Undefined when they cannot be told from text: a re-export of a package (its
 * resolution is Node's), a module that is not a plain ES module file, or a name that two
 * re-exports both offer (the proposal leaves an ambiguous name out only when the two bindings
 * differ, which the text alone does not say).
 */
export function namespaceNames(state: DeferState, url: string, facts: TargetFacts): readonly string[] | undefined | 'at-import' {
  if (facts.names === undefined) return undefined;
  // require() of an ES module that exports "module.exports" returns that value, not the namespace.
  if (facts.names.includes('module.exports')) return 'at-import';
  if (facts.stars.length === 0) return facts.names;
  const own = new Set(facts.names);
  const fromStars = new Map<string, number>();
  const seen = new Set<string>([url]);
  let commonjsStar = false;
  const starNames = (from: string, specifier: string): readonly string[] | undefined => {
    if (!specifier.startsWith('./') && !specifier.startsWith('../')) return undefined;
    const target = new URL(specifier, from).href;
    // Only ES module files: a CommonJS one has its names from Node's lexer (and, on Node 23+,
    // re-exports "module.exports", which require() of the deferred module would then return).
    if (!isModuleFile(fileURLToPath(target))) {
      commonjsStar = true;
      return undefined;
    }
    if (seen.has(target)) return [];
    seen.add(target);
    let found = knownTargetFacts(state, target);
    if (found === undefined) {
      let text: string;
      try {
        text = readFileSync(fileURLToPath(target), 'utf8');
      } catch {
        return undefined;
      }
      found = targetFacts(state, target, 'module', text);
    }
    if (found.names === undefined) return undefined;
    const names = found.names.filter((name) => name !== 'default');
    // The same rule one level down: a name two of its re-exports both offer may be left out.
    const own = new Set(names);
    const offered = new Set<string>();
    for (const next of found.stars) {
      const more = starNames(target, next);
      if (more === undefined) return undefined;
      for (const name of new Set(more)) {
        if (own.has(name)) continue;
        if (offered.has(name)) return undefined;
        offered.add(name);
      }
    }
    return [...names, ...offered];
  };
  for (const specifier of facts.stars) {
    const names = starNames(url, specifier);
    if (names === undefined) return commonjsStar && moduleExportsName ? 'at-import' : undefined;
    for (const name of new Set(names)) fromStars.set(name, (fromStars.get(name) ?? 0) + 1);
  }
  for (const [name, count] of fromStars) {
    if (own.has(name)) continue;
    if (count > 1) return undefined;
    own.add(name);
  }
  return [...own].sort();
}

/** Whether Node loads `file` as an ES module by its extension and package scope (the resolver's
 *  rule); a typeless `.js`, which Node decides by its syntax, counts as not known to be one. */
function isModuleFile(file: string): boolean {
  try {
    return formatOf(createFsView(), file) === 'module';
  } catch {
    return false; // the scope cannot be told (a malformed package.json): Node decides at load
  }
}

/**
 * Whether the stand-in's load must ask Node to load the deferred module now, for Node to check
 * the import attributes against it (JSON needs `type: "json"`, other formats take none) with its
 * own errors: only for JSON modules and imports that carry attributes.
 */
export function attributesToCheck(module: VirtualModule, attributes: Record<string, unknown> | undefined): boolean {
  return module.format === 'json' || (attributes !== undefined && Object.keys(attributes).length > 0);
}

/**
 * Whether require() can evaluate the module at `url` on first use: builtins and plain files. A
 * `data:` URL, or a file URL with a query or fragment (a distinct module instance in the ES
 * module loader), cannot be named to require(); such a module is evaluated at the import.
 */
export function requirable(url: string): boolean {
  if (url.startsWith('node:')) return true;
  return url.startsWith('file:') && !url.includes('?') && !url.includes('#');
}

type CjsLexer = { initSync(): void; parse(source: string): { exports: string[]; reexports: string[] } };
let cjsLexer: CjsLexer | undefined;

/** The names and re-exports cjs-module-lexer (the analysis Node runs) finds in a CommonJS file,
 *  remembered for its size and mtime; undefined when the file cannot be read. */
function cjsFileFacts(state: DeferState | undefined, url: string): { exports: string[]; reexports: string[] } | undefined {
  const key = state === undefined ? '' : factsKey(state, 'cjs-facts', url);
  if (key === undefined) return undefined;
  const cached = state === undefined ? undefined : state.cache.get(key);
  if (cached !== undefined && cached !== 'unchanged') {
    try {
      return JSON.parse(cached.code) as { exports: string[]; reexports: string[] };
    } catch {
      // Read afresh below.
    }
  }
  let facts: { exports: string[]; reexports: string[] };
  try {
    const source = readFileSync(fileURLToPath(url), 'utf8');
    if (state !== undefined) stat(state, 'parse-facts', url);
    if (cjsLexer === undefined) {
      cjsLexer = createRequire(import.meta.url)('cjs-module-lexer') as CjsLexer;
      cjsLexer.initSync();
    }
    const parsed = cjsLexer.parse(source);
    facts = { exports: [...parsed.exports], reexports: [...parsed.reexports] };
  } catch {
    // Node lists no names for a file its lexer cannot read: only default.
    facts = { exports: [], reexports: [] };
  }
  state?.cache.put(key, { code: JSON.stringify(facts) });
  return facts;
}

/** Node 23 and later name `module.exports` in a CommonJS module's namespace too. */
const moduleExportsName = Number(process.versions.node.split('.')[0]) >= 23;

/**
 * The namespace names `import` gives a CommonJS module, as Node computes them: what its lexer finds
 * in the text, through re-exports (`module.exports = require("./x")`) of CommonJS files, plus
 * `default` (and `module.exports`); undefined when the file cannot be read. Without `state`
 * (a learned stand-in at its first use), nothing is cached.
 */
export function cjsNamespaceNames(state: DeferState | undefined, url: string): readonly string[] | undefined {
  const names = new Set<string>();
  const seen = new Set<string>();
  const visit = (at: string): boolean => {
    if (seen.has(at)) return true;
    seen.add(at);
    const facts = cjsFileFacts(state, at);
    if (facts === undefined) return false;
    for (const name of facts.exports) names.add(name);
    if (facts.reexports.length === 0) return true;
    const require = createRequire(fileURLToPath(at));
    for (const reexport of facts.reexports) {
      let resolved: string;
      try {
        resolved = require.resolve(reexport);
      } catch {
        continue; // Node skips a re-export it cannot resolve
      }
      if (resolved.endsWith('.js') || resolved.endsWith('.cjs')) visit(pathToFileURL(resolved).href);
    }
    return true;
  };
  if (!visit(url)) return undefined;
  names.add('default');
  if (moduleExportsName) names.add('module.exports');
  return [...names].sort();
}

/** Where a stand-in finds deferredNamespace() in a thread whose hooks run in-thread: set by
 *  coldstart/register's core, so the stand-ins need no module of their own for it. */
export const runtimeGlobal = generatedCodeKeys.deferRuntime;

/**
 * Source of the stand-in module: a deferred namespace (with its export names when known), or an
 * evaluated one for a module that awaits at top level or that require() cannot name.
 * `inThread`: the hook runs in the thread that evaluates the stand-in and has set
 * `runtimeGlobal` there (registerHooks); otherwise (the off-thread hooks of Node 20) the
 * stand-in imports dist/defer-runtime.js; the global saves loading that module
 * (docs/decisions/startup-costs.md#defer-standin-urls).
 */
export function virtualSource(module: VirtualModule, eagerBecauseAsync: boolean, inThread = false, names?: readonly string[]): string {
  const args = [module.url, module.specifier, module.parent, module.line, module.column].map((value) => JSON.stringify(value)).join(', ');
  const runtime = inThread
    ? `const { deferredNamespace } = globalThis[Symbol.for(${JSON.stringify(runtimeGlobal)})];\n`
    : `import { deferredNamespace } from ${JSON.stringify(distURL('defer-runtime.js'))};\n`;
  if (eagerBecauseAsync || !requirable(module.url)) {
    return `import * as evaluated from ${JSON.stringify(module.url)};\n${runtime}export default deferredNamespace(${args}, evaluated);\n`;
  }
  // A JSON module's namespace holds only its default export.
  const known = module.format === 'json' ? ['default'] : names;
  return `${runtime}export default deferredNamespace(${args}${known === undefined ? '' : `, undefined, ${JSON.stringify(known)}`});\n`;
}

export function sourceText(source: unknown): string | undefined {
  if (typeof source === 'string') return source;
  if (source instanceof Uint8Array) return Buffer.from(source.buffer, source.byteOffset, source.byteLength).toString('utf8');
  if (source instanceof ArrayBuffer) return Buffer.from(source).toString('utf8');
  return undefined;
}

/**
 * The load of `url` by the loaders after ours (`next`), with a next step added to the error of
 * one that compiled `import defer` before coldstart could lower it: tsx registered first hands
 * the file to esbuild, which refuses the syntax. Registering coldstart/register first works.
 */
export function explainLoadError(error: unknown): unknown {
  if (error instanceof Error && error.message.includes('Deferred imports are not available')) {
    const before = error.message;
    error.message +=
      '\ncoldstart: a loader registered before coldstart/register (tsx, or another esbuild-based one) compiled this file and cannot handle `import defer`.' +
      '\nRegister coldstart first: node --import coldstart/register --import tsx app.ts';
    // The stack was written with the old message; it is what Node prints.
    if (typeof error.stack === 'string') error.stack = error.stack.replace(before, error.message);
  }
  return error;
}
