// A program whose recorded run loaded fewer than 40 modules gets plain Node on a local disk:
// opening the pack and the index costs it more than serving saves (src/step-aside.ts). On Node
// 22+ the register loader decides from the pack's start line and never loads the core; the core
// decides the same from the header when a report is asked for, and `coldstart doctor` says why.
// Node 20 gets no new optimisation: it is served as before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, realpathSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dist, runCli, runNode, tempDir, writeTree } from '../helpers.mjs';

const register = join(dist, 'register.cjs');
const base = { COLDSTART_INDEX: '', COLDSTART_PACK: '', COLDSTART_PACK_VERIFY: '', COLDSTART_ROOT: '', COLDSTART_SHARED: '', COLDSTART_DEBUG: '' };
const stepsAside = Number(process.versions.node.split('.')[0]) >= 22;
const asideState = stepsAside ? 'aside' : 'used';
// Whether the core ran in the process: it keeps its state on this symbol.
const probe = 'console.log(require("small-lib"), typeof globalThis[Symbol.for("coldstart")]);';

function app(t, { modules = 2, coldstart, main = probe } = {}) {
  const dir = realpathSync(tempDir(t, 'coldstart-aside-'));
  const files = {
    'package.json': { name: 'app', private: true, ...(coldstart === undefined ? {} : { coldstart }) },
    'node_modules/.package-lock.json': '{"v":1}',
    'node_modules/small-lib/package.json': { name: 'small-lib', version: '1.0.0' },
    'node_modules/small-lib/index.js': `module.exports = [${Array.from({ length: modules - 1 }, (_, i) => `require("./m${i}")`).join(', ')}].length;`,
    'main.js': main,
  };
  for (let i = 0; i < modules - 1; i++) files[`node_modules/small-lib/m${i}.js`] = `module.exports = ${i};`;
  writeTree(dir, files);
  return dir;
}

function pack(dir, flags = [], args = []) {
  const built = runCli(['pack', '--json', ...flags, '--', process.execPath, 'main.js', ...args], { cwd: dir, env: base });
  assert.equal(built.code, 0, built.stderr);
  return JSON.parse(built.stdout);
}

/** A run with the reports coldstart doctor reads (they make the core load, and it decides). */
function reported(dir, env = {}, args = []) {
  const stats = join(dir, `stats-${Math.random().toString(36).slice(2)}.jsonl`);
  const result = runNode(['--require', register, 'main.js', ...args], { cwd: dir, env: { ...base, COLDSTART_INDEX_STATS: stats, COLDSTART_PACK_STATS: stats, ...env } });
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
  // Node 22+: the core never loaded. Node 20: it loaded and served as before.
  assert.equal(run.stdout, stepsAside ? plain.stdout : plain.stdout.replace('undefined', 'object'));
  const seen = reported(dir);
  assert.equal(seen.pack.state, asideState, JSON.stringify(seen.pack));
  if (stepsAside) {
    assert.match(seen.pack.reason, /main\.js loaded 3 modules: too few/);
    assert.equal(seen.index.state, 'aside', JSON.stringify(seen.index));
    assert.equal(seen.pack.counts.hits, 0);
  }
  // A tool's cache folder beside the packages changes nothing installed: still plain Node, and
  // the register loader still decides without the core.
  mkdirSync(join(dir, 'node_modules/.vite-temp'));
  const later = runNode(['--require', register, 'main.js'], { cwd: dir, env: base });
  assert.equal(later.stdout, run.stdout);
  assert.equal(reported(dir).pack.state, asideState);
  // Doctor, asked about the pack alone, names the program it steps aside for.
  const doctor = runCli(['doctor'], { cwd: dir, env: base });
  if (stepsAside) assert.match(doctor.stdout, /pack state: +fresh: .*but for main\.js \(3 modules\): too small for serving to pay, coldstart steps aside for it on a local disk\n/);
  else assert.doesNotMatch(doctor.stdout, /steps aside/);
  // A pack kept elsewhere is rebuilt there: the hint names it.
  const elsewhere = join(dir, 'elsewhere.pack');
  pack(dir, ['--out', elsewhere]);
  // A field resolution reads changes (a version bump alone would leave the pack in use).
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ ...JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')), type: 'commonjs' }));
  const stale = runCli(['doctor', '--pack', elsewhere], { cwd: dir, env: base });
  assert.ok(stale.stdout.includes(`(coldstart pack --json --out ${elsewhere} -- ${process.execPath} main.js)`), stale.stdout);
  assert.match(stale.stdout, /STALE \(package\.json changed\): /);
  // Asked from another folder, the rebuild goes back to where the pack was made.
  mkdirSync(join(dir, 'sub'));
  const fromSub = runCli(['doctor', '--pack', elsewhere], { cwd: join(dir, 'sub'), env: base });
  assert.ok(fromSub.stdout.includes(`(cd ${dir} && coldstart pack --json --out ${elsewhere} -- ${process.execPath} main.js)`), fromSub.stdout);
});

test('the same program is served when run with other arguments, or after an edit', (t) => {
  const dir = app(t);
  pack(dir, [], ['--version']);
  assert.equal(reported(dir, {}, ['--version']).pack.state, asideState);
  // Other arguments may make it load much more (webpack --version against a build).
  const other = reported(dir, {}, ['build']);
  assert.equal(other.pack.state, 'used', JSON.stringify(other.pack));
  assert.ok(other.pack.counts.hits > 0, JSON.stringify(other.pack.counts));
  const later = new Date(Date.now() + 5000);
  utimesSync(join(dir, 'main.js'), later, later);
  const edited = reported(dir, {}, ['--version']);
  assert.equal(edited.pack.state, 'used', JSON.stringify(edited.pack));
  assert.ok(edited.pack.counts.hits > 0, JSON.stringify(edited.pack.counts));
});

