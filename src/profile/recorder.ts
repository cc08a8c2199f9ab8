// The per-process store of module loads and the stack of load windows that splits each
// window's time into the module's own time and its children's. Knows nothing about Node's
// loaders: the CommonJS patch and the ES module hooks feed it.
import { fileURLToPath } from 'node:url';
import type { CoverageSnapshot, ModuleEntry, ModuleFormat, ProcessProfile } from './schema.js';
import { PROCESS_FORMAT } from './schema.js';

/**
 * Loads shorter than this (inclusive, as timed under the recorder) take no coverage snapshot and
 * are never defer candidates: a snapshot costs more than deferring such a package could win
 * (docs/decisions/startup-costs.md#profile-snapshot-threshold).
 */
export const MIN_BOUNDARY_MS = 5;

export interface Frame {
  readonly start: number;
  /** Time spent in nested windows and in work measured elsewhere (hooks), to subtract. */
  childMs: number;
  key: string | undefined;
}

interface Mutable extends ModuleEntry {
  parentKey: string | undefined;
}

/**
 * Milliseconds since the process started, the recorder's one clock. Not performance.now(): the
 * `performance` global loads perf_hooks on first use, which a program that never touches it
 * should not pay for (docs/decisions/startup-costs.md#profile-clock).
 */
export function now(): number {
  return process.uptime() * 1000;
}

/** `file:` URLs become paths so that CommonJS and ES module loads of one file meet. */
export function keyOf(urlOrPath: string): string {
  if (urlOrPath.startsWith('file:')) {
    try {
      return fileURLToPath(urlOrPath);
    } catch {
      return urlOrPath;
    }
  }
  return urlOrPath;
}

