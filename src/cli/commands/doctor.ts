// `coldstart doctor [-- command]`: is an index in use, how fresh is it, is there a pack and
// would it be served; for a run, how many lookups the index answered versus handed to Node,
// and how many module loads the pack served versus left to the disk.
import { isOff, setting, sharedInstall } from '../../settings.js';
import { firstCorruptSection } from '../../locations/format.js';
import { pnpProject, pnpReason } from '../../pnp.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { indexPathFor } from '../../locations/store.js';
import { openIndex } from '../../locations/load.js';
import { findProjectRoot } from '../../store.js';
import type { IndexRunReport } from '../../locations/open-at-start.js';
import type { PackRunReport } from '../../pack/open-at-start.js';
import { findPack, packOff, type FoundPack } from '../../pack/store.js';
import { rebuildCommand } from '../../pack/rebuild.js';
import { megabytes } from '../units.js';
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
  state: 'fresh' | 'stale' | 'missing' | 'corrupt' | 'refused' | 'no-project' | 'off';
  reason?: string;
  builtAt?: number;
  builtBy?: string;
  packages?: number;
  files?: number;
  bytes?: number;
}

function status(indexFlag: string | undefined): IndexStatus {
  if (pnpProject(process.cwd())) return { root: process.cwd(), index: undefined, state: 'off', reason: pnpReason };
  const root = findProjectRoot(process.cwd(), false);
  if (root === undefined) return { root, index: undefined, state: 'no-project', reason: 'no node_modules directory above the working directory' };
  const file = indexPathFor(root, indexFlag);
  if (isOff('COLDSTART_INDEX')) return { root, index: undefined, state: 'off', reason: 'COLDSTART_INDEX is off' };
  // Opened as a run opens it (the same opener), the header checked at once; nothing removed.
  const opened = openIndex(root, file, { checkHeader: true, onCorrupt: () => {} });
  if (!opened.ok && opened.header === undefined) return { root, index: file, state: opened.state === 'stale' ? 'corrupt' : opened.state, reason: opened.reason };
  const h = opened.header!;
  const facts = { builtAt: h.builtAt, builtBy: h.builtBy, packages: h.counts.packages, files: h.counts.files, bytes: h.totalBytes };
  if (!opened.ok) return { root, index: file, state: 'stale', reason: opened.stale ?? opened.reason, ...facts };
  // A run checks only the sections it reads; doctor checks them all.
  const corrupt = firstCorruptSection(opened.index);
  if (corrupt !== undefined) return { root, index: file, state: 'corrupt', reason: `section ${corrupt} fails its checksum` };
  return { root, index: file, state: 'fresh', reason: undefined, ...facts };
}

interface PackStatus {
  pack: string | undefined;
  state: 'fresh' | 'stale' | 'missing' | 'refused' | 'no-project' | 'off';
  reason?: string;
  builtAt?: number;
  builtBy?: string;
  modules?: number;
  answers?: number;
  bytes?: number;
  /** Whether it was built with --lazy (learned deferral). */
  lazy?: boolean;
  /** The command that rebuilds it (pack/rebuild.ts). */
  rebuild?: string;
  /** The recorded programs coldstart steps aside for (too small for serving to pay). */
  aside?: string[];
}

/** What a run with coldstart/register would do with the pack: activation's own check. */
function packStatus(packFlag: string | undefined): PackStatus {
  if (packFlag === undefined && packOff(setting('COLDSTART_PACK'))) return { pack: undefined, state: 'off', reason: 'COLDSTART_PACK is off' };
  if (pnpProject(process.cwd())) return { pack: undefined, state: 'off', reason: pnpReason };
  let found: FoundPack;
  try {
    found = findPack(packFlag, false);
  } catch (error) {
    // The pack names a root that is gone (a copy without its project): runs ignore it too.
    return { pack: packFlag, state: 'refused', reason: (error as Error).message };
  }
  // A pack named on the command line that is not there is an error, not an optional file.
  if (found.state === 'missing' && packFlag !== undefined) return { pack: found.file, state: 'refused', reason: `${found.file} does not exist` };
  if (found.state !== 'fresh' && found.state !== 'stale') return { pack: found.file, state: found.state, reason: found.reason, ...(found.state === 'missing' ? { rebuild: rebuildCommand({}, found.file, undefined) } : {}) };
  const h = found.state === 'fresh' ? found.pack.header : found.header;
  if (found.state === 'fresh') found.pack.body.close();
  return {
    pack: found.file, state: found.state, ...(found.state === 'stale' ? { reason: found.reason } : {}),
    builtAt: h.createdAt, builtBy: h.node, modules: h.modules.length, answers: h.answers.length, bytes: found.size,
    lazy: (h.lazy?.length ?? 0) > 0,
    rebuild: rebuildCommand(h, found.file, found.root),
    // As the runs decide (step-aside.ts asideEntry): Node 22+, unless switched off.
    ...((h.aside?.length ?? 0) > 0 && Number(process.versions.node.split('.')[0]) >= 22 && !isOff('COLDSTART_STEP_ASIDE') ? { aside: h.aside!.map((row) => `${[row[0], ...(Array.isArray(row[1]) ? row[1] : [])].join(' ')} (${row[2]} modules)`) } : {}),
  };
}

