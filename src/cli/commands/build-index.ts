// `coldstart index [dir]`: walks the project once and writes the module-location index.
import { pnpProject, pnpReason } from '../../pnp.js';
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { buildIndex } from '../../locations/build.js';
import { indexPathFor } from '../../locations/store.js';
import { findProjectRoot } from '../../store.js';
import { commands } from '../commands.js';
import { UsageError, exitCodes } from '../usage-error.js';

export async function run(argv: string[]): Promise<number> {
  let dir: string | undefined;
  let file: string | undefined;
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--json') json = true;
    else if (arg === '--index') {
      file = argv[++i];
      if (file === undefined) throw new UsageError('--index needs a file', commands.index.usage);
    } else if (arg.startsWith('--index=')) file = arg.slice(8);
    else if (arg.startsWith('-')) throw new UsageError(`unknown option '${arg}'`, commands.index.usage);
    else if (dir === undefined) dir = arg;
    else throw new UsageError(`unexpected argument '${arg}'`, commands.index.usage);
  }
  if (dir === undefined && pnpProject(process.cwd())) {
    process.stderr.write(`coldstart index: not needed here: ${pnpReason}\n`);
    process.stderr.write('hint: lazy(), auto-defer and coldstart profile work in Plug\'n\'Play projects; the index and the pack do not apply\n');
    return exitCodes.failed;
  }
  const root = dir !== undefined ? resolve(dir) : (findProjectRoot(process.cwd(), false) ?? process.cwd());
  if (statSync(root, { throwIfNoEntry: false })?.isDirectory() !== true) {
    process.stderr.write(`coldstart index: ${root} is not a directory\n`);
    return exitCodes.failed;
  }
  const target = indexPathFor(root, file);
  const tty = process.stderr.isTTY === true;
  let summary;
  try {
    summary = buildIndex({
      root,
      file: target,
      onProgress: tty ? (dirs) => process.stderr.write(`\rindexing ${root}: ${dirs} directories`) : undefined,
    });
  } catch (error) {
    if (tty) process.stderr.write('\n');
    process.stderr.write(`coldstart index: cannot index ${root}: ${(error as Error).message}\n`);
    process.stderr.write('hint: is the directory readable and the index location writable? (--index FILE picks another)\n');
    return exitCodes.failed;
  }
  if (tty) process.stderr.write('\r\x1b[K');
  if (json) process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
  const kb = (summary.bytes / 1024).toFixed(0);
  process.stderr.write(
    `coldstart: indexed ${summary.packages} packages, ${summary.files} files, ${summary.dirs} directories (${kb} KB) in ${summary.ms.toFixed(0)} ms -> ${summary.file}\n`,
  );
  return exitCodes.ok;
}
