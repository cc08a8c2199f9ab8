// Where the pack lives and how it is read and written: one open, an ownership check on the
// descriptor, one read of the whole file; writes go to a temp file renamed into place, so a
// reader sees the old pack or the new one, never half of one.
import { chmodSync, closeSync, fstatSync, mkdirSync, openSync, readSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { decodePack, type DecodedPack } from './format.js';

/** Default location, relative to the project root: beside the module-location index. */
export const defaultPackPath = 'node_modules/.cache/coldstart/pack.v1';

/** COLDSTART_PACK values that switch serving off (recording runs use them too). */
export function packOff(value: string | undefined): boolean {
  return value === '0' || value === 'off' || value === 'false';
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
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { ok: false, missing: code === 'ENOENT' || code === 'ENOTDIR', reason: `cannot open ${file}: ${code ?? 'error'}` };
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return { ok: false, missing: false, reason: `${file} is not a regular file` };
    const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
    if (uid !== undefined && st.uid !== uid && st.uid !== 0) {
      return { ok: false, missing: false, reason: `refusing ${file}: owned by uid ${st.uid}, not by this user (${uid}) or root` };
    }
    if (uid !== undefined && (st.mode & 0o022) !== 0) {
      return { ok: false, missing: false, reason: `refusing ${file}: writable by group or others (mode ${(st.mode & 0o777).toString(8)})` };
    }
    const buffer = Buffer.allocUnsafeSlow(st.size);
    let filled = 0;
    while (filled < st.size) {
      const n = readSync(fd, buffer, filled, st.size - filled, filled);
      if (n === 0) break;
      filled += n;
    }
    return { ok: true, pack: decodePack(filled === st.size ? buffer : buffer.subarray(0, filled)), size: filled };
  } catch (error) {
    return { ok: false, missing: false, reason: `ignoring ${file}: ${(error as Error).message}` };
  } finally {
    closeSync(fd);
  }
}

/** Writes `bytes` to `file` atomically (temp file in the same directory, then rename). */
export function writePackFile(file: string, bytes: Buffer): void {
  mkdirSync(dirname(file), { recursive: true });
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
