// A pack that serves ES modules switches Node's compile cache on for the process, in a folder
// beside the pack: V8 then skips compiling them at the next start (vitest --version: 1,095 M
// instructions plain, 1,055 M with its lazy pack, 886 M with the cache as well). Not for a pack
// of CommonJS only (no gain), a shared install (nothing written), under V8 coverage, when
// NODE_DISABLE_COMPILE_CACHE=1 says no, for a program that switches it on itself, or for one the
// pack was not recorded from.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { existsSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { dist, runCli, runNode, tempDir, writeTree } from '../helpers.mjs';

const register = join(dist, 'register.cjs');
// Node's own variables unset (undefined leaves them out of the child's environment): set, even
// empty, NODE_DISABLE_COMPILE_CACHE turns the cache off.
const base = { COLDSTART_INDEX: '', COLDSTART_PACK: '', COLDSTART_PACK_VERIFY: '', COLDSTART_ROOT: '', COLDSTART_SHARED: '', NODE_COMPILE_CACHE: undefined, NODE_DISABLE_COMPILE_CACHE: undefined, NODE_V8_COVERAGE: undefined };
const available = typeof createRequire(import.meta.url)('node:module').enableCompileCache === 'function';

function app(t, format) {
  const dir = realpathSync(tempDir(t, 'coldstart-compile-cache-'));
  const esm = format === 'module';
  writeTree(dir, {
    'package.json': { name: 'app', private: true, ...(esm ? { type: 'module' } : {}) },
    'node_modules/.package-lock.json': '{"v":1}',
    'node_modules/lib/package.json': { name: 'lib', version: '1.0.0', main: 'index.js', ...(esm ? { type: 'module' } : {}) },
    'node_modules/lib/index.js': esm ? 'export const value = 42;' : 'exports.value = 42;',
    'main.js': esm ? 'import { value } from "lib"; console.log(value);' : 'console.log(require("lib").value);',
  });
  const built = runCli(['pack', '--always', '--', process.execPath, 'main.js'], { cwd: dir, env: base });
  assert.equal(built.code, 0, built.stderr);
  return dir;
}

function run(dir, env = {}) {
  const stats = join(dir, `stats-${Math.random().toString(36).slice(2)}.jsonl`);
  const result = runNode(['--require', register, 'main.js'], { cwd: dir, env: { ...base, COLDSTART_PACK_STATS: stats, ...env } });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, '42\n');
  const report = JSON.parse(readFileSync(stats, 'utf8').trim().split('\n').pop());
  rmSync(stats);
  return report;
}

const cacheDir = (dir) => join(dir, 'node_modules/.cache/coldstart/pack.v1.compile-cache');

test('a pack serving ES modules keeps their V8 code in Node\'s compile cache, beside the pack', (t) => {
  const dir = app(t, 'module');
  const report = run(dir);
  assert.equal(report.state, 'used');
  if (!available) {
    assert.equal(report.compileCache, undefined);
    return;
  }
  assert.equal(report.compileCache, cacheDir(dir));
  assert.ok(existsSync(cacheDir(dir)) && readdirSync(cacheDir(dir)).length > 0, 'Node wrote the cache at exit');
  assert.equal(run(dir).compileCache, cacheDir(dir), 'and the next run uses it');
});

test('not for CommonJS only, a shared install, V8 coverage, or NODE_DISABLE_COMPILE_CACHE=1', (t) => {
  const cjs = app(t, 'commonjs');
  assert.equal(run(cjs).compileCache, undefined);
  assert.ok(!existsSync(cacheDir(cjs)));
  const dir = app(t, 'module');
  assert.equal(run(dir, { COLDSTART_SHARED: '1', COLDSTART_ROOT: dir }).compileCache, undefined);
  assert.equal(run(dir, { NODE_V8_COVERAGE: join(dir, 'coverage') }).compileCache, undefined);
  assert.equal(run(dir, { NODE_DISABLE_COMPILE_CACHE: '1' }).compileCache, undefined);
  assert.ok(!existsSync(cacheDir(dir)));
});

test('not for a program that switches the cache on itself, nor for one the pack was not recorded from: each finds it as plain Node leaves it', { skip: available ? false : 'Node 22.1+' }, (t) => {
  const dir = app(t, 'module');
  const status = 'import { enableCompileCache, getCompileCacheDir } from "node:module"; const before = getCompileCacheDir(); const got = enableCompileCache(process.argv[2]); import { value } from "lib"; console.log(value, before, got.status, got.directory === process.argv[2]);';
  writeTree(dir, { 'own.js': status, 'other.js': 'import { getCompileCacheDir } from "node:module"; import { value } from "lib"; console.log(value, getCompileCacheDir());' });
  const own = join(dir, 'own-cache');
  const built = runCli(['pack', '--always', '--run', `${process.execPath} main.js`, '--', process.execPath, 'own.js', own], { cwd: dir, env: base });
  assert.equal(built.code, 0, built.stderr);
  const plain = runNode(['own.js', own], { cwd: dir, env: base });
  assert.match(plain.stdout, /^42 undefined 1 true\n$/);
  for (const program of [['own.js', own], ['other.js']]) {
    const stats = join(dir, 'stats.jsonl');
    const served = runNode(['--require', register, ...program], { cwd: dir, env: { ...base, COLDSTART_PACK_STATS: stats } });
    assert.equal(served.stdout, runNode(program, { cwd: dir, env: base }).stdout, program[0]);
    const report = JSON.parse(readFileSync(stats, 'utf8').trim().split('\n').pop());
    rmSync(stats);
    assert.equal(report.state, 'used', program[0]);
    assert.equal(report.compileCache, undefined, program[0]);
  }
  // The recorded program that does not switch it on keeps the pack's.
  assert.equal(run(dir).compileCache, cacheDir(dir));
});
