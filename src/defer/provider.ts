// Defer as a provider of the loader pipeline: registerHooks steps where they exist (22.15+),
// else (Node 20) off-thread hooks (module.register) for ES modules plus a compile step for
// CommonJS, paid only when the program uses defer. Called once from coldstart/register.
import { setting } from '../settings.js';
import { pnpActive, pnpReason } from '../pnp.js';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { debug } from '../debug.js';
import { eagerMode } from '../lazy/eager.js';
import { has } from '../node-features.js';
import type { LoadContext, LoadResult, NextLoad, NextResolve, ResolveContext, ResolveResult } from '../loader/node.js';
import { pipeline, type CompileStep } from '../loader/pipeline.js';
import { generatedCodeKeys } from '../shared-state.js';
import { entryIsCommonJs, entryScopeType, programDeferConfig } from './config.js';
import { entryRealPath } from '../loader/entry.js';
import { deferredNamespace, useCommonJsNames } from './runtime.js';
import { bytesMayNeedTransform, hasImportDeferCall, usesDeferredImport, virtualPrefix, withoutDefer } from './detect.js';
import { distURL } from '../dist-paths.js';
import {
  knownTargetFacts,
  cjsNamespaceNames,
  requirable,
  namespaceNames,
  makeState,
  mayBeAsyncModule,
  parseVirtual,
  readVirtualURL,
  sourceText,
  targetFacts,
  mayTransformFile,
  transformLoaded,
  virtualSource,
  virtualURL,
  type DeferSettings,
  type DeferState,
  type TargetFacts,
  attributesToCheck,
  explainLoadError,
} from './load-core.js';

/** Makes deferredNamespace() reachable by the in-thread stand-ins (load-core.ts virtualSource). */
function exposeRuntime(): void {
  const key = Symbol.for(generatedCodeKeys.deferRuntime);
  const global = globalThis as Record<symbol, unknown>;
  if (global[key] !== undefined) return;
  global[key] = { deferredNamespace };
  useCommonJsNames((url) => cjsNamespaceNames(undefined, url));
}

function settings(): DeferSettings {
  const config = programDeferConfig();
  const stats = setting('COLDSTART_DEFER_STATS');
  return {
    defer: config?.defer ?? [],
    root: config?.root,
    deferNodeModules: config?.deferNodeModules ?? false,
    eager: eagerMode(),
    nativeImportDefer: has('nativeImportDefer'),
    cacheDir: undefined,
    stats: stats !== undefined && stats !== '' && stats !== '0',
  };
}

/**
 * What the entry script says about `import defer`: `uses` when it holds either form itself;
 * `module-program` when it is a first-party ES module (outside node_modules), whose imports are
 * the program's own files and may use the syntax; `none` otherwise.
 */
