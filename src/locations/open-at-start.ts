// Start-up of the module-location index under `coldstart/register`: find the project and its
// index, check it is fresh, install the resolve hook. With no usable index, one process builds
// it (under a lock, synchronously, then uses it); the others run as plain Node meanwhile.
import { isOff, pathSetting, setting, settingOff, sharedInstall } from '../settings.js';
import { pnpActive, pnpReason } from '../pnp.js';
import { atExit } from '../shared-state.js';
import { preservesSymlinks } from '../node-options.js';
import { appendFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { debug } from '../debug.js';
import { openIndex, type OpenResult } from './load.js';
import type { IndexView } from './view.js';
import { indexPathFor } from './store.js';
import { findProjectRoot, tryLock } from '../store.js';
import { globalPaths } from '../loader/conditions.js';
import { installResolveHook, newCounts, skip, type FirstAnswer, type LookupCounts } from './resolve-provider.js';
import { AnswerTable, answersPathFor } from './answers.js';
import { has } from '../node-features.js';
import { programDeferConfig } from '../defer/config.js';
import { installSourceHandler, newSourceCounts, packageTypeOf, type SourceCounts } from './source-provider.js';
import { entryKind, knownScopeType, useRegisterHooks } from '../loader/entry.js';
import { pipeline, type Steps } from '../loader/pipeline.js';
import { slowFilesystem, startPrefetch, type Prefetcher } from './prefetch.js';

/** Fewer files than this are read by the program itself, even on a slow filesystem. */
const PREFETCH_MIN_FILES = 24;

/** The prefetcher for this run: on a slow filesystem (or COLDSTART_PREFETCH=1), of the .js/.cjs files earlier runs loaded. */
function prefetchFor(root: string, table: AnswerTable, setting: string | undefined): Prefetcher | undefined {
  if (off(setting)) return undefined;
  const forced = setting !== undefined && setting !== '';
  const fs = forced ? 'forced' : slowFilesystem(root);
  if (fs === undefined) return undefined;
  const files = table.paths().filter((path) => path.endsWith('.js') || path.endsWith('.cjs'));
  // Starting the worker costs more than a program of a few files can win back
  // (docs/decisions/startup-costs.md#prefetch-threshold).
  if (!forced && files.length < PREFETCH_MIN_FILES) {
    debug('prefetch', `${fs} filesystem, but only ${files.length} files to read ahead: not worth a worker`);
    return undefined;
  }
  debug('prefetch', `${fs} filesystem: ${files.length} files to read ahead`);
  return startPrefetch(files);
}

/** What `coldstart doctor` reads back: one JSON line per process, written at exit. */
export interface IndexRunReport {
  readonly pid: number;
  readonly entry: string | undefined;
  readonly root: string | undefined;
  readonly index: string | undefined;
  /** used: hook installed; built: built now, then used; unopened: a pack answered every lookup, the
   *  index was never read; aside: a small program (src/step-aside.ts); missing/stale/refused/off/no-project: plain Node. */
  state: 'used' | 'built' | 'unopened' | 'aside' | 'missing' | 'stale' | 'corrupt' | 'refused' | 'off' | 'no-project' | 'error';
  reason: string | undefined;
  builtAt: number | undefined;
  buildMs: number | undefined;
  readonly counts: LookupCounts;
  sectionsLoaded: number;
  changedPackages: string[];
  /** Lookups answered from the learned-answers table (a subset of counts.hits). */
  learnedAnswers: number;
  /** `.js` files whose package "type" the index answered (no package.json probing). */
  readonly sources: SourceCounts;
  /** Files taken from the prefetching worker (slow filesystems), and files it did not have yet. */
  prefetch?: { taken: number; missed: number } | undefined;
  /** COLDSTART_SHARED=1: the index trusted as built, nothing written into the tree. */
  shared?: boolean;
  /** How the resolve hook went in: module.registerHooks, or the CommonJS resolver patch. */
  hooks: 'registerHooks' | 'patch' | undefined;
}

const off = settingOff;

/**
 * The builder loads only here, never on the path of a run that has an index. This code runs
 * from dist/locations/ (tsc output), dist/chunks/ or dist/ itself (bundled entries), so the
 * builder's path is tried relative to each.
 */
function loadBuilder(): typeof import('./build.js') {
  const requireHere = createRequire(import.meta.url);
  // The program must not find coldstart's builder among its own modules: what this load adds
  // to require.cache (nothing else runs meanwhile) is taken out again.
  const before = new Set(Object.keys(requireHere.cache));
  try {
    return requireHere('../locations/build.js') as typeof import('./build.js');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw error;
    return requireHere('./locations/build.js') as typeof import('./build.js');
  } finally {
    for (const key of Object.keys(requireHere.cache)) if (!before.has(key)) delete requireHere.cache[key];
  }
}

/** Builds the index synchronously when this process wins the lock; false when it did not. */
function buildUnderLock(root: string, file: string, report: IndexRunReport): boolean {
  const release = tryLock(file);
  if (release === undefined) {
    debug('index', `not building ${file}: another process is building it or the directory is read-only`);
    return false;
  }
  try {
    const { buildIndex } = loadBuilder();
    const summary = buildIndex({ root, file });
    report.buildMs = summary.ms;
    debug('index', `built ${file}: ${summary.packages} packages, ${summary.files} files in ${summary.ms.toFixed(0)} ms`);
    return true;
  } catch (error) {
    debug('index', `could not build ${file}: ${(error as Error).message}`);
    return false;
  } finally {
    release();
  }
}

/** This process's index, found but not yet hooked in. */
export interface PreparedIndex {
  /** Opens the index now (checks it, or builds it); its view, for start-up code to ask about
   *  files, or undefined when there is no usable index. Later calls return the same. */
  open(): IndexView | undefined;
  /**
   * Installs the steps (once); `first` is asked before the index. Returns their remover.
   * `whenAsked`: a pack answers this process, so the index is read only at the first lookup the
   * pack leaves to it (which it then answers); a process the pack serves whole never reads it.
   */
  install(first?: FirstAnswer, whenAsked?: boolean): () => void;
  /** Leaves the index unopened for this process, for `reason` (a small program). */
  stepAside(reason: string): void;
  /** The project root the index was looked for in; undefined when there is none. */
  root(): string | undefined;
  /** The index file looked for; undefined when there is none (no project, the index off). */
  indexFile(): string | undefined;
  /** What in-thread hooks saw of import: how many landed on an ES module, and the files whose
   *  format they did not learn; undefined beside the CommonJS patch, which sees no import. */
  imports(): { esModules: number; unsure: ReadonlySet<string> } | undefined;
}

/**
 * Finds, checks (or builds) and opens this process's index, and writes the run report at exit.
 * Never throws: with no usable index, `view` is undefined and install() does nothing.
 */
export function prepareIndex(): PreparedIndex {
  const env = process.env;
  const report: IndexRunReport = {
    pid: process.pid,
    entry: process.argv[1],
    root: undefined,
    index: undefined,
    state: 'off',
    reason: undefined,
    builtAt: undefined,
    buildMs: undefined,
    counts: newCounts(),
    sectionsLoaded: 0,
    changedPackages: [],
    learnedAnswers: 0,
    sources: newSourceCounts(),
    hooks: undefined,
  };
  let install = (_first?: FirstAnswer): (() => void) => () => {};
  let view: IndexView | undefined;
  /** Opens (or builds) the index and makes `install` the real installer; set once the index is found. */
  let openNow: (() => void) | undefined;
  let opening = false;
  const open = (): IndexView | undefined => {
    const pending = openNow;
    if (pending !== undefined && !opening) {
      opening = true;
      openNow = undefined;
      try {
        pending();
      } catch (error) {
        report.state = 'error';
        report.reason = (error as Error).message;
        debug('index', `index activation failed, running without it: ${report.reason}`);
      }
    }
    return view;
  };
  /** The index's resolve steps once installed: the stand-in hands them the lookup that opened the index. */
  let resolveSteps: Steps | undefined;
  /** What the in-thread resolve step could not tell the format of, for the learning of small programs. */
  let importsUnsure: ReadonlySet<string> | undefined;
  /** The mode the index's steps use, from what start-up knows without the index; null: it needs the index. */
  let modeWithoutIndex: () => boolean | null = () => null;
  /** Copies what the run learned into the report; the stats writer calls it before writing. */
  let collect = (): void => {};
  const statsFile = pathSetting('COLDSTART_INDEX_STATS');
  try {
    if (isOff('COLDSTART_INDEX')) {
      report.reason = 'COLDSTART_INDEX is off';
    } else if (pnpActive()) {
      report.reason = pnpReason;
    } else if (preservesSymlinks()) {
      report.reason = 'Node keeps symlinked paths in this process (--preserve-symlinks), and the index knows real paths only';
    } else {
      const found = findProjectRoot();
      if (found === undefined) {
        report.state = 'no-project';
        report.reason = 'no node_modules directory above the working directory, and the entry script is not in the project holding coldstart';
        debug('index', `${report.reason}: running without the index and the pack`);
      } else {
        // Node hands the hook real paths; the working directory and our own location already
        // are real, only a root named in the environment may go through a symlink.
        // A shared install (COLDSTART_SHARED=1) takes COLDSTART_ROOT as the real path it must be.
        const root = pathSetting('COLDSTART_ROOT') !== undefined && !sharedInstall() ? realpathSync.native(found) : found;
        const file = indexPathFor(root);
        Object.assign(report, { root, index: file });
        // COLDSTART_INDEX_VERIFY=0: trust package sections without a stat of each package root
        // (images and clusters whose node_modules never change between installs).
        // A shared install (COLDSTART_SHARED=1) trusts its index as built and writes nothing.
        const shared = sharedInstall();
        report.shared = shared;
        modeWithoutIndex = () => {
          let unknown = false;
          const viaRegisterHooks = useRegisterHooks(() => entryKind((file) => {
            const known = knownScopeType(file);
            if (known === null) unknown = true;
            return known;
          }));
          return unknown ? null : viaRegisterHooks;
        };
        report.state = 'unopened';
        report.reason = 'the pack answered every lookup: the index was never read';
        openNow = () => {
          report.state = 'off';
          report.reason = undefined;
          const options = { globalPaths: globalPaths(), verify: !shared && !isOff('COLDSTART_INDEX_VERIFY'), trusted: shared };
          let opened: OpenResult = openIndex(root, file, options);
          if (!opened.ok && opened.state !== 'refused' && !shared && !isOff('COLDSTART_INDEX_BUILD')) {
            debug('index', `${opened.reason}; building it`);
            if (buildUnderLock(root, file, report)) {
              opened = openIndex(root, file, options);
              if (opened.ok) report.state = 'built';
            }
          }
          if (opened.ok) {
            if (report.state !== 'built') report.state = 'used';
            report.builtAt = opened.header.builtAt;
            const opens = opened.view;
            // NODE_PATH changes what a bare specifier finds, so answers learned under another are dropped.
            const tableStamp = `${opened.header.builtAt}:${opened.mtime}:${env['NODE_PATH'] ?? ''}`;
            view = opens;
            let installed: (() => void) | undefined;
            install = (first?: FirstAnswer) => {
              if (installed !== undefined) return installed;
              const table = new AnswerTable(root, tableStamp);
              const tableFile = answersPathFor(file, process.argv[1]);
              table.load(tableFile);
              const viaRegisterHooks = useRegisterHooks(() => entryKind((file) => {
                const known = knownScopeType(file);
                return known !== null ? known : packageTypeOf(opens, file);
              }));
              report.hooks = viaRegisterHooks ? 'registerHooks' : 'patch';
              const { leave: unhook, steps, unsureImports } = installResolveHook(opens, report.counts, table, first, viaRegisterHooks);
              importsUnsure = unsureImports;
              resolveSteps = steps;
              // Defer transforms (registerHooks Nodes) read CommonJS through their load hook instead.
              const deferred = has('registerHooks') && (programDeferConfig()?.defer.length ?? 0) > 0;
              let unsource = (): void => {};
              if (!deferred && !isOff('COLDSTART_INDEX_SOURCES')) {
                unsource = installSourceHandler(opens, report.sources, () => {
                  const prefetch = prefetchFor(root, table, setting('COLDSTART_PREFETCH'));
                  report.prefetch = prefetch?.stats;
                  return prefetch;
                });
              }
              installed = () => {
                unsource();
                unhook();
              };
              collect = () => {
                report.sectionsLoaded = opens.stats.sectionsLoaded;
                report.changedPackages = opens.stats.changed;
                report.learnedAnswers = table.served;
              };
              if (!shared) atExit(() => table.saveIfLearned(tableFile));
              return installed;
            };
          } else {
            report.state = report.buildMs === undefined ? opened.state : 'missing';
            report.reason = opened.reason;
            debug('index', `${opened.reason}; running without the index`);
          }
        };
      }
    }
  } catch (error) {
    report.state = 'error';
    report.reason = (error as Error).message;
    debug('index', `index activation failed, running without it: ${report.reason}`);
  }
  if (statsFile) {
    atExit(() => {
      try {
        collect();
        appendFileSync(statsFile, JSON.stringify(report) + '\n');
      } catch {
        // A report that cannot be written must never change how the program exits.
      }
    });
  }
  /** Installs the real steps now, the index opened first. */
  const installNow = (first?: FirstAnswer): (() => void) => {
    open();
    try {
      return install(first);
    } catch (error) {
      report.state = 'error';
      report.reason = (error as Error).message;
      debug('index', `index hooks could not be installed, running without them: ${report.reason}`);
      return () => {};
    }
  };
  return {
    open,
    root: () => report.root,
    indexFile: () => report.index,
    imports: () => (report.hooks === 'registerHooks' && importsUnsure !== undefined ? { esModules: report.counts.esModuleImports, unsure: importsUnsure } : undefined),
    stepAside: (reason: string) => {
      if (openNow === undefined) return;
      openNow = undefined;
      report.state = 'aside';
      report.reason = reason;
    },
    install: (first?: FirstAnswer, whenAsked = false) => {
      const viaRegisterHooks = whenAsked && openNow !== undefined ? modeWithoutIndex() : null;
      if (viaRegisterHooks === null) return installNow(first);
      // A stand-in at the index's place in the pipeline: the first lookup that reaches it opens
      // the index and installs its steps (before it leaves, so a registration in use stays),
      // and is answered by them.
      let installed: (() => void) | undefined;
      let leave = (): void => {};
      const arrive = (): void => {
        if (installed !== undefined) return;
        installed = installNow(first);
        leave();
      };
      // Builtins and URLs, which the index never answers, pass by without opening it.
      leave = viaRegisterHooks
        ? pipeline().join('index', {
            hooks: {
              resolve: (specifier, context, next) => {
                if (context.parentURL?.startsWith('file:') === true && !skip(specifier)) arrive();
                const real = resolveSteps?.hooks?.resolve;
                return real !== undefined ? real(specifier, context, next) : next(specifier, context);
              },
            },
          })
        : pipeline().join('index', {
            resolveFilename: (request, parent, isMain, options, next) => {
              if (!isMain && typeof request === 'string' && !skip(request)) arrive();
              const real = resolveSteps?.resolveFilename;
              return real !== undefined ? real(request, parent, isMain, options, next) : next(request, parent, isMain, options);
            },
          });
      return () => {
        leave();
        installed?.();
      };
    },
  };
}
