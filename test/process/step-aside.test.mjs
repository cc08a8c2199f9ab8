// A program whose recorded run loaded fewer than 40 modules gets plain Node on a local disk:
// opening the pack and the index costs it more than serving saves (src/step-aside.ts). On Node
// 22+ the register loader decides from the pack's start line and never loads the core; on every
// Node the core decides the same from the header, and `coldstart doctor` says why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, realpathSync, rmSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { dist, runCli, runNode, tempDir, writeTree } from '../helpers.mjs';

const register = join(dist, 'register.cjs');
const base = { COLDSTART_INDEX: '', COLDSTART_PACK: '', COLDSTART_PACK_VERIFY: '', COLDSTART_ROOT: '', COLDSTART_SHARED: '', COLDSTART_DEBUG: '' };
const registerDecides = Number(process.versions.node.split('.')[0]) >= 22;
// Whether the core ran in the process: it keeps its state on this symbol.
const probe = 'console.log(require("small-lib"), typeof globalThis[Symbol.for("coldstart")]);';

function app(t, { modules = 2, coldstart } = {}) {
  const dir = realpathSync(tempDir(t, 'coldstart-aside-'));
  const files = {
    'package.json': { name: 'app', private: true, ...(coldstart === undefined ? {} : { coldstart }) },
    'node_modules/.package-lock.json': '{"v":1}',
    'node_modules/small-lib/package.json': { name: 'small-lib', version: '1.0.0' },
    'node_modules/small-lib/index.js': `module.exports = [${Array.from({ length: modules - 1 }, (_, i) => `require("./m${i}")`).join(', ')}].length;`,
    'main.js': probe,
  };
  for (let i = 0; i < modules - 1; i++) files[`node_modules/small-lib/m${i}.js`] = `module.exports = ${i};`;
  writeTree(dir, files);
  return dir;
}

function pack(dir, ...flags) {
  const built = runCli(['pack', '--json', ...flags, '--', process.execPath, 'main.js'], { cwd: dir, env: base });
  assert.equal(built.code, 0, built.stderr);
  return JSON.parse(built.stdout);
}

/** A run with the reports coldstart doctor reads (they make the core load, and it decides). */
function reported(dir, env = {}) {
  const stats = join(dir, `stats-${Math.random().toString(36).slice(2)}.jsonl`);
  const result = runNode(['--require', register, 'main.js'], { cwd: dir, env: { ...base, COLDSTART_INDEX_STATS: stats, COLDSTART_PACK_STATS: stats, ...env } });
  assert.equal(result.code, 0, result.stderr);
  const reports = readFileSync(stats, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
  rmSync(stats);
  return { ...result, index: reports.find((r) => 'sectionsLoaded' in r), pack: reports.find((r) => 'modules' in r) };
}

test('a small program: the pack says so, the run is plain Node, and doctor says why', (t) => {
  const dir = app(t);
  const summary = pack(dir);
  assert.deepEqual(summary.aside, [{ entry: 'main.js', modules: 3 }]);
  const plain = runNode(['main.js'], { cwd: dir });
  const run = runNode(['--require', register, 'main.js'], { cwd: dir, env: base });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stderr, '');
  // Node 22+: the core never loaded. Node 20: it loaded and stepped aside, installing nothing.
  assert.equal(run.stdout, registerDecides ? plain.stdout : plain.stdout.replace('undefined', 'object'));
  const seen = reported(dir);
  assert.equal(seen.pack.state, 'aside', JSON.stringify(seen.pack));
  assert.match(seen.pack.reason, /main\.js loaded 3 modules: too few/);
  assert.equal(seen.index.state, 'aside', JSON.stringify(seen.index));
  assert.deepEqual(seen.pack.counts.hits, 0);
});

test('an edited entry is served: its recorded size no longer says anything about it', (t) => {
  const dir = app(t);
  pack(dir);
  const later = new Date(Date.now() + 5000);
  utimesSync(join(dir, 'main.js'), later, later);
  const edited = reported(dir);
  assert.equal(edited.pack.state, 'used', JSON.stringify(edited.pack));
  assert.ok(edited.pack.counts.hits > 0, JSON.stringify(edited.pack.counts));
});

test('--always, a large program and an auto-defer configuration are served', (t) => {
  const always = app(t);
  assert.deepEqual(pack(always, '--always').aside, []);
  assert.equal(reported(always).pack.state, 'used');
  const run = runNode(['--require', register, 'main.js'], { cwd: always, env: base });
  assert.match(run.stdout, /object/, 'the core ran');

  const large = app(t, { modules: 45 });
  assert.deepEqual(pack(large).aside, []);
  assert.equal(reported(large).pack.state, 'used');

  const configured = app(t, { coldstart: { defer: ['small-lib'] } });
  assert.deepEqual(pack(configured).aside, []);
});

test('COLDSTART_SHARED=1 serves a small program too (a cluster pays a round trip per lookup)', (t) => {
  const dir = app(t);
  pack(dir);
  const seen = reported(dir, { COLDSTART_SHARED: '1', COLDSTART_ROOT: dir });
  assert.equal(seen.pack.state, 'used', JSON.stringify(seen.pack));
});
