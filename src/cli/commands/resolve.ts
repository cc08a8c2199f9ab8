// `coldstart resolve <specifier>`: what the index answers for a specifier (path and format),
// to compare coldstart with Node's own require.resolve / import.meta.resolve.
import { resolveFromIndex } from '../../locations/resolve-from-index.js';
import { commands } from '../commands.js';
import { UsageError, exitCodes } from '../usage-error.js';

export async function run(argv: string[]): Promise<number> {
  let specifier: string | undefined;
  let from: string | undefined;
  let index: string | undefined;
  let conditions: 'require' | 'import' | string[] = 'require';
  let json = false;
  const usage = commands.resolve.usage;
  const value = (i: number, flag: string): string => {
    const v = argv[i];
    if (v === undefined) throw new UsageError(`${flag} needs a value`, usage);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--json') json = true;
    else if (arg === '--from') from = value(++i, arg);
    else if (arg === '--index') index = value(++i, arg);
    else if (arg === '--conditions') {
      const v = value(++i, arg);
      conditions = v === 'require' || v === 'import' ? v : v.split(',');
    } else if (arg.startsWith('-') && arg !== '-') throw new UsageError(`unknown option '${arg}'`, usage);
    else if (specifier === undefined) specifier = arg;
    else throw new UsageError(`unexpected argument '${arg}'`, usage);
  }
  if (specifier === undefined) throw new UsageError('no specifier given', usage);
  const result = resolveFromIndex(specifier, { from, conditions, index });
  if (json) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  switch (result.kind) {
    case 'file':
      if (!json) process.stdout.write(`${result.path}\t${result.format ?? 'unknown'}\n`);
      return exitCodes.ok;
    case 'builtin':
      if (!json) process.stdout.write(`${result.id}\tbuiltin\n`);
      return exitCodes.ok;
    case 'not-found':
      process.stderr.write(`coldstart resolve: ${result.code}: ${result.message.split('\n')[0]}\n`);
      return exitCodes.failed;
    default:
      process.stderr.write(`coldstart resolve: the index cannot answer (${result.reason}); Node would decide\n`);
      if (result.index !== undefined && /cannot open|stale/.test(result.reason)) process.stderr.write('hint: run `coldstart index` to build or refresh it\n');
      return exitCodes.failed;
  }
}
