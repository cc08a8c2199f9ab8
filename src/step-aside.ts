// When coldstart steps aside for a whole process. A pack learns from its recorded runs how many
// modules each entry loads; on a local disk, a program of a few dozen modules gains less from
// being served than opening the pack and the index costs (docs/decisions/startup-costs.md#small-programs),
// so a run of such an entry gets plain Node. The register loader decides it before it loads the
// core, from one line at the head of the pack; the core decides it the same way from the header.
// Builtins come from process.getBuiltinModule: the register loader bundles this file.
import type { Stats } from 'node:fs';
import { meaningAt, stillMeans } from './package-meaning.js';
import { isOff, isOn, setting, settingOff, type SettingName } from './settings.js';
import { statOrUndefined } from './stat.js';

/** Fewer modules than this in a recorded run, on a local disk: serving cannot pay. */
export const SMALL_RUN_MODULES = 40;

/**
 * Fewer modules than this, on a network or FUSE filesystem: every lookup there is a round trip,
 * so serving pays from a handful of modules, but coldstart's own files cost an empty script
 * 17 ms on the benchmark's FUSE mount (docs/decisions/startup-costs.md#small-programs-on-slow-filesystems).
 */
export const TINY_RUN_MODULES = 5;

/** Source bytes a lazy pack lets the run skip, from which it serves the program however small. */
export const SKIPPABLE_BYTES = 100 * 1024;

/** [root-relative path, mtimeMs, size], or [path, -1, -1] for a file that was absent; a
 *  package.json also with its meaning (package-meaning.ts). */
export type WatchedFile = [string, number, number] | [string, number, number, string];

/**
 * [entry, root-relative as Node names it; the script's arguments; modules its recorded runs
 * loaded at most; the files whose change voids the decision: the entry, every first-party module
 * the runs loaded, and each file the auto-defer configuration lookup reads from the entry up;
 * the resolution conditions and NODE_PATH the runs had (pack/open-at-start.ts conditionsKey)]
 */
export type StoredAside = [string, string[] | string, number, WatchedFile[], string] | [string, string[] | string, number, WatchedFile[], string, string];

/** [root-relative path, mtimeMs, size (-1 for a directory)], as the pack's stamps (node_modules
 *  also with the hash of packageNames, the root package.json with its meaning). */
type Stamp = [string, number, number] | [string, number, number, string];

/** The pack's start line: what the register loader reads to decide without the core. */
export interface StartLine {
  readonly aside: StoredAside[];
  readonly stamps: Stamp[];
}

/** Filesystems where every lookup is a round trip: a program of any size gains from being served. */
const SLOW_FILESYSTEMS = new Map<number, string>([
  [0x65735546, 'fuse'],
  [0x6969, 'nfs'],
  [0x01021997, 'v9fs'], // 9p: WSL 2's Windows drives, some VM shares
  [0xff534d42, 'cifs'],
  [0xfe534d42, 'smb2'],
  [0x517b, 'smb'],
  [0x6e667364, 'nfsd'],
  [0x0bd00bd0, 'lustre'],
  [0x47504653, 'gpfs'],
  [0x00c36400, 'ceph'],
  [0x19830326, 'beegfs'],
  [0x786f4256, 'vboxsf'],
]);

/** The filesystem name when `dir` is on a network or FUSE filesystem, else undefined. */
export function slowFilesystem(dir: string): string | undefined {
  // Asked by the pack and the index of the same root: one statfs a run.
  if (filesystems.has(dir)) return filesystems.get(dir);
  let kind: string | undefined;
  try {
    kind = SLOW_FILESYSTEMS.get(Number(process.getBuiltinModule('node:fs').statfsSync(dir).type));
  } catch {
    kind = undefined;
  }
  filesystems.set(dir, kind);
  return kind;
}

const filesystems = new Map<string, string | undefined>();

