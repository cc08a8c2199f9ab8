// The auto-defer configuration: `"coldstart": { "defer": [...] }` in the program's package.json,
// or the same object in coldstart.config.json next to it. Read once per process, lazily, and
// never the reason a program fails: an unreadable or malformed file means "no configuration".
import { readFileSync, realpathSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { debug } from '../debug.js';

export interface DeferConfig {
  /** The directory holding the package.json or coldstart.config.json the config came from. */
  readonly root: string;
  /** Package names, globs (`@aws-sdk/*`) or exact specifiers (`./heavy.js`) to load on first use. */
  readonly defer: readonly string[];
  /** Transform files inside node_modules too (off by default). */
  readonly deferNodeModules: boolean;
  /** Where the config was found, for messages. */
  readonly file: string;
}

/** Reads `{ defer, deferNodeModules }` out of a parsed object; undefined when it has no `defer`. */
export function parseDeferSection(section: unknown, root: string, file: string): DeferConfig | undefined {
  if (section === null || typeof section !== 'object') return undefined;
  const raw = (section as Record<string, unknown>)['defer'];
  if (!Array.isArray(raw)) {
    if (raw !== undefined) debug('defer', `${file}: "defer" must be an array of package names, ignoring it`);
    return undefined;
  }
  const defer = raw.filter((item): item is string => typeof item === 'string' && item !== '');
  return { root, defer, deferNodeModules: (section as Record<string, unknown>)['deferNodeModules'] === true, file };
}

/** Answers "is this a file?" from data (the module-location index) where it can: false or
 *  true for certain, undefined when it does not know. Set before the configuration is read. */
let knownFiles: ((path: string) => boolean | undefined) | undefined;

/** Lets the configuration lookup skip reading files the index knows are absent. */
export function setKnownFiles(isFile: ((path: string) => boolean | undefined) | undefined): void {
  knownFiles = isFile;
}

function readJson(file: string): unknown {
  if (knownFiles?.(file) === false) return undefined;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    debug('defer', `${file} is not valid JSON, ignoring it: ${(error as Error).message}`);
    return undefined;
  }
}

/**
 * The configuration of the project that `start` (a directory) belongs to: the nearest directory
 * upwards that holds a package.json or a coldstart.config.json; the config file wins.
 */
export function findDeferConfig(start: string): DeferConfig | undefined {
  let dir = resolve(start);
  for (;;) {
    const configFile = join(dir, 'coldstart.config.json');
    const fromFile = readJson(configFile);
    if (fromFile !== undefined) return parseDeferSection(fromFile, dir, configFile);
    const packageFile = join(dir, 'package.json');
    const pkg = readJson(packageFile);
    if (pkg !== undefined) return parseDeferSection((pkg as Record<string, unknown> | null)?.['coldstart'], dir, packageFile);
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

let loaded: { config: DeferConfig | undefined } | undefined;

/** The configuration of the running program (found from its entry script, else the cwd), read once. */
export function programDeferConfig(): DeferConfig | undefined {
  if (loaded === undefined) {
    let start = process.cwd();
    const entry = process.argv[1];
    if (entry !== undefined && entry !== '') {
      try {
        start = dirname(realpathSync(entry));
      } catch {
        // `node -e`, or an entry Node resolves itself (no extension): the cwd is the best guess
      }
    }
    loaded = { config: findDeferConfig(start) };
    if (loaded.config) debug('defer', `config from ${loaded.config.file}: ${loaded.config.defer.join(', ') || '(empty)'}`);
  }
  return loaded.config;
}

/** Test seam: forget the configuration read so far. */
export function resetDeferConfig(): void {
  loaded = undefined;
}

/** Does `specifier` (as written in an import) match one of the configured patterns? */
export function matchesDefer(patterns: readonly string[], specifier: string): boolean {
  for (const pattern of patterns) if (matchOne(pattern, specifier)) return true;
  return false;
}

const globCache = new Map<string, RegExp>();

function matchOne(pattern: string, specifier: string): boolean {
  if (pattern === specifier) return true;
  if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('node:') || pattern.startsWith('.')) return false;
  // A package name covers its subpaths: `lodash` matches `lodash/fp`.
  if (!pattern.includes('*')) return specifier.startsWith(pattern + '/');
  let re = globCache.get(pattern);
  if (re === undefined) {
    const body = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*');
    re = new RegExp(`^${body}(?:/.*)?$`);
    globCache.set(pattern, re);
  }
  return re.test(specifier);
}
