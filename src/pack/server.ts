// The pack in memory for one process: module sources by absolute path and resolution answers
// by (parent directory, specifier, mode), each checked before it is handed out. Knows nothing
// about Node's loaders: the hooks in hooks.ts ask it and count what it says.
import { join } from 'node:path';
import { checksum, type DecodedPack, type ModuleFormat } from './format.js';
import { isFile, managed, sameFile } from './freshness.js';

/** What a run's loads came to, for `coldstart doctor` and `coldstart profile`. */
export interface PackCounts {
  /** Module loads served from the pack. */
  hits: number;
  /** Module loads of files the pack does not hold: read from disk by Node. */
  misses: number;
  /** Packed modules whose file changed (or failed its checksum): read from disk instead. */
  stale: number;
  /** Resolutions answered from the pack. */
  answers: number;
  /** Resolutions the pack could not answer: passed to the index, then to Node. */
  unanswered: number;
}

/** Where `coldstart profile` listens for the files a pack served (the same key in profile/preload.ts). */
const profileKey = Symbol.for('coldstart.profile.packServed');

export function newPackCounts(): PackCounts {
  return { hits: 0, misses: 0, stale: 0, answers: 0, unanswered: 0 };
}

interface Entry {
  readonly rel: string;
  readonly format: ModuleFormat;
  readonly size: number;
  readonly mtime: number;
  readonly offset: number;
  readonly sum: number;
  /** undefined: not checked yet; then the verdict of the checks in force. */
  good: boolean | undefined;
}

export interface Served {
  readonly format: ModuleFormat;
  readonly source: string;
}

export interface Answer {
  readonly path: string;
  readonly format: string;
}

export class PackServer {
  readonly #body: Buffer;
  readonly #modules = new Map<string, Entry>();
  readonly #answers = new Map<string, Answer>();
  readonly #verify: boolean;
  readonly counts: PackCounts;
  #broken = false;

  /**
   * `root` is the project root of this run (a real path), which need not be where the pack was
   * built. Answers are kept only when recorded under the same conditions, and only between
   * files inside node_modules: those change only through the package manager, which the
   * start-up stamps watch. The program's own files are resolved by the index or Node.
   */
  constructor(pack: DecodedPack, root: string, options: { verify: boolean; conditions: string; counts: PackCounts }) {
    this.#body = pack.body;
    this.#verify = options.verify;
    this.counts = options.counts;
    const bodyLength = pack.body.length;
    for (const [rel, format, size, mtime, offset, sum] of pack.header.modules) {
      if (typeof rel !== 'string' || !(offset >= 0 && offset + size <= bodyLength && offset % 4 === 0)) throw new Error(`corrupt module entry ${String(rel)}`);
      this.#modules.set(join(root, rel), { rel, format, size, mtime, offset, sum, good: undefined });
    }
    if (pack.header.conditions !== options.conditions) return;
    for (const [dir, specifier, mode, target, format] of pack.header.answers) {
      if (!managed(`${dir}/`) || !managed(target)) continue;
      this.#answers.set(`${join(root, dir)}\0${specifier}\0${mode}`, { path: join(root, target), format });
    }
  }

  /** Whether the recorded program loaded any ES module (it then needs ES module hooks). */
  get hasModules(): boolean {
    for (const entry of this.#modules.values()) if (entry.format === 'module') return true;
    return false;
  }

  get size(): number {
    return this.#modules.size;
  }

  /** The recorded format of a packed path, without checking or counting anything. */
  formatOf(path: string): ModuleFormat | undefined {
    return this.#broken ? undefined : this.#modules.get(path)?.format;
  }

  /**
   * The source of `path` when packed, with `format` among `formats` and passing the checks in
   * force; else undefined (the caller reads the disk). Counts a hit or a stale module.
   */
  source(path: string, formats: readonly ModuleFormat[]): Served | undefined {
    const entry = this.#modules.get(path);
    if (entry === undefined || this.#broken || !formats.includes(entry.format)) return undefined;
    if (entry.good === undefined) entry.good = this.#check(entry, path);
    if (!entry.good) {
      this.counts.stale++;
      return undefined;
    }
    this.counts.hits++;
    (globalThis as Record<symbol, ((path: string) => void) | undefined>)[profileKey]?.(path);
    return { format: entry.format, source: this.#body.toString('utf8', entry.offset, entry.offset + entry.size) };
  }

  /** The recorded answer for `specifier` required (`r`) or imported (`i`) from a file in `dir`. */
  answer(dir: string, specifier: string, mode: 'r' | 'i'): Answer | undefined {
    if (this.#broken) return undefined;
    const found = this.#answers.get(`${dir}\0${specifier}\0${mode}`);
    if (found === undefined) return undefined;
    if (this.#verify) {
      // The target must still be there (and, when packed, unchanged) before Node is told to load it.
      const entry = this.#modules.get(found.path);
      if (entry !== undefined) {
        if (entry.good === undefined) entry.good = this.#check(entry, found.path);
        if (!entry.good) return undefined;
      } else if (!isFile(found.path)) return undefined;
    }
    return found;
  }

  #check(entry: Entry, path: string): boolean {
    if ((this.#verify || !managed(entry.rel)) && !sameFile(path, entry.size, entry.mtime)) return false;
    if (checksum(this.#body, entry.offset, entry.size) !== entry.sum) {
      // A body that fails its checksum says the file is corrupt: serve nothing more from it.
      this.#broken = true;
      return false;
    }
    return true;
  }
}
