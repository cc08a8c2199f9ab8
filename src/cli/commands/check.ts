// `coldstart check -- <command>`: a CI gate. Runs the command with module-load recording (no
// coverage: counts need none) and exits 3 when it broke a rule, naming the rule and the chain
// of imports that broke it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runChild, splitCommand } from '../run-child.js';
import { UsageError, exitCodes } from '../usage-error.js';
import { commands } from '../commands.js';
import { analyze, readProfiles } from '../../profile/analyze.js';
import { evaluate, type CheckRules } from '../../profile/check.js';
import { profileEnv } from '../../profile/env.js';

function parseRules(options: string[]): { rules: CheckRules; json: string | undefined } {
  const usage = commands.check.usage;
  const rules: CheckRules = { forbid: [], maxModules: undefined, maxMs: undefined, tolerance: 0 };
  let json: string | undefined;
  const number = (flag: string, text: string | undefined) => {
    const n = Number(text);
    if (text === undefined || text === '' || !Number.isFinite(n) || n < 0) throw new UsageError(`${flag} needs a non-negative number`, usage);
    return n;
  };
  for (let i = 0; i < options.length; i++) {
    const option = options[i]!;
    const eq = option.startsWith('--') ? option.indexOf('=') : -1;
    const flag = eq === -1 ? option : option.slice(0, eq);
    const value = () => (eq === -1 ? options[++i] : option.slice(eq + 1));
    if (flag === '--forbid') {
      const name = value();
      if (name === undefined || name === '') throw new UsageError('--forbid needs a package name', usage);
      rules.forbid.push(name);
    } else if (flag === '--max-modules') rules.maxModules = number(flag, value());
    else if (flag === '--max-ms') rules.maxMs = number(flag, value());
    else if (flag === '--tolerance') rules.tolerance = number(flag, value());
    else if (flag === '--json') {
      json = value();
      if (json === undefined || json === '') throw new UsageError('--json needs a file', usage);
    } else throw new UsageError(`unknown option '${option}'`, usage);
  }
  if (rules.forbid.length === 0 && rules.maxModules === undefined && rules.maxMs === undefined) {
    throw new UsageError('no rule given', 'use --forbid NAME, --max-modules N or --max-ms N');
  }
  return { rules, json };
}

export async function run(argv: string[]): Promise<number> {
  const { options, command } = splitCommand(argv, commands.check.usage);
  const { rules, json } = parseRules(options);
  const dir = mkdtempSync(join(tmpdir(), 'coldstart-check-'));
  try {
    const result = await runChild(command, profileEnv(dir, false));
    const views = readProfiles(dir).map(analyze);
    if (views.length === 0) {
      process.stderr.write('coldstart check: no Node process reported its module loads\nhint: is the command a Node program? (NODE_OPTIONS must reach it)\n');
      return exitCodes.failed;
    }
    const verdict = evaluate(views, result.wallMs, rules, process.cwd());
    if (json !== undefined) writeFileSync(json, JSON.stringify({ ...verdict, exitCode: result.code, rules }, null, 2) + '\n');
    if (!verdict.ok) {
      for (const v of verdict.violations) process.stderr.write(`coldstart check: FAIL ${v.rule}: ${v.message}\n`);
      return exitCodes.checkFailed;
    }
    process.stderr.write(`coldstart check: ok (${verdict.moduleCount} modules, ${verdict.wallMs.toFixed(0)} ms)\n`);
    if (result.code !== 0) {
      process.stderr.write(`coldstart check: the command itself exited with ${result.code}\n`);
      return result.code;
    }
    return exitCodes.ok;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
