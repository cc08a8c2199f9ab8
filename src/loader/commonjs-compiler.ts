// V8 code cache for packed CommonJS, on the Nodes where it pays: Node 20 only, where a cache made
// after a whole run saves compiling every function start-up needs; Nodes 22+ gained nothing
// (docs/decisions/startup-costs.md#pack-code-cache-node20). Every other Node keeps Node's own `_compile`.
//
// A module must not be able to tell. The compile below is Node 20's Module.prototype._compile
// step for step, with vm.Script in place of Node's internal compileFunction:
// - the wrapper sits on a line of its own and the script's line offset is -1, so every line and
//   column (the first line's included) is the file's: stack traces are unchanged;
// - `require` has Node's properties (resolve, resolve.paths, main, extensions, cache) and
//   Node's argument checks; `this` is module.exports;
// - import(): Node 20 lets a vm script reach its default loader only through
//   USE_MAIN_CONTEXT_DEFAULT_LOADER (the same call Node makes for its own CommonJS, with the
//   file as referrer), which prints an ExperimentalWarning at the first import(); a callback
//   of our own needs --experimental-vm-modules. So the pack keeps no cache for a source that
//   calls import() or a direct eval (cache-check.ts, at build time), and only cached modules
//   are compiled here when served. Recording runs compile every module here and keep that
//   warning to themselves (record-preload.ts);
// - Node's private executing flag (read by require(esm) to report cycles) is set and cleared
//   as Node does, under the symbol Node itself uses (learnt from a module Node compiled);
// - anything Node's _compile does that this cannot (source maps when enabled, a policy, a
//   patched Module.wrap or wrapper, another tool's _compile, the main module's inspector break
//   and stat cache) sends the module to Node's own _compile instead.
import { launchFlags } from '../node-options.js';
import { isOff } from '../settings.js';
import { dirname } from 'node:path';
import { internals, type CjsModule } from './node.js';
import { pipeline, type ProviderName } from './pipeline.js';

type Wrapper = (exports: unknown, require: unknown, module: unknown, filename: string, dirname: string) => unknown;
type VmScript = import('node:vm').Script;

const M = internals;
const HEAD = '(function (exports, require, module, __filename, __dirname) {\n';
const TAIL = '\n})';
const NODE_WRAPPER = ['(function (exports, require, module, __filename, __dirname) { ', '\n});'];

/** Which V8 a cache belongs to: V8 rejects another version's, this keeps us from asking. */
export function codeCacheTag(): string {
  return `${process.version}-${process.arch}`;
}

/**
 * Whether packed CommonJS is compiled with a code cache on this Node: Node 20 only (above), not when COLDSTART_CODE_CACHE is 0/off/false, and only where Node exposes its default
 * loader for vm scripts' import().
 */
export function codeCachePays(env: NodeJS.ProcessEnv = process.env): boolean {
  if (isOff('COLDSTART_CODE_CACHE', env)) return false;
  if (Number(process.versions.node.split('.')[0]) >= 22) return false;
  const vm = process.getBuiltinModule('node:vm');
  return vm.constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER !== undefined;
}

/** Flags that make Node's _compile do more than this one does. */
function nodeOptionsBlock(): boolean {
  return launchFlags().some((flag) => flag.includes('policy') || flag.startsWith('--inspect-brk'));
}

/**
 * Compiles and runs CommonJS modules as Node 20's _compile does, with an optional code cache,
 * for the provider `owner` (the pack serving, the recorder recording). Only while no other
 * provider has a compile step and no other tool has replaced the pipeline's _compile: otherwise
 * Node's path is taken.
 */
export class CommonJsCompiler {
  readonly #nodeCompile: (content: string, filename: string) => unknown;
  readonly #owner: ProviderName;
  readonly #wrap: unknown;
  readonly #vm = process.getBuiltinModule('node:vm');
  readonly #blocked: boolean;
  #executing: symbol | null | undefined;

  constructor(owner: ProviderName) {
    const nodeCompile = pipeline().nodeCompile;
    this.#nodeCompile = nodeCompile;
    this.#owner = owner;
    this.#wrap = M.wrap;
    // Node 20's _compile, recognised by what it calls; a replaced one is not copied here.
    const text = Function.prototype.toString.call(nodeCompile);
    this.#blocked = !text.includes('wrapSafe(') || !text.includes('makeRequireFunction(') || nodeOptionsBlock();
  }

