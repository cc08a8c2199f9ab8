// The index under `coldstart/register` in real processes: zero-config build, hits counted,
// stale trees (install, uninstall, upgrade, new file), bad index files, 32 racing first runs,
// and failed file syscalls under strace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { readAnswerTable, tempDir, writeTree, runNode, runCli, dist } from '../helpers.mjs';
const { FORMAT_VERSION } = await import(join(dist, 'locations', 'format.js'));

const register = pathToFileURL(join(dist, 'register.js')).href;
const indexRel = 'node_modules/.cache/coldstart/index.v1';

function project(t) {
  const root = realpathSync(tempDir(t, 'coldstart-hooks-'));
  writeTree(root, {
    'package.json': { name: 'app', private: true },
    'node_modules/.package-lock.json': '{"v":1}',
    'node_modules/foo/package.json': { name: 'foo', version: '1.0.0', main: 'main.js' },
    'node_modules/foo/main.js': 'module.exports = "foo@1";',
    'node_modules/foo/lib/util.js': 'module.exports = "util";',
    'node_modules/esm-only/package.json': { name: 'esm-only', type: 'module', exports: { '.': './index.js' } },
    'node_modules/esm-only/index.js': 'export default "esm";',
    'app.cjs': [
      'const out = [require("foo"), require("foo/lib/util")];',
      'for (const name of ["bar", "foo/lib/extra"]) { try { out.push(require(name)); } catch (e) { out.push(e.code); } }',
      'console.log(out.join(" "));',
    ].join('\n'),
    'app.mjs': 'import x from "esm-only"; import foo from "foo"; console.log(x, foo);',
  });
  return root;
}

/** Runs `node --import register app` in `root` with stats; returns { stdout, report }. */
function run(root, app = 'app.cjs', env = {}) {
  const stats = join(root, 'stats.jsonl');
  rmSync(stats, { force: true });
  // A program this small gets plain Node once a run has learned its size: these runs are the index's.
  const result = runNode(['--import', register, app], { cwd: root, env: { COLDSTART_INDEX_STATS: stats, COLDSTART_STEP_ASIDE: '0', ...env } });
  assert.equal(result.code, 0, result.stderr);
  const report = JSON.parse(readFileSync(stats, 'utf8').trim().split('\n')[0]);
  return { ...result, report };
}

test('the first run builds the index, later runs resolve from it; output equals plain Node', (t) => {
  const root = project(t);
  const plain = runNode(['app.cjs'], { cwd: root });
  const first = run(root);
  assert.equal(first.report.state, 'built');
  assert.equal(first.stdout, plain.stdout);
  assert.ok(existsSync(join(root, indexRel)));
  const second = run(root);
  assert.equal(second.report.state, 'used');
  assert.equal(second.stdout, 'foo@1 util MODULE_NOT_FOUND MODULE_NOT_FOUND\n');
  assert.equal(second.report.counts.hits, 2);
  assert.equal(second.report.counts.notFound, 2);
  const esm = run(root, 'app.mjs');
  assert.equal(esm.stdout, runNode(['app.mjs'], { cwd: root }).stdout);
  if (process.features.require_module !== undefined && typeof (await_import_module()).registerHooks === 'function') {
    assert.ok(esm.report.counts.hits >= 2, JSON.stringify(esm.report.counts));
  }
});

test('off-thread hooks registered by the program (module.register) still see every import after the call', (t) => {
  const root = project(t);
  writeFileSync(
    join(root, 'late.mjs'),
    [
      'import x from "esm-only";',
      'import { register } from "node:module";',
      'register("data:text/javascript,export async function resolve(s, c, n) { if (!s.startsWith(\'node:\')) (await import(\'node:fs\')).writeSync(1, \'seen \' + s + \'\\\\n\'); return n(s, c); }");',
      'const foo = (await import("foo")).default;',
      'console.log(x, foo);',
      '',
    ].join('\n'),
  );
  const plain = runNode(['late.mjs'], { cwd: root });
  assert.equal(plain.code, 0, plain.stderr);
  assert.match(plain.stdout, /seen foo\nesm foo@1\n/);
  // The run that builds the index too: the builder's ES module view of node:module must not
  // hand the program Node's functions from before coldstart watched them.
  const first = run(root, 'late.mjs');
  assert.equal(first.report.state, 'built');
  assert.equal(first.stdout, plain.stdout);
  const served = run(root, 'late.mjs');
  assert.equal(served.stdout, plain.stdout);
});

