// Builds the index of a project and writes it atomically: walk, stamp, encode, rename.
// Loaded only by `coldstart index` and by a run that finds no usable index, never otherwise.
import { dirname, join } from 'node:path';
import { statSync } from 'node:fs';
import { globalPaths } from '../loader/conditions.js';
import { VERSION } from '../generated/version.js';
import { encodeIndex, type StoredFacts } from './format.js';
import { collectStamps } from './stamps.js';
import { makeDirectory, writeFileAtomic } from '../store.js';
import { readFacts } from '../package-meaning.js';
import { walkProject } from './walk.js';

export interface BuildOptions {
  readonly root: string;
  /** Where to write the index file. */
  readonly file: string;
  readonly nodePathEnv?: string;
  readonly onProgress?: (dirs: number) => void;
}

export interface BuildSummary {
  readonly root: string;
  readonly file: string;
  readonly packages: number;
  readonly files: number;
  readonly dirs: number;
  readonly bytes: number;
  readonly ms: number;
}

/** node_modules directories above the root, which require() and import also search. */
function ancestorModules(root: string): string[] {
  const out: string[] = [];
  for (let dir = dirname(root); ; dir = dirname(dir)) {
    out.push(join(dir, 'node_modules'));
    if (dirname(dir) === dir) return out;
  }
}

/** package.json of each directory above the root, or null; for package-scope lookups. */
function ancestorFacts(root: string): Record<string, StoredFacts | 0 | null> {
  const out: Record<string, StoredFacts | 0 | null> = {};
  for (let dir = dirname(root); ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    out[dir] = statSync(file, { throwIfNoEntry: false })?.isFile() ? readFacts(file) : null;
    if (dirname(dir) === dir) return out;
  }
}

/** Whether a meaning (package-meaning.ts) holds exactly `facts`, its "coldstart" settings aside. */
function sameFacts(meaning: string, facts: StoredFacts | 0 | undefined): boolean {
  if (meaning === '0' || facts === 0 || facts === undefined) return meaning === '0' && facts === 0;
  const { coldstart: _settings, ...rest } = JSON.parse(meaning) as Record<string, unknown>;
  return JSON.stringify(rest) === JSON.stringify(facts);
}

export function buildIndex(options: BuildOptions): BuildSummary {
  const start = performance.now();
  const nodePathEnv = options.nodePathEnv ?? process.env['NODE_PATH'] ?? '';
  // Create the cache directory first: creating it moves node_modules' mtime, which is stamped.
  makeDirectory(dirname(options.file));
  // Stamps before the walk: a file a package manager changes meanwhile makes the index stale, never wrong.
  let stamps = collectStamps(options.root);
  const walk = walkProject(options.root, {
    nodePath: nodePathEnv.split(process.platform === 'win32' ? ';' : ':').filter((p) => p !== ''),
    onProgress: options.onProgress,
  });
  // The root package.json's meaning holds the stamp only if the walk read the same facts (an
  // edit during the walk, later undone, must not leave other facts fresh).
  stamps = stamps.map((stamp) => (stamp.meaning === undefined || sameFacts(stamp.meaning, walk.project.p['']) ? stamp : { ...stamp, meaning: undefined }));
  const bytes = encodeIndex(
    {
      builtRoot: walk.root,
      builtAt: Date.now(),
      builtBy: `coldstart ${VERSION}, node ${process.version}`,
      nodePathEnv,
      nodePath: walk.nodePath,
      absent: [...ancestorModules(walk.root), ...globalPaths().slice(walk.nodePath.length)].filter((dir) => statSync(dir, { throwIfNoEntry: false }) === undefined),
      ancestors: ancestorFacts(walk.root),
      stamps,
      nodeModules: walk.nodeModules,
      links: walk.links,
      extraRoots: walk.extraRoots,
      counts: walk.counts,
      deferUsers: walk.deferUsers,
    },
    walk.sections,
    walk.project,
  );
  writeFileAtomic(options.file, bytes);
  return { root: walk.root, file: options.file, ...walk.counts, bytes: bytes.length, ms: performance.now() - start };
}
