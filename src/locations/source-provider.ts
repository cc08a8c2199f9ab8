// The index's `.js` extension step in the loader pipeline, answered from the index where it
// can be. For every `.js` file require() loads, Node reads package.json in each directory from
// the file's up to its package root to learn the "type" (readPackageScope): one failed open per
// directory without one (docs/decisions/startup-costs.md#index-source-handler). The index
// already lists which directories hold a package.json and what its "type" says, so this step
// asks it, reads the file (see readSource) and hands Node's own compile step the same source and
// format Node would. Anything the index cannot vouch for, and every ES module, goes to Node's
// handler unchanged.
//
// Node 22+ does the same walk in C++. There Node's handler is also where other
// tools' registerHooks load hooks run for require(), so this handler steps aside for good as
// soon as one may exist (foreign-hooks.ts), and is not installed when the project configures
// defer transforms, whose own load hook must see every CommonJS file.
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { dirname } from 'node:path';
import type { PackageFacts, ResolutionView } from '../resolve/view.js';
import { directoryScope } from '../resolve/facts.js';
import { GiveUp } from '../resolve/outcome.js';
import { foreignLoadHooks } from '../loader/foreign-hooks.js';
import { compileSource, loadedByImport } from '../loader/node.js';
import { pipeline, type HandlerStep } from '../loader/pipeline.js';
import { has } from '../node-features.js';
import type { Prefetcher } from './prefetch.js';

/** What the handler did, for `coldstart doctor` and the tests. */
export interface SourceCounts {
  /** `.js` files whose "type" the index answered and whose source this handler read. */
  served: number;
  /** `.js` files handed to Node's handler (unknown scope, "type": "module", other tools). */
  passed: number;
  /** Why the handler left every file to Node since some point (another tool's load hooks). */
  off?: string;
}

export function newSourceCounts(): SourceCounts {
  return { served: 0, passed: 0 };
}

const UNKNOWN = Symbol('unknown');

/**
 * The "type" of the package scope `file` lies in, by the resolver's one package-scope walk
 * (resolve/facts.ts packageScope), remembered per directory. undefined when there is no scope
 * or no "type"; UNKNOWN when the index cannot tell (Node is asked then).
 */
export function scopeType(view: ResolutionView, file: string, memo: ScopeMemo): string | undefined | typeof UNKNOWN {
  const dir = dirname(file);
  if (memo.unknown.has(dir)) return UNKNOWN;
  try {
    return directoryScope(view, dir, memo.scopes)?.type;
  } catch (error) {
    // Unknown to the index, or a package.json Node must raise its own error about.
    if (!(error instanceof GiveUp)) throw error;
    memo.unknown.add(dir);
    return UNKNOWN;
  }
}

/** What scopeType learnt: each directory's scope, and the directories the index cannot tell about. */
export interface ScopeMemo {
  readonly scopes: Map<string, PackageFacts | null>;
  readonly unknown: Set<string>;
}

function newScopeMemo(): ScopeMemo {
  return { scopes: new Map(), unknown: new Set() };
}

/** Scratch space reused for every file that fits: most sources do, and need no allocation. */
let scratch: Buffer | undefined;
const SCRATCH_BYTES = 256 * 1024;

/** Node's "not found" error for a file the index answered that has gone, saying what to do. */
function goneError(file: string): Error {
  const missing = new Error(`Cannot find module '${file}' (the coldstart index answered it, but the file is gone: run \`coldstart index\` again)`) as NodeJS.ErrnoException;
  missing.code = 'MODULE_NOT_FOUND';
  return missing;
}

/**
 * The whole file as UTF-8. Node 22+: readFileSync(path, 'utf8'), one call that opens, reads,
 * decodes and closes in C++, faster than the descriptor steps below
 * (docs/decisions/startup-costs.md#cjs-source-one-read). Node 20, where that is no faster:
 * open, fstat, one read of the size fstat gave into a buffer of that size (the reused scratch
 * buffer when it fits), close; a file fstat sees as empty (procfs and the like) is read until a
 * read returns nothing.
 */
