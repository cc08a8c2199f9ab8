// `coldstart doctor [-- command]`: is an index in use, how fresh is it, and for a run, how
// many lookups it answered versus handed to Node.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { staleReason } from '../../index/stamps.js';
import { findProjectRoot, indexPathFor, readIndexFile } from '../../index/store.js';
import type { IndexRunReport } from '../../hooks/index-activate.js';
import { runChild } from '../run-child.js';
import { commands } from '../commands.js';
import { UsageError, exitCodes } from '../usage-error.js';

function age(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86_400)} days`;
}

interface IndexStatus {
  root: string | undefined;
  index: string | undefined;
  state: 'fresh' | 'stale' | 'missing' | 'refused' | 'no-project' | 'off';
  reason?: string;
  builtAt?: number;
  builtBy?: string;
  packages?: number;
  files?: number;
  bytes?: number;
}

function status(indexFlag: string | undefined): IndexStatus {
  const root = findProjectRoot();
  if (root === undefined) return { root, index: undefined, state: 'no-project', reason: 'no node_modules directory above the working directory' };
  const file = indexPathFor(root, indexFlag);
  if (['0', 'off', 'false'].includes(process.env['COLDSTART_INDEX'] ?? '')) return { root, index: undefined, state: 'off', reason: 'COLDSTART_INDEX is off' };
  const read = readIndexFile(file);
  if (!read.ok) return { root, index: file, state: read.missing ? 'missing' : 'refused', reason: read.reason };
  const h = read.index.header;
  const stale = staleReason(root, h.stamps, h.nodePathEnv, process.env['NODE_PATH'] ?? '');
  return {
    root, index: file, state: stale === undefined ? 'fresh' : 'stale', reason: stale,
    builtAt: h.builtAt, builtBy: h.builtBy, packages: h.counts.packages, files: h.counts.files, bytes: h.totalBytes,
  };
}

function describe(s: IndexStatus): string {
  const lines = [`project root: ${s.root ?? '(none)'}`, `index:        ${s.index ?? '(none)'}`];
  if (s.state === 'fresh' || s.state === 'stale') {
    lines.push(`built:        ${age(Date.now() - (s.builtAt ?? 0))} ago by ${s.builtBy}; ${s.packages} packages, ${s.files} files, ${((s.bytes ?? 0) / 1024).toFixed(0)} KB`);
  }
  const verdict = {
    fresh: 'fresh: runs with coldstart/register resolve from it',
    stale: `STALE (${s.reason}): the next run with coldstart/register rebuilds it; until then Node resolves`,
    missing: 'missing: the first run with coldstart/register builds it (or run `coldstart index`)',
    refused: `REFUSED (${s.reason}): runs ignore it`,
    'no-project': `no project (${s.reason})`,
    off: 'off (COLDSTART_INDEX=0)',
  }[s.state];
  lines.push(`state:        ${verdict}`);
  return lines.join('\n') + '\n';
}

function describeRun(reports: IndexRunReport[]): string {
  if (reports.length === 0) return 'no Node process reported (was coldstart/register loaded?)\n';
  const lines = [];
  for (const r of reports) {
    const c = r.counts;
    const total = c.hits + c.notFound + c.fellThrough;
    const share = total === 0 ? '' : ` (${Math.round((100 * (c.hits + c.notFound)) / total)}% answered)`;
    lines.push(`process ${r.pid} ${r.entry ?? ''}: index ${r.state}${r.reason ? ` (${r.reason})` : ''}${r.buildMs !== undefined ? `, built in ${r.buildMs.toFixed(0)} ms` : ''}`);
    if (r.state === 'used' || r.state === 'built') {
      lines.push(`  lookups: ${c.hits} answered from the index, ${c.notFound} misses (confirmed by Node), ${c.fellThrough} fell through to Node${share}; ${c.passed} builtins/URLs passed on`);
      lines.push(`  package sections read: ${r.sectionsLoaded}${r.changedPackages.length > 0 ? `; changed since the build: ${r.changedPackages.join(', ')}` : ''}`);
      if (r.learnedAnswers > 0) lines.push(`  learned answers reused: ${r.learnedAnswers}`);
      if (r.sources !== undefined && r.sources.served + r.sources.passed > 0) {
        lines.push(`  .js package scopes: ${r.sources.served} answered from the index, ${r.sources.passed} left to Node`);
      }
      if (r.sources?.off !== undefined) lines.push(`  .js sources left to Node's handler: ${r.sources.off}`);
      if (r.prefetch !== undefined) lines.push(`  prefetch (slow filesystem): ${r.prefetch.taken} files read ahead by the worker, ${r.prefetch.missed} read by the program itself`);
    }
  }
  return lines.join('\n') + '\n';
}

export async function run(argv: string[]): Promise<number> {
  const dash = argv.indexOf('--');
  const options = dash === -1 ? argv : argv.slice(0, dash);
  const command = dash === -1 ? [] : argv.slice(dash + 1);
  let json = false;
  let indexFlag: string | undefined;
  for (let i = 0; i < options.length; i++) {
    const arg = options[i]!;
    if (arg === '--json') json = true;
    else if (arg === '--index') {
      indexFlag = options[++i];
      if (indexFlag === undefined) throw new UsageError('--index needs a file', commands.doctor.usage);
    } else throw new UsageError(`unknown option '${arg}'`, commands.doctor.usage);
  }
  const before = status(indexFlag);
  if (command.length === 0) {
    process.stdout.write(json ? JSON.stringify(before, null, 2) + '\n' : describe(before));
    return before.state === 'fresh' ? exitCodes.ok : exitCodes.failed;
  }
  const dir = mkdtempSync(join(tmpdir(), 'coldstart-doctor-'));
  const statsFile = join(dir, 'index-stats.jsonl');
  try {
    const env: NodeJS.ProcessEnv = { ...process.env, COLDSTART_INDEX_STATS: statsFile };
    if (indexFlag !== undefined) env['COLDSTART_INDEX'] = indexFlag;
    const options = env['NODE_OPTIONS'] ?? '';
    if (!/coldstart\/register|register\.(c?js)/.test(options)) {
      const register = pathToFileURL(join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '../../register.js')).href;
      env['NODE_OPTIONS'] = `${options} --import=${register}`.trim();
    }
    const result = await runChild(command, env);
    let reports: IndexRunReport[] = [];
    try {
      reports = readFileSync(statsFile, 'utf8').split('\n').filter((l) => l.trim() !== '').flatMap((l) => {
        try {
          return [JSON.parse(l) as IndexRunReport];
        } catch {
          return [];
        }
      });
    } catch {
      // no process reported
    }
    process.stderr.write(json ? JSON.stringify({ index: before, runs: reports }, null, 2) + '\n' : describe(before) + describeRun(reports));
    return result.code;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
