// coldstart beside tsx: auto-defer keeps the stack lines of the TypeScript the user wrote (our
// source map chained onto tsx's), in both registration orders; `import defer` works with
// coldstart registered first, and with tsx first the error says which order to use.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, realpathSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { root, runNode, tempDir, writeTree } from '../helpers.mjs';

function project(t) {
  const dir = realpathSync(tempDir(t, 'coldstart-tsx-'));
  writeTree(dir, {
    'package.json': { name: 'app', type: 'module', coldstart: { defer: ['dep'] } },
    'node_modules/dep/package.json': { name: 'dep', type: 'module', exports: './index.js' },
    'node_modules/dep/index.js': 'console.log("dep evaluated"); export function hello(x) { return "hello " + x; }',
    'plain.ts': [
      "import { hello } from 'dep';",
      '',
      'interface Options {',
      '  readonly count: number;',
      '}',
      '',
      'function run(options: Options): string {',
      '  const text: string = hello(options.count);',
      "  if (process.argv[2] === 'err') {",
      '    const extra: number = options.count * 2;',
      '    throw new Error(`failed after ${text} and ${extra}`);',
      '  }',
      '  return text;',
      '}',
      "console.log('start');",
      'console.log(run({ count: 1 }));',
      '',
    ].join('\n'),
    'deferred.ts': "import defer * as d from 'dep';\nconst n: number = 2;\nconsole.log(d.hello(n));\n",
  });
  mkdirSync(join(dir, 'node_modules'), { recursive: true });
  symlinkSync(root, join(dir, 'node_modules/coldstart'));
  symlinkSync(join(root, 'node_modules/tsx'), join(dir, 'node_modules/tsx'));
  return dir;
}

const stackLines = (stderr) => stderr.split('\n').filter((line) => line.includes('plain.ts:')).join('\n');

test('tsx and auto-defer in either order: the stack names the TypeScript lines plain tsx names', (t) => {
  const dir = project(t);
  const plain = runNode(['--import', 'tsx', 'plain.ts', 'err'], { cwd: dir });
  assert.equal(plain.code, 1);
  assert.match(stackLines(plain.stderr), /plain\.ts:11:11/);
  for (const order of [['tsx', 'coldstart/register'], ['coldstart/register', 'tsx']]) {
    const args = order.flatMap((name) => ['--import', name]);
    const ours = runNode([...args, 'plain.ts', 'err'], { cwd: dir });
    assert.equal(stackLines(ours.stderr), stackLines(plain.stderr), order.join(' then '));
    // Deferred: dep evaluates at its first use, after 'start' (plain tsx prints it first).
    assert.equal(runNode([...args, 'plain.ts'], { cwd: dir }).stdout, 'start\ndep evaluated\nhello 1\n', order.join(' then '));
  }
});

test('import defer under tsx: works with coldstart registered first, and the other order says so', (t) => {
  const dir = project(t);
  const first = runNode(['--import', 'coldstart/register', '--import', 'tsx', 'deferred.ts'], { cwd: dir });
  assert.equal(first.stdout, 'dep evaluated\nhello 2\n', first.stderr);
  const second = runNode(['--import', 'tsx', '--import', 'coldstart/register', 'deferred.ts'], { cwd: dir });
  assert.notEqual(second.code, 0);
  assert.match(second.stderr, /Register coldstart first: node --import coldstart\/register --import tsx/);
});

test("Node's own type stripping: auto-defer and import defer in .ts files, stack lines unchanged", { skip: process.features.typescript ? false : 'this Node does not strip types' }, (t) => {
  const dir = project(t);
  const plain = runNode(['plain.ts', 'err'], { cwd: dir });
  const ours = runNode(['--import', 'coldstart/register', 'plain.ts', 'err'], { cwd: dir });
  assert.match(stackLines(plain.stderr), /plain\.ts:11:11/);
  assert.equal(stackLines(ours.stderr), stackLines(plain.stderr));
  assert.equal(runNode(['--import', 'coldstart/register', 'plain.ts'], { cwd: dir }).stdout, 'start\ndep evaluated\nhello 1\n');
  assert.equal(runNode(['--import', 'coldstart/register', 'deferred.ts'], { cwd: dir }).stdout, 'dep evaluated\nhello 2\n');
});
