// What is checked before a packed module is served. At start-up: the stamps (the files a
// package manager rewrites on every install, uninstall or upgrade, and the top node_modules
// directory), 3-6 stats. Per module, at first use: its size and mtime, for files outside
// node_modules always (the program's own code, edited by hand) and for every file under
// COLDSTART_PACK_VERIFY=1. A mismatch sends that module to the disk, never a stale source.
import { isOn } from '../settings.js';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { StoredStamp } from './format.js';
import { collectStamps as collectIndexStamps, stampStat } from '../locations/stamps.js';
import { inRootModules } from '../locations/paths.js';
import { packageNames } from '../step-aside.js';

/**
 * The index's stamps (the same files, locations/stamps.ts), kept as mtime and size, no inode: a pack
 * copied into a container image (or restored from a CI cache) keeps its stamps valid when the
 * copy preserves times, as `cp -a`, `tar` and Docker's COPY do; one that does not preserve them
 * is ignored, never wrong.
 */
export function collectStamps(root: string): StoredStamp[] {
  return collectIndexStamps(root).map(({ path, mtime, size }): StoredStamp => {
    const names = path === 'node_modules' ? packageNames(join(root, path)) : undefined;
    return names === undefined ? [path, mtime, size] : [path, mtime, size, names];
  });
}

/**
 * The first stamp that no longer matches, as a one-line reason; undefined when all match. A
 * node_modules folder whose mtime moved still matches while the names that may be packages are
 * the same ones (a tool's cache folder came or went): one readdir, only then.
 */
export function staleStamp(root: string, stamps: readonly StoredStamp[]): string | undefined {
  for (const [path, mtime, size, names] of stamps) {
    const st = stampStat(join(root, path));
    if (st === undefined) return `${path} was removed`;
    if (st.mtimeMs === mtime && (size === -1 || st.size === size)) continue;
    if (names !== undefined && st.isDirectory() && packageNames(join(root, path)) === names) continue;
    return `${path} changed`;
  }
  return undefined;
}

/**
 * Whether a root-relative path is inside the root's node_modules, which the stamps watch. A
 * node_modules below a project folder (a sub-project with a lockfile of its own, one made by
 * hand) is first-party: its files are checked one by one, as the project's own are.
 */
export function managed(rel: string): boolean {
  return inRootModules(rel);
}

/** True when the file still has the size and mtime it had when packed. */
export function sameFile(path: string, size: number, mtime: number): boolean {
  const st = statSync(path, { throwIfNoEntry: false });
  return st !== undefined && st.size === size && st.mtimeMs === mtime;
}

/** COLDSTART_PACK_VERIFY=1: check every module's size and mtime at first use. */
export function verifyMode(env: NodeJS.ProcessEnv = process.env): boolean {
  return isOn('COLDSTART_PACK_VERIFY', env);
}

export function isFile(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isFile() === true;
}

export function exists(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false }) !== undefined;
}
