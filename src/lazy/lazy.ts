// The lazy module API: lazy() (a transparent proxy for a whole module), lazyNamed() (lazy
// bindings of single exports, the `from x import y` case) and lazyModules() (self-replacing
// getters: after first use, access is a plain property read).
import { captureCallSite, type CallSite } from './call-site.js';
import { eagerMode, installRecordsWriter } from './eager.js';
import { loadRecord, parentPath } from './loader.js';
import { store, snapshot, type LazyRecord, type MutableRecord } from './records.js';
import { sharedState } from '../shared-state.js';

// In the shared state, so that the ES module and CommonJS copies of coldstart know each
// other's stand-ins (isLazy, unwrap).
const recordOf = (sharedState().lazyStandIns ??= new WeakMap());

function declare(specifier: string, parent: string | URL, site: CallSite): MutableRecord {
  if (typeof specifier !== 'string' || specifier === '') {
    throw new TypeError(`lazy(): the specifier must be a non-empty string, got ${String(specifier)}`);
  }
  if (typeof parent !== 'string' && !(parent instanceof URL)) {
    throw new TypeError(
      `lazy('${specifier}', parent): parent must be import.meta.url or __filename, got ${String(parent)}`,
    );
  }
  installRecordsWriter();
  const record: MutableRecord = {
    specifier,
    parent: parentPath(parent),
    declaredAt: site,
    status: 'pending',
    resolved: undefined,
    trigger: undefined,
    firstUseAt: undefined,
    loadStartMs: undefined,
    loadDurationMs: undefined,
    error: undefined,
    value: undefined,
  };
  store().records.push(record);
  if (eagerMode()) loadRecord(record, 'eager', site);
  return record;
}

function describeKey(key: string | symbol): string {
  return typeof key === 'symbol' ? `[${key.description ?? 'symbol'}]` : JSON.stringify(key);
}

/**
 * A handler whose every trap loads the value first. `resolveValue` turns the loaded module into
 * the proxied value (the module itself, or one of its exports). The target is a bound function:
 * callable and constructible, so calls, `new` and `instanceof` work when the value turns out to
 * be a function or class, yet without the non-configurable `prototype` a plain function has,
 * which would otherwise bind every trap to the Proxy invariants.
 */
function makeProxy(record: MutableRecord, name: string | undefined): object {
  const label = name === undefined ? record.specifier : `${record.specifier}#${name}`;
  const target = function () {}.bind(null);
  Object.defineProperty(target, 'name', { value: `lazy ${label}` });

  // After the first load every trap takes the fast path: no strings built, no stack captured.
  let loaded = false;
  let module: any;
  const value = (kind: string, key: string | symbol | undefined, skip: Function): any => {
    if (!loaded) {
      const trigger = key === undefined ? kind : `${kind} ${describeKey(key)}`;
      module = loadRecord(record, name === undefined ? trigger : `${trigger} (export ${name})`, captureCallSite(skip));
      loaded = true;
    }
    if (name === undefined) return module;
    // Read the export on every use: an ES module may reassign it (a live binding).
    const result = module[name];
    if (result === null || (typeof result !== 'object' && typeof result !== 'function')) {
      throw new TypeError(
        `lazyNamed(): export '${name}' of '${record.specifier}' is ${result === null ? 'null' : typeof result}; ` +
          `a lazy binding can stand for a function, class or object only. Read primitives through lazy(): mod.${name}`,
      );
    }
    return result;
  };

  const handler: ProxyHandler<any> = {
    get(_t, key) {
      return value('get', key, handler.get!)[key];
    },
    set(_t, key, newValue) {
      return Reflect.set(value('set', key, handler.set!), key, newValue);
    },
    has(_t, key) {
      return Reflect.has(value('has', key, handler.has!), key);
    },
    deleteProperty(_t, key) {
      return Reflect.deleteProperty(value('delete', key, handler.deleteProperty!), key);
    },
    ownKeys() {
      return Reflect.ownKeys(value('ownKeys', undefined, handler.ownKeys!));
    },
    getOwnPropertyDescriptor(_t, key) {
      const real = value('getOwnPropertyDescriptor', key, handler.getOwnPropertyDescriptor!);
      const descriptor = Reflect.getOwnPropertyDescriptor(real, key);
      // Report every property configurable: the target does not hold it, and a Proxy may only
      // call a property non-configurable when its target has it so.
      if (descriptor !== undefined) descriptor.configurable = true;
      return descriptor;
    },
    defineProperty(_t, key, descriptor) {
      return Reflect.defineProperty(value('defineProperty', key, handler.defineProperty!), key, {
        ...descriptor,
        configurable: true,
      });
    },
    getPrototypeOf() {
      return Reflect.getPrototypeOf(value('getPrototypeOf', undefined, handler.getPrototypeOf!));
    },
    setPrototypeOf(_t, proto) {
      return Reflect.setPrototypeOf(value('setPrototypeOf', undefined, handler.setPrototypeOf!), proto);
    },
    // The proxy stays extensible: freezing it would freeze the stand-in, not the module.
    preventExtensions() {
      return false;
    },
    apply(_t, thisArg, args) {
      const real = value('call', undefined, handler.apply!);
      if (typeof real !== 'function') {
        throw new TypeError(`lazy module '${label}' is not a function (it is ${typeof real})`);
      }
      return Reflect.apply(real, thisArg, args);
    },
    construct(_t, args, newTarget) {
      const real = value('new', undefined, handler.construct!);
      if (typeof real !== 'function') {
        throw new TypeError(`lazy module '${label}' is not a constructor (it is ${typeof real})`);
      }
      return Reflect.construct(real, args, newTarget === proxy ? real : newTarget);
    },
  };
  const proxy = new Proxy(target, handler);
  recordOf.set(proxy, { record, name });
  return proxy;
}

