// `coldstart check` on small programs: each rule fails with exit 3 and a readable reason, passes
// with 0, lets the command's output through, and reports the command's own failure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempDir } from '../helpers.mjs';
import { writeCjsApp, writeEsmApp } from './profile-fixtures.mjs';

test('forbid and module budget on a CommonJS program', (t) => {
  const dir = realpathSync(tempDir(t));
  writeCjsApp(dir);
  const node = process.execPath;
  const fail = runCli(['check', '--forbid', 'unused-pkg', '--max-modules', '3', '--', node, 'main.cjs'], { cwd: dir });
  assert.equal(fail.code, 3, fail.stderr);
  assert.equal(fail.stdout, 'hello [local]1/\n');
  assert.match(fail.stderr, /FAIL forbid: 'unused-pkg' was loaded \(process \d+\): main\.cjs → unused-pkg\/index\.js/);
  assert.match(fail.stderr, /FAIL max-modules: 6 modules were loaded, more than the 3 allowed; most come through unused-pkg\/index\.js \(2\)/);
  const builtin = runCli(['check', '--forbid', 'node:path', '--', node, 'main.cjs'], { cwd: dir });
  assert.equal(builtin.code, 3);
  // Passing rules: the command's own exit code (7) is what remains.
  const jsonOut = join(dir, 'verdict.json');
  const pass = runCli(['check', '--forbid', 'typescript', '--max-modules', '6', '--json', jsonOut, '--', node, 'main.cjs'], { cwd: dir });
  assert.equal(pass.code, 7, pass.stderr);
  assert.match(pass.stderr, /coldstart check: ok \(6 modules/);
  const verdict = JSON.parse(readFileSync(jsonOut, 'utf8'));
  assert.equal(verdict.ok, true);
  assert.equal(verdict.moduleCount, 6);
  assert.equal(verdict.exitCode, 7);
});

test('an ES module program passes and fails the same way', (t) => {
  const dir = realpathSync(tempDir(t));
  writeEsmApp(dir);
  const ok = runCli(['check', '--forbid', 'nothing-here', '--max-modules', '5', '--', process.execPath, 'main.mjs'], { cwd: dir });
  assert.equal(ok.code, 0, ok.stderr);
  const bad = runCli(['check', '--forbid', 'esm-unused', '--', process.execPath, 'main.mjs'], { cwd: dir });
  assert.equal(bad.code, 3);
  assert.match(bad.stderr, /'esm-unused' was loaded \(process \d+\): main\.mjs → esm-unused\/index\.js/);
});

test('a time budget fails beyond its tolerance', (t) => {
  const dir = realpathSync(tempDir(t));
  writeCjsApp(dir);
  const r = runCli(['check', '--max-ms', '0', '--tolerance', '10', '--', process.execPath, 'main.cjs'], { cwd: dir });
  assert.equal(r.code, 3);
  assert.match(r.stderr, /FAIL max-ms: the command took \d+ ms, more than 0 ms \+ 10% \(0 ms\)/);
});

test('usage errors exit 2 with a hint', () => {
  const none = runCli(['check', '--', process.execPath, '-e', '0']);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /no rule given\nhint: use --forbid NAME/);
  const bad = runCli(['check', '--max-modules', 'lots', '--', process.execPath, '-e', '0']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--max-modules needs a non-negative number/);
});