test('relative imports between first-party files go to Node at once; inside node_modules the index answers them', (t) => {
  const root = project(t);
  writeTree(root, {
    'src/main.mjs': 'import { up } from "../up.mjs"; import lib from "./lib/index.cjs"; import util from "foo/lib/util.js"; console.log(up, lib, util);',
    'up.mjs': 'export const up = "up";',
    'src/lib/index.cjs': 'module.exports = require("./dir") + require("..//lib/../lib/leaf.cjs");',
    'src/lib/dir/index.js': 'module.exports = "dir+";',
    'src/lib/leaf.cjs': 'module.exports = "leaf";',
    'node_modules/foo/lib/util.js': 'module.exports = require("./near.js");',
    'node_modules/foo/lib/near.js': 'module.exports = "near";',
  });
  const plain = runNode(['src/main.mjs'], { cwd: root });
  assert.equal(plain.stdout, 'up dir+leaf near\n', plain.stderr);
  run(root, 'src/main.mjs'); // builds the index
  const used = run(root, 'src/main.mjs', { COLDSTART_DEBUG: '1' });
  assert.equal(used.report.state, 'used');
  assert.equal(used.stdout, plain.stdout);
  const handed = used.stderr.split('\n').filter((line) => line.includes('first-party files are Node\'s to find'));
  // ../up.mjs and ./lib/index.cjs from main.mjs (where registerHooks sees imports), ./dir and
  // the un-normalised ../lib/leaf.cjs from lib/index.cjs.
  assert.ok(handed.some((line) => line.includes('./dir from')), used.stderr);
  assert.ok(handed.some((line) => line.includes('..//lib/../lib/leaf.cjs from')), used.stderr);
  assert.ok(!used.stderr.includes('./near.js from'), 'a relative require inside a package is answered by the index');
  assert.ok(used.report.counts.hits >= 2, JSON.stringify(used.report.counts));
});

function await_import_module() {
  return process.getBuiltinModule('node:module');
}

test('stale trees: install, uninstall, upgrade and a new file give Node\'s answers', (t) => {
  const root = project(t);
  run(root);
  // install: a new package and the lockfile npm rewrites
  writeTree(root, { 'node_modules/bar/package.json': { name: 'bar' }, 'node_modules/bar/index.js': 'module.exports = "bar";', 'node_modules/.package-lock.json': '{"v":2}' });
  let r = run(root);
  assert.equal(r.report.state, 'built');
  assert.equal(r.stdout, 'foo@1 util bar MODULE_NOT_FOUND\n');
  // upgrade: foo's main moves
  rmSync(join(root, 'node_modules/foo'), { recursive: true });
  writeTree(root, { 'node_modules/foo/package.json': { name: 'foo', version: '2.0.0', main: 'v2.js' }, 'node_modules/foo/v2.js': 'module.exports = "foo@2";', 'node_modules/foo/lib/util.js': 'module.exports = "util2";', 'node_modules/.package-lock.json': '{"v":3}' });
  r = run(root);
  assert.equal(r.stdout, 'foo@2 util2 bar MODULE_NOT_FOUND\n');
  // uninstall
  rmSync(join(root, 'node_modules/bar'), { recursive: true });
  writeFileSync(join(root, 'node_modules/.package-lock.json'), '{"v":4}');
  r = run(root);
  assert.equal(r.stdout, 'foo@2 util2 MODULE_NOT_FOUND MODULE_NOT_FOUND\n');
  assert.equal(run(root).report.state, 'used');
  // a new file by hand, no package manager: the index's miss is confirmed by Node, which finds it
  writeTree(root, { 'node_modules/foo/lib/extra.js': 'module.exports = "extra";' });
  r = run(root);
  assert.equal(r.report.state, 'used');
  assert.equal(r.stdout, 'foo@2 util2 MODULE_NOT_FOUND extra\n');
});

