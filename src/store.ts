// One store for every file coldstart keeps (the index, the pack, learned answers, the defer
// cache): where the project is, trusted reads (ownership and mode checked on the open
// descriptor), atomic writes (a temp file renamed into place: a reader sees the old file or the
// new one, never half of one) and the build lock.
import { pathSetting } from './settings.js';
import { chmodSync, closeSync, fstatSync, mkdirSync, openSync, readSync, renameSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { statOrUndefined } from './stat.js';

/**
 * The project root: COLDSTART_ROOT, else (in a run, `fromOwnLocation`) the directory holding
 * the node_modules that holds coldstart itself, else the nearest directory from `cwd` upwards
 * that has a node_modules. The CLI asks without `fromOwnLocation`: a global install, or the
 * coldstart of another project, must not make it work on the wrong project.
 */
export function findProjectRoot(cwd: string = process.cwd(), fromOwnLocation = true): string | undefined {
  const fromEnv = pathSetting('COLDSTART_ROOT');
  if (fromEnv) return resolve(fromEnv);
  // The index and the pack both ask at start: the second asks a map, not the filesystem.
  const key = `${fromOwnLocation ? 'o' : 'c'}${resolve(cwd)}`;
  if (roots.has(key)) return roots.get(key);
  // A CommonJS bundle knows its own file without building and parsing a URL.
  const own = fromOwnLocation ? (typeof __filename === 'string' ? __filename : fileURLToPath(import.meta.url)) : '';
  const at = own.indexOf(`${sep}node_modules${sep}`);
  let found: string | undefined;
  // Our own project only when the run is in it (its working directory or its entry script): a
  // copy preloaded by path from a global install must not make another tree the root.
  if (at > 0 && (within(key.slice(1), own.slice(0, at)) || within(process.argv[1] ?? '', own.slice(0, at)))) found = own.slice(0, at);
  else {
    for (let dir = resolve(cwd); ; ) {
      if (statOrUndefined(join(dir, 'node_modules'))?.isDirectory()) {
        found = dir;
        break;
      }
      const parent = dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
    // Last, a script run through a symlinked project folder from outside any project: its real
    // path may be in the project holding coldstart (a global tool's bin link run from a project
    // has found that project above).
    if (found === undefined && at > 0 && within(realEntry(), own.slice(0, at))) found = own.slice(0, at);
  }
  roots.set(key, found);
  return found;
}

/** The entry script's real path (run through a symlinked project folder, Node loads it by that). */
function realEntry(): string {
  const entry = process.argv[1];
  if (entry === undefined || entry === '') return '';
  try {
    return process.getBuiltinModule('node:fs').realpathSync.native(entry);
  } catch {
    return '';
  }
}

function within(path: string, dir: string): boolean {
  return path === dir || (path.startsWith(dir) && path.charCodeAt(dir.length) === 47 /* / */);
}

/** findProjectRoot's answers in this process, by directory asked from. */
const roots = new Map<string, string | undefined>();

export type TrustedOpen =
  | { readonly ok: true; readonly fd: number; readonly mtime: number; readonly size: number; readonly ino: number }
  | { readonly ok: false; readonly missing: boolean; readonly reason: string };

/**
 * Opens a file coldstart trusts to steer resolution or to supply code: refused when it is not a
 * regular file, is writable by group or others, or is owned by someone other than this user,
 * root, or the owner of `treeRoot` (the project it describes: a shared install belongs to
 * whoever installed it, who can change the code itself anyway; see docs/scale.md).
 * The caller owns the descriptor it returns.
 */
export function openTrustedFile(file: string, treeRoot?: string): TrustedOpen {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { ok: false, missing: code === 'ENOENT' || code === 'ENOTDIR', reason: `cannot open ${file}: ${code ?? 'error'}` };
  }
  let refusal: string | undefined;
  try {
    const st = fstatSync(fd);
    const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
    if (!st.isFile()) refusal = `${file} is not a regular file`;
    else if (uid !== undefined && st.uid !== uid && st.uid !== 0 && !ownsTree(st.uid, treeRoot)) {
      refusal = `refusing ${file}: owned by uid ${st.uid}, not by this user (${uid}), root${treeRoot === undefined ? '' : ` or the owner of ${treeRoot}`}`;
    }
    else if (uid !== undefined && (st.mode & 0o022) !== 0) refusal = `refusing ${file}: writable by group or others (mode ${(st.mode & 0o777).toString(8)})`;
    else return { ok: true, fd, mtime: st.mtimeMs, size: st.size, ino: st.ino };
  } catch (error) {
    refusal = `ignoring ${file}: ${(error as Error).message}`;
  }
  closeSync(fd);
  return { ok: false, missing: false, reason: refusal };
}

/** Whether `uid` owns the directory `treeRoot` (asked only for a file another user owns). */
function ownsTree(uid: number, treeRoot: string | undefined): boolean {
  return treeRoot !== undefined && statOrUndefined(treeRoot)?.uid === uid;
}

/** Up to `length` bytes at `position` of an open file (fewer only at its end). */
export function readAt(fd: number, position: number, length: number): Buffer {
  const buffer = Buffer.allocUnsafe(length);
  let filled = 0;
  while (filled < length) {
    const n = readSync(fd, buffer, filled, length - filled, position + filled);
    if (n === 0) break;
    filled += n;
  }
  return filled === length ? buffer : buffer.subarray(0, filled);
}

/**
 * One read of a file coldstart trusts (`limit` bytes from `from`, the whole file by default),
 * with openTrustedFile's checks.
 */
export function readTrustedFile(
  file: string,
  limit = Infinity,
  from = 0,
  treeRoot?: string,
): { readonly ok: true; readonly bytes: Buffer; readonly mtime: number; readonly size: number; readonly ino: number } | { readonly ok: false; readonly missing: boolean; readonly reason: string } {
  const opened = openTrustedFile(file, treeRoot);
  if (!opened.ok) return opened;
  try {
    const bytes = readAt(opened.fd, from, Math.max(0, Math.min(opened.size - from, limit)));
    return { ok: true, bytes, mtime: opened.mtime, size: opened.size, ino: opened.ino };
  } catch (error) {
    return { ok: false, missing: false, reason: `ignoring ${file}: ${(error as Error).message}` };
  } finally {
    closeSync(opened.fd);
  }
}

/**
 * Creates `dir` and its missing parents, one level at a time. Node's own recursive mkdirSync
 * never returns for a path under /proc (it retries the ENOENT forever); here every failure
 * throws at once, so a cache directory that cannot be made means no cache.
 */
export function makeDirectory(dir: string): void {
  const missing: string[] = [];
  for (let at = resolve(dir); statOrUndefined(at) === undefined; at = dirname(at)) {
    if (dirname(at) === at) break;
    missing.push(at);
  }
  for (let i = missing.length - 1; i >= 0; i--) {
    try {
      mkdirSync(missing[i]!);
    } catch (error) {
      // Another process may have made it in between.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  if (statOrUndefined(dir)?.isDirectory() !== true) throw new Error(`${dir} is not a directory`);
}

/**
 * Removes a cache file found corrupt, so that the next run writes a new one instead of ignoring
 * it again; only if it is still the file that was read (same mtime), never a newer one.
 */
export function removeIfUnchanged(file: string, mtime: number): void {
  try {
    if (statOrUndefined(file)?.mtimeMs === mtime) unlinkSync(file);
  } catch {
    // not ours to remove (a read-only install): runs keep ignoring what is corrupt
  }
}

/** Writes `bytes` to `file` atomically (temp file in the same directory, then rename). */
export function writeFileAtomic(file: string, bytes: Buffer): void {
  makeDirectory(dirname(file));
  const temp = `${file}.${process.pid}.${Math.random().toString(36).slice(2, 8)}.tmp`;
  try {
    writeFileSync(temp, bytes, { mode: 0o644 });
    // The umask may have added group write; the reader refuses that, so set it exactly.
    chmodSync(temp, 0o644);
    renameSync(temp, file);
  } catch (error) {
    try {
      unlinkSync(temp);
    } catch {
      // nothing was written
    }
    throw error;
  }
}

/** A lock older than this is taken to belong to a process that died while building. */
const staleLockMs = 60_000;

/**
 * Takes the build lock next to `file` without waiting: returns a release function, or
 * undefined when another process holds it (the caller then runs without building).
 */
export function tryLock(file: string): (() => void) | undefined {
  const lock = `${file}.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      makeDirectory(dirname(file));
      const fd = openSync(lock, 'wx', 0o644);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => {
        try {
          unlinkSync(lock);
        } catch {
          // already gone
        }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') return undefined;
      try {
        const st = statOrUndefined(lock);
        if (st === undefined || Date.now() - st.mtimeMs < staleLockMs) return undefined;
        unlinkSync(lock);
      } catch {
        // e.g. ENOTDIR: the "directory" is a file, so nothing can be built there
        return undefined;
      }
    }
  }
  return undefined;
}
