// Node's module loader as coldstart sees it, typed once: the CommonJS internals it wraps
// (Module._load, Module._resolveFilename, Module._extensions, Module.prototype._compile) and the
// hooks API (module.registerHooks where it exists, module.register on Node 20). Only the
// pipeline (pipeline.ts) changes these; everything else reads them through its types.
import { Module } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** A CommonJS module object as the loader hands it to extension handlers and _compile. */
export interface CjsModule {
  id: string;
  filename?: string | null;
  exports: unknown;
  require(id: string): unknown;
  _compile(content: string, filename: string, ...rest: unknown[]): unknown;
}

export interface ResolveOptions {
  paths?: string[];
}

/** Module._load; Node 22+ passes a fourth argument of its own (where an import() resolved to). */
export type LoadFn = (request: string, parent: CjsModule | undefined, isMain: boolean, ...rest: unknown[]) => unknown;
export type ResolveFilenameFn = (request: string, parent: CjsModule | null | undefined, isMain: boolean, options?: ResolveOptions) => string;
export type ExtensionHandler = (module: CjsModule, filename: string) => unknown;

/** What `module.registerHooks` hands a resolve hook, and what `next` takes. */
export interface ResolveContext {
  conditions?: readonly string[];
  parentURL?: string | undefined;
  importAttributes?: Record<string, unknown>;
}
export interface LoadContext {
  format?: string | null | undefined;
  conditions?: readonly string[];
  importAttributes?: Record<string, unknown>;
}
export interface ResolveResult {
  url: string;
  format?: string | null | undefined;
  shortCircuit?: boolean;
}
export interface LoadResult {
  format?: string | null | undefined;
  source?: unknown;
  shortCircuit?: boolean;
}
export type NextResolve = (specifier: string, context?: ResolveContext) => ResolveResult;
export type NextLoad = (url: string, context?: LoadContext) => LoadResult;
export type ResolveHook = (specifier: string, context: ResolveContext, next: NextResolve) => ResolveResult;
export type LoadHook = (url: string, context: LoadContext, next: NextLoad) => LoadResult;
export interface SyncHooks {
  resolve?: ResolveHook;
  load?: LoadHook;
}

export interface ModuleInternals {
  new (id?: string, parent?: unknown): CjsModule;
  _load: LoadFn;
  _resolveFilename: ResolveFilenameFn;
  _extensions: Record<string, ExtensionHandler>;
  prototype: { _compile(this: CjsModule, content: string, filename: string, ...rest: unknown[]): unknown };
  wrap(source: string): string;
  wrapper: readonly string[];
  _cache: Record<string, unknown>;
  _resolveLookupPaths(request: string, parent: unknown): string[] | null;
  createRequire(filename: string): NodeJS.Require;
  globalPaths?: string[];
  registerHooks?: (hooks: SyncHooks) => { deregister(): void };
  register?: (specifier: string | URL, parentURL?: string | URL, options?: { data?: unknown }) => void;
}

/** `node:module`'s Module with the internals above. */
export const internals = Module as unknown as ModuleInternals;

/** ownLookupPaths for the CommonJS module loaded from `filename`, as require.cache holds it (a require() resolve hook gets only its URL). */
export function ownLookupPathsAt(filename: string): boolean {
  return ownLookupPaths(internals._cache[filename]);
}

/** Per module: its paths array as last checked, that array's length and first entry, and the answer. */
const lookupPathsSeen = new WeakMap<object, { paths: unknown; length: number; first: unknown; own: boolean }>();

/**
 * Whether a module's lookup paths (`module.paths`, what require() searches for a bare
 * specifier) are still the ones Node gave it: jsdoc's requizzle puts its own folder first, and
 * app-module-path adds folders, so an answer found without them may be another file. By length
 * and both ends, against what Node computes from the module's folder, once per module unless
 * its array changes. A module Node does not know (no filename, no paths) counts as its own.
 */
