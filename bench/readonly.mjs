#!/usr/bin/env node
// `npm run bench:readonly`: a read-only shared install (docs/scale.md). Copies the benchmark
// programs with coldstart installed among them, builds the index and one pack per program on the
// writable tree, mounts the same tree read-only (FUSE, kernel caches off), and runs every program
// with COLDSTART_SHARED=1. Checks, for each: the output and exit code equal plain Node's on that
// mount, the index and the pack were used (the run's reports, and `coldstart doctor`), and no
// call tried to write there (strace). Writes bench/results/readonly.md; exits 1 on any failure.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fuseUnavailable, mountFuseTree } from './lib/fuse.mjs';
import { cleanEnv, difference, runOnce } from './lib/measure.mjs';
import { countOnMount } from './lib/mountops.mjs';
import { selectScenarios } from './lib/scenarios.mjs';
import { ensureDeps, findNode, findTools, log } from './lib/setup.mjs';

const benchDir = import.meta.dirname;
const repoRoot = join(benchDir, '..');
const work = join(benchDir, '.work');

function lastReport(file, entry) {
  try {
    const reports = readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((line) => JSON.parse(line));
    return reports.find((r) => r.entry === entry) ?? reports[0];
  } catch {
    return undefined;
  }
}

async function main() {
  const nodeSpec = process.argv.includes('--node') ? process.argv[process.argv.indexOf('--node') + 1] : '24';
  ensureDeps(benchDir, 'the benchmark programs');
  ensureDeps(join(repoRoot, 'examples', 'demo'), 'the demo CLI', { onlyIfMissing: true });
  const tools = findTools();
  const why = fuseUnavailable(tools) ?? (tools.strace ? null : 'strace is not installed');
  if (why) {
    process.stderr.write(`bench:readonly: ${why}\n`);
    return 1;
  }
  const node = findNode(nodeSpec, work);
  const tree = mountFuseTree(repoRoot, work, 'readonly');
  const reports = join(work, 'readonly-reports');
  rmSync(reports, { recursive: true, force: true });
  mkdirSync(reports, { recursive: true });
  const bin = join(tree.coldstart, 'bin', 'coldstart.cjs');
  const register = join(tree.coldstart, 'dist', 'register.cjs');
  const { chosen } = selectScenarios(tree.root);
  const rows = [];
  let failed = 0;
  try {
    // At install time, on the writable tree: an index per project, a pack per program.
    const indexed = new Set();
    const packs = new Map();
    for (const scenario of chosen) {
      const project = join(tree.root, scenario.project);
      const cli = (args, cwd) => runOnce({ file: node.path, args: [bin, ...args], cwd, env: cleanEnv() });
      if (!indexed.has(project)) {
        const r = cli(['index', project], project);
        if (r.code !== 0) throw new Error(`coldstart index ${scenario.project}: ${r.stderr.trim()}`);
        indexed.add(project);
      }
      const pack = join(project, 'node_modules', '.cache', 'coldstart', `${scenario.id}.pack`);
      const r = cli(['pack', '--lazy', '--out', pack, '--', node.path, join(tree.root, scenario.entry), ...scenario.args], join(tree.root, scenario.cwd));
      if (r.code !== 0) throw new Error(`coldstart pack for ${scenario.id}: ${r.stderr.trim().split('\n').at(-1)}`);
      packs.set(scenario.id, pack);
    }
    tree.remount(true);
    log(`${tree.root} is now mounted read-only`);
    for (const scenario of chosen) {
      const entry = join(tree.root, scenario.entry);
      const cwd = join(tree.root, scenario.cwd);
      const plain = runOnce({ file: node.path, args: [entry, ...scenario.args], cwd, env: cleanEnv() });
      const stats = join(reports, `${scenario.id}.jsonl`);
      const env = cleanEnv({ COLDSTART_SHARED: '1', COLDSTART_PACK: packs.get(scenario.id), COLDSTART_PACK_STATS: stats, COLDSTART_INDEX_STATS: stats });
      const command = { file: node.path, args: ['--require', register, entry, ...scenario.args], cwd, env };
      const shared = runOnce(command);
      const problem = difference(plain, shared);
      const packReport = lastReport(stats, entry);
      const all = readFileSync(stats, 'utf8').trim().split('\n').map((line) => JSON.parse(line)).filter((r) => r.entry === entry);
      const indexReport = all.find((r) => 'sectionsLoaded' in r);
      const servedPack = all.find((r) => 'modules' in r) ?? packReport;
      const counted = countOnMount({ ...command, env: { ...env, COLDSTART_PACK_STATS: '', COLDSTART_INDEX_STATS: '' } }, tree.root);
      const doctor = runOnce({ file: node.path, args: [bin, 'doctor', '--pack', packs.get(scenario.id)], cwd: join(tree.root, scenario.project), env: cleanEnv({ COLDSTART_SHARED: '1' }) });
      const said = (label) => new RegExp(`^${label}:\\s+(\\w+)`, 'm').exec(doctor.stdout)?.[1] ?? '?';
      const ok = problem === null && indexReport?.state === 'used' && servedPack?.state === 'used' && counted.writes === 0 && !counted.error
        && said('state') === 'fresh' && said('pack state') === 'fresh' && /^mode:\s+shared install/m.test(doctor.stdout);
      if (!ok) failed++;
      rows.push([
        scenario.title,
        problem === null ? 'same' : `DIFFERS: ${problem}`,
        `${indexReport?.state ?? 'no report'}${indexReport?.shared ? ' (shared)' : ''}`,
        servedPack?.state === 'used' ? `used: ${servedPack.counts.hits} modules served` : `${servedPack?.state ?? 'no report'}${servedPack?.reason ? ` (${servedPack.reason})` : ''}`,
        `${said('state')}, ${said('pack state')}, ${/^mode:\s+shared install/m.test(doctor.stdout) ? 'shared' : 'NOT shared'}`,
        counted.error ? `strace failed: ${counted.error}` : `${counted.ops} (${counted.failed})`,
        String(counted.writes ?? '?'),
        ok ? 'ok' : 'FAILED',
      ]);
      log(`${scenario.id}: ${ok ? 'ok' : 'FAILED'}`);
    }
  } finally {
    tree.close();
  }
  const table = [
    '| program | output vs plain Node | index | pack | doctor: index, pack, mode | ops on the mount (failed) | write attempts there | |',
    '|---|---|---|---|---|--:|--:|---|',
    ...rows.map((row) => `| ${row.map((cell) => String(cell).replaceAll('|', '\\|')).join(' | ')} |`),
  ];
  const text = [
    '# Read-only shared install',
    '',
    `${new Date().toISOString()} · Node ${node.version} · the benchmark programs on a read-only FUSE mount (bindfs ro, kernel caches off), coldstart installed in the tree, index and one lazy pack per program built before the tree was made read-only, every run with \`COLDSTART_SHARED=1\`. Reproduce: \`npm run bench:readonly\`.`,
    '',
    ...table,
    '',
  ].join('\n');
  const out = join(benchDir, 'results', 'readonly.md');
  writeFileSync(out, text);
  process.stdout.write(text);
  log(`wrote ${out}`);
  return failed === 0 ? 0 : 1;
}

process.exitCode = await main();
