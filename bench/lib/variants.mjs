// The ways of starting a scenario that the suite compares: plain Node, coldstart's variants and
// what users would pick instead. Each variant turns a cell (tree root, Node, scenario) into a
// command, doing its one-off setup first (index, bundle, warmed cache); a setup that fails throws
// SetupError, which the report shows instead of a time.
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { cleanEnv, runOnce } from './measure.mjs';
import { scenarioById } from './scenarios.mjs';

export class SetupError extends Error {}

/** The command plain Node would run for the cell, with extra node flags, entry or env. */
function command(cell, { pre = [], entry = cell.scenario.entry, env = {} } = {}) {
  return {
    file: cell.node.path,
    args: [...pre, ...(entry === undefined ? [] : [resolve(cell.root, entry)]), ...cell.scenario.args],
    cwd: join(cell.root, cell.scenario.cwd),
    env: cleanEnv(env),
  };
}

function stateDir(cell, ...parts) {
  const dir = join(cell.root, 'bench', '.work', 'state', `node${cell.node.label}`, cell.scenario.id, ...parts);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** The most telling line of a failed command: an error message if there is one. */
function whyFailed(result) {
  const lines = `${result.stderr}\n${result.stdout}`.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('at '));
  return result.error ?? lines.find((l) => /error|coldstart:/i.test(l)) ?? lines[0] ?? `exit ${result.code}`;
}

/** The coldstart command as package.json names it, so a renamed bin file needs no change here. */
function coldstartBin(root) {
  const { bin } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  return join(root, typeof bin === 'string' ? bin : bin.coldstart);
}

/** Setup steps run once per key in a run (an index per project, a bundle per scenario, ...). */
function once(cell, key, step) {
  const memo = cell.memo;
  if (!memo.has(key)) {
    try {
      memo.set(key, { value: step() });
    } catch (error) {
      memo.set(key, { error });
    }
  }
  const entry = memo.get(key);
  if (entry.error) throw entry.error;
  return entry.value;
}

function coldstartCli(cell, args, cwd) {
  const bin = coldstartBin(cell.coldstart);
  const result = runOnce({ file: cell.node.path, args: [bin, ...args], cwd, env: cleanEnv() });
  if (result.code !== 0) throw new SetupError(`coldstart ${args[0]} failed: ${whyFailed(result)}`);
  return result;
}

/**
 * `coldstart index <project>` once per tree, project and Node; returns the preload flags.
 * `--require coldstart/register` rather than `--import`: the same activation, without starting
 * Node's ES module loader early in a CommonJS program (~2 ms on Node 20).
 */
function withIndex(cell) {
  const register = join(cell.coldstart, 'dist', 'register.cjs');
  if (!existsSync(register)) throw new SetupError('dist/register.cjs missing (run npm run build)');
  once(cell, `index|${cell.root}|${cell.scenario.project}|${cell.node.label}`, () => {
    const project = join(cell.root, cell.scenario.project);
    const start = performance.now();
    coldstartCli(cell, ['index', project], project);
    cell.notes.push(`coldstart index ${cell.scenario.project} (Node ${cell.node.label}): ${Math.round(performance.now() - start)} ms`);
  });
  return ['--require', register];
}

/** Runs the command once so the cache it fills is warm for the check and the timed runs. */
function warmed(cmd) {
  runOnce(cmd);
  return cmd;
}

function bundle(cell) {
  const { scenario } = cell;
  if (!scenario.bundle) throw new SetupError('no bundle: not tried for this scenario');
  return once(cell, `bundle|${cell.root}|${scenario.id}`, () => {
    const out = join(cell.root, 'bench', '.work', 'bundles', `${scenario.id}.${scenario.bundle === 'esm' ? 'mjs' : 'cjs'}`);
    mkdirSync(dirname(out), { recursive: true });
    const esbuild = join(cell.root, 'bench', 'node_modules', 'esbuild', 'bin', 'esbuild');
    const args = [join(cell.root, scenario.entry), '--bundle', '--platform=node', `--format=${scenario.bundle}`,
      '--target=node20', `--outfile=${out}`, '--log-level=error', ...(scenario.external ?? []).map((name) => `--external:${name}`)];
    // An ES module bundle of CommonJS dependencies needs a real `require`, as esbuild's docs advise.
    if (scenario.bundle === 'esm') args.push("--banner:js=import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);");
    const result = runOnce({ file: esbuild, args, cwd: join(cell.root, 'bench'), env: cleanEnv() });
    if (result.code !== 0) throw new SetupError(`no bundle: ${whyFailed(result)}`);
    return out;
  });
}

