// The on-disk cache of transformed files, keyed by a hash of the source, the file, coldstart's
// version and the options. Fail safe: entries are written to a temp file and renamed, checked
// against their key when read, and any error means "no entry" (one debug line), never a failure.
import { existsSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { debug } from '../debug.js';
import { VERSION } from '../generated/version.js';

/** Bumped whenever the transform's output for the same input changes shape. */
const cacheFormat = 2;

/** An entry: the transformed code, or `unchanged` for a file the transform leaves as it is. */
export type CacheEntry = { readonly code: string } | 'unchanged';

export class DeferCache {
  readonly dir: string | undefined;
  #created = false;

  /** `dir` undefined disables the cache. */
  constructor(dir: string | undefined) {
    this.dir = dir;
  }

  key(parts: readonly string[]): string {
    // crypto is reached only when a file is hashed: loading it costs ~5 ms at start-up.
    const hash = process.getBuiltinModule('node:crypto').createHash('sha256');
    hash.update(`coldstart-defer ${cacheFormat} ${VERSION}\0`);
    for (const part of parts) hash.update(part).update('\0');
    return hash.digest('hex').slice(0, 40);
  }

  get(key: string): CacheEntry | undefined {
    if (this.dir === undefined) return undefined;
    let text: string;
    try {
      text = readFileSync(join(this.dir, `${key}.js`), 'utf8');
    } catch {
      return undefined;
    }
    const header = `/*coldstart-defer ${key}*/`;
    if (!text.startsWith(header)) {
      debug('defer', `cache entry ${key} is corrupt, ignoring it`);
      return undefined;
    }
    const body = text.slice(header.length);
    return body === '\0unchanged' ? 'unchanged' : { code: body };
  }

  put(key: string, entry: CacheEntry): void {
    if (this.dir === undefined) return;
    const file = join(this.dir, `${key}.js`);
    const temp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    try {
      if (!this.#created) {
        mkdirSync(this.dir, { recursive: true });
        this.#created = true;
      }
      writeFileSync(temp, `/*coldstart-defer ${key}*/${entry === 'unchanged' ? '\0unchanged' : entry.code}`);
      renameSync(temp, file);
    } catch (error) {
      debug('defer', `cannot write cache entry ${file}: ${(error as Error).message}`);
      try {
        unlinkSync(temp);
      } catch {
        // nothing was written
      }
    }
  }
}

/**
 * Where the cache lives: COLDSTART_DEFER_CACHE (a directory, or `0` to turn it off), else
 * node_modules/.cache/coldstart/defer under the project root, else a directory in the OS temp dir.
 */
export function defaultCacheDir(root: string | undefined): string | undefined {
  const setting = process.env['COLDSTART_DEFER_CACHE'];
  if (setting === '0' || setting === 'false') return undefined;
  if (setting !== undefined && setting !== '') return setting;
  if (root !== undefined && existsSync(join(root, 'node_modules'))) return join(root, 'node_modules', '.cache', 'coldstart', 'defer');
  const user = typeof process.getuid === 'function' ? String(process.getuid()) : 'user';
  return join(tmpdir(), `coldstart-defer-${user}`);
}
