// The loader both coldstart/register entries share (dist/register.cjs for `--require`,
// dist/register.js for `--import`): runs dist/register-core.cjs (the bundled activation code)
// through V8's code cache, because compiling the core was most of coldstart's own start-up
// (docs/decisions/startup-costs.md#register-core-code-cache). Builtins come from
// process.getBuiltinModule, never from `import` or `require`, which would build facades and go
// through the CommonJS loader (docs/decisions/startup-costs.md#register-builtins).
//
// The cache sits beside the core (dist/register-core.<hash>.<node>-<arch>[.pack].v8cache, one for
// runs a pack serves, one for the others): whoever can
// write there can already change the code itself, so it adds nothing to trust. The name carries
// a hash of the core's content, fixed at build time (V8 itself only checks the source length),
// and V8 rejects a cache from another V8 version or flag set; a rejected, unreadable or missing
// cache means compiling as Node would, and a fresh cache is written (temp file, rename) at exit,
// so that it holds the functions a whole run compiled, hooks included. A read-only
// installation, or a shared one (COLDSTART_SHARED=1), runs without writing one. COLDSTART_CODE_CACHE=0 turns it off.
//
// Kept free of imports but the settings' few readers (a handful of lines once bundled), of
// builtins alike: this file must stay tiny. The entries hand it the pack's step-aside check.
import { isOff, isOn, setting } from '../settings.js';

declare const CORE_HASH: string;

type Wrapper = (exports: object, require: (id: string) => unknown, module: object, filename: string, dirname: string) => void;

/**
 * Runs the core that sits in `dir` (dist/): at once when the process has a script to run, else
 * (`node -e`, `node -p`, the REPL, a script on stdin) at its first require() or import(). Such a
 * process often loads nothing, and then coldstart costs it one small file and one wrapper
 * (docs/decisions/startup-costs.md#register-waits-for-a-first-module).
 */
export function runCore(dir: string, loaderModule?: unknown, stepsAside?: () => boolean, packSeen?: () => boolean | undefined): void {
  if (inLoaderThread()) return;
  if (mayWait()) waitForFirstModule(() => loadCore(dir, loaderModule, packSeen?.()), usable(loaderModule) ? loaderModule : process.getBuiltinModule('node:module'));
  else if (!asideBeforeCore(stepsAside)) loadCore(dir, loaderModule, packSeen?.());
}

/**
 * Whether the project's pack recorded this process's program as too small for coldstart to pay
 * (src/step-aside.ts): then the core is never loaded, and the run is plain Node's. Node 22+ only
 * (Node 20 gets no new optimisation); any error means the core decides.
 */
function asideBeforeCore(stepsAside: (() => boolean) | undefined): boolean {
  if (stepsAside === undefined || Number(process.versions.node.split('.')[0]) < 22) return false;
  try {
    return stepsAside();
  } catch {
    return false;
  }
}

/**
 * Whether this is Node's own thread for module.register hooks, which runs the preloads too (Node
 * 22.14+ say so). Nothing there is the program's, and on Node 22 a registerHooks hook in that
 * thread makes imports after a module.register call fail. Asked only in a worker, where
 * worker_threads is loaded already (in the main thread, loading it costs ~40 M instructions).
 */
function inLoaderThread(): boolean {
  const chdir = process.chdir as { disabled?: unknown };
  if (chdir.disabled !== true) return false;
  return (process.getBuiltinModule('node:worker_threads') as { isInternalThread?: unknown }).isInternalThread === true;
}

/** Whether `candidate` is the CommonJS loader's Module, as the entry handed it over. */
function usable(candidate: unknown): boolean {
  const module = candidate as { _resolveFilename?: unknown; isBuiltin?: unknown } | undefined;
  return typeof module?._resolveFilename === 'function' && typeof module.isBuiltin === 'function';
}

/**
 * Whether activation may wait for the first module: no entry script, on the main thread (a
 * worker's ES module entry would get no hooks), on Node 22+ (Node 20 gets no new optimisation),
 * and not for `--input-type=module` code, whose static imports give no earlier sign.
 */
function mayWait(): boolean {
  const entry = process.argv[1];
  if ((entry !== undefined && entry !== '') || Number(process.versions.node.split('.')[0]) < 22) return false;
  const chdir = process.chdir as { disabled?: unknown };
  if (chdir.disabled === true) return false;
  const flags = `${process.execArgv.join(' ')} ${process.env['NODE_OPTIONS'] ?? ''}`;
  return !flags.includes('--input-type') && !flags.includes('--experimental-default-type');
}

