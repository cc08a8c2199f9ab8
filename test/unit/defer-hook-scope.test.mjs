// Which loaded files defer's load hook may transform, decided before their bytes are decoded: an
// installed CommonJS file (typescript.js, 9 MB, holds the word `defer`) is never decoded unless
// auto-defer covers node_modules; ES modules anywhere, and the program's own CommonJS, may be.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { core } from '../helpers.mjs';

const { makeState, mayTransformFile } = await import(core('defer/load-core'));
const { distPath } = await import(core('dist-paths'));

const state = (over = {}) => makeState({ defer: [], root: '/p', deferNodeModules: false, eager: false, nativeImportDefer: false, cacheDir: '/nonexistent-cache', stats: false, ...over });

test('an installed CommonJS file is left alone unless auto-defer covers node_modules', () => {
  const ts = 'file:///p/node_modules/typescript/lib/typescript.js';
  assert.equal(mayTransformFile(state(), ts, 'commonjs'), false);
  assert.equal(mayTransformFile(state({ defer: ['typescript'] }), ts, 'commonjs'), false);
  assert.equal(mayTransformFile(state({ defer: ['typescript'], deferNodeModules: true }), ts, 'commonjs'), true);
  assert.equal(mayTransformFile(state(), 'file:///p/node_modules/a/x.cts', 'commonjs-typescript'), false);
});

test('ES modules, installed or not, and the program\'s own CommonJS may be transformed', () => {
  assert.equal(mayTransformFile(state(), 'file:///p/node_modules/a/index.mjs', 'module'), true);
  assert.equal(mayTransformFile(state(), 'file:///p/src/a.js', 'commonjs'), true);
  assert.equal(mayTransformFile(state(), 'file:///p/src/a.mts', 'module-typescript'), true);
});

test('no file URL, no format, JSON, wasm or coldstart\'s own files: never', () => {
  assert.equal(mayTransformFile(state(), 'node:fs', 'builtin'), false);
  assert.equal(mayTransformFile(state(), 'data:text/javascript,1', 'module'), false);
  assert.equal(mayTransformFile(state(), 'file:///p/a.js', undefined), false);
  assert.equal(mayTransformFile(state(), 'file:///p/a.json', 'json'), false);
  assert.equal(mayTransformFile(state(), 'file:///p/a.wasm', 'wasm'), false);
  assert.equal(mayTransformFile(state(), `file://${distPath('index.js')}`, 'module'), false);
});
