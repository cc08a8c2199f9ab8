// Other tools' load hooks, and whether coldstart may serve CommonJS sources itself.
//
// Where module.registerHooks exists (Node 22.15+), Node's `.js` extension handler is the place
// that runs every registered load hook for require(): a coverage instrumenter, a transpiler, a
// mock library. On every Node it is also what a require hook replaces (pirates, @babel/register). coldstart's source handlers (index and pack) replace that handler for the files
// they can vouch for, which skips the package.json walk Node does per file, but would also skip
// those hooks. So they serve a file only while no other tool has a load hook in the process:
//  - hooks registered after coldstart came in are seen by wrapping module.registerHooks;
//  - hooks registered before it can only come from a preload that ran earlier (`--require` or
//    `--import` before coldstart's own, NODE_OPTIONS first), so any earlier preload counts.
// coldstart's own hook objects carry `ownHooks` and do not count.
import { splitNodeOptions } from '../node-options.js';
import { resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { distPath } from '../dist-paths.js';
import { has } from '../node-features.js';
import { sharedState, type ForeignHooksWatch } from '../shared-state.js';
import { internals, type ModuleInternals, type SyncHooks } from './node.js';

/** Set on coldstart's own registerHooks objects, so the watcher does not count them. */
export const ownHooks = Symbol.for('coldstart.ownHooks');


/** Marks a hooks object as coldstart's own and returns it. */
export function own<T extends object>(hooks: T): T {
  (hooks as Record<symbol, unknown>)[ownHooks] = true;
  return hooks;
}

/**
 * The preload flags of this process in the order Node runs them: every `--require` (NODE_OPTIONS
 * first, then the command line), then every `--import`.
 */
export function preloadOrder(nodeOptions: string, execArgv: readonly string[]): string[] {
  const requires: string[] = [];
  const imports: string[] = [];
  const scan = (args: readonly string[]): void => {
    for (let i = 0; i < args.length; i++) {
      const arg = args[i]!;
      let flag = arg;
      let value: string | undefined;
      const eq = arg.indexOf('=');
      if (arg.startsWith('--') && eq > 0) {
        flag = arg.slice(0, eq);
        value = arg.slice(eq + 1);
      }
      if (flag !== '--require' && flag !== '-r' && flag !== '--import') continue;
      value ??= args[++i];
      if (value === undefined) continue;
      (flag === '--import' ? imports : requires).push(value);
    }
  };
  scan(splitNodeOptions(nodeOptions));
  scan(execArgv);
  return [...requires, ...imports];
}

function pathOf(value: string): string | undefined {
  if (!value.startsWith('file:')) return value;
  try {
    return fileURLToPath(value);
  } catch {
    return undefined;
  }
}

/** Whether a preload flag's value names a file of coldstart (its package, or its dist folder). */
function isOwn(value: string, ownDir: string): boolean {
  if (value === 'coldstart' || value.startsWith('coldstart/')) return true;
  const path = pathOf(value);
  return path !== undefined && resolve(path).startsWith(ownDir + sep);
}

/** Whether it names coldstart/register (through a symlink, as in pnpm, the layout decides). */
function isRegister(value: string, ownDir: string): boolean {
  if (value === 'coldstart/register') return true;
  const path = pathOf(value);
  if (path === undefined) return false;
  // Split by hand, no regular expressions: this runs at every start with a preload flag.
  const parts = path.replaceAll('\\', '/').split('/');
  if (!registerNames.has(parts[parts.length - 1]!)) return false;
  if (resolve(path).startsWith(ownDir + sep)) return true;
  const dir = parts[parts.length - 2];
  return dir === 'coldstart' || (dir === 'dist' && parts[parts.length - 3] === 'coldstart');
}

const registerNames = new Set(['register', 'register.js', 'register.cjs', 'register.mjs']);

/**
 * Other tools' preloads that ran before coldstart/register: the ones ahead of it in Node's
 * order, or all of them when coldstart was activated without a preload flag. coldstart's own
 * preloads (the profiler's, the pack recorder's) do not count.
 */
export function preloadsBefore(order: readonly string[], ownDir: string): string[] {
  const before: string[] = [];
  for (const value of order) {
    if (isRegister(value, ownDir)) return before;
    if (!isOwn(value, ownDir)) before.push(value);
  }
  return before;
}

/**
 * Whether `fn` is one of Node's own loader functions: Node's internal code calls its primordials
 * (`StringPrototypeEndsWith`, `JSONParse`...), which no program's code can name.
 */
function nodeOwn(fn: unknown): boolean {
  return typeof fn === 'function' && /\b(?:StringPrototype|ArrayPrototype|ObjectPrototype|RegExpPrototype|FunctionPrototype|ReflectApply|JSONParse|SafeMap)\w*\(/.test(Function.prototype.toString.call(fn));
}

/** Starts watching (once per process: the first call wraps registerHooks) and returns the shared state. */
export function foreignLoadHooks(): ForeignHooksWatch {
  return watchForeignLoadHooks(distPath(''));
}

export function watchForeignLoadHooks(ownDir: string): ForeignHooksWatch {
  const shared = sharedState();
  if (shared.foreignHooks !== undefined) return shared.foreignHooks;
  const state: ForeignHooksWatch = { foreign: false, earlier: false, reason: undefined, resolution: false, after: false };
  shared.foreignHooks = state;
  const nodeOptions = process.env['NODE_OPTIONS'] ?? '';
  const earlier = preloadsBefore(preloadOrder(nodeOptions, process.execArgv), ownDir);
  if (earlier.length > 0 && has('registerHooks')) {
    state.foreign = true;
    state.earlier = true;
    state.resolution = true;
    state.after = true;
    state.reason = `preloaded before coldstart: ${earlier.join(', ')}`;
  } else if (earlier.length > 0) {
    // Node 20 has no in-thread hooks: an earlier preload reaches require() only by replacing
    // Node's own functions (pirates, @babel/register, module-alias), so only one that did counts;
    // an APM agent or dotenv leaves the pack and the index serving.
    const handlers = internals._extensions as Record<string, unknown>;
    const compile = (internals as unknown as { prototype: { _compile: unknown } }).prototype._compile;
    if (!nodeOwn(handlers['.js']) || !nodeOwn(handlers['.json']) || !nodeOwn(compile)) {
      state.foreign = true;
      state.earlier = true;
      state.reason = `preloaded before coldstart, and replaced require()'s loading: ${earlier.join(', ')}`;
    }
    if (!nodeOwn(internals._resolveFilename)) {
      state.resolution = true;
      state.after = true;
      state.reason ??= `preloaded before coldstart, and replaced require()'s resolution: ${earlier.join(', ')}`;
    }
  }
  // Hooks that come with no call coldstart can see: a loader flag, and node:test's module mocks.
  if ([...splitNodeOptions(nodeOptions), ...process.execArgv].some((arg) => /^--(?:experimental-)?loader(?:=|$)|^--experimental-test-module-mocks$/.test(arg))) {
    state.resolution = true;
    state.after = true;
    state.reason ??= 'a --loader flag or --experimental-test-module-mocks';
  }
  // Without registerHooks (Node 20) an earlier preload may still have replaced Module._extensions['.js'].
  if (!has('registerHooks')) return state;
  const original = internals.registerHooks!;
  const wrapped = function registerHooks(this: unknown, hooks: SyncHooks) {
    if (hooks !== null && typeof hooks === 'object' && (hooks as Record<symbol, unknown>)[ownHooks] !== true) {
      if (typeof hooks.resolve === 'function') {
        state.resolution = true;
        state.reason ??= 'another tool registered a resolve hook';
      }
      if (!state.foreign && typeof hooks.load === 'function') {
        state.foreign = true;
        state.reason = 'another tool registered a load hook';
      }
    }
    return original.call(this, hooks);
  };
  Object.defineProperty(wrapped, 'length', { value: original.length });
  internals.registerHooks = wrapped;
  // module.register (off-thread hooks), which coldstart itself calls only on Node 20. Taken from
  // node:module itself: the loader's Module that the register entry hands over may not have it yet.
  for (const holder of new Set([internals, process.getBuiltinModule('node:module') as unknown as ModuleInternals])) {
    const originalRegister = holder.register;
    if (typeof originalRegister !== 'function') continue;
    const wrappedRegister = function register(this: unknown, ...args: Parameters<typeof originalRegister>) {
      state.resolution = true;
      state.after = true;
      state.reason ??= 'another tool called module.register';
      return originalRegister.apply(this, args);
    };
    Object.defineProperty(wrappedRegister, 'length', { value: originalRegister.length });
    Object.defineProperty(wrappedRegister, 'name', { value: 'register' });
    holder.register = wrappedRegister;
  }
  // `import { register } from "node:module"` reads Node's ES module view of the builtin, which
  // keeps the values it had when made (coldstart's own index builder may have made it already).
  (process.getBuiltinModule('node:module') as unknown as { syncBuiltinESMExports(): void }).syncBuiltinESMExports();
  return state;
}