/**
 * The aside row for this process (its entry and arguments) under `root`, when the pack's
 * recorded runs of it were small and none of its watched files changed since, on a local disk
 * (on a network or FUSE filesystem, only a program of fewer than TINY_RUN_MODULES modules),
 * on Node 22+ (Node 20 gets no new optimisation); undefined otherwise.
 */
export function asideEntry(aside: readonly StoredAside[] | undefined, root: string, conditions: string | undefined, argv: readonly string[] = process.argv, preloads?: string): StoredAside | undefined {
  const entry = argv[1];
  if (aside === undefined || aside.length === 0 || entry === undefined || !entry.startsWith(`${root}/`)) return undefined;
  if (isOff('COLDSTART_STEP_ASIDE') || Number(process.versions.node.split('.')[0]) < 22) return undefined;
  const rel = entry.slice(root.length + 1);
  const args = JSON.stringify(argv.slice(2));
  const hashed = argsHash(argv.slice(2));
  // A learned row holds for the preloads it was learned with: another (`-r big-lib`) may load what a pack serves.
  const found = aside.find((row) => row[0] === rel && (typeof row[1] === 'string' ? row[1] === hashed : JSON.stringify(row[1]) === args) && (preloads === undefined || row[5] === preloads));
  if (found === undefined || !Array.isArray(found[3])) return undefined;
  // Other conditions or NODE_PATH may load other files. The core knows its key; the register
  // loader, which cannot compute it cheaply, steps aside only for runs with neither.
  if (conditions !== undefined ? found[4] !== conditions : !plainResolution()) return undefined;
  for (const [path, mtime, size, meaning] of found[3]) {
    const st = statOrUndefined(`${root}/${path}`);
    // [path, -1, -1]: absent; [path, mtime, -1]: a directory, whose size is filesystem noise.
    if (st === undefined ? mtime === -1 : st.mtimeMs === mtime && (size === -1 || st.size === size)) continue;
    if (st === undefined || meaning === undefined || !st.isFile() || !stillMeans(`${root}/${path}`, st, meaning)) return undefined;
  }
  return found[2] < TINY_RUN_MODULES || slowFilesystem(root) === undefined ? found : undefined;
}

/**
 * The stamps of `paths` (those under `root`, each once), then of the files the configuration
 * lookup (defer/config.ts) reads from `entryDir` up, past the root as it does (as `../` paths):
 * a coldstart.config.json (outside node_modules), then a package.json, in each directory up to
 * the first that has one. What a row watches: a change to any voids it.
 */
export function watchFiles(root: string, paths: Iterable<string>, entryDir: string): WatchedFile[] {
  const watched: WatchedFile[] = [];
  const seen = new Set<string>();
  /** `path` relative to the root, climbing out of it with `../` for the lookup's ancestors. */
  const relative = (path: string): string => {
    if (path === root) return '.';
    let base = root;
    let up = '';
    while (!path.startsWith(base === '/' ? '/' : `${base}/`)) {
      base = base.slice(0, base.lastIndexOf('/')) || '/';
      up += '../';
    }
    return up + path.slice(base === '/' ? 1 : base.length + 1);
  };
  const watch = (path: string, outside = false): void => {
    if ((!outside && !path.startsWith(`${root}/`) && path !== root) || seen.has(path)) return;
    seen.add(path);
    const st = statOrUndefined(path);
    // Root-relative, as the row names them; a directory's size is filesystem noise.
    const rel = relative(path);
    const meaning = st?.isFile() === true && path.endsWith('/package.json') ? meaningAt(path) : undefined;
    if (st === undefined) watched.push([rel, -1, -1]);
    else if (meaning === undefined) watched.push([rel, st.mtimeMs, st.isDirectory() ? -1 : st.size]);
    else watched.push([rel, st.mtimeMs, st.size, meaning]);
  };
  for (const path of paths) watch(path);
  for (let dir = entryDir; ; dir = dir.slice(0, dir.lastIndexOf('/')) || '/') {
    const inModules = dir.includes('/node_modules/') || dir.endsWith('/node_modules');
    const config = `${dir === '/' ? '' : dir}/coldstart.config.json`;
    const manifest = `${dir === '/' ? '' : dir}/package.json`;
    if (!inModules) watch(config, true);
    watch(manifest, true);
    if (statOrUndefined(manifest) !== undefined || (!inModules && statOrUndefined(config) !== undefined)) break;
    if (dir === '/') break;
  }
  return watched;
}

