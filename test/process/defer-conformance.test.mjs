// Conformance of `import defer` under coldstart/register (cases in defer-conformance-cases.mjs).
// On a Node that has --js-defer-import-eval, the same program also runs natively and the two are
// compared.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { dist, tempDir } from '../helpers.mjs';
import { cases, program, show } from './defer-conformance-cases.mjs';

/** How many cases give what the proposal says (value and evaluation), for the diagnostics. */
function agreeing(results) {
  return cases.filter((c, n) => JSON.stringify({ value: results[n].value, evaluated: results[n].evaluated }) === JSON.stringify({ value: show(c.value), evaluated: c.evaluated })).length;
}

function run(node, args, main) {
  const result = spawnSync(node, [...args, main], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '', COLDSTART_EAGER: '', COLDSTART_DEFER_CACHE: '0' }, timeout: 60_000 });
  assert.equal(result.status, 0, result.stderr);
  return JSON.parse(result.stdout);
}

test('import defer under coldstart/register follows the proposal (deviations as documented)', (t) => {
  const main = program(tempDir(t, 'coldstart-defer-conf-'));
  const results = run(process.execPath, ['--import', join(dist, 'register.js')], main);
  t.diagnostic(`coldstart on Node ${process.versions.node}: ${agreeing(results)} of ${cases.length} cases as the proposal says`);
  cases.forEach((c, n) => {
    const want = { value: show(c.value), evaluated: c.evaluated, ...(c.ours ? { ...(c.ours.value !== undefined ? { value: show(c.ours.value) } : {}), ...(c.ours.evaluated !== undefined ? { evaluated: c.ours.evaluated } : {}) } : {}) };
    const got = results[n];
    assert.equal(got.error, undefined, `${c.name}: threw ${got.error}`);
    assert.deepEqual({ value: got.value, evaluated: got.evaluated }, want, c.name);
  });
});

// Native import defer exists only behind a V8 flag (Node 26); elsewhere the flag is rejected.
const native = spawnSync(process.execPath, ['--js-defer-import-eval', '-e', '0']).status === 0;

test('native --js-defer-import-eval agrees except on the documented deviations', { skip: native ? false : 'no native import defer in this Node' }, (t) => {
  const main = program(tempDir(t, 'coldstart-defer-native-'));
  const ours = run(process.execPath, ['--import', join(dist, 'register.js')], main);
  const theirs = run(process.execPath, ['--js-defer-import-eval'], main);
  const differences = cases.filter((c, n) => JSON.stringify(ours[n]) !== JSON.stringify(theirs[n])).map((c) => c.name);
  const documented = cases.filter((c) => c.ours || c.nativeDiffers).map((c) => c.name);
  t.diagnostic(`differences from native: ${JSON.stringify(differences)}`);
  t.diagnostic(`native --js-defer-import-eval on Node ${process.versions.node}: ${agreeing(theirs)} of ${cases.length} cases as the proposal says`);
  assert.deepEqual(differences.filter((name) => !documented.includes(name)), []);
});
