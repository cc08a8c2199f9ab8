// The on-disk layout of a pack: a small text preamble, one JSON header (what is stored, where,
// and what it looked like on disk), then every module's bytes, each at a 4-byte-aligned offset
// so that its checksum can be computed over 32-bit words. Pure: bytes in, data out, no fs.
//
//   coldstart-pack\n   <format version>\n   <header byte length> <header checksum>\n   <header JSON, space-padded>
//   <body: module bytes, zero-padded to 4>...       (offsets are relative to the body's start)
//   <V8 code caches, zero-padded to 4>...           (optional; Node 20 only, see loader/commonjs-compiler.ts)
//
// Code caches were added without a format change: a reader that does not know them reads
// the first six fields of a module entry and the body offsets it needs, and serves sources.

// The header's checksum is zlib's CRC-32 from its native binding, as the modules' are: 0.4 M
// instructions for eslint's 65 kB header, where the index's WebAssembly one cost 1.6 M (format 5).
import type { StartLine, StoredAside } from '../step-aside.js';
import type { PackMade } from './rebuild.js';

export const MAGIC = 'coldstart-pack';
export const FORMAT_VERSION = 6;

/** Default location, relative to the project root: beside the module-location index. */
export const defaultPackPath = 'node_modules/.cache/coldstart/pack.v1';

/** A file in a recording folder that says its runs are learned deferral's (`pack --lazy`). */
export const LAZY_MARKER = 'lazy';

/** What a module was when packed; paths are relative to the project root (relocatable). */
export type ModuleFormat = 'commonjs' | 'module' | 'json';

/**
 * [path, format, size, mtimeMs, offset, checksum], then, for CommonJS with a V8 code cache,
 * [cache offset, cache length, cache checksum].
 */
export type StoredModule =
  | [string, ModuleFormat, number, number, number, number]
  | [string, ModuleFormat, number, number, number, number, number, number, number];

/** [parent directory, specifier, 'r' (require) | 'i' (import), resolved path, its format or ''] */
export type StoredAnswer = [string, string, 'r' | 'i', string, string];

/** [path, mtimeMs, size (-1 for a directory)] of a file the package manager rewrites; for
 *  node_modules, a hash of the names in it that may be packages; for the root package.json, its
 *  meaning (package-meaning.ts). */
export type StoredStamp = [string, number, number] | [string, number, number, string];

export interface PackHeader {
  readonly root: string;
  readonly createdAt: number;
  /** Node that recorded the runs; informational. */
  readonly node: string;
  /** `<node version>-<arch>` whose V8 made the code caches; absent or '' when there are none. */
  readonly codeCache?: string;
  /** require and import condition sets at recording time; answers are used only when equal. */
  readonly conditions: string;
  readonly stamps: StoredStamp[];
  readonly modules: StoredModule[];
  readonly answers: StoredAnswer[];
  /** Learned deferral (`coldstart pack --lazy`): [path, offset, length, checksum, deferred
   *  specifiers] of each module's rewritten source, served in place of the original. */
  readonly lazy?: StoredLazy[];
  /**
   * The programs learned deferral was learned from: each recorded run's entry, root-relative, as
   * Node names it (`.` for the root) and by its real path; a run with no entry script (`node -e`)
   * names none. Rewrites are served to these only; a pack with rewrites and without this list
   * serves none (packs made before it).
   */
  readonly lazyEntries?: string[];
  /**
   * The recorded programs (as lazyEntries names them) for which a run may switch Node's compile
   * cache on for the packed ES modules: those whose recorded runs did not switch it on themselves.
   * Absent: none (packs made before it, or no program qualifies).
   */
  readonly compileCacheFor?: string[];
  /** Start-up facts of the recorded entries (absent in packs without any). */
  readonly starts?: StoredStart[];
  /**
   * How many installed packages use `import defer`, as the project's index counted them when
   * the pack was made (absent: unknown). The stamps keep it true: another install makes the pack
   * stale. With it, a run the pack serves needs nothing of the index at start-up.
   */
  readonly deferUsers?: number;
  /** Recorded entries too small for serving to pay on a local disk (src/step-aside.ts); also
   *  on the preamble's start line, for the register loader to read without the core. */
  readonly aside?: StoredAside[];
  /** The package scopes of packed first-party modules (absent when there are none). */
  readonly scopes?: StoredScope[];
  /** How it was made: `coldstart pack`'s arguments and working folder (root-relative), for the
   *  rebuild its stale message gives (rebuild.ts). Absent in packs made before it. */
  readonly made?: PackMade;
  readonly bodyLength: number;
}

