// `coldstart defer`: lists and edits the auto-defer entries of the project in the current
// directory, keeping the rest of package.json (order, indentation, final newline) as it was.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError, exitCodes } from '../usage-error.js';
import { commands } from '../commands.js';

interface Target {
  file: string;
  /** The whole parsed file. */
  data: Record<string, unknown>;
  /** The object that holds `defer`: the `coldstart` key of package.json, or the config file itself. */
  section(create: boolean): Record<string, unknown> | undefined;
  indent: string;
}

function readTarget(dir: string): Target {
  const configFile = join(dir, 'coldstart.config.json');
  const packageFile = join(dir, 'package.json');
  const file = existsSync(configFile) ? configFile : packageFile;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new UsageError(`no package.json in ${dir}`, 'run it in your project\'s root directory');
  }
  let data: Record<string, unknown>;
  try {
    data = JSON.parse(text) as Record<string, unknown>;
  } catch (error) {
    throw new UsageError(`${file} is not valid JSON: ${(error as Error).message}`);
  }
  const indent = /^[ \t]+(?=")/m.exec(text)?.[0] ?? '  ';
  const section = (create: boolean): Record<string, unknown> | undefined => {
    if (file === configFile) return data;
    const current = data['coldstart'];
    if (current !== null && typeof current === 'object' && !Array.isArray(current)) return current as Record<string, unknown>;
    if (!create) return undefined;
    const fresh: Record<string, unknown> = {};
    data['coldstart'] = fresh;
    return fresh;
  };
  return { file, data, section, indent };
}

function entries(target: Target): string[] {
  const list = target.section(false)?.['defer'];
  return Array.isArray(list) ? list.filter((item): item is string => typeof item === 'string') : [];
}

function write(target: Target): void {
  const temp = `${target.file}.${process.pid}.tmp`;
  writeFileSync(temp, JSON.stringify(target.data, null, target.indent) + '\n');
  renameSync(temp, target.file);
}

export async function run(argv: string[]): Promise<number> {
  let mode: 'list' | 'add' | 'remove' = 'list';
  let json = false;
  const names: string[] = [];
  for (const arg of argv) {
    if (arg === '--list') mode = 'list';
    else if (arg === '--add') mode = 'add';
    else if (arg === '--remove') mode = 'remove';
    else if (arg === '--json') json = true;
    else if (arg.startsWith('-')) throw new UsageError(`unknown option '${arg}'`, commands.defer.usage);
    else if (mode === 'list') throw new UsageError(`unexpected argument '${arg}'`, 'use --add or --remove before package names');
    else names.push(arg);
  }
  if (mode !== 'list' && names.length === 0) throw new UsageError(`--${mode} needs at least one package name or glob`);
  const target = readTarget(process.cwd());
  const current = entries(target);
  if (mode === 'list') {
    process.stdout.write(json ? JSON.stringify(current) + '\n' : current.map((name) => `${name}\n`).join(''));
    if (!json && current.length === 0) process.stderr.write(`no auto-defer entries in ${target.file}\n`);
    return exitCodes.ok;
  }
  // A failed command changes nothing: an empty "defer" list alone would switch the hooks on.
  const unknown = mode === 'remove' ? names.filter((name) => !current.includes(name)) : [];
  if (unknown.length > 0) {
    for (const name of unknown) process.stderr.write(`coldstart defer: '${name}' is not in the list; ${target.file} is unchanged\n`);
    process.stderr.write(`hint: coldstart defer --list shows the entries\n`);
    return exitCodes.failed;
  }
  const next = mode === 'add' ? [...current, ...names.filter((name) => !current.includes(name))] : current.filter((name) => !names.includes(name));
  if (next.length === current.length && next.every((name, i) => name === current[i])) {
    process.stderr.write(`${target.file}: defer ${JSON.stringify(next)} (unchanged)\n`);
    return exitCodes.ok;
  }
  target.section(true)!['defer'] = next;
  write(target);
  process.stderr.write(`${target.file}: defer ${JSON.stringify(next)}\n`);
  return unknown.length > 0 ? exitCodes.failed : exitCodes.ok;
}
