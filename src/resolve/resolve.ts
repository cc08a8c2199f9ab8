// The pure resolver: (view, specifier, parent, mode, conditions) -> what Node would resolve.
// No file system and no state beyond the view: anything the view does not know, and any case
// not implemented, is answered 'unknown' so the hook calls Node instead.
import { isBuiltin } from 'node:module';
import { cjsResolve } from './cjs.js';
import { esmResolve } from './esm.js';
import { formatOf } from './facts.js';
import { Failure, GiveUp } from './outcome.js';
import type { Resolution, ResolutionView, ResolveRequest } from './view.js';

const defaultExtensions = ['.js', '.json', '.node'] as const;

export function resolve(view: ResolutionView, request: ResolveRequest): Resolution {
  const { specifier, parentPath, mode } = request;
  try {
    if (specifier.startsWith('node:')) {
      // An unknown node: name fails in Node with ERR_UNKNOWN_BUILTIN_MODULE (or not at all in
      // resolution); neither is ours to report.
      return isBuiltin(specifier) ? { kind: 'builtin', id: specifier } : { kind: 'unknown', reason: `unknown builtin ${specifier}` };
    }
    if (parentPath !== undefined && !parentPath.startsWith('/')) {
      return { kind: 'unknown', reason: `parent ${parentPath} is not an absolute path` };
    }
    const conditions = new Set(request.conditions);
    if (mode === 'require') {
      // require() keeps the name as written: 'fs' stays 'fs'.
      if (isBuiltin(specifier)) return { kind: 'builtin', id: specifier };
      const extensions = request.extensions ?? defaultExtensions;
      const path = cjsResolve({ view, conditions, extensions }, specifier, parentPath);
      return { kind: 'file', path, format: formatOf(view, path) };
    }
    if (parentPath === undefined) return { kind: 'unknown', reason: 'import without a parent resolves from the working directory' };
    const target = esmResolve({ view, conditions }, specifier, parentPath);
    if ('builtin' in target) return { kind: 'builtin', id: target.builtin };
    return { kind: 'file', path: target.path, format: formatOf(view, target.path) };
  } catch (error) {
    if (error instanceof GiveUp) return { kind: 'unknown', reason: error.reason };
    if (error instanceof Failure) return { kind: 'not-found', code: error.code, message: error.message };
    // A bug of ours (or a view that throws) must never break the program: Node decides.
    return { kind: 'unknown', reason: `resolver error: ${(error as Error)?.message ?? String(error)}` };
  }
}