/**
 * The cell's pack (`lazy`: with learned deferral), learned from the scenario's own command; or
 * from the command of the scenario it names as `projectPack` (a program that loads no module of
 * its own runs with the pack its project has), or, for the lazy pack, as `packFrom` (the same pack
 * that scenario uses); once per tree, scenario and Node.
 */
function learnedPack(cell, lazy) {
  const fromId = cell.scenario.projectPack ?? (lazy ? cell.scenario.packFrom : undefined);
  const from = fromId === undefined ? cell : { ...cell, scenario: scenarioById(fromId) };
  if (from.scenario === undefined) throw new SetupError(`no scenario ${fromId} to learn the pack from`);
  const pack = join(stateDir(from), lazy ? 'lazy-pack.v1' : 'pack.v1');
  once(cell, `${lazy ? 'lazy-pack' : 'pack'}|${cell.root}|${from.scenario.id}|${cell.node.label}`, () => {
    const plain = command(from);
    coldstartCli(cell, ['pack', ...(lazy ? ['--lazy'] : []), '--out', pack, '--', plain.file, ...plain.args], plain.cwd);
  });
  return pack;
}

const lazyPack = (cell) => learnedPack(cell, true);

const NO_PACK = { COLDSTART_PACK: 'off' };
const compileCacheEnv = (cell, name) => ({ NODE_COMPILE_CACHE: stateDir(cell, name) });

