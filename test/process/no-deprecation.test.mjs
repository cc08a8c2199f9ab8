// coldstart prints no warning a plain run does not: register (index, pack), defer, profile and
// pack run with --throw-deprecation on every Node (Node 26 runtime-deprecates module.register,
// DEP0205, which coldstart uses only where module.registerHooks does not exist).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, realpathSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { bin, dist, installedTree, runNode, tempDir, writeTree } from '../helpers.mjs';

const register = join(dist, 'register.cjs');
const strict = { NODE_OPTIONS: '--throw-deprecation' };

test('no deprecation warning from register, defer, profile or pack', (t) => {
  const eslint = installedTree('test/fixtures/real-tree/node_modules/eslint/bin/eslint.js');
  const tree = join(eslint, '../../../..');
  const dir = realpathSync(tempDir(t, 'coldstart-deprecation-'));
  const index = { COLDSTART_INDEX: join(dir, 'index.v1') };
  for (let i = 0; i < 2; i++) {
    const r = runNode(['--throw-deprecation', '--require', register, eslint, '--version'], { cwd: tree, env: index });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
  }
  const pack = join(dir, 'eslint.pack');
  const packed = runNode([bin, 'pack', '--always', '--out', pack, '--', process.execPath, eslint, '--version'], { cwd: tree, env: { ...strict, ...index } });
  assert.equal(packed.code, 0, packed.stderr);
  const served = runNode(['--throw-deprecation', '--import', join(dist, 'register.js'), eslint, '--version'], { cwd: tree, env: { ...index, COLDSTART_PACK: pack } });
  assert.equal(served.code, 0, served.stderr);
  assert.equal(served.stderr, '');
  // The pack's checksums come from zlib's binding, which --pending-deprecation would warn about:
  // under it they come from node:zlib, and nothing is printed either way.
  for (const flags of [['--pending-deprecation'], ['--throw-deprecation']]) {
    const checked = runNode([...flags, '--require', register, eslint, '--version'], { cwd: tree, env: { ...index, COLDSTART_PACK: pack, COLDSTART_PACK_STATS: join(dir, 'stats.jsonl') } });
    assert.equal(checked.code, 0, checked.stderr);
    assert.equal(checked.stderr, '', flags.join(' '));
  }
  assert.ok(readFileSync(join(dir, 'stats.jsonl'), 'utf8').trim().split('\n').every((line) => JSON.parse(line).counts.hits > 0), 'the pack served both runs');
  const profiled = runNode([bin, 'profile', '-q', '--', process.execPath, eslint, '--version'], { cwd: tree, env: strict });
  assert.equal(profiled.code, 0, profiled.stderr);
  assert.equal(profiled.stderr, '');

  const app = join(dir, 'app');
  writeTree(app, {
    'package.json': { name: 'app', type: 'module', coldstart: { defer: ['dep'] } },
    'node_modules/dep/package.json': { name: 'dep', type: 'module', exports: './index.js' },
    'node_modules/dep/index.js': 'export const value = "dep";',
    'auto.mjs': 'import { value } from "dep"; console.log(value);',
    'deferred.mjs': 'import defer * as d from "dep"; console.log(d.value);',
  });
  symlinkSync(join(dist, '..'), join(app, 'node_modules/coldstart'));
  for (const file of ['auto.mjs', 'deferred.mjs']) {
    const r = runNode(['--throw-deprecation', '--import', 'coldstart/register', file], { cwd: app });
    assert.equal(r.code, 0, `${file}: ${r.stderr}`);
    assert.equal(r.stdout, 'dep\n');
    assert.equal(r.stderr, '');
  }
});

test('coldstart adds one exit listener: a program that adds nine gets no MaxListenersExceededWarning', (t) => {
  const dir = realpathSync(tempDir(t, 'coldstart-exit-listeners-'));
  writeTree(dir, {
    'package.json': { name: 'listeners', private: true },
    'node_modules/dep/index.js': 'exports.v = 1;',
    'app.cjs': 'require("dep");\nfor (let i = 0; i < 9; i++) process.on("exit", () => {});\nconsole.log("added");\n',
  });
  const plain = runNode(['app.cjs'], { cwd: dir });
  assert.deepEqual([plain.code, plain.stdout, plain.stderr], [0, 'added\n', '']);
  const pack = join(dir, 'app.pack');
  const packed = runNode([bin, 'pack', '--always', '--out', pack, '--', process.execPath, 'app.cjs'], { cwd: dir, env: { COLDSTART_INDEX: join(dir, 'index.v1') } });
  assert.equal(packed.code, 0, packed.stderr);
  // The index alone, then the pack beside it: coldstart's exit work shares one listener, so nine
  // of the program's stay within Node's limit of ten (with two of coldstart's, they did not).
  for (const env of [{ COLDSTART_PACK: 'off' }, { COLDSTART_PACK: pack }]) {
    const served = runNode(['--require', register, 'app.cjs'], { cwd: dir, env: { ...env, COLDSTART_INDEX: join(dir, 'index.v1'), COLDSTART_STEP_ASIDE: '0' } });
    assert.deepEqual([served.code, served.stdout, served.stderr], [plain.code, plain.stdout, plain.stderr], JSON.stringify(env));
  }
});
