// `coldstart profile -- <command>`: runs a command with module-load recording in every Node
// process it starts, then reports where start-up time went (stderr), what could be deferred,
// and what forced each lazy() load; --json, --trace and --html write files.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runChild, splitCommand } from '../run-child.js';
import { UsageError } from '../usage-error.js';
import { commands } from '../commands.js';
import { readRecordsFile, formatRecords } from './lazy.js';
import { readProfiles } from '../../profile/analyze.js';
import { profileEnv } from '../../profile/env.js';
import { buildProfile, reportJson } from '../../profile/report.js';
import { renderCandidates, renderSummary, renderTree } from '../../profile/render-text.js';

interface Options {
  json: string | undefined;
  trace: string | undefined;
  html: string | undefined;
  minMs: number | undefined;
  coverage: boolean;
  quiet: boolean;
}

function parseOptions(options: string[]): Options {
  const out: Options = { json: undefined, trace: undefined, html: undefined, minMs: undefined, coverage: true, quiet: false };
  const usage = commands.profile.usage;
  for (let i = 0; i < options.length; i++) {
    const option = options[i]!;
    const [flag, inline] = option.startsWith('--') && option.includes('=') ? [option.slice(0, option.indexOf('=')), option.slice(option.indexOf('=') + 1)] : [option, undefined];
    const value = () => {
      const v = inline ?? options[++i];
      if (v === undefined || v === '') throw new UsageError(`${flag} needs a value`, usage);
      return v;
    };
    if (flag === '--json') out.json = value();
    else if (flag === '--trace') out.trace = value();
    else if (flag === '--html') out.html = value();
    else if (flag === '--min-ms') {
      const n = Number(value());
      if (!Number.isFinite(n) || n < 0) throw new UsageError('--min-ms needs a number of milliseconds', usage);
      out.minMs = n;
    } else if (flag === '--no-coverage') out.coverage = false;
    else if (flag === '--quiet' || flag === '-q') out.quiet = true;
    else throw new UsageError(`unknown option '${option}'`, usage);
  }
  return out;
}

export async function run(argv: string[]): Promise<number> {
  const { options: raw, command } = splitCommand(argv, commands.profile.usage);
  const options = parseOptions(raw);
  const dir = mkdtempSync(join(tmpdir(), 'coldstart-profile-'));
  try {
    const result = await runChild(command, profileEnv(dir, options.coverage));
    const profiles = readProfiles(dir);
    const cwd = process.cwd();
    if (profiles.length === 0) {
      process.stderr.write('coldstart profile: no Node process reported its module loads\nhint: is the command a Node program? (NODE_OPTIONS must reach it)\n');
      return result.code;
    }
    const profile = buildProfile(profiles, readRecordsFile(join(dir, 'lazy.jsonl')));
    if (!options.quiet) {
      const parts = [`coldstart profile: ${command.join(' ')}  (exit ${result.code}, ${result.wallMs.toFixed(0)} ms wall)`];
      for (const view of profile.views) parts.push(renderSummary(view), renderTree(view, { cwd, minMs: options.minMs }));
      if (options.coverage) parts.push(renderCandidates(profile.candidates, cwd));
      if (profile.lazy.some((p) => p.records.length > 0)) parts.push(formatRecords(profile.lazy).trimEnd());
      process.stderr.write('\n' + parts.join('\n\n') + '\n');
    }
    const meta = { command, exitCode: result.code, wallMs: result.wallMs, cwd };
    if (options.json !== undefined) writeFileSync(options.json, JSON.stringify(reportJson(profile, meta), null, 2) + '\n');
    if (options.trace !== undefined) {
      const { renderTrace } = await import('../../profile/render-trace.js');
      writeFileSync(options.trace, JSON.stringify(renderTrace(profiles, cwd)) + '\n');
    }
    if (options.html !== undefined) {
      const { renderHtml } = await import('../../profile/render-html.js');
      writeFileSync(options.html, renderHtml(profile, meta));
    }
    for (const [flag, file] of [['json', options.json], ['trace', options.trace], ['html', options.html]] as const) {
      if (file !== undefined) process.stderr.write(`coldstart profile: wrote ${flag} to ${file}\n`);
    }
    return result.code;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
