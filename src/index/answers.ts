// Learned answers: the resolutions earlier runs computed from this very index, kept beside it,
// so that a warm start answers each require/import with one map lookup instead of running the
// resolver's cold code. An answer is only as good as the index it came from: the table names
// that index (build time and mtime) and is dropped whole when the index changes.
import { posix } from 'node:path';
import { debug } from '../debug.js';
import { readTrustedFile, writeIndexFile } from './store.js';

const FORMAT = 'coldstart-answers/1';
/** A bound on the file: a program that resolves more than this keeps what it has. */
const MAX_ANSWERS = 50_000;

interface AnswerFile {
  readonly format: string;
  readonly index: string;
  /** key -> [root-relative path, format or null]. */
  readonly answers: Record<string, [string, string | null]>;
}

export interface Answer {
  readonly path: string;
  readonly format: string | undefined;
}

export class AnswerTable {
  readonly #root: string;
  readonly #indexId: string;
  readonly #known = new Map<string, Answer>();
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
    return this.#known.get(key);
  }

  learn(key: string, path: string, format: string | undefined): void {
    if (this.#known.size >= MAX_ANSWERS || !path.startsWith(`${this.#root}/`)) return;
    this.#known.set(key, { path, format });
    this.#learned++;
  }

  /** Reads the table saved beside `indexFile`; an unreadable, foreign or other-index table is ignored. */
  load(file: string): void {
    const read = readTrustedFile(file);
    if (!read.ok) {
      if (!read.missing) debug('index', `learned answers ignored: ${read.reason}`);
      return;
    }
    try {
      const data = JSON.parse(read.bytes.toString('utf8')) as AnswerFile;
      if (data.format !== FORMAT || data.index !== this.#indexId || typeof data.answers !== 'object' || data.answers === null) {
        debug('index', `learned answers in ${file} belong to another index or format; ignoring them`);
        return;
      }
      for (const [key, value] of Object.entries(data.answers)) {
        if (!Array.isArray(value) || typeof value[0] !== 'string' || value[0].startsWith('..') || posix.isAbsolute(value[0])) continue;
        this.#known.set(key, { path: `${this.#root}/${value[0]}`, format: typeof value[1] === 'string' ? value[1] : undefined });
      }
    } catch (error) {
      debug('index', `learned answers in ${file} are corrupt (${(error as Error).message}); ignoring them`);
    }
  }

  /** Writes the table (temp file + rename) when this run learned something new. */
  saveIfLearned(file: string): void {
    if (this.#learned === 0) return;
    const answers: Record<string, [string, string | null]> = {};
    const prefix = this.#root.length + 1;
    for (const [key, answer] of this.#known) answers[key] = [answer.path.slice(prefix), answer.format ?? null];
    const data: AnswerFile = { format: FORMAT, index: this.#indexId, answers };
    try {
      writeIndexFile(file, Buffer.from(JSON.stringify(data)));
    } catch (error) {
      debug('index', `could not save learned answers to ${file}: ${(error as Error).message}`);
    }
  }
}

/** Where the table of `indexFile` lives. */
export function answersPathFor(indexFile: string): string {
  return `${indexFile}.answers`;
}
