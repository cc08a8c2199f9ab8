// Every Node-version gate coldstart depends on, in one table: each entry names the Node
// versions that have it and how it is detected at run time (detection, not version parsing).
import { hasLaunchFlag } from './node-options.js';
import { internals } from './loader/node.js';

interface Feature {
  /** Node versions that ship the feature unflagged, for the README and error messages. */
  readonly since: string;
  readonly detect: () => boolean;
}

const mod = internals as unknown as Record<string, unknown>;

/**
 * `node:module` as its public module gives it: the same object as the loader's Module, plus what
 * lib/module.js adds when first loaded (register, enableCompileCache, findPackageJSON). The
 * register core is handed the loader's Module without loading that file (core-loader.ts).
 */
function publicModule(): Record<string, unknown> {
  return process.getBuiltinModule('node:module') as unknown as Record<string, unknown>;
}

function processFeature(key: string): unknown {
  return (process.features as unknown as Record<string, unknown>)[key];
}

const table = {
  /** Synchronous in-thread resolve/load hooks covering require() and import. */
  registerHooks: { since: '22.15.0, 23.5.0', detect: () => typeof mod['registerHooks'] === 'function' },
  /**
   * A registerHooks load hook may hand CommonJS source to require() and import (Node 22.x
   * then evaluates it outside the CommonJS loader, without require.cache: measured on 22.23).
   */
  loadHookCommonJsSource: { since: '24.0.0', detect: () => typeof mod['registerHooks'] === 'function' && Number(process.versions.node.split('.')[0]) >= 24 },
  /**
   * An import of a URL of another scheme (a learned stand-in's) inside an ES module loaded by
   * require() reaches the load hooks; Node 22 asserts such a specifier is file:, node: or data:
   * there (ERR_INTERNAL_ASSERTION, measured on 22.23).
   */
  requireEsmOtherSchemes: { since: '24.0.0', detect: () => Number(process.versions.node.split('.')[0]) >= 24 },
  /** readFileSync(fd, 'utf8') reads a regular file in one read and decodes it in C++ (Node 20 reads a user fd in small chunks). */
  oneReadUtf8: { since: '22.0.0', detect: () => Number(process.versions.node.split('.')[0]) >= 22 },
  /** Off-thread asynchronous hooks (costs ~30 ms per start: a worker thread). */
  asyncRegister: { since: '20.6.0', detect: () => typeof publicModule()['register'] === 'function' },
  /** require() of a synchronous ES module graph without a flag. */
  requireEsm: { since: '20.19.0, 22.12.0', detect: () => processFeature('require_module') === true },
  /** module.enableCompileCache() and NODE_COMPILE_CACHE. */
  compileCache: { since: '22.1.0', detect: () => typeof publicModule()['enableCompileCache'] === 'function' },
  /** module.findPackageJSON(). */
  findPackageJSON: { since: '22.14.0, 23.2.0', detect: () => typeof publicModule()['findPackageJSON'] === 'function' },
  /** Type stripping of .ts files without a flag. */
  stripTypes: { since: '22.18.0, 23.6.0', detect: () => ['strip', 'transform'].includes(String(processFeature('typescript'))) },
  /** Native `import defer` (only behind --js-defer-import-eval on Node 26). */
  nativeImportDefer: { since: '26.0.0 with --js-defer-import-eval', detect: () => hasLaunchFlag('--js-defer-import-eval') },
} satisfies Record<string, Feature>;

export type FeatureName = keyof typeof table;

const memo = new Map<FeatureName, boolean>();

/** Whether the running Node has `name`; memoised, so hot paths may call it freely. */
export function has(name: FeatureName): boolean {
  let value = memo.get(name);
  if (value === undefined) {
    value = table[name].detect();
    memo.set(name, value);
  }
  return value;
}

/** The Node versions that have `name`, for messages such as "needs Node 22.15.0+". */
export function since(name: FeatureName): string {
  return table[name].since;
}

export const featureNames = Object.keys(table) as FeatureName[];

/**
 * Whether this code runs in a worker thread, answered without loading node:worker_threads, which
 * pulls in the worker plumbing and the streams (docs/decisions/startup-costs.md#lazy-builtins). In a worker, Node replaces process.chdir with a stub it marks
 * `disabled` (lib/internal/bootstrap/switches/is_not_main_thread.js, Node 20 to 26); should a
 * future Node stop marking it, the check falls back to the builtin. Tested on every Node: a
 * profiled program's worker is not recorded.
 */
export function inWorkerThread(): boolean {
  const chdir = process.chdir as { disabled?: unknown; name: string };
  if (chdir.disabled === true) return true;
  if (chdir.name === 'chdir' || chdir.name === 'wrappedChdir') return false;
  return !process.getBuiltinModule('node:worker_threads').isMainThread;
}