/**
 * What a learned row keeps of the script's arguments: a hash, since they may hold what no file
 * should (a token on the command line). A collision could only give plain Node to a run that
 * would have been served (docs/decisions/startup-costs.md#small-programs-without-a-pack).
 */
export function argsHash(args: readonly string[]): string {
  const text = JSON.stringify(args);
  let a = 0x811c9dc5;
  let b = 0x01000193;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995) ^ (b >>> 15);
  }
  return `${(a >>> 0).toString(16).padStart(8, '0')}${(b >>> 0).toString(16).padStart(8, '0')}`;
}

/**
 * Whether this process is a cluster worker or a child forked with an IPC channel: such a child
 * often runs its parent's entry with its parent's arguments (cluster.fork()) and loads other
 * modules, so neither what a parent's run taught nor what the child's run teaches holds for the
 * other.
 */
export function forkedChild(): boolean {
  // Node takes NODE_UNIQUE_ID and NODE_CHANNEL_FD out of the environment before preloads run; the channel stays.
  return process.channel !== undefined && process.channel !== null;
}

/**
 * The preload flags this process was started with (NODE_OPTIONS, then the command line), as
 * [flag, value], but coldstart's own register entry, however named (`coldstart doctor` adds it
 * as a file URL).
 */
export function otherPreloads(): [string, string][] {
  const flags = [...(process.env['NODE_OPTIONS'] ?? '').split(/\s+/), '\0', ...process.execArgv];
  const kept: [string, string][] = [];
  for (let i = 0; i < flags.length; i++) {
    const flag = flags[i]!;
    const name = flag.split('=', 1)[0]!;
    if (!['-r', '--require', '--import', '--loader', '--experimental-loader'].includes(name)) continue;
    const value = (flag.includes('=') ? flag.slice(name.length + 1) : (flags[++i] ?? '')).replace(/^["']|["']$/g, '');
    if (!/(^|\/)coldstart\/register(\.[cm]?js)?$|\/dist\/register\.[cm]?js$/.test(value)) kept.push([name, value]);
  }
  return kept;
}

/** A hash of otherPreloads: what a learned row holds for. */
export function preloadsKey(): string {
  return argsHash(otherPreloads().map(([name, value]) => `${name}=${value}`));
}

/** Whether this process resolves with no flags: no --conditions (-C), no NODE_PATH. */
export function plainResolution(): boolean {
  const nodePath = process.env['NODE_PATH'];
  if (nodePath !== undefined && nodePath !== '') return false;
  const flags = [...process.execArgv, ...(process.env['NODE_OPTIONS'] ?? '').split(/\s+/)];
  return !flags.some((flag) => flag === '-C' || flag.startsWith('--conditions') || flag.startsWith('-C='));
}

/** Whether `bytes` hold `count` whole lines. */
function holdsLines(bytes: Buffer, count: number): boolean {
  for (let at = -1, n = 0; n < count; n++) {
    at = bytes.indexOf(10, at + 1);
    if (at === -1) return false;
  }
  return true;
}

/**
 * The first of the pack's stamps that no longer matches, as a one-line reason; undefined when all
 * match. A node_modules folder whose mtime moved still matches while the names that may be
 * packages are the same (a tool's cache folder came or went): one readdir, only then. The root
 * package.json still matches while it means the same (package-meaning.ts): one read, only then.
 */
export function staleStamp(root: string, stamps: readonly Stamp[], stat: (path: string) => Stats | undefined = plainStat): string | undefined {
  for (const [path, mtime, size, extra] of stamps) {
    const st = stat(`${root}/${path}`);
    if (st === undefined) return `${path} was removed`;
    if (st.mtimeMs === mtime && (size === -1 || st.size === size)) continue;
    if (extra !== undefined && st.isDirectory() && packageNames(`${root}/${path}`) === extra) continue;
    if (extra !== undefined && path === 'package.json' && st.isFile() && stillMeans(`${root}/${path}`, st, extra)) continue;
    return `${path} changed`;
  }
  return undefined;
}

function plainStat(path: string): Stats | undefined {
  return statOrUndefined(path);
}

/**
 * The entries of a node_modules folder that may be packages (all but names starting with a dot),
 * hashed with each one's kind (folder, symlink): tools put their caches beside the packages
 * (`.vite-temp`, `.cache`), which moves the folder's mtime without changing what is installed,
 * while a package added, removed or swapped for a symlink (`yarn link`) changes the hash. One
 * readdir: an lstat of each entry cost `npm ls` 8 ms a start in a tree of 380 entries. A package
 * folder put back by hand under its name, as a folder, is not seen here, as an edit inside one is
 * not (COLDSTART_PACK_VERIFY=1 sees both). The package managers' own dot-files are stamps of their
 * own. undefined when the folder cannot be read.
 */
export function packageNames(dir: string): string | undefined {
  let h = 0x811c9dc5;
  let count = 0;
  try {
    const entries = process.getBuiltinModule('node:fs').readdirSync(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (entry.name.charCodeAt(0) === 46 /* . */) continue;
      count++;
      const text = `${entry.name}\0${entry.isSymbolicLink() ? 'l' : entry.isDirectory() ? 'd' : 'f'}\n`;
      for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
    }
  } catch {
    return undefined;
  }
  return `${count}:${(h >>> 0).toString(16)}`;
}

/** Reads the start line from the first bytes of a pack (its fourth line); undefined when absent or unreadable. */
export function readStartLine(head: Buffer, magic: string, version: number): StartLine | undefined {
  const prefix = `${magic}\n${version}\n`;
  if (head.toString('latin1', 0, prefix.length) !== prefix) return undefined;
  const lengthEnd = head.indexOf(10, prefix.length);
  const lineEnd = lengthEnd === -1 ? -1 : head.indexOf(10, lengthEnd + 1);
  if (lineEnd === -1) return undefined;
  try {
    const line = JSON.parse(head.toString('utf8', lengthEnd + 1, lineEnd)) as Partial<StartLine>;
    return Array.isArray(line.aside) && Array.isArray(line.stamps) ? (line as StartLine) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The first bytes of `file`, up to the end of its `lines`-th line, when coldstart trusts it as
 * the core trusts a pack (store.ts openTrustedFile): a file, owned by this user, root or the
 * tree's owner, and writable by no one else. 'absent' when there is no such file; undefined
 * when it is refused or unreadable.
 */
function readHead(file: string, root: string, lines: number): Buffer | 'absent' | undefined {
  const fs = process.getBuiltinModule('node:fs');
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR' ? 'absent' : undefined;
  }
  try {
    const st = fs.fstatSync(fd);
    const uid = process.getuid?.();
    if (!st.isFile()) return undefined;
    if (uid !== undefined && ((st.mode & 0o022) !== 0 || (st.uid !== uid && st.uid !== 0 && fs.statSync(root).uid !== st.uid))) return undefined;
    // 16 kB holds most; read on until the lines end.
    let head = Buffer.allocUnsafe(16384);
    let length = fs.readSync(fd, head, 0, head.length, 0);
    while (length === head.length && !holdsLines(head, lines) && head.length < 1024 * 1024) {
      const more = Buffer.allocUnsafe(head.length * 2);
      head.copy(more);
      head = more;
      length += fs.readSync(fd, head, length, head.length - length, length);
    }
    return head.subarray(0, length);
  } catch {
    return undefined;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The register loader's check, made before it loads the core: whether the project's pack says
 * this process runs a small program (`packFile` under `root`), fresh, on a local disk. Any doubt
 * (another format, a changed tree) means no: the core then decides as it always does; 'absent'
 * when there is no pack, and what the core learned decides instead.
 */
export function packSaysAside(root: string, packFile: string, magic: string, version: number): boolean | 'absent' {
  // The start line ends the preamble.
  const head = readHead(packFile, root, 4);
  if (head === undefined || head === 'absent') return head ?? false;
  const line = readStartLine(head, magic, version);
  if (line === undefined || asideEntry(line.aside, root, undefined) === undefined) return false;
  return staleStamp(root, line.stamps) === undefined;
}

/** The format tag of a learned file: one JSON line, `{"format":..., "aside":[rows]}`. */
export const LEARNED_FORMAT = 'coldstart-small/1';

/**
 * Where the core keeps what it learned of the program at `entry` (root-relative): a small file
 * per entry in the index's own folder (`dir`), so that a start reads only its own program's rows.
 */
export function learnedFile(dir: string, entry: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < entry.length; i++) h = Math.imul(h ^ entry.charCodeAt(i), 0x01000193);
  return `${dir}/small-${(h >>> 0).toString(16).padStart(8, '0')}.v1`;
}

/**
 * The folder of this process's index, as the core finds it (COLDSTART_INDEX, relative to the
 * working directory, else the project's default place); undefined when the index is off.
 */
export function indexFolder(root: string, defaultIndex: string): string | undefined {
  const named = setting('COLDSTART_INDEX');
  if (settingOff(named)) return undefined;
  const file = named !== undefined && named !== '' ? (named.startsWith('/') ? named : `${process.cwd()}/${named}`) : `${root === '/' ? '' : root}/${defaultIndex}`;
  return file.slice(0, file.lastIndexOf('/')) || '/';
}

/** The rows of a learned file's bytes; undefined when they are not one. */
export function learnedRows(bytes: Buffer): StoredAside[] | undefined {
  try {
    const data = JSON.parse(bytes.toString('utf8')) as { format?: unknown; aside?: unknown };
    return data.format === LEARNED_FORMAT && Array.isArray(data.aside) ? (data.aside as StoredAside[]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The learned row for this process under `root`, kept in `dir`, when its files are unchanged
 * (asideEntry). With `packFile`, only a row learned beside that pack, which watches it: a row
 * learned without a pack says nothing of what a pack would serve, and a row learned beside one
 * is void once the pack is rebuilt or removed (step-aside-learn.ts).
 */
export function learnedAside(root: string, dir: string, conditions: string | undefined, packFile?: string): StoredAside | undefined {
  const entry = process.argv[1];
  if (entry === undefined || !entry.startsWith(`${root}/`)) return undefined;
  // A forked child (a cluster worker) runs its parent's entry and arguments: nothing learned of either holds for the other.
  if (forkedChild()) return undefined;
  const head = readHead(learnedFile(dir, entry.slice(root.length + 1)), root, 1);
  if (head === undefined || head === 'absent') return undefined;
  const row = asideEntry(learnedRows(head), root, conditions, process.argv, preloadsKey());
  if (row === undefined || packFile === undefined) return row;
  const rel = packFile.startsWith(`${root}/`) ? packFile.slice(root.length + 1) : undefined;
  return rel !== undefined && row[3].some((watched) => watched[0] === rel) ? row : undefined;
}

/** Whether registerStepsAside found the project's pack in its default place (undefined: it did not look). */
let packFound: boolean | undefined;

/** What registerStepsAside saw of a pack in the default place, for the choice of the core's code cache. */
export function packSeen(): boolean | undefined {
  return packFound;
}

/** Settings under which a run needs the core whatever was recorded or learned: reports, records, messages, clusters. */
const needsCore: readonly SettingName[] = [
  'COLDSTART_INDEX_STATS',
  'COLDSTART_PACK_STATS',
  'COLDSTART_LAZY_RECORDS',
  'COLDSTART_DEBUG',
  'COLDSTART_DEFER_STATS',
  'COLDSTART_SHARED',
  'COLDSTART_PACK_RECORD',
  'COLDSTART_PROFILE_DIR',
  'COLDSTART_PROFILE_COVERAGE',
];

/** Whether a setting asks for the core's reports or records in this process (needsCore). */
export function coreNeeded(): boolean {
  return needsCore.some((name) => isOn(name));
}

/**
 * The register loader's whole decision, before it loads the core from `ownDir` (dist/): the
 * project root and pack found as the core finds them (COLDSTART_ROOT, else the project holding
 * coldstart when the run is inside it, else the nearest directory with node_modules above the
 * working directory), then packSaysAside. POSIX paths only; elsewhere the core decides.
 */
export function registerStepsAside(ownDir: string, magic: string, version: number, defaultPack: string, defaultIndex: string): boolean {
  const entry = process.argv[1];
  if (entry === undefined || entry === '' || process.platform === 'win32' || coreNeeded()) return false;
  if (isOff('COLDSTART_STEP_ASIDE')) return false;
  const packSetting = setting('COLDSTART_PACK');
  const cwd = process.cwd();
  const within = (path: string, dir: string): boolean => path === dir || path.startsWith(`${dir}/`);
  let root = setting('COLDSTART_ROOT');
  if (root !== undefined && root !== '') {
    // The core takes a named root by its real path, as Node hands the loaders real paths.
    try {
      root = process.getBuiltinModule('node:fs').realpathSync.native(root);
    } catch {
      return false;
    }
  } else {
    root = undefined;
    const at = ownDir.indexOf('/node_modules/');
    if (at > 0 && (within(cwd, ownDir.slice(0, at)) || within(entry, ownDir.slice(0, at)))) root = ownDir.slice(0, at);
    else {
      for (let dir = cwd; ; ) {
        if (statOrUndefined(`${dir === '/' ? '' : dir}/node_modules`)?.isDirectory() === true) {
          root = dir;
          break;
        }
        const parent = dir.slice(0, dir.lastIndexOf('/')) || '/';
        if (parent === dir) break;
        dir = parent;
      }
    }
  }
  // A relative or odd root is the core's to resolve.
  if (root === undefined || !root.startsWith('/') || root.includes('/../') || root.includes('/./')) return false;
  root = root.length > 1 ? root.replace(/\/+$/, '') : root;
  // A listing of coldstart's folder tells which of the pack and the learned rows exist: a
  // program that has neither costs no failed lookup.
  const fs = process.getBuiltinModule('node:fs');
  const listings = new Map<string, string[]>();
  const has = (file: string): boolean => {
    const dir = file.slice(0, file.lastIndexOf('/'));
    let names = listings.get(dir);
    if (names === undefined) {
      try {
        names = fs.readdirSync(dir);
      } catch {
        names = [];
      }
      listings.set(dir, names);
    }
    return names.includes(file.slice(dir.length + 1));
  };
  const project = root;
  /** What the core learned from an earlier run of the program (beside `packFile`, when given). */
  const learned = (packFile?: string): boolean => {
    const dir = indexFolder(project, defaultIndex);
    if (dir === undefined || !entry.startsWith(`${project}/`)) return false;
    return has(learnedFile(dir, entry.slice(project.length + 1))) && learnedAside(project, dir, undefined, packFile) !== undefined;
  };
  // A pack in use decides first: its recorded runs, then what was learned beside it of a program
  // it was not recorded for; without one, what was learned without a pack.
  if (!settingOff(packSetting)) {
    if (packSetting !== undefined && packSetting !== '') {
      // As the core resolves it (pack/store.ts packPathFor): a learned row names the pack so.
      const file = process.getBuiltinModule('node:path').resolve(cwd, packSetting);
      const said = packSaysAside(root, file, magic, version);
      if (said !== 'absent') return said || learned(file);
    } else if (has(`${root}/${defaultPack}`)) {
      packFound = true;
      return packSaysAside(root, `${root}/${defaultPack}`, magic, version) === true || learned(`${root}/${defaultPack}`);
    }
  }
  return learned();
}
