// A ResolutionView built from a plain object, for tables of resolver cases: no disk, exact
// answers, and "unknown" wherever the test says so.
import { dirname } from 'node:path';
import type { PackageFacts, ResolutionView } from './view.js';

export interface MemoryTree {
  /** Absolute path -> file text; a package.json may be given as an object. A path ending in
   *  '/' is an empty directory. Parent directories are implied. */
  readonly files: Readonly<Record<string, string | object>>;
  /** Symbolic links: absolute link path -> absolute target (files or directories). */
  readonly links?: Readonly<Record<string, string>>;
  /** Path prefixes the view does not know about: every question under them is undefined. */
  readonly unknown?: readonly string[];
  readonly nodePath?: readonly string[];
}

export function createMemoryView(tree: MemoryTree): ResolutionView {
  const files = new Map<string, string | object>();
  const dirs = new Set<string>(['/']);
  const links = new Map(Object.entries(tree.links ?? {}));
  const addParents = (path: string): void => {
    for (let dir = dirname(path); !dirs.has(dir); dir = dirname(dir)) dirs.add(dir);
  };
  for (const [path, text] of Object.entries(tree.files)) {
    if (path.endsWith('/')) {
      dirs.add(path.slice(0, -1));
      addParents(path.slice(0, -1));
    } else {
      files.set(path, text);
      addParents(path);
    }
  }
  for (const link of links.keys()) addParents(link);

  /** Follows links in every prefix of `path`; undefined when a link loops. */
  function real(path: string): string {
    for (let hops = 0; hops < 40; hops++) {
      const parts = path.split('/');
      let changed = false;
      for (let i = 2; i <= parts.length; i++) {
        const prefix = parts.slice(0, i).join('/');
        const target = links.get(prefix);
        if (target !== undefined) {
          path = target + path.slice(prefix.length);
          changed = true;
          break;
        }
      }
      if (!changed) return path;
    }
    throw new Error(`symlink loop at ${path}`);
  }
  const isUnknown = (path: string): boolean => (tree.unknown ?? []).some((p) => path === p || path.startsWith(p.endsWith('/') ? p : `${p}/`));

  return {
    isFile: (path) => (isUnknown(path) ? undefined : files.has(real(path))),
    isDirectory: (path) => (isUnknown(path) ? undefined : dirs.has(real(path))),
    packageJson(dir): PackageFacts | null | undefined {
      const path = `${dir === '/' ? '' : dir}/package.json`;
      if (isUnknown(path)) return undefined;
      const content = files.get(real(path));
      if (content === undefined) return null;
      let data: unknown = content;
      if (typeof content === 'string') {
        try {
          data = JSON.parse(content);
        } catch {
          data = undefined;
        }
      }
      if (typeof data !== 'object' || data === null || Array.isArray(data)) {
        return { dir, name: undefined, main: undefined, exports: undefined, imports: undefined, type: undefined, malformed: true };
      }
      const json = data as Record<string, unknown>;
      const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
      return { dir, name: str(json['name']), main: str(json['main']), exports: json['exports'], imports: json['imports'], type: str(json['type']) };
    },
    realpath(path) {
      if (isUnknown(path)) return undefined;
      const target = real(path);
      return files.has(target) || dirs.has(target) ? target : undefined;
    },
    nodePath: tree.nodePath ?? [],
  };
}
