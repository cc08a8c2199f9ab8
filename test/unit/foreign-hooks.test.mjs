// Which preloads ran before coldstart/register, as Node orders them: every --require (NODE_OPTIONS
// first), then every --import. The source handlers leave require() to Node when one did.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { preloadOrder, preloadsBefore } from '../../dist/loader/foreign-hooks.js';

const own = '/opt/app/node_modules/coldstart/dist';

test('preloads in the order Node runs them', () => {
  assert.deepEqual(preloadOrder('--import ./a.mjs -r b "--require=c d.cjs"', ['--import=e', '--require', 'f', '--max-old-space-size=100', 'script.js']),
    ['b', 'c d.cjs', 'f', './a.mjs', 'e']);
  assert.deepEqual(preloadOrder('', []), []);
  // A flag without its value (Node would refuse to start) is skipped.
  assert.deepEqual(preloadOrder('--require', []), []);
});

test('the preloads ahead of coldstart/register are the ones that count', () => {
  const before = (nodeOptions, execArgv) => preloadsBefore(preloadOrder(nodeOptions, execArgv), own);
  assert.deepEqual(before('', ['--require', 'coldstart/register']), []);
  assert.deepEqual(before('', ['--require', 'dotenv/config', '--require', 'coldstart/register']), ['dotenv/config']);
  // --require runs before --import whatever the order on the command line.
  assert.deepEqual(before('', ['--import', 'tsx', '--require', 'coldstart/register']), []);
  assert.deepEqual(before('', ['--require', 'x', '--import', 'coldstart/register']), ['x']);
  assert.deepEqual(before('--require ./hook.cjs', ['--require', `${own}/register.cjs`]), ['./hook.cjs']);
  // By path (a symlinked copy too), by file URL; coldstart's own preloads are not other tools'.
  assert.deepEqual(before('', ['--import', `file://${own}/register.mjs`]), []);
  assert.deepEqual(before('', ['--require', '../node_modules/coldstart/dist/register.cjs']), []);
  // A project's own dist/register.js is not coldstart's.
  assert.deepEqual(before('', ['--require', './dist/register.js', '--require', 'coldstart/register']), ['./dist/register.js']);
  assert.deepEqual(before('', ['--import', `${own}/profile/preload.js`, '--import', 'coldstart/register']), []);
  // Activated without a preload flag: every other preload ran before it.
  assert.deepEqual(before('', ['--require', 'y']), ['y']);
  assert.deepEqual(before('', ['--require', './register.cjs', '--require', 'coldstart/register']), ['./register.cjs']);
  // Backslashes separate too; a look-alike directory or extension is another tool's.
  assert.deepEqual(before('', ['--require', '..\\node_modules\\coldstart\\register']), []);
  assert.deepEqual(before('', ['--require', 'vendor/coldstart/dist/register.mjs']), []);
  assert.deepEqual(before('', ['--require', 'vendor/my-coldstart/register.js', '--require', 'x/coldstart/register.ts', '--require', 'coldstart/register']), ['vendor/my-coldstart/register.js', 'x/coldstart/register.ts']);
});
