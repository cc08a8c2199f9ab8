// Loads a lazily declared module synchronously, the way require() would from its parent file
// (ES modules through require(esm)), and fills in the record: timing, resolved path, errors.
import { LazyLoadError, topLevelAwaitError } from './errors.js';
import type { CallSite } from './call-site.js';
import type { MutableRecord } from './records.js';

/** Accepts `import.meta.url`, a file URL object, `__filename` or an absolute path. */
export function parentPath(parent: string | URL): string {
  if (parent instanceof URL || parent.startsWith('file:')) return process.getBuiltinModule('node:url').fileURLToPath(parent);
  return parent;
}

const requireFor = new Map<string, NodeJS.Require>();

function requireFrom(parent: string): NodeJS.Require {
  let req = requireFor.get(parent);
  if (req === undefined) {
    req = process.getBuiltinModule('node:module').createRequire(parent);
    requireFor.set(parent, req);
  }
  return req;
}

/**
 * Returns the module value, loading it on the first call. A failed load is remembered and the
 * same LazyLoadError is thrown again on every later use (as a failed ES module import does):
 * retrying would re-run the side effects of a half-evaluated module.
 */
export function loadRecord(record: MutableRecord, trigger: string, site: CallSite): unknown {
  if (record.status === 'loaded') return record.value;
  if (record.status === 'failed') throw record.error;
  record.trigger = trigger;
  record.firstUseAt = site;
  const start = performance.now();
  record.loadStartMs = start;
  const req = requireFrom(record.parent);
  try {
    const value = req(record.specifier);
    record.loadDurationMs = performance.now() - start;
    record.value = value;
    record.status = 'loaded';
    try {
      record.resolved = req.resolve(record.specifier);
    } catch {
      record.resolved = undefined;
    }
    return value;
  } catch (cause) {
    record.loadDurationMs = performance.now() - start;
    const code = (cause as { code?: unknown } | null)?.code;
    const reason = code === 'ERR_REQUIRE_ASYNC_MODULE' ? topLevelAwaitError(record.specifier, cause) : cause;
    const error = new LazyLoadError(record.specifier, record.declaredAt.toString(), site.toString(), reason);
    record.error = error;
    record.status = 'failed';
    throw error;
  }
}