function entryDeferKind(): 'uses' | 'module-program' | 'none' {
  const entry = process.argv[1];
  if (entry === undefined || entry === '') return 'none';
  // A CommonJS entry can hold only `import.defer()`; an installed one (a CLI's bin) is not read.
  const commonjs = entryIsCommonJs();
  if (commonjs && (entryRealPath()?.includes('/node_modules/') ?? true)) return 'none';
  let text: string;
  try {
    text = readFileSync(entry, 'utf8');
  } catch {
    return 'none';
  }
  if (commonjs) return hasImportDeferCall(text) ? 'uses' : 'none';
  if (usesDeferredImport(text)) return 'uses';
  const real = entryRealPath();
  if (real === undefined || real.includes('/node_modules/')) return 'none';
  if (real.endsWith('.mjs') || real.endsWith('.mts') || entryScopeType() === 'module') return 'module-program';
  // A `.js` or `.ts` file in a package without "type": Node runs it as an ES module when it
  // holds module syntax (an import or export statement starting a line, for this check).
  if (entryScopeType() === undefined && (real.endsWith('.js') || real.endsWith('.ts')) && /^\s*(?:import|export)[\s{*'"]/m.test(text)) return 'module-program';
  return 'none';
}

/** A stand-in that Node's own `import defer` serves (Node 26 with --js-defer-import-eval). */
function nativeStandIn(module: { url: string }, attributes: Record<string, unknown> | undefined): string {
  const clause = attributes !== undefined && Object.keys(attributes).length > 0 ? ` with ${JSON.stringify(attributes)}` : '';
  return `import defer * as ns from ${JSON.stringify(module.url)}${clause};\nexport default ns;\n`;
}

/** The resolve hook for the stand-ins the transform emits: resolves the real specifier at the import. */
export function resolveVirtual(specifier: string, context: ResolveContext, next: NextResolve): ResolveResult {
  const virtual = parseVirtual(specifier);
  if (virtual === undefined) return next(specifier, context);
  const parentURL = context.parentURL ?? '';
  const resolved = next(virtual.specifier, context);
  return { url: virtualURL(resolved.url, resolved.format, virtual.specifier, parentURL, virtual.line, virtual.column, virtual.checked), format: 'module', shortCircuit: true };
}

function syncHooks(state: DeferState): () => void {
  // The stand-ins this thread's hook writes take deferredNamespace from here (virtualSource).
  exposeRuntime();
  // Joined on first need: while any resolve hook is registered, each require() Node has not
  // resolved before takes Node's slower hooked path.
  let leaveResolve: (() => void) | undefined;
  const needResolve = (): void => {
    leaveResolve ??= pipeline().join('defer', { hooks: { resolve: resolveVirtual } });
  };
  const leaveLoad = pipeline().join('defer', { hooks: {
    load(url: string, context: LoadContext, next: NextLoad): LoadResult {
      const module = readVirtualURL(url);
      if (module !== undefined) {
        const attributes = context.importAttributes;
        // Node runs `import defer` itself: the stand-in of an `import.defer()` is a native deferred
        // import, so that it gives the same namespace object as the program's static ones.
        if (state.settings.nativeImportDefer && !module.checked) return { format: 'module', source: nativeStandIn(module, attributes), shortCircuit: true };
        if (attributesToCheck(module, attributes)) next(module.url, { format: module.format || undefined, importAttributes: attributes ?? {} });
        let facts: TargetFacts | undefined;
        let cjsNames: readonly string[] | undefined;
        if (!module.checked && mayBeAsyncModule(module)) {
          facts = knownTargetFacts(state, module.url);
          if (facts === undefined) {
            const target = next(module.url, { format: undefined, importAttributes: {} });
            const text = sourceText(target.source);
            if (text !== undefined) facts = targetFacts(state, module.url, target.format ?? undefined, text);
          }
        } else if (!module.checked && module.format === 'commonjs' && requirable(module.url)) {
          cjsNames = cjsNamespaceNames(state, module.url);
        }
        const names = facts === undefined ? cjsNames : namespaceNames(state, module.url, facts);
        return { format: 'module', source: virtualSource(module, facts?.tla === true || names === 'at-import', true, names === 'at-import' ? undefined : names), shortCircuit: true };
      }
      let result: LoadResult;
      try {
        result = next(url, context);
      } catch (error) {
        throw explainLoadError(error);
      }
      if (!url.startsWith('file:')) return result;
      if (result.source instanceof Uint8Array && !bytesMayNeedTransform(result.source, state.settings.eager ? [] : state.settings.defer)) return result;
      // Its place and format decide before its bytes are decoded (an installed CommonJS file is left alone).
      if (!mayTransformFile(state, url, result.format ?? undefined)) return result;
      let text = sourceText(result.source);
      // `import` of a CommonJS file may come back without source; auto-defer needs it (without a
      // `defer` list only an `import.defer()` call could matter there: not worth a read per file).
      if (text === undefined && state.settings.defer.length > 0 && (result.format === 'commonjs' || result.format === 'commonjs-typescript')) {
        try {
          text = readFileSync(new URL(url), 'utf8');
        } catch {
          return result;
        }
      }
      if (text === undefined) return result;
      const code = transformLoaded(state, url, result.format ?? undefined, text);
      if (code === undefined) {
        // A learned-deferral source the pack served carries stand-in imports already.
        if (result.format === 'module' && text.includes(virtualPrefix)) needResolve();
        return result;
      }
      if (code.includes(virtualPrefix)) needResolve();
      return { ...result, source: code };
    },
  } });
  return () => {
    leaveLoad();
    leaveResolve?.();
  };
}

/**
 * The load step of a learned-deferral stand-in (`coldstart-defer:` URL), for the pack's own
 * hooks to answer in the same registration; undefined for any other URL.
 */
export function standInLoad(url: string): { format: 'module'; source: string; shortCircuit: true } | undefined {
  const module = readVirtualURL(url);
  if (module === undefined) return undefined;
  exposeRuntime();
  // Checked at pack time: the target does not await at top level.
  return { format: 'module', source: virtualSource(module, false, true), shortCircuit: true };
}

/**
 * Only the stand-ins of learned deferral (sources the pack serves already rewritten): no
 * transform runs, so no file is scanned or parsed. The resolve hook comes in with the first
 * served module that imports a stand-in.
 */
function standInHooks(): () => void {
  exposeRuntime();
  let leaveResolve: (() => void) | undefined;
  const leaveLoad = pipeline().join('defer', { hooks: {
    load(url: string, context: LoadContext, next: NextLoad): LoadResult {
      const module = readVirtualURL(url);
      // Checked at pack time: the target does not await at top level.
      if (module !== undefined) return { format: 'module', source: virtualSource(module, false, true), shortCircuit: true };
      const result = next(url, context);
      if (leaveResolve === undefined && result.format === 'module') {
        const text = sourceText(result.source);
        if (text !== undefined && text.includes(virtualPrefix)) leaveResolve = pipeline().join('defer', { hooks: { resolve: resolveVirtual } });
      }
      return result;
    },
  } });
  return () => {
    leaveLoad();
    leaveResolve?.();
  };
}

/** Node 20: CommonJS files never reach the async hooks, so a compile step transforms them. */
function patchCommonJs(state: DeferState): () => void {
  const step: CompileStep = (module, content, filename, rest, next) => {
    // Node 20 says third what it loads: 'module' (or true in earlier 20.x) for require(esm), whose
    // imports Node resolves without the hooks, so no stand-in could be found: its `import defer`
    // becomes an ordinary import there (evaluated at once, but the program runs).
    const esm = rest[0] === true || rest[0] === 'module' || filename.endsWith('.mjs');
    let code: string | undefined;
    if (typeof content === 'string' && filename.startsWith('/')) {
      if (!esm) code = transformLoaded(state, pathToFileURL(filename).href, 'commonjs', content);
      else if (usesDeferredImport(content)) code = withoutDefer(content);
    }
    return next(module, code ?? content, filename, rest);
  };
  return pipeline().join('defer', { compile: step });
}

/**
 * Installs the defer hooks when they can matter and returns their remover; undefined when there
 * was nothing to install. Cheap when no configuration exists: one package.json read, and a read
 * of the entry script unless that package.json makes it CommonJS.
 */
export function installDeferHooks(standIns = false, packageUses = false): (() => void) | undefined {
  try {
    return install(standIns, packageUses);
  } catch (error) {
    debug('defer', `not installed: ${(error as Error).message}`);
    return undefined;
  }
}

/**
 * `standIns`: the pack serves ES modules rewritten by learned deferral, whose imports are
 * stand-ins. `packageUses`: the module-location index found `import defer` in an installed
 * package's ES modules.
 */
function install(standIns: boolean, packageUses: boolean): (() => void) | undefined {
  const current = settings();
  // Only a program that can use defer pays for hooks: on Node 22.15+ even a pass-through load
  // hook costs every module load (docs/decisions/startup-costs.md#commonjs-patch-vs-registerhooks).
  const configured = current.root !== undefined;
  // The pack serves ES modules only where registerHooks exists: stand-ins need nothing elsewhere.
  const needStandIns = standIns && has('registerHooks');
  // Without a configuration: an entry that uses the syntax, or (where hooks run in-thread) a
  // first-party ES module program, whose other files may. Node 20 would start a loader worker
  // for every such program (docs/defer.md), so there only the entry's own use counts.
  const found = configured ? 'uses' : entryDeferKind();
  // An installed package that uses the syntax needs the hooks whatever the entry (on Node 20 too:
  // without them that package cannot load at all).
  const entry = found === 'none' && packageUses ? 'package' : found;
  if (entry === 'none' || (entry === 'module-program' && !has('registerHooks'))) {
    if (!needStandIns) return undefined;
    return standInHooks();
  }
  if (has('registerHooks')) {
    const why = configured ? 'a defer configuration' : entry === 'uses' ? 'the entry uses import defer' : entry === 'package' ? 'an installed package uses import defer' : 'a first-party ES module program';
    debug('defer', `load hook installed: ${why}`);
    return syncHooks(makeState(current));
  }
  const removers: (() => void)[] = [];
  // CommonJS files never reach the off-thread hooks: auto-defer and `import.defer()` there.
  removers.push(patchCommonJs(makeState(current)));
  // The loader worker cannot load the transform's packages from Yarn's zip archives.
  if (has('asyncRegister') && pnpActive()) debug('defer', `not installed: ${pnpReason}; import defer needs Node 22.15+ there`);
  else if (has('asyncRegister')) {
    pipeline().registerOffThread(distURL('defer/async-hooks.js'), import.meta.url, current);
    debug('defer', 'installed the off-thread defer hooks (Node without registerHooks)');
  }
  return () => {
    for (const remove of removers) remove();
  };
}
