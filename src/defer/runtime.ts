// The run-time half of `import defer`: a namespace object that evaluates its module on the first
// string-keyed access, as the TC39 proposal's deferred namespace does, built on a Proxy. Loading
// goes through require(), so evaluation is synchronous; each declaration is a lazy-pillar record.
import { debug } from '../debug.js';
import { captureCallSite, type CallSite } from '../lazy/call-site.js';
import { installRecordsWriter } from '../lazy/eager.js';
import { LazyLoadError, topLevelAwaitError } from '../lazy/errors.js';
import { store, type MutableRecord } from '../lazy/records.js';

// Builtins through process.getBuiltinModule: a static `import ... from 'node:url'` makes Node
// build an ES module facade of the builtin at start-up (this file is loaded by every run that
// defers an import).
function urlToPath(url: string): string {
  return (process.getBuiltinModule('node:url') as typeof import('node:url')).fileURLToPath(url);
}

const toStringTag = 'Deferred Module';

/** A fixed `file:line:col` standing in for a captured call site. */
function fixedSite(text: string): CallSite {
  return { toString: () => text, toJSON: () => text } as unknown as CallSite;
}

function isNamespace(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && Object.prototype.toString.call(value) === '[object Module]';
}

/**
 * What `import * as ns` would give for a module that require() returned: ES modules come back as
 * their namespace; CommonJS exports become `default` plus their own enumerable string keys.
 */
function namespaceOf(value: unknown, names?: ReadonlySet<string>): Record<string, unknown> {
  if (isNamespace(value)) return value;
  const ns: Record<string, unknown> = Object.create(null);
  // Slots shaped like a real namespace's (writable, enumerable, non-configurable), which is what
  // the Proxy invariants of the deferred namespace expect.
  const slot = (key: string, value: unknown) => Object.defineProperty(ns, key, { value, writable: true, enumerable: true, configurable: false });
  const object = (typeof value === 'object' || typeof value === 'function') && value !== null ? (value as Record<string, unknown>) : undefined;
  if (names !== undefined) {
    // The names Node's own analysis of the CommonJS text gives (as `import` would see them): each
    // holds the own property of that name at evaluation, if any; `default` and `module.exports`
    // hold the exports object.
    for (const key of names) {
      if (key === 'default' || key === 'module.exports') slot(key, value);
      else {
        let held: unknown;
        try {
          held = object !== undefined && Object.hasOwn(object, key) ? object[key] : undefined;
        } catch {
          // A throwing getter leaves the name undefined, as Node does.
        }
        slot(key, held);
      }
    }
  } else {
    // In the order a namespace lists its keys (sorted), `default` among them: a builtin's exports.
    const keys = object === undefined ? [] : Object.keys(object).filter((key) => key !== 'default');
    for (const key of [...keys, 'default'].sort()) slot(key, key === 'default' ? value : object![key]);
  }
  Object.defineProperty(ns, Symbol.toStringTag, { value: 'Module' });
  return Object.preventExtensions(ns);
}

function requireTarget(url: string, parent: string): () => unknown {
  const req = (process.getBuiltinModule('node:module') as typeof import('node:module')).createRequire(parent);
  const id = url.startsWith('file:') ? urlToPath(url) : url;
  return () => req(id);
}

/** Spec: `then` is never looked up through a deferred namespace, so awaiting one does not evaluate it. */
function symbolLike(key: string | symbol): boolean {
  return typeof key === 'symbol' || key === 'then';
}

/** A namespace's value for display; a binding not yet initialised (a cycle) shows as undefined. */
function peek(ns: Record<string, unknown>, key: string): unknown {
  try {
    return ns[key];
  } catch {
    return undefined;
  }
}

/** Frames between a deferred module's code and the read that evaluated it: Node's require(),
 *  its ES module loader, and this file's trap (counted on Node 24: 11; a margin over it). */
const requireFrames = 16;

/** The proposal's error for a deferred module read before it can be evaluated synchronously. */
function notReady(specifier: string, skip: Function, cause?: unknown): TypeError {
  const error = new TypeError(`Deferred module ${specifier} is not ready for sync execution: it, or a module it imports, is still evaluating`, cause === undefined ? undefined : { cause });
  // The stack starts where the program read the namespace, not inside coldstart.
  Error.captureStackTrace(error, skip);
  return error;
}

/** One deferred namespace per module, whichever import asked for it first (the proposal's
 *  GetModuleNamespace keeps one per module and phase). */
const namespaces = new Map<string, object>();

/**
 * The deferred namespace of the module at `url` (already resolved by the hook, so resolution
 * errors surfaced at the import), declared at `parentURL:line:column`. `evaluated` is passed for
 * modules that had to be evaluated eagerly (top-level await).
 */
