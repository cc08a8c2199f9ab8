// The thin glue Node calls to serve modules from the pack. ES modules (Node 22.15+): a
// registerHooks pair (resolve answers, load sources). CommonJS and JSON (every Node): the
// loader's extension handlers, which also skips the package.json read Node does for each `.js`
// file to learn its "type" (measured: 115 file syscalls under the project for `eslint
// --version` on Node 24 through load hooks, 33 this way). Node 20: ES modules read the disk.
import { Module } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { has } from '../node-features.js';
import { programDeferConfig } from '../defer/config.js';
import type { ModuleFormat } from './format.js';
import type { PackServer } from './server.js';
import { sourceHandlerMark } from '../hooks/cjs-source.js';
import { useRegisterHooks } from '../hooks/entry.js';
import { foreignLoadHooks, own } from '../hooks/foreign-hooks.js';
import { CommonJsCompiler, codeCachePays, codeCacheTag } from './code-cache.js';
import { resolveVirtual, standInLoad } from '../defer/hooks.js';
import { isStandInSpecifier } from '../defer/detect.js';

/** Where `coldstart profile`'s CommonJS patch listens for JSON files served from the pack. */
const servedJsonKey = Symbol.for('coldstart.profile.servedJson');

interface ResolveContext {
  conditions?: readonly string[];
  parentURL?: string | undefined;
}
interface LoadContext {
  format?: string | null | undefined;
}
type NextResolve = (specifier: string, context?: ResolveContext) => unknown;
type NextLoad = (url: string, context?: LoadContext) => unknown;
type RegisterHooks = (hooks: object) => { deregister(): void };

type Handler = (module: CjsModule, filename: string) => void;
interface CjsModule {
  id: string;
  exports: unknown;
  require(id: string): unknown;
  _compile(content: string, filename: string): unknown;
}
type ResolveFilename = (request: string, parent: unknown, isMain: boolean, options?: { paths?: string[] }) => string;
interface ModuleStatics {
  _extensions: Record<string, Handler>;
  _resolveFilename: ResolveFilename;
}

const allFormats: readonly ModuleFormat[] = ['module', 'json', 'commonjs'];
const esmOnly: readonly ModuleFormat[] = ['module'];
const cjsFormats: readonly ModuleFormat[] = ['commonjs'];
const jsonFormats: readonly ModuleFormat[] = ['json'];

/**
 * Installs what this Node supports and returns the function that removes it. Extension
 * handlers bypass other tools' load hooks; when the project configures defer transforms,
 * CommonJS goes through the load hooks instead (Node 24+, where they can carry CommonJS
 * source) or is not served (Node 22), so that the transform still sees every file.
 */
export function installPackHooks(server: PackServer): () => void {
  const removers: (() => void)[] = [];
  const deferred = (programDeferConfig()?.defer.length ?? 0) > 0;
  // A program that loaded only CommonJS and JSON when it was packed is served by the CommonJS
  // patches alone, as on Node 20: registerHooks hooks slow every require() down (hooks/entry.ts,
  // which also honours COLDSTART_HOOKS). Defer transforms need the load hooks whatever the program.
  const viaRegisterHooks = deferred ? has('registerHooks') : useRegisterHooks(() => (server.hasModules ? 'module' : 'commonjs'));
  if (viaRegisterHooks) {
    const viaHooks = deferred && has('loadHookCommonJsSource');
    // Learned deferral's stand-ins are answered by these hooks too: a second registration would
    // put every require() through one more hooked step.
    server.servesStandIns = server.hasLazyModules;
    removers.push(installRegisterHooks(server, viaHooks ? allFormats : esmOnly, server.servesStandIns));
    if (!deferred) removers.push(patchExtensions(server, false));
  } else {
    if (!deferred) removers.push(patchExtensions(server, true));
    removers.push(patchResolveFilename(server));
  }
  return () => {
    for (const remove of removers) remove();
  };
}

function installRegisterHooks(server: PackServer, formats: readonly ModuleFormat[], standIns: boolean): () => void {
  const dirs = new Map<string, string>();
  const urls = new Map<string, string>();
  const counts = server.counts;
  const resolve = (specifier: string, context: ResolveContext, nextResolve: NextResolve): unknown => {
    if (standIns && isStandInSpecifier(specifier)) return resolveVirtual(specifier, context, nextResolve as never);
    const parentURL = context.parentURL;
    if (parentURL === undefined || !parentURL.startsWith('file:')) return nextResolve(specifier, context);
    let dir = dirs.get(parentURL);
    if (dir === undefined) {
      dir = dirname(fileURLToPath(parentURL));
      dirs.set(parentURL, dir);
    }
    const found = server.answer(dir, specifier, context.conditions?.includes('require') ? 'r' : 'i');
    if (found === undefined) {
      counts.unanswered++;
      return nextResolve(specifier, context);
    }
    counts.answers++;
    let url = urls.get(found.path);
    if (url === undefined) {
      url = pathToFileURL(found.path).href;
      urls.set(found.path, url);
    }
    return found.format === '' ? { url, shortCircuit: true } : { url, format: found.format, shortCircuit: true };
  };
  const load = (url: string, context: LoadContext, nextLoad: NextLoad): unknown => {
    if (!url.startsWith('file:')) return (standIns ? standInLoad(url) : undefined) ?? nextLoad(url, context);
    const path = fileURLToPath(url);
    const served = server.source(path, formats);
    if (served !== undefined) return { format: served.format, source: served.source, shortCircuit: true };
    // CommonJS left to the extension handlers is counted there, not twice.
    if (server.formatOf(path) === undefined || formats.includes(server.formatOf(path)!)) counts.misses++;
    return nextLoad(url, context);
  };
  const handle = (Module as unknown as { registerHooks: RegisterHooks }).registerHooks(own({ resolve, load }));
  return () => handle.deregister();
}

