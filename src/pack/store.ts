// Where the pack lives and how it is read and written: one open, an ownership check on the
// descriptor, one read of the preamble and header; module bytes are read only when a module is
// served, a window at a time. Writes go to a temp file renamed into place, so a reader sees the
// old pack or the new one, never half of one (an open descriptor keeps reading the one it opened).
import { pathSetting, setting, settingOff } from '../settings.js';
import { closeSync, realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { findProjectRoot, openTrustedFile, readAt } from '../store.js';
import { decodePackHead, defaultPackPath, HEAD_BYTES, type PackBody, type PackHeader } from './format.js';
import { staleStamp } from './freshness.js';

export { defaultPackPath } from './format.js';

/** COLDSTART_PACK values that switch serving off (recording runs use them too). */
export function packOff(value: string | undefined): boolean {
  return settingOff(value);
}

/** `--out`, else COLDSTART_PACK, else the default location under `root`. */
export function packPathFor(root: string, override?: string): string {
  const fromEnv = override ?? setting('COLDSTART_PACK');
  return fromEnv && !packOff(fromEnv) ? resolve(fromEnv) : join(root, defaultPackPath);
}

/** A pack opened for serving: its header, and its body read from the file on demand. */
export interface OpenedPack {
  readonly header: PackHeader;
  readonly body: PackBody & { close(): void };
}

export type ReadResult =
  | { readonly ok: true; readonly pack: OpenedPack; readonly size: number; readonly mtime: number }
  | { readonly ok: false; readonly missing: boolean; readonly reason: string };

/** How much of the body one read takes: what a served run reads lies first, in load order (build.ts servingOrder). */
const WINDOW = 64 * 1024;
/** The most windows one read takes (1 MiB). */
const MAX_RUN = 16;

/**
 * The body of an open pack file, read in aligned windows as modules in them are first served
 * and kept: a run reads each byte at most once, about what it serves in a few reads, and never
 * the modules it does not load. A module larger than a window is read on its own, not kept.
 */
class FileBody implements PackBody {
  readonly #windows = new Map<number, Buffer>();
  #fd: number | undefined;
  bytesRead = 0;
  constructor(fd: number, readonly bodyStart: number, readonly length: number) {
    this.#fd = fd;
  }

  #read(offset: number, length: number): Buffer {
    if (this.#fd === undefined) throw new Error('pack closed');
    const bytes = readAt(this.#fd, this.bodyStart + offset, length);
    if (bytes.length < length) throw new Error('pack truncated while in use');
    this.bytesRead += bytes.length;
    return bytes;
  }

  /** The window after the last read, and how many windows that read took. */
  #next = -1;
  #run = 0;

  #window(index: number): Buffer {
    let window = this.#windows.get(index);
    if (window === undefined) {
      // Reading on where the last read stopped doubles the read, up to 16 windows: a run that
      // serves a long stretch makes a few large reads (on a network filesystem each read is a
      // round trip), one that serves here and there reads little.
      this.#run = index === this.#next ? Math.min(this.#run * 2, MAX_RUN) : 1;
      let count = 1;
      while (count < this.#run && (index + count) * WINDOW < this.length && !this.#windows.has(index + count)) count++;
      const start = index * WINDOW;
      const bytes = this.#read(start, Math.min(count * WINDOW, this.length - start));
      for (let i = 0; i < count; i++) this.#windows.set(index + i, bytes.subarray(i * WINDOW, (i + 1) * WINDOW));
      this.#next = index + count;
      window = this.#windows.get(index)!;
    }
    return window;
  }

  /** The last module larger than a window: it is checked, then served, by two calls. */
  #large: { offset: number; bytes: Buffer } | undefined;

  bytes(offset: number, length: number): Buffer {
    if (length > WINDOW) {
      if (this.#large?.offset !== offset || this.#large.bytes.length !== length) this.#large = { offset, bytes: this.#read(offset, length) };
      return this.#large.bytes;
    }
    const first = Math.floor(offset / WINDOW);
    const last = Math.floor((offset + length - 1) / WINDOW);
    if (length === 0 || first === last) return this.#window(first).subarray(offset - first * WINDOW, offset - first * WINDOW + length);
    // Across a window boundary: the two windows, joined for this module alone.
    const head = this.#window(first).subarray(offset - first * WINDOW);
    return Buffer.concat([head, this.#window(last).subarray(0, length - head.length)]);
  }

  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
}

/**
 * Opens a pack and decodes its header. Refuses a file owned by another user (root excepted) or
 * writable by group or others: whoever can write the pack decides which code runs.
 */
export function readPackFile(file: string, treeRoot?: string): ReadResult {
  const opened = openTrustedFile(file, treeRoot);
  if (!opened.ok) return opened;
  try {
    const head = readAt(opened.fd, 0, Math.min(opened.size, HEAD_BYTES));
    const { header, bodyStart } = decodePackHead(head, opened.size, (from, length) => readAt(opened.fd, from, length));
    return { ok: true, pack: { header, body: new FileBody(opened.fd, bodyStart, header.bodyLength) }, size: opened.size, mtime: opened.mtime };
  } catch (error) {
    closeSync(opened.fd);
    return { ok: false, missing: false, reason: `ignoring ${file}: ${(error as Error).message}` };
  }
}

/** Where the pack of this run is and whether a run may serve it, checked as activation checks it. */
export type FoundPack =
  | { readonly state: 'no-project'; readonly file: undefined; readonly reason: string }
  | { readonly state: 'missing' | 'refused'; readonly file: string; readonly reason: string }
  | { readonly state: 'stale'; readonly file: string; readonly reason: string; readonly header: PackHeader; readonly size: number; readonly mtime: number; readonly root: string }
  | { readonly state: 'fresh'; readonly file: string; readonly pack: OpenedPack; readonly size: number; readonly mtime: number; readonly root: string };

/**
 * Finds and checks the pack (`override`: a file named by the caller, else COLDSTART_PACK, else
 * the project's): one open, the header, the owner and format checks, the stamps. Never serves;
 * a fresh pack is returned open, for the caller to serve or close.
 * `fromOwnLocation` as for findProjectRoot: a run's rule, not the CLI's. `trusted`: skip the stamps.
 */
export function findPack(override?: string, fromOwnLocation = true, trusted = false): FoundPack {
  const explicit = override ?? setting('COLDSTART_PACK');
  const found = findProjectRoot(process.cwd(), fromOwnLocation);
  if (found === undefined && !explicit) return { state: 'no-project', file: undefined, reason: 'no node_modules directory above the working directory' };
  const file = found === undefined ? packPathFor('', explicit) : packPathFor(found, override);
  const read = readPackFile(file, found);
  if (!read.ok) return { state: read.missing ? 'missing' : 'refused', file, reason: read.reason };
  const header = read.pack.header;
  let root: string;
  let stale: string | undefined;
  try {
    // Paths in the pack are relative: this run's root is where they live now (a real path,
    // because Node hands the loaders real paths).
    // The root found from the working directory (or our own location) is real already.
    // A shared install (COLDSTART_SHARED=1) takes COLDSTART_ROOT as the real path it must be.
    root = found !== undefined && (pathSetting('COLDSTART_ROOT') === undefined || trusted) ? found : realpathSync.native(found ?? header.root);
    // A shared install's pack was checked when it was built (settings.ts sharedInstall).
    stale = trusted ? undefined : staleStamp(root, header.stamps);
  } catch (error) {
    read.pack.body.close();
    throw error;
  }
  if (stale !== undefined) {
    read.pack.body.close();
    return { state: 'stale', file, reason: stale, header, size: read.size, mtime: read.mtime, root };
  }
  return { state: 'fresh', file, pack: read.pack, size: read.size, mtime: read.mtime, root };
}
