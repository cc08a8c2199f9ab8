// Off-thread ES module hooks for Node 20 (module.register): the same timing as esm-hooks.ts,
// but measured on the loader thread. The measurements travel to the main thread inside the
// injected start call of the next ES module, so nothing has to be sent back before exit;
// loads after the last ES module (JSON, builtins) are therefore not reported.
import { fileURLToPath } from 'node:url';
import { injectMarkers, isMarkerURL, sourceText } from './inject.js';

export interface AsyncLoadInfo {
  /** [key, specifier, parentKey or '', format, resolveMs, readMs, size or -1] */
  m: [string, string, string, string, number, number, number][];
  /** [fromKey, toKey] */
  e: [string, string][];
  /** CommonJS imported by ES modules: [key, specifier, parentKey], which Module._load is not told. */
  h: [string, string, string][];
}

const keyOf = (url: string) => (url.startsWith('file:') ? fileURLToPath(url) : url);

let skipPrefix = '\0';
const pending = new Map<string, { specifier: string; parentKey: string; resolveMs: number }>();
let queue: AsyncLoadInfo = { m: [], e: [], h: [] };

export function initialize(data: { skipPrefix?: string } | undefined): void {
  if (typeof data?.skipPrefix === 'string') skipPrefix = data.skipPrefix;
}

type Next<C, R> = (value: string, context: C) => Promise<R>;
interface ResolveContext { conditions?: readonly string[]; parentURL?: string }
interface Resolved { url: string; format?: string | null }
interface Loaded { format?: string | null; source?: unknown }

export async function resolve(specifier: string, context: ResolveContext, next: Next<ResolveContext, Resolved>): Promise<Resolved> {
  if (isMarkerURL(specifier)) return next(specifier, context);
  const start = performance.now();
  const result = await next(specifier, context);
  const ms = performance.now() - start;
  const key = keyOf(result.url);
  const parentKey = context.parentURL === undefined ? '' : keyOf(context.parentURL);
  if (key.startsWith(skipPrefix) || parentKey.startsWith(skipPrefix)) return result;
  if (result.url.startsWith('node:')) {
    queue.m.push([result.url, specifier, parentKey, 'builtin', 0, 0, -1]);
  } else if (!pending.has(key)) {
    pending.set(key, { specifier, parentKey, resolveMs: ms });
  }
  if (parentKey !== '') queue.e.push([parentKey, key]);
  return result;
}

export async function load(url: string, context: { format?: string | null }, next: Next<{ format?: string | null }, Loaded>): Promise<Loaded> {
  const key = keyOf(url);
  const seen = pending.get(key);
  if (seen === undefined) return next(url, context);
  const start = performance.now();
  const result = await next(url, context);
  const ms = performance.now() - start;
  const format = result.format ?? 'other';
  // CommonJS without source goes through Module._load on the main thread, where the patch sees it.
  pending.delete(key);
  if (format === 'commonjs' && result.source == null) {
    queue.h.push([key, seen.specifier, seen.parentKey]);
    return result;
  }
  const text = sourceText(result.source);
  queue.m.push([key, seen.specifier, seen.parentKey, format, seen.resolveMs, ms, text === undefined ? -1 : text.length]);
  if (format !== 'module' || text === undefined) return result;
  const info = queue;
  queue = { m: [], e: [], h: [] };
  return { ...result, source: injectMarkers(text, url, info) };
}
