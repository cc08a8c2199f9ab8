// Where the pack lives and how it is read and written: one open, an ownership check on the
// descriptor, one read of the whole file; writes go to a temp file renamed into place, so a
// reader sees the old pack or the new one, never half of one.
import { settingOff } from '../settings.js';
import { realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { findProjectRoot, readTrustedFile } from '../locations/store.js';
import { decodePack, type DecodedPack } from './format.js';
import { staleStamp } from './freshness.js';

/** Default location, relative to the project root: beside the module-location index. */
export const defaultPackPath = 'node_modules/.cache/coldstart/pack.v1';

/** COLDSTART_PACK values that switch serving off (recording runs use them too). */
export function packOff(value: string | undefined): boolean {
  return settingOff(value);
}

/** `--out`, else COLDSTART_PACK, else the default location under `root`. */
export function packPathFor(root: string, override?: string): string {
  const fromEnv = override ?? process.env['COLDSTART_PACK'];
  return fromEnv && !packOff(fromEnv) ? resolve(fromEnv) : join(root, defaultPackPath);
}

export type ReadResult =
  | { readonly ok: true; readonly pack: DecodedPack; readonly size: number }
  | { readonly ok: false; readonly missing: boolean; readonly reason: string };

/**
 * Reads and decodes a pack. Refuses a file owned by another user (root excepted) or writable
 * by group or others: whoever can write the pack decides which code runs.
 */
export function readPackFile(file: string): ReadResult {
  const read = readTrustedFile(file);
  if (!read.ok) return read;
  try {
    return { ok: true, pack: decodePack(read.bytes), size: read.bytes.length };
  } catch (error) {
    return { ok: false, missing: false, reason: `ignoring ${file}: ${(error as Error).message}` };
  }
}

/** Where the pack of this run is and whether a run may serve it, checked as activation checks it. */
export type FoundPack =
  | { readonly state: 'no-project'; readonly file: undefined; readonly reason: string }
  | { readonly state: 'missing' | 'refused'; readonly file: string; readonly reason: string }
  | { readonly state: 'stale'; readonly file: string; readonly reason: string; readonly pack: DecodedPack; readonly size: number }
  | { readonly state: 'fresh'; readonly file: string; readonly pack: DecodedPack; readonly size: number; readonly root: string };

/**
 * Finds and checks the pack (`override`: a file named by the caller, else COLDSTART_PACK, else
 * the project's): one open and read, the owner and format checks, the stamps. Never serves.
 * `fromOwnLocation` as for findProjectRoot: a run's rule, not the CLI's.
 */
export function findPack(override?: string, fromOwnLocation = true): FoundPack {
  const explicit = override ?? process.env['COLDSTART_PACK'];
  const found = findProjectRoot(process.cwd(), fromOwnLocation);
  if (found === undefined && !explicit) return { state: 'no-project', file: undefined, reason: 'no node_modules directory above the working directory' };
  const file = found === undefined ? packPathFor('', explicit) : packPathFor(found, override);
  const read = readPackFile(file);
  if (!read.ok) return { state: read.missing ? 'missing' : 'refused', file, reason: read.reason };
  const header = read.pack.header;
  // Paths in the pack are relative: this run's root is where they live now (a real path,
  // because Node hands the loaders real paths).
  const root = realpathSync.native(found ?? header.root);
  const stale = staleStamp(root, header.stamps);
  if (stale !== undefined) return { state: 'stale', file, reason: stale, pack: read.pack, size: read.size };
  return { state: 'fresh', file, pack: read.pack, size: read.size, root };
}