test('an auto-defer configuration, at pack time or added later, keeps the core', (t) => {
  const configured = app(t, { coldstart: { defer: ['small-lib'] } });
  assert.deepEqual(pack(configured).aside, []);
  const later = app(t);
  assert.equal(pack(later).aside.length, 1);
  writeFileSync(join(later, 'coldstart.config.json'), JSON.stringify({ defer: ['small-lib'] }));
  assert.equal(reported(later).pack.state, 'used');
});

test('a first-party module with import defer keeps the core: the syntax needs its transform', (t) => {
  const dir = app(t, { main: 'import defer * as lib from "./lib.mjs"; console.log("main", typeof globalThis[Symbol.for("coldstart")]); console.log(lib.value);' });
  writeFileSync(join(dir, 'lib.mjs'), 'export const value = 1;');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  const built = runCli(['pack', '--json', '--', process.execPath, '--require', register, 'main.js'], { cwd: dir, env: base });
  assert.equal(built.code, 0, built.stderr);
  assert.deepEqual(JSON.parse(built.stdout).aside, []);
  const run = runNode(['--require', register, 'main.js'], { cwd: dir, env: base });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /main object\n1/);
});

test('--always, a large program and a lazy pack that skips a large module are served', (t) => {
  const always = app(t);
  assert.deepEqual(pack(always, ['--always']).aside, []);
  assert.equal(reported(always).pack.state, 'used');
  const run = runNode(['--require', register, 'main.js'], { cwd: always, env: base });
  assert.match(run.stdout, /object/, 'the core ran');

  const large = app(t, { modules: 45 });
  assert.deepEqual(pack(large).aside, []);
  assert.equal(reported(large).pack.state, 'used');

  // A small program whose learned deferral skips 200 kB: worth serving (the demo's typescript).
  const skips = app(t, { main: 'const big = require("big"); exports.run = () => big;\nconsole.log("small");' });
  writeTree(skips, {
    'node_modules/big/package.json': { name: 'big', version: '1.0.0' },
    'node_modules/big/index.js': `module.exports = ${JSON.stringify('x'.repeat(200 * 1024))}.length;`,
  });
  assert.deepEqual(pack(skips, ['--lazy']).aside, []);
  const small = app(t, { main: 'const lib = require("small-lib"); exports.run = () => lib;\nconsole.log("small");' });
  assert.equal(pack(small, ['--lazy']).aside.length, 1, 'what it skips is small');
});

test('the register loader trusts the pack as the core does, and COLDSTART_SHARED=1 always serves', (t) => {
  const dir = app(t);
  pack(dir);
  const packFile = join(dir, 'node_modules/.cache/coldstart/pack.v1');
  chmodSync(packFile, 0o664);
  const run = runNode(['--require', register, 'main.js'], { cwd: dir, env: base });
  assert.match(run.stdout, /object/, 'a pack others may write decides nothing: the core ran, and refused it');
  assert.equal(reported(dir).pack.state, 'refused');
  chmodSync(packFile, 0o644);
  const shared = reported(dir, { COLDSTART_SHARED: '1', COLDSTART_ROOT: dir });
  assert.equal(shared.pack.state, 'used', JSON.stringify(shared.pack));
});

test('an ES module program of the project, and runs with other resolution conditions, keep the core', (t) => {
  // Its own files get the defer transform whether the recording loaded them or not.
  const esm = app(t, { main: 'import lib from "small-lib"; console.log(lib);' });
  writeFileSync(join(esm, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  assert.deepEqual(pack(esm).aside, []);

  const dir = app(t);
  pack(dir);
  const conditioned = runNode(['--conditions=dev', '--require', register, 'main.js'], { cwd: dir, env: base });
  assert.match(conditioned.stdout, /object/, 'the register leaves a run with --conditions to the core');
  const stats = join(dir, 'stats.jsonl');
  runNode(['--conditions=dev', '--require', register, 'main.js'], { cwd: dir, env: { ...base, COLDSTART_PACK_STATS: stats } });
  assert.equal(JSON.parse(readFileSync(stats, 'utf8').trim()).state, 'used', 'the core compares the recorded conditions');
});

test('an installed bin run through its node_modules/.bin symlink: what a lazy pack skips is counted from the real file', (t) => {
  const dir = app(t);
  writeTree(dir, {
    'node_modules/tool/package.json': { name: 'tool', version: '1.0.0', bin: { tool: 'cli.js' } },
    'node_modules/tool/cli.js': 'const big = require("big"); exports.run = () => big;\nconsole.log("tool");',
    'node_modules/big/package.json': { name: 'big', version: '1.0.0' },
    'node_modules/big/index.js': `module.exports = ${JSON.stringify('x'.repeat(200 * 1024))}.length;`,
  });
  mkdirSync(join(dir, 'node_modules/.bin'), { recursive: true });
  symlinkSync('../tool/cli.js', join(dir, 'node_modules/.bin/tool'));
  const built = runCli(['pack', '--lazy', '--json', '--', process.execPath, 'node_modules/.bin/tool'], { cwd: dir, env: base });
  assert.equal(built.code, 0, built.stderr);
  assert.deepEqual(JSON.parse(built.stdout).aside, []);
});
