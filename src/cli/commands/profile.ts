// `coldstart profile -- <command>`: runs a command with module-load recording in every Node
// process it starts, then reports where start-up time went (stderr), what could be deferred,
// and what forced each lazy() load; --json, --trace and --html write files.
import { launchFlags } from '../../node-options.js';
import { mkdtempSync, realpathSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { runChild, splitCommand } from '../run-child.js';
import { UsageError } from '../usage-error.js';
import { commands } from '../commands.js';
import { preloadUrl, profileEnv } from '../../profile/env.js';
import { distPath } from '../../dist-paths.js';
import { startsInCommonJs } from '../../profile/esm-start.js';
import { sharedState } from '../../shared-state.js';
import { now } from '../../profile/recorder.js';

/** What the report needs (bundled into this file; the trace and HTML renderers initialise only
 *  when asked for): readied while a spawned command runs, or before an in-process one. */
async function reportModules(options: Options) {
  const [lazy, records, analyze, report, text, trace, html] = await Promise.all([
    import('./lazy.js'),
    import('../../lazy/records.js'),
    import('../../profile/analyze.js'),
    import('../../profile/report.js'),
    import('../../profile/render-text.js'),
    options.trace === undefined ? undefined : import('../../profile/render-trace.js'),
    options.html === undefined ? undefined : import('../../profile/render-html.js'),
  ]);
  return { ...lazy, ...records, ...analyze, ...report, ...text, renderTrace: trace?.renderTrace, renderHtml: html?.renderHtml };
}
type ReportModules = Awaited<ReturnType<typeof reportModules>>;

interface Options {
  json: string | undefined;
  trace: string | undefined;
  html: string | undefined;
  minMs: number | undefined;
  coverage: boolean;
  quiet: boolean;
  spawn: boolean;
}

function parseOptions(options: string[]): Options {
  const out: Options = { json: undefined, trace: undefined, html: undefined, minMs: undefined, coverage: true, quiet: false, spawn: false };
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
    else if (flag === '--spawn') out.spawn = true;
    else throw new UsageError(`unknown option '${option}'`, usage);
  }
  return out;
}

/**
 * The script of `node <script> [args...]` when that `node` is the very binary running coldstart
 * and no Node option precedes the script: such a command runs in this process, which saves the
 * second Node start-up a child would cost. Anything else (npx, npm run, a bin, Node options, a
 * different Node) is spawned.
 */