function describePack(p: PackStatus): string {
  const lines = [`pack:         ${p.pack ?? '(none)'}`];
  if (p.state === 'fresh' || p.state === 'stale') {
    lines.push(`pack built:   ${age(Date.now() - (p.builtAt ?? 0))} ago by Node ${p.builtBy}; ${p.modules} modules, ${p.answers} resolution answers, ${megabytes(p.bytes ?? 0)}`);
  }
  // The rebuild keeps what the pack was (its own command, else learned deferral when it had any,
  // unknown when unreadable) and its place: a pack named by COLDSTART_PACK or --pack is rebuilt there.
  const rebuild = p.rebuild ?? rebuildCommand(undefined, p.pack, undefined);
  const verdict = {
    fresh: `fresh: runs with coldstart/register serve its modules from memory${p.aside === undefined ? '' : `, but for ${p.aside.join(', ')}: too small for serving to pay, coldstart steps aside for ${p.aside.length === 1 ? 'it' : 'them'} on a local disk`}`,
    stale: sharedInstall()
      ? `STALE (${p.reason}), yet served: COLDSTART_SHARED=1 trusts it as built; rebuild it (${rebuild})`
      : `STALE (${p.reason}): runs ignore it until it is rebuilt (${rebuild})`,
    missing: `none (optional: ${rebuild} records one)`,
    // A directory (or device) named as the pack is not to be removed: the name is what is wrong.
    refused: p.reason?.endsWith(' is not a regular file')
      ? `REFUSED (${p.reason}): runs ignore it; name a pack file (COLDSTART_PACK, --pack), or record one with coldstart pack ${p.lazy === true ? '--lazy ' : '[--lazy] '}--out ${p.pack ?? 'DIR'}/pack.v1 -- <command>`
      : `REFUSED (${p.reason}): runs ignore it; remove it${p.pack ? ` (rm ${p.pack})` : ''} and record a new one with ${rebuild} (a staged copy: copy the stage again)`,
    'no-project': `no project (${p.reason})`,
    off: `off (${p.reason ?? 'COLDSTART_PACK=off'})`,
  }[p.state];
  lines.push(`pack state:   ${verdict}`);
  return lines.join('\n') + '\n';
}

function describe(s: IndexStatus): string {
  const lines = [`project root: ${s.root ?? '(none)'}`, `index:        ${s.index ?? '(none)'}`];
  if (s.state === 'fresh' || s.state === 'stale') {
    lines.push(`built:        ${age(Date.now() - (s.builtAt ?? 0))} ago by ${s.builtBy}; ${s.packages} packages, ${s.files} files, ${((s.bytes ?? 0) / 1024).toFixed(0)} KB`);
  }
  const verdict = {
    fresh: 'fresh: runs with coldstart/register resolve from it',
    stale: sharedInstall()
      ? `STALE (${s.reason}), yet used: COLDSTART_SHARED=1 trusts it as built; rebuild it (coldstart index)`
      : `STALE (${s.reason}): the next run with coldstart/register rebuilds it; until then Node resolves`,
    missing: 'missing: the first run with coldstart/register builds it (or run `coldstart index`)',
    corrupt: `CORRUPT (${s.reason}): the next run with coldstart/register builds a new one (or run \`coldstart index\`)`,
    refused: `REFUSED (${s.reason}): runs ignore it; remove it${s.index ? ` (rm ${s.index})` : ''} and the next run, or coldstart index, builds a new one`,
    'no-project': `no project (${s.reason})`,
    off: `off (${s.reason ?? 'COLDSTART_INDEX=0'})`,
  }[s.state];
  lines.push(`state:        ${verdict}`);
  lines.push(`mode:         ${sharedInstall()
    ? 'shared install (COLDSTART_SHARED=1): index and pack trusted as built, no stamps checked at start, nothing written into the tree'
    : 'per project: stamps checked at every start; learned answers, small programs learned without a pack, the index (when missing) and a code cache written beside them'}`);
  return lines.join('\n') + '\n';
}

