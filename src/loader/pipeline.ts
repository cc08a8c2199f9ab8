// The one pipeline into Node's loader. Every contact coldstart has with it goes through here:
// one wrapper of Module._load, of Module._resolveFilename, of each extension handler and of
// Module.prototype._compile, one module.registerHooks registration (Node 22.15+), and the
// module.register calls of Node 20. Features join as providers (the pack, the index, defer,
// the profiler, the pack recorder), each with steps for the contact points it needs. A step
// gets Node's arguments and `next`, as a registerHooks hook does: it answers, or asks `next`,
// which is the next provider's step and, after the last, Node's own function.
//
// Providers run in the order of `providerOrder`, whatever order they joined in: the first sees
// every answer the later ones give (the profiler times them, the recorder writes them down),
// defer transforms what the pack serves, and the pack answers before the index is searched.
// See docs/architecture.md.
import { rethrow, withNodeFrames } from './stacks.js';
import { sharedState } from '../shared-state.js';
import { own } from './foreign-hooks.js';
import {
  compileRequest,
  internals,
  laterHandler,
  type CjsModule,
  type ExtensionHandler,
  type LoadFn,
  type LoadHook,
  type NextLoad,
  type NextResolve,
  type ResolveFilenameFn,
  type ResolveHook,
  type ResolveOptions,
  type SyncHooks,
} from './node.js';

/** Who may join, first to last. */
export const providerOrder = ['profiler', 'recorder', 'defer', 'pack', 'index'] as const;
export type ProviderName = (typeof providerOrder)[number];

/** `rest`: what Node passes after isMain (Node 22+: its internal options), handed on unchanged. */
export type LoadStep = (request: string, parent: CjsModule | undefined, isMain: boolean, rest: unknown[], next: LoadChain) => unknown;
export type LoadChain = (request: string, parent: CjsModule | undefined, isMain: boolean, rest: unknown[]) => unknown;
export type ResolveStep = (request: string, parent: CjsModule | null | undefined, isMain: boolean, options: ResolveOptions | undefined, next: ResolveFilenameFn) => string;
export type HandlerStep = (module: CjsModule, filename: string, next: ExtensionHandler) => unknown;
/** `rest`: what Node passes after the file name (Node 22+: the format it decided). */
export type CompileFn = (module: CjsModule, content: string, filename: string, rest: unknown[]) => unknown;
export type CompileStep = (module: CjsModule, content: string, filename: string, rest: unknown[], next: CompileFn) => unknown;

/** A provider's steps; each is optional. */
export interface Steps {
  /** Around one require(), children included (Module._load). */
  load?: LoadStep;
  /** require()'s resolution (Module._resolveFilename). */
  resolveFilename?: ResolveStep;
  /** Loading a file of an extension, up to _compile (Module._extensions). */
  extensions?: Readonly<Record<string, HandlerStep>>;
  /** Compiling and running CommonJS source (Module.prototype._compile). */
  compile?: CompileStep;
  /** In-thread hooks for require() and import (module.registerHooks, Node 22.15+). */
  hooks?: SyncHooks;
}

interface Joined {
  readonly name: ProviderName;
  readonly rank: number;
  readonly seq: number;
  readonly steps: Steps;
}

/** One wrapped property: Node's value (or another tool's, found when wrapping) and ours. */
interface Wrap<F> {
  original: F;
  wrapper: F;
}

export class Pipeline {
  #joined: Joined[] = [];
  #seq = 0;
  #load: LoadChain | undefined;
  #loadWrap: Wrap<LoadFn> | undefined;
  // The first resolve step and what it calls next, kept apart so that a require() costs one
  // call more than Node's own resolution, not one per layer.
  #resolveHead: ResolveStep = passResolve;
  #resolveTail: ResolveFilenameFn | undefined;
  #resolveWrap: Wrap<ResolveFilenameFn> | undefined;
  #compile: CompileFn | undefined;
  #compileWrap: Wrap<CjsModule['_compile']> | undefined;
  readonly #handlers = new Map<string, { head: HandlerStep; tail: ExtensionHandler; original: Record<string, ExtensionHandler> | undefined }>();
  readonly #handlerWraps = new Map<string, Wrap<ExtensionHandler>>();
  #resolveRegistration: { deregister(): void } | undefined;
  #loadRegistration: { deregister(): void } | undefined;
  // The chain of the current registerHooks call, and the `next` Node gave it: a hook may load
  // modules itself, so the outer call's `next` is put back when an inner one returns.
  #resolveChain: NextResolve | undefined;
  #loadChain: NextLoad | undefined;
  #nodeResolve: NextResolve | undefined;
  #nodeLoad: NextLoad | undefined;