export function ownLookupPaths(parent: unknown): boolean {
  const module = parent as { filename?: unknown; paths?: unknown } | undefined | null;
  const paths = module?.paths;
  if (module === undefined || module === null || !Array.isArray(paths) || typeof module.filename !== 'string') return true;
  const seen = lookupPathsSeen.get(module);
  if (seen !== undefined && seen.paths === paths && seen.length === paths.length && seen.first === paths[0]) return seen.own;
  // As Node's Module._nodeModulePaths on POSIX: a `node_modules` for each folder up from the
  // module's, skipping folders named node_modules, then the root's.
  const file = module.filename;
  let count = 1;
  let first: string | undefined;
  let end = file.lastIndexOf('/');
  for (let i = end - 1; i >= -1; i--) {
    if (i !== -1 && file.charCodeAt(i) !== 47 /* / */) continue;
    const name = file.slice(i + 1, end);
    if (name !== 'node_modules' && name !== '') {
      count++;
      first ??= `${file.slice(0, end)}/node_modules`;
    }
    end = i;
  }
  const own = process.platform === 'win32' || (paths.length === count && paths[0] === (first ?? '/node_modules') && paths[count - 1] === '/node_modules');
  lookupPathsSeen.set(module, { paths, length: paths.length, first: paths[0], own });
  return own;
}

/**
 * Hands source to Node's compile step for `module`, as Node's own extension handler does after
 * reading the file. `format` as Node passes it ('commonjs'), or nothing: Node 20 takes a third
 * argument to mean "load as an ES module", and for a scope without "type" Node 22+ then looks
 * at the syntax.
 */
export function compileSource(module: CjsModule, source: string, filename: string, format?: 'commonjs', next?: ExtensionHandler): unknown {
  // A pipeline that compiles in its handler's own frame marks the `next` it hands its steps; a
  // copy of coldstart that made the pipeline before this protocol does not, and gets it done here.
  if (next !== undefined && (next as unknown as Record<symbol, unknown>)[compileLaterKey] === true) return { [compileLaterKey]: true, source, format };
  return compileNow(module, source, filename, format);
}

/** Shared by every copy of coldstart in a process, as the pipeline is (shared-state.ts). */
const compileLaterKey = Symbol.for('coldstart.pipeline.compileLater');

export function compileNow(module: CjsModule, source: string, filename: string, format: 'commonjs' | undefined): unknown {
  return format === undefined ? module._compile(source, filename) : module._compile(source, filename, format);
}

/** `handler`, marked as a `next` whose callers may hand back a compile request (compileSource). */
export function laterHandler(handler: ExtensionHandler): ExtensionHandler {
  (handler as unknown as Record<symbol, unknown>)[compileLaterKey] = true;
  return handler;
}

/** The source and format a step handed back to be compiled, if `result` is such a request. */
export function compileRequest(result: unknown): { source: string; format: 'commonjs' | undefined } | undefined {
  if (typeof result !== 'object' || result === null || (result as Record<symbol, unknown>)[compileLaterKey] !== true) return undefined;
  const { source, format } = result as { source?: unknown; format?: unknown };
  return typeof source === 'string' ? { source, format: format === 'commonjs' ? 'commonjs' : undefined } : undefined;
}

/** The file extensions require() knows, in its probing order (require.extensions' keys). */
export function registeredExtensions(): string[] {
  return Object.keys(internals._extensions);
}

/**
 * Runs process.argv[1] as Node's own start would (Module.runMain), on a tick of its own, after
 * taking the files under `ownDirs` out of require.cache: an in-process runner (`coldstart
 * profile`) leaves the program the cache it would have without it, and an exception the program
 * throws while loading is uncaught, so Node prints it and exits exactly as it would.
 */
export function runMainSoon(ownDirs: readonly string[]): void {
  const modules = internals as unknown as { runMain(main?: string): void };
  for (const key of Object.keys(internals._cache)) if (ownDirs.some((dir) => key.startsWith(dir))) delete internals._cache[key];
  const { runMain } = modules;
  process.nextTick(runMain);
}

/**
 * Switches Node's compile cache (22.1+) on for this process, in `dir`, as tools like prettier do
 * for themselves: V8's code cache for every module compiled from now on, checked by Node against
 * each source. Undefined where it is off (NODE_DISABLE_COMPILE_CACHE, Node 20, a failure);
 * otherwise the directory in use (NODE_COMPILE_CACHE's, when that is set).
 */
