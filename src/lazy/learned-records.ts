// Learned deferral's loads in the lazy-load records: a require that `coldstart pack --lazy` made
// load at first use reports itself here (through a global the rewritten module looks up only at
// that first use), so `coldstart profile` and `coldstart lazy` show each one as they show a
// lazy() declaration: where it was declared, what forced it and where, and how long it took.
import { CallSite } from './call-site.js';
import { store, type MutableRecord } from './records.js';
import { generatedCodeKeys } from '../shared-state.js';

/** The global the rewritten modules' helper calls (defer/learned.ts lowerLearned). */
export const learnedLoadKey = generatedCodeKeys.learnedLoad;

/** The name of an alias's load function (defer/learned.ts): a stack frame to look past. */
export const viaFrame = '__coldstart_via';

/** How the names of learned deferral's builtin cells start (defer/sites.ts): a frame to look past. */
export const cellFramePrefix = '__coldstart_defer';

type LearnedLoad = (load: () => unknown, specifier: string, parent: string, line: number, column: number) => unknown;

/** Makes learned-deferral loads record themselves in this process's lazy-load records. */
export function recordLearnedLoads(): void {
  const holder = globalThis as unknown as Record<symbol, LearnedLoad | undefined>;
  const key = Symbol.for(learnedLoadKey);
  if (holder[key] !== undefined) return;
  const learnedLoad: LearnedLoad = (load, specifier, parent, line, column) => {
    // The frame right above this one is the helper's getter in the rewritten module: the use
    // that forced the load is the next one.
    const trace: { stack?: string } = {};
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 16;
    Error.captureStackTrace(trace, learnedLoad);
    Error.stackTraceLimit = limit;
    const lines = (trace.stack ?? '').split('\n');
    // An alias (`const X = x.X`) loads x from its own getter: the use is past its two frames.
    let use = 2;
    while (lines[use]?.includes(viaFrame) === true) use += 2;
    // A builtin cell (an ES module's default import of a builtin) is one more frame to look past.
    if (lines[use]?.includes(` at ${cellFramePrefix}`) === true) use += 1;
    const firstUse = new CallSite({ stack: [lines[0], ...lines.slice(use)].join('\n') });
    const record: MutableRecord = {
      specifier,
      parent,
      declaredAt: new CallSite({ stack: `Error\n    at ${parent}:${line}:${column}` }),
      status: 'pending',
      resolved: undefined,
      trigger: 'first use (learned deferral)',
      firstUseAt: firstUse,
      loadStartMs: performance.now(),
      loadDurationMs: undefined,
      error: undefined,
      value: undefined,
    };
    store().records.push(record);
    try {
      const value = load();
      record.status = 'loaded';
      return value;
    } catch (error) {
      record.status = 'failed';
      record.error = error;
      throw error;
    } finally {
      record.loadDurationMs = performance.now() - record.loadStartMs!;
    }
  };
  holder[key] = learnedLoad;
}
