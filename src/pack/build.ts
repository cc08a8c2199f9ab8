// Builds a pack from recordings: merges what every recorded process loaded and resolved, keeps
// files under the project root, reads each file once (stat, read, stat again: a file that
// changed meanwhile is left out) and writes the pack atomically.
import { existsSync, lstatSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { SKIPPABLE_BYTES, SMALL_RUN_MODULES, watchFiles, type StoredAside } from '../step-aside.js';
import { usesDeferredImport } from '../defer/detect.js';
import { checksum, encodePack, type ModuleFormat, type StoredAnswer, type StoredScope, type StoredWatch } from './format.js';
import { collectStamps, managed } from './freshness.js';
import { callsImportOrEval, type ParseSync } from './cache-check.js';
import { detectFormat, type ModuleSyntaxParse } from './packages.js';
import type { Recording } from './record-preload.js';
import { writeFileAtomic } from '../store.js';
import { type Covered, neverRanIn } from './coverage.js';
import { learnDeferral } from './learn.js';
import { startFacts } from './start-facts.js';
import { meaningAt } from '../package-meaning.js';
import type { PackMade } from './rebuild.js';

export interface BuildSummary {
  readonly file: string;
  readonly processes: number;
  readonly modules: number;
  readonly answers: number;
  readonly bytes: number;
  readonly sourceBytes: number;
  /** Loaded files outside the root, or that changed or vanished while packing. */
  readonly skipped: number;
  /** Modules larger than LARGE_MODULE left on disk (no rewrite or code cache to serve). */
  readonly leftOnDisk: number;
  /** Recorded entries whose runs are too small for serving to pay: coldstart steps aside for them. */
  readonly aside: { entry: string; modules: number }[];
  /** CommonJS modules stored with a V8 code cache (Node 20), their bytes, and whose V8. */
  readonly codeCacheModules: number;
  readonly codeCacheBytes: number;
  readonly codeCacheTag: string;
  /** Learned deferral (--lazy): modules rewritten, requires made lazy, candidates refused by reason. */
  readonly lazy?: {
    readonly modules: number;
    readonly requires: number;
    readonly analyzed: number;
    readonly refused: Record<string, number>;
    readonly refusals: { module: string; specifier: string; reason: string }[];
  };
  readonly ms: number;
}

const formats = new Set<string>(['commonjs', 'module', 'json']);

/**
 * A module larger than this is left on disk unless the pack holds a rewrite or a code cache
 * for it: the pack reads such a module on its own anyway, so serving it saves only an open and
 * a package.json lookup, while its bytes sit beside its source string (tsc --version: +7 MiB
 * peak RSS, docs/decisions/startup-costs.md#large-modules-stay-on-disk).
 */
export const LARGE_MODULE = 1024 * 1024;

/** A recording as read back, with the code caches its process wrote (Node 20). */
export interface ReadRecording extends Recording {
  caches?: Map<string, { readonly data: Buffer; readonly sourceSum: number }>;
  /** The recorded process's pid (its file's name), to match its V8 coverage. */
  pid?: number;
}

/**
 * Reads every recording in `dir`: the main-thread JSON files, Node 20's off-thread lines and
 * code caches.
 */
export function readRecordings(dir: string): ReadRecording[] {
  const out: ReadRecording[] = [];
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.json')) continue;
    try {
      const recording = JSON.parse(readFileSync(join(dir, name), 'utf8')) as Recording;
      const esm = join(dir, name.replace(/\.json$/, '.esm.jsonl'));
      if (existsSync(esm)) {
        for (const line of readFileSync(esm, 'utf8').split('\n')) {
          if (line === '') continue;
          const row = JSON.parse(line) as (string | number)[];
          if (row[0] === 'm') recording.modules.push(typeof row[3] === 'number' ? [row[1] as string, row[2] as string, row[3]] : [row[1] as string, row[2] as string]);
          else if (row[0] === 'r') recording.answers.push([row[1], row[2], row[3], row[4]] as [string, string, string, string]);
        }
      }
      const pid = Number(name.slice(0, -'.json'.length));
      if (Number.isInteger(pid)) (recording as ReadRecording).pid = pid;
      out.push(recording);
      if (recording.codeCache !== undefined) {
        // Caches are an extra: a missing or short file leaves the recording without them.
        try {
          const bytes = readFileSync(join(dir, name.replace(/\.json$/, '.v8cache')));
          const caches = new Map<string, { data: Buffer; sourceSum: number }>();
          let at = 0;
          for (const [path, length, sourceSum] of recording.codeCache.entries) {
            if (at + length > bytes.length) throw new Error('short cache file');
            caches.set(path, { data: bytes.subarray(at, at + length), sourceSum });
            at += length;
          }
          (recording as ReadRecording).caches = caches;
        } catch {
          // no caches from this process
        }
      }
    } catch {
      // A process killed while writing leaves nothing usable: the others still count.
    }
  }
  return out;
}

