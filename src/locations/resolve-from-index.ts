// `coldstart resolve` and resolveWithIndex(): open the index, run the pure resolver over it.
import { realpathSync } from 'node:fs';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { resolve } from '../resolve/resolve.js';
import { cjsConditions, esmConditions, globalPaths } from '../loader/conditions.js';
import type { IndexResolution, IndexResolveOptions } from './api.js';
import { openIndex } from './load.js';
import { indexPathFor } from './store.js';
import { findProjectRoot } from '../store.js';

export function resolveFromIndex(specifier: string, options: IndexResolveOptions = {}): IndexResolution {
  const from = resolvePath(options.from ?? join(process.cwd(), '[coldstart-resolve].js'));
  const found = options.root ?? findProjectRoot(dirname(from));
  if (found === undefined) return { kind: 'unknown', reason: 'no project root (no node_modules above)', index: undefined, root: undefined };
  const root = realpathSync.native(found);
  const file = indexPathFor(root, options.index);
  const opened = openIndex(root, file, { globalPaths: globalPaths() });
  if (!opened.ok) return { kind: 'unknown', reason: opened.reason, index: file, root };
  const wanted = options.conditions ?? 'require';
  const conditions = wanted === 'require' ? cjsConditions() : wanted === 'import' ? esmConditions() : [...wanted];
  const mode = conditions.includes('require') ? 'require' : 'import';
  let parentPath = from;
  try {
    parentPath = realpathSync.native(from);
  } catch {
    // a parent that does not exist is fine: only its directory matters
  }
  return { ...resolve(opened.view, { specifier, parentPath, mode, conditions }), index: file, root };
}
