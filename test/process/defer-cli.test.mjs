// `coldstart defer --add/--remove/--list` edits package.json and keeps its other fields.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempDir, writeTree } from '../helpers.mjs';

test('coldstart defer adds, lists and removes entries', (t) => {
  const dir = tempDir(t, 'coldstart-defer-cli-');
  writeTree(dir, { 'package.json': { name: 'app', version: '1.0.0' } });
  assert.equal(runCli(['defer', '--add', 'typescript', '@aws-sdk/*'], { cwd: dir }).code, 0);
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  assert.deepEqual(pkg, { name: 'app', version: '1.0.0', coldstart: { defer: ['typescript', '@aws-sdk/*'] } });
  assert.equal(runCli(['defer', '--list'], { cwd: dir }).stdout, 'typescript\n@aws-sdk/*\n');
  assert.equal(runCli(['defer', '--remove', 'typescript'], { cwd: dir }).code, 0);
  assert.equal(runCli(['defer', '--json'], { cwd: dir }).stdout, '["@aws-sdk/*"]\n');
  const missing = runCli(['defer', '--remove', 'nope'], { cwd: dir });
  assert.equal(missing.code, 1);
  assert.equal(runCli(['defer', '--bogus'], { cwd: dir }).code, 2);
});