/**
 * `parse` (oxc-parser's parseSync) decides which CommonJS keeps its code cache; without it,
 * none does.
 */
export function buildPack(options: {
  root: string;
  file: string;
  recordings: ReadRecording[];
  conditions: string;
  parse?: ParseSync | undefined;
  /** Files of whole packages (packages.ts); a recorded format wins over theirs. */
  packageFiles?: readonly [string, ModuleFormat | 'detect'][] | undefined;
  /** Tells the format of package files listed as 'detect'. */
  detect?: ModuleSyntaxParse | undefined;
  /** Learned deferral: store a rewritten source for CommonJS modules whose requires can load at first use. */
  lazy?: boolean | undefined;
  /** Files kept eager whatever learned deferral finds (the `coldstart.eager` configuration). */
  keepEager?: ((path: string) => boolean) | undefined;
  /** For learned deferral: the recorded runs' V8 coverage (function call counts), by absolute path (coverage.ts). */
  coverage?: ReadonlyMap<string, Covered[]> | undefined;
  /** The index's count of installed packages that use `import defer` (PackHeader.deferUsers). */
  deferUsers?: number | undefined;
  /** Whether the program at an entry's directory has an auto-defer configuration (its runs need the core). */
  defersAt?: ((dir: string) => boolean) | undefined;
  /** Serve every recorded entry, however small its run (`--always`). */
  always?: boolean | undefined;
  /** The conditions key of a run with no resolution flags (conditionsKey()); rows only for runs that had it. */
  plainConditions?: string | undefined;
  /** `coldstart pack`'s arguments and working folder, for the rebuild hint (rebuild.ts). */
  made?: PackMade | undefined;
}): BuildSummary {
  const start = performance.now();
  const { root, file } = options;
  const inRoot = (path: string): string | undefined => {
    const rel = relative(root, path);
    return rel === '' || rel.startsWith('..') || rel.startsWith(sep) ? undefined : rel.split(sep).join('/');
  };
  const loaded = new Map<string, string>(options.packageFiles ?? []);
  // The sources Node compiled, where a recording saw them: a file another loader transformed
  // (tsx, a require hook) is not what a run without that loader would run.
  const compiledSums = new Map<string, Set<number>>();
  for (const recording of options.recordings) {
    for (const [path, format, sum] of recording.modules) {
      loaded.set(path, format);
      if (sum !== undefined) compiledSums.set(path, (compiledSums.get(path) ?? new Set()).add(sum));
    }
  }

  // Code caches of one V8 only (the first recording's): a pack is served by one Node at a time.
  const codeCacheTag = options.recordings.find((r) => r.caches !== undefined)?.codeCache?.tag ?? '';
  const caches = new Map<string, { data: Buffer; sourceSum: number }>();
  for (const recording of options.recordings) {
    if (recording.caches === undefined || recording.codeCache?.tag !== codeCacheTag) continue;
    for (const [path, cache] of recording.caches) if (!caches.has(path)) caches.set(path, cache);
  }

  // Stamps first: a file that changes after this point makes the pack stale, never wrong.
  const stamps = collectStamps(root);
  const modules: { path: string; format: ModuleFormat; mtime: number; bytes: Buffer; codeCache?: Buffer; lazy?: { source: Buffer; deferred: string[]; watch?: StoredWatch[] } }[] = [];
  let codeCacheModules = 0;
  let codeCacheBytes = 0;
  const packedFormat = new Map<string, string>();
  let skipped = 0;
  let sourceBytes = 0;
  for (const [path, listed] of [...loaded].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    let format = listed;
    const rel = inRoot(path);
    // A `.ts` (or any other) file ran as JavaScript only through another loader (tsx): Node's own
    // format for it differs, so it is left to Node whatever the recording said.
    if (rel === undefined || !jsExtensions.has(extname(path)) || !(formats.has(format) || (format === 'detect' && options.detect !== undefined))) {
      skipped++;
      continue;
    }
    try {
      const before = statSync(path);
      const bytes = readFileSync(path);
      const after = statSync(path);
      if (before.mtimeMs !== after.mtimeMs || before.size !== after.size || bytes.length !== after.size) throw new Error('changed while packing');
      if (!asCompiled(bytes, compiledSums.get(path))) throw new Error('transformed by another loader, or changed since it ran');
      if (format === 'detect') format = detectFormat(path, bytes.toString('utf8'), options.detect!);
      // A cache is kept only for the very bytes it was made from: V8 itself checks the length alone.
      const cache = format === 'commonjs' ? caches.get(path) : undefined;
      const codeCache =
        cache !== undefined && options.parse !== undefined && cache.sourceSum === checksum(bytes, 0, bytes.length) && !callsImportOrEval(bytes.toString('utf8'), options.parse)
          ? cache.data
          : undefined;
      if (codeCache !== undefined) {
        codeCacheModules++;
        codeCacheBytes += codeCache.length;
      }
      modules.push({ path: rel, format: format as ModuleFormat, mtime: after.mtimeMs, bytes, ...(codeCache === undefined ? {} : { codeCache }) });
      packedFormat.set(path, format);
      sourceBytes += bytes.length;
    } catch {
      skipped++;
    }
  }

  let lazySummary: BuildSummary['lazy'];
  let eagerLoads: ((path: string) => string[]) | undefined;
  if (options.lazy === true) {
    // Where each require went in the recorded runs: the graph the rules are checked on.
    const required = new Map<string, string>();
    for (const recording of options.recordings) {
      for (const [dir, specifier, mode, target] of recording.answers) required.set(`${dir}\0${specifier}\0${mode}`, target);
    }
    // Which requires found each file, for the paths a rewrite watches stay absent (lazyWatch).
    // An import names its file exactly; only its bare and `#` specifiers went through lookups.
    const edgesInto = new Map<string, [string, string][]>();
    for (const recording of options.recordings) {
      for (const [dir, specifier, mode, target] of recording.answers) {
        if (mode !== 'r' && (specifier.startsWith('.') || specifier.startsWith('/') || specifier.includes(':'))) continue;
        const list = edgesInto.get(target) ?? [];
        list.push([dir, specifier]);
        edgesInto.set(target, list);
      }
    }
    const absolute = modules.map((m) => ({ path: join(root, m.path), format: m.format, bytes: m.bytes, entry: m }));
    // Load order per recording (modules are listed as each began to evaluate).
    const orders = options.recordings.map((r) => new Map(r.modules.map(([path], i) => [path, i])));
    const loadedBefore = (a: string, b: string): boolean => {
      let seen = false;
      for (const order of orders) {
        const ib = order.get(b);
        if (ib === undefined) continue;
        const ia = order.get(a);
        if (ia === undefined || ia >= ib) return false;
        seen = true;
      }
      return seen;
    };
    // Which recorded processes loaded each module: each must have covered it for coverage to count.
    const loaders = new Map<string, number[]>();
    for (const recording of options.recordings) {
      for (const [path] of recording.modules) {
        const list = loaders.get(path) ?? [];
        list.push(recording.pid ?? -1);
        loaders.set(path, list);
      }
    }
    const learned = learnDeferral({ modules: absolute, resolve: (dir, specifier, mode) => required.get(`${dir}\0${specifier}\0${mode}`), keepEager: options.keepEager, loadedBefore,
      entries: options.recordings.map(entryModule).filter((path): path is string => path !== undefined),
      neverRan: (path) => neverRanIn(options.coverage?.get(path), loaders.get(path) ?? []),
      envWritesBack: (path) => options.recordings.every((recording) => recording.envWriters !== undefined && !recording.envWriters.includes('*') && !recording.envWriters.includes(path)),
      envChangedBy: options.recordings.flatMap((recording) => recording.envWriters ?? ['*']),
    });
    eagerLoads = learned.eagerLoads;
    let requires = 0;
    for (const m of absolute) {
      const found = learned.rewritten.get(m.path);
      if (found === undefined) continue;
      // What the decision to defer rests on is watched (node_modules is watched as a whole by the stamps).
      const watch = lazyWatch(found.targets, learned.eagerLoads, (target) => edgesInto.get(target) ?? [], (path) => {
        const r = inRoot(path);
        return r !== undefined && !managed(r) ? r : undefined;
      });
      if (watch === undefined) continue;
      m.entry.lazy = { source: found.source, deferred: found.deferred, ...(watch.length > 0 ? { watch } : {}) };
      requires += found.deferred.length;
    }
    const rel = (path: string): string => inRoot(path) ?? path;
    const refusals = learned.refusals.map((r) => ({ module: rel(r.module), specifier: r.specifier, reason: r.reason.replaceAll(`${root}/`, '') }));
    lazySummary = { modules: learned.rewritten.size, requires, analyzed: learned.analyzed, refused: Object.fromEntries(learned.refused), refusals };
  }

  // An answer seen differently by two processes (a changed tree mid-run) is not kept.
  const answers = new Map<string, StoredAnswer | null>();
  for (const recording of options.recordings) {
    if (recording.conditions !== options.conditions) continue;
    for (const [dir, specifier, mode, target] of recording.answers) {
      const relDir = dir === root ? '' : inRoot(dir);
      const relTarget = inRoot(target);
      // Only answers into node_modules, which the stamps keep fresh: first-party code (the
      // project's, a workspace's) may be moved or gain a file that Node would find first.
      if (relDir === undefined || relTarget === undefined || !managed(relTarget)) continue;
      const key = `${relDir}\0${specifier}\0${mode}`;
      const previous = answers.get(key);
      const row: StoredAnswer = [relDir, specifier, mode as 'r' | 'i', relTarget, packedFormat.get(target) ?? loaded.get(target) ?? ''];
      if (previous === undefined) answers.set(key, row);
      else if (previous !== null && previous[3] !== relTarget) answers.set(key, null);
    }
  }
  const kept = [...answers.values()].filter((row): row is StoredAnswer => row !== null);
  // After learned deferral, which reads every module, and after the answers, which keep the
  // format recorded for each: a large module is then simply not served.
  let leftOnDisk = 0;
  for (let i = modules.length - 1; i >= 0; i--) {
    const m = modules[i]!;
    if (m.bytes.length <= LARGE_MODULE || m.lazy !== undefined || m.codeCache !== undefined) continue;
    modules.splice(i, 1);
    sourceBytes -= m.bytes.length;
    leftOnDisk++;
  }
  const servedFirst = servingOrder(options.recordings, inRoot, eagerLoads);
  const starts = startFacts(root, options.recordings.map((r) => r.entry));
  const sizes = new Map(modules.map((m) => [join(root, m.path), m.bytes]));
  const aside = options.always === true ? [] : smallRuns(root, options.recordings, { deferUsers: options.deferUsers, defersAt: options.defersAt, sizes, eagerLoads, plainConditions: options.plainConditions });
  const scopes = packageScopes(root, modules.filter((m) => !managed(m.path) && scopeDecidesFormat(m.path)).map((m) => m.path));
  const lazyEntries = recordedEntries(root, options.recordings.map((r) => r.entry));
  // A program that switches Node's compile cache on itself must find it off, as without coldstart.
  const ownCache = new Set(recordedEntries(root, options.recordings.filter((r) => r.ownCompileCache === true).map((r) => r.entry)));
  const compileCacheFor = recordedEntries(root, options.recordings.map((r) => r.entry)).filter((entry) => !ownCache.has(entry));
  const bytes = encodePack({ root, node: process.version, conditions: options.conditions, stamps, modules, answers: kept, starts, lazyEntries, compileCacheFor, codeCacheTag, deferUsers: options.deferUsers, aside, scopes, servedFirst, made: options.made });
  writeFileAtomic(file, bytes);
  return {
    file,
    processes: options.recordings.length,
    modules: modules.length,
    answers: kept.length,
    bytes: bytes.length,
    sourceBytes,
    skipped,
    leftOnDisk,
    aside: aside.map(([entry, args, loadedModules]) => ({ entry: [entry, ...args].join(' '), modules: loadedModules })),
    codeCacheModules,
    codeCacheBytes,
    codeCacheTag: codeCacheModules > 0 ? codeCacheTag : '',
    ...(lazySummary === undefined ? {} : { lazy: lazySummary }),
    ms: performance.now() - start,
  };
}

