// What the index and the pack know of the project's own directories must not outlive a change
// there: a node_modules or package.json added below the root, or a nested package.json edited,
// gives exactly what plain Node gives on the next run, with no rebuild.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dist, runCli, runNode, tempDir, writeTree } from '../helpers.mjs';

const register = join(dist, 'register.cjs');
// Small programs are left to Node (step-aside.ts); these must go through the index.
const env = { COLDSTART_STEP_ASIDE: '0' };

function project(t, extra = {}) {
  const root = realpathSync(tempDir(t, 'coldstart-firstparty-'));
  writeTree(root, {
    'package.json': { name: 'app', private: true, imports: { '#x': 'q' } },
    'package-lock.json': '{"lockfileVersion":3}',
    'node_modules/.package-lock.json': '{"lockfileVersion":3}',
    'node_modules/q/package.json': { name: 'q', version: '1.0.0' },
    'node_modules/q/index.js': 'module.exports = "root q";',
    'node_modules/r/package.json': { name: 'r', version: '1.0.0' },
    'node_modules/r/index.js': 'module.exports = "root r";',
    'main.js': 'console.log(require("./src/deep/lib"));',
    'src/deep/lib.js': 'module.exports = [require("q"), require("#x")].join(", ");',
    ...extra,
  });
  return root;
}

function compare(root, label) {
  const plain = runNode(['main.js'], { cwd: root });
  assert.equal(plain.code, 0, plain.stderr);
  const ours = runNode(['--require', register, 'main.js'], { cwd: root, env });
  assert.deepEqual({ code: ours.code, stdout: ours.stdout, stderr: ours.stderr }, { code: plain.code, stdout: plain.stdout, stderr: plain.stderr }, label);
  return plain.stdout.trim();
}

for (const made of ['index', 'pack']) {
  const build = (root) => {
    const r = made === 'index' ? runCli(['index'], { cwd: root }) : runCli(['pack', '--always', '--', 'node', 'main.js'], { cwd: root, env });
    assert.equal(r.code, 0, r.stderr);
    // The first run learns its answers; the next ones answer from them.
    assert.equal(compare(root, 'learning'), 'root q, root q');
    assert.equal(compare(root, 'as built'), 'root q, root q');
  };

  test(`after coldstart ${made}: a node_modules added in a first-party folder shadows the installed package`, (t) => {
    const root = project(t);
    build(root);
    writeTree(root, { 'src/node_modules/q/package.json': { name: 'q', version: '2.0.0' }, 'src/node_modules/q/index.js': 'module.exports = "src q";' });
    assert.equal(compare(root, 'src/node_modules added'), 'src q, root q');
  });

  test(`after coldstart ${made}: a package.json added in a first-party folder takes over its "imports"`, (t) => {
    const root = project(t);
    build(root);
    writeFileSync(join(root, 'src/deep/package.json'), JSON.stringify({ imports: { '#x': 'r' } }));
    assert.equal(compare(root, 'src/deep/package.json added'), 'root q, root r');
  });

  test(`after coldstart ${made}: a nested package.json edited in place changes its "imports"`, (t) => {
    const root = project(t, { 'src/package.json': { imports: { '#x': 'q' } } });
    build(root);
    writeFileSync(join(root, 'src/package.json'), JSON.stringify({ imports: { '#x': 'r' } }));
    assert.equal(compare(root, 'src/package.json edited'), 'root q, root r');
  });

  test(`after coldstart ${made}: a file added in a first-party folder keeps the answers`, (t) => {
    const root = project(t);
    build(root);
    mkdirSync(join(root, 'src/deep/more'));
    writeFileSync(join(root, 'src/deep/notes.txt'), 'a file beside lib.js');
    const r = runNode(['--require', register, 'main.js'], { cwd: root, env: { ...env, COLDSTART_DEBUG: '1' } });
    assert.equal(r.stdout.trim(), 'root q, root q');
    assert.match(r.stderr, /src\/deep changed since the index was built; its entries are read again/);
    assert.doesNotMatch(r.stderr, /q from .*asking Node/, r.stderr);
  });
}

// Node takes a `.js` file's format from its package scope: the pack recorded it, so a nested
// "type" added or changed must send those files back to Node (and void a deferral of them).
function compareFailure(root, entry, label) {
  const plain = runNode([entry], { cwd: root });
  const ours = runNode(['--require', register, entry], { cwd: root, env });
  // The message Node prints, and where; the loader frames below it may hold coldstart's handler.
  const head = (stderr) => stderr.split('\n').filter((line) => !/^\s+at /.test(line)).join('\n');
  assert.deepEqual({ code: ours.code, stdout: ours.stdout, stderr: head(ours.stderr) }, { code: plain.code, stdout: plain.stdout, stderr: head(plain.stderr) }, label);
  return plain;
}

for (const lazy of [false, true]) {
  test(`after coldstart pack${lazy ? ' --lazy' : ''}: a nested package.json that makes .js files ES modules is obeyed`, (t) => {
    const root = project(t, {
      // A module the entry requires defers its require of sub/lib.js in a lazy pack.
      'cjs.js': 'console.log(require("./mid").run());\n',
      'mid.js': 'const lib = require("./sub/lib");\nconsole.log("mid");\nexports.run = () => lib.v;\n',
      'sub/lib.js': 'exports.v = "from lib";\n',
    });
    const r = runCli(['pack', '--always', ...(lazy ? ['--lazy'] : []), '--', 'node', 'cjs.js'], { cwd: root, env });
    assert.equal(r.code, 0, r.stderr);
    if (lazy) assert.match(r.stdout + r.stderr, /1 require/, 'mid.js defers sub/lib.js');
    compareFailure(root, 'cjs.js', 'as packed');
    writeFileSync(join(root, 'sub/package.json'), JSON.stringify({ type: 'module' }));
    const plain = compareFailure(root, 'cjs.js', 'sub/package.json added');
    assert.notEqual(plain.code, 0, 'plain Node now fails to run sub/lib.js as CommonJS');
  });
}

test('after coldstart pack: a nested "type" changed from module to commonjs is obeyed', (t) => {
  const root = project(t, {
    'esm.mjs': 'import { v } from "./sub/lib.js";\nconsole.log(v);\n',
    'sub/package.json': { type: 'module' },
    'sub/lib.js': 'export const v = "esm lib";\n',
  });
  const r = runCli(['pack', '--always', '--', 'node', 'esm.mjs'], { cwd: root, env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(compareFailure(root, 'esm.mjs', 'as packed').stdout, 'esm lib\n');
  writeFileSync(join(root, 'sub/package.json'), JSON.stringify({ type: 'commonjs' }));
  assert.notEqual(compareFailure(root, 'esm.mjs', 'type changed').code, 0);
});
