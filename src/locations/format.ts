// The on-disk layout of the module-location index: a small header parsed at start-up and one
// JSON section per package parsed only when a run first looks inside that package, so the
// cost of reading grows with what a run uses, not with the size of node_modules.
//
//   coldstart-index\n          magic
//   <format version>\n
//   <header byte length> <header checksum>\n
//   <header JSON><section><section>...   (section offsets are relative to the header's end)
//
// The header and each section carry a checksum, checked when they are first read, so a file
// whose bytes changed in place is never believed (format 2).

import { checksum } from './checksum.js';

export const MAGIC = 'coldstart-index';
export const FORMAT_VERSION = 4;

/** A package.json as the index stores it: the fields resolution reads, or 0 when malformed. */
export interface StoredFacts {
  readonly name?: string;
  readonly main?: string;
  readonly exports?: unknown;
  readonly imports?: unknown;
  readonly type?: string;
}

/**
 * One directory tree answered from data. `d` maps a sub-directory (relative to the section's
 * root, '' for the root) to its entries: `name` a file, `name/` a directory, `name@` an entry
 * the index does not follow (a symlink inside a package), whose answers are "unknown".
 * `p` maps a sub-directory to the package.json found in it.
 */
export interface Section {
  readonly d: Record<string, string[]>;
  readonly p: Record<string, StoredFacts | 0>;
  /** Project section only: sub-directory -> [mtime, size] of its package.json at build time. */
  readonly s?: Record<string, [number, number]>;
  /** Project section only: sub-directory (not the root) -> its change time at build time, which
   *  moves when an entry is added, removed or renamed in it (a node_modules or package.json),
   *  and when the directory itself is renamed; and a node_modules directly in a project
   *  directory -> the same (a package added to it). */
  readonly m?: Record<string, number>;
}

/** Something checked at every start: a path relative to the root and what it looked like. */
export interface Stamp {
  readonly path: string;
  /** mtime in ms, size and inode; a file that did not exist is not stamped (its parent is). */
  readonly mtime: number;
  readonly size: number;
  readonly ino: number;
  /** The root package.json's meaning (package-meaning.ts): rewritten with the same, it still holds. */
  readonly meaning?: string;
}

export interface Header {
  readonly version: number;
  /** Absolute root the index was built in (information only: every path is relative). */
  readonly builtRoot: string;
  readonly builtAt: number;
  readonly builtBy: string;
  /** NODE_PATH when the index was built (information: a run uses its own, see staleReason). */
  readonly nodePathEnv: string;
  /** NODE_PATH directories, relative to the root, walked like node_modules directories. */
  readonly nodePath: string[];
  /** node_modules folders above the root and Node's global folders (~/.node_modules, ~/.node_libraries,
   *  <prefix>/lib/node) that did
   *  not exist at build time: absolute, so that require() misses can be answered. */
  readonly absent: string[];
  /** Directories above the root (absolute) -> their package.json facts, 0 when malformed, or
   *  null when they had none: Node's package-scope lookup walks up past the project. */
  readonly ancestors: Record<string, StoredFacts | 0 | null>;
  readonly stamps: Stamp[];
  /** Every node_modules directory (and scope directory, and NODE_PATH entry) -> its entries. */
  readonly nodeModules: Record<string, string[]>;
  /** Symlinked package entries: link path -> target, both relative to the root. */
  readonly links: Record<string, string>;
  /** Package roots that are not directly inside a node_modules directory (workspaces, links). */
  readonly extraRoots: string[];
  /** Section root -> [offset, length, mtime of the root directory at build time, checksum]. */
  readonly sections: Record<string, [number, number, number, number]>;
  /** The project's own directories (outside node_modules): directories and package.json only;
   *  [offset, length, checksum]. */
  readonly project: [number, number, number] | null;
  readonly counts: { readonly packages: number; readonly files: number; readonly dirs: number };
  /** Installed packages (section roots) one of whose ES module files says `import defer` or
   *  `import.defer`: the defer load hook is needed once the program can load them. */
  readonly deferUsers: string[];
  /** Total byte length of the file, to notice truncation without parsing sections. */
  readonly totalBytes: number;
}

export type HeaderDraft = Omit<Header, 'sections' | 'project' | 'totalBytes' | 'version'>;

/** Serialises a header draft, the package sections and the project section into one buffer. */
export function encodeIndex(draft: HeaderDraft, sections: Map<string, { section: Section; mtime: number }>, project: Section | null): Buffer {
  const chunks: Buffer[] = [];
  const offsets: Record<string, [number, number, number, number]> = {};
  let offset = 0;
  for (const [key, { section, mtime }] of sections) {
    const bytes = Buffer.from(JSON.stringify(section), 'utf8');
    offsets[key] = [offset, bytes.length, mtime, checksum(bytes)];
    chunks.push(bytes);
    offset += bytes.length;
  }
  let projectAt: [number, number, number] | null = null;
  if (project !== null) {
    const bytes = Buffer.from(JSON.stringify(project), 'utf8');
    projectAt = [offset, bytes.length, checksum(bytes)];
    chunks.push(bytes);
    offset += bytes.length;
  }
  // The header states the total length, which depends on the header's own length: iterate
  // until the number of digits stops changing (twice at most in practice).
  let total = 0;
  for (;;) {
    const header: Header = { version: FORMAT_VERSION, ...draft, sections: offsets, project: projectAt, totalBytes: total };
    const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
    // Fixed width, so that the header's checksum cannot change the total it states.
    const sum = String(checksum(headerBytes)).padStart(10, '0');
    const prefix = Buffer.from(`${MAGIC}\n${FORMAT_VERSION}\n${headerBytes.length} ${sum}\n`, 'utf8');
    const size = prefix.length + headerBytes.length + offset;
    if (size === total) return Buffer.concat([prefix, headerBytes, ...chunks]);
    total = size;
  }
}

