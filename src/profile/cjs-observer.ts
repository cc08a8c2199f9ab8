// Records CommonJS loads with the profiler's steps in the loader pipeline, which come before
// every other provider's: the load step (the window of one require, children included), the
// resolve step (resolve time), the extension-handler steps (read time, up to compilation) and
// the compile step (source size). Returns the steps, and closeOpen for exit: loads still open
// then (a main module that calls process.exit(), as commander and yargs do on --help) are
// recorded as they stand. `beforeCompile` sees each source and format before Node compiles it
// (see esm-start.ts).
import { builtinModules } from 'node:module';
import { aroundStep, type HandlerStep, type Steps } from '../loader/pipeline.js';
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

const builtins = new Set(builtinModules);

function isBuiltin(request: string): boolean {
  return request.startsWith('node:') || builtins.has(request);
}

const formats: Record<string, ModuleFormat> = { '.json': 'json', '.node': 'addon' };

/** `extensions`: the extensions Node's loader knows (require.extensions' keys). */
export function observeCommonJs(
  recorder: Recorder,
  extensions: readonly string[],
  skipPrefix: string,
  beforeCompile?: (content: unknown, format: unknown) => void,
): { steps: Steps; closeOpen: () => void; servedFromPack: (filename: string, size: number) => void } {
  const top = () => recorder.stack[recorder.stack.length - 1] as CjsFrame | undefined;

  const load: Steps['load'] = (request, parent, isMain, rest, next) => {
    const frame = recorder.enter() as CjsFrame;
    frame.request = request;
    frame.parentFile = parent?.filename ?? undefined;
    frame.resolved = undefined;
    frame.resolveMs = 0;
    frame.readStart = 0;
    frame.readMs = 0;
    frame.size = null;
    try {
      return next(request, parent, isMain, rest);
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

  const resolveFilename: Steps['resolveFilename'] = (request, parent, isMain, options, next) => {
    const frame = top();
    const start = now();
    const result = next(request, parent, isMain, options);
    // require.resolve() also lands here; only the first resolve inside a _load window is its own.
    if (frame !== undefined && frame.request === request && frame.resolved === undefined && typeof result === 'string') {
      frame.resolved = result;
      frame.resolveMs = now() - start;
    }
    return result;
  };

  // Around the whole handling: a JSON file's or an addon's read is timed by it.
  const handler: HandlerStep = aroundStep((module, filename, next) => {
    const frame = top();
    if (frame !== undefined && frame.request !== undefined && frame.key === undefined) {
      frame.key = filename;
      frame.readStart = now();
    }
    try {
      return next(module, filename);
    } finally {
      // JSON and addons have no _compile: their whole handler is reading.
      if (frame !== undefined && frame.key === filename && frame.readMs === 0 && frame.size === null) {
        frame.readMs = now() - frame.readStart - frame.childMs;
      }
    }
  });

  const compile: Steps['compile'] = (module, content, filename, rest, next) => {
    const format = rest[0];
    beforeCompile?.(content, format);
    const frame = top();
    if (frame !== undefined && frame.key === filename && frame.size === null) {
      frame.readMs = now() - frame.readStart;
      frame.size = typeof content === 'string' ? content.length : null;
    }
    return next(module, content, filename, rest);
  };

  const closeOpen = (): void => {
    // Innermost first, so each outer window has its children's time when it closes.
    for (let frame = top(); frame !== undefined && frame.request !== undefined; frame = top()) finish(frame, recorder.leave(frame), true);
  };
  // A file the pack served: JSON has no compile step to give its size by.
  const servedFromPack = (filename: string, size: number): void => {
    const frame = top();
    if (frame !== undefined && frame.key === filename && frame.size === null) frame.size = size;
  };
  const handlers: Record<string, HandlerStep> = {};
  for (const ext of extensions) handlers[ext] = handler;
  return { steps: { load, resolveFilename, extensions: handlers, compile }, closeOpen, servedFromPack };
}