test('a corrupt, foreign-version or group-writable index is ignored and the program runs as plain Node', (t) => {
  const root = project(t);
  run(root);
  const file = join(root, indexRel);
  const expected = 'foo@1 util MODULE_NOT_FOUND MODULE_NOT_FOUND\n';
  const noBuild = { COLDSTART_INDEX_BUILD: '0', COLDSTART_DEBUG: '1' };
  writeFileSync(file, `coldstart-index\n${FORMAT_VERSION}\n99 0\n{"version":${FORMAT_VERSION}}`);
  let r = run(root, 'app.cjs', noBuild);
  assert.equal(r.stdout, expected);
  assert.equal(r.report.state, 'corrupt');
  assert.match(r.stderr, /coldstart: index: .*truncated/);
  writeFileSync(file, 'coldstart-index\n7\n2\n{}');
  r = run(root, 'app.cjs', noBuild);
  assert.equal(r.stdout, expected);
  assert.match(r.report.reason, /format 7/);
  // A corrupt index is built anew by the next run that may build, not ignored run after run.
  r = run(root);
  assert.equal(r.report.state, 'built');
  assert.equal(run(root).report.state, 'used');
  // Refused files are not rebuilt over: someone else's file is left alone.
  run(root, 'app.cjs', { COLDSTART_INDEX_BUILD: '0' });
  rmSync(file);
  run(root);
  chmodSync(file, 0o666);
  r = run(root);
  assert.equal(r.stdout, expected);
  assert.equal(r.report.state, 'refused');
  assert.match(r.report.reason, /writable by group or others/);
  if (process.getuid?.() === 0) {
    chmodSync(file, 0o644);
    chownSync(file, 65534, 65534);
    r = run(root);
    assert.equal(r.stdout, expected);
    assert.equal(r.report.state, 'refused');
    assert.match(r.report.reason, /owned by uid 65534/);
  }
});

test('an index location that cannot be written leaves the program running as plain Node', (t) => {
  const root = project(t);
  writeFileSync(join(root, 'not-a-dir'), '');
  const r = run(root, 'app.cjs', { COLDSTART_INDEX: join(root, 'not-a-dir/index.v1') });
  assert.equal(r.stdout, 'foo@1 util MODULE_NOT_FOUND MODULE_NOT_FOUND\n');
  assert.equal(r.report.state, 'missing');
});

test('32 processes started at once with no index all succeed and leave one valid index', async (t) => {
  const root = project(t);
  const runs = Array.from({ length: 32 }, () => new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', register, 'app.cjs'], { cwd: root, env: { ...process.env, NODE_OPTIONS: '', COLDSTART_DEBUG: '' } });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.on('close', (code) => resolve({ code, out }));
  }));
  const results = await Promise.all(runs);
  for (const r of results) {
    assert.equal(r.code, 0);
    assert.equal(r.out, 'foo@1 util MODULE_NOT_FOUND MODULE_NOT_FOUND\n');
  }
  const dir = join(root, 'node_modules/.cache/coldstart');
  const left = readdirSync(dir).sort();
  const tables = left.filter((n) => n.startsWith('index.v1.answers-'));
  // What the runs learned of the program's size (src/step-aside-learn.ts), where Node can tell.
  const small = left.filter((n) => n.startsWith('small-'));
  assert.deepEqual(left.filter((n) => !tables.includes(n) && !small.includes(n)), ['index.v1'], 'no temp or lock files left');
  // The learned answers the racing processes wrote (last rename wins) must be one whole file.
  for (const table of tables) assert.equal(readAnswerTable(join(dir, table)).format, 'coldstart-answers/2');
  for (const name of small) assert.equal(JSON.parse(readFileSync(join(dir, name), 'utf8')).format, 'coldstart-small/1');
  const doctor = runCli(['doctor'], { cwd: root });
  assert.equal(doctor.code, 0, doctor.stdout);
  assert.match(doctor.stdout, /state: +fresh/);
});

test('coldstart resolve and doctor report what the index answers', (t) => {
  const root = project(t);
  const built = runCli(['index'], { cwd: root });
  assert.equal(built.code, 0, built.stderr);
  assert.match(built.stderr, /indexed 2 packages, \d+ files/);
  const r = runCli(['resolve', 'foo', '--from', join(root, 'app.cjs')], { cwd: root });
  assert.equal(r.stdout.split('\t')[0], join(root, 'node_modules/foo/main.js'));
  const esm = runCli(['resolve', 'esm-only', '--conditions', 'import', '--json'], { cwd: root });
  const answer = JSON.parse(esm.stdout);
  assert.equal(answer.path, join(root, 'node_modules/esm-only/index.js'));
  assert.equal(answer.format, 'module');
  const miss = runCli(['resolve', 'bar'], { cwd: root });
  assert.equal(miss.code, 1);
  assert.match(miss.stderr, /MODULE_NOT_FOUND/);
  const doctor = runCli(['doctor', '--', process.execPath, 'app.cjs'], { cwd: root });
  assert.equal(doctor.code, 0, doctor.stderr);
  assert.equal(doctor.stdout, 'foo@1 util MODULE_NOT_FOUND MODULE_NOT_FOUND\n');
  assert.match(doctor.stderr, /2 answered from the index, 2 misses/);
});