/** The module a recording's entry named, by its real path (`node app` names app.js); undefined when none it loaded. */
function entryModule(recording: Recording): string | undefined {
  const entry = recording.entry;
  if (entry === undefined || entry === '') return undefined;
  // `node .` or `node dir` names a folder: its package.json's main, else index.js.
  let main: string | undefined;
  try {
    const field = JSON.parse(readFileSync(join(entry, 'package.json'), 'utf8'))?.main;
    if (typeof field === 'string') main = join(entry, field);
  } catch {
    // no package.json there, or no main
  }
  for (const named of [entry, `${entry}.js`, `${entry}.cjs`, `${entry}.mjs`, ...(main === undefined ? [] : [main, `${main}.js`, join(main, 'index.js')]), `${entry}/index.js`]) {
    try {
      const real = realpathSync(named);
      if (recording.modules.some(([path]) => path === real)) return real;
    } catch {
      // not this one
    }
  }
  return undefined;
}

/**
 * The order in which a served run reads modules, root-relative, for the body's layout: with
 * learned deferral, first what each recorded entry loads as it starts once rewritten, then the
 * rest of what the runs loaded; each part in the order the runs loaded it. A served run of
 * `eslint --version` read 3.2 MB of its lazy pack in 1 MiB windows when modules lay by path.
 */
