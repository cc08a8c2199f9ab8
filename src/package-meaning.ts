// What coldstart's caches take from a package.json: the fields Node reads to resolve a
// specifier and to pick a module's format, and coldstart's own settings. A file rewritten
// with the same of these (a version bump, a script added, an install that rewrites it) leaves
// the index and the pack valid; a stat that moved costs one read and one parse, not the cache.
import type { StoredFacts } from './locations/format.js';

/** A package.json's text parsed as Node parses it: a leading byte order mark (editors on Windows write one) is skipped. */
export function parseJson(text: string): unknown {
  return JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
}

function parsed(text: string): Record<string, unknown> | 0 {
  let data: unknown;
  try {
    data = parseJson(text);
  } catch {
    return 0;
  }
  return data === null || typeof data !== 'object' || Array.isArray(data) ? {} : (data as Record<string, unknown>);
}

function pick(json: Record<string, unknown>): { -readonly [K in keyof StoredFacts]: StoredFacts[K] } {
  const facts: { -readonly [K in keyof StoredFacts]: StoredFacts[K] } = {};
  if (typeof json['name'] === 'string') facts.name = json['name'];
  if (typeof json['main'] === 'string') facts.main = json['main'];
  if (json['exports'] !== undefined) facts.exports = json['exports'];
  if (json['imports'] !== undefined) facts.imports = json['imports'];
  if (typeof json['type'] === 'string') facts.type = json['type'];
  return facts;
}

/** The fields resolution reads, typed as Node reads them; 0 when the text is not JSON. */
export function factsOf(text: string): StoredFacts | 0 {
  const json = parsed(text);
  return json === 0 ? 0 : pick(json);
}

/** The facts of the package.json at `path`; 0 when it cannot be read or is not JSON. */
export function readFacts(path: string): StoredFacts | 0 {
  try {
    return factsOf(process.getBuiltinModule('node:fs').readFileSync(path, 'utf8'));
  } catch {
    return 0;
  }
}

/**
 * A string that two package.json texts share exactly when resolution, format and coldstart's
 * own settings (`"coldstart"`: defer and eager lists) read the same from both.
 */
export function meaningOf(text: string): string {
  const json = parsed(text);
  if (json === 0) return '0';
  const facts: Record<string, unknown> = pick(json);
  if (json['coldstart'] !== undefined) facts['coldstart'] = json['coldstart'];
  return JSON.stringify(facts);
}

/** The meaning of the file at `path`; undefined when it cannot be read as a file. */
export function meaningAt(path: string): string | undefined {
  try {
    return meaningOf(process.getBuiltinModule('node:fs').readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

const checked = new Map<string, string | undefined>();

/**
 * Whether the file at `path`, whose stat is `st`, still means `meaning`: read once per process
 * and version of the file, as the index, the pack and the start's own check may each ask about
 * the root's package.json.
 */
export function stillMeans(path: string, st: { readonly mtimeMs: number; readonly size: number }, meaning: unknown): boolean {
  if (typeof meaning !== 'string') return false;
  const key = `${path}\0${st.mtimeMs}\0${st.size}`;
  if (!checked.has(key)) checked.set(key, meaningAt(path));
  return checked.get(key) === meaning;
}
