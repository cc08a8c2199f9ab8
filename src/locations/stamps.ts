// Staleness: what is checked at every start to notice that the installed tree changed. Each
// file a package manager rewrites on every install, uninstall or upgrade is stamped (mtime,
// size, inode) when it exists at build time, plus the top node_modules directory itself (its
// mtime moves when a package is added or removed there) and the project's package.json.
// That is one stat per stamp, 3-5 per start for a typical npm, pnpm or yarn project.
import { type Stats } from 'node:fs';
import { join } from 'node:path';
import type { Stamp } from './format.js';
import { meaningAt, stillMeans } from '../package-meaning.js';
import { statOrUndefined } from '../stat.js';

let shared: Map<string, Stats | undefined> | undefined;

/**
 * Runs `fn` with stamp stats shared: the index and the pack check the same files (package.json,
 * node_modules, the lockfile) microseconds apart at start-up, and on a network filesystem each
 * stat is a round trip. Outside `fn` every check stats afresh.
 */
export function sharingStampStats<T>(fn: () => T): T {
  shared = new Map();
  try {
    return fn();
  } finally {
    shared = undefined;
  }
}

/** stat for a staleness check; undefined when the path is absent. */
export function stampStat(path: string): Stats | undefined {
  if (shared?.has(path) === true) return shared.get(path);
  return freshStampStat(path);
}

/** stat that is never shared, but that later checks in the same start share (a build's stamps). */
function freshStampStat(path: string): Stats | undefined {
  const st = statOrUndefined(path);
  shared?.set(path, st);
  return st;
}

const folders = new Map<string, Stats | undefined>();

/**
 * stat of a project folder, once per process: the index (is its listing current?) and the pack
 * (did a package.json appear in it?) ask about the same folders, and on a network filesystem
 * each stat is a round trip. Both keep their verdicts for the run anyway.
 */
export function folderStat(path: string): Stats | undefined {
  if (folders.has(path)) return folders.get(path);
  const st = statOrUndefined(path);
  folders.set(path, st);
  return st;
}

/** Candidates, relative to the project root; only those present at build time are stamped. */
export const stampCandidates = [
  'package.json',
  'node_modules',
  'package-lock.json',
  'npm-shrinkwrap.json',
  'yarn.lock',
  'pnpm-lock.yaml',
  'bun.lock',
  'bun.lockb',
  'node_modules/.package-lock.json',
  'node_modules/.modules.yaml',
  'node_modules/.yarn-state.yml',
  'node_modules/.pnpm/lock.yaml',
] as const;

export function collectStamps(root: string): Stamp[] {
  const stamps: Stamp[] = [];
  for (const path of stampCandidates) {
    // A build during start-up (a missing or stale index) must leave later checks its own stats.
    const st = freshStampStat(join(root, path));
    if (st === undefined) continue;
    // A directory's size is filesystem noise; its mtime and inode are what change.
    const meaning = path === 'package.json' && st.isFile() ? meaningAt(join(root, path)) : undefined;
    stamps.push({ path, mtime: st.mtimeMs, size: st.isDirectory() ? -1 : st.size, ino: st.ino, ...(meaning === undefined ? {} : { meaning }) });
  }
  return stamps;
}

/**
 * The first stamp that no longer matches, as a one-line reason; undefined when all match.
 * NODE_PATH is not a stamp: a run asks the index about its own Module.globalPaths, and a
 * directory the index did not walk answers "unknown" (Node is asked), so pnpm's bin shims,
 * which set NODE_PATH, share the one index with every other run.
 */
export function staleReason(root: string, stamps: readonly Stamp[]): string | undefined {
  for (const stamp of stamps) {
    const st = stampStat(join(root, stamp.path));
    if (st === undefined) return `${stamp.path} was removed`;
    if (st.mtimeMs !== stamp.mtime || st.ino !== stamp.ino || (stamp.size !== -1 && st.size !== stamp.size)) {
      if (stamp.meaning !== undefined && st.isFile() && stillMeans(join(root, stamp.path), st, stamp.meaning)) continue;
      return `${stamp.path} changed`;
    }
  }
  return undefined;
}
