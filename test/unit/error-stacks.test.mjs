// Error stacks through coldstart's loader steps (src/loader/stacks.ts): Node's frames up to
// coldstart's first, then the frames of whoever called coldstart's outermost step.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { core } from '../helpers.mjs';
const { spliceStack } = await import(core('loader/stacks'));

const own = (frame) => frame.includes('/cs/dist/');
const inner = [
  "Error: Cannot find module 'nope'",
  'Require stack:',
  '- /app/u.js',
  '    at Module.<anonymous> (node:internal/modules/cjs/loader:1564:15)',
  '    at Pipeline.resolveFilename (/cs/dist/register-core.cjs:26:10491)',
  '    at Module.resolveFilename [as _resolveFilename] (/cs/dist/register-core.cjs:12:6761)',
  '    at wrapResolveFilename (node:internal/modules/cjs/loader:1118:27)',
].join('\n');
const outer = ['Error', '    at wrapResolveFilename (node:internal/modules/cjs/loader:1118:27)', '    at Module._load (node:internal/modules/cjs/loader:1341:5)', '    at Object.<anonymous> (/app/u.js:1:1)', '    at Object.handler [as .js] (/cs/dist/register-core.cjs:12:1)', '    at Module.load (node:internal/modules/cjs/loader:1651:32)'].join('\n');

test("coldstart's frames give way to its caller's, the message and Require stack kept", () => {
  assert.equal(
    spliceStack(inner, outer, 10, own, '_resolveFilename'),
    [
      "Error: Cannot find module 'nope'",
      'Require stack:',
      '- /app/u.js',
      '    at Module._resolveFilename (node:internal/modules/cjs/loader:1564:15)',
      '    at wrapResolveFilename (node:internal/modules/cjs/loader:1118:27)',
      '    at Module._load (node:internal/modules/cjs/loader:1341:5)',
      '    at Object.<anonymous> (/app/u.js:1:1)',
      '    at Module.load (node:internal/modules/cjs/loader:1651:32)',
    ].join('\n'),
  );
});

test("Node's function keeps the receiver V8 names: Node 22 says Function._resolveFilename", () => {
  const node22 = inner.replace('at Module.<anonymous>', 'at Function.<anonymous>');
  assert.match(spliceStack(node22, outer, 10, own, '_resolveFilename'), /\n {4}at Function\._resolveFilename \(node:internal\/modules\/cjs\/loader:1564:15\)\n/);
});

test('Error.stackTraceLimit frames at most; a stack with none of coldstart\'s frames is left as it is', () => {
  assert.equal(spliceStack(inner, outer, 2, own).split('\n').filter((line) => line.startsWith('    at ')).length, 2);
  const plain = 'Error: x\n    at f (/app/a.js:1:1)';
  assert.equal(spliceStack(plain, outer, 10, own), plain);
});