function describePackRun(r: PackRunReport): string | undefined {
  // No pack was ever made: optional, so nothing to say for each process.
  if (r.state === 'missing') return undefined;
  if (r.state !== 'used') return `  pack: ${r.state}${r.reason ? ` (${r.reason})` : ''}`;
  const c = r.counts;
  return `  pack: ${c.hits} module loads served from it, ${c.misses} read from disk (not in the pack), ${c.stale} changed since packing (read from disk)` +
    `; ${c.answers} resolutions answered, ${c.unanswered} passed on${r.hooks === 'load-hook' ? ` (require() answered in its resolution step; the imports of the ES modules it serves resolved by Node)` : ''}${r.verify ? ' (verify mode)' : ''}${r.shared === true ? ' (shared install)' : ''}` +
    (r.reason !== undefined ? `; note: ${r.reason}` : '') +
    ((c.foreign ?? 0) > 0 ? `; ${c.foreign} left to Node, whose other tools' module hooks must see them as written` : '') +
    (c.codeCache > 0 || c.codeCacheRejected > 0 ? `; ${c.codeCache} compiled from its V8 code cache${c.codeCacheRejected > 0 ? ' (V8 turned the cache down: other V8 flags or version)' : ''}` : '') +
    ((r.deferredRequires ?? 0) > 0
      ? `; learned deferral: ${r.deferredRequires} requires in the served modules load at first use, not at start, and ${Math.max(0, r.modules - c.hits - c.stale)} of the ${r.modules} packed modules were not loaded`
      : '') +
    ((r.rewritesAsWritten ?? 0) > 0
      ? `; ${r.rewritesAsWritten} learned-deferral rewrite${r.rewritesAsWritten === 1 ? '' : 's'} served as written, their requires eager (a file they were learned on changed, or source maps are on: COLDSTART_DEBUG=1 names it; rebuild the pack with the same command)`
      : '') +
    `; ${megabytes(r.bytesRead ?? 0)} read from the pack`;
}

function describeRun(reports: IndexRunReport[], packReports: PackRunReport[]): string {
  if (reports.length === 0 && packReports.length === 0) return 'no Node process reported (was coldstart/register loaded?)\n';
  const lines = [];
  const packByPid = new Map(packReports.map((r) => [r.pid, r]));
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
    const pack = packByPid.get(r.pid);
    if (pack !== undefined) {
      const line = describePackRun(pack);
      if (line !== undefined) lines.push(line);
      packByPid.delete(r.pid);
    }
  }
  // A process the index did not report on (COLDSTART_INDEX=off) may still have used the pack.
  for (const r of packByPid.values()) {
    const line = describePackRun(r);
    if (line !== undefined) lines.push(`process ${r.pid} ${r.entry ?? ''}:`, line);
  }
  return lines.join('\n') + '\n';
}

/** One JSON line per process, as the register side appends them; unreadable lines are skipped. */
function readReports<T>(file: string): T[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return []; // no process reported
  }
  return text.split('\n').filter((l) => l.trim() !== '').flatMap((l) => {
    try {
      return [JSON.parse(l) as T];
    } catch {
      return [];
    }
  });
}

export async function run(argv: string[]): Promise<number> {
  const dash = argv.indexOf('--');
  const options = dash === -1 ? argv : argv.slice(0, dash);
  const command = dash === -1 ? [] : argv.slice(dash + 1);
  let json = false;
  let indexFlag: string | undefined;
  let packFlag: string | undefined;
  for (let i = 0; i < options.length; i++) {
    const arg = options[i]!;
    if (arg === '--json') json = true;
    else if (arg === '--index' || arg === '--pack') {
      const value = options[++i];
      if (value === undefined || value === '' || value.startsWith('-')) throw new UsageError(`${arg} needs a file`, commands.doctor.usage);
      if (arg === '--index') indexFlag = value;
      else packFlag = value;
    } else throw new UsageError(`unknown option '${arg}'`, commands.doctor.usage);
  }
  const before = status(indexFlag);
  const pack = packStatus(packFlag);
  if (command.length === 0) {
    process.stdout.write(json ? JSON.stringify({ ...before, pack }, null, 2) + '\n' : describe(before) + describePack(pack));
    // Both caches are optional: only one that runs would ignore (stale, refused) fails the check.
    const bad = (state: string): boolean => state === 'stale' || state === 'corrupt' || state === 'refused' || state === 'no-project';
    return bad(before.state) || bad(pack.state) ? exitCodes.failed : exitCodes.ok;
  }
  const dir = mkdtempSync(join(tmpdir(), 'coldstart-doctor-'));
  const statsFile = join(dir, 'index-stats.jsonl');
  const packStatsFile = join(dir, 'pack-stats.jsonl');
  try {
    const env: NodeJS.ProcessEnv = { ...process.env, COLDSTART_INDEX_STATS: statsFile, COLDSTART_PACK_STATS: packStatsFile };
    if (indexFlag !== undefined) env['COLDSTART_INDEX'] = indexFlag;
    if (packFlag !== undefined) env['COLDSTART_PACK'] = packFlag;
    const options = env['NODE_OPTIONS'] ?? '';
    if (!/coldstart\/register|register\.(c?js)/.test(options)) {
      const register = pathToFileURL(join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '../../register.js')).href;
      env['NODE_OPTIONS'] = `${options} --import=${register}`.trim();
    }
    const result = await runChild(command, env);
    const reports = readReports<IndexRunReport>(statsFile);
    const packReports = readReports<PackRunReport>(packStatsFile);
    process.stderr.write(
      json ? JSON.stringify({ index: before, pack, runs: reports, packRuns: packReports }, null, 2) + '\n' : describe(before) + describePack(pack) + describeRun(reports, packReports),
    );
    return result.code;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