function servingOrder(recordings: readonly Recording[], inRoot: (path: string) => string | undefined, eagerLoads: ((path: string, original?: boolean) => string[]) | undefined): string[] {
  const order: string[] = [];
  const seen = new Set<string>();
  const add = (path: string): void => {
    const rel = inRoot(path);
    if (rel !== undefined && !seen.has(rel)) {
      seen.add(rel);
      order.push(rel);
    }
  };
  if (eagerLoads !== undefined) {
    for (const recording of recordings) {
      const reached = new Set<string>();
      const queue: string[] = [];
      try {
        if (recording.entry !== undefined && recording.entry !== '') queue.push(realpathSync(recording.entry));
      } catch {
        // an entry gone since its run
      }
      while (queue.length > 0) {
        const at = queue.pop()!;
        if (reached.has(at)) continue;
        reached.add(at);
        queue.push(...eagerLoads(at, false));
      }
      for (const [path] of recording.modules) if (reached.has(path)) add(path);
    }
  }
  for (const recording of recordings) for (const [path] of recording.modules) add(path);
  return order;
}

/**
 * The recorded programs (entry and arguments) whose every run loaded fewer than SMALL_RUN_MODULES
 * modules: on a local disk a run of one gets plain Node (src/step-aside.ts). Never when the
 * program may need the core's transforms (installed packages or first-party modules that use
 * `import defer`, the index's count unknown, an auto-defer configuration), nor when learned
 * deferral lets it skip SKIPPABLE_BYTES of source or more. Each row watches the files whose
 * change voids it: the entry, the first-party modules the runs loaded, and what the
 * configuration lookup reads.
 */
