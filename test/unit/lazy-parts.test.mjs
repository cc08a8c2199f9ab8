// Unit tests of the lazy pillar's pure parts: call-site formatting, the error message, records.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { CallSite } from '../../dist/lazy/call-site.js';
import { LazyLoadError, topLevelAwaitError } from '../../dist/lazy/errors.js';
import { has, since, featureNames } from '../../dist/node-features.js';
import { dist } from '../helpers.mjs';

const site = (stack) => new CallSite({ stack }).toString();

test('call sites skip Node internals, anonymous frames and coldstart itself', () => {
  const ours = join(dist, 'lazy', 'lazy.js');
  const cases = [
    ['plain frame', 'Error\n    at /app/main.js:3:7', '/app/main.js:3:7'],
    ['named frame', 'Error\n    at run (/app/cli.js:10:2)', '/app/cli.js:10:2'],
    ['file URL', 'Error\n    at file:///app/a%20b.mjs:1:9', '/app/a b.mjs:1:9'],
    ['node internals first', 'Error\n    at Module._load (node:internal/modules/cjs/loader:1:1)\n    at /app/x.js:2:3', '/app/x.js:2:3'],
    ['builtins first', 'Error\n    at Function.keys (<anonymous>)\n    at Object.<anonymous> (/app/y.cjs:5:1)', '/app/y.cjs:5:1'],
    ['coldstart frames first', `Error\n    at value (${ours}:1:1)\n    at /app/z.mjs:4:4`, '/app/z.mjs:4:4'],
    ['nothing usable', 'Error\n    at node:internal/x:1:1', '<unknown>'],
  ];
  for (const [name, stack, expected] of cases) assert.equal(site(stack), expected, name);
});

test('a call site is formatted once and serialises as its string', () => {
  const holder = { stack: 'Error\n    at /a.js:1:1' };
  const s = new CallSite(holder);
  assert.equal(s.toString(), '/a.js:1:1');
  holder.stack = 'Error\n    at /b.js:2:2';
  assert.equal(JSON.stringify({ s }), '{"s":"/a.js:1:1"}');
});

test('LazyLoadError names the specifier, both sites, and keeps the cause', () => {
  const cause = Object.assign(new Error("Cannot find module 'x'\nRequire stack:\n- /a.js"), { code: 'MODULE_NOT_FOUND' });
  const error = new LazyLoadError('x', '/a.js:1:2', '/b.js:3:4', cause);
  assert.equal(error.message, "lazy module 'x' could not be loaded: MODULE_NOT_FOUND: Cannot find module 'x'\n    declared at /a.js:1:2\n    first used at /b.js:3:4");
  assert.equal(error.cause, cause);
  assert.equal(error.code, 'ERR_COLDSTART_LAZY_LOAD');
  assert.ok(error instanceof Error);
  const tla = topLevelAwaitError('y', cause);
  assert.equal(tla.code, 'ERR_COLDSTART_LAZY_TOP_LEVEL_AWAIT');
  assert.match(tla.message, /await import\('y'\)/);
});

test('every feature gate says which Node versions have it, and detection agrees with this Node', () => {
  for (const name of featureNames) assert.match(since(name), /^\d+\.\d+\.\d+/, name);
  const [major, minor] = process.versions.node.split('.').map(Number);
  assert.equal(has('registerHooks'), major > 23 || (major === 23 && minor >= 5) || (major === 22 && minor >= 15));
  assert.equal(has('requireEsm'), true);
  assert.equal(has('compileCache'), major >= 22);
});
