// NODE_OPTIONS read as Node reads it, in the one parser coldstart has.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { core } from '../helpers.mjs';

const { hasLaunchFlag, launchFlags, splitNodeOptions } = await import(core('node-options'));

test('spaces split, double quotes group, a backslash escapes inside quotes', () => {
  assert.deepEqual(splitNodeOptions('  --no-addons   -C  dev '), ['--no-addons', '-C', 'dev']);
  assert.deepEqual(splitNodeOptions('--require "/a b/reg.cjs" --import=x'), ['--require', '/a b/reg.cjs', '--import=x']);
  assert.deepEqual(splitNodeOptions('--title="say \\"hi\\""'), ['--title=say "hi"']);
  assert.deepEqual(splitNodeOptions('""'), ['']);
  assert.deepEqual(splitNodeOptions(''), []);
});

test('NODE_OPTIONS come before the command line; a flag is found alone or with =value', () => {
  assert.deepEqual(launchFlags('--a "b c"', ['--d']), ['--a', 'b c', '--d']);
  assert.equal(hasLaunchFlag('--no-addons', launchFlags('--no-addons', [])), true);
  assert.equal(hasLaunchFlag('--no-addons', launchFlags('"--no-addons-x"', [])), false);
  assert.equal(hasLaunchFlag('--js-defer-import-eval', launchFlags('', ['--js-defer-import-eval=1'])), true);
});
