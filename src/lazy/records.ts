// The per-process store of lazy declarations: what was declared where, whether and when it
// loaded, and which use forced it. Kept on a global symbol so that every copy of coldstart in
// a process (ESM and CJS entries, nested installs) shares one store.
import type { CallSite } from './call-site.js';
import { sharedState } from '../shared-state.js';

export type LazyStatus = 'pending' | 'loaded' | 'failed';

/** One lazy() / lazyNamed() / lazyModules() declaration, as the profiler and users read it. */
export interface LazyRecord {
  /** The specifier as written, e.g. `typescript` or `./heavy.js`. */
  readonly specifier: string;
  /** The file that declared it (a path), against which the specifier resolves. */
  readonly parent: string;
  /** `file:line:col` of the lazy() call. */
  readonly declaredAt: string;
  readonly status: LazyStatus;
  /** Resolved file, once loaded. */
  readonly resolved: string | undefined;
  /** What forced the load: `get "x"`, `call`, `new`, `has "x"`, `ownKeys`, `eager`, ... */
  readonly trigger: string | undefined;
  /** `file:line:col` of the first use, once there was one. */
  readonly firstUseAt: string | undefined;
  /** Milliseconds since process start when loading began (performance.now()). */
  readonly loadStartMs: number | undefined;
  /** How long resolving, loading and evaluating took, in milliseconds. */
  readonly loadDurationMs: number | undefined;
  /** The message of the load error, when status is `failed`. */
  readonly error: string | undefined;
}

/** Internal mutable form; the public view is a plain snapshot. */
export interface MutableRecord {
  specifier: string;
  parent: string;
  declaredAt: CallSite;
  status: LazyStatus;
  resolved: string | undefined;
  trigger: string | undefined;
  firstUseAt: CallSite | undefined;
  loadStartMs: number | undefined;
  loadDurationMs: number | undefined;
  error: unknown;
  value: unknown;
}

interface Store {
  records: MutableRecord[];
  exitHookInstalled: boolean;
}

/** The records of every copy of the API in this process (ES module and CommonJS). */
export function store(): Store {
  const state = sharedState();
  state.lazyStore ??= { records: [], exitHookInstalled: false };
  return state.lazyStore;
}

export function snapshot(record: MutableRecord): LazyRecord {
  const error = record.error;
  return {
    specifier: record.specifier,
    parent: record.parent,
    declaredAt: record.declaredAt.toString(),
    status: record.status,
    resolved: record.resolved,
    trigger: record.trigger,
    firstUseAt: record.firstUseAt?.toString(),
    loadStartMs: record.loadStartMs,
    loadDurationMs: record.loadDurationMs,
    error: error === undefined ? undefined : describeError(error),
  };
}

/** Every lazy declaration this process made so far, in declaration order. */
export function lazyRecords(): LazyRecord[] {
  return store().records.map(snapshot);
}

/** The original failure (the cause of a LazyLoadError), as `CODE: first line of message`. */
function describeError(error: unknown): string {
  const original = error instanceof Error && error.cause !== undefined ? error.cause : error;
  if (!(original instanceof Error)) return String(original);
  const code = (original as { code?: unknown }).code;
  const first = original.message.split('\n')[0] ?? '';
  return typeof code === 'string' ? `${code}: ${first}` : first;
}