  /** Node's Module.prototype._compile as found before the pipeline wrapped it. */
  readonly nodeCompile: CjsModule['_compile'] = internals.prototype._compile;

  /** Adds a provider's steps; returns the function that takes them out again. */
  join(name: ProviderName, steps: Steps): () => void {
    const joined: Joined = { name, rank: providerOrder.indexOf(name), seq: this.#seq++, steps };
    // After every provider of its rank or earlier: joining order breaks ties.
    let at = this.#joined.length;
    while (at > 0 && this.#joined[at - 1]!.rank > joined.rank) at--;
    this.#joined.splice(at, 0, joined);
    this.#rebuild(steps);
    return () => {
      const index = this.#joined.indexOf(joined);
      if (index === -1) return;
      this.#joined.splice(index, 1);
      this.#rebuild(steps);
    };
  }

  /** Whether `name` has joined with a step for `point` (an extension such as '.js', or a step name). */
  provides(name: ProviderName, point: keyof Steps | `.${string}`): boolean {
    return this.#joined.some((j) => j.name === name && (point.startsWith('.') ? j.steps.extensions?.[point] !== undefined : j.steps[point as keyof Steps] !== undefined));
  }

  /** Whether Module.prototype._compile runs no step but `name`'s (so `name` may compile a module itself). */
  compilesAlone(name: ProviderName): boolean {
    const current = internals.prototype._compile;
    if (current !== (this.#compileWrap?.wrapper ?? this.nodeCompile)) return false;
    return this.#joined.every((j) => j.steps.compile === undefined || j.name === name);
  }

  /** Node 20's off-thread hooks (module.register): each call adds hooks to Node's one loader worker. */
  registerOffThread(url: string | URL, parentURL?: string, data?: unknown): void {
    // module.register is added to Module by the public `node:module`, which the core may not have loaded.
    const register = internals.register ?? process.getBuiltinModule('node:module').register;
    register(url, parentURL, data === undefined ? undefined : { data });
  }

  /** The steps joined for one point, in order. */
  #chain<K extends 'load' | 'resolveFilename' | 'compile'>(key: K): NonNullable<Steps[K]>[] {
    const chain: NonNullable<Steps[K]>[] = [];
    for (const joined of this.#joined) if (joined.steps[key] !== undefined) chain.push(joined.steps[key]!);
    return chain;
  }

  /** Rebuilds the points `changed` has steps for (a join or a removal touches only those). */
  #rebuild(changed: Steps): void {
    if (changed.load !== undefined) {
      const chain = this.#chain('load');
      this.#loadWrap = this.#wrapProperty(internals, '_load', chain.length > 0, this.#loadWrap, () => {
        const pipeline = this;
        // Not caught here: an error the module threw as it ran must go on from where it was
        // thrown, since Node prints that source line above an uncaught error.
        return function (this: unknown, request: string, parent: CjsModule | undefined, isMain: boolean, ...rest: unknown[]) {
          return pipeline.#load!(request, parent, isMain, rest);
        } as LoadFn;
      });
      if (this.#loadWrap !== undefined) {
        const original = this.#loadWrap.original;
        this.#load = chain.reduceRight<LoadChain>((next, step) => (r, p, m, rest) => step(r, p, m, rest, next), (r, p, m, rest) => original.call(internals, r, p, m, ...rest));
      }
    }

    if (changed.resolveFilename !== undefined) {
      const chain = this.#chain('resolveFilename');
      this.#resolveWrap = this.#wrapProperty(internals, '_resolveFilename', chain.length > 0, this.#resolveWrap, () => {
        const pipeline = this;
        const nodeResolve = internals._resolveFilename;
        // A failed resolution is thrown again with the frames Node would give it (loader/stacks.ts):
        // coldstart's own would push the program's out of Error.stackTraceLimit.
        return function resolveFilename(this: unknown, request: string, parent: CjsModule | null | undefined, isMain: boolean, options?: ResolveOptions) {
          try {
            return pipeline.#resolveHead(request, parent, isMain, options, pipeline.#resolveTail!);
          } catch (error) {
            rethrow(withNodeFrames(error, resolveFilename, '_resolveFilename'), nodeResolve);
          }
        } as ResolveFilenameFn;
      });
      if (this.#resolveWrap !== undefined) {
        const original = this.#resolveWrap.original;
        this.#resolveHead = chain[0] ?? passResolve;
        // Bound rather than wrapped: the last step reaches Node's function with no frame between.
        this.#resolveTail = chain.slice(1).reduceRight<ResolveFilenameFn>((next, step) => (r, p, m, o) => step(r, p, m, o, next), original.bind(internals));
      }
    }