test('failed file syscalls drop with the index (strace)', (t) => {
  if (spawnSync('strace', ['-V']).status !== 0) return t.skip('strace is not installed');
  const root = project(t);
  const deps = {};
  for (let i = 0; i < 20; i++) {
    deps[`node_modules/dep${i}/package.json`] = { name: `dep${i}`, main: 'lib/index' };
    deps[`node_modules/dep${i}/lib/index.js`] = i === 19 ? 'module.exports = 19;' : `module.exports = require("dep${i + 1}");`;
  }
  writeTree(root, { ...deps, 'chain.cjs': 'console.log(require("dep0"));' });
  const failed = (args) => {
    const out = join(root, 'strace.txt');
    const r = spawnSync('strace', ['-f', '-qq', '-e', 'trace=file', '-o', out, process.execPath, ...args], { cwd: root, env: { ...process.env, NODE_OPTIONS: '' }, encoding: 'utf8' });
    assert.equal(r.stdout, '19\n', r.stderr);
    return readFileSync(out, 'utf8').split('\n').filter((l) => / = -1 /.test(l) && l.includes(root)).length;
  };
  const plain = failed(['chain.cjs']);
  runCli(['index'], { cwd: root });
  const indexed = failed(['--import', register, 'chain.cjs']);
  assert.ok(indexed * 2 < plain, `failed file syscalls in the project: ${plain} plain, ${indexed} with the index`);
});

test('the run that builds the index leaves nothing of coldstart in require.cache', (t) => {
  const root = project(t);
  writeFileSync(join(root, 'keys.cjs'), 'require("foo"); console.log(Object.keys(require.cache).join("\\n"));\n');
  const plain = runNode(['keys.cjs'], { cwd: root });
  for (const preload of [['--import', register], ['--require', join(dist, 'register.cjs')]]) {
    rmSync(join(root, 'node_modules/.cache'), { recursive: true, force: true });
    const building = runNode([...preload, 'keys.cjs'], { cwd: root });
    assert.ok(existsSync(join(root, indexRel)), 'this run built the index');
    // A --require preload is listed by Node itself, as any preload is.
    const keys = building.stdout.split('\n').filter((key) => key !== join(dist, 'register.cjs'));
    assert.deepEqual(keys, plain.stdout.split('\n'), preload[0]);
  }
});

test("a require from a module that changed its own lookup paths (jsdoc's requizzle) searches them, with the index and a pack", (t) => {
  const root = realpathSync(tempDir(t, 'coldstart-paths-'));
  writeTree(root, {
    'package.json': { name: 'app', private: true },
    'node_modules/.package-lock.json': '{"v":1}',
    'node_modules/zz/package.json': { name: 'zz', version: '1.0.0', main: 'index.js' },
    'node_modules/zz/index.js': 'module.paths.unshift(__dirname + "/lib");\nmodule.exports = [require("zz/thing"), require("thing")].join(" ");\n',
    'node_modules/zz/thing.js': 'module.exports = "root thing";',
    'node_modules/zz/lib/zz/thing.js': 'module.exports = "lib thing";',
    'node_modules/zz/lib/thing/index.js': 'module.exports = "lib pkg";',
    'node_modules/thing/package.json': { name: 'thing', version: '1.0.0' },
    'node_modules/thing/index.js': 'module.exports = "node_modules pkg";',
    'main.cjs': 'console.log(require("zz"), require("thing"));\n',
    'main.mjs': 'import zz from "zz";\nimport { createRequire } from "node:module";\nconsole.log(zz, createRequire(import.meta.url)("thing"));\n',
  });
  const expected = 'lib thing lib pkg node_modules pkg\n';
  assert.equal(runNode(['main.cjs'], { cwd: root }).stdout, expected);
  assert.equal(runCli(['index', root], { cwd: root }).code, 0);
  const env = { COLDSTART_STEP_ASIDE: '0', COLDSTART_PACK: 'off' };
  for (const entry of ['main.cjs', 'main.mjs']) {
    // Twice: the second run has the first run's learned answers.
    for (const run of [1, 2]) {
      const served = runNode(['--import', register, entry], { cwd: root, env });
      assert.deepEqual([served.code, served.stdout, served.stderr], [0, expected, ''], `${entry}, index, run ${run}`);
    }
  }
  // A pack recorded with the same program answers from what Node found.
  const packed = runCli(['pack', '--always', '--', process.execPath, 'main.cjs'], { cwd: root });
  assert.equal(packed.code, 0, packed.stderr);
  for (const entry of ['main.cjs', 'main.mjs']) {
    const served = runNode(['--import', register, entry], { cwd: root, env: { COLDSTART_STEP_ASIDE: '0' } });
    assert.deepEqual([served.code, served.stdout, served.stderr], [0, expected, ''], `${entry}, pack`);
  }
});