export const variants = [
  { id: 'plain', title: 'node', prepare: (cell) => command(cell) },
  // The index-only variants switch packs off, so a pack left in the default place cannot serve them.
  // Warmed like the compile cache: the first run with an index learns its answers for the next.
  { id: 'coldstart', title: 'coldstart index', prepare: (cell) => warmed(command(cell, { pre: withIndex(cell), env: NO_PACK })) },
  {
    id: 'coldstart-cc', title: 'coldstart + compile cache', applies: (cell) => cell.node.compileCache,
    prepare: (cell) => warmed(command(cell, { pre: withIndex(cell), env: { ...NO_PACK, ...compileCacheEnv(cell, 'coldstart-cc') } })),
  },
  {
    // One pack per scenario, learnt from the scenario's own command, kept out of the default place.
    id: 'coldstart-pack', title: 'coldstart pack',
    prepare: (cell) => {
      const pre = withIndex(cell);
      return warmed(command(cell, { pre, env: { COLDSTART_PACK: learnedPack(cell, false) } }));
    },
  },
  {
    // The same, with learned deferral: requires the recorded run never needed load at first use.
    id: 'coldstart-lazy-pack', title: 'coldstart lazy pack',
    prepare: (cell) => {
      const pre = withIndex(cell);
      return warmed(command(cell, { pre, env: { COLDSTART_PACK: lazyPack(cell) } }));
    },
  },
  {
    // The cluster recipe (docs/scale.md): the lazy pack, the index and coldstart's own files
    // copied to node-local storage, as `srun --bcast` or a container layer would, and
    // COLDSTART_SHARED=1, so the shared filesystem sees only what Node itself asks of it.
    // COLDSTART_ROOT names the project, so no directory is searched for it (taken as the real
    // path it must be under COLDSTART_SHARED=1).
    id: 'coldstart-staged', title: 'coldstart lazy pack, staged node-local', applies: (cell) => cell.fs === 'fuse',
    prepare: (cell) => {
      withIndex(cell);
      const pack = lazyPack(cell);
      const stage = join(cell.work, 'node-local', `node${cell.node.label}`, cell.scenario.id);
      const stagedIn = (dir) => ({
        pre: ['--require', join(dir, 'dist', 'register.cjs')],
        env: { COLDSTART_PACK: join(dir, 'pack.v1'), COLDSTART_INDEX: join(dir, 'index.v1'), COLDSTART_ROOT: join(cell.root, cell.scenario.project) },
      });
      const staged = stagedIn(stage);
      const tar = `${stage}.tar`;
      once(cell, `stage|${stage}`, () => {
        rmSync(stage, { recursive: true, force: true });
        // `coldstart stage` copies the runtime, pack and index, and warms the runtime's code cache.
        coldstartCli(cell, ['stage', '--out', stage, '--pack', pack], join(cell.root, cell.scenario.project));
        const packed = runOnce({ file: 'tar', args: ['-cf', tar, '-C', stage, '.'], cwd: stage, env: cleanEnv() });
        if (packed.code !== 0) throw new SetupError(`tar of the stage failed: ${whyFailed(packed)}`);
      });
      // Under Slurm the same files go to every node by sbcast (bench/lib/slurm.mjs).
      const bcast = join(cell.work, 'node-local-bcast', `node${cell.node.label}`, cell.scenario.id);
      const viaSlurm = stagedIn(bcast);
      return {
        ...command(cell, { pre: staged.pre, env: { ...staged.env, COLDSTART_SHARED: '1' } }),
        stage: { dir: bcast, files: [[tar, 'coldstart.tar']], command: command(cell, { pre: viaSlurm.pre, env: { ...viaSlurm.env, COLDSTART_SHARED: '1' } }) },
      };
    },
  },
  { id: 'lazy', title: 'coldstart lazy()', applies: (cell) => Boolean(cell.scenario.lazy), prepare: (cell) => command(cell, { entry: cell.scenario.lazy }) },
  {
    // The eager program's ordinary imports, made lazy by its package.json's "coldstart.defer";
    // warmed, so the timed runs read their transforms from the cache and parse nothing.
    id: 'auto-defer', title: 'coldstart auto-defer', applies: (cell) => Boolean(cell.scenario.autoDefer),
    prepare: (cell) => warmed(command(cell, { pre: withIndex(cell), entry: cell.scenario.autoDefer, env: { ...NO_PACK, COLDSTART_DEFER_CACHE: stateDir(cell, 'defer-cache') } })),
  },
  {
    id: 'import-lazy', title: 'import-lazy', applies: (cell) => Boolean(cell.scenario.importLazy),
    prepare: (cell) => {
      if (!existsSync(join(cell.root, cell.scenario.importLazy))) throw new SetupError(`${cell.scenario.importLazy} missing`);
      return command(cell, { entry: cell.scenario.importLazy });
    },
  },
  {
    id: 'cache-require-paths', title: 'cache-require-paths',
    prepare: (cell) => warmed(command(cell, {
      pre: ['--require', join(cell.root, 'bench', 'node_modules', 'cache-require-paths', 'index.js')],
      env: { CACHE_REQUIRE_PATHS_FILE: join(stateDir(cell), 'cache-require-paths.json') },
    })),
  },
  {
    id: 'compile-cache', title: 'Node compile cache', applies: (cell) => cell.node.compileCache,
    prepare: (cell) => warmed(command(cell, { env: compileCacheEnv(cell, 'compile-cache') })),
  },
  {
    id: 'v8-compile-cache', title: 'v8-compile-cache', applies: (cell) => !cell.node.compileCache,
    prepare: (cell) => warmed(command(cell, {
      pre: ['--require', join(cell.root, 'bench', 'node_modules', 'v8-compile-cache', 'v8-compile-cache.js')],
      env: { V8_COMPILE_CACHE_CACHE_DIR: stateDir(cell, 'v8-compile-cache') },
    })),
  },
  { id: 'esbuild', title: 'esbuild bundle', prepare: (cell) => command(cell, { entry: bundle(cell) }) },
];

export function selectVariants(ids) {
  for (const id of ids ?? []) {
    if (!variants.some((v) => v.id === id)) throw new Error(`unknown variant '${id}' (known: ${variants.map((v) => v.id).join(', ')})`);
  }
  return ids ? variants.filter((v) => ids.includes(v.id)) : variants;
}
