// A package.json rewritten without a change to what resolution, format or coldstart's settings
// read from it (a version bump, a script added, an install that reformats it) keeps the index,
// the pack and learned deferral in use; a change to one of those fields is obeyed at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { realpathSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dist, runCli, runNode, tempDir, writeTree } from '../helpers.mjs';

const register = join(dist, 'register.cjs');
const env = { COLDSTART_STEP_ASIDE: '0' };

function project(t, extra = {}) {
  const root = realpathSync(tempDir(t, 'coldstart-pjson-'));
  writeTree(root, {
    'package.json': { name: 'app', version: '1.0.0', private: true, imports: { '#x': 'q' } },
    'package-lock.json': '{"lockfileVersion":3}',
    'node_modules/.package-lock.json': '{"lockfileVersion":3}',
    'node_modules/q/package.json': { name: 'q', version: '1.0.0' },
    'node_modules/q/index.js': 'module.exports = "root q";',
    'node_modules/r/package.json': { name: 'r', version: '1.0.0' },
    'node_modules/r/index.js': 'module.exports = "root r";',
    'src/package.json': { name: 'inner', version: '1.0.0', imports: { '#y': 'q' } },
    'main.js': 'console.log(require("./src/deep/lib"));',
    'src/deep/lib.js': 'module.exports = [require("q"), require("#y")].join(", ");',
    ...extra,
  });
  return root;
}

function compare(root, label, entry = 'main.js') {
  const plain = runNode([entry], { cwd: root });
  const ours = runNode(['--require', register, entry], { cwd: root, env });
  assert.deepEqual({ code: ours.code, stdout: ours.stdout, stderr: ours.stderr }, { code: plain.code, stdout: plain.stdout, stderr: plain.stderr }, label);
  return plain.stdout.trim();
}

/** Rewrites a package.json as a tool would: other fields changed, reformatted, a later mtime. */
function rewrite(root, file, change) {
  const path = join(root, file);
  const data = { ...JSON.parse(runNode(['-p', `JSON.stringify(require(${JSON.stringify(path)}))`]).stdout), ...change };
  writeFileSync(path, `${JSON.stringify(data, null, 4)}\n`);
  const later = new Date(Date.now() + 5000);
  utimesSync(path, later, later);
}

const doctor = (root, options = { env }) => {
  const r = runCli(['doctor', '--', 'node', 'main.js'], { cwd: root, ...options });
  return r.stdout + r.stderr;
};

test('after coldstart index: package.json files rewritten with the same fields keep the index and its learned answers', (t) => {
  const root = project(t);
  assert.equal(runCli(['index'], { cwd: root }).code, 0);
  assert.equal(compare(root, 'learning'), 'root q, root q');
  assert.equal(compare(root, 'as built'), 'root q, root q');
  rewrite(root, 'src/package.json', { version: '1.0.1', description: 'the same imports' });
  assert.equal(compare(root, 'src/package.json rewritten'), 'root q, root q');
  assert.match(doctor(root), /learned answers reused: 2/, 'the answers from src/deep still hold');
  rewrite(root, 'package.json', { version: '1.0.1', scripts: { test: 'node main.js' } });
  const debug = runNode(['--require', register, 'main.js'], { cwd: root, env: { ...env, COLDSTART_DEBUG: '1' } });
  assert.equal(debug.stdout, 'root q, root q\n');
  assert.doesNotMatch(debug.stderr, /package\.json changed|building it/, 'the index is not rebuilt');
  const said = doctor(root);
  assert.match(said, /state: +fresh/);
  assert.match(said, /learned answers reused: 2/, 'the answers from src/deep still hold');
  // What the fields say is still obeyed at once.
  rewrite(root, 'src/package.json', { imports: { '#y': 'r' } });
  assert.equal(compare(root, 'src/package.json "imports" changed'), 'root q, root r');
  rewrite(root, 'package.json', { name: 'renamed' });
  assert.match(doctor(root), /package\.json changed/, 'a changed "name" makes the index stale');
});