/**
 * Declares a module that is resolved and loaded on first use, relative to `parent`
 * (`import.meta.url` or `__filename`). Type it with the module's own types:
 *
 *     const ts = lazy<typeof import('typescript')>('typescript', import.meta.url);
 *
 * Every operation on the returned value loads the module first: property reads, `in`,
 * `Object.keys`, calls, `new`, `instanceof`. `typeof` answers 'function' whatever the module
 * is, because the stand-in must be callable in case the module is.
 */
export function lazy<T = any>(specifier: string, parent: string | URL): T {
  const record = declare(specifier, parent, captureCallSite(lazy));
  return makeProxy(record, undefined) as T;
}

/**
 * Lazy bindings of single exports (Python's `lazy from x import a, b`): each returned value is
 * a stand-in for one export, for functions, classes and objects. Destructure freely:
 *
 *     const { S3Client } = lazyNamed<typeof import('@aws-sdk/client-s3'), 'S3Client'>(
 *       '@aws-sdk/client-s3', import.meta.url, ['S3Client']);
 *
 * The names go in the second type argument too: TypeScript cannot infer one type argument when
 * another is given, and without them the result could not be narrowed to the names listed.
 *
 * Primitive exports (numbers, strings, booleans) cannot be bound: a JavaScript binding cannot
 * run code when it is read. Read them from a lazy() module instead.
 */
export function lazyNamed<M = any, K extends keyof M & string = NamesOf<M>>(
  specifier: string,
  parent: string | URL,
  names: readonly ([K] extends [never] ? keyof M & string : K)[],
): LazyBindings<M, K> {
  const record = declare(specifier, parent, captureCallSite(lazyNamed));
  const bindings: Record<string, unknown> = {};
  for (const name of names) bindings[name as string] = makeProxy(record, name as string);
  return bindings as LazyBindings<M, K>;
}

/** Untyped calls bind any name; a module type given alone binds none until the names are given. */
type NamesOf<M> = 0 extends 1 & M ? keyof M & string : never;

/** `Pick<M, K>`, or, when the names were not given as a type argument, a type that says so. */
export type LazyBindings<M, K extends keyof M & string> = [K] extends [never]
  ? { 'lazyNamed: give the names as the second type argument, lazyNamed<typeof import("x"), "a" | "b">(...)': never }
  : Pick<M, K>;

/**
 * A namespace object of lazily loaded modules whose getters replace themselves with plain data
 * properties on first use, so later reads cost what any property read costs:
 *
 *     const m = lazyModules<{ ts: typeof import('typescript') }>(import.meta.url, { ts: 'typescript' });
 *     m.ts.createProgram(...)
 *
 * Use it on hot paths; keep the `m.` prefix (destructuring `m` forces every load).
 */
export function lazyModules<M extends Record<string, unknown>>(
  parent: string | URL,
  specifiers: { readonly [K in keyof M]: string },
): M {
  const site = captureCallSite(lazyModules);
  const namespace = {} as Record<string, unknown>;
  for (const [key, specifier] of Object.entries(specifiers)) {
    const record = declare(specifier as string, parent, site);
    if (record.status === 'loaded') {
      namespace[key] = record.value;
      continue;
    }
    Object.defineProperty(namespace, key, {
      configurable: true,
      enumerable: true,
      get: function lazyModuleGetter() {
        const module = loadRecord(record, `get ${JSON.stringify(key)}`, captureCallSite(lazyModuleGetter));
        Object.defineProperty(namespace, key, { value: module, writable: true, configurable: true, enumerable: true });
        return module;
      },
      set(newValue) {
        Object.defineProperty(namespace, key, { value: newValue, writable: true, configurable: true, enumerable: true });
      },
    });
  }
  return namespace as M;
}

/** Whether `value` is a stand-in made by lazy() or lazyNamed(). */
export function isLazy(value: unknown): boolean {
  return (typeof value === 'function' || typeof value === 'object') && value !== null && recordOf.has(value);
}

/**
 * The real module (or export) behind a stand-in, loading it if needed; any other value is
 * returned as it is. Hand the result to code that checks `typeof` or needs internal slots.
 */
export function unwrap<T>(value: T): T {
  const entry = (typeof value === 'function' || typeof value === 'object') && value !== null ? recordOf.get(value) : undefined;
  if (entry === undefined) return value;
  const module = loadRecord(entry.record, 'unwrap', captureCallSite(unwrap));
  return (entry.name === undefined ? module : (module as Record<string, unknown>)[entry.name]) as T;
}

/** The record of a stand-in (declaration, status, first use), or undefined for other values. */
export function lazyRecordOf(value: unknown): LazyRecord | undefined {
  const entry = (typeof value === 'function' || typeof value === 'object') && value !== null ? recordOf.get(value) : undefined;
  return entry === undefined ? undefined : snapshot(entry.record);
}