    if (changed.compile !== undefined) {
      const chain = this.#chain('compile');
      this.#compileWrap = this.#wrapProperty(internals.prototype, '_compile', chain.length > 0, this.#compileWrap, () => {
        const pipeline = this;
        // Errors a module throws while it runs pass here untouched: caught and thrown again, they
        // would lose the source line Node prints above an uncaught error (their own frames come first).
        return function (this: CjsModule, content: string, filename: string, ...rest: unknown[]) {
          return pipeline.#compile!(this, content, filename, rest);
        };
      });
      if (this.#compileWrap !== undefined) {
        const original = this.#compileWrap.original;
        this.#compile = chain.reduceRight<CompileFn>(
          (next, step) => (module, content, filename, rest) => step(module, content, filename, rest, next),
          (module, content, filename, rest) => original.call(module, content, filename, ...rest),
        );
      }
    }

    if (changed.extensions !== undefined) for (const ext in changed.extensions) this.#rebuildExtension(ext);
    if (changed.hooks !== undefined) this.#rebuildHooks();
  }

  #rebuildExtension(ext: string): void {
    const chain: HandlerStep[] = [];
    for (const joined of this.#joined) {
      const step = joined.steps.extensions?.[ext];
      if (step !== undefined) chain.push(step);
    }
    const handlers = internals._extensions;
    let slot = this.#handlers.get(ext);
    const wrap = this.#wrapProperty(handlers, ext, chain.length > 0 && handlers[ext] !== undefined, this.#handlerWraps.get(ext), () => {
      const current = (slot = { head: passHandler, tail: passHandler as unknown as ExtensionHandler, original: undefined as Record<string, ExtensionHandler> | undefined });
      this.#handlers.set(ext, current);
      // What the steps hand back is compiled, or passed to the handler found before ours, from
      // this frame, so that a module's load stack shows this handler alone where Node's was
      // (named `.js` too), not every step between it and Node's _compile.
      return function (this: unknown, module: CjsModule, filename: string) {
        const result = current.head(module, filename, current.tail);
        if (result === passed && current.original !== undefined) return current.original[ext]!(module, filename);
        const request = compileRequest(result);
        if (request === undefined) return result;
        return request.format === undefined ? module._compile(request.source, filename) : module._compile(request.source, filename, request.format);
      };
    });
    if (wrap === undefined) {
      this.#handlerWraps.delete(ext);
      this.#handlers.delete(ext);
      return;
    }
    this.#handlerWraps.set(ext, wrap);
    const original = wrap.original;
    slot!.head = chain[0] ?? passHandler;
    // A step that works around the whole handling (the profiler times a JSON file's read by it)
    // gets Node's handler called inside its own call, as every step did before.
    const inside = chain.some((step) => (step as { around?: boolean }).around === true);
    const end: ExtensionHandler = inside ? original.bind(handlers) : laterHandler(() => passed);
    // Called as a method of an object that holds it under its key, whose other keys are Node's:
    // its frame is then named as Node names it (`Object..js`), not `Object.<anonymous>`.
    slot!.original = inside ? undefined : Object.create(handlers, { [ext]: { value: original, enumerable: true } });
    slot!.tail = chain.slice(1).reduceRight<ExtensionHandler>((next, step) => (inside ? (module, filename) => step(module, filename, next) : laterHandler((module, filename) => step(module, filename, next))), end);
  }

  /**
   * Puts our wrapper on `holder[key]` when `wanted` (keeping what was there as the original) and
   * takes it off when not, unless another tool has wrapped ours since: unwrapping that would drop
   * their wrapper too, so ours stays, passing everything through.
   */
  #wrapProperty<F extends (...args: never[]) => unknown>(holder: object, key: string, wanted: boolean, current: Wrap<F> | undefined, make: () => F): Wrap<F> | undefined {
    const record = holder as Record<string, F>;
    if (wanted) {
      if (current !== undefined) return current;
      const wrap: Wrap<F> = { original: record[key]!, wrapper: make() };
      record[key] = wrap.wrapper;
      return wrap;
    }
    if (current === undefined) return undefined;
    if (record[key] === current.wrapper) {
      record[key] = current.original;
      return undefined;
    }
    return current;
  }

  #rebuildHooks(): void {
    const resolves: ResolveHook[] = [];
    const loads: LoadHook[] = [];
    for (const joined of this.#joined) {
      if (joined.steps.hooks?.resolve !== undefined) resolves.push(joined.steps.hooks.resolve);
      if (joined.steps.hooks?.load !== undefined) loads.push(joined.steps.hooks.load);
    }
    this.#resolveChain = resolves.reduceRight<NextResolve>((next, hook) => (specifier, context) => hook(specifier, context ?? {}, next), (specifier, context) => this.#nodeResolve!(specifier, context));
    this.#loadChain = loads.reduceRight<NextLoad>((next, hook) => (url, context) => hook(url, context ?? {}, next), (url, context) => this.#nodeLoad!(url, context));
    // A resolve hook, even one that passes everything on, puts each new require() through
    // Node's slower hooked resolution, so each kind is registered only while some provider needs it; apart, so that adding
    // one kind (defer's resolve hook, from inside a load) never touches a registration in use.
    this.#resolveRegistration = this.#register(resolves.length > 0, this.#resolveRegistration, { resolve: this.#resolveHook });
    this.#loadRegistration = this.#register(loads.length > 0, this.#loadRegistration, { load: this.#loadHook });
  }

  #register(wanted: boolean, current: { deregister(): void } | undefined, hooks: SyncHooks): { deregister(): void } | undefined {
    if (wanted) return current ?? internals.registerHooks!(own(hooks));
    current?.deregister();
    return undefined;
  }

  readonly #resolveHook: ResolveHook = (specifier, context, next) => {
    const outer = this.#nodeResolve;
    this.#nodeResolve = next;
    try {
      return this.#resolveChain!(specifier, context);
    } catch (error) {
      // require() under Node's hooks fails in Node's own Module._resolveFilename too.
      rethrow(withNodeFrames(error, this.#resolveHook), this.#resolveWrap?.original ?? internals._resolveFilename);
    } finally {
      this.#nodeResolve = outer;
    }
  };

  readonly #loadHook: LoadHook = (url, context, next) => {
    const outer = this.#nodeLoad;
    this.#nodeLoad = next;
    try {
      return this.#loadChain!(url, context);
    } catch (error) {
      rethrow(withNodeFrames(error, this.#loadHook));
    } finally {
      this.#nodeLoad = outer;
    }
  };
}

const passResolve: ResolveStep = (request, parent, isMain, options, next) => next(request, parent, isMain, options);
const passHandler: HandlerStep = (module, filename, next) => next(module, filename);

/**
 * Marks a handler step that must have Node's handler run inside its own call (it times or
 * observes the whole handling): with it joined, the chain calls Node's handler at its end.
 */
export function aroundStep(step: HandlerStep): HandlerStep {
  (step as { around?: boolean }).around = true;
  return step;
}

/** What the end of a handler chain hands back: call the handler found before ours. */
const passed = Object.freeze({ passed: true });

/** This process's pipeline, shared by every copy of coldstart in it. */
export function pipeline(): Pipeline {
  const state = sharedState();
  state.pipeline ??= new Pipeline();
  return state.pipeline;
}