function smallRuns(
  root: string,
  recordings: readonly Recording[],
  facts: {
    deferUsers: number | undefined;
    defersAt: ((dir: string) => boolean) | undefined;
    sizes: Map<string, Buffer>;
    eagerLoads: ((path: string, original?: boolean) => string[]) | undefined;
    plainConditions: string | undefined;
  },
): StoredAside[] {
  if (facts.deferUsers !== 0) return [];
  const rel = (path: string): string | undefined => (path.startsWith(`${root}/`) ? path.slice(root.length + 1) : undefined);
  const firstParty = (path: string): boolean => {
    const r = rel(path);
    return r !== undefined && !managed(r);
  };
  for (const [path, bytes] of facts.sizes) if (firstParty(path) && usesDeferredImport(bytes.toString('utf8'))) return [];
  const runs = new Map<string, { entry: string; args: string[]; conditions: string; count: number; files: Set<string>; small: boolean }>();
  for (const recording of recordings) {
    const entry = recording.entry;
    if (entry === undefined || entry === '' || rel(entry) === undefined) continue;
    const args = recording.args ?? [];
    const key = JSON.stringify([entry, ...args]);
    const run = runs.get(key) ?? { entry, args, conditions: recording.conditions, count: 0, files: new Set<string>(), small: true };
    runs.set(key, run);
    run.count = Math.max(run.count, recording.modules.length);
    // Runs under other conditions may load other files; an ES module program of the project's
    // own gets the defer transform for every file it loads, recorded or not.
    // The register loader steps aside only for runs with no resolution flags, as these were.
    if (recording.modules.length >= SMALL_RUN_MODULES || recording.conditions !== facts.plainConditions) run.small = false;
    let real = entry;
    try {
      real = realpathSync(entry);
    } catch {
      run.small = false;
    }
    if (firstParty(real) && recording.modules.some(([path, format]) => path === real && format === 'module')) run.small = false;
    for (const [path] of recording.modules) if (firstParty(path)) run.files.add(path);
    // Learned deferral may skip whole modules of this run: worth serving when they are large.
    // Skippable: what the entry loads as it starts when written, but not once rewritten (what
    // it loads later, by import() or a require in a function, is neither).
    const eagerLoads = facts.eagerLoads;
    if (eagerLoads !== undefined && run.small) {
      const reach = (original: boolean): Set<string> => {
        const reached = new Set<string>();
        const queue = [real];
        while (queue.length > 0) {
          const at = queue.pop()!;
          if (reached.has(at)) continue;
          reached.add(at);
          queue.push(...eagerLoads(at, original));
        }
        return reached;
      };
      const rewritten = reach(false);
      let skippable = 0;
      // Modules over LARGE_MODULE are no longer in the pack: their size comes from the disk.
      for (const path of reach(true)) if (!rewritten.has(path)) skippable += facts.sizes.get(path)?.length ?? statSync(path, { throwIfNoEntry: false })?.size ?? 0;
      if (skippable >= SKIPPABLE_BYTES) run.small = false;
    }
  }
  const out: StoredAside[] = [];
  for (const run of runs.values()) {
    if (!run.small) continue;
    try {
      const real = realpathSync(run.entry);
      if (facts.defersAt?.(dirname(real)) === true) continue;
      const watched = watchFiles(root, [run.entry, ...run.files], dirname(real));
      out.push([rel(run.entry)!, run.args, run.count, watched, run.conditions]);
    } catch {
      // an entry gone since its run: nothing to decide for it
    }
  }
  return out;
}

