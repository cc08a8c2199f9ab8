// One walk of everything Node could resolve from a project: every node_modules directory at
// every level, scopes, symlinked layouts (pnpm, workspaces, npm link: recorded by real path),
// NODE_PATH, and the project's own directories (directories and package.json files only).
import { readdirSync, readFileSync, realpathSync, statSync, type Dirent } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative, sep } from 'node:path';
import type { Section, StoredFacts } from './format.js';
import { inRootModules, placeOf, projectNames } from './paths.js';
import { readFacts } from '../package-meaning.js';
import { usesDeferredImport } from '../defer/detect.js';

export interface WalkResult {
  readonly root: string;
  readonly nodeModules: Record<string, string[]>;
  readonly links: Record<string, string>;
  readonly extraRoots: string[];
  readonly nodePath: string[];
  readonly sections: Map<string, { section: Section; mtime: number }>;
  readonly project: Section;
  readonly counts: { packages: number; files: number; dirs: number };
  /** Installed packages whose ES modules use `import defer` (see Header.deferUsers). */
  readonly deferUsers: string[];
}

export interface WalkOptions {
  /** NODE_PATH directories (absolute). */
  readonly nodePath?: readonly string[];
  /** Called now and then with the number of directories read so far (progress on a TTY). */
  readonly onProgress?: (dirs: number) => void;
  /** The project walk stops listing after this many directories (the rest answers "unknown"). */
  readonly maxProjectDirs?: number;
}

/** Directories inside node_modules that are metadata, not packages: listed, never walked. */
const unwalked = new Set(['.bin', '.cache']);

/**
 * Whether one of the package's ES modules (`.mjs`, or `.js` under a package.json that says
 * "type": "module") holds `import defer` or `import.defer`. Files are searched as bytes for
 * `defer` first; only those that hold it are decoded.
 */
function usesImportDefer(root: string, section: { d: Record<string, string[]>; p: Record<string, StoredFacts | 0> }): boolean {
  const scopeType = (sub: string): string | undefined => {
    for (let dir = sub; ; dir = dir.includes('/') ? dir.slice(0, dir.lastIndexOf('/')) : '') {
      const facts = section.p[dir];
      if (facts !== undefined) return facts === 0 ? undefined : facts.type;
      if (dir === '') return undefined;
    }
  };
  for (const [sub, names] of Object.entries(section.d)) {
    let moduleScope: boolean | undefined;
    for (const name of names) {
      if (!name.endsWith('.mjs') && !name.endsWith('.js')) continue;
      if (name.endsWith('.js')) {
        moduleScope ??= scopeType(sub) === 'module';
        if (!moduleScope) continue;
      }
      let bytes: Buffer;
      try {
        bytes = readFileSync(join(root, sub, name));
      } catch {
        continue;
      }
      if (bytes.indexOf('defer') === -1) continue;
      const text = bytes.toString('utf8');
      if (usesDeferredImport(text) && deferPhaseImport(text)) return true;
    }
  }
  return false;
}

type Lexer = { parse(source: string): [readonly { phase?: string | null }[], ...unknown[]] };
let lexer: Lexer | undefined;

/**
 * Whether the words are an import of the defer phase in code, not in a string or a comment (a
 * parser or formatter names the syntax in its own text: prettier and terser do). es-module-lexer
 * (the CommonJS build, ready synchronously) reads a megabyte in a few milliseconds, where a full
 * parse takes tens; only files that hold the words get this far. A file it cannot read counts.
 */
function deferPhaseImport(text: string): boolean {
  try {
    lexer ??= createRequire(import.meta.url)('es-module-lexer') as Lexer;
    // es-module-lexer 3.0 misses the phase when `*` follows `defer` with no space, as minifiers write it.
    return lexer.parse(text.replace(/\bdefer\*/g, 'defer *'))[0].some((found) => found.phase === 'defer');
  } catch {
    return true;
  }
}