/**
 * What activation would read from disk about an entry script before the program runs, read at
 * pack time instead: [entry as Node names it, its real path, and each package.json the
 * configuration lookup reads upwards from it, with the fields it uses ("type", "coldstart"),
 * or null where there is none]. Kept only for entries inside node_modules, which the stamps
 * keep fresh. Paths are root-relative.
 */
export type StoredStart = [string, string, [string, { type?: unknown; coldstart?: unknown } | null][]];

/** A rewrite's watched path: a packed first-party file (its packed size and mtime); [path, -1]:
 *  no file there; [path, -2]: nothing there at all (a package folder a bare require would find
 *  first); [path, mtime, size] a file that must be unchanged, or for a package.json, mean the same. */
export type StoredWatch = string | [string, -1] | [string, -2] | [string, number, number] | [string, number, number, string];
/**
 * [first-party directory, each directory Node's format lookup passes from there up without
 * finding a package.json, with its change time (a package.json added there moves it), and the
 * nearest package.json below the root with its mtime, size and meaning, if there is one] for each
 * directory of a packed module whose format its package scope decides (`.js`, no extension): a
 * nested `"type"` added or changed sends those modules to the disk. The root's package.json is
 * a stamp and not repeated.
 */
export type StoredScope = [string, [string, number][], ([string, number, number] | [string, number, number, string])?];
/** [path, offset, length, checksum, specifiers it loads at first use, and what it watches: the
 *  rewrite is served only while those hold] */
export type StoredLazy = [string, number, number, number, string[]] | [string, number, number, number, string[], StoredWatch[]];

/** The module bytes of a pack: in memory, or read from the file as they are asked for. */
export interface PackBody {
  readonly length: number;
  /** `length` bytes at `offset` (relative to the body's start). */
  bytes(offset: number, length: number): Buffer;
  /** Bytes read from the file so far (0 for a body held in memory). */
  readonly bytesRead?: number;
}

/** A body held in memory (decodePack's, and the tests'). */
export function bufferBody(buffer: Buffer): PackBody & { readonly buffer: Buffer } {
  return { buffer, length: buffer.length, bytes: (offset, length) => buffer.subarray(offset, offset + length) };
}

export interface DecodedPack {
  readonly header: PackHeader;
  /** The bytes after the header; module offsets index into it. */
  readonly body: Buffer;
}

let crc32: ((data: Buffer) => number) | undefined;

/**
 * zlib's CRC-32, from its native binding where asking for it prints nothing: loading node:zlib
 * for it cost a served `eslint --version` 9.5 M instructions, the binding 0.2 M. Under
 * `--pending-deprecation` (whose warnings would then name process.binding) it comes from node:zlib.
 */
function crcFunction(): (data: Buffer) => number {
  if (crc32 !== undefined) return crc32;
  const flags = `${process.execArgv.join(' ')} ${process.env['NODE_OPTIONS'] ?? ''}`;
  if (!flags.includes('--pending-deprecation') && process.env['NODE_PENDING_DEPRECATION'] !== '1') {
    try {
      const binding = (process as unknown as { binding(name: string): { crc32?: (data: Buffer, value: number) => number } }).binding('zlib');
      const native = binding.crc32;
      if (typeof native === 'function') return (crc32 = (data) => native(data, 0));
    } catch {
      // no such binding in this Node: node:zlib below
    }
  }
  const zlib = process.getBuiltinModule('node:zlib') as typeof import('node:zlib');
  return (crc32 = (data) => zlib.crc32(data));
}

/** CRC-32 of `length` bytes at `offset` of `body`, native and fast (docs/decisions/startup-costs.md#pack-checksum). */
export function checksum(body: Buffer, offset: number, length: number): number {
  return crcFunction()(body.subarray(offset, offset + length)) | 0;
}

/** The checksum of a module's source as a loader gave it (text as UTF-8); undefined when there is none. */
export function sourceSum(source: unknown): number | undefined {
  let bytes: Buffer;
  if (typeof source === 'string') bytes = Buffer.from(source);
  else if (source instanceof ArrayBuffer) bytes = Buffer.from(source);
  else if (ArrayBuffer.isView(source)) bytes = Buffer.from(source.buffer, source.byteOffset, source.byteLength);
  else return undefined;
  return checksum(bytes, 0, bytes.length);
}

/** The header's CRC-32, unsigned: the preamble writes it in ten digits. */
export function headerChecksum(bytes: Buffer): number {
  return crcFunction()(bytes) >>> 0;
}

const pad4 = (n: number): number => (n + 3) & ~3;

