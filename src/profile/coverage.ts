// Which files had code run after a given moment, from V8's precise call counts. Taking the
// counts resets them, so each snapshot holds only the functions called since the previous one;
// snapshots are taken when a package entered from first-party code finishes loading, and at
// exit. A file's top-level function (its evaluation) is not use.
//
// Counts, not V8's cheaper binary mode: binary coverage reports a function as run only the first
// time it is seen running, ever, so a package whose program calls only functions that already
// ran while the package loaded (a helper it warms up, a constructor it uses once) looked unused
// and was proposed for deferral. Tested: such a package is not a candidate.
//
// Coverage is left on to the end: switching V8 back to best-effort mode makes it collect source
// positions for every compiled function, and measured no faster for the report that follows.
import { createRequire } from 'node:module';
import { keyOf } from './recorder.js';
import type { CoverageSnapshot } from './schema.js';

interface ScriptCoverage {
  url: string;
  functions: { functionName: string; ranges: { startOffset: number; count: number }[] }[];
}

export interface Coverage {
  /**
   * At a boundary. The first call starts the counting: what ran before the first boundary never
   * decides anything, and on Node 20 and 22 V8 runs code much slower while it counts, so the first
   * package's load (often the heaviest) runs undisturbed. Later calls take a snapshot; at exit
   * (`after` null) with no boundary seen, nothing is started.
   */
  snapshot(after: number | null): void;
  readonly snapshots: CoverageSnapshot[];
  /** False once starting failed (no inspector in this build, or one already attached). */
  readonly available: boolean;
}

export function lazyCoverage(skipPrefix: string): Coverage {
  const snapshots: CoverageSnapshot[] = [];
  let post: ((method: string, params?: object) => any) | undefined;
  let available = true;
  const start = (): void => {
    const { Session } = createRequire(import.meta.url)('node:inspector') as typeof import('node:inspector');
    const session = new Session();
    session.connect();
    // An in-thread session answers synchronously: the callback has run when post() returns.
    post = (method, params) => {
      let out: unknown;
      session.post(method, params ?? {}, (error: Error | null, result: unknown) => {
        if (error) throw error;
        out = result;
      });
      return out;
    };
    post('Profiler.enable');
    // Nothing was counted before this: the start is the first reset.
    post('Profiler.startPreciseCoverage', { callCount: true, detailed: false });
  };
  return {
    snapshots,
    get available() {
      return available;
    },
    snapshot(after) {
      if (!available) return;
      if (post === undefined) {
        if (after === null) return;
        try {
          start();
        } catch {
          available = false;
          return;
        }
        snapshots.push({ after, used: [] });
        return;
      }
      const taken = post('Profiler.takePreciseCoverage') as { result: ScriptCoverage[] } | undefined;
      const used: string[] = [];
      for (const script of taken?.result ?? []) {
        if (script.url === '' || script.url.startsWith('node:')) continue;
        const ran = script.functions.some((fn) => {
          const range = fn.ranges[0];
          if (range === undefined || range.count === 0) return false;
          return !(fn.functionName === '' && range.startOffset === 0);
        });
        const key = keyOf(script.url);
        if (ran && !key.startsWith(skipPrefix)) used.push(key);
      }
      snapshots.push({ after, used });
    },
  };
}