function list(dir: string): Dirent[] | undefined {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch {
    return undefined;
  }
}

export function walkProject(rootDir: string, options: WalkOptions = {}): WalkResult {
  const root = realpathSync.native(rootDir);
  const toRel = (abs: string): string => {
    const r = relative(root, abs);
    return sep === '/' ? r : r.split(sep).join('/');
  };
  const nodeModules: Record<string, string[]> = {};
  const links: Record<string, string> = {};
  const extraRoots = new Set<string>();
  const sections = new Map<string, { section: Section; mtime: number }>();
  const deferUsers: string[] = [];
  const counts = { packages: 0, files: 0, dirs: 0 };
  const maxProjectDirs = options.maxProjectDirs ?? 20_000;
  let reported = 0;

  const tick = (): void => {
    counts.dirs++;
    if (options.onProgress !== undefined && counts.dirs - reported >= 500) {
      reported = counts.dirs;
      options.onProgress(counts.dirs);
    }
  };

  /** A symlinked entry of a node_modules or scope directory: follow it to a package root. */
  const linkEntry = (full: string, name: string): string | undefined => {
    const st = statSync(full, { throwIfNoEntry: false });
    if (st === undefined) return undefined; // dangling: Node sees nothing there either
    if (!st.isDirectory()) return `${name}@`;
    const target = toRel(realpathSync.native(full));
    // Only links that land on a package root are followed; anything else answers "unknown".
    const place = placeOf(target);
    if (place !== undefined && !(place.kind === 'package' && place.sub === '')) return `${name}@`;
    links[toRel(full)] = target;
    if (place !== undefined) walkPackage(join(root, target));
    else {
      // A linked folder outside node_modules (a workspace, `npm link`, a `file:` or `link:`
      // dependency) is code the user edits: its files are never listed, so every question about
      // them goes to Node, and only its own node_modules (installed packages) are indexed. One
      // inside the project is walked as the project's own folders are (directories only).
      extraRoots.add(target);
      walkModulesDir(join(root, target, 'node_modules'), false);
    }
    return `${name}/`;
  };

  /** node_modules (and scope) directories below project folders -> their change time at build. */
  const modulesChanged: Record<string, number> = {};
  const walkModulesDir = (abs: string, scope: boolean): void => {
    const key = toRel(abs);
    if (nodeModules[key] !== undefined) return;
    // Below a project folder the stamps do not watch what is added: its change time is kept,
    // taken before the listing, as a project folder's is.
    const watched = !inRootModules(key) && !key.startsWith('..') ? statSync(abs, { throwIfNoEntry: false }) : undefined;
    const entries = list(abs);
    if (entries === undefined) return;
    if (watched !== undefined) modulesChanged[key] = watched.ctimeMs;
    tick();
    const names: string[] = [];
    nodeModules[key] = names;
    for (const entry of entries) {
      const full = join(abs, entry.name);
      if (entry.isSymbolicLink()) {
        const listed = linkEntry(full, entry.name);
        if (listed !== undefined) names.push(listed);
      } else if (entry.isDirectory()) {
        names.push(`${entry.name}/`);
        if (unwalked.has(entry.name)) continue;
        if (!scope && entry.name.startsWith('@')) walkModulesDir(full, true);
        else walkPackage(full);
      } else {
        names.push(entry.isFile() ? entry.name : `${entry.name}@`);
      }
    }
  };

  const walkTree = (abs: string, sub: string, section: { d: Record<string, string[]>; p: Record<string, StoredFacts | 0> }): void => {
    const entries = list(abs);
    if (entries === undefined) return;
    tick();
    const names: string[] = [];
    section.d[sub] = names;
    for (const entry of entries) {
      const full = join(abs, entry.name);
      if (entry.isDirectory()) {
        names.push(`${entry.name}/`);
        // Inside node_modules every level is indexed (pnpm's .pnpm store nests them).
        if (entry.name === 'node_modules') walkModulesDir(full, false);
        else walkTree(full, sub === '' ? entry.name : `${sub}/${entry.name}`, section);
      } else if (entry.isFile()) {
        names.push(entry.name);
        counts.files++;
        if (entry.name === 'package.json') section.p[sub] = readFacts(full);
      } else {
        // Symlinks inside a package and special files: Node would follow or reject them in
        // ways the index does not model, so every question about them falls through.
        names.push(`${entry.name}@`);
      }
    }
  };

  const walkPackage = (abs: string): void => {
    const key = toRel(abs);
    if (sections.has(key)) return;
    const st = statSync(abs, { throwIfNoEntry: false });
    if (st === undefined || !st.isDirectory()) return;
    const section = { d: {}, p: {} } as { d: Record<string, string[]>; p: Record<string, StoredFacts | 0> };
    // Registered before walking so that link cycles stop here.
    sections.set(key, { section, mtime: st.mtimeMs });
    walkTree(abs, '', section);
    if (section.p[''] !== undefined) counts.packages++;
    if (usesImportDefer(abs, section)) deferUsers.push(key);
  };

  const nodePath: string[] = [];
  for (const dir of options.nodePath ?? []) {
    if (dir === '') continue;
    let real: string;
    try {
      real = realpathSync.native(dir);
    } catch {
      continue;
    }
    nodePath.push(toRel(real));
    walkModulesDir(real, false);
  }
  walkModulesDir(join(root, 'node_modules'), false);

  // The project's own directories: which exist, which hold a package.json or a node_modules.
  // Files are not listed: the project's sources change all the time, so questions about them
  // fall through to Node.
  const project = { d: {}, p: {}, s: {}, m: {} } as { d: Record<string, string[]>; p: Record<string, StoredFacts | 0>; s: Record<string, [number, number]>; m: Record<string, number> };
  let projectDirs = 0;
  const rootDev = statSync(root).dev;
  const walkProjectDir = (abs: string, sub: string): void => {
    if (projectDirs >= maxProjectDirs) return;
    // Taken before the listing: an entry added in between moves the change time past this
    // one, and the directory is listed afresh when used. The change time, not the mtime: a
    // rename of the directory itself (two folders swapped) moves only that. The root's own
    // entries that matter (package.json, node_modules) are stamps.
    const dirStat = sub === '' ? undefined : statSync(abs, { throwIfNoEntry: false });
    if (sub !== '' && dirStat === undefined) return;
    // Another filesystem mounted inside (a root of `/` holds /proc and /sys) is not walked, as
    // `find -xdev` would not: what is below it is unknown, so Node is asked.
    if (dirStat !== undefined && dirStat.dev !== rootDev) return;
    const entries = list(abs);
    if (entries === undefined) return;
    projectDirs++;
    tick();
    if (dirStat !== undefined) project.m[sub] = dirStat.ctimeMs;
    const names = projectNames(entries);
    project.d[sub] = names;
    for (const name of names) {
      if (name.endsWith('@')) continue;
      const full = join(abs, name === 'package.json' ? name : name.slice(0, -1));
      if (name === 'node_modules/') walkModulesDir(full, false);
      else if (name === 'package.json') {
        // The user edits these: each is checked against its mtime and size before it is used
        // (taken before the read, so an edit in between is seen), then against what it means.
        const st = statSync(full, { throwIfNoEntry: false });
        project.p[sub] = readFacts(full);
        if (st !== undefined) project.s[sub] = [st.mtimeMs, st.size];
      } else {
        walkProjectDir(full, sub === '' ? name.slice(0, -1) : `${sub}/${name.slice(0, -1)}`);
      }
    }
  };
  walkProjectDir(root, '');
  Object.assign(project.m, modulesChanged);

  return { root, nodeModules, links, extraRoots: [...extraRoots], nodePath, sections, project, counts, deferUsers };
}