test('after coldstart pack: package.json files rewritten with the same fields keep serving; a "type" or "coldstart" change does not', (t) => {
  const root = project(t, {
    'src/deep/more.js': 'module.exports = "more";',
    'main.js': 'console.log(require("./src/deep/lib"), require("./src/deep/more"));',
  });
  const r = runCli(['pack', '--always', '--', 'node', 'main.js'], { cwd: root, env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(compare(root, 'as packed'), 'root q, root q more');
  const served = /pack: \d+ module loads served from it, 0 read from disk \(not in the pack\), 0 changed since packing/;
  rewrite(root, 'src/package.json', { version: '2.0.0' });
  assert.equal(compare(root, 'src/package.json rewritten'), 'root q, root q more');
  assert.match(doctor(root), served, 'src/deep/*.js are still served');
  rewrite(root, 'package.json', { version: '2.0.0' });
  assert.equal(compare(root, 'rewritten'), 'root q, root q more');
  const said = doctor(root);
  assert.match(said, /pack state: +fresh/);
  assert.match(said, served);
  // A nested "type" sends src/'s modules to Node, which now fails to load them as CommonJS.
  rewrite(root, 'src/package.json', { type: 'module' });
  const plain = runNode(['main.js'], { cwd: root });
  const ours = runNode(['--require', register, 'main.js'], { cwd: root, env });
  assert.notEqual(plain.code, 0);
  assert.equal(ours.code, plain.code, ours.stderr);
  rewrite(root, 'src/package.json', { type: undefined });
  // coldstart's own settings (the eager list learned deferral was built with) are part of it.
  rewrite(root, 'package.json', { coldstart: { eager: ['src/**'] } });
  assert.match(doctor(root), /pack state: +STALE \(package\.json changed\)/);
});

test('after coldstart pack --lazy: a deferral watching a package.json survives its rewrite with the same fields', (t) => {
  const root = project(t, {
    'src/mid.js': 'const q = require("#y");\nconsole.log("mid");\nexports.run = () => q;\n',
    'main.js': 'const m = require("./src/mid");\nconsole.log("main");\nconsole.log(m.run());\n',
  });
  const r = runCli(['pack', '--always', '--lazy', '--', 'node', 'main.js'], { cwd: root, env });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout + r.stderr, /1 require/, 'src/mid.js defers its require');
  assert.equal(compare(root, 'as packed'), 'mid\nmain\nroot q');
  rewrite(root, 'src/package.json', { version: '3.0.0', scripts: { build: 'true' } });
  assert.equal(compare(root, 'rewritten'), 'mid\nmain\nroot q');
  assert.match(doctor(root), /1 require in the served modules loads? at first use|1 requires? .*at first use/);
  assert.doesNotMatch(doctor(root), /served as written/);
});

// Node 20 gets no new optimisation: it never steps aside.
const stepsAside = Number(process.versions.node.split('.')[0]) >= 22;

test('a small program the pack steps aside for is still stepped aside for after its package.json is rewritten', { skip: !stepsAside && 'Node 20 never steps aside' }, (t) => {
  const root = project(t);
  const r = runCli(['pack', '--', 'node', 'main.js'], { cwd: root });
  assert.equal(r.code, 0, r.stderr);
  assert.match(doctor(root, {}), /index aside/);
  rewrite(root, 'package.json', { version: '1.2.3' });
  assert.match(doctor(root, {}), /index aside/, 'the start still trusts the pack');
  const plain = runNode(['main.js'], { cwd: root });
  const ours = runNode(['--require', register, 'main.js'], { cwd: root });
  assert.deepEqual(ours, plain);
});

test('a package.json that starts with a byte order mark is read as Node reads it: a "type" changed there is obeyed', (t) => {
  const root = project(t, { 'main.js': 'console.log(require("./src/deep/lib"), require("./lib.js"));', 'lib.js': 'module.exports = 42;' });
  const withMark = (data) => writeFileSync(join(root, 'package.json'), `\uFEFF${JSON.stringify(data)}`);
  withMark({ name: 'app', private: true, imports: { '#x': 'q' }, type: 'commonjs' });
  const r = runCli(['pack', '--always', '--', 'node', 'main.js'], { cwd: root, env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(compare(root, 'as packed'), 'root q, root q 42');
  withMark({ name: 'app', private: true, imports: { '#x': 'q' }, type: 'commonjs', version: '2.0.0' });
  assert.match(doctor(root), /pack state: +fresh/, 'the same fields: still fresh');
  withMark({ name: 'app', private: true, imports: { '#x': 'q' }, type: 'module' });
  const plain = runNode(['main.js'], { cwd: root });
  const ours = runNode(['--require', register, 'main.js'], { cwd: root, env });
  assert.notEqual(plain.code, 0, 'main.js is an ES module now');
  assert.equal(ours.code, plain.code, ours.stdout);
  assert.equal(ours.stdout, plain.stdout);
});
