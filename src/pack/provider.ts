// The pack as a provider of the loader pipeline. ES modules (Node 22.15+): registerHooks steps
// (resolve answers and load sources; the load step alone for a mostly CommonJS program).
// CommonJS and JSON (every Node): extension-handler steps, which also skip the package.json read
// Node does for each `.js` file to learn its "type"
// (docs/decisions/startup-costs.md#pack-extension-handlers). Node 20: ES modules read the disk.
import { dirname } from 'node:path';
import { has } from '../node-features.js';
import { setting } from '../settings.js';
import { programDeferConfig } from '../defer/config.js';
import type { ModuleFormat } from './format.js';
import type { PackServer } from './server.js';
import { entryKind, entryRealPath, knownScopeType, useRegisterHooks } from '../loader/entry.js';
import { foreignLoadHooks } from '../loader/foreign-hooks.js';
import { CommonJsCompiler, codeCachePays, codeCacheTag } from '../loader/commonjs-compiler.js';
import { compileSource, fileUrlOf, ownLookupPaths, ownLookupPathsAt, pathOfFileUrl, type LoadContext, type LoadResult, type NextLoad, type NextResolve, type ResolveContext, type ResolveResult } from '../loader/node.js';
import { pipeline, type HandlerStep, type ResolveStep } from '../loader/pipeline.js';
import { resolveVirtual, standInLoad } from '../defer/provider.js';
import { isStandInSpecifier, specifierPrefix, virtualPrefix } from '../defer/detect.js';
import { parseVirtual, virtualURL } from '../defer/load-core.js';

/** A learned stand-in's import specifier as the rewrite writes it (JSON-quoted, no escapes). */
const standInImport = /"(#coldstart-defer:[^"\\]*)"/g;

const allFormats: readonly ModuleFormat[] = ['module', 'json', 'commonjs'];
const esmOnly: readonly ModuleFormat[] = ['module'];
const cjsFormats: readonly ModuleFormat[] = ['commonjs'];
const jsonFormats: readonly ModuleFormat[] = ['json'];

/**
 * How the pack joins Node's loader: `patch`, the CommonJS steps alone; `registerHooks`, a
 * resolve and a load hook (with the CommonJS steps for CommonJS sources); `load-hook`, the
 * CommonJS steps with a load hook for ES module sources only.
 */
export type PackHooks = 'patch' | 'registerHooks' | 'load-hook';

/**
 * Installs what this Node supports; returns how it joined and the function that removes it. Extension
 * handlers bypass other tools' load hooks; when the project configures defer transforms,
 * CommonJS goes through the load hooks instead (Node 24+, where they can carry CommonJS
 * source) or is not served (Node 22), so that the transform still sees every file.
 */
export function installPackHooks(server: PackServer): { uninstall: () => void; hooks: PackHooks } {
  const removers: (() => void)[] = [];
  let hooks: PackHooks;
  const deferred = (programDeferConfig()?.defer.length ?? 0) > 0;
  // A program that loaded only CommonJS and JSON when it was packed is served by the CommonJS
  // patches alone, as on Node 20: registerHooks hooks slow every require() down (loader/entry.ts,
  // which also honours COLDSTART_HOOKS). Defer transforms need the load hooks whatever the program.
  const viaRegisterHooks = deferred ? has('registerHooks') : useRegisterHooks(() => (server.hasModules ? 'module' : 'commonjs'));
  if (viaRegisterHooks) {
    const viaHooks = deferred && has('loadHookCommonJsSource');
    // Learned deferral's stand-ins are answered by these hooks too: a second registration would
    // put every require() through one more hooked step.
    server.servesStandIns = server.hasLazyModules;
    const resolveInHook = deferred || !mostlyCommonJs(server) || setting('COLDSTART_HOOKS') === 'registerHooks';
    removers.push(installRegisterHooks(server, viaHooks ? allFormats : esmOnly, server.servesStandIns, resolveInHook));
    if (!deferred) removers.push(patchExtensions(server, false));
    if (!resolveInHook) removers.push(patchResolveFilename(server));
    hooks = resolveInHook ? 'registerHooks' : 'load-hook';
  } else {
    if (!deferred) removers.push(patchExtensions(server, true));
    removers.push(patchResolveFilename(server));
    hooks = 'patch';
  }
  return {
    hooks,
    uninstall: () => {
      for (const remove of removers) remove();
    },
  };
}

