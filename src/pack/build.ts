// Builds a pack from recordings: merges what every recorded process loaded and resolved, keeps
// files under the project root, reads each file once (stat, read, stat again: a file that
// changed meanwhile is left out) and writes the pack atomically.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { encodePack, type ModuleFormat, type StoredAnswer } from './format.js';
import { collectStamps } from './freshness.js';
import type { Recording } from './record-preload.js';
import { writePackFile } from './store.js';

export interface BuildSummary {
  readonly file: string;
  readonly processes: number;
  readonly modules: number;
  readonly answers: number;
  readonly bytes: number;
  readonly sourceBytes: number;
  /** Loaded files outside the root, or that changed or vanished while packing. */
  readonly skipped: number;
  readonly ms: number;
}

const formats = new Set<string>(['commonjs', 'module', 'json']);

/** Reads every recording in `dir`: the main-thread JSON files and Node 20's off-thread lines. */
export function readRecordings(dir: string): Recording[] {
  const out: Recording[] = [];
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.json')) continue;
    try {
      const recording = JSON.parse(readFileSync(join(dir, name), 'utf8')) as Recording;
      const esm = join(dir, name.replace(/\.json$/, '.esm.jsonl'));
      if (existsSync(esm)) {
        for (const line of readFileSync(esm, 'utf8').split('\n')) {
          if (line === '') continue;
          const row = JSON.parse(line) as string[];
          if (row[0] === 'm') recording.modules.push([row[1]!, row[2]!]);
          else if (row[0] === 'r') recording.answers.push([row[1]!, row[2]!, row[3]!, row[4]!]);
        }
      }
      out.push(recording);
    } catch {
      // A process killed while writing leaves nothing usable: the others still count.
    }
  }
  return out;
}

export function buildPack(options: { root: string; file: string; recordings: Recording[]; conditions: string }): BuildSummary {
  const start = performance.now();
  const { root, file } = options;
  const inRoot = (path: string): string | undefined => {
    const rel = relative(root, path);
    return rel === '' || rel.startsWith('..') || rel.startsWith(sep) ? undefined : rel.split(sep).join('/');
  };
  const loaded = new Map<string, string>();
  for (const recording of options.recordings) for (const [path, format] of recording.modules) loaded.set(path, format);

  // Stamps first: a file that changes after this point makes the pack stale, never wrong.
  const stamps = collectStamps(root);
  const modules: { path: string; format: ModuleFormat; mtime: number; bytes: Buffer }[] = [];
  const packedFormat = new Map<string, string>();
  let skipped = 0;
  let sourceBytes = 0;
  for (const [path, format] of [...loaded].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const rel = inRoot(path);
    if (rel === undefined || !formats.has(format)) {
      skipped++;
      continue;
    }
    try {
      const before = statSync(path);
      const bytes = readFileSync(path);
      const after = statSync(path);
      if (before.mtimeMs !== after.mtimeMs || before.size !== after.size || bytes.length !== after.size) throw new Error('changed while packing');
      modules.push({ path: rel, format: format as ModuleFormat, mtime: after.mtimeMs, bytes });
      packedFormat.set(path, format);
      sourceBytes += bytes.length;
    } catch {
      skipped++;
    }
  }

  // An answer seen differently by two processes (a changed tree mid-run) is not kept.
  const answers = new Map<string, StoredAnswer | null>();
  for (const recording of options.recordings) {
    if (recording.conditions !== options.conditions) continue;
    for (const [dir, specifier, mode, target] of recording.answers) {
      const relDir = dir === root ? '' : inRoot(dir);
      const relTarget = inRoot(target);
      if (relDir === undefined || relTarget === undefined) continue;
      const key = `${relDir}\0${specifier}\0${mode}`;
      const previous = answers.get(key);
      const row: StoredAnswer = [relDir, specifier, mode as 'r' | 'i', relTarget, packedFormat.get(target) ?? loaded.get(target) ?? ''];
      if (previous === undefined) answers.set(key, row);
      else if (previous !== null && previous[3] !== relTarget) answers.set(key, null);
    }
  }
  const kept = [...answers.values()].filter((row): row is StoredAnswer => row !== null);
  const bytes = encodePack({ root, node: process.version, conditions: options.conditions, stamps, modules, answers: kept });
  writePackFile(file, bytes);
  return {
    file,
    processes: options.recordings.length,
    modules: modules.length,
    answers: kept.length,
    bytes: bytes.length,
    sourceBytes,
    skipped,
    ms: performance.now() - start,
  };
}