function stripBOM(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * Serves CommonJS and JSON by replacing the extension handlers for packed files only. The
 * replaced step is Node's file read and, for `.js`, the package.json lookup of its "type";
 * the pack recorded the format that lookup gave. Everything else is Node's own code.
 */
function patchExtensions(server: PackServer, countMisses: boolean): () => void {
  const handlers = (Module as unknown as ModuleStatics)._extensions;
  const originalJs = handlers['.js']!;
  const originalJson = handlers['.json']!;
  const counts = server.counts;
  // Other tools' registerHooks load hooks run inside Node's handlers: once one may exist, the
  // pack leaves require() of every file to them (hooks/foreign-hooks.ts).
  const foreign = foreignLoadHooks();
  // Node 20, with a pack whose code caches this V8 made: packed CommonJS compiles from them.
  let compiler = server.codeCacheTag !== '' && server.codeCacheTag === codeCacheTag() && codeCachePays() ? new CommonJsCompiler() : undefined;
  const js: Handler = function (this: unknown, module, filename) {
    if (foreign.foreign) return originalJs.call(this, module, filename);
    const served = server.source(filename, cjsFormats);
    if (served === undefined) {
      if (countMisses && server.formatOf(filename) === undefined) counts.misses++;
      return originalJs.call(this, module, filename);
    }
    const cjs = compiler;
    if (cjs !== undefined) {
      const cache = server.codeCache(filename);
      const script = cache !== undefined && cjs.eligible(module) ? cjs.compile(served.source, filename, cache) : undefined;
      if (script !== undefined) {
        // Counted before the module runs, which may end the process. Turned down once (other V8
        // flags), turned down for all: the remaining modules compile as Node compiles them.
        if (script.cachedDataRejected === true) {
          counts.codeCacheRejected++;
          compiler = undefined;
        } else counts.codeCache++;
        cjs.execute(module, script, filename);
        return;
      }
    }
    // Two arguments, as Node 20 passes them: its third parameter means "load as ESM" there.
    module._compile(served.source, filename);
  };
  const json: Handler = function (this: unknown, module, filename) {
    if (foreign.foreign) return originalJson.call(this, module, filename);
    const served = server.source(filename, jsonFormats);
    if (served === undefined) {
      if (countMisses && server.formatOf(filename) === undefined) counts.misses++;
      return originalJson.call(this, module, filename);
    }
    // A profiler whose CommonJS patch this handler replaced (coldstart profile with --import
    // coldstart/register) learns the load here: JSON has no _compile step to see it by.
    const onServed = (globalThis as Record<symbol, unknown>)[servedJsonKey] as ((file: string, size: number) => void) | undefined;
    onServed?.(filename, served.source.length);
    try {
      module.exports = JSON.parse(stripBOM(served.source));
    } catch (error) {
      // Node's own message names the file first.
      (error as Error).message = `${filename}: ${(error as Error).message}`;
      throw error;
    }
  };
  // The index's own source handler (Node 20) sees the mark and stays out of the pack's way.
  (js as unknown as Record<symbol, unknown>)[sourceHandlerMark] = true;
  handlers['.js'] = js;
  handlers['.json'] = json;
  return () => {
    // Another tool may have wrapped ours since; unwrapping it would drop their patch too.
    if (handlers['.js'] === js) handlers['.js'] = originalJs;
    if (handlers['.json'] === json) handlers['.json'] = originalJson;
  };
}

/** Node 20: require() answers from the pack, by wrapping Module._resolveFilename. */
function patchResolveFilename(server: PackServer): () => void {
  const mod = Module as unknown as ModuleStatics;
  const original = mod._resolveFilename;
  const counts = server.counts;
  const patched: ResolveFilename = function (this: unknown, request, parent, isMain, options) {
    const parentPath = (parent as { filename?: unknown } | null | undefined)?.filename;
    if (isMain || options?.paths !== undefined || typeof parentPath !== 'string' || typeof request !== 'string') {
      return original.call(this, request, parent, isMain, options);
    }
    const found = server.answer(dirname(parentPath), request, 'r');
    if (found === undefined) {
      counts.unanswered++;
      return original.call(this, request, parent, isMain, options);
    }
    counts.answers++;
    return found.path;
  };
  mod._resolveFilename = patched;
  return () => {
    if (mod._resolveFilename === patched) mod._resolveFilename = original;
  };
}
