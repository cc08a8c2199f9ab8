// The benchmark suite keeps working: its pure parts (strace parsing, output comparison, options,
// report and chart) on fixed inputs, and `bench/run.mjs --smoke` end to end when bench/'s
// programs are installed (npm test never installs them; `npm run bench` does).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { installedTree, tempDir, root } from '../helpers.mjs';
import { countInstructions, difference, normalise, parseCallgrindTotal, parseStraceSummary, stats } from '../../bench/lib/measure.mjs';
import { UsageError, parseOptions } from '../../bench/lib/options.mjs';
import { markdown } from '../../bench/lib/report.mjs';
import { svgChart } from '../../bench/lib/chart.mjs';

const straceTable = `% time     seconds  usecs/call     calls    errors syscall
------ ----------- ----------- --------- --------- ----------------
 41.20    0.004100           3      1317       705 statx
 30.00    0.003000           9       330        37 openat
 20.00    0.002000           2       703           read
  8.80    0.000880           4       200           readlink
------ ----------- ----------- --------- --------- ----------------
100.00    0.009980           3      2550       742 total
`;

test('strace -c summary: file calls exclude read(), failures summed, total line ignored', () => {
  const counts = parseStraceSummary(straceTable);
  assert.equal(counts.file, 1317 + 330 + 200);
  assert.equal(counts.failed, 705 + 37);
  assert.equal(counts.reads, 703);
  assert.deepEqual(counts.bySyscall.statx, { calls: 1317, errors: 705 });
  assert.equal(counts.bySyscall.total, undefined);
});

test('output comparison forgives trailing whitespace only', () => {
  const want = { code: 0, stdout: 'v9.39.5\n' };
  const cases = [
    ['identical', { code: 0, stdout: 'v9.39.5\n' }, null],
    ['trailing spaces and newlines', { code: 0, stdout: 'v9.39.5   \n\n' }, null],
    ['exit code', { code: 2, stdout: 'v9.39.5\n', stderr: 'Error: boom\n' }, 'exit 2 instead of 0 (Error: boom)'],
    ['leading space is a difference', { code: 0, stdout: ' v9.39.5\n' }, 'stdout differs at line 1: " v9.39.5" instead of "v9.39.5"'],
    ['extra line', { code: 0, stdout: 'v9.39.5\nmore\n' }, 'stdout differs at line 2: "more" instead of "<end>"'],
    ['killed', { code: null, signal: 'SIGKILL', stdout: '' }, 'killed by SIGKILL'],
  ];
  for (const [name, got, expected] of cases) assert.equal(difference(want, { stderr: '', ...got }), expected, name);
  assert.equal(normalise('a \r\nb\t\n\n'), 'a\nb');
});

test('stats: median of odd and even samples, min and max', () => {
  assert.deepEqual(stats([30, 10, 20]), { median: 20, min: 10, max: 30, runs: 3 });
  assert.deepEqual(stats([4, 1, 3, 2]), { median: 2.5, min: 1, max: 4, runs: 4 });
});

test('options: profiles, overrides, plain always compared, bad usage rejected', () => {
  const smoke = parseOptions(['--smoke']);
  assert.deepEqual([smoke.runs, smoke.fs, smoke.scenarios, smoke.variants], [1, ['local'], ['eslint-version'], ['plain', 'coldstart']]);
  const quick = parseOptions(['--quick', '--runs', '5', '--variant', 'esbuild', '--many', '0']);
  assert.deepEqual([quick.runs, quick.fuseRuns, quick.variants, quick.many], [5, 5, ['plain', 'esbuild'], []]);
  assert.throws(() => parseOptions(['--fs', 'nfs']), UsageError);
  assert.throws(() => parseOptions(['--runs']), UsageError);
  assert.throws(() => parseOptions(['--frobnicate']), /unknown option '--frobnicate'/);
  assert.equal(parseOptions(['--quick']).instructions, false);
  assert.equal(parseOptions(['--quick', '--instructions']).instructions, true);
});

test('callgrind output: the instruction total in millions, from summary: or totals:', () => {
  assert.equal(parseCallgrindTotal('# callgrind format\nversion: 1\nevents: Ir\nsummary: 94213377\n\nfn=(1) main\n'), 94.2);
  assert.equal(parseCallgrindTotal('events: Ir\nfn=x\n1 5\ntotals: 382749001\n'), 382.7);
  assert.equal(parseCallgrindTotal('events: Ir\nfn=x\n1 5\n'), null);
});

