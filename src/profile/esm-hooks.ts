// In-thread ES module hooks (module.registerHooks, Node 22.15+): time each import's resolve and
// read, and add evaluation markers to ES module sources. require() calls pass straight through:
// the CommonJS patch records those.
import { keyOf, now } from './recorder.js';
import type { Recorder } from './recorder.js';
import { injectMarkers, isMarkerURL, sourceText } from './inject.js';
import type { ModuleFormat } from './schema.js';

interface ResolveContext { conditions?: readonly string[]; parentURL?: string }
interface LoadContext { format?: string | null; conditions?: readonly string[] }
interface Resolved { url: string; format?: string | null }
interface Loaded { format?: string | null; source?: unknown }

const knownFormats = new Set(['module', 'commonjs', 'json', 'builtin', 'wasm']);

export function profiledFormat(format: string | null | undefined, url: string): ModuleFormat {
  if (url.startsWith('node:')) return 'builtin';
  return format !== null && format !== undefined && knownFormats.has(format) ? (format as ModuleFormat) : 'other';
}

export function makeHooks(recorder: Recorder, skipPrefix: string) {
  const pending = new Map<string, { specifier: string; parentKey: string | undefined; resolveMs: number }>();
  return {
    resolve(specifier: string, context: ResolveContext, nextResolve: (s: string, c: ResolveContext) => Resolved): Resolved {
      if (context.conditions?.includes('require') || isMarkerURL(specifier)) return nextResolve(specifier, context);
      const start = now();
      const result = nextResolve(specifier, context);
      const ms = now() - start;
      recorder.charge(ms);
      const key = keyOf(result.url);
      const parentKey = context.parentURL === undefined ? undefined : keyOf(context.parentURL);
      if (key.startsWith(skipPrefix) || parentKey?.startsWith(skipPrefix)) return result;
      if (result.url.startsWith('node:')) {
        recorder.module(result.url, specifier, parentKey, 'builtin');
      } else if (recorder.modules.has(key)) {
        if (parentKey !== undefined) recorder.edge(parentKey, key);
      } else if (!pending.has(key)) {
        pending.set(key, { specifier, parentKey, resolveMs: ms });
        if (parentKey !== undefined) recorder.importers.set(key, { specifier, parentKey });
      } else if (parentKey !== undefined) {
        recorder.edge(parentKey, key);
      }
      return result;
    },
    load(url: string, context: LoadContext, nextLoad: (u: string, c: LoadContext) => Loaded): Loaded {
      // A require() (its resolve passed through above): nothing pending, no path to compute.
      if (context.conditions?.includes('require')) return nextLoad(url, context);
      const key = keyOf(url);
      const seen = pending.get(key);
      if (seen === undefined) return nextLoad(url, context);
      pending.delete(key);
      const start = now();
      const result = nextLoad(url, context);
      const ms = now() - start;
      recorder.charge(ms);
      const format = profiledFormat(result.format, url);
      // CommonJS imported by an ES module is loaded through Module._load: the patch records it.
      if (format === 'commonjs' && result.source == null) {
        return result;
      }
      const entry = recorder.module(key, seen.specifier, seen.parentKey, format);
      entry.resolveMs = seen.resolveMs;
      entry.readMs = ms;
      const text = sourceText(result.source);
      entry.size = text === undefined ? null : text.length;
      if (format === 'module' && text !== undefined) return { ...result, source: injectMarkers(text, url) };
      if (format !== 'commonjs') recorder.finished(entry);
      return result;
    },
  };
}
