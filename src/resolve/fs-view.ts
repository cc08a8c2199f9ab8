// A ResolutionView answered from the real file system, memoised for its lifetime: the
// reference the conformance tests compare Node against, and the index builder's own check.
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { internals } from '../loader/node.js';
import { join } from 'node:path';
import type { PackageFacts, ResolutionView } from './view.js';
import { parseJson } from '../package-meaning.js';

export interface FsViewOptions {
  /** Directories require() searches after node_modules; defaults to Node's own
   *  Module.globalPaths (NODE_PATH, then ~/.node_modules, ~/.node_libraries, prefix/lib/node). */
  readonly nodePath?: readonly string[];
}

type Kind = 'file' | 'dir' | 'none' | 'error';

function readFacts(dir: string): PackageFacts | null | undefined {
  let text: string;
  try {
    text = readFileSync(join(dir, 'package.json'), 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR' ? null : undefined;
  }
  let json: unknown;
  try {
    json = parseJson(text);
  } catch {
    return { dir, name: undefined, main: undefined, exports: undefined, imports: undefined, type: undefined, malformed: true };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return { dir, name: undefined, main: undefined, exports: undefined, imports: undefined, type: undefined, malformed: true };
  }
  const data = json as Record<string, unknown>;
  const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
  return {
    dir,
    name: str(data['name']),
    main: str(data['main']),
    exports: data['exports'],
    imports: data['imports'],
    type: str(data['type']),
    // Node 20 fails on a non-string "main" where Node 22+ ignores it: not ours to decide.
    ...('main' in data && typeof data['main'] !== 'string' ? { malformed: true } : {}),
  };
}

export function createFsView(options: FsViewOptions = {}): ResolutionView {
  const kinds = new Map<string, Kind>();
  const facts = new Map<string, PackageFacts | null | undefined>();
  const reals = new Map<string, string | undefined>();

  function kind(path: string): Kind {
    let known = kinds.get(path);
    if (known === undefined) {
      try {
        const stats = statSync(path, { throwIfNoEntry: false });
        known = stats === undefined ? 'none' : stats.isFile() ? 'file' : stats.isDirectory() ? 'dir' : 'none';
      } catch (error) {
        // ENOTDIR (a file used as a directory) is a plain "no"; anything else is unknown.
        known = (error as NodeJS.ErrnoException).code === 'ENOTDIR' ? 'none' : 'error';
      }
      kinds.set(path, known);
    }
    return known;
  }

  const globalPaths = internals.globalPaths ?? [];
  return {
    isFile: (path) => (kind(path) === 'error' ? undefined : kind(path) === 'file'),
    isDirectory: (path) => (kind(path) === 'error' ? undefined : kind(path) === 'dir'),
    packageJson(dir) {
      if (!facts.has(dir)) facts.set(dir, readFacts(dir));
      return facts.get(dir);
    },
    realpath(path) {
      if (!reals.has(path)) {
        let real: string | undefined;
        try {
          real = realpathSync(path);
        } catch {
          real = undefined;
        }
        reals.set(path, real);
      }
      return reals.get(path);
    },
    nodePath: options.nodePath ?? [...globalPaths],
  };
}
