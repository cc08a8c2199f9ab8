// Where the index lives and how it is read: the header at start and the rest on first need,
// each read through the store's trusted reads (../store.ts), which also writes it.
import { setting } from '../settings.js';
import { join, resolve } from 'node:path';
import { readTrustedFile } from '../store.js';
import { decodeIndex, headerEnd, type DecodedIndex } from './format.js';

/** Default location, relative to the project root: where the ecosystem keeps caches. */
export const defaultIndexPath = 'node_modules/.cache/coldstart/index.v1';

/** COLDSTART_INDEX, else the default location under `root`. */
export function indexPathFor(root: string, override?: string): string {
  const fromEnv = override ?? setting('COLDSTART_INDEX');
  return fromEnv ? resolve(fromEnv) : join(root, defaultIndexPath);
}

export type ReadResult =
  | { readonly ok: true; readonly index: DecodedIndex; readonly mtime: number }
  | { readonly ok: false; readonly missing: boolean; readonly reason: string; readonly corrupt?: true };

/**
 * Reads and decodes an index. Refuses a file owned by another user (root excepted) or
 * writable by group or others: whoever can write it decides which files Node loads.
 */
export function readIndexFile(file: string, checkHeader = true, treeRoot?: string): ReadResult {
  // The header only: package sections are read the first time a run needs one (many warm runs
  // answer everything from the learned answers and need none), so a start does not copy a file
  // that grows with node_modules (docs/decisions/startup-costs.md#index-small-probes).
  const read = readTrustedFile(file, HEAD_BYTES, 0, treeRoot);
  if (!read.ok) return read;
  try {
    let bytes = read.bytes;
    const { start, length } = headerEnd(bytes);
    if (start + length > bytes.length && bytes.length < read.size) {
      // A header longer than the first read: read up to its end.
      const more = readTrustedFile(file, start + length, 0, treeRoot);
      if (!more.ok) return more;
      if (!sameFile(more, read)) return { ok: false, missing: false, reason: `ignoring ${file}: it changed while being read` };
      bytes = more.bytes;
    }
    const rest = (from: number, length?: number): Buffer | undefined => {
      const part = readTrustedFile(file, length ?? Infinity, from, treeRoot);
      return part.ok && sameFile(part, read) ? part.bytes : undefined;
    };
    return { ok: true, index: decodeIndex(bytes, read.size, rest, checkHeader), mtime: read.mtime };
  } catch (error) {
    return { ok: false, missing: false, corrupt: true, reason: `ignoring ${file}: ${(error as Error).message}` };
  }
}

/** What is read of the index at start: the prefix and, for most projects, the whole header. */
const HEAD_BYTES = 64 * 1024;

function sameFile(a: { ino: number; size: number; mtime: number }, b: { ino: number; size: number; mtime: number }): boolean {
  return a.ino === b.ino && a.size === b.size && a.mtime === b.mtime;
}