  /** Whether `module` may be compiled here rather than by Node's _compile. */
  eligible(module: CjsModule): boolean {
    // The main module: Node's _compile gives it the inspector break and the stat cache.
    if (this.#blocked || module.id === '.' || (module as unknown) === process.mainModule) return false;
    if (!pipeline().compilesAlone(this.#owner) || M.wrap !== this.#wrap) return false;
    const wrapper = M.wrapper;
    if (wrapper[0] !== NODE_WRAPPER[0] || wrapper[1] !== NODE_WRAPPER[1]) return false;
    return (process as { sourceMapsEnabled?: boolean }).sourceMapsEnabled !== true && this.#executingSymbol() !== null;
  }

  /**
   * Compiles `content` (from `cachedData` when given: see the script's cachedDataRejected).
   * Undefined when the source does not compile this way: the caller then hands it to Node's
   * _compile, which reports the error as Node does.
   */
  compile(content: string, filename: string, cachedData?: Buffer): VmScript | undefined {
    let script: VmScript;
    try {
      // A hashbang is only valid at the start of a script: `//` keeps every column in place.
      const body = content.charCodeAt(0) === 0x23 && content.charCodeAt(1) === 0x21 ? `//${content.slice(2)}` : content;
      script = new this.#vm.Script(HEAD + body + TAIL, {
        filename,
        lineOffset: -1,
        ...(cachedData === undefined ? {} : { cachedData }),
        importModuleDynamically: this.#vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
      });
    } catch {
      return undefined;
    }
    return script;
  }

  /**
   * Runs a compiled module as Node's _compile does and returns what its code returned. A
   * program may exit from inside it (process.exit in a module body): whatever must be kept or
   * counted about the script is done before calling this.
   */
  execute(module: CjsModule, script: VmScript, filename: string): unknown {
    const wrapper = script.runInThisContext() as Wrapper;
    const executing = this.#executingSymbol()!;
    const target = module as unknown as Record<symbol, boolean>;
    target[executing] = true;
    const exports = module.exports;
    // As Node: no try/finally, a module that throws stays marked as executing.
    const result = wrapper.call(exports, exports, makeRequire(module), module, filename, dirname(filename));
    target[executing] = false;
    return result;
  }

  /**
   * Node's private "executing" symbol, from a throwaway module compiled by Node's own _compile
   * (an empty source: nothing runs). null when Node no longer sets one: then Node compiles.
   */
  #executingSymbol(): symbol | null {
    if (this.#executing === undefined) {
      this.#executing = null;
      try {
        const probe = new M('coldstart-code-cache-probe');
        this.#nodeCompile.call(probe, '', `${dirname(process.execPath)}/[coldstart code cache probe]`);
        this.#executing = Object.getOwnPropertySymbols(probe).find((s) => s.description === 'kIsExecuting') ?? null;
      } catch {
        // Node compiles every module then
      }
    }
    return this.#executing;
  }
}

/** Node's checks on require.resolve's argument, by asking a require Node made to make them. */
function checkRequest(request: unknown, paths: boolean): void {
  if (typeof request === 'string') return;
  const nodeRequire = M.createRequire(`${process.cwd()}/`);
  if (paths) nodeRequire.resolve.paths(request as string);
  else nodeRequire.resolve(request as string);
}

/** The `require` Node 20 gives a module (lib/internal/modules/helpers.js makeRequireFunction). */
function makeRequire(module: CjsModule): NodeJS.Require {
  const require = function require(id: string): unknown {
    return module.require(id);
  } as NodeJS.Require;
  const resolve = function resolve(request: string, options?: { paths?: string[] }): string {
    checkRequest(request, false);
    return M._resolveFilename(request, module, false, options);
  } as NodeJS.RequireResolve;
  resolve.paths = function paths(request: string): string[] | null {
    checkRequest(request, true);
    return M._resolveLookupPaths(request, module) as string[] | null;
  };
  require.resolve = resolve;
  Object.defineProperty(require, 'main', { value: process.mainModule, writable: true, enumerable: true, configurable: true });
  require.extensions = M._extensions as unknown as NodeJS.RequireExtensions;
  require.cache = M._cache as NodeJS.Dict<NodeJS.Module>;
  return require;
}
