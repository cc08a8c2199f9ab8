// The run-time half of lazy imports lowered at build time: what the emitted code calls, with no
// imports and no module-level state, so that its text can be inlined into a compiled file or
// bundled once as a module of its own. Builtins come from process.getBuiltinModule (20.16+).

/**
 * A function that loads the module at `target` (a file: or node: URL, a path, or a builtin name)
 * with require(), from the file at `parent` (a URL or a path). Resolution was done by the caller,
 * when the importing module evaluated; loading happens at the first call.
 */
export function __coldstart_load(parent: string, target: string): () => unknown {
  return function load() {
    const id = target.startsWith('file:') ? (process.getBuiltinModule('node:url') as typeof import('node:url')).fileURLToPath(target) : target;
    return (process.getBuiltinModule('node:module') as typeof import('node:module')).createRequire(parent)(id);
  };
}

/**
 * A load function for an external module, resolved now: with `resolve` (the importer's
 * `import.meta.resolve`, which gives the `import` conditions) in ES module output; with
 * require.resolve from `parent` where the bundler's CommonJS output has no import.meta.resolve.
 */
export function __coldstart_external(parent: string, resolve: ((specifier: string) => string) | undefined, specifier: string): () => unknown {
  const target = typeof resolve === 'function' ? resolve(specifier) : (process.getBuiltinModule('node:module') as typeof import('node:module')).createRequire(parent).resolve(specifier);
  return __coldstart_load(parent, target);
}

/** `{ m }`, whose first read calls `load` and keeps its value: a lazily required CommonJS value. */
export function __coldstart_lazyRequire(load: () => unknown): { readonly m: unknown } {
  let done = false;
  let value: unknown;
  return {
    get m() {
      if (!done) {
        value = load();
        done = true;
      }
      return value;
    },
  };
}

/**
 * The deferred namespace of the module `load` returns, as the import-defer proposal describes it:
 * the module evaluates on the first string-keyed access (not on symbols, not on "then"); an
 * evaluation error is thrown again, unchanged, at every later access. `load` may return a real
 * namespace (require of an ES module), a bundler's namespace object (`__esModule`), or CommonJS
 * exports (which become `default` plus their own keys, as `import * as` gives them). `commonjs`
 * says the module is CommonJS even when `load` gives a namespace (a bundler's chunk that wraps
 * it as `export default`): its default is then the exports whose keys are named.
 */
export function __coldstart_deferred(load: () => unknown, commonjs?: boolean): object {
  const tag = 'Deferred Module';
  const target = Object.create(null) as Record<string | symbol, unknown>;
  Object.defineProperty(target, Symbol.toStringTag, { value: tag });
  let names: Set<string> | undefined;
  let read: (key: string) => unknown = () => undefined;
  let failed = false;
  let failure: unknown;

  const evaluate = (): Set<string> => {
    if (names !== undefined) return names;
    if (failed) throw failure;
    let value: unknown;
    try {
      value = load();
    } catch (error) {
      failed = true;
      failure = error;
      throw error;
    }
    if (commonjs === true && Object.prototype.toString.call(value) === '[object Module]') value = (value as Record<string, unknown>)['default'];
    const object = value as Record<string, unknown>;
    const list: string[] = [];
    if (Object.prototype.toString.call(value) === '[object Module]') {
      // Node adds `__esModule` to what require() gives for a module with a default export.
      for (const key of Object.keys(object)) if (key !== '__esModule') list.push(key);
      read = (key) => object[key];
    } else if ((typeof value === 'object' || typeof value === 'function') && value !== null && object['__esModule'] === true) {
      list.push(...Object.keys(object));
      read = (key) => object[key];
    } else {
      if ((typeof value === 'object' || typeof value === 'function') && value !== null) for (const key of Object.keys(object)) if (key !== 'default') list.push(key);
      list.push('default');
      read = (key) => (key === 'default' ? value : object[key]);
    }
    // A namespace lists its exports in code-unit order and never shows "then" through a deferred one.
    names = new Set(list.filter((key) => key !== 'then').sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    for (const key of names) Object.defineProperty(target, key, { value: undefined, writable: true, enumerable: true, configurable: false });
    Object.preventExtensions(target);
    return names;
  };
  const hidden = (key: string | symbol): boolean => typeof key === 'symbol' || key === 'then';

  return new Proxy(target, {
    get(t, key) {
      if (hidden(key)) return typeof key === 'symbol' ? t[key] : undefined;
      return evaluate().has(key as string) ? read(key as string) : undefined;
    },
    set() {
      return false;
    },
    has(t, key) {
      if (hidden(key)) return typeof key === 'symbol' && key in t;
      return evaluate().has(key as string);
    },
    getOwnPropertyDescriptor(t, key) {
      if (hidden(key)) return typeof key === 'symbol' ? Reflect.getOwnPropertyDescriptor(t, key) : undefined;
      if (!evaluate().has(key as string)) return undefined;
      return { value: read(key as string), writable: true, enumerable: true, configurable: false };
    },
    defineProperty(t, key, descriptor) {
      if (hidden(key)) {
        if (key !== Symbol.toStringTag) return false;
        const current = Reflect.getOwnPropertyDescriptor(t, key)!;
        return Object.entries(descriptor).every(([field, value]) => Object.is((current as Record<string, unknown>)[field], value));
      }
      if (!evaluate().has(key as string)) return false;
      // A namespace's [[DefineOwnProperty]]: only a description of the export as it is succeeds.
      if (descriptor.configurable === true || descriptor.enumerable === false || descriptor.writable === false) return false;
      if ('get' in descriptor || 'set' in descriptor) return false;
      return !('value' in descriptor) || Object.is(descriptor.value, read(key as string));
    },
    deleteProperty(t, key) {
      if (hidden(key)) return typeof key === 'symbol' ? !(key in t) : true;
      return !evaluate().has(key as string);
    },
    ownKeys() {
      return [...evaluate(), Symbol.toStringTag];
    },
    setPrototypeOf(_t, proto) {
      return proto === null;
    },
    preventExtensions() {
      // A namespace is born non-extensible; a Proxy can only become so once it knows the export
      // names, which needs the module evaluated (docs/defer.md lists this deviation).
      evaluate();
      return true;
    },
  });
}
