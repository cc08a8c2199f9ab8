// The auto-defer configuration: `"coldstart": { "defer": [...] }` in the program's package.json,
// or the same object in coldstart.config.json next to it. Read once per process, lazily, and
// never the reason a program fails: an unreadable or malformed file means "no configuration".
import { readFileSync } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { debug } from '../debug.js';
import { entryRealPath, knownJson } from '../loader/entry.js';
import { parseJson } from '../package-meaning.js';

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
  const known = knownJson(file);
  if (known !== undefined) return known === null ? undefined : known.value;
  if (knownFiles?.(file) === false) return undefined;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    return parseJson(text) as unknown;
  } catch (error) {
    debug('defer', `${file} is not valid JSON, ignoring it: ${(error as Error).message}`);
    return undefined;
  }
}

interface Found {
  config: DeferConfig | undefined;
  /**
   * The "type" of `start`'s package scope when the walk ended at its package.json (undefined:
   * no "type"); null when it cannot tell (a coldstart.config.json came first, no package.json,
   * or the walk left a node_modules directory, where Node's scope lookup stops).
   */
  scopeType: string | undefined | null;
}

/**
 * The configuration of the project that `start` (a directory) belongs to: the nearest directory
 * upwards that holds a package.json or a coldstart.config.json (not looked for inside
 * node_modules); the config file wins.
 */
function lookUp(start: string): Found {
  let dir = resolve(start);
  let crossed = false;
  for (;;) {
    // Inside node_modules only package.json counts: a coldstart.config.json is the program's
    // own, and probing every directory of an installed bin for one costs failed opens.
    const configFile = join(dir, 'coldstart.config.json');
    const fromFile = inNodeModules(dir) ? undefined : readJson(configFile);
    if (fromFile !== undefined) return { config: parseDeferSection(fromFile, dir, configFile), scopeType: null };
    const packageFile = join(dir, 'package.json');
    const pkg = readJson(packageFile) as Record<string, unknown> | null | undefined;
    if (pkg !== undefined) {
      const type = pkg?.['type'];
      // A package.json at the file-system root: Node 22+ never reads it, Node 20 does, so the
      // scope is unknown there, as resolve/facts.ts packageScope says.
      const atRoot = dirname(dir) === dir;
      return { config: parseDeferSection(pkg?.['coldstart'], dir, packageFile), scopeType: crossed || atRoot ? null : typeof type === 'string' ? type : undefined };
    }
    if (basename(dir) === 'node_modules') crossed = true;
    const parent = dirname(dir);
    if (parent === dir) return { config: undefined, scopeType: null };
    dir = parent;
  }
}

function inNodeModules(dir: string): boolean {
  return dir.includes(`${sep}node_modules${sep}`) || dir.endsWith(`${sep}node_modules`);
}

/** The configuration of the project `dir` belongs to (for build-time lowering, which has no entry script). */
export function deferConfigAt(dir: string): DeferConfig | undefined {
  return lookUp(dir).config;
}

/**
 * The `eager` list of the project whose root is `dir` (coldstart.config.json first, as for
 * `defer`): globs of module paths that learned deferral (`coldstart pack --lazy`) leaves alone.
 */
export function eagerListAt(dir: string): string[] {
  const fromFile = readJson(join(dir, 'coldstart.config.json')) as Record<string, unknown> | null | undefined;
  const section = fromFile !== undefined ? fromFile : ((readJson(join(dir, 'package.json')) as Record<string, unknown> | null | undefined)?.['coldstart'] as Record<string, unknown> | undefined);
  const list = section?.['eager'];
  return Array.isArray(list) ? list.filter((item): item is string => typeof item === 'string' && item !== '') : [];
}

let loaded: Found | undefined;

/** The configuration of the running program (found from its entry script, else the cwd), read once. */
export function programDeferConfig(): DeferConfig | undefined {
  if (loaded === undefined) {
    // `node -e`, or an entry Node resolves itself (no extension): the cwd is the best guess.
    const entry = entryRealPath();
    loaded = entry === undefined ? { ...lookUp(process.cwd()), scopeType: null } : lookUp(dirname(entry));
    if (loaded.config) debug('defer', `config from ${loaded.config.file}: ${loaded.config.defer.join(', ') || '(empty)'}`);
  }
  return loaded.config;
}

/**
 * Whether the entry script is certainly CommonJS by Node's rules (`.cjs`, or a `.js` file whose
 * package scope says "type": "commonjs"), learnt from the configuration lookup at no extra cost.
 */
export function entryIsCommonJs(): boolean {
  const entry = entryRealPath();
  if (entry === undefined) return false;
  if (entry.endsWith('.cjs') || entry.endsWith('.cts')) return true;
  if (!entry.endsWith('.js')) return false;
  programDeferConfig();
  return loaded?.scopeType === 'commonjs';
}

/** The "type" of the entry's package scope as the configuration lookup found it (undefined: none
 *  given; null: not known). */
export function entryScopeType(): string | undefined | null {
  programDeferConfig();
  return loaded === undefined ? null : loaded.scopeType;
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