type Fn = (this: unknown, ...args: unknown[]) => unknown;

/**
 * Calls `load` once, at the first sign of a module: the first require() of a non-builtin (Module
 * ._resolveFilename), the first import() (the `tracing:module.import:start` channel, published
 * before Node resolves the specifier, so the hooks `load` installs serve it), or the first change
 * another tool makes to the loader (wrapping Module._resolveFilename, reading or replacing a
 * `.js`/`.json` extension handler, calling module.registerHooks). The last keeps the order a
 * start-up activation gives: coldstart's steps first, the other tool's on top of them.
 */
function waitForFirstModule(load: () => void, loaderModule: unknown): void {
  const Module = loaderModule as Record<string, unknown> & {
    _resolveFilename: Fn;
    _extensions: Record<string, Fn>;
    registerHooks?: Fn;
    isBuiltin(id: string): boolean;
  };
  const channels = process.getBuiltinModule('node:diagnostics_channel');
  const original = Module._resolveFilename;
  const handlers = Module._extensions;
  const kept: Record<string, Fn | undefined> = { '.js': handlers['.js'], '.json': handlers['.json'] };
  const registerHooks = Module.registerHooks;
  /** What resolution goes through once the core is in: its wrapper, or Node's own. */
  let after = original;
  let loaded = false;
  const dataProperty = (holder: object, key: string, value: unknown): void => {
    Object.defineProperty(holder, key, { value, writable: true, enumerable: true, configurable: true });
  };
  const once = (): void => {
    if (loaded) return;
    loaded = true;
    channels.unsubscribe('tracing:module.import:start', once);
    // Node's own values again, as plain properties, for the core to wrap.
    dataProperty(Module, '_resolveFilename', original);
    for (const ext of Object.keys(kept)) dataProperty(handlers, ext, kept[ext]);
    if (registerHooks !== undefined) Module.registerHooks = registerHooks;
    try {
      load();
    } catch {
      // A broken activation leaves the program running as if coldstart were absent.
    }
    after = Module._resolveFilename;
  };
  const first: Fn = function (this: unknown, ...args: unknown[]) {
    // A builtin needs nothing of coldstart (Node's `-e` itself requires `module` at start).
    if (!loaded && typeof args[0] === 'string' && Module.isBuiltin(args[0])) return original.apply(this, args);
    once();
    // Once the core is in, a wrapper another tool put around this one reaches it through here.
    return after.apply(this, args);
  };
  Object.defineProperty(Module, '_resolveFilename', {
    configurable: true,
    enumerable: true,
    get: () => first,
    set: (value: Fn) => {
      once();
      Module._resolveFilename = value;
    },
  });
  for (const ext of Object.keys(kept)) {
    if (kept[ext] === undefined) continue;
    Object.defineProperty(handlers, ext, {
      configurable: true,
      enumerable: true,
      get: () => {
        once();
        return handlers[ext];
      },
      set: (value: Fn) => {
        once();
        handlers[ext] = value;
      },
    });
  }
  if (registerHooks !== undefined) {
    Module.registerHooks = function (this: unknown, ...args: unknown[]) {
      once();
      return Module.registerHooks!.apply(this, args);
    };
  }
  channels.subscribe('tracing:module.import:start', once);
}

/**
 * Compiles and runs the core (from V8's code cache where there is one). `loaderModule`: the
 * CommonJS loader's Module (`module.constructor` of the entry), which is what `node:module`
 * exports; handing it to the core spares loading lib/module.js and the source-map code it
 * requires (docs/decisions/startup-costs.md#register-module-builtin).
 */
