// Learned answers: the resolutions earlier runs computed from this very index, kept beside it,
// so that a warm start answers each require/import with one map lookup instead of running the
// resolver's cold code. An answer is only as good as the index it came from: the table names
// that index (build time and mtime) and is dropped whole when the index changes.
import { posix } from 'node:path';
import { debug } from '../debug.js';
import { checksum } from './checksum.js';
import { readTrustedFile, writeFileAtomic } from '../store.js';

const FORMAT = 'coldstart-answers/2';
/** A bound on the file: a program that resolves more than this keeps what it has. */
const MAX_ANSWERS = 50_000;
/** Lookups answered by searching the saved text before it is parsed whole. */
const SEARCHES = 8;

/** How a table written for `indexId` begins: `{"format":...,"index":...,"answers":{`. */
function prefixFor(indexId: string): string {
  return `{"format":${JSON.stringify(FORMAT)},"index":${JSON.stringify(indexId)},"answers":{`;
}

/** One saved answer's value, `[path, format]`, found in the table's text; undefined when absent. */
export function searchAnswer(text: string, key: string): unknown {
  const needle = `${JSON.stringify(key)}:`;
  // A key starts right after `{` or `,`; inside a JSON string every `"` follows a backslash, so
  // a match there cannot be mistaken for a key.
  for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + 1)) {
    const before = text.charCodeAt(at - 1);
    if (before !== 123 /* { */ && before !== 44 /* , */) continue;
    const end = valueEnd(text, at + needle.length);
    return end === -1 ? undefined : JSON.parse(text.slice(at + needle.length, end));
  }
  return undefined;
}

/**
 * Where the value `["...",null]` or `["...","..."]` starting at `from` ends (one past its `]`),
 * or -1. A scan rather than a regular expression: compiling one at the first lookup showed up
 * in start-up profiles.
 */
function valueEnd(text: string, from: number): number {
  if (text.charCodeAt(from) !== 91 /* [ */) return -1;
  const path = stringEnd(text, from + 1);
  if (path === -1 || text.charCodeAt(path) !== 44 /* , */) return -1;
  const format = text.startsWith('null', path + 1) ? path + 5 : stringEnd(text, path + 1);
  return format !== -1 && text.charCodeAt(format) === 93 /* ] */ ? format + 1 : -1;
}

/** One past the end of the JSON string starting at `from`, or -1. */
function stringEnd(text: string, from: number): number {
  if (text.charCodeAt(from) !== 34 /* " */) return -1;
  for (let i = from + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 92 /* \ */) i++;
    else if (c === 34) return i + 1;
  }
  return -1;
}

interface AnswerFile {
  readonly format: string;
  readonly index: string;
  /** key -> [root-relative path, format or null]. */
  readonly answers: Record<string, unknown>;
}

export interface Answer {
  readonly path: string;
  readonly format: string | undefined;
}

export class AnswerTable {
  readonly #root: string;
  readonly #indexId: string;
  readonly #known = new Map<string, Answer>();
  /** The saved table as parsed, looked into one key at a time: a run uses a few hundred of
   *  the answers every program sharing the index has learned, so none is converted up front. */
  #saved: Record<string, unknown> | undefined;
  /** The saved table's text, searched key by key before it is worth parsing (see #lookup). */
  #text: string | undefined;
  #searches = 0;
  #savedCount: number | undefined;
  #learned = 0;
  /** Answers served from the table, for `coldstart doctor`. */
  served = 0;

  constructor(root: string, indexId: string) {
    this.#root = root.endsWith('/') ? root.slice(0, -1) : root;
    this.#indexId = indexId;
  }

