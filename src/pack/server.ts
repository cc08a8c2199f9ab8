// The pack in memory for one process: module sources by absolute path and resolution answers
// by (parent directory, specifier, mode), each checked before it is handed out. Knows nothing
// about Node's loaders: the hooks in hooks.ts ask it and count what it says.
import type { StartFacts } from '../loader/entry.js';
import { debug } from '../debug.js';
import { foreignStackFormatter } from '../loader/stacks.js';
import { sharedState } from '../shared-state.js';
import { bufferBody, checksum, type ModuleFormat, type PackBody, type PackHeader, type StoredWatch } from './format.js';
import { exists, isFile, managed, sameFile, sameOrMeansSame } from './freshness.js';
import { folderStat } from '../locations/stamps.js';

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
  /** Packed CommonJS compiled from the pack's V8 code cache (Node 20, loader/commonjs-compiler.ts). */
  codeCache: number;
  /** Code caches V8 turned down (another V8 or other V8 flags): the rest compile as usual. */
  codeCacheRejected: number;
  /** Packed modules left to Node because another tool's hooks must see them as written (loader/foreign-hooks.ts). */
  foreign: number;
}

export function newPackCounts(): PackCounts {
  return { hits: 0, misses: 0, stale: 0, answers: 0, unanswered: 0, codeCache: 0, codeCacheRejected: 0, foreign: 0 };
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
  /** [offset, length, checksum] of its V8 code cache, when it has one. */
  readonly cache: readonly [number, number, number] | undefined;
  /** undefined: not checked yet; then whether the cache's checksum held. */
  cacheGood: boolean | undefined;
  /** [offset, length, checksum] of its learned-deferral source, served in its place. */
  lazy: readonly [number, number, number] | undefined;
  /** Requires that source loads at first use. */
  deferred: readonly string[] | undefined;
  /** First-party files those requires went to when packed (root-relative). */
  watch: readonly StoredWatch[] | undefined;
  /** undefined: not checked yet; then whether every watched file is as packed (else the module
   *  is served as written: deferring a changed, moved or broken file is not what was learned). */
  lazyGood: boolean | undefined;
  /** Its file was found as packed when a rewrite that defers it was served: a deferred require
   *  loads what was there then, as the require at load did, not what the program wrote since. */
  heldAtServe?: boolean;
  /** Served once in this process: a program that loads it again (`delete require.cache[…]`) may have changed it since. */
  served?: boolean;
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
  readonly #body: PackBody;
  /** By root-relative path: the absolute paths a run asks about are made relative, not the other way round. */
  readonly #header: PackHeader;
  readonly #inBody: (offset: number, length: number) => boolean;
  /** Root-relative path -> its row in the header's modules, and in its learned-deferral rows. */
  readonly #rows = new Map<string, number>();
  /** Verify mode: whether every packed file is as packed (#watchedFresh); undefined until a rewrite is asked for. */
  #packedUnchanged: boolean | undefined;
  readonly #lazyRows = new Map<string, number>();
  /** The entries made so far (#module). */
  readonly #entries = new Map<string, Entry>();
  /** Root-relative directory -> the rows of the header's answers recorded from it. */
  readonly #answers = new Map<string, number[]>();
  readonly #root: string;
  readonly #rootSlash: string;
  readonly #verify: boolean;
  /** Installed modules are checked one by one at first load too (freshness.ts checksInstalled). */
  readonly #checkInstalled: boolean;
  readonly #trusted: boolean;
  readonly counts: PackCounts;
  /** `<node version>-<arch>` of the V8 that made the code caches; '' when there are none or the pack moved. */
  readonly codeCacheTag: string;
  /** PackHeader.deferUsers: undefined when the pack does not know. */
  readonly deferUsers: number | undefined;
  /** How many of the packed modules are ES modules, and how many CommonJS. */
  esModules = 0;
  commonJsModules = 0;
  #broken = false;
  /** Why the pack stopped serving part-way through this run (a corrupt row or body), if it did. */
  brokenReason: string | undefined;
  /** Start-up facts (pack/start-facts.ts), root-relative. */
  readonly #realPaths = new Map<string, string>();
  readonly #json = new Map<string, { readonly value: unknown } | null>();

  /**
   * `root` is the project root of this run (a real path), which need not be where the pack was
   * built. Answers are kept only when recorded under the same conditions, and only between
   * files inside node_modules: those change only through the package manager, which the
   * start-up stamps watch. The program's own files are resolved by the index or Node.
   */
  /** Serve learned-deferral sources (off under COLDSTART_EAGER). */
  readonly #lazy: boolean;
  /** This process runs a program the rewrites were learned from (open-at-start.ts lazyRecorded). */
  #forThisProgram: boolean;
  /** Requires made lazy in the modules served so far (learned deferral). */
  deferredRequires = 0;
  /** Learned-deferral rewrites not served because what they were learned on changed (or source maps are on). */
  rewritesAsWritten = 0;
  /** Whether some ES module has a learned-deferral source: its stand-in imports need the defer hooks. */
  hasLazyModules = false;
  /** Set by the pack's hooks when they answer the stand-ins themselves (pack/provider.ts). */
  servesStandIns = false;

  constructor(pack: { readonly header: PackHeader; readonly body: Buffer | PackBody }, root: string, options: { verify: boolean; checkInstalled?: boolean; conditions: string; counts: PackCounts; lazy?: boolean; trusted?: boolean; forThisProgram?: boolean }) {
    this.#lazy = options.lazy ?? true;
    this.#forThisProgram = options.forThisProgram ?? true;
    this.#body = Buffer.isBuffer(pack.body) ? bufferBody(pack.body) : pack.body;
    this.#verify = options.verify;
    this.#checkInstalled = options.verify || options.checkInstalled === true;
    this.#trusted = options.trusted ?? false;
    this.counts = options.counts;
    this.#root = root;
    this.#rootSlash = root.endsWith('/') ? root : `${root}/`;
    const bodyLength = this.#body.length;
    const inBody = (offset: number, length: number): boolean => offset >= 0 && length >= 0 && offset + length <= bodyLength && offset % 4 === 0;
    // Node 20's V8 keeps the file names a cache was made with (its stack traces would name the
    // recorded paths): a pack used from another place serves its sources without caches.
    this.codeCacheTag = typeof pack.header.codeCache === 'string' && pack.header.root === root ? pack.header.codeCache : '';
    this.deferUsers = typeof pack.header.deferUsers === 'number' ? pack.header.deferUsers : undefined;
    // Indexed loops, not destructuring: this runs once per start, in the interpreter, where
    // array destructuring walks an iterator per row (docs/decisions/startup-costs.md#where-a-start-goes).
    // Rows are only indexed here; each becomes an entry, checked, when a run first asks for it: a
    // lazy pack holds every module of the recorded run, and a served run loads few of them.
    this.#header = pack.header;
    this.#inBody = inBody;
    const modules = pack.header.modules;
    for (let i = 0; i < modules.length; i++) {
      const row = modules[i]!;
      if (typeof row[0] !== 'string') throw new Error(`corrupt module entry ${String(row[0])}`);
      this.#rows.set(row[0], i);
      if (row[1] === 'module') this.esModules++;
      else if (row[1] === 'commonjs') this.commonJsModules++;
    }
    const lazy = pack.header.lazy ?? [];
    for (let i = 0; i < lazy.length; i++) {
      const rel = lazy[i]![0];
      const at = this.#rows.get(rel);
      if (at === undefined) throw new Error(`corrupt learned-deferral entry ${String(rel)}`);
      this.#lazyRows.set(rel, i);
      // Under COLDSTART_EAGER no rewritten source is served, so no stand-in is ever imported.
      if (modules[at]![1] === 'module' && this.#lazy && this.#forThisProgram) this.hasLazyModules = true;
    }
    for (const row of pack.header.starts ?? []) {
      const [entry, real, files] = row;
      if (typeof entry !== 'string' || typeof real !== 'string' || !Array.isArray(files)) throw new Error('corrupt start-up entry');
      this.#realPaths.set(entry, real);
      for (const [file, value] of files) {
        if (typeof file !== 'string' || typeof value !== 'object') throw new Error(`corrupt start-up entry ${entry}`);
        this.#json.set(file, value === null ? null : { value });
      }
    }
    if (pack.header.conditions !== options.conditions) return;
    // By directory: a lookup compares the few answers recorded from its directory.
    const answers = pack.header.answers;
    for (let i = 0; i < answers.length; i++) {
      const dir = answers[i]![0];
      const list = this.#answers.get(dir);
      if (list === undefined) this.#answers.set(dir, [i]);
      else list.push(i);
    }
  }

  /** The entry of the module packed at root-relative `rel`, made and checked at its first use; undefined when none or its row is corrupt. */
  #module(rel: string): Entry | undefined {
    let entry = this.#entries.get(rel);
    if (entry !== undefined) return entry;
    const at = this.#rows.get(rel);
    if (at === undefined) return undefined;
    const row = this.#header.modules[at] as [string, ModuleFormat, number, number, number, number, number?, number?, number?];
    const format = row[1];
    const size = row[2];
    const offset = row[4];
    const cacheOffset = row[6];
    const cacheLength = row[7];
    const inBody = this.#inBody;
    let corrupt = !inBody(offset, size);
    let cache: Entry['cache'];
    if (cacheOffset !== undefined) {
      if (!inBody(cacheOffset, cacheLength!) || format !== 'commonjs') corrupt = true;
      cache = [cacheOffset, cacheLength!, row[8]!];
    }
    entry = { rel, format, size, mtime: row[3], offset, sum: row[5], good: undefined, cache, cacheGood: undefined, lazy: undefined, deferred: undefined, watch: undefined, lazyGood: undefined };
    const lazyAt = this.#lazyRows.get(rel);
    if (lazyAt !== undefined) {
      const lazy = this.#header.lazy![lazyAt]!;
      const watch = lazy[5];
      if ((format !== 'commonjs' && format !== 'module') || !inBody(lazy[1], lazy[2]) || !Array.isArray(lazy[4]) || (watch !== undefined && !Array.isArray(watch))) corrupt = true;
      entry.lazy = [lazy[1], lazy[2], lazy[3]];
      entry.deferred = lazy[4];
      entry.watch = watch;
    }
    if (corrupt) {
      // The header passed its checksum, so only a faulty writer makes such a row: serve nothing more.
      this.brokenReason = `${rel} has a corrupt entry in the pack: serving nothing more from it (rebuild it with coldstart pack)`;
      debug('pack', this.brokenReason);
      this.#broken = true;
      return undefined;
    }
    this.#entries.set(rel, entry);
    return entry;
  }

  /** `path` relative to the root ('' for the root itself); undefined outside it. */
  #relative(path: string): string | undefined {
    if (path.startsWith(this.#rootSlash)) return path.slice(this.#rootSlash.length);
    return path === this.#root ? '' : undefined;
  }

  #entry(path: string): Entry | undefined {
    const rel = this.#relative(path);
    return rel === undefined ? undefined : this.#module(rel);
  }

  /** What the pack recorded about its entries, for start-up code to ask before the disk; undefined when nothing. */
  get startFacts(): StartFacts | undefined {
    if (this.#realPaths.size === 0) return undefined;
    return {
      realPath: (entry) => {
        const rel = this.#relative(entry);
        const real = rel === undefined ? undefined : this.#realPaths.get(rel);
        return real === undefined ? undefined : `${this.#rootSlash}${real}`;
      },
      json: (file) => {
        const rel = this.#relative(file);
        return rel === undefined ? undefined : this.#json.get(rel);
      },
    };
  }

  /** Whether the recorded program loaded any ES module (it then needs ES module hooks). */
  get hasModules(): boolean {
    return this.esModules > 0;
  }

  /** Bytes of module sources and caches read from the pack file so far. */
  get bytesRead(): number {
    return this.#body.bytesRead ?? 0;
  }

  get size(): number {
    return this.#rows.size;
  }

  /** The recorded format of a packed path, without checking or counting anything. */
  packedFormat(path: string): ModuleFormat | undefined {
    return this.#broken ? undefined : this.#entry(path)?.format;
  }

  /**
   * The source of `path` when packed, with `format` among `formats` and passing the checks in
   * force; else undefined (the caller reads the disk). Counts a hit or a stale module.
   */
  source(path: string, formats: readonly ModuleFormat[]): Served | undefined {
    const entry = this.#entry(path);
    if (entry === undefined || this.#broken || !formats.includes(entry.format)) return undefined;
    if (entry.lazy !== undefined && entry.lazyGood === undefined) {
      entry.lazyGood = this.#watchedFresh(entry) && !this.#mapsShift(entry);
      if (!entry.lazyGood && this.#lazy) this.rewritesAsWritten++;
    }
    if (entry.good === undefined) entry.good = this.#check(entry, path);
    // Loaded again (an import-fresh of a config the program just saved): a file of the project's
    // own is asked again, and one changed since is read from the disk, as Node would.
    const again = entry.served === true && !this.#trusted && !managed(entry.rel) && !sameFile(path, entry.size, entry.mtime);
    if (!entry.good || again) {
      this.counts.stale++;
      return undefined;
    }
    // The watch check may have found another row corrupt: then nothing more comes from the pack.
    if (this.#broken) return undefined;
    entry.served = true;
    this.counts.hits++;
    const served = this.#servesLazy(entry)
      ? { format: entry.format, source: this.#body.bytes(entry.lazy![0], entry.lazy![1]).toString('utf8') }
      : { format: entry.format, source: this.#body.bytes(entry.offset, entry.size).toString('utf8') };
    if (this.#servesLazy(entry)) this.deferredRequires += entry.deferred!.length;
    sharedState().profiler?.packServed(path, served.source.length);
    return served;
  }

  /**
   * The V8 code cache of `path`, a module `source` has just served; undefined when it has none
   * or the cache fails its checksum (release builds of V8 do not check one: a corrupt cache
   * must never reach it).
   */
  codeCache(path: string): Buffer | undefined {
    const entry = this.#entry(path);
    const cache = entry?.cache;
    if (cache === undefined || this.#broken || entry!.good !== true || this.#servesLazy(entry!)) return undefined;
    const bytes = this.#body.bytes(cache[0], cache[1]);
    if (entry!.cacheGood === undefined) entry!.cacheGood = checksum(bytes, 0, cache[1]) === cache[2];
    return entry!.cacheGood ? bytes : undefined;
  }

  /** The recorded answer for `specifier` required (`r`) or imported (`i`) from a file in `dir`. */
  answer(dir: string, specifier: string, mode: 'r' | 'i'): Answer | undefined {
    if (this.#broken) return undefined;
    const relDir = this.#relative(dir);
    if (relDir === undefined) return undefined;
    // A packed file inside node_modules required by its absolute (real) path, as a stand-in's
    // first use requires its target, is its own answer (its format left to Node) while it is
    // still there, as Node would find it (one stat). No condition or flag changes where a real
    // path leads, so a pack recorded under others answers this too.
    const own = mode === 'r' && specifier.startsWith(this.#rootSlash) ? this.#module(specifier.slice(this.#rootSlash.length)) : undefined;
    const stored = own !== undefined && isFile(specifier) ? ([own.rel, ''] as const) : this.#recorded(relDir, specifier, mode);
    if (this.#broken) return undefined;
    // Kept only between files inside node_modules, which the start-up stamps watch.
    if (stored === undefined || !managed(`${relDir}/`) || !managed(stored[0])) return undefined;
    const found: Answer = { path: this.#rootSlash + stored[0], format: stored[1] };
    if (this.#verify) {
      // The target must still be there (and, when packed, unchanged) before Node is told to load it.
      const entry = this.#module(stored[0]);
      if (entry !== undefined) {
        if (entry.good === undefined) entry.good = this.#check(entry, found.path);
        if (!entry.good) return undefined;
      } else if (!isFile(found.path)) return undefined;
    }
    return found;
  }

  /** [root-relative target, format] recorded for `specifier` from `relDir` in `mode`. */
  #recorded(relDir: string, specifier: string, mode: 'r' | 'i'): readonly [string, string] | undefined {
    const list = this.#answers.get(relDir);
    if (list === undefined) return undefined;
    const answers = this.#header.answers;
    for (let i = 0; i < list.length; i++) {
      const row = answers[list[i]!]!;
      if (row[1] === specifier && row[2] === mode) return [row[3], row[4]];
    }
    return undefined;
  }

  /** Whether `path` is packed with a learned-deferral rewrite that `source` would serve. */
  servesRewrite(path: string): boolean {
    const entry = this.#entry(path);
    return entry !== undefined && this.#servesLazy(entry);
  }

  /**
   * Whether the rewrites are for the program this process now runs: a program started in this
   * process after activation (`coldstart profile` runs `node <script>` in its own process) is
   * decided again. An ES module's rewrite needs the stand-in hooks, installed at activation only
   * for a recorded program, so only CommonJS rewrites follow a later decision.
   */
  serveRewritesFor(recorded: boolean): void {
    this.#forThisProgram = recorded;
  }

  /** Whether this process runs a program a lazy pack was recorded from (never learned small beside it). */
  get recordedProgram(): boolean {
    return this.#forThisProgram && this.#lazyRows.size > 0;
  }

  /** Whether `entry` is served from its learned-deferral source (which is then the one checked). */
  #servesLazy(entry: Entry): boolean {
    return this.#lazy && this.#forThisProgram && entry.lazy !== undefined && entry.lazyGood !== false && (entry.format !== 'module' || this.hasLazyModules);
  }

  /**
   * Whether source maps are on (--enable-source-maps, process.setSourceMapsEnabled), or another
   * tool formats stacks (source-map-support, installed by ts-node too), and the rewrite names a
   * map: the map describes the original text, and the rewrite's longer lines would send a stack
   * position to another original line and function (a minified one-line file). Such a module is
   * served as written; without source maps, only columns shift. A tool installed after a module
   * was served maps that module's frames from the rewrite.
   */
  #mapsShift(entry: Entry): boolean {
    if ((process as { sourceMapsEnabled?: boolean }).sourceMapsEnabled !== true && !foreignStackFormatter()) return false;
    const [offset, length] = entry.lazy!;
    if (!this.#body.bytes(offset, length).includes('sourceMappingURL=')) return false;
    debug('pack', `${entry.rel} names a source map and source maps are on: served as written, its requires eager`);
    return true;
  }

  /**
   * Whether the package.json files that decided first-party `rel`'s recorded format are as
   * packed (a nested `"type"` added or changed): one stat per path, once per directory.
   */
  #scopeHolds(rel: string): boolean {
    const dir = rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '';
    let holds = this.#scopes.get(dir);
    if (holds !== undefined) return holds;
    if (this.#scopeRows === undefined) {
      this.#scopeRows = new Map();
      for (const row of this.#header.scopes ?? []) if (Array.isArray(row) && typeof row[0] === 'string' && Array.isArray(row[1])) this.#scopeRows.set(row[0], [row[1], row[2]]);
    }
    holds = true;
    const row = this.#scopeRows.get(dir);
    const passed = Array.isArray(row?.[0]) ? (row[0] as unknown[]) : [];
    const nearest = Array.isArray(row?.[1]) ? (row[1] as unknown[]) : undefined;
    // Folders are shared with their parents' rows and with the index's checks: each is stat'ed once.
    for (const folder of passed) {
      const [rel, changed] = folder as [unknown, unknown];
      let same = this.#scopeFiles.get(String(rel));
      if (same === undefined) {
        const path = this.#rootSlash + String(rel);
        // Changed for any reason (a file saved there): then only a package.json there counts.
        same = typeof rel === 'string' && (folderStat(path)?.ctimeMs === changed || !isFile(`${path}/package.json`));
        this.#scopeFiles.set(String(rel), same);
      }
      if (same) continue;
      holds = false;
      debug('pack', `${String(rel)}/package.json appeared since packing, and may change the format of the modules in ${dir}: those are read from disk`);
      break;
    }
    if (holds && nearest !== undefined) {
      const [file, mtime, size, meaning] = nearest as [unknown, unknown, unknown, unknown];
      let same = this.#scopeFiles.get(String(file));
      if (same === undefined) {
        same = typeof file === 'string' && typeof mtime === 'number' && typeof size === 'number' && sameOrMeansSame(this.#rootSlash + file, size, mtime, meaning);
        this.#scopeFiles.set(String(file), same);
      }
      if (!same) {
        holds = false;
        debug('pack', `${String(file)} changed since packing, and may change the format of the modules in ${dir}: those are read from disk`);
      }
    }
    this.#scopes.set(dir, holds);
    return holds;
  }

  #scopeRows: Map<string, unknown[]> | undefined;
  readonly #scopes = new Map<string, boolean>();
  readonly #scopeFiles = new Map<string, boolean>();
  readonly #watchedPaths = new Map<string, boolean>();

  /** Whether the first-party files `entry`'s rewrite defers are still the ones packed. */
  #watchedFresh(entry: Entry): boolean {
    // Verify mode also re-judges what node_modules holds, which the stamps alone take as packed:
    // a packed file edited in place voids every rewrite (one stat of each, at the first rewrite).
    if (this.#verify) {
      this.#packedUnchanged ??= this.#header.modules.every((row) => sameFile(this.#rootSlash + row[0], row[2], row[3]));
      if (!this.#packedUnchanged) {
        debug('pack', `a packed file changed since packing (COLDSTART_PACK_VERIFY=1): ${entry.rel} is served as written, its requires eager`);
        return false;
      }
    }
    for (const watched of entry.watch ?? []) {
      if (Array.isArray(watched)) {
        // What decided where a require went: a path that held no file (Node's probes take files
        // only), or a package.json Node read, unchanged.
        const [rel, mtime, size, meaning] = watched as [unknown, unknown, unknown, unknown];
        const path = this.#rootSlash + String(rel);
        // Rewrites share what they watch (a package.json, a folder): each is asked once per run.
        const key = `${String(rel)}\0${String(mtime)}\0${String(size)}`;
        let holds = this.#watchedPaths.get(key);
        if (holds === undefined) {
          holds =
            typeof rel === 'string' &&
            (size === undefined ? (mtime === -1 ? !isFile(path) : mtime === -2 && !exists(path)) : typeof mtime === 'number' && typeof size === 'number' && sameOrMeansSame(path, size, mtime, meaning));
          this.#watchedPaths.set(key, holds);
        }
        if (!holds) {
          debug('pack', `${String(rel)} changed since packing, and may change what a require of ${entry.rel} finds: ${entry.rel} is served as written, its requires eager`);
          return false;
        }
        continue;
      }
      const target = typeof watched === 'string' ? this.#module(watched) : undefined;
      // Its format too: a target that now loads as an ES module (a nested "type") must fail where it did.
      if (target === undefined || !sameFile(this.#rootSlash + watched, target.size, target.mtime) || (!this.#trusted && !this.#scopeHolds(target.rel))) {
        debug('pack', `${String(watched)} changed since packing: ${entry.rel} is served as written, its requires eager`);
        return false;
      }
    }
    for (const watched of entry.watch ?? []) if (typeof watched === 'string') this.#module(watched)!.heldAtServe = true;
    return true;
  }

  #check(entry: Entry, path: string): boolean {
    // A shared install's own files were checked at pack time (settings.ts sharedInstall).
    if (entry.heldAtServe !== true) {
      if ((this.#checkInstalled || (!this.#trusted && !managed(entry.rel))) && !sameFile(path, entry.size, entry.mtime)) return false;
      if (!this.#trusted && !managed(entry.rel) && !this.#scopeHolds(entry.rel)) return false;
    }
    // The bytes that will be served are checked, and only those: a run never reads the other copy.
    const [offset, length, sum] = this.#servesLazy(entry) ? entry.lazy! : [entry.offset, entry.size, entry.sum];
    if (checksum(this.#body.bytes(offset, length), 0, length) !== sum) {
      // A body that fails its checksum says the file is corrupt: serve nothing more from it.
      this.brokenReason = `${entry.rel} fails its checksum in the pack: the pack is corrupt, serving nothing more from it (rebuild it with coldstart pack)`;
      debug('pack', this.brokenReason);
      this.#broken = true;
      return false;
    }
    return true;
  }
}
