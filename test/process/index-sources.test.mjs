// `.js` package scopes answered from the index, in real processes. Same output as plain
// Node for every kind of scope (typed, untyped with ES module syntax, nested package.json,
// "type": "module" under require), the handler steps aside for a pack and, where registerHooks
// exists, for other tools' load hooks, and `eslint --version` on the real tree makes at most 5
// failed file syscalls.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { installedTree, tempDir, writeTree, runNode, runCli, dist, fixtures } from '../helpers.mjs';

const register = join(dist, 'register.cjs');
const hasRegisterHooks = typeof (await import('node:module')).registerHooks === 'function';

function project(t) {
  const root = realpathSync(tempDir(t, 'coldstart-sources-'));
  writeTree(root, {
    'package.json': { name: 'app', private: true },
    'node_modules/.package-lock.json': '{"v":1}',
    // "type": "commonjs", with a nested scope that says "module" and a deep file without one.
    'node_modules/typed/package.json': { name: 'typed', type: 'commonjs', main: 'lib/a/b/deep.js' },
    'node_modules/typed/lib/a/b/deep.js': 'module.exports = "deep:" + require("../../esm/x.js").default;',
    'node_modules/typed/lib/esm/package.json': { type: 'module' },
    'node_modules/typed/lib/esm/x.js': 'export default "esm-in-commonjs";',
    // No "type": CommonJS, and a file with ES module syntax that Node's detection runs as ESM.
    'node_modules/untyped/package.json': { name: 'untyped', main: 'index.js' },
    'node_modules/untyped/index.js': 'module.exports = "untyped:" + require("./detected.js").value + ":" + __filename.endsWith("index.js");',
    'node_modules/untyped/detected.js': 'export const value = "detected";',
    // A package.json that is not JSON: Node's own error, word for word.
    'node_modules/broken/package.json': '{ nope',
    'node_modules/broken/index.js': 'module.exports = 1;',
    'app.cjs': [
      'const out = [require("typed"), require("untyped")];',
      'try { require("./node_modules/broken/index.js"); out.push("no error"); } catch (e) { out.push(`${e.name}:${e.code ?? ""}:${e.message.includes("package.json")}`); }',
      'console.log(out.join(" "));',
    ].join('\n'),
  });
  return root;
}

function runWith(root, env = {}) {
  const stats = join(root, 'stats.jsonl');
  rmSync(stats, { force: true });
  const r = runNode(['--require', register, 'app.cjs'], { cwd: root, env: { COLDSTART_INDEX_STATS: stats, COLDSTART_PACK: 'off', ...env } });
  const report = existsSync(stats) ? JSON.parse(readFileSync(stats, 'utf8').trim().split('\n').at(-1)) : undefined;
  return { ...r, report };
}

test('package scopes from the index give the output plain Node gives', (t) => {
  const root = project(t);
  const plain = runNode(['app.cjs'], { cwd: root });
  assert.equal(plain.code, 0, plain.stderr);
  assert.match(plain.stdout, /^deep:esm-in-commonjs untyped:detected:true \w*Error:\w*:true\n$/);
  const built = runCli(['index'], { cwd: root });
  assert.equal(built.code, 0, built.stderr);
  const indexed = runWith(root);
  assert.equal(indexed.code, 0, indexed.stderr);
  assert.equal(indexed.stdout, plain.stdout);
  assert.equal(indexed.report.state, 'used');
  // deep.js, index.js and app.cjs's siblings: served; esm/x.js, detected.js (ESM) and broken: Node's.
  assert.ok(indexed.report.sources.served >= 2, JSON.stringify(indexed.report.sources));
  assert.ok(indexed.report.sources.passed >= 2, JSON.stringify(indexed.report.sources));
  assert.equal(indexed.report.sources.off, undefined);
  const switchedOff = runWith(root, { COLDSTART_INDEX_SOURCES: 'off' });
  assert.equal(switchedOff.stdout, plain.stdout);
  assert.deepEqual(switchedOff.report.sources, { served: 0, passed: 0 });
});

