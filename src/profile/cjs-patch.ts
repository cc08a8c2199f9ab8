// Records CommonJS loads by wrapping the loader's own steps: Module._load (the window of one
// require, children included), Module._resolveFilename (resolve time), the extension handlers
// (read time, up to _compile) and Module.prototype._compile (source size). Returns an undo, and
// closeOpen for exit: loads still open then (a main module that calls process.exit(), as
// commander and yargs do on --help) are recorded as they stand.
// `beforeCompile` sees each source and format before Node compiles it (see esm-start.ts).
import { builtinModules } from 'node:module';
import { now } from './recorder.js';
import type { Frame, Recorder } from './recorder.js';
import type { ModuleFormat } from './schema.js';

interface CjsFrame extends Frame {
  request: string;
  parentFile: string | undefined;
  resolved: string | undefined;
  resolveMs: number;
  readStart: number;
  readMs: number;
  size: number | null;
}

type AnyFn = (...args: any[]) => any;
interface ModuleStatics {
  _load: AnyFn;
  _resolveFilename: AnyFn;
  _extensions: Record<string, AnyFn>;
  prototype: { _compile: AnyFn };
}

const builtins = new Set(builtinModules);

function isBuiltin(request: string): boolean {
  return request.startsWith('node:') || builtins.has(request);
}

const formats: Record<string, ModuleFormat> = { '.json': 'json', '.node': 'addon' };

export function patchCommonJs(
  recorder: Recorder,
  Module: ModuleStatics,
  skipPrefix: string,
  beforeCompile?: (content: unknown, format: unknown) => void,
): { undo: () => void; closeOpen: () => void } {
  const load = Module._load;
  const resolveFilename = Module._resolveFilename;
  const compile = Module.prototype._compile;
  const handlers = { ...Module._extensions };
  const top = () => recorder.stack[recorder.stack.length - 1] as CjsFrame | undefined;

  Module._load = function (this: unknown, request: string, parent: { filename?: string } | undefined) {
    const frame = recorder.enter() as CjsFrame;
    frame.request = request;
    frame.parentFile = parent?.filename ?? undefined;
    frame.resolved = undefined;
    frame.resolveMs = 0;
    frame.readStart = 0;
    frame.readMs = 0;
    frame.size = null;
    try {
      return load.apply(this, arguments as unknown as unknown[]);
    } finally {
      finish(frame, recorder.leave(frame));
    }
  };

  /** `atExit`: the load never returned; its record is kept, with no coverage boundary after it. */
  function finish(frame: CjsFrame, duration: number, atExit = false): void {
    // CommonJS imported by an ES module comes without a parent; the ES hooks may know it.
    const imported = frame.parentFile === undefined && frame.key !== undefined ? recorder.importers.get(frame.key) : undefined;
    const parentKey = frame.parentFile ?? imported?.parentKey;
    if (parentKey?.startsWith(skipPrefix)) return;
    if (frame.key !== undefined) {
      if (frame.key.startsWith(skipPrefix)) return;
      const ext = frame.key.slice(frame.key.lastIndexOf('.'));
      const entry = recorder.module(frame.key, imported?.specifier ?? frame.request, parentKey, formats[ext] ?? 'commonjs');
      if (entry.startMs === null) {
        entry.resolveMs = frame.resolveMs;
        entry.readMs = frame.readMs;
        entry.evalMs = duration - frame.childMs - frame.resolveMs - frame.readMs;
        entry.startMs = frame.start;
        entry.durMs = duration;
        entry.size = frame.size;
        if (!atExit) recorder.finished(entry, frame.parentFile === undefined);
      }
    } else if (isBuiltin(frame.request)) {
      const key = frame.request.startsWith('node:') ? frame.request : `node:${frame.request}`;
      recorder.module(key, frame.request, parentKey, 'builtin');
    } else if (frame.resolved !== undefined && parentKey !== undefined && recorder.modules.has(frame.resolved)) {
      recorder.edge(parentKey, frame.resolved);
    }
  }

  Module._resolveFilename = function (this: unknown, request: string) {
    const frame = top();
    const start = now();
    const result = resolveFilename.apply(this, arguments as unknown as unknown[]);
    // require.resolve() also lands here; only the first resolve inside a _load window is its own.
    if (frame !== undefined && frame.request === request && frame.resolved === undefined && typeof result === 'string') {
      frame.resolved = result;
      frame.resolveMs = now() - start;
    }
    return result;
  };

  for (const [ext, handler] of Object.entries(handlers)) {
    Module._extensions[ext] = function (this: unknown, module: unknown, filename: string) {
      const frame = top();
      if (frame !== undefined && frame.request !== undefined && frame.key === undefined) {
        frame.key = filename;
        frame.readStart = now();
      }
      try {
        return handler.apply(this, arguments as unknown as unknown[]);
      } finally {
        // JSON and addons have no _compile: their whole handler is reading.
        if (frame !== undefined && frame.key === filename && frame.readMs === 0 && frame.size === null) {
          frame.readMs = now() - frame.readStart - frame.childMs;
        }
      }
    };
  }

  Module.prototype._compile = function (this: unknown, content: string, filename: string, format?: string) {
    beforeCompile?.(content, format);
    const frame = top();
    // A `.js` handler installed after this patch (coldstart/register's index or pack, run by
    // --import after the profiler's preload) may serve the source itself and call _compile
    // without ours: the first _compile of a load window, before any child, is its module.
    if (frame !== undefined && frame.request !== undefined && frame.key === undefined && frame.childMs === 0 && typeof filename === 'string') {
      frame.key = filename;
      frame.readStart = frame.start + frame.resolveMs;
    }
    if (frame !== undefined && frame.key === filename && frame.size === null) {
      frame.readMs = now() - frame.readStart;
      frame.size = typeof content === 'string' ? content.length : null;
    }
    return compile.apply(this, arguments as unknown as unknown[]);
  };

  // JSON served from a pack by a handler installed over ours (pack/hooks.ts) has no _compile:
  // the pack reports it here.
  const servedJsonKey = Symbol.for('coldstart.profile.servedJson');
  const global = globalThis as Record<symbol, unknown>;
  const onServedJson = (filename: string, size: number): void => {
    const frame = top();
    if (frame === undefined || frame.request === undefined || frame.key !== undefined || frame.childMs !== 0) return;
    frame.key = filename;
    frame.readMs = now() - frame.start - frame.resolveMs;
    frame.size = size;
  };
  global[servedJsonKey] = onServedJson;

  const closeOpen = (): void => {
    // Innermost first, so each outer window has its children's time when it closes.
    for (let frame = top(); frame !== undefined && frame.request !== undefined; frame = top()) finish(frame, recorder.leave(frame), true);
  };
  const undo = (): void => {
    if (global[servedJsonKey] === onServedJson) global[servedJsonKey] = undefined;
    Module._load = load;
    Module._resolveFilename = resolveFilename;
    Module.prototype._compile = compile;
    for (const [ext, handler] of Object.entries(handlers)) Module._extensions[ext] = handler;
  };
  return { undo, closeOpen };
}