export function deferredNamespace(url: string, specifier: string, parentURL: string, line: number, column: number, evaluated?: object, names?: readonly string[]): object {
  let made = namespaces.get(url);
  if (made === undefined) {
    made = makeNamespace(url, specifier, parentURL, line, column, evaluated, names);
    namespaces.set(url, made);
  }
  return made;
}

/** How a CommonJS file's namespace names are found (cjs-module-lexer, as Node does), when the
 *  thread that writes the stand-ins provides it. */
let commonJsNames: ((url: string) => readonly string[] | undefined) | undefined;

/** Set by the defer hooks of this thread: a stand-in made without names asks it at first use. */
export function useCommonJsNames(find: (url: string) => readonly string[] | undefined): void {
  commonJsNames = find;
}

function makeNamespace(url: string, specifier: string, parentURL: string, line: number, column: number, evaluated?: object, names?: readonly string[]): object {
  const parent = parentURL.startsWith('file:') ? urlToPath(parentURL) : parentURL;
  installRecordsWriter();
  const record: MutableRecord = {
    specifier,
    parent,
    declaredAt: fixedSite(`${parent}:${line}:${column}`),
    status: 'pending',
    resolved: url.startsWith('file:') ? urlToPath(url) : url,
    trigger: undefined,
    firstUseAt: undefined,
    loadStartMs: undefined,
    loadDurationMs: undefined,
    error: undefined,
    value: undefined,
  };
  store().records.push(record);

  // The Proxy target carries what the proposal's object has before evaluation (null prototype,
  // the tag); after evaluation it also gets every export as a non-configurable slot and is made
  // non-extensible, which is what lets the traps report the namespace's real descriptors.
  const target = Object.create(null) as Record<string | symbol, unknown>;
  Object.defineProperty(target, Symbol.toStringTag, { value: toStringTag, writable: false, enumerable: false, configurable: false });
  let namespace: Record<string, unknown> | undefined;
  // An own key of the loaded namespace that is not an export of the module (see settle).
  let hidden: string | undefined;
  let evaluating = false;

  // Export names known from the module's text: the namespace is born with its final shape (never
  // extensible), as the proposal's is, and the names are the truth every trap answers by.
  let exported = names === undefined ? undefined : new Set(names.filter((name) => name !== 'then'));
  const shape = (): void => {
    for (const key of exported!) Object.defineProperty(target, key, { value: undefined, writable: true, enumerable: true, configurable: false });
    Object.preventExtensions(target);
  };
  if (exported !== undefined) shape();
  const absent = (key: string | symbol): boolean => key === hidden || (exported !== undefined && typeof key === 'string' && !exported.has(key));

  const settle = (ns: Record<string, unknown>): Record<string, unknown> => {
    namespace = ns;
    // The values are copied into the slots too: util.inspect shows a Proxy's target as it is (a
    // snapshot of the exports at evaluation; every read goes to the module itself).
    if (exported !== undefined) {
      for (const key of exported) target[key] = peek(ns, key);
      return ns;
    }
    // require(esm) of a module with a default export adds `__esModule: true` for CommonJS interop;
    // the module's namespace, which `import` gives, has no such export.
    if (isNamespace(ns) && Object.hasOwn(ns, '__esModule') && ns['__esModule'] === true && Object.hasOwn(ns, 'default')) hidden = '__esModule';
    for (const key of Object.keys(ns)) {
      if (key === 'then' || key === hidden) continue;
      Object.defineProperty(target, key, { value: peek(ns, key), writable: true, enumerable: true, configurable: false });
    }
    Object.preventExtensions(target);
    return ns;
  };

  const load = (trigger: string, skip: Function): Record<string, unknown> => {
    if (namespace !== undefined) return namespace;
    if (record.status === 'failed') throw record.error;
    // Read while its own evaluation is under way (its code, or a module it imports, reads it).
    if (evaluating) throw notReady(specifier, skip);
    record.trigger = trigger;
    const site = captureCallSite(skip);
    record.firstUseAt = site;
    const start = performance.now();
    record.loadStartMs = start;
    evaluating = true;
    // An error thrown while the module evaluates is the module's own; require()'s frames would fill
    // the default ten lines of its stack before reaching the read that started it.
    const limit = Error.stackTraceLimit;
    const raised = Number.isFinite(limit) && limit > 0 ? limit + requireFrames : limit;
    Error.stackTraceLimit = raised;
    try {
      const value = requireTarget(url, parent)();
      evaluating = false;
      // A CommonJS file (a learned stand-in has no names): the names Node gives its namespace come
      // from its text, not from its exports object (a getter Node never calls, a name it cannot see).
      if (exported === undefined && commonJsNames !== undefined && !isNamespace(value) && url.startsWith('file:') && !url.endsWith('.json') && !url.endsWith('.node')) {
        const found = commonJsNames(url);
        if (found !== undefined) {
          exported = new Set(found.filter((name) => name !== 'then'));
          shape();
        }
      }
      if (Error.stackTraceLimit === raised) Error.stackTraceLimit = limit;
      record.loadDurationMs = performance.now() - start;
      record.value = value;
      record.status = 'loaded';
      return settle(namespaceOf(value, exported));
    } catch (cause) {
      evaluating = false;
      if (Error.stackTraceLimit === raised) Error.stackTraceLimit = limit;
      record.loadDurationMs = performance.now() - start;
      const code = (cause as { code?: unknown } | null)?.code;
      // Its graph holds a module still evaluating (a cycle through the importer): the proposal's
      // TypeError, and nothing is settled, so a later read, once that module is done, evaluates it.
      if (code === 'ERR_REQUIRE_CYCLE_MODULE') {
        record.trigger = undefined;
        record.firstUseAt = undefined;
        throw notReady(specifier, skip, cause);
      }
      // The module's own error, unchanged, as the proposal and native Node throw it (and the same
      // object at every later use); where it was declared and first used is in the records and
      // under COLDSTART_DEBUG. Only an await coldstart could not run ahead is coldstart's error.
      const error = code === 'ERR_REQUIRE_ASYNC_MODULE'
        ? new LazyLoadError(specifier, record.declaredAt.toString(), site.toString(), topLevelAwaitError(specifier, cause))
        : cause;
      debug('defer', `${specifier} (declared at ${record.declaredAt}, first used at ${site}) failed to load: ${(cause as Error)?.message ?? String(cause)}`);
      record.error = error;
      record.status = 'failed';
      throw error;
    }
  };

  if (evaluated !== undefined) {
    record.status = 'loaded';
    record.trigger = 'evaluated at the import (top-level await, or a URL require() cannot load)';
    record.value = evaluated;
    settle(namespaceOf(evaluated, exported));
  }

  const handler: ProxyHandler<Record<string | symbol, unknown>> = {
    get(t, key) {
      if (symbolLike(key)) return typeof key === 'symbol' ? t[key] : undefined;
      const ns = load(`get ${JSON.stringify(key)}`, handler.get!);
      return absent(key) ? undefined : ns[key as string];
    },
    set() {
      return false;
    },
    has(t, key) {
      if (symbolLike(key)) return typeof key === 'symbol' && key in t;
      const ns = load(`has ${JSON.stringify(key)}`, handler.has!);
      return !absent(key) && key in ns;
    },
    getOwnPropertyDescriptor(t, key) {
      if (symbolLike(key)) return typeof key === 'symbol' ? Reflect.getOwnPropertyDescriptor(t, key) : undefined;
      const ns = load(`getOwnPropertyDescriptor ${JSON.stringify(key)}`, handler.getOwnPropertyDescriptor!);
      return absent(key) ? undefined : Reflect.getOwnPropertyDescriptor(ns, key);
    },
    defineProperty(t, key, descriptor) {
      if (symbolLike(key)) {
        if (key !== Symbol.toStringTag) return false;
        // As on any namespace: redefining the tag succeeds only when it changes nothing.
        const current = Reflect.getOwnPropertyDescriptor(t, key)!;
        return Object.entries(descriptor).every(([field, value]) => Object.is((current as Record<string, unknown>)[field], value));
      }
      const ns = load(`defineProperty ${JSON.stringify(key)}`, handler.defineProperty!);
      return absent(key) ? false : Reflect.defineProperty(ns, key, descriptor);
    },
    deleteProperty(t, key) {
      if (symbolLike(key)) return typeof key === 'symbol' ? !(key in t) : true;
      const ns = load(`delete ${JSON.stringify(key)}`, handler.deleteProperty!);
      return absent(key) ? true : Reflect.deleteProperty(ns, key);
    },
    ownKeys() {
      const ns = load('ownKeys', handler.ownKeys!);
      if (exported !== undefined) return [...exported, Symbol.toStringTag];
      return [...Object.keys(ns).filter((key) => key !== 'then' && key !== hidden), Symbol.toStringTag];
    },
    setPrototypeOf(_t, proto) {
      return proto === null;
    },
    preventExtensions(t) {
      // Born non-extensible when the names were known; otherwise making the Proxy so needs them,
      // so this evaluates the module.
      if (Object.isExtensible(t)) load('preventExtensions', handler.preventExtensions!);
      return true;
    },
  };
  return new Proxy(target, handler);
}