export function enableCompileCache(dir: string): string | undefined {
  // From node:module itself: the loader's Module the register entry hands over lacks it.
  const api = process.getBuiltinModule('node:module') as unknown as { enableCompileCache?: (dir: string) => { status: number; directory?: string } };
  if (typeof api.enableCompileCache !== 'function') return undefined;
  try {
    return api.enableCompileCache(dir).directory;
  } catch {
    return undefined;
  }
}

/** What a run loaded, as the learning of small programs asks at exit (src/step-aside-learn.ts). */
export interface LoadedSoFar {
  /** The files in require.cache. */
  readonly files: string[];
  /**
   * Whether one of them is an ES module: require() of one caches its namespace object, or, when
   * it exports "module.exports", that value (an .mjs is one by name). What import() loaded is
   * not here: the index's in-thread resolve hook counts it.
   */
  esModule(): boolean;
  /** Whether every one of these file URLs is in require.cache as CommonJS (import() of CommonJS puts it there). */
  holdsAsCommonJs(urls: Iterable<string>): boolean;
}

/** What the run has loaded so far, through require(). */
export function loadedSoFar(): LoadedSoFar {
  const files = Object.keys(internals._cache);
  return {
    files,
    esModule: () => {
      // Asked without reading a property of the exports: a lazy proxy must not load for it.
      const { isModuleNamespaceObject } = process.getBuiltinModule('node:util/types');
      return files.some((file) => file.endsWith('.mjs') || isModuleNamespaceObject((internals._cache[file] as { exports?: unknown } | undefined)?.exports));
    },
    holdsAsCommonJs: (urls) => {
      const { isModuleNamespaceObject } = process.getBuiltinModule('node:util/types');
      const { fileURLToPath } = process.getBuiltinModule('node:url');
      for (const url of urls) {
        const file = url.startsWith('file:') ? fileURLToPath(url) : undefined;
        if (file === undefined || !Object.hasOwn(internals._cache, file)) return false;
        if (isModuleNamespaceObject((internals._cache[file] as { exports?: unknown } | undefined)?.exports)) return false;
      }
      return true;
    },
  };
}

/**
 * Whether Node's ES module loader is loading this CommonJS module (an `import` of it): that
 * loader has read the source already, to find the exports, and Node's own extension handler
 * compiles what it read. Node marks such a module with a symbol of its own.
 */
export function loadedByImport(module: object): boolean {
  // Found once, on the first module Node made (it marks every one), then read directly.
  if (cachedByEsmLoader === undefined) {
    cachedByEsmLoader = Object.getOwnPropertySymbols(module).find((symbol) => symbol.description === 'kIsCachedByESMLoader') ?? null;
  }
  return cachedByEsmLoader !== null && (module as Record<symbol, unknown>)[cachedByEsmLoader] === true;
}

/** Node's own mark of a module its ES module loader is loading; null where Node has none. */
let cachedByEsmLoader: symbol | null | undefined;

// Paths made only of these characters, with no `.` or `..` segment and no empty one, are their
// own file URL path: nothing to percent-encode, normalize or cut off (a query, a fragment). That
// spares pathToFileURL and fileURLToPath, some 10 microseconds a call in a short process, once
// for every module a served run resolves. POSIX only: Windows paths have drive letters.
const plainPath = process.platform === 'win32' ? /(?!)/ : /^\/[\w./@+-]*$/;
const oddSegment = /\/\.{0,2}(?:\/|$)/;

/** The file: URL of an absolute `path`, as pathToFileURL(path).href gives it. */
export function fileUrlOf(path: string): string {
  return plainPath.test(path) && !oddSegment.test(path) ? `file://${path}` : pathToFileURL(path).href;
}

/** The path of a file: URL, as fileURLToPath gives it (which throws for other URLs). */
export function pathOfFileUrl(url: string): string {
  const path = url.startsWith('file:///') ? url.slice(7) : '';
  return plainPath.test(path) && !oddSegment.test(path) ? path : fileURLToPath(url);
}
