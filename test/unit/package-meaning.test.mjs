// What a package.json means to coldstart's caches: equal exactly when resolution, a module's
// format and coldstart's own settings read the same from two texts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { core } from '../helpers.mjs';

const { meaningOf, factsOf } = await import(core('package-meaning'));

const base = { name: 'app', version: '1.0.0', main: 'index.js', type: 'module', exports: { '.': { import: './a.mjs', require: './a.cjs' } }, imports: { '#x': 'q' }, coldstart: { eager: ['src/**'] } };
const text = (data, indent = 2) => JSON.stringify(data, null, indent);

test('other fields, formatting and key order outside the read fields leave the meaning', () => {
  const { version, ...rest } = base;
  for (const [label, other] of [
    ['a version bump', text({ ...base, version: '2.0.0' })],
    ['no version', text(rest)],
    ['scripts and dependencies added', text({ ...base, scripts: { test: 'x' }, dependencies: { q: '^1' } })],
    ['reformatted', `${text(base, 4)}\n`],
    ['top-level keys reordered', text({ imports: base.imports, ...rest, version })],
  ]) {
    assert.equal(meaningOf(other), meaningOf(text(base)), label);
  }
});

test('each field that resolution, format or coldstart reads changes it', () => {
  for (const [label, change] of [
    ['name', { name: 'other' }],
    ['main', { main: 'other.js' }],
    ['type', { type: 'commonjs' }],
    ['exports', { exports: './a.cjs' }],
    ['exports condition order', { exports: { '.': { require: './a.cjs', import: './a.mjs' } } }],
    ['exports null', { exports: null }],
    ['imports', { imports: { '#x': 'r' } }],
    ['coldstart', { coldstart: { eager: [] } }],
  ]) {
    assert.notEqual(meaningOf(text({ ...base, ...change })), meaningOf(text(base)), label);
  }
  const { exports, ...noExports } = base;
  assert.notEqual(meaningOf(text(noExports)), meaningOf(text({ ...noExports, exports: null })), 'exports: null is not a missing exports');
});

test('fields of the wrong type are what Node ignores; broken JSON means something of its own', () => {
  assert.equal(meaningOf(text({ ...base, main: 42 })), meaningOf(text((({ main, ...rest }) => rest)(base))));
  assert.equal(meaningOf('{"name": "app",'), '0');
  assert.notEqual(meaningOf('{}'), '0');
  assert.equal(factsOf('{"name": "app",'), 0);
  assert.deepEqual(factsOf(text(base)), { name: 'app', main: 'index.js', exports: base.exports, imports: base.imports, type: 'module' });
});
