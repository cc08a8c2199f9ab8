// Reading the view the way the resolver needs it: every "unknown" answer and every malformed
// package.json becomes a give-up, so the algorithms below only ever see certain facts.
import { dirname, join, sep } from 'node:path';
import { giveUp } from './outcome.js';
import type { PackageFacts, ResolutionView } from './view.js';

export function isFile(view: ResolutionView, path: string): boolean {
  const answer = view.isFile(path);
  return answer === undefined ? giveUp(`unknown file ${path}`) : answer;
}

export function isDirectory(view: ResolutionView, path: string): boolean {
  const answer = view.isDirectory(path);
  return answer === undefined ? giveUp(`unknown directory ${path}`) : answer;
}

/** Node's internalModuleStat: 0 file, 1 directory, -1 nothing. */
export function stat(view: ResolutionView, path: string): 0 | 1 | -1 {
  if (isFile(view, path)) return 0;
  return isDirectory(view, path) ? 1 : -1;
}

export function realpath(view: ResolutionView, path: string): string {
  return view.realpath(path) ?? giveUp(`unknown real path of ${path}`);
}

/** The package.json in `dir` itself; null when there is none. Malformed ones make Node throw
 *  its own ERR_INVALID_PACKAGE_CONFIG, so we let Node do it. */
export function packageJson(view: ResolutionView, dir: string): PackageFacts | null {
  const facts = view.packageJson(dir);
  if (facts === undefined) return giveUp(`unknown package.json in ${dir}`);
  if (facts?.malformed) return giveUp(`malformed ${join(dir, 'package.json')}`);
  return facts;
}

/**
 * The package scope of a file: the nearest package.json in its directory or above, not looking
 * past a node_modules directory (Node's GetNearestParentPackageJSON / getPackageScopeConfig).
 * The file-system root is never consulted by Node 22+ while Node 20 reads /package.json, so a
 * root package.json is a give-up rather than a guess. `memo` remembers the scope of each
 * directory walked (a give-up is not remembered: it throws).
 */
export function packageScope(view: ResolutionView, file: string, memo?: Map<string, PackageFacts | null>): PackageFacts | null {
  return directoryScope(view, dirname(file), memo);
}

/** packageScope of a file in `start`, for a caller that has the directory already. */
export function directoryScope(view: ResolutionView, start: string, memo?: Map<string, PackageFacts | null>): PackageFacts | null {
  let dir = start;
  const known = memo?.get(dir);
  if (known !== undefined) return known;
  const seen: string[] = [];
  let scope: PackageFacts | null;
  while (true) {
    const known = memo?.get(dir);
    if (known !== undefined) {
      scope = known;
      break;
    }
    seen.push(dir);
    const parent = dirname(dir);
    if (parent === dir) {
      if (packageJson(view, dir) !== null) giveUp('package.json at the file-system root');
      scope = null;
      break;
    }
    if (dir.endsWith(`${sep}node_modules`)) {
      scope = null;
      break;
    }
    const facts = packageJson(view, dir);
    if (facts !== null) {
      scope = facts;
      break;
    }
    dir = parent;
  }
  // Every directory walked through has the same scope: a caller asking file after file
  // (the index's source step) then walks each directory once.
  if (memo !== undefined) for (const walked of seen) memo.set(walked, scope);
  return scope;
}

/**
 * The format Node's loader gives a resolved file, in the load hook's words. A `.js` file in a
 * scope without "type" is undefined: Node decides by looking at its syntax (detect-module).
 * TypeScript files and unknown extensions are undefined too.
 */
export function formatOf(view: ResolutionView, file: string): string | undefined {
  const slash = file.lastIndexOf(sep);
  const dot = file.lastIndexOf('.');
  const ext = dot > slash ? file.slice(dot) : '';
  switch (ext) {
    case '.mjs': return 'module';
    case '.cjs': return 'commonjs';
    case '.json': return 'json';
    case '.node': return 'addon';
    case '.wasm': return 'wasm';
    case '.js': {
      const type = packageScope(view, file)?.type;
      return type === 'module' || type === 'commonjs' ? type : undefined;
    }
    default: return undefined;
  }
}
