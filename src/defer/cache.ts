// The on-disk cache of transformed files, keyed by a hash of the source, the file, coldstart's
// version and the options. Fail safe: entries are written to a temp file and renamed, checked
// against their key when read, and any error means "no entry" (one debug line), never a failure.
import { pathSetting, settingOff } from '../settings.js';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { debug } from '../debug.js';
import { VERSION } from '../generated/version.js';
import { makeDirectory, writeFileAtomic } from '../store.js';

/** Bumped whenever the transform's output for the same input changes shape. */
const cacheFormat = 4;

/** An entry: the transformed code, or `unchanged` for a file the transform leaves as it is. */
export type CacheEntry = { readonly code: string } | 'unchanged';

export class DeferCache {
  dir: string | undefined;
  #created = false;

  /** `dir` undefined disables the cache. */
  constructor(dir: string | undefined) {
    this.dir = dir;
  }

  /**
   * The entry's key: 128 bits from four multiplicative hash lanes over the parts and their
   * lengths. Not a cryptographic hash (the cache is the user's own directory): loading
   * node:crypto costs more than a cached run's whole transform (docs/decisions/startup-costs.md#defer-cache-key).
   */
  key(parts: readonly string[]): string {
    let h1 = 0x811c9dc5;
    let h2 = 0x9e3779b9;
    let h3 = 0x85ebca6b;
    let h4 = 0xc2b2ae35;
    const mix = (text: string): void => {
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        h1 = Math.imul(h1 ^ c, 0x01000193);
        h2 = Math.imul(h2 ^ c, 0x5bd1e995);
        h3 = Math.imul(h3 ^ c, 0x27d4eb2d);
        h4 = Math.imul(h4 ^ c, 0x165667b1);
      }
      // The length ends each part, so that moving characters between parts changes the key.
      h1 = Math.imul(h1 ^ text.length, 0x01000193);
      h2 = Math.imul(h2 ^ text.length, 0x5bd1e995);
      h3 = Math.imul(h3 ^ text.length, 0x27d4eb2d);
      h4 = Math.imul(h4 ^ text.length, 0x165667b1);
    };
    mix(`coldstart-defer ${cacheFormat} ${VERSION}`);
    for (const part of parts) mix(part);
    const fmix = (h: number): string => {
      h ^= h >>> 16;
      h = Math.imul(h, 0x85ebca6b);
      h ^= h >>> 13;
      h = Math.imul(h, 0xc2b2ae35);
      h ^= h >>> 16;
      return (h >>> 0).toString(16).padStart(8, '0');
    };
    return fmix(h1 ^ h3) + fmix(h2 ^ h4) + fmix(h3 + h1) + fmix(h4 + h2);
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
    if (!this.#created) {
      try {
        makeDirectory(this.dir);
        this.#created = true;
      } catch (error) {
        // A directory that cannot be made means no cache for the rest of the run.
        debug('defer', `cannot make cache directory ${this.dir}: ${(error as Error).message}; caching nothing`);
        this.dir = undefined;
        return;
      }
    }
    try {
      writeFileAtomic(file, Buffer.from(`/*coldstart-defer ${key}*/${entry === 'unchanged' ? '\0unchanged' : entry.code}`));
    } catch (error) {
      debug('defer', `cannot write cache entry ${file}: ${(error as Error).message}`);
    }
  }
}

/**
 * Where the cache lives: COLDSTART_DEFER_CACHE (a directory, or `0` to turn it off), else
 * node_modules/.cache/coldstart/defer under the project root, else a directory in the OS temp dir.
 */
export function defaultCacheDir(root: string | undefined): string | undefined {
  const chosen = pathSetting('COLDSTART_DEFER_CACHE');
  if (settingOff(chosen)) return undefined;
  if (chosen !== undefined) return chosen;
  if (root !== undefined && existsSync(join(root, 'node_modules'))) return join(root, 'node_modules', '.cache', 'coldstart', 'defer');
  const user = typeof process.getuid === 'function' ? String(process.getuid()) : 'user';
  return join(temporaryDir(), `coldstart-defer-${user}`);
}

/**
 * os.tmpdir() without loading node:os where its rule is short: one builtin fewer at every
 * auto-defer start whose project has no node_modules (the cache then lives in the temp dir).
 */
function temporaryDir(): string {
  if (process.platform === 'win32') return process.getBuiltinModule('node:os').tmpdir();
  const dir = process.env['TMPDIR'] || process.env['TMP'] || process.env['TEMP'] || '/tmp';
  return dir.length > 1 && dir.endsWith('/') ? dir.slice(0, -1) : dir;
}