test('an error thrown in a served file points at its own line', (t) => {
  const root = project(t);
  writeTree(root, {
    'node_modules/thrower/package.json': { name: 'thrower', type: 'commonjs' },
    'node_modules/thrower/index.js': '\n\nthrow new Error("boom");\n',
    'app.cjs': 'try { require("thrower"); } catch (e) { console.log(e.stack.split("\\n").find((l) => l.includes("thrower"))); }',
  });
  runCli(['index'], { cwd: root });
  const plain = runNode(['app.cjs'], { cwd: root });
  const indexed = runWith(root);
  assert.match(plain.stdout, /thrower\/index\.js:3:/);
  assert.equal(indexed.stdout, plain.stdout);
});

test('eslint --version on the real tree: at most 2 failed file syscalls in the tree with the index (strace)', (t) => {
  if (spawnSync('strace', ['-V']).status !== 0) return t.skip('strace is not installed');
  const root = join(fixtures, 'real-tree');
  const eslint = join(root, 'node_modules/eslint/bin/eslint.js');
  installedTree('test/fixtures/real-tree/node_modules/eslint/bin/eslint.js');
  const dir = tempDir(t, 'coldstart-sources-strace-');
  const index = join(dir, 'index.v1');
  const built = runCli(['index', root, '--index', index], { cwd: root });
  assert.equal(built.code, 0, built.stderr);
  const traced = (args, env) => {
    const out = join(dir, 'strace.txt');
    const r = spawnSync('strace', ['-f', '-qq', '-e', 'trace=file', '-o', out, process.execPath, ...args], {
      cwd: root, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '', COLDSTART_PACK: 'off', ...env },
    });
    assert.equal(r.status, 0, r.stderr);
    const lines = readFileSync(out, 'utf8').split('\n').filter((l) => l.includes('"/'));
    // Failed lookups in the tree: not the loader's, the kernel's or a compile cache's probes.
    const failedHere = lines.filter((l) => / = -1 E/.test(l) && l.includes(`"${root}/`));
    return { stdout: r.stdout, all: lines.length, failed: failedHere.length, failedLines: failedHere.join('\n') };
  };
  const plain = traced([eslint, '--version'], {});
  // Twice: the first run learns its answers, the second is the one measured.
  traced(['--require', register, eslint, '--version'], { COLDSTART_INDEX: index });
  const indexed = traced(['--require', register, eslint, '--version'], { COLDSTART_INDEX: index });
  assert.equal(indexed.stdout, plain.stdout);
  // COLDSTART_INDEX_VERIFY=0 trusts package sections without a stat of each package root.
  const trusting = traced(['--require', register, eslint, '--version'], { COLDSTART_INDEX: index, COLDSTART_INDEX_VERIFY: '0' });
  assert.equal(trusting.stdout, plain.stdout);
  assert.ok(trusting.all + 20 < indexed.all, `verify off: ${trusting.all} file syscalls, verify on: ${indexed.all}`);
  t.diagnostic(`file syscalls: plain ${plain.all} (${plain.failed} failed in the tree), index ${indexed.all} (${indexed.failed} failed in the tree)`);
  assert.ok(indexed.all <= plain.all * 0.45, `index ${indexed.all} vs plain ${plain.all} file syscalls`);
  // At most: the defer configuration's probe of eslint/bin/package.json (trying it costs less
  // than decoding eslint's index section to learn it is absent), and Node 22+'s own probe of the
  // same file for the entry's package scope.
  assert.ok(indexed.failed <= 2, `failed file syscalls in the tree with the index: ${indexed.failed}\n${indexed.failedLines}`);
});

// A load hook that rewrites one word, as a transpiler or coverage tool would.
const hookSource = `require('node:module').registerHooks({
  load(url, context, next) {
    const result = next(url, context);
    if (!url.includes('/node_modules/typed/')) return result;
    return { ...result, source: String(result.source).replace('deep:', 'hooked:') };
  },
});
`;

