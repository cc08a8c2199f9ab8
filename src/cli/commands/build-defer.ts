// `coldstart build-defer <dir>`: rewrites a compiled folder (tsc's output) in place so that its
// `import defer` statements and imports of configured packages load at first use on plain node.
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { deferConfigAt } from '../../defer/config.js';
import { lowerFolder } from '../../build/folder.js';
import { UsageError, exitCodes } from '../usage-error.js';
import { commands } from '../commands.js';

export async function run(argv: string[]): Promise<number> {
  let dir: string | undefined;
  let json = false;
  let dryRun = false;
  const defer: string[] = [];
  let deferGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--json') json = true;
    else if (arg === '--dry-run') dryRun = true;
    else if (arg === '--defer') {
      const value = argv[++i];
      if (value === undefined || value.startsWith('-')) throw new UsageError('--defer needs a package name or glob', commands['build-defer'].usage);
      defer.push(value);
      deferGiven = true;
    } else if (arg.startsWith('-')) throw new UsageError(`unknown option '${arg}'`, commands['build-defer'].usage);
    else if (dir === undefined) dir = arg;
    else throw new UsageError(`unexpected argument '${arg}'`, 'give one folder');
  }
  if (dir === undefined) throw new UsageError('build-defer needs the folder to rewrite', commands['build-defer'].usage);
  const root = resolve(dir);
  let isDir = false;
  try {
    isDir = statSync(root).isDirectory();
  } catch {
    isDir = false;
  }
  if (!isDir) throw new UsageError(`${dir} is not a directory`, 'give the output folder of your compiler (tsc --outDir)');
  const patterns = deferGiven ? defer : (deferConfigAt(root)?.defer ?? []);
  const report = lowerFolder(root, patterns, !dryRun);
  if (json) {
    process.stdout.write(`${JSON.stringify({ dir: root, defer: patterns, dryRun, ...report }, null, 2)}\n`);
  } else {
    for (const entry of report.files) {
      const kept = entry.kept.length > 0 ? `; kept eager: ${entry.kept.join(', ')}` : '';
      process.stdout.write(`${entry.file}: ${entry.deferred.join(', ') || '(nothing lazy)'}${kept}\n`);
    }
    const verb = dryRun ? 'would rewrite' : 'rewrote';
    process.stderr.write(`build-defer: ${verb} ${report.files.length} of ${report.scanned} files in ${root}${patterns.length === 0 ? ' (no "coldstart.defer" list: import defer only)' : ''}\n`);
  }
  for (const entry of report.skipped) process.stderr.write(`build-defer: ${entry.file} left as it was: ${entry.reason}\n`);
  return report.skipped.length > 0 ? exitCodes.failed : exitCodes.ok;
}