/** In probedBefore's answer: the nearest package.json above the requiring directory, and above the target. */
const NEAREST_PACKAGE_JSON = '\0nearest package.json';
const TARGET_PACKAGE_JSON = '\0target package.json';
/** In probedBefore's answer: each `node_modules/<package>` a bare require looked in before the one it found. */
const NODE_MODULES_BEFORE = '\0node_modules before';

/**
 * The `<dir>/node_modules/<package>` folders a bare require of `specifier` from `dir` looks in
 * before finding `target`. A `#` specifier's bare target is looked up from the folder of the
 * package.json that maps it, under the package name the target lies in.
 */
function modulesBefore(from: string, specifier: string, target: string): string[] {
  let dir = from;
  let name: string | undefined;
  if (specifier.startsWith('#')) {
    const at = target.lastIndexOf('/node_modules/');
    if (at === -1) return [];
    const parts = target.slice(at + 14).split('/');
    name = parts[0]!.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
    dir = dirname(packageJsonChain(from).at(-1)!);
  } else {
    const parts = specifier.split('/');
    name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
  }
  const out: string[] = [];
  for (let at = dir; ; at = dirname(at)) {
    const candidate = join(at, 'node_modules', name);
    if (target === candidate || target.startsWith(`${candidate}/`)) break;
    // The package found through a link (pnpm's, a workspace's): the target is its real path.
    const real = realOrUndefined(candidate);
    if (real !== undefined && (target === real || target.startsWith(`${real}/`))) break;
    if (basename(at) !== 'node_modules') out.push(candidate);
    if (dirname(at) === at) break;
  }
  return out;
}

/** Node's CommonJS extensions, in the order it tries them. */
const PROBED_EXTENSIONS = ['.js', '.json', '.node'];

/**
 * The paths whose state decided that `require(specifier)` from `dir` found `target`: where a
 * file would have been found first (each held none), and the directory's package.json when it
 * was read. [] for a bare specifier (node_modules is watched as a whole by the stamps);
 * undefined when the target is not where the specifier leads (a symlink on the way, which a
 * stat cannot watch being pointed elsewhere).
 */