test('another tool\'s load hook registered after coldstart still sees every CommonJS file', { skip: !hasRegisterHooks && 'module.registerHooks is Node 22.15+' }, (t) => {
  const root = project(t);
  writeTree(root, { 'hook.cjs': hookSource, 'hooked.cjs': 'require("./hook.cjs");\nrequire("./app.cjs");\n' });
  runCli(['index'], { cwd: root });
  const plain = runNode(['hooked.cjs'], { cwd: root });
  assert.equal(plain.code, 0, plain.stderr);
  assert.match(plain.stdout, /^hooked:esm-in-commonjs /);
  const stats = join(root, 'stats.jsonl');
  // In the program itself, and as a preload that comes after coldstart's.
  for (const args of [['--require', register, 'hooked.cjs'], ['--require', register, '--require', './hook.cjs', 'app.cjs']]) {
    rmSync(stats, { force: true });
    const r = runNode(args, { cwd: root, env: { COLDSTART_INDEX_STATS: stats, COLDSTART_PACK: 'off' } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, plain.stdout, args.join(' '));
    const report = JSON.parse(readFileSync(stats, 'utf8').trim().split('\n').at(-1));
    assert.equal(report.sources.off, 'another tool registered a load hook');
  }
});

test('a preload that runs before coldstart\'s turns the source handler off from the start', { skip: !hasRegisterHooks && 'module.registerHooks is Node 22.15+' }, (t) => {
  const root = project(t);
  writeTree(root, { 'hook.cjs': hookSource });
  runCli(['index'], { cwd: root });
  const plain = runNode(['--require', './hook.cjs', 'app.cjs'], { cwd: root });
  assert.match(plain.stdout, /^hooked:esm-in-commonjs /);
  const stats = join(root, 'stats.jsonl');
  rmSync(stats, { force: true });
  // NODE_OPTIONS preloads run before the command line's.
  const r = runNode(['--require', register, 'app.cjs'], { cwd: root, env: { NODE_OPTIONS: '--require ./hook.cjs', COLDSTART_INDEX_STATS: stats, COLDSTART_PACK: 'off' } });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, plain.stdout);
  const report = JSON.parse(readFileSync(stats, 'utf8').trim().split('\n').at(-1));
  assert.deepEqual(report.sources, { served: 0, passed: 0, off: 'preloaded before coldstart: ./hook.cjs' });
});

test('a CommonJS file an ES module imports is left to Node, which has read it already', (t) => {
  const root = realpathSync(tempDir(t, 'coldstart-sources-import-'));
  writeTree(root, {
    'package.json': { name: 'app', private: true, type: 'module' },
    'node_modules/.package-lock.json': '{"v":1}',
    'node_modules/cjs/package.json': { name: 'cjs', main: 'index.js' },
    'node_modules/cjs/index.js': 'module.exports = "outer:" + require("./inner.js");',
    'node_modules/cjs/inner.js': 'module.exports = "inner";',
    'app.mjs': 'import value from "cjs"; console.log(value);',
  });
  assert.equal(runCli(['index'], { cwd: root }).code, 0);
  const stats = join(root, 'stats.jsonl');
  const r = runNode(['--require', register, 'app.mjs'], { cwd: root, env: { COLDSTART_INDEX_STATS: stats, COLDSTART_PACK: 'off', COLDSTART_STEP_ASIDE: '0' } });
  assert.equal(r.stdout, 'outer:inner\n', r.stderr);
  const report = JSON.parse(readFileSync(stats, 'utf8').trim().split('\n').at(-1));
  // index.js: imported, so read by Node's ES module loader (a second read here cost typescript.js
  // 20 MB of peak memory), and Node's handler compiles it; inner.js: required, the index's.
  if (Number(process.versions.node.split('.')[0]) >= 22) assert.deepEqual([report.sources.served, report.sources.passed], [1, 1], JSON.stringify(report.sources));
});