export interface PackInput {
  readonly root: string;
  readonly node: string;
  readonly conditions: string;
  readonly stamps: StoredStamp[];
  readonly modules: { path: string; format: ModuleFormat; mtime: number; bytes: Buffer; codeCache?: Buffer | undefined; lazy?: { source: Buffer; deferred: string[]; watch?: StoredWatch[] | undefined } | undefined }[];
  readonly answers: StoredAnswer[];
  readonly starts?: StoredStart[] | undefined;
  readonly lazyEntries?: string[] | undefined;
  readonly compileCacheFor?: string[] | undefined;
  readonly deferUsers?: number | undefined;
  readonly aside?: StoredAside[] | undefined;
  readonly scopes?: StoredScope[] | undefined;
  /** Tag of the V8 that made the modules' code caches (loader/commonjs-compiler.ts codeCacheTag). */
  readonly codeCacheTag?: string;
  /** Module paths in the order a served run reads them: their bytes go first in the body. */
  readonly servedFirst?: readonly string[] | undefined;
  readonly made?: PackMade | undefined;
}

export function encodePack(input: PackInput): Buffer {
  const withCache = input.codeCacheTag ? input.modules.filter((m) => m.codeCache !== undefined && m.format === 'commonjs') : [];
  const cached = new Set<object>(withCache);
  type Module = PackInput['modules'][number];
  // The body's order: first what a served run reads, module by module in the order the recorded
  // runs loaded them (its learned-deferral source where it has one, else its source, then its
  // code cache), so that such a run reads one short stretch of the file; the rest after.
  const blobs: { m: Module; kind: 'source' | 'cache' | 'lazy'; bytes: Buffer }[] = [];
  const placed = new Set<string>();
  const place = (m: Module, kind: 'source' | 'cache' | 'lazy'): void => {
    const bytes = kind === 'source' ? m.bytes : kind === 'cache' ? m.codeCache : m.lazy?.source;
    if (bytes === undefined || (kind === 'cache' && !cached.has(m)) || placed.has(`${kind}\0${m.path}`)) return;
    placed.add(`${kind}\0${m.path}`);
    blobs.push({ m, kind, bytes });
  };
  const byPath = new Map(input.modules.map((m) => [m.path, m]));
  for (const path of input.servedFirst ?? []) {
    const m = byPath.get(path);
    if (m === undefined) continue;
    place(m, m.lazy !== undefined ? 'lazy' : 'source');
    place(m, 'cache');
  }
  for (const m of input.modules) for (const kind of ['source', 'cache', 'lazy'] as const) place(m, kind);
  let bodyLength = 0;
  for (const blob of blobs) bodyLength += pad4(blob.bytes.length);
  const body = Buffer.alloc(bodyLength);
  const where = new Map<string, [number, number, number]>();
  let at = 0;
  for (const blob of blobs) {
    blob.bytes.copy(body, at);
    where.set(`${blob.kind}\0${blob.m.path}`, [at, blob.bytes.length, checksum(body, at, blob.bytes.length)]);
    at += pad4(blob.bytes.length);
  }
  const modules: StoredModule[] = [];
  const lazy: StoredLazy[] = [];
  for (const m of input.modules) {
    const [offset, , sum] = where.get(`source\0${m.path}`)!;
    const row: StoredModule = [m.path, m.format, m.bytes.length, m.mtime, offset, sum];
    const cache = where.get(`cache\0${m.path}`);
    if (cache !== undefined) (row as number[] & StoredModule).push(...cache);
    modules.push(row);
    const rewritten = where.get(`lazy\0${m.path}`);
    if (rewritten !== undefined) {
      const watch = m.lazy!.watch;
      lazy.push(watch !== undefined && watch.length > 0 ? [m.path, rewritten[0], rewritten[1], rewritten[2], m.lazy!.deferred, watch] : [m.path, rewritten[0], rewritten[1], rewritten[2], m.lazy!.deferred]);
    }
  }
  const header: PackHeader = {
    root: input.root,
    createdAt: Date.now(),
    node: input.node,
    ...(withCache.length > 0 ? { codeCache: input.codeCacheTag! } : {}),
    conditions: input.conditions,
    stamps: input.stamps,
    modules,
    answers: input.answers,
    ...(lazy.length > 0 ? { lazy, lazyEntries: input.lazyEntries ?? [] } : {}),
    ...(input.compileCacheFor !== undefined && input.compileCacheFor.length > 0 ? { compileCacheFor: input.compileCacheFor } : {}),
    ...(input.starts !== undefined && input.starts.length > 0 ? { starts: input.starts } : {}),
    ...(input.deferUsers !== undefined ? { deferUsers: input.deferUsers } : {}),
    ...(input.aside !== undefined && input.aside.length > 0 ? { aside: input.aside } : {}),
    ...(input.scopes !== undefined && input.scopes.length > 0 ? { scopes: input.scopes } : {}),
    ...(input.made !== undefined ? { made: input.made } : {}),
    bodyLength,
  };
  const start: StartLine = { aside: header.aside ?? [], stamps: input.stamps };
  let json = Buffer.from(JSON.stringify(header));
  // Length and checksum are written with a fixed width so that padding the JSON keeps the body aligned.
  // The fourth line is the start line (src/step-aside.ts), outside the checksum: it only ever
  // makes a run step aside, and the register loader reads it without the header.
  const preamble = (n: number, sum: number): string => `${MAGIC}\n${FORMAT_VERSION}\n${String(n).padStart(10, '0')} ${String(sum).padStart(10, '0')}\n${JSON.stringify(start)}\n`;
  const headLength = Buffer.byteLength(preamble(0, 0)) + json.length;
  if (headLength % 4 !== 0) json = Buffer.concat([json, Buffer.alloc(4 - (headLength % 4), 0x20)]);
  return Buffer.concat([Buffer.from(preamble(json.length, headerChecksum(json))), json, body]);
}

