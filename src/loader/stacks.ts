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
  // Node's function that coldstart's wrapper called is named as Node calls it (`_resolveFilename`),
  // after the receiver V8 names (`Module.` on Nodes 20 and 24+, `Function.` on Node 22).
  if (nodeName !== undefined && at > 0) before[at - 1] = before[at - 1]!.replace(/^(\s+at \w+\.)<anonymous> \(node:/, `$1${nodeName} (node:`);
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
  // Node's default step under its hooks (`defaultResolve` in the CommonJS loader) runs only because a hook is registered.
  if (frame.includes('(node:internal/modules/customization_hooks:') || /^\s+at defaultResolve \(node:internal\/modules\/cjs\/loader:/.test(frame)) {
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

/** Where Node's require() throws a module it cannot find (line, and that line's text), learnt once; null: not learnt. */
let resolveThrow: { line: number; text: string } | null | undefined;
let resolveRethrowFn: ((error: unknown) => never) | undefined;

/**
 * The line of Node's `throw err;` for a module require() cannot find, as Node prints it above
 * the uncaught error, when `error` is one (its code, and the require stack only Node's
 * Module._resolveFilename gives it) and `nodeResolve` is Node's own function. Learnt once, from
 * an error of coldstart's making, so that no error of the program's is formatted early (a
 * formatter it installs later must still apply): Node's function, asked with no lookup path,
 * fails at once and asks the disk nothing. Its first frame names the line of its
 * `new Error(message)`, and the function's source how many lines below that it is thrown.
 */
function resolveThrowSite(error: unknown, nodeResolve: Function): { line: number; text: string } | undefined {
  if (!(error instanceof Error) || (error as { code?: unknown }).code !== 'MODULE_NOT_FOUND' || !Array.isArray((error as { requireStack?: unknown }).requireStack)) return undefined;
  if (resolveThrow !== undefined) return resolveThrow ?? undefined;
  if (Error.prepareStackTrace !== nodeFormatter) return undefined;
  resolveThrow = null;
  const lines = Function.prototype.toString.call(nodeResolve).split('\n');
  const thrown = lines.findLastIndex((line) => /^\s*throw err;$/.test(line));
  const created = lines.findLastIndex((line, i) => i < thrown && line.includes('= new Error(message)'));
  // Node's own function: another tool's wrapper in its place does not read so, and is not called.
  if (thrown === -1 || created === -1 || !lines.some((line) => line.includes("'MODULE_NOT_FOUND'"))) return undefined;
  const limit = Error.stackTraceLimit;
  let probe: unknown;
  try {
    Error.stackTraceLimit = 1;
    nodeResolve.call(process.getBuiltinModule('node:module'), 'coldstart-probe-of-a-missing-module', null, false, { paths: [] });
  } catch (caught) {
    probe = caught;
  } finally {
    Error.stackTraceLimit = limit;
  }
  const stack = probe instanceof Error ? probe.stack : undefined;
  const first = typeof stack === 'string' ? split(stack).frames[0] : undefined;
  // Named `<anonymous>` while coldstart's wrapper holds Module._resolveFilename.
  const made = first === undefined ? null : /^\s+at (?:Module|Function)\.(?:_resolveFilename|<anonymous>) \(node:internal\/modules\/cjs\/loader:(\d+):\d+\)$/.exec(first);
  if (made === null) return undefined;
  resolveThrow = { line: Number(made[1]) + thrown - created, text: lines[thrown]! };
  return resolveThrow;
}

/**
 * Throws `error` again from a script of its own. Node prints the source line of an uncaught
 * error's last throw above it; thrown again from coldstart's bundled (minified) core, that line
 * would be a page of code. A module require() cannot find (`nodeResolve`: Node's function that
 * made it) is thrown from Node's own line, named as Node names it, so that the uncaught error
 * prints what plain Node prints; any other error from a one-line script named for what it is.
 */
export function rethrow(error: unknown, nodeResolve?: Function): never {
  // A name first: tsc emits `new (x as T).Script()` without its parentheses, which calls x's function as a constructor.
  const vm = (): typeof import('node:vm') => process.getBuiltinModule('node:vm') as typeof import('node:vm');
  const site = nodeResolve === undefined ? undefined : resolveThrowSite(error, nodeResolve);
  if (site !== undefined) {
    if (resolveRethrowFn === undefined) {
      const script = new (vm().Script)(`(function rethrow(err) {\n${site.text}\n})`, { filename: 'node:internal/modules/cjs/loader', lineOffset: site.line - 2 });
      resolveRethrowFn = script.runInThisContext() as (error: unknown) => never;
    }
    return resolveRethrowFn(error);
  }
  if (rethrowFn === undefined) {
    const script = new (vm().Script)('(function rethrow(error) { throw error; })', { filename: 'coldstart (an error from the module loader, with the frames Node gives)' });
    rethrowFn = script.runInThisContext() as (error: unknown) => never;
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
