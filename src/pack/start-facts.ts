// Start-up facts of a recorded entry, found at pack time so that a served start reads nothing
// about the entry from disk: its real path and the package.json files the configuration lookup
// (defer/config.ts) reads upwards from it. Only for entries inside node_modules: the stamps keep
// those fresh, while a project's own files may be edited at any time.
import { readFileSync, realpathSync } from 'node:fs';
import { basename, dirname, join, relative, sep } from 'node:path';
import type { StoredStart } from './format.js';
import { managed } from './freshness.js';
import { parseJson } from '../package-meaning.js';

/** The facts of each distinct entry under `root` (absolute paths as Node names them). */
export function startFacts(root: string, entries: readonly (string | undefined)[]): StoredStart[] {
  const rel = (path: string): string | undefined => {
    const r = relative(root, path);
    return r === '' || r.startsWith('..') || r.startsWith(sep) ? undefined : r.split(sep).join('/');
  };
  const out: StoredStart[] = [];
  for (const entry of new Set(entries)) {
    if (entry === undefined || entry === '') continue;
    const entryRel = rel(entry);
    if (entryRel === undefined || !managed(entryRel)) continue;
    let real: string;
    try {
      real = realpathSync(entry);
    } catch {
      continue;
    }
    const realRel = rel(real);
    if (realRel === undefined || !managed(realRel)) continue;
    const files = lookUpFiles(dirname(real), rel);
    if (files !== undefined) out.push([entryRel, realRel, files]);
  }
  return out;
}

/** The package.json files read walking up from `dir` to the first that exists, all inside node_modules. */
function lookUpFiles(dir: string, rel: (path: string) => string | undefined): StoredStart[2] | undefined {
  const files: StoredStart[2] = [];
  for (;;) {
    const file = join(dir, 'package.json');
    const fileRel = rel(file);
    if (fileRel === undefined || !managed(fileRel) || basename(dir) === 'node_modules') return undefined;
    let text: string | undefined;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return undefined;
    }
    if (text === undefined) {
      files.push([fileRel, null]);
      dir = dirname(dir);
      continue;
    }
    let parsed: Record<string, unknown>;
    try {
      parsed = parseJson(text) as Record<string, unknown>;
    } catch {
      return undefined; // what a run makes of a broken package.json is for the run to find out
    }
    const kept: { type?: unknown; coldstart?: unknown } = {};
    if (parsed?.['type'] !== undefined) kept.type = parsed['type'];
    if (parsed?.['coldstart'] !== undefined) kept.coldstart = parsed['coldstart'];
    files.push([fileRel, kept]);
    return files;
  }
}