function loadCore(dir: string, loaderModule?: unknown, packSeen?: boolean): void {
  const fs = process.getBuiltinModule('node:fs');
  const vm = process.getBuiltinModule('node:vm');
  const core = `${dir}/register-core.cjs`;
  // One open, one fstat, one read per file: on a network filesystem each call is a round trip,
  // and readFileSync reads a file of unknown size in several chunks.
  const readWhole = (path: string): Buffer => {
    const fd = fs.openSync(path, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const bytes = Buffer.allocUnsafe(size);
      let at = 0;
      while (at < size) {
        const n = fs.readSync(fd, bytes, at, size - at, at);
        if (n === 0) break;
        at += n;
      }
      return at === size ? bytes : bytes.subarray(0, at);
    } finally {
      fs.closeSync(fd);
    }
  };
  const source = readWhole(core).toString('utf8');
  const useCache = !isOff('COLDSTART_CODE_CACHE');
  // A shared install (COLDSTART_SHARED=1, see settings.ts) is never written to at run time; a
  // staged runtime outside the project (`coldstart stage`, on node-local disk) may keep its cache.
  const root = setting('COLDSTART_ROOT');
  const mayWrite = !isOn('COLDSTART_SHARED') || (root !== undefined && root !== '' && !`${dir}/`.startsWith(`${root.replace(/\/+$/, '')}/`));
  // Node 20's V8 keeps the file name a cache was made with, so stack traces would name where the
  // core was when cached: there the cache's name also carries the folder (Node 22+ use the new name).
  let where = '';
  if (Number(process.versions.node.split('.')[0]) < 22) {
    let h = 0x811c9dc5;
    for (let i = 0; i < dir.length; i++) h = Math.imul(h ^ dir.charCodeAt(i), 0x01000193);
    where = `.${(h >>> 0).toString(16)}`;
  }
  // A run a pack serves compiles the pack's server, one with the index alone the index's: each
  // kind keeps its own cache, written by its first run (one written by `coldstart pack`'s
  // recording runs cost a served `eslint --version` 9 M instructions of compiling). The pack is
  // known by COLDSTART_PACK, else by what the step-aside check saw in coldstart's folder.
  const packSetting = setting('COLDSTART_PACK');
  const pack = packSetting !== undefined && packSetting !== '' ? !isOff('COLDSTART_PACK') : packSeen === true;
  const cacheFile = `${dir}/register-core.${CORE_HASH}${where}.${process.version}-${process.arch}${pack ? '.pack' : ''}.v8cache`;
  // Runs that record load what others never do: they leave the cache to the next run.
  const records = isOn('COLDSTART_PACK_RECORD') || isOn('COLDSTART_PROFILE_DIR') || isOn('COLDSTART_LAZY_RECORDS');
  let cachedData: Buffer | undefined;
  if (useCache) {
    try {
      cachedData = readWhole(cacheFile);
    } catch {
      // no cache yet, or not readable: compile
    }
  }
  // The file is the CommonJS wrapper around the core (scripts/build.mjs): compiled as read.
  const script = new vm.Script(source, {
    filename: core,
    ...(cachedData === undefined ? {} : { cachedData }),
    // Node 20.20+ has it; the core has no import(), but a stray one should behave as in Node.
    ...(vm.constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER === undefined ? {} : { importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER }),
  });
  const wrapper = script.runInThisContext() as Wrapper;
  const module = { exports: {}, filename: core, id: core };
  // The core requires builtins only; anything else (none today) goes through a real require.
  let fallback: NodeJS.Require | undefined;
  const require = (id: string): unknown => {
    if (id === 'node:module' && usable(loaderModule)) return loaderModule;
    if (id.startsWith('node:')) return process.getBuiltinModule(id);
    fallback ??= process.getBuiltinModule('node:module').createRequire(core);
    return fallback(id);
  };
  wrapper.call(module.exports, module.exports, require, module, core, dir);
  if (isOn('COLDSTART_DEBUG')) {
    const state = !useCache ? 'off' : cachedData === undefined ? 'none yet' : script.cachedDataRejected === true ? 'rejected by V8' : 'used';
    process.stderr.write(`coldstart: register: code cache ${state} (${cacheFile})\n`);
  }
  if (useCache && mayWrite && !records && (cachedData === undefined || script.cachedDataRejected === true)) {
    // At exit, so the functions this run compiled are in the cache too.
    process.once('exit', () => {
      const temp = `${cacheFile}.${process.pid}.tmp`;
      try {
        fs.writeFileSync(temp, script.createCachedData(), { mode: 0o644 });
        fs.renameSync(temp, cacheFile);
      } catch {
        // A read-only installation runs without a cache; never a reason to fail.
        try {
          fs.unlinkSync(temp);
        } catch {
          // nothing was written
        }
      }
    });
  }
}