/** The directory of the package a path belongs to (`.../node_modules/@s/x`), or '' outside node_modules. */
export function packageRootOf(path: string): string {
  const at = path.lastIndexOf('/node_modules/');
  if (at === -1) return '';
  const rest = path.slice(at + '/node_modules/'.length).split('/');
  const name = rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1] ?? ''}` : (rest[0] ?? '');
  return path.slice(0, at + '/node_modules/'.length) + name;
}

export class Recorder {
  readonly modules = new Map<string, Mutable>();
  readonly edges = new Set<string>();
  /** Files whose source coldstart/register's pack served (it reports each hit). */
  readonly fromPack = new Set<string>();
  readonly stack: Frame[] = [];
  /** First importer of each URL the ES module hooks resolved, for CommonJS loads that lack one. */
  readonly importers = new Map<string, { specifier: string; parentKey: string }>();
  coverage: CoverageSnapshot[] | null = null;
  /** When the ES module hooks went in (see ProcessProfile.esmHooksFromMs). */
  esmHooksFromMs: number | null = null;
  /** Called when a package entry imported by first-party code finishes loading. */
  onBoundary: ((id: number) => void) | undefined;
  #firstPartyRoot: string | undefined;
  #mainPath: string | undefined;

  /** Real path of the main script, when there is one. */
  get mainPath(): string | undefined {
    return this.#mainPath;
  }

  constructor(mainPath: string | undefined) {
    this.#mainPath = mainPath;
    this.#firstPartyRoot = mainPath === undefined ? undefined : packageRootOf(mainPath);
  }

  enter(): Frame {
    this.flushBoundary();
    const frame: Frame = { start: now(), childMs: 0, key: undefined };
    this.stack.push(frame);
    return frame;
  }

  /** Closes `frame` (wherever it is on the stack) and returns its window length. */
  leave(frame: Frame): number {
    const duration = now() - frame.start;
    const at = this.stack.lastIndexOf(frame);
    if (at !== -1) this.stack.splice(at, 1);
    const outer = this.stack[this.stack.length - 1];
    if (outer !== undefined) outer.childMs += duration;
    return duration;
  }

  /** Work done on behalf of another module (a hook's resolve or read) is not the open window's own time. */
  charge(ms: number): void {
    const outer = this.stack[this.stack.length - 1];
    if (outer !== undefined) outer.childMs += ms;
  }

  /** The record of `key`, created on first sight. */
  module(key: string, specifier: string, parentKey: string | undefined, format: ModuleFormat): Mutable {
    let entry = this.modules.get(key);
    if (entry === undefined) {
      entry = {
        id: this.modules.size,
        key,
        specifier,
        parent: null,
        parentKey: parentKey === key ? undefined : parentKey,
        format,
        resolveMs: 0,
        readMs: 0,
        evalMs: 0,
        selfMs: 0,
        startMs: null,
        durMs: null,
        size: null,
      };
      this.modules.set(key, entry);
    }
    if (parentKey !== undefined) this.edge(parentKey, key);
    return entry;
  }

  edge(fromKey: string, toKey: string): void {
    if (fromKey !== toKey) this.edges.add(`${fromKey}\0${toKey}`);
  }

  #pendingBoundary: number | undefined;

  /** Takes the snapshot a finished load put off (see finished()). */
  flushBoundary(): void {
    const id = this.#pendingBoundary;
    if (id === undefined) return;
    this.#pendingBoundary = undefined;
    this.onBoundary?.(id);
  }

  /**
   * After a load finished: take a coverage snapshot when it was a package entered from
   * first-party code. `putOff` waits for the next load or exit instead: an ES module importing
   * CommonJS reads every export right after the load, which calls getters we must not count.
   */
  finished(entry: Mutable, putOff = false): void {
    if (this.onBoundary === undefined || this.#firstPartyRoot === undefined) return;
    if (entry.format === 'builtin' || entry.key === this.#mainPath) return;
    const root = packageRootOf(entry.key);
    if (root === '' || root === this.#firstPartyRoot) return;
    // An unknown importer (Node 20 loads CommonJS for an ES module without naming it) may be
    // first-party: a snapshot too many only makes the attribution finer.
    if (entry.parentKey !== undefined && packageRootOf(entry.parentKey) !== this.#firstPartyRoot) return;
    this.flushBoundary();
    // Each snapshot costs V8 a pass over every function of every script, plus a report of every
    // function called since the last one. A package that loaded in under MIN_BOUNDARY_MS
    // gets none: deferring it could not pay, and without its own snapshot its load-time calls
    // count as use, so it is never proposed.
    const inclusiveMs = entry.durMs ?? (entry.resolveMs ?? 0) + (entry.readMs ?? 0);
    if (inclusiveMs < MIN_BOUNDARY_MS) return;
    if (putOff) this.#pendingBoundary = entry.id;
    else this.onBoundary(entry.id);
  }

  toProfile(esmHooks: ProcessProfile['esmHooks']): ProcessProfile {
    const modules: ModuleEntry[] = [];
    for (const entry of this.modules.values()) {
      const parent = entry.parentKey === undefined ? undefined : this.modules.get(entry.parentKey);
      if (parent === undefined && entry.key !== this.#mainPath) {
        for (const pair of this.edges) {
          if (!pair.endsWith(`\0${entry.key}`)) continue;
          entry.parentKey = pair.slice(0, pair.indexOf('\0'));
          break;
        }
      }
      const { parentKey: _omit, ...rest } = entry;
      const evalMs = Math.max(0, entry.evalMs);
      const found = entry.parentKey === undefined ? undefined : this.modules.get(entry.parentKey);
      modules.push({
        ...rest, parent: found?.id ?? null, evalMs, selfMs: entry.resolveMs + entry.readMs + evalMs,
        ...(this.fromPack.has(entry.key) ? { fromPack: true as const } : {}),
      });
    }
    const edges: [number, number][] = [];
    for (const pair of this.edges) {
      const [from, to] = pair.split('\0') as [string, string];
      const a = this.modules.get(from);
      const b = this.modules.get(to);
      if (a !== undefined && b !== undefined) edges.push([a.id, b.id]);
    }
    return {
      format: PROCESS_FORMAT,
      pid: process.pid,
      ppid: process.ppid,
      argv: process.argv.slice(),
      mainPath: this.#mainPath ?? null,
      nodeVersion: process.version,
      esmHooks,
      esmHooksFromMs: this.esmHooksFromMs,
      timeOrigin: Date.now() - now(),
      wallMs: now(),
      modules,
      edges,
      coverage: this.coverage,
    };
  }
}