test('instruction counts repeat run to run under the steady V8 flags, and a failing command says so', (t) => {
  if (spawnSync('valgrind', ['--version']).status !== 0) {
    t.skip('valgrind is not installed');
    return;
  }
  const env = { ...process.env, NODE_OPTIONS: '' };
  const command = { file: process.execPath, args: ['-e', 'let s = 0; for (let i = 0; i < 1e5; i++) s += i; process.stdout.write(String(s))'], env, cwd: root };
  const first = countInstructions(command);
  const second = countInstructions(command);
  assert.ok(first.millions > 10, JSON.stringify(first));
  assert.ok(Math.abs(first.millions - second.millions) / first.millions < 0.005, `${first.millions} M then ${second.millions} M`);
  assert.match(countInstructions({ ...command, args: ['-e', 'process.exit(3)'] }).error, /exit 3/);
});

function sampleDoc() {
  const base = { fs: 'fuse', node: '24', nodeVersion: 'v24.0.0', scenario: 'eslint-version', scenarioTitle: 'eslint --version',
    samples: [], syscalls: null, rssKiB: 70000, reason: null, runs: 3 };
  return {
    profile: 'quick', date: '2026-01-01T00:00:00.000Z', runs: 3, fuseRuns: 3, skipped: ['scenario demo-help: missing'], notes: [],
    machine: { cpu: 'Test CPU', cores: 2, memGiB: 8, os: 'Linux', load: [0, 0, 0] },
    nodes: [{ label: '24', version: 'v24.0.0' }],
    results: [
      { ...base, variant: 'plain', variantTitle: 'node', status: 'ok', median: 800, min: 790, max: 820, ratio: 1 },
      { ...base, variant: 'coldstart', variantTitle: 'coldstart index', status: 'ok', median: 200, min: 190, max: 230, ratio: 0.25 },
      { ...base, variant: 'esbuild', variantTitle: 'esbuild bundle', status: 'broken', reason: 'exit 2 instead of 0', median: null, ratio: null },
    ],
    many: [{ ...base, launcher: 'mpirun', n: 32, variant: 'plain', variantTitle: 'node', status: 'ok', median: 12000, min: 11000, max: 13000, ratio: 1 }],
  };
}

test('report: instruction columns only when the run counted them', () => {
  const doc = sampleDoc();
  doc.results[0].fs = doc.results[1].fs = doc.results[2].fs = 'local';
  assert.doesNotMatch(markdown(doc), /M instructions/);
  doc.results[0].instructions = { millions: 666.9 };
  doc.results[1].instructions = { millions: 285.1 };
  doc.results[1].instructionRatio = 0.428;
  const text = markdown(doc);
  assert.match(text, /\| peak RSS MiB \| M instructions \| instr\. vs node \|/);
  assert.match(text, /\| eslint --version \| coldstart index \| 200 \| 190-230 \| 0\.25x \|[^\n]*\| 285\.1 \| 0\.43x \|/);
});

test('report: headline pivot, broken variants labelled and not timed, many-process table', () => {
  const text = markdown(sampleDoc());
  assert.match(text, /\| coldstart index \| 200 ms \(0\.25x\) \|/);
  assert.match(text, /\| eslint --version \| esbuild bundle \| BROKEN: exit 2 instead of 0 \|/);
  assert.match(text, /\| Node 24, mpirun \| 32 x eslint --version \| node \| 12000 \(11000-13000\) \| 1\.00x \|/);
  assert.match(text, /- skipped: scenario demo-help: missing/);
  const svg = svgChart(sampleDoc());
  assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.match(svg, />200 ms \(0\.25x\)</);
  assert.match(svg, />broken: output differs</);
});

test('bench/run.mjs --smoke runs end to end and writes JSON, Markdown and SVG', (t) => {
  installedTree('bench/node_modules/eslint/package.json');
  const out = tempDir(t, 'coldstart-bench-smoke-');
  const result = spawnSync(process.execPath, [join(root, 'bench', 'run.mjs'), '--smoke', '--out', out], {
    encoding: 'utf8', timeout: 120_000, env: { ...process.env, NODE_OPTIONS: '' },
  });
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /\| eslint --version \| node \| \d/);
  const doc = JSON.parse(readFileSync(join(out, 'smoke.json'), 'utf8'));
  const plain = doc.results.find((r) => r.variant === 'plain');
  assert.equal(plain.status, 'ok');
  assert.equal(plain.samples.length, 1);
  const coldstart = doc.results.find((r) => r.variant === 'coldstart');
  assert.ok(['ok', 'broken', 'setup-failed'].includes(coldstart.status), coldstart.status);
  if (coldstart.status !== 'ok') assert.ok(coldstart.reason, 'a variant that is not timed says why');
  assert.match(readFileSync(join(out, 'smoke.svg'), 'utf8'), /<svg /);
  assert.ok(existsSync(join(out, 'smoke.md')));
});