/** Bytes a reader takes from the start of a pack first: the preamble and, for most packs, the header. */
export const HEAD_BYTES = 64 * 1024;

/**
 * Decodes the preamble and header from the first bytes of a pack of `fileSize` bytes; `more`
 * returns further bytes when the header is longer than `head`. Throws a one-line reason when
 * the pack is foreign, truncated or corrupt.
 */
export function decodePackHead(head: Buffer, fileSize: number, more: (from: number, length: number) => Buffer): { header: PackHeader; bodyStart: number } {
  const magicEnd = MAGIC.length;
  if (head.length < magicEnd + 14 || head.toString('latin1', 0, magicEnd + 1) !== `${MAGIC}\n`) throw new Error('not a coldstart pack');
  const versionEnd = head.indexOf(10, magicEnd + 1);
  const version = head.toString('latin1', magicEnd + 1, versionEnd);
  if (version !== String(FORMAT_VERSION)) throw new Error(`pack format ${version}, this coldstart reads ${FORMAT_VERSION}`);
  const lengthEnd = versionEnd + 11;
  const sumEnd = lengthEnd + 11;
  if (head[lengthEnd] !== 32 || head[sumEnd] !== 10) throw new Error('corrupt preamble');
  const headerLength = Number(head.toString('latin1', versionEnd + 1, lengthEnd));
  const sum = Number(head.toString('latin1', lengthEnd + 1, sumEnd));
  let lineEnd = head.indexOf(10, sumEnd + 1);
  if (lineEnd === -1) {
    head = Buffer.concat([head, more(head.length, Math.min(fileSize - head.length, 1024 * 1024))]);
    lineEnd = head.indexOf(10, sumEnd + 1);
    if (lineEnd === -1) throw new Error('truncated start line');
  }
  const headerStart = lineEnd + 1;
  const bodyStart = headerStart + headerLength;
  if (!Number.isInteger(headerLength) || bodyStart > fileSize) throw new Error('truncated header');
  let bytes = head;
  if (bodyStart > head.length) {
    bytes = Buffer.concat([head, more(head.length, bodyStart - head.length)]);
    if (bytes.length < bodyStart) throw new Error('truncated header');
  }
  // The answers steer resolution: a header edited in place (same length, still JSON) is refused.
  if (headerChecksum(bytes.subarray(headerStart, bodyStart)) !== sum) throw new Error('corrupt header (checksum)');
  const header = JSON.parse(bytes.toString('utf8', headerStart, bodyStart)) as PackHeader;
  if (typeof header !== 'object' || header === null || !Array.isArray(header.modules) || !Array.isArray(header.answers) || !Array.isArray(header.stamps)) {
    throw new Error('corrupt header');
  }
  if (fileSize - bodyStart !== header.bodyLength) throw new Error(`body is ${fileSize - bodyStart} bytes, header says ${header.bodyLength}`);
  return { header, bodyStart };
}

/** Decodes a whole pack held in memory; throws as decodePackHead does. */
export function decodePack(bytes: Buffer): DecodedPack {
  const { header, bodyStart } = decodePackHead(bytes, bytes.length, () => Buffer.alloc(0));
  // A copy is made only if the body is misaligned (never for a file we wrote).
  let body = bytes.subarray(bodyStart);
  if (body.byteOffset % 4 !== 0) body = Buffer.from(body);
  return { header, body };
}