/**
 * Whether the recorded program is mostly CommonJS with a few ES modules (npm: 5 of 84). A
 * registerHooks resolve hook puts each require() of such a program through Node's hooked
 * resolution, URL conversions and contexts included, which cost `npm ls` more than the pack
 * saved it (docs/decisions/startup-costs.md#resolve-hook-for-a-few-es-modules). Such a program
 * gets require()'s answers in the CommonJS step; its ES modules' sources still come from the
 * pack, and their imports are resolved by Node. Not for an ES module entry, whose imports the
 * index answers through a resolve hook of its own.
 */
function mostlyCommonJs(server: PackServer): boolean {
  if (server.esModules * 4 >= server.commonJsModules) return false;
  const kind = entryKind(knownScopeType);
  if (kind !== 'unknown') return kind === 'commonjs';
  // A project's own entry: the format the recorded run loaded it in (a wrong guess costs time only).
  const real = entryRealPath();
  return real !== undefined && server.packedFormat(real) === 'commonjs';
}

/**
 * The pack's registerHooks hooks: resolve answers and the sources of `formats`. Without
 * `resolveAtStart`, a served source's learned stand-in imports are written as the stand-ins'
 * URLs, and the resolve hook joins only for one whose target the pack cannot answer.
 */
function installRegisterHooks(server: PackServer, formats: readonly ModuleFormat[], standIns: boolean, resolveAtStart: boolean): () => void {
  const foreign = foreignLoadHooks();
  const dirs = new Map<string, string>();
  const urls = new Map<string, string>();
  const counts = server.counts;
  const resolve = (specifier: string, context: ResolveContext, nextResolve: NextResolve): ResolveResult => {
    // A stand-in's target is the import the recorded run made from the same file: the pack
    // answers it as it would have, and the index is not opened for it.
    if (standIns && isStandInSpecifier(specifier)) return resolveVirtual(specifier, context, (inner, innerContext) => answerOrNext(inner, innerContext ?? context, nextResolve));
    return answerOrNext(specifier, context, nextResolve);
  };
  const answerOrNext = (specifier: string, context: ResolveContext, nextResolve: NextResolve): ResolveResult => {
    const parentURL = context.parentURL;
    // Hooks that run after these (module.register's, an earlier preload's) must see every import.
    if (foreign.after || parentURL === undefined || !parentURL.startsWith('file:')) return nextResolve(specifier, context);
    let dir = dirs.get(parentURL);
    if (dir === undefined) {
      dir = dirname(pathOfFileUrl(parentURL));
      dirs.set(parentURL, dir);
    }
    const mode = context.conditions?.includes('require') ? 'r' : 'i';
    // A require() from a module whose lookup paths were changed (requizzle) searches those: Node's.
    if (mode === 'r' && !ownLookupPathsAt(pathOfFileUrl(parentURL))) return nextResolve(specifier, context);
    const found = server.answer(dir, specifier, mode);
    if (found === undefined) {
      counts.unanswered++;
      return nextResolve(specifier, context);
    }
    counts.answers++;
    let url = urls.get(found.path);
    if (url === undefined) {
      url = fileUrlOf(found.path);
      urls.set(found.path, url);
    }
    return found.format === '' ? { url, shortCircuit: true } : { url, format: found.format, shortCircuit: true };
  };
  let leaveResolve: (() => void) | undefined;
  const load = (url: string, context: LoadContext, nextLoad: NextLoad): LoadResult => {
    if (!url.startsWith('file:')) return (standIns ? standInLoad(url) : undefined) ?? nextLoad(url, context);
    const path = pathOfFileUrl(url);
    // Another tool's load hook that runs after this one (an earlier preload's, module.register's
    // off-thread one, a loader flag's) would not see a served source; one that may redirect
    // imports must see a module's imports as written, not a rewrite's stand-ins and builtin
    // cells. Node reads the file then, as it would without coldstart. (A registerHooks load hook
    // registered later runs first, and sees what this one serves.)
    if (foreign.after || (foreign.resolution && server.servesRewrite(path))) {
      counts.foreign++;
      return nextLoad(url, context);
    }
    const served = server.source(path, formats);
    if (served !== undefined) {
      let source = served.source;
      if (!resolveAtStart && leaveResolve === undefined && standIns && served.format === 'module' && server.servesRewrite(path) && source.includes(virtualPrefix)) {
        // Stand-in imports written as the URLs the resolve hook would give them: Node's own
        // resolver hands a URL of another scheme to the load hooks as it is. Where the pack
        // cannot answer one, the hook joins (Node resolves a module's imports after loading it).
        const resolved = has('requireEsmOtherSchemes') ? resolvedStandIns(source, path, url) : undefined;
        if (resolved !== undefined) source = resolved;
        else leaveResolve = pipeline().join('pack', { hooks: { resolve } });
      }
      return { format: served.format, source, shortCircuit: true };
    }
    // CommonJS left to the extension handlers is counted there, not twice.
    if (server.packedFormat(path) === undefined || formats.includes(server.packedFormat(path)!)) counts.misses++;
    return nextLoad(url, context);
  };
  /** `source` with each learned stand-in import written as its stand-in's URL; undefined when the pack cannot answer one. */
  const resolvedStandIns = (source: string, path: string, parentURL: string): string | undefined => {
    const dir = dirname(path);
    let answered = 0;
    let missed = false;
    const out = source.replace(standInImport, (whole: string, specifier: string) => {
      const virtual = parseVirtual(specifier);
      const found = virtual === undefined ? undefined : server.answer(dir, virtual.specifier, 'i');
      if (virtual === undefined || found === undefined) {
        missed = true;
        return whole;
      }
      answered++;
      return JSON.stringify(virtualURL(fileUrlOf(found.path), found.format === '' ? undefined : found.format, virtual.specifier, parentURL, virtual.line, virtual.column, virtual.checked));
    });
    if (missed || out.includes(specifierPrefix)) return undefined;
    counts.answers += answered;
    return out;
  };
  if (resolveAtStart) return pipeline().join('pack', { hooks: { resolve, load } });
  const leaveLoad = pipeline().join('pack', { hooks: { load } });
  return () => {
    leaveLoad();
    leaveResolve?.();
  };
}