export function probedBefore(dir: string, specifier: string, target: string): string[] | undefined {
  const relative = specifier.startsWith('./') || specifier.startsWith('../') || specifier === '.' || specifier === '..';
  // A bare or `#` specifier that found a first-party file went through package.json files: the
  // requirer's ("imports", a self-reference's "exports") and the target's own (a workspace
  // package's "main" or "exports"), the nearest above each (lazyWatch looks them up).
  if (!relative && !specifier.startsWith('/')) return [NODE_MODULES_BEFORE, NEAREST_PACKAGE_JSON, TARGET_PACKAGE_JSON];
  const asDirectory = specifier.endsWith('/') || specifier === '.' || specifier === '..';
  const base = resolve(dir, specifier);
  if (target === base && !asDirectory) return [];
  // An extension a loader added (`.ts`) comes after Node's own.
  const before = (stem: string, ext: string): string[] => {
    const at = PROBED_EXTENSIONS.indexOf(ext);
    return PROBED_EXTENSIONS.slice(0, at === -1 ? PROBED_EXTENSIONS.length : at).map((e) => stem + e);
  };
  const asFile = asDirectory ? [] : [base, ...PROBED_EXTENSIONS.map((e) => base + e)];
  const ext = target.slice(target.lastIndexOf('.'));
  if (!asDirectory && target === base + ext) return [base, ...before(base, ext)];
  if (dirname(target) === base && basename(target, ext) === 'index') return [...asFile, join(base, 'package.json'), ...before(join(base, 'index'), ext)];
  // Found through the directory's package.json "main": that file, and what Node tries before
  // the main's own file (its directories as files, with extensions; the file without one).
  if (target.startsWith(`${base}/`)) {
    const tried: string[] = [];
    for (let at = dirname(target); at.length > base.length; at = dirname(at)) tried.push(at, ...PROBED_EXTENSIONS.map((e) => at + e));
    const stem = target.slice(0, target.length - ext.length);
    return [...asFile, join(base, 'package.json'), ...tried, stem, ...before(stem, ext)];
  }
  return undefined;
}

/**
 * What a rewrite of `importer` watches, all first-party (node_modules is watched as a whole by
 * the stamps): each deferred target and every first-party file it loaded as it evaluated,
 * transitively (a load effect added to any of them later must void the deferral, not run late),
 * each checked against its packed size and mtime; and the paths that decided where their
 * requires went: as [path, -1] where a file would have been found first (it must still hold
 * none), as [path, mtime, size] a package.json that was read (it must be unchanged).
 * Undefined when a require's answer cannot be watched this way: no rewrite is stored then.
 */
function lazyWatch(targets: readonly string[], eagerLoads: (path: string, original?: boolean) => string[], edgesInto: (target: string) => readonly (readonly [string, string])[], firstParty: (path: string) => string | undefined): StoredWatch[] | undefined {
  const files = new Set<string>();
  // Installed files these load (or that are deferred): the lookups into them from first-party
  // folders are watched below.
  const installed = new Set<string>();
  const queue = [...targets];
  while (queue.length > 0) {
    const path = queue.pop()!;
    if (files.has(path)) continue;
    if (firstParty(path) === undefined) {
      installed.add(path);
      continue;
    }
    files.add(path);
    queue.push(...eagerLoads(path, true));
  }
  const watch: StoredWatch[] = [...files].map((path) => firstParty(path)!);
  const seen = new Set<string>();
  // Installed files too, as required from first-party folders: a package or package.json
  // added on the way from there would be found instead (node_modules itself is the stamps').
  for (const path of [...files, ...installed]) {
    for (const [dir, specifier] of edgesInto(path)) {
      if (!files.has(path) && firstParty(join(dir, 'package.json')) === undefined) continue;
      const probes = probedBefore(dir, specifier, path);
      if (probes === undefined) return undefined;
      // A package.json lookup also read the places nearer that held none: a file added there wins.
      for (const probed of probes) {
        const packages = probed === NODE_MODULES_BEFORE;
        const expanded = packages ? modulesBefore(dir, specifier, path) : probed === NEAREST_PACKAGE_JSON ? packageJsonChain(dir) : probed === TARGET_PACKAGE_JSON ? packageJsonChain(dirname(path)) : [probed];
        for (const probe of expanded) {
          const rel = firstParty(probe);
          if (rel === undefined || seen.has(rel)) continue;
          seen.add(rel);
          const st = statSync(probe, { throwIfNoEntry: false });
          // A package folder must still be absent (-2: no entry of any kind); other paths, no
          // file. One that exists and was passed over (no entry point in it) is more than a stat
          // can watch: the importer is stored as written.
          if (packages && st !== undefined) return undefined;
          if (packages) watch.push([rel, -2]);
          else if (st?.isFile() !== true) watch.push([rel, -1]);
          else watch.push(withMeaning(probe, [rel, st.mtimeMs, st.size]));
        }
      }
    }
  }
  return watch;
}

