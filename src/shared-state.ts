// The one object coldstart's copies in a process share. A process may hold several: the
// register core (dist/register-core.cjs), the profiler's and the pack recorder's preloads, and
// the package API as ES module and CommonJS, each bundled apart. What one of them sets up, the
// others must find: the loader pipeline, whether activation ran, the profiler's listeners, the
// lazy-load records. It lives on globalThis under one symbol, typed here.
//
// Code that coldstart generates (stand-in modules, rewritten pack sources, profiler markers)
// reads its own names, listed in `generatedCodeKeys`: those sources outlive a version (packs and
// caches on disk), so their names never change.
import type { Pipeline } from './loader/pipeline.js';
import type { MutableRecord } from './lazy/records.js';

/** What another tool's load hooks mean for coldstart's source handlers (loader/foreign-hooks.ts). */
export interface ForeignHooksWatch {
  /** A load hook of another tool is registered (or may be: an earlier preload). */
  foreign: boolean;
  /** A preload of another tool ran before coldstart's: its hooks, if any, run after coldstart's. */
  earlier: boolean;
  /** Another tool may see or change where an import leads: any hook of it (resolve or load,
   *  module.registerHooks or module.register), a loader flag, module mocks, or an earlier preload. */
  resolution: boolean;
  /** Another tool's resolve hooks may run after coldstart's, so that an import coldstart's hooks
   *  answered would never reach them: an earlier preload's, module.register's (off-thread hooks
   *  run after every in-thread one), a loader flag's, module mocks'. */
  after: boolean;
  /** Why, for COLDSTART_DEBUG and `coldstart doctor`. */
  reason: string | undefined;
}

export interface SharedState {
  /** The remover of coldstart/register's activation, once it ran (activate.ts). */
  activated?: (() => void) | undefined;
  /** The one pipeline into Node's loader (loader/pipeline.ts). */
  pipeline?: Pipeline;
  /** Whether another tool's load hooks are registered (loader/foreign-hooks.ts). */
  foreignHooks?: ForeignHooksWatch;
  /** `coldstart profile`'s listeners, set by its preload (profile/preload.ts). */
  profiler?: {
    /** A file the pack served (pack/server.ts). */
    packServed(path: string, size: number): void;
  };
  /** Set by `coldstart profile` before it loads the preload into its own CommonJS process. */
  profileInProcessCommonJs?: boolean;
  /** Called when process.argv names another program than at activation (pack/open-at-start.ts). */
  programChanged?: () => void;
  /** The lazy-load records of every copy of the API (lazy/records.ts). */
  lazyStore?: { records: MutableRecord[]; exitHookInstalled: boolean };
  /** Which lazy() stand-in belongs to which record, for isLazy() and unwrap() (lazy/lazy.ts). */
  lazyStandIns?: WeakMap<object, { record: MutableRecord; name: string | undefined }>;
  /** What coldstart's copies do at exit, in the order asked, under one 'exit' listener (atExit). */
  exitWork?: (() => void)[];
}

const stateKey = Symbol.for('coldstart');

/** This process's shared state, made at first use. */
export function sharedState(): SharedState {
  const holder = globalThis as unknown as Record<symbol, SharedState | undefined>;
  let state = holder[stateKey];
  if (state === undefined) {
    state = {};
    holder[stateKey] = state;
  }
  return state;
}

/**
 * Runs `work` when the process exits. All of coldstart's exit work shares one 'exit' listener: a
 * program that adds ten of its own then gets Node's MaxListenersExceededWarning from coldstart's
 * one, where plain Node prints none below eleven (two listeners of coldstart's made nine enough).
 * Each piece runs on its own: one that throws does not stop the others, nor the exit.
 */
export function atExit(work: () => void): void {
  const state = sharedState();
  if (state.exitWork === undefined) {
    const queue: (() => void)[] = [];
    state.exitWork = queue;
    process.once('exit', () => {
      for (const piece of queue) {
        try {
          piece();
        } catch {
          // Exit work is reporting and caching: never a reason to change how the program exits.
        }
      }
    });
  }
  state.exitWork.push(work);
}

/** The globals generated code reads: `globalThis[Symbol.for(key)]`. */
export const generatedCodeKeys = {
  /** deferredNamespace() for in-thread stand-in modules (defer/load-core.ts virtualSource). */
  deferRuntime: 'coldstart.deferRuntime',
  /** Learned deferral's first-use report (defer/learned.ts, lazy/learned-records.ts). */
  learnedLoad: 'coldstart.learnedLoad',
  /** The profiler's evaluation markers in ES modules (profile/inject.ts). */
  profileMarkers: 'coldstart.profile',
} as const;