  /** The table's key: the answer depends on the parent's directory, not its file. */
  key(mode: string, conditions: string, parentPath: string, specifier: string): string | undefined {
    if (!parentPath.startsWith(this.#root) || parentPath.charCodeAt(this.#root.length) !== 47 /* / */) return undefined;
    const dir = parentPath.slice(this.#root.length, parentPath.lastIndexOf('/'));
    return `${mode}\n${conditions}\n${dir}\n${specifier}`;
  }

  get(key: string): Answer | undefined {
    this.#ensureRead();
    const known = this.#known.get(key);
    if (known !== undefined) return known;
    const value = this.#lookup(key);
    if (value === undefined) return undefined;
    const path = this.#savedPath(value);
    if (path === undefined) return undefined;
    const format = (value as unknown[])[1];
    const answer: Answer = { path, format: typeof format === 'string' ? format : undefined };
    this.#known.set(key, answer);
    return answer;
  }

  /** The files earlier runs resolved to, in the order they were first learned. */
  paths(): string[] {
    const seen = new Set<string>();
    this.#ensureRead();
    this.#parse();
    if (this.#saved !== undefined) {
      for (const value of Object.values(this.#saved)) {
        const path = this.#savedPath(value);
        if (path !== undefined) seen.add(path);
      }
    }
    return [...seen];
  }

  /**
   * A saved answer's raw value. The first few are found by searching the file's text, so a warm
   * start of a small program parses nothing (docs/decisions/startup-costs.md#answers-search-before-parse);
   * past SEARCHES lookups the table is parsed once, as a big program needs.
   */
  #lookup(key: string): unknown {
    this.#verify();
    if (this.#text !== undefined && this.#searches < SEARCHES) {
      this.#searches++;
      return searchAnswer(this.#text, key);
    }
    this.#parse();
    return this.#saved !== undefined && Object.hasOwn(this.#saved, key) ? this.#saved[key] : undefined;
  }

  /**
   * The table's checksum, checked before its first answer, not at load: a start that looks
   * nothing up hashes nothing. A table edited in place is dropped whole.
   */
  #verify(): void {
    const pending = this.#unverified;
    if (pending === undefined) return;
    this.#unverified = undefined;
    if (checksum(pending.bytes, pending.from) !== pending.sum) {
      debug('index', `learned answers in ${pending.file} fail their checksum; ignoring them`);
      this.#text = undefined;
    }
  }

  #unverified: { readonly bytes: Buffer; readonly from: number; readonly sum: number; readonly file: string } | undefined;

  #parse(): void {
    this.#verify();
    const text = this.#text;
    if (text === undefined) return;
    this.#text = undefined;
    try {
      const data = JSON.parse(text) as AnswerFile;
      if (typeof data.answers === 'object' && data.answers !== null) this.#saved = data.answers;
    } catch (error) {
      debug('index', `learned answers are corrupt (${(error as Error).message}); ignoring them`);
    }
  }

  /** The absolute path a saved answer names; undefined for a malformed one or one outside the root. */
  #savedPath(value: unknown): string | undefined {
    if (!Array.isArray(value) || typeof value[0] !== 'string' || value[0].startsWith('..') || posix.isAbsolute(value[0])) return undefined;
    return `${this.#root}/${value[0]}`;
  }

  learn(key: string, path: string, format: string | undefined): void {
    if (this.#count() >= MAX_ANSWERS || !path.startsWith(`${this.#root}/`)) return;
    this.#known.set(key, { path, format });
    this.#learned++;
  }

  /** The file named by load(), read at the first question: a start the pack answers reads nothing. */
  #pending: string | undefined;

  /** Names the table saved beside the index, to be read when the first answer is asked for. */
  load(file: string): void {
    this.#pending = file;
  }

  #ensureRead(): void {
    const file = this.#pending;
    if (file === undefined) return;
    this.#pending = undefined;
    this.#read(file);
  }

  /** Reads a saved table; an unreadable, foreign or other-index table is ignored. */
  #read(file: string): void {
    const read = readTrustedFile(file, Infinity, 0, this.#root);
    if (!read.ok) {
      if (!read.missing) debug('index', `learned answers ignored: ${read.reason}`);
      return;
    }
    // What saveIfLearned writes starts with these fields and ends with the answers' end: a file
    // of another format or index, or one cut short, is not searched (nor parsed) at all. An
    // answer found by searching is checked exactly as a parsed one is (get, #savedPath, and the
    // view's answerStillValid), so searching trusts nothing that parsing would not.
    // The first line is the checksum of the rest (#verify): a table edited in place is not believed.
    const bytes = read.bytes;
    const newline = bytes.indexOf(10);
    const sum = newline === -1 ? NaN : Number(bytes.toString('latin1', 0, newline));
    const text = bytes.toString('utf8', newline + 1);
    if (!Number.isInteger(sum) || !text.startsWith(prefixFor(this.#indexId)) || !text.endsWith('}}')) {
      // The common case is an index rebuilt since (coldstart index, coldstart pack): said as such.
      const earlier = Number.isInteger(sum) && text.startsWith(`{"format":${JSON.stringify(FORMAT)},"index":`) && text.endsWith('}}');
      debug('index', earlier ? `learned answers in ${file} were learned from an earlier index; learning them again` : `learned answers in ${file} are of another format, or corrupt; ignoring them`);
      return;
    }
    this.#text = text;
    this.#unverified = { bytes, from: newline + 1, sum, file };
  }

  #count(): number {
    this.#ensureRead();
    this.#parse();
    this.#savedCount ??= this.#saved === undefined ? 0 : Object.keys(this.#saved).length;
    return this.#known.size + this.#savedCount;
  }

  /** Writes the table (temp file + rename) when this run learned something new. */
  saveIfLearned(file: string): void {
    if (this.#learned === 0) return;
    this.#ensureRead();
    this.#parse();
    const answers: Record<string, unknown> = { ...this.#saved };
    const prefix = this.#root.length + 1;
    for (const [key, answer] of this.#known) answers[key] = [answer.path.slice(prefix), answer.format ?? null];
    const data: AnswerFile = { format: FORMAT, index: this.#indexId, answers };
    try {
      const json = Buffer.from(JSON.stringify(data));
      writeFileAtomic(file, Buffer.concat([Buffer.from(`${checksum(json)}\n`), json]));
    } catch (error) {
      debug('index', `could not save learned answers to ${file}: ${(error as Error).message}`);
    }
  }
}

/**
 * Where the table of `indexFile` for the program started as `entry` (process.argv[1]) lives.
 * One table per program: a run reads the few hundred answers its own program learned, not
 * those of every program sharing the index (docs/decisions/startup-costs.md#answers-search-before-parse).
 */
export function answersPathFor(indexFile: string, entry: string | undefined): string {
  const text = entry ?? '';
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return `${indexFile}.answers-${(h >>> 0).toString(16).padStart(8, '0')}`;
}