function readSource(file: string): string {
  if (has('oneReadUtf8')) {
    try {
      return readFileSync(file, 'utf8');
    } catch (error) {
      // Removed by hand deep inside a package since the index was built (not caught by the
      // package-directory stamps).
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw goneError(file);
      throw error;
    }
  }
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    throw goneError(file);
  }
  try {
    const size = fstatSync(fd).size;
    // Node 20's readFileSync would read a descriptor it was handed in small pieces
    // (docs/decisions/startup-costs.md#index-source-handler): one buffer of its size instead.
    let buffer = size > SCRATCH_BYTES ? Buffer.allocUnsafe(size) : (scratch ??= Buffer.allocUnsafe(SCRATCH_BYTES));
    let length = 0;
    for (;;) {
      if (size > 0 && length === size) break;
      if (length === buffer.length) {
        // Only a file that fstat called empty, or that grew while being read, gets here.
        const bigger = Buffer.allocUnsafe(buffer.length * 2);
        buffer.copy(bigger, 0, 0, length);
        buffer = bigger;
      }
      const n = readSync(fd, buffer, length, (size > 0 ? size : buffer.length) - length, null);
      if (n === 0) break;
      length += n;
    }
    return buffer.toString('utf8', 0, length);
  } finally {
    closeSync(fd);
  }
}

/**
 * The file's source, or undefined when it cannot be read for a reason other than its absence (a
 * file made unreadable): Node's handler then reads it and raises its own error, from its own frames.
 */
function readOrPass(file: string): string | undefined {
  try {
    return readSource(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') throw error;
    return undefined;
  }
}

/** The "type" of the package scope `file` lies in; undefined for none, null when the index cannot tell. */
export function packageTypeOf(view: ResolutionView, file: string): string | undefined | null {
  const type = scopeType(view, file, newScopeMemo());
  return type === UNKNOWN ? null : type;
}

/** Joins the pipeline with the `.js` step; returns the function that takes it out. */
export function installSourceHandler(view: ResolutionView, counts: SourceCounts, startPrefetch?: () => Prefetcher | undefined): () => void {
  const chain = pipeline();
  // A pack's step comes first and serves what it holds; this one reads what it leaves (the
  // modules a run loads beyond the recorded ones: `npm ls` with the pack of `npm --version`
  // read 453 of 532 that way, in 8.7 M instructions more than this handler takes).
  if (chain.provides('index', '.js')) return () => {};
  const foreign = foreignLoadHooks();
  if (foreign.foreign) {
    counts.off = foreign.reason;
    return () => {};
  }
  // Started only once this step is certain to serve files (slow filesystems: prefetch.ts).
  const prefetch = startPrefetch?.();
  const memo = newScopeMemo();
  const js: HandlerStep = (module, filename, next) => {
    if (foreign.foreign) {
      counts.passed++;
      counts.off ??= foreign.reason;
      return next(module, filename);
    }
    if (typeof filename !== 'string') return next(module, filename);
    // Read a second time here, typescript.js imported by an ES module cost 20 MB of peak memory.
    if (loadedByImport(module)) {
      counts.passed++;
      return next(module, filename);
    }
    if (filename.endsWith('.cjs') && view.isFile(filename) === true) {
      // No scope to look up: `.cjs` is CommonJS whatever package.json says.
      const source = prefetch?.take(filename) ?? readOrPass(filename);
      if (source === undefined) {
        counts.passed++;
        return next(module, filename);
      }
      counts.served++;
      return compileSource(module, source, filename, 'commonjs', next);
    }
    if (!filename.endsWith('.js')) {
      counts.passed++;
      return next(module, filename);
    }
    const type = scopeType(view, filename, memo);
    if (type === UNKNOWN || type === 'module') {
      counts.passed++;
      return next(module, filename);
    }
    const source = prefetch?.take(filename) ?? readOrPass(filename);
    if (source === undefined) {
      counts.passed++;
      return next(module, filename);
    }
    counts.served++;
    // Node passes "commonjs" or, for a scope without "type", nothing (its syntax detection
    // then decides); any other "type" value also means nothing to it.
    return compileSource(module, source, filename, type === 'commonjs' ? 'commonjs' : undefined, next);
  };
  return chain.join('index', { extensions: { '.js': js } });
}