function inProcessScript(command: string[]): string | undefined {
  const [file, script] = command as [string, string | undefined];
  if (script === undefined || script === '' || script.startsWith('-')) return undefined;
  let candidate: string | undefined;
  if (file.includes('/')) candidate = resolve(file);
  else {
    for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
      if (dir === '') continue;
      const path = join(dir, file);
      if (statSync(path, { throwIfNoEntry: false })?.isFile() === true) {
        candidate = path;
        break;
      }
    }
  }
  try {
    return candidate !== undefined && realpathSync(candidate) === realpathSync(process.execPath) ? script : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Writes to fd 2 directly on Linux, where writes to files, pipes and terminals are synchronous
 * anyway, so that printing the report does not create process.stderr: that loads Node's net and
 * stream modules in a process whose program never wrote to stderr. Elsewhere, and for whatever a
 * non-blocking descriptor refuses, the stream (asynchronous pipes keep their order there).
 */
function toStderr(text: string): void {
  let rest = Buffer.from(text);
  if (process.platform === 'linux') {
    try {
      while (rest.length > 0) rest = rest.subarray(writeSync(2, rest));
      return;
    } catch {
      // EAGAIN on a non-blocking pipe: the stream queues what is left
    }
  }
  process.stderr.write(rest);
}

/** Reads what every process recorded and prints or writes the reports; synchronous (it also runs at exit). */
function report(m: ReportModules, dir: string, command: string[], options: Options, code: number, wallMs: number, ownRecords?: { pid: number; records: ReturnType<ReportModules['lazyRecords']> }): void {
  const profiles = m.readProfiles(dir);
  const cwd = process.cwd();
  if (profiles.length === 0) {
    toStderr('coldstart profile: no Node process reported its module loads\nhint: is the command a Node program? (NODE_OPTIONS must reach it)\n');
    return;
  }
  const lazy = m.readRecordsFile(join(dir, 'lazy.jsonl'));
  if (ownRecords !== undefined && ownRecords.records.length > 0) lazy.push(ownRecords);
  const profile = m.buildProfile(profiles, lazy);
  if (!options.quiet) {
    const parts = [`coldstart profile: ${command.join(' ')}  (exit ${code}, ${wallMs.toFixed(0)} ms wall)`];
    for (const view of profile.views) parts.push(m.renderSummary(view), m.renderTree(view, { cwd, minMs: options.minMs }));
    if (options.coverage) parts.push(m.renderCandidates(profile.candidates, cwd));
    if (profile.lazy.some((p) => p.records.length > 0)) parts.push(m.formatRecords(profile.lazy).trimEnd());
    toStderr('\n' + parts.join('\n\n') + '\n');
  }
  const meta = { command, exitCode: code, wallMs, cwd };
  if (options.json !== undefined) writeFileSync(options.json, JSON.stringify(m.reportJson(profile, meta), null, 2) + '\n');
  if (options.trace !== undefined && m.renderTrace !== undefined) writeFileSync(options.trace, JSON.stringify(m.renderTrace(profiles, cwd)) + '\n');
  if (options.html !== undefined && m.renderHtml !== undefined) writeFileSync(options.html, m.renderHtml(profile, meta));
  for (const [flag, file] of [['json', options.json], ['trace', options.trace], ['html', options.html]] as const) {
    if (file !== undefined) toStderr(`coldstart profile: wrote ${flag} to ${file}\n`);
  }
}

export async function run(argv: string[]): Promise<number | undefined> {
  const { options: raw, command } = splitCommand(argv, commands.profile.usage);
  const options = parseOptions(raw);
  const dir = mkdtempSync(join(tmpdir(), 'coldstart-profile-'));
  const script = options.spawn ? undefined : inProcessScript(command);
  if (script !== undefined) return runInProcess(script, command, options, dir);
  try {
    // The command starts first: the report's code initialises here while the command runs on
    // the other core, so the profiled run does not wait for it.
    const [result, m] = await Promise.all([runChild(command, profileEnv(dir, options.coverage)), reportModules(options)]);
    report(m, dir, command, options, result.code, result.wallMs);
    return result.code;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * `node <script>` in this process: recording goes in as the preload would put it in a child,
 * process.argv becomes the script's, and Node's own runMain starts it as the main module. The
 * report is written from the 'exit' event, after the recorder's own exit handlers, so the
 * program's exit code and output stay its own. A process killed by a signal leaves no report
 * (use --spawn for that); child processes the program starts are recorded as with a spawn.
 */
async function runInProcess(script: string, command: string[], options: Options, dir: string): Promise<undefined> {
  let m: ReportModules;
  try {
    m = await reportModules(options);
    const execFlags = launchFlags().join(' ');
    const env = profileEnv(dir, options.coverage);
    for (const key of ['NODE_OPTIONS', 'COLDSTART_PROFILE_DIR', 'COLDSTART_PROFILE_COVERAGE', 'COLDSTART_LAZY_RECORDS']) process.env[key] = env[key];
    process.argv = [process.argv[0]!, resolve(script), ...command.slice(2)];
    // The pack's learned deferral is for the programs it was recorded from: this one now.
    sharedState().programChanged?.();
    if (startsInCommonJs(execFlags)) sharedState().profileInProcessCommonJs = true;
    // Activation ran before the records were asked for: learned-deferral loads report from now on.
    (await import('../../lazy/learned-records.js')).recordLearnedLoads();
    await import(preloadUrl);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  process.once('exit', (code) => {
    try {
      // This process's lazy() records are read from memory: the program's own exit hook that
      // would write them to the file runs after this one.
      report(m, dir, command, options, code, now(), { pid: process.pid, records: m.lazyRecords() });
    } catch (error) {
      toStderr(`coldstart profile: no report: ${(error as Error).message}\n`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  // The program's require.cache holds what it would hold without coldstart: not our bin and CLI.
  const { runMainSoon } = await import('../../loader/node.js');
  runMainSoon([join(distPath('..'), 'bin'), distPath('')]);
  return undefined;
}