function stripBOM(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * Serves CommonJS and JSON in the extension-handler steps, for packed files only. What is
 * skipped is Node's file read and, for `.js`, the package.json lookup of its "type"; the pack
 * recorded the format that lookup gave. Everything else is Node's own code.
 */
function patchExtensions(server: PackServer, countMisses: boolean): () => void {
  const counts = server.counts;
  // Other tools' registerHooks load hooks run inside Node's handlers: once one may exist, the
  // pack leaves require() of every file to them (loader/foreign-hooks.ts).
  const foreign = foreignLoadHooks();
  // Node 20, with a pack whose code caches this V8 made: packed CommonJS compiles from them.
  let compiler = server.codeCacheTag !== '' && server.codeCacheTag === codeCacheTag() && codeCachePays() ? new CommonJsCompiler('pack') : undefined;
  const js: HandlerStep = (module, filename, next) => {
    if (foreign.foreign) {
      if (server.packedFormat(filename) !== undefined) counts.foreign++;
      return next(module, filename);
    }
    const served = server.source(filename, cjsFormats);
    if (served === undefined) {
      if (countMisses && server.packedFormat(filename) === undefined) counts.misses++;
      return next(module, filename);
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
    return compileSource(module, served.source, filename, undefined, next);
  };
  const json: HandlerStep = (module, filename, next) => {
    if (foreign.foreign) {
      if (server.packedFormat(filename) !== undefined) counts.foreign++;
      return next(module, filename);
    }
    const served = server.source(filename, jsonFormats);
    if (served === undefined) {
      if (countMisses && server.packedFormat(filename) === undefined) counts.misses++;
      return next(module, filename);
    }
    try {
      module.exports = JSON.parse(stripBOM(served.source));
    } catch (error) {
      // Node's own message names the file first.
      (error as Error).message = `${filename}: ${(error as Error).message}`;
      throw error;
    }
  };
  return pipeline().join('pack', { extensions: { '.js': js, '.json': json } });
}

/** Node 20, and CommonJS programs: require() answers from the pack, in require()'s resolution step. */
function patchResolveFilename(server: PackServer): () => void {
  const counts = server.counts;
  const step: ResolveStep = (request, parent, isMain, options, next) => {
    const parentPath = parent?.filename;
    if (isMain || options?.paths !== undefined || typeof parentPath !== 'string' || typeof request !== 'string' || !ownLookupPaths(parent)) {
      return next(request, parent, isMain, options);
    }
    const found = server.answer(dirname(parentPath), request, 'r');
    if (found === undefined) {
      counts.unanswered++;
      return next(request, parent, isMain, options);
    }
    counts.answers++;
    return found.path;
  };
  return pipeline().join('pack', { resolveFilename: step });
}