export interface DecodedIndex {
  readonly header: Header;
  /** The file's bytes from its start: at first the prefix and header only (see rest). */
  buffer: Buffer;
  /** Byte position where sections start. */
  readonly base: number;
  /**
   * Reads the file from `start` (to its end when `length` is undefined), the first time a
   * section is needed; undefined when that is no longer the file the header came from
   * (sections then count as unreadable: Node answers).
   */
  rest?: ((start: number, length?: number) => Buffer | undefined) | undefined;
  /**
   * Whether the header's bytes match their checksum, computed on first call. A run asks before
   * its first answer from the index, so a start that looks nothing up (`node -e 0`) hashes nothing.
   */
  headerIntact(): boolean;
}

/** Where the header ends, from the prefix; throws an Error with a one-line reason when bad. */
export function headerEnd(buffer: Buffer): { start: number; length: number; sum: number } {
  const first = buffer.indexOf(10);
  const second = first === -1 ? -1 : buffer.indexOf(10, first + 1);
  const third = second === -1 ? -1 : buffer.indexOf(10, second + 1);
  if (third === -1 || third > 64) throw new Error('not a coldstart index (no header)');
  if (buffer.toString('latin1', 0, first) !== MAGIC) throw new Error('not a coldstart index (bad magic)');
  const version = Number(buffer.toString('latin1', first + 1, second));
  if (version !== FORMAT_VERSION) throw new Error(`index format ${version}, this coldstart reads ${FORMAT_VERSION}`);
  const space = buffer.indexOf(32, second + 1);
  const length = space === -1 || space > third ? NaN : Number(buffer.toString('latin1', second + 1, space));
  const sum = space === -1 ? NaN : Number(buffer.toString('latin1', space + 1, third));
  if (!Number.isInteger(length) || length <= 0 || !Number.isInteger(sum)) throw new Error('corrupt index (prefix)');
  return { start: third + 1, length, sum };
}

/**
 * Parses the prefix and header of `buffer` (the file's first bytes, at least through the
 * header; `fileSize` its full length); throws an Error with a one-line reason when bad.
 * `checkHeader`: verify the header's checksum now (else headerIntact() does, when asked).
 */
export function decodeIndex(
  buffer: Buffer,
  fileSize: number = buffer.length,
  rest?: (start: number, length?: number) => Buffer | undefined,
  checkHeader = true,
): DecodedIndex {
  const { start, length, sum } = headerEnd(buffer);
  if (start + length > buffer.length) throw new Error('truncated index (header)');
  let intact: boolean | undefined;
  const headerIntact = (): boolean => (intact ??= checksum(buffer, start, start + length) === sum);
  if (checkHeader && !headerIntact()) throw new Error('corrupt index (header checksum)');
  let header: Header;
  try {
    header = JSON.parse(buffer.toString('utf8', start, start + length)) as Header;
  } catch {
    throw new Error('corrupt index (header is not JSON)');
  }
  if (header === null || typeof header !== 'object' || header.version !== FORMAT_VERSION) throw new Error('corrupt index (header)');
  if (header.totalBytes !== fileSize) throw new Error(`truncated index (${fileSize} of ${header.totalBytes} bytes)`);
  if (typeof header.sections !== 'object' || typeof header.nodeModules !== 'object' || !Array.isArray(header.stamps)) {
    throw new Error('corrupt index (header fields)');
  }
  return { header, buffer, base: start + length, rest: buffer.length < fileSize ? rest : undefined, headerIntact };
}

/**
 * Parses one section on demand; undefined (never a throw) when its bytes are not valid. The
 * first package section a run needs brings in the rest of the file in one read; `alone` (the
 * project section, which the configuration lookups of most runs need) reads just its bytes.
 */
export function decodeSection(index: DecodedIndex, at: readonly [number, number, number] | readonly [number, number, number, number], alone = false): Section | undefined {
  const [offset, length] = at;
  const sum = at.length === 4 ? at[3] : at[2];
  const start = index.base + offset;
  if (!(offset >= 0 && length > 0 && start + length <= index.header.totalBytes)) return undefined;
  let bytes = index.buffer;
  let from = start;
  if (start + length > bytes.length && index.rest !== undefined) {
    if (alone) {
      const part = index.rest(start, length);
      if (part === undefined) return undefined;
      bytes = part;
      from = 0;
    } else {
      const tail = index.rest(index.buffer.length);
      index.rest = undefined;
      if (tail !== undefined) index.buffer = Buffer.concat([index.buffer, tail]);
      bytes = index.buffer;
    }
  }
  if (from + length > bytes.length) return undefined;
  if (checksum(bytes, from, from + length) !== sum) return undefined;
  try {
    const section = JSON.parse(bytes.toString('utf8', from, from + length)) as Section;
    if (section === null || typeof section.d !== 'object' || typeof section.p !== 'object') return undefined;
    return section;
  } catch {
    return undefined;
  }
}

/** The first section (or 'project') whose bytes fail their checksum or do not parse; for doctor, which checks them all. */
export function firstCorruptSection(index: DecodedIndex): string | undefined {
  for (const [key, at] of Object.entries(index.header.sections)) if (decodeSection(index, at) === undefined) return key;
  const project = index.header.project;
  return project !== null && decodeSection(index, project, true) === undefined ? 'project' : undefined;
}
