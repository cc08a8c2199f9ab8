// Turns the per-process files into what the reports show: the import tree by first importer
// with inclusive times, counts per format, and time spent loading versus the whole run.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { readVirtualURL } from '../defer/load-core.js';
import { packageRootOf } from './recorder.js';
import { PROCESS_FORMAT, type ModuleEntry, type ProcessProfile } from './schema.js';

export interface TreeNode {
  module: ModuleEntry;
  inclusiveMs: number;
  children: TreeNode[];
}

export interface ProcessView {
  profile: ProcessProfile;
  roots: TreeNode[];
  nodes: Map<number, TreeNode>;
  /** Modules per format, builtins excluded. */
  byFormat: Record<string, number>;
  moduleCount: number;
  builtinCount: number;
  /** Modules whose source coldstart/register's pack served from memory. */
  fromPackCount: number;
  /** Sum of every module's own time (resolve + read + eval). */
  loadingMs: number;
}

/** Every process file in `dir`, oldest process first; unreadable or foreign files are skipped. */
export function readProfiles(dir: string): ProcessProfile[] {
  const out: ProcessProfile[] = [];
  let names: string[] = [];
  try {
    names = readdirSync(dir).filter((name) => /^\d+\.json$/.test(name));
  } catch {
    return out;
  }
  for (const name of names) {
    try {
      const profile = JSON.parse(readFileSync(join(dir, name), 'utf8')) as ProcessProfile;
      if (profile.format === PROCESS_FORMAT && Array.isArray(profile.modules)) out.push(profile);
    } catch {
      // a process killed while writing leaves nothing usable; the others still count
    }
  }
  return out.sort((a, b) => a.timeOrigin - b.timeOrigin);
}

export function analyze(profile: ProcessProfile): ProcessView {
  const nodes = new Map<number, TreeNode>();
  for (const module of profile.modules) nodes.set(module.id, { module, inclusiveMs: 0, children: [] });
  const roots: TreeNode[] = [];
  for (const node of nodes.values()) {
    const parent = node.module.parent === null ? undefined : nodes.get(node.module.parent);
    if (parent === undefined || parent === node) roots.push(node);
    else parent.children.push(node);
  }
  // Inclusive = own time + children's inclusive; a visited set keeps a malformed file from looping.
  const done = new Set<TreeNode>();
  const total = (node: TreeNode): number => {
    if (done.has(node)) return node.inclusiveMs;
    done.add(node);
    node.inclusiveMs = node.module.selfMs + node.children.reduce((sum, child) => sum + total(child), 0);
    node.children.sort((a, b) => b.inclusiveMs - a.inclusiveMs);
    return node.inclusiveMs;
  };
  for (const root of roots) total(root);
  // Nodes caught in a parent cycle are unreachable from any root: show them as roots.
  for (const node of nodes.values()) if (!done.has(node)) { roots.push(node); total(node); }
  roots.sort((a, b) => b.inclusiveMs - a.inclusiveMs);

  const byFormat: Record<string, number> = {};
  let moduleCount = 0;
  let builtinCount = 0;
  let fromPackCount = 0;
  let loadingMs = 0;
  for (const module of profile.modules) {
    if (module.format === 'builtin') {
      builtinCount++;
      continue;
    }
    moduleCount++;
    if (module.fromPack === true) fromPackCount++;
    byFormat[module.format] = (byFormat[module.format] ?? 0) + 1;
    loadingMs += module.selfMs;
  }
  return { profile, roots, nodes, byFormat, moduleCount, builtinCount, fromPackCount, loadingMs };
}

/** The package a module belongs to (`@scope/name`), or undefined outside node_modules. */
export function packageNameOf(key: string): string | undefined {
  const root = packageRootOf(key);
  if (root === '') return undefined;
  return root.slice(root.lastIndexOf('/node_modules/') + '/node_modules/'.length);
}

/** A short name: `pkg/sub/path.js` inside node_modules, a cwd-relative path outside. */
export function labelOf(key: string, cwd: string): string {
  if (!key.startsWith('/')) {
    // A deferred import's stand-in (import defer, learned deferral): named by what it imports.
    const standIn = readVirtualURL(key);
    return standIn === undefined ? key : `${standIn.specifier} [deferred import]`;
  }
  const root = packageRootOf(key);
  if (root !== '') return (packageNameOf(key) ?? '') + key.slice(root.length);
  const rel = relative(cwd, key);
  return rel.startsWith('..') ? key : rel;
}

/** A process is a wrapper (npm, npx) when its main script is npm's own CLI. */
export function isWrapper(profile: ProcessProfile): boolean {
  return /[\\/]np[mx]-cli\.js$/.test(profile.mainPath ?? profile.argv[1] ?? '');
}
