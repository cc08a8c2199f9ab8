// Loaded into every Node process of `coldstart pack -- <command>` through NODE_OPTIONS=--import:
// records each module file loaded (with the format Node gave it) and each resolution answer
// (parent directory, specifier, require/import -> file), and writes them at exit to
// COLDSTART_PACK_RECORD/<pid>.json. Any failure leaves the program running unrecorded.
// On Node 20 it also compiles the program's CommonJS as the pack will serve it (loader/commonjs-compiler.ts)
// and, at exit, when every function the run needed has been compiled, writes their V8 code
// caches to <pid>.v8cache for the pack.
import { isOn, pathSetting } from '../settings.js';
import { existsSync, writeFileSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { has, inWorkerThread } from '../node-features.js';
import { conditionsKey } from './open-at-start.js';
import { CommonJsCompiler, codeCachePays, codeCacheTag } from '../loader/commonjs-compiler.js';
import type { LoadResult, ResolveResult } from '../loader/node.js';
import { pipeline, type CompileStep, type HandlerStep, type ResolveStep, type Steps } from '../loader/pipeline.js';
import { checksum, LAZY_MARKER, sourceSum } from './format.js';

/** One process's recording, as the pack builder reads it. */
export interface Recording {
  readonly conditions: string;
  /** process.argv[1] of the process (absolute, as Node names it), if it ran a script. */
  readonly entry?: string | undefined;
  /** The script's arguments (process.argv from 2): a program's size depends on them. */
  readonly args?: string[] | undefined;
  /** [absolute path, format, and the checksum of the source Node compiled, when it was seen: a
   *  file another loader transformed (tsx, a require hook) differs from its bytes on disk] */
  readonly modules: ([string, string] | [string, string, number])[];
  /** [absolute parent directory, specifier, 'r' | 'i', absolute path] */
  readonly answers: [string, string, string, string][];
  /**
   * V8 code caches this process made (Node 20), in <pid>.v8cache one after another: the V8's
   * tag, and per module [absolute path, cache length, checksum of the source it was made from].
   */
  readonly codeCache?: { tag: string; entries: [string, number, number][] };
  /** With `coldstart pack --lazy`: the program changed Module.wrap or Module.wrapper, so V8 compiled
   *  its CommonJS at other offsets than the files' own. */
  readonly wrapPatched?: boolean;
  /** With `coldstart pack --lazy`: the files whose code wrote process.env other than to put back
   *  the value it had just read ('*': a write whose file was not found, or process.env replaced). */
  readonly envWriters?: string[];
  /** Node's compile cache was on at exit: the program switched it on (tsc, prettier, babel do), or NODE_COMPILE_CACHE. */
  readonly ownCompileCache?: boolean;
}

// coldstart's own files are loaded before any pack can serve them: never worth packing.
const ownDir = fileURLToPath(new URL('..', import.meta.url));

function install(dir: string): void {
  // As the program was started: a program may rewrite its own argv while it runs.
  const entry = process.argv[1];
  const args = process.argv.slice(2);
  const modules = new Map<string, string>();
  const sums = new Map<string, number>();
  const answers = new Map<string, [string, string, string, string]>();
  const own = (path: string): boolean => path.startsWith(ownDir);
  const answer = (parentDir: string, specifier: string, mode: string, target: string): void => {
    if (own(target) || own(parentDir + '/') || !target.startsWith('/')) return;
    answers.set(`${parentDir}\0${specifier}\0${mode}`, [parentDir, specifier, mode, target]);
  };
  const resolveFilename: ResolveStep = (request, parent, isMain, options, next) => {
    const result = next(request, parent, isMain, options);
    if (!isMain && options?.paths === undefined && typeof parent?.filename === 'string' && typeof result === 'string') {
      answer(dirname(parent.filename), request, 'r', result);
    }
    return result;
  };
  const compiled: [string, import('node:vm').Script, string][] = [];
  let compiler: CommonJsCompiler | undefined;
  const compile: CompileStep = (module, content, filename, rest, next) => {
    // Node 22+ passes the format it decided ('module' for require(esm) of detected syntax).
    const format = rest[0];
    if (typeof filename === 'string' && !own(filename) && (format === undefined || format === false || format === 'commonjs')) {
      modules.set(filename, 'commonjs');
      if (typeof content === 'string') sums.set(filename, sourceSum(content)!);
      if (compiler !== undefined && typeof content === 'string' && compiler.eligible(module)) {
        const script = compiler.compile(content, filename);
        if (script !== undefined) {
          // Kept before it runs: a module that calls process.exit() never returns here.
          compiled.push([filename, script, content]);
          return compiler.execute(module, script, filename);
        }
      }
    }
    return next(module, content, filename, rest);
  };
  if (codeCachePays()) {
    compiler = new CommonJsCompiler('recorder');
    // A recorded module that calls import() reaches Node's loader as Node's own CommonJS does,
    // through vm's USE_MAIN_CONTEXT_DEFAULT_LOADER, which warns once; the pack keeps no cache
    // for such a module, so served runs never warn. The recording run must not either.
    const emitWarning = process.emitWarning;
    process.emitWarning = function (this: unknown, warning: unknown, ...rest: unknown[]) {
      if (typeof warning === 'string' && warning.startsWith('vm.USE_MAIN_CONTEXT_DEFAULT_LOADER ')) return;
      return (emitWarning as (...args: unknown[]) => void).call(this, warning, ...rest);
    } as typeof process.emitWarning;
  }
  const json: HandlerStep = (module, filename, next) => {
    if (!own(filename)) modules.set(filename, 'json');
    return next(module, filename);
  };
  const steps: Steps = { resolveFilename, compile, extensions: { '.json': json } };

  const esmFile = join(dir, `${process.pid}.esm.jsonl`);
  if (has('registerHooks')) {
    steps.hooks = {
      resolve(specifier, context, next): ResolveResult {
        const result = next(specifier, context);
        if (context.parentURL?.startsWith('file:') && typeof result?.url === 'string' && result.url.startsWith('file:')) {
          answer(dirname(fileURLToPath(context.parentURL)), specifier, context.conditions?.includes('require') ? 'r' : 'i', fileURLToPath(result.url));
        }
        return result;
      },
      load(url, context, next): LoadResult {
        const result = next(url, context);
        if (url.startsWith('file:') && (result?.format === 'module' || result?.format === 'json')) {
          const path = fileURLToPath(url);
          if (!own(path)) {
            modules.set(path, result.format);
            const sum = sourceSum(result.source);
            if (sum !== undefined) sums.set(path, sum);
          }
        }
        return result;
      },
    };
  } else if (has('asyncRegister')) {
    // Node 20: ES modules are seen only off-thread; those hooks append to a file of their own.
    pipeline().registerOffThread(new URL('./record-async.js', import.meta.url), undefined, { file: esmFile, ownDir });
  }
  pipeline().join('recorder', steps);
  // Learned deferral's evidence, for its recordings only: the watch puts a proxy in process.env.
  const lazy = existsSync(join(dir, LAZY_MARKER));
  const envWriters = lazy ? watchEnvironment(own) : undefined;
  const loader = process.getBuiltinModule('node:module') as unknown as { wrap: unknown; wrapper: string[] };
  const wrap = loader.wrap;
  const wrapper = [...loader.wrapper];
  const wrapPatched = (): boolean => loader.wrap !== wrap || loader.wrapper.length !== wrapper.length || loader.wrapper.some((part, i) => part !== wrapper[i]);

  const compileCacheOn = (): boolean => typeof (process.getBuiltinModule('node:module') as { getCompileCacheDir?: () => string | undefined }).getCompileCacheDir?.() === 'string';
  process.once('exit', () => {
    try {
      const recording: Recording = { conditions: conditionsKey(), entry, args, modules: [...modules].map(([path, format]) => (sums.has(path) ? [path, format, sums.get(path)!] : [path, format])), answers: [...answers.values()], ...(envWriters !== undefined ? { envWriters: envWriters() } : {}), ...(lazy && wrapPatched() ? { wrapPatched: true } : {}), ...(compileCacheOn() ? { ownCompileCache: true } : {}) };
      if (compiled.length > 0) {
        const entries: [string, number, number][] = [];
        const caches: Buffer[] = [];
        for (const [filename, script, content] of compiled) {
          const cache = script.createCachedData();
          const source = Buffer.from(content);
          entries.push([filename, cache.length, checksum(source, 0, source.length)]);
          caches.push(cache);
        }
        writeFileSync(join(dir, `${process.pid}.v8cache`), Buffer.concat(caches));
        (recording as { codeCache?: Recording['codeCache'] }).codeCache = { tag: codeCacheTag(), entries };
      }
      const file = join(dir, `${process.pid}.json`);
      writeFileSync(file + '.tmp', JSON.stringify(recording));
      renameSync(file + '.tmp', file);
    } catch {
      // A recording that cannot be written must never change how the program exits.
    }
  });
}

/**
 * Which files write process.env in this run other than to put back what they read: learned
 * deferral trusts a write to it inside a function only in files that did nothing else (debug's
 * `save(load())` writes `DEBUG` back with the value just read, or deletes it when unset). The
 * writer is the first file on the stack, read from V8's call sites (a program's own
 * prepareStackTrace, which may rename files, is not asked). Returns the list to write at exit.
 */
function watchEnvironment(own: (path: string) => boolean): () => string[] {
  const writers = new Set<string>();
  // The environment's last operation, when it was a read of one variable: a write-back is the
  // very next operation, on that variable, and leaves it as it was.
  let lastRead: { key: string; value: string | undefined } | undefined;
  const writer = (): void => {
    const holder: { stack?: unknown } = {};
    const prepare = Error.prepareStackTrace;
    const limit = Error.stackTraceLimit;
    Error.prepareStackTrace = (_, sites) => sites;
    Error.stackTraceLimit = 12;
    let stack: unknown;
    try {
      Error.captureStackTrace(holder, writer);
      // Formatted at the first read: read while ours is the formatter.
      stack = holder.stack;
    } finally {
      Error.prepareStackTrace = prepare;
      Error.stackTraceLimit = limit;
    }
    for (const site of Array.isArray(stack) ? (stack as NodeJS.CallSite[]) : []) {
      const name = site.getFileName();
      if (typeof name !== 'string' || name.startsWith('node:')) continue;
      let path: string;
      try {
        path = name.startsWith('file:') ? fileURLToPath(name) : name;
      } catch {
        continue;
      }
      if (!path.startsWith('/') || own(path)) continue;
      writers.add(path);
      return;
    }
    writers.add('*');
  };
  const env = process.env;
  const read = (key: string | symbol, value: unknown): void => {
    lastRead = typeof key === 'string' && (value === undefined || typeof value === 'string') ? { key, value } : undefined;
  };
  const watched: NodeJS.ProcessEnv = new Proxy(env, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      read(key, value);
      return value;
    },
    has(target, key) {
      lastRead = undefined;
      return Reflect.has(target, key);
    },
    ownKeys(target) {
      lastRead = undefined;
      return Reflect.ownKeys(target);
    },
    getOwnPropertyDescriptor(target, key) {
      lastRead = undefined;
      return Reflect.getOwnPropertyDescriptor(target, key);
    },
    set(target, key, value, receiver): boolean {
      const before = target[key as string];
      const previous = lastRead;
      lastRead = undefined;
      const done: boolean = Reflect.set(target, key, value, receiver === watched ? target : receiver);
      if (typeof key !== 'string' || target[key] !== before || previous?.key !== key || previous.value !== before) writer();
      return done;
    },
    deleteProperty(target, key): boolean {
      const had = typeof key === 'string' && Object.hasOwn(target, key);
      const previous = lastRead;
      lastRead = undefined;
      const done = Reflect.deleteProperty(target, key);
      if (typeof key !== 'string' || had || previous?.key !== key || previous.value !== undefined) writer();
      return done;
    },
    defineProperty(target, key, descriptor) {
      lastRead = undefined;
      writer();
      return Reflect.defineProperty(target, key, descriptor);
    },
  });
  process.env = watched;
  return () => {
    // A program that replaced process.env wrote past the watch.
    if (process.env !== watched) writers.add('*');
    return [...writers];
  };
}

const dir = pathSetting('COLDSTART_PACK_RECORD');
if (dir !== undefined && dir !== '' && !inWorkerThread()) {
  try {
    install(dir);
  } catch (error) {
    if (isOn('COLDSTART_DEBUG')) process.stderr.write(`coldstart: pack: recording off: ${(error as Error).message}\n`);
  }
}
