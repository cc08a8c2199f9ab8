// `coldstart stage --out DIR`: the cluster recipe of docs/scale.md in one command. Copies
// coldstart's runtime, the project's pack and index into one relocatable folder, after checking
// both are fresh (a shared install trusts them from then on), warms coldstart's code cache in
// it, and writes env.sh, which sets up any process wherever the folder is copied (sbcast, a
// container layer, node-local disk).
import { cpSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { distPath } from '../../dist-paths.js';
import { rebuildCommand } from '../../pack/rebuild.js';
import { openIndex } from '../../locations/load.js';
import { indexPathFor } from '../../locations/store.js';
import { findProjectRoot, makeDirectory } from '../../store.js';
import { findPack } from '../../pack/store.js';
import { commands } from '../commands.js';
import { UsageError, exitCodes } from '../usage-error.js';

/** What env.sh says; `$here` is the folder it sits in, wherever that is when it is sourced. */
function envScript(root: string): string {
  const quote = (text: string): string => `'${text.replaceAll("'", "'\\''")}'`;
  return [
    '# Source this file where the stage lives (after copying it there): every Node process started',
    '# from this shell then serves the program from the stage, trusting it as built (edits made to',
    '# the program since are not seen: stage again), and writes nothing into the project.',
    '# Made by `coldstart stage`; see docs/scale.md.',
    'here=$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")" && pwd)',
    '# The project as the processes see it: set COLDSTART_ROOT before sourcing where it is mounted elsewhere.',
    `[ -n "\${COLDSTART_ROOT:-}" ] || COLDSTART_ROOT=${quote(root)}`,
    'export COLDSTART_SHARED=1 COLDSTART_ROOT COLDSTART_PACK="$here/pack.v1" COLDSTART_INDEX="$here/index.v1"',
    'export NODE_OPTIONS="${NODE_OPTIONS:+$NODE_OPTIONS }--require \\"$here/dist/register.cjs\\""',
    '',
  ].join('\n');
}

export async function run(argv: string[]): Promise<number> {
  const usage = commands.stage.usage;
  let out: string | undefined;
  let packFlag: string | undefined;
  let indexFlag: string | undefined;
  let rootFlag: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = (flag: string): string => {
      const next = argv[++i];
      if (next === undefined || next.startsWith('-')) throw new UsageError(`${flag} needs a path`, usage);
      return next;
    };
    if (arg === '--out' || arg === '-o') out = value(arg);
    else if (arg === '--pack') packFlag = value(arg);
    else if (arg === '--index') indexFlag = value(arg);
    else if (arg === '--root') rootFlag = value(arg);
    else throw new UsageError(`unknown argument '${arg}'`, usage);
  }
  if (out === undefined) throw new UsageError('--out DIR is required: where the stage goes', usage);
  const root = findProjectRoot(process.cwd(), false);
  if (root === undefined) throw new UsageError('no project here: no node_modules directory above the working directory', 'run it in the project, or set COLDSTART_ROOT');
  const fail = (message: string, hint: string): number => {
    process.stderr.write(`coldstart stage: ${message}\nhint: ${hint}\n`);
    return exitCodes.failed;
  };
  // Checked now, once: the processes that use the stage trust what it holds.
  const indexFile = indexPathFor(root, indexFlag);
  const index = openIndex(root, indexFile);
  if (!index.ok) return fail(`the index cannot be staged: ${index.reason}`, 'run `coldstart index` first');
  const pack = findPack(packFlag === undefined ? undefined : resolve(packFlag), false);
  if (pack.state !== 'fresh') {
    const hint = pack.state === 'stale' ? `record it again: ${rebuildCommand(pack.header, pack.file, pack.root)}` : pack.state === 'missing' ? 'record one with `coldstart pack -- <command>`' : 'see `coldstart doctor`';
    return fail(`the pack cannot be staged: ${pack.reason}`, hint);
  }
  pack.pack.body.close();
  const dir = resolve(out);
  try {
    makeDirectory(dir);
    rmSync(join(dir, 'dist'), { recursive: true, force: true });
    // The runtime only: no source maps, declarations or another Node's code cache.
    cpSync(distPath(''), join(dir, 'dist'), { recursive: true, filter: (from) => !/\.(map|d\.ts|d\.cts|v8cache)$/.test(from) });
    cpSync(pack.file, join(dir, 'pack.v1'), { preserveTimestamps: true });
    cpSync(indexFile, join(dir, 'index.v1'), { preserveTimestamps: true });
    writeFileSync(join(dir, 'env.sh'), envScript(rootFlag === undefined ? root : resolve(rootFlag)));
  } catch (error) {
    return fail(`cannot write the stage to ${dir}: ${(error as Error).message}`, '--out must name a folder you can write');
  }
  // One run writes coldstart's code cache for this Node into the stage (runs that use it never write).
  const warm = spawnSync(process.execPath, ['--require', join(dir, 'dist', 'register.cjs'), '-e', '0'], {
    cwd: root,
    env: { ...process.env, NODE_OPTIONS: '', COLDSTART_PACK: 'off', COLDSTART_INDEX: '0', COLDSTART_SHARED: '' },
    stdio: 'ignore',
  });
  if (warm.status !== 0) return fail(`the staged runtime did not start (exit ${warm.status})`, `try: node --require ${join(dir, 'dist', 'register.cjs')} -e 0`);
  process.stderr.write(
    `coldstart stage: ${dir}: coldstart's runtime, the pack (${pack.pack.header.modules.length} modules) and the index of ${root}\n` +
      `next: copy the folder to each node's local storage (sbcast, a container layer), then there: source <folder>/env.sh\n`,
  );
  return exitCodes.ok;
}
