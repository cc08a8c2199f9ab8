// Auto-defer, end to end on the built package: configured packages imported or required the
// ordinary way are evaluated on first use only; references keep their meaning (shadowing, calls,
// typeof, live bindings); stack traces keep original lines; a second run parses nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { dist, runNode, tempDir, writeTree } from '../helpers.mjs';

const register = join(dist, 'register.js');

function project(t, extra = {}) {
  const dir = tempDir(t, 'coldstart-defer-auto-');
  writeTree(dir, {
    'package.json': { name: 'app', type: 'module', coldstart: { defer: ['heavy', '@scope/*'] } },
    'node_modules/heavy/package.json': { name: 'heavy', exports: { import: './index.mjs', require: './index.cjs' } },
    'node_modules/heavy/index.mjs': "globalThis.loads = (globalThis.loads ?? 0) + 1;\nexport let count = 0;\nexport function bump() { count++; return this; }\nexport default class Thing { hi() { return 'hi'; } }\n",
    'node_modules/heavy/index.cjs': "globalThis.loads = (globalThis.loads ?? 0) + 1;\nexports.greet = (name) => 'hello ' + name;\nexports.value = 42;\n",
    'node_modules/@scope/one/package.json': { name: '@scope/one', main: 'index.js' },
    'node_modules/@scope/one/index.js': "globalThis.scoped = true; module.exports = { one: 1 };\n",
    ...extra,
  });
  return dir;
}

test('ES module imports of configured packages load on first use, references rewritten scope-correctly', (t) => {
  const dir = project(t, {
    'main.mjs': [
      "import Thing, { count, bump } from 'heavy';",
      "import * as scoped from '@scope/one';",
      "import 'node:path';",
      "const before = globalThis.loads ?? 0;",
      "function shadow(count) { return count; }",
      "const shadowed = shadow(7);",
      "const kind = typeof bump;",
      "const self = bump();",
      "bump();",
      "const obj = { count };",
      "console.log(JSON.stringify({ before, shadowed, kind, selfUndefined: self === undefined, count, obj, hi: new Thing().hi(), loads: globalThis.loads, scopedBefore: globalThis.scoped ?? false, one: scoped.default.one }));",
    ].join('\n'),
  });
  const r = runNode(['--import', register, 'main.mjs'], { cwd: dir, env: { COLDSTART_DEFER_CACHE: join(dir, 'cache') } });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { before: 0, shadowed: 7, kind: 'function', selfUndefined: true, count: 2, obj: { count: 2 }, hi: 'hi', loads: 1, scopedBefore: false, one: 1 });
});

test('CommonJS requires of configured packages load on first use', (t) => {
  const dir = project(t, {
    'main.cjs': [
      "'use strict';",
      "const heavy = require('heavy');",
      "const { greet, value: v } = require('heavy');",
      "const before = globalThis.loads ?? 0;",
      "console.log(JSON.stringify({ before, greeting: greet('x'), v, same: heavy.value, type: typeof heavy, loads: globalThis.loads }));",
    ].join('\n'),
  });
  const r = runNode(['--require', join(dist, 'register.cjs'), 'main.cjs'], { cwd: dir, env: { COLDSTART_DEFER_CACHE: join(dir, 'cache') } });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { before: 0, greeting: 'hello x', v: 42, same: 42, type: 'object', loads: 1 });
});

test('re-exported imports stay eager; COLDSTART_EAGER=1 turns deferral off', (t) => {
  const dir = project(t, {
    'lib.mjs': "import { count } from 'heavy';\nexport { count };\n",
    'main.mjs': "import defer * as ns from './other.mjs';\nimport { count } from './lib.mjs';\nconsole.log(JSON.stringify({ loads: globalThis.loads ?? 0, other: globalThis.other ?? false, count }));\n",
    'other.mjs': 'globalThis.other = true;\nexport const x = 1;\n',
  });
  const lazyRun = runNode(['--import', register, 'main.mjs'], { cwd: dir, env: { COLDSTART_DEFER_CACHE: '0' } });
  assert.equal(lazyRun.code, 0, lazyRun.stderr);
  assert.deepEqual(JSON.parse(lazyRun.stdout), { loads: 1, other: false, count: 0 });
  const eagerRun = runNode(['--import', register, 'main.mjs'], { cwd: dir, env: { COLDSTART_DEFER_CACHE: '0', COLDSTART_EAGER: '1' } });
  assert.equal(eagerRun.code, 0, eagerRun.stderr);
  assert.deepEqual(JSON.parse(eagerRun.stdout), { loads: 1, other: true, count: 0 });
});

test('stack traces point at the original lines; a cached run parses nothing', (t) => {
  const dir = project(t, {
    'main.mjs': "import { bump } from 'heavy';\n\n\nfunction fail() {\n  bump();\n  throw new Error('here');\n}\nfail();\n",
  });
  const cache = join(dir, 'cache');
  const env = { COLDSTART_DEFER_CACHE: cache, COLDSTART_DEFER_STATS: '1' };
  for (const flags of [[], ['--enable-source-maps']]) {
    const r = runNode([...flags, '--import', register, 'main.mjs'], { cwd: dir, env });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /main\.mjs:6:\d+/, `stack of ${flags.join(' ') || 'plain node'}: ${r.stderr}`);
  }
  const first = runNode(['--import', register, 'main.mjs'], { cwd: dir, env: { ...env, COLDSTART_DEFER_CACHE: join(dir, 'cache2') } });
  const second = runNode(['--import', register, 'main.mjs'], { cwd: dir, env: { ...env, COLDSTART_DEFER_CACHE: join(dir, 'cache2') } });
  const count = (text, kind) => text.split('\n').filter((line) => line.startsWith(`coldstart-defer-stats: ${kind} `)).length;
  assert.equal(count(first.stderr, 'parse'), 1, first.stderr);
  assert.equal(count(second.stderr, 'parse'), 0, second.stderr);
  assert.equal(count(second.stderr, 'cache-hit'), 1, second.stderr);
});

test('an unresolvable deferred import fails at the import, before the importer runs', (t) => {
  const dir = project(t, { 'main.mjs': "console.log('body ran');\nimport defer * as ns from './missing.mjs';\n" });
  const r = runNode(['--import', register, 'main.mjs'], { cwd: dir, env: { COLDSTART_DEFER_CACHE: '0' } });
  assert.notEqual(r.code, 0);
  assert.doesNotMatch(r.stdout, /body ran/);
  assert.match(r.stderr, /ERR_MODULE_NOT_FOUND|Cannot find module/);
});
