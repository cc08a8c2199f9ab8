// What is checked before a packed module is served. At start-up: the stamps (the files a
// package manager rewrites on every install, uninstall or upgrade, and the top node_modules
// directory), 3-6 stats. Per module, at first use: its size and mtime, for files outside
// node_modules always (the program's own code, edited by hand), for installed ones too on a local
// disk (checksInstalled), and for every file before a rewrite under COLDSTART_PACK_VERIFY=1. A
// mismatch sends that module to the disk, never a stale source.
import { isOff, isOn, sharedInstall } from '../settings.js';
import { join } from 'node:path';
import type { StoredStamp } from './format.js';
import { collectStamps as collectIndexStamps, stampStat } from '../locations/stamps.js';
import { inRootModules } from '../locations/paths.js';
import { stillMeans } from '../package-meaning.js';
import { packageNames, slowFilesystem, staleStamp as staleStampOf } from '../step-aside.js';
import { statOrUndefined } from '../stat.js';

/**
 * The index's stamps (the same files, locations/stamps.ts), kept as mtime and size, no inode: a pack
 * copied into a container image (or restored from a CI cache) keeps its stamps valid when the
 * copy preserves times, as `cp -a`, `tar` and Docker's COPY do; one that does not preserve them
 * is ignored, never wrong.
 */
export function collectStamps(root: string): StoredStamp[] {
  return collectIndexStamps(root).map(({ path, mtime, size, meaning }): StoredStamp => {
    const extra = path === 'node_modules' ? packageNames(join(root, path)) : meaning;
    return extra === undefined ? [path, mtime, size] : [path, mtime, size, extra];
  });
}

/** The first stamp that no longer matches, as a one-line reason (step-aside.ts staleStamp), with the start's shared stats. */
export function staleStamp(root: string, stamps: readonly StoredStamp[]): string | undefined {
  return staleStampOf(root, stamps, stampStat);
}

/**
 * Whether a root-relative path is inside the root's node_modules, which the stamps watch. A
 * node_modules below a project folder (a sub-project with a lockfile of its own, one made by
 * hand) is first-party: its files are checked one by one, as the project's own are.
 */
export function managed(rel: string): boolean {
  return inRootModules(rel);
}

/**
 * True when the file still has the size and mtime it had when packed, and this process may still
 * read it: a file made unreadable since (chmod) is Node's, which raises its own EACCES.
 */
export function sameFile(path: string, size: number, mtime: number): boolean {
  const st = statOrUndefined(path);
  return st !== undefined && st.size === size && st.mtimeMs === mtime && readable(st);
}

let groups: number[] | undefined;

/** Whether this process may read a file of these permission bits (ACLs aside; root reads all). */
function readable(st: { readonly uid: number; readonly gid: number; readonly mode: number }): boolean {
  const uid = process.getuid?.();
  if (uid === undefined || uid === 0) return true;
  if (st.uid === uid) return (st.mode & 0o400) !== 0;
  groups ??= [process.getgid?.() ?? -1, ...(process.getgroups?.() ?? [])];
  return (st.mode & (groups.includes(st.gid) ? 0o040 : 0o004)) !== 0;
}

/** COLDSTART_PACK_VERIFY=1: check every module's size and mtime at first use, every answer's
 *  target, and every packed file before a rewrite is served. */
export function verifyMode(env: NodeJS.ProcessEnv = process.env): boolean {
  return isOn('COLDSTART_PACK_VERIFY', env);
}

/**
 * Whether each installed module (inside the root's node_modules) is checked by its size and mtime
 * at its first load, as the project's own are: by default on a local disk, where one `stat` of
 * each module served costs little and a hand edit there (a `console.log` put in to debug, a fix
 * tried in place) is seen; not on a network or FUSE filesystem, where each is a round trip and the
 * stamps stand for the install (docs/pack.md#freshness-the-guarantee), nor under
 * COLDSTART_PACK_VERIFY=0 or for a shared install.
 */
export function checksInstalled(root: string, env: NodeJS.ProcessEnv = process.env): boolean {
  if (isOn('COLDSTART_PACK_VERIFY', env)) return true;
  if (isOff('COLDSTART_PACK_VERIFY', env) || sharedInstall(env)) return false;
  return slowFilesystem(root) === undefined;
}

/** True when the file is as packed, or is a package.json rewritten to mean what it meant (`meaning`). */
export function sameOrMeansSame(path: string, size: number, mtime: number, meaning: unknown): boolean {
  const st = statOrUndefined(path);
  if (st === undefined) return false;
  return (st.size === size && st.mtimeMs === mtime) || (meaning !== undefined && st.isFile() && stillMeans(path, st, meaning));
}

export function isFile(path: string): boolean {
  return statOrUndefined(path)?.isFile() === true;
}

export function exists(path: string): boolean {
  return statOrUndefined(path) !== undefined;
}
