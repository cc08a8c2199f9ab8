// Stack traces of errors that pass through coldstart's loader steps: a MODULE_NOT_FOUND, a file
// that cannot be read. (An error a module throws while it runs is left alone: its own frames come
// first, and Node prints its source line above it when uncaught.) Node keeps Error.stackTraceLimit frames (10 by default),
// and the frames of coldstart's steps would push the program's own frames out of them (`u.js:1:1`
// under `require("nope")`). So the error's stack keeps Node's frames up to the first of
// coldstart's, then continues with the frames of whoever called coldstart's outermost step,
// captured as the error passes it. Only formatted when the program reads the stack: an error
// caught and dropped (optional-dependency probing) costs one captureStackTrace.
import { dirname, sep } from 'node:path';
import { distPath } from '../dist-paths.js';
import { sharedState } from '../shared-state.js';

/** The frames' header lines (message, Node's "Require stack:") and the frames, of a formatted stack. */
function split(stack: string): { header: string[]; frames: string[] } {
  const lines = stack.split('\n');
  let first = lines.findIndex((line) => /^\s+at /.test(line));
  if (first === -1) first = lines.length;
  return { header: lines.slice(0, first), frames: lines.slice(first) };
}

/**
 * `inner` (an error's stack) with coldstart's frames and all after them replaced by the frames of
 * `outer` (a stack captured where the error left coldstart's outermost step), coldstart's own
 * left out, up to `limit` frames; `inner` as it is when it holds no frame of coldstart's.
 */
export function spliceStack(inner: string, outer: string, limit: number, own: (frame: string) => boolean, nodeName?: string): string {
  const { header, frames } = split(inner);
  const at = frames.findIndex(own);
  if (at === -1) return inner;
  const before = frames.slice(0, at);
  // Node's function that coldstart's wrapper called is named as Node calls it (`Module._resolveFilename`).
  if (nodeName !== undefined && at > 0) before[at - 1] = before[at - 1]!.replace(/^(\s+at )\w+\.<anonymous> \(node:/, `$1${nodeName} (node:`);
  const kept = [...before, ...split(outer).frames.filter((frame) => !own(frame))];
  return [...header, ...kept.slice(0, Math.max(0, limit))].join('\n');
}

// Node's own formatter (Node 22+ sets one), as it was when coldstart loaded, before the program ran.
const nodeFormatter = Error.prepareStackTrace;

/** Whether another tool formats stacks now (source-map-support, ts-node): it may map positions itself. */
export function foreignStackFormatter(): boolean {
  return Error.prepareStackTrace !== undefined && Error.prepareStackTrace !== nodeFormatter;
}

let ownDirs: readonly string[] | undefined;

/**
 * A frame in coldstart's files (dist/, or src/ where a source map leads there), or one of Node's
 * module hooks machinery while coldstart's are the only hooks in the process: without them Node
 * runs none of it.
 */
function ownFrame(frame: string): boolean {
  if (ownDirs === undefined) {
    const dist = distPath('');
    ownDirs = [`${dist}${sep}`, `${dirname(dist)}${sep}src${sep}`];
  }
  for (const dir of ownDirs) if (frame.includes(dir)) return true;
  if (frame.includes('(node:internal/modules/customization_hooks:')) {
    const others = sharedState().foreignHooks;
    return others === undefined || (!others.foreign && !others.resolution);
  }
  return false;
}

let rethrowFn: ((error: unknown) => never) | undefined;

/** Errors given their stack once: an outer step of the pipeline leaves them as the inner one made them. */
const rebuilt = new WeakSet<object>();

/** More than the frames coldstart's pipeline can put between Node's loader and the program. */
const ownFrameRoom = 16;

/**
 * Throws `error` again from a one-line script of its own. Node prints the source line of an
 * uncaught error's last throw above it; thrown again from coldstart's bundled (minified) core, that
 * line would be a page of code.
 */
export function rethrow(error: unknown): never {
  if (rethrowFn === undefined) {
    // A name first: tsc emits `new (x as T).Script()` without its parentheses, which calls x's function as a constructor.
    const vm = process.getBuiltinModule('node:vm') as typeof import('node:vm');
    rethrowFn = new vm.Script('(function rethrow(error) { throw error; })', { filename: 'coldstart (an error from the module loader, with the frames Node gives)' }).runInThisContext() as (error: unknown) => never;
  }
  return rethrowFn(error);
}

/**
 * Gives `error` (thrown through `step`, one of coldstart's wrappers of Node's loader, in place of
 * Node's `nodeName`) the stack Node would have given it, as above; returns it. Errors that are not Error objects, whose stack
 * another tool formats (Error.prepareStackTrace), or whose stack cannot be replaced, stay as they are.
 */
export function withNodeFrames<T>(error: T, step: Function, nodeName?: string): T {
  if (!(error instanceof Error) || Error.prepareStackTrace !== nodeFormatter) return error;
  const descriptor = Object.getOwnPropertyDescriptor(error, 'stack');
  if (descriptor === undefined || descriptor.configurable !== true) return error;
  const limit = Error.stackTraceLimit;
  if (typeof limit !== 'number' || limit <= 0 || rebuilt.has(error)) return error;
  rebuilt.add(error);
  // Captured with room for coldstart's own frames above this step (an outer step of the
  // pipeline), which are dropped: they must not take the program's places.
  const outer: { stack?: string } = {};
  Error.stackTraceLimit = limit + ownFrameRoom;
  try {
    Error.captureStackTrace(outer, step);
  } finally {
    Error.stackTraceLimit = limit;
  }
  const settle = (value: unknown): void => {
    Object.defineProperty(error, 'stack', { value, writable: true, enumerable: descriptor.enumerable ?? false, configurable: true });
  };
  Object.defineProperty(error, 'stack', {
    configurable: true,
    enumerable: descriptor.enumerable ?? false,
    get() {
      const inner: unknown = descriptor.get !== undefined ? descriptor.get.call(error) : descriptor.value;
      const formatted = typeof inner === 'string' && typeof outer.stack === 'string' ? spliceStack(inner, outer.stack, limit, ownFrame, nodeName) : inner;
      settle(formatted);
      return formatted;
    },
    set(value: unknown) {
      settle(value);
    },
  });
  return error;
}