/** Whether Node takes a file's format from its package scope's "type" (not `.cjs`, `.mjs`, `.json`...). */
function scopeDecidesFormat(rel: string): boolean {
  const ext = extname(rel);
  return ext === '' || ext === '.js' || ext === '.ts';
}

/**
 * For each directory of `rels` (root-relative first-party files), what Node's format lookup
 * reads from there upwards: the directories without a package.json (their change time, taken
 * before looking, as the index takes it), then the nearest package.json below the root. The
 * root's own package.json is a stamp; a root without one is not watched for one.
 */
function packageScopes(root: string, rels: readonly string[]): StoredScope[] {
  const scopes: StoredScope[] = [];
  const seen = new Set<string>();
  for (const rel of rels) {
    const dir = rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '';
    if (seen.has(dir)) continue;
    seen.add(dir);
    const passed: StoredScope[1] = [];
    let nearest: StoredScope[2];
    for (let at = dir; at !== ''; at = at.includes('/') ? at.slice(0, at.lastIndexOf('/')) : '') {
      const folder = statSync(join(root, at), { throwIfNoEntry: false });
      const file = `${at}/package.json`;
      const st = statSync(join(root, file), { throwIfNoEntry: false });
      if (st?.isFile() === true) {
        nearest = withMeaning(join(root, file), [file, st.mtimeMs, st.size]);
        break;
      }
      // A folder gone meanwhile (the module is too), or a package.json that is a dangling link
      // (its target may appear with no change to the folder): -1 has its package.json stat'ed
      // at every run.
      const dangling = lstatSync(join(root, file), { throwIfNoEntry: false }) !== undefined;
      passed.push([at, folder === undefined || dangling ? -1 : folder.ctimeMs]);
    }
    if (passed.length > 0 || nearest !== undefined) scopes.push(nearest === undefined ? [dir, passed] : [dir, passed, nearest]);
  }
  return scopes;
}

/** The extensions Node itself loads as JavaScript or JSON (none: a bin script). */
const jsExtensions = new Set(['.js', '.cjs', '.mjs', '.json', '']);

/**
 * Whether the file's bytes are the source every recording compiled (CommonJS is compiled without
 * its byte order mark); true when no recording saw the source.
 */
function asCompiled(bytes: Buffer, sums: ReadonlySet<number> | undefined): boolean {
  if (sums === undefined) return true;
  const whole = checksum(bytes, 0, bytes.length);
  const bom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
  const unmarked = bom ? checksum(bytes, 3, bytes.length - 3) : whole;
  return [...sums].every((sum) => sum === whole || sum === unmarked);
}

/** A package.json's row with its meaning added (read after the stat: an edit in between is seen). */
function withMeaning(path: string, row: [string, number, number]): [string, number, number] | [string, number, number, string] {
  const meaning = basename(path) === 'package.json' ? meaningAt(path) : undefined;
  return meaning === undefined ? row : [...row, meaning];
}

function realOrUndefined(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

/** The package.json paths a lookup reads from `dir` upwards, `dir`'s own first, up to the nearest that exists. */
function packageJsonChain(dir: string): string[] {
  const chain: string[] = [];
  for (let at = dir; ; at = dirname(at)) {
    const file = join(at, 'package.json');
    chain.push(file);
    if (statSync(file, { throwIfNoEntry: false })?.isFile() === true || dirname(at) === at) return chain;
  }
}

/**
 * The programs a lazy pack's rewrites are for: each recorded entry root-relative as Node names
 * it (`process.argv[1]`: `node app` names `app`, `node .` the root, as `.`), and its real path
 * where it names a file. A run with no entry script (`node -e`) names no program: another such
 * run is another program. Entries outside the root, which no served run under it can name, are
 * left out.
 */
function recordedEntries(root: string, entries: readonly (string | undefined)[]): string[] {
  const found = new Set<string>();
  const under = (path: string): string | undefined => {
    const rel = relative(root, path);
    if (rel === '') return '.';
    return rel.startsWith('..') || isAbsolute(rel) ? undefined : rel.split(sep).join('/');
  };
  for (const entry of entries) {
    if (entry === undefined || entry === '') continue;
    const named = under(entry);
    if (named !== undefined) found.add(named);
    try {
      const real = under(realpathSync(entry));
      if (real !== undefined && real !== '.') found.add(real);
    } catch {
      // Named without its extension (`node app`): the name is what a later run gives too.
    }
  }
  return [...found].sort();
}
