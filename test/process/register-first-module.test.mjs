// A process with no script (`node -e`, `node -p`, the REPL) activates coldstart at its first
// require() or import() on Node 22+, so one that loads nothing pays for one small file only.
// Every other process (a script, a worker, module-typed eval code, Node 20) activates at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { dist, runNode, tempDir, writeTree } from '../helpers.mjs';

const register = join(dist, 'register.cjs');
const waits = Number(process.versions.node.split('.')[0]) >= 22;
const activated = 'typeof globalThis[Symbol.for("coldstart")]?.activated';

function project(t) {
  const root = realpathSync(tempDir(t, 'coldstart-first-'));
  writeTree(root, {
    'package.json': { name: 'app', private: true },
    'node_modules/.package-lock.json': '{"v":1}',
    'node_modules/dep/package.json': { name: 'dep', version: '1.0.0', main: 'index.js' },
    'node_modules/dep/index.js': 'module.exports = "dep";',
    'node_modules/dep2/package.json': { name: 'dep2', version: '1.0.0', main: 'index.js' },
    'node_modules/dep2/index.js': 'module.exports = "dep2";',
    'mock.js': 'module.exports = "mock";',
    'node_modules/esm-dep/package.json': { name: 'esm-dep', type: 'module', exports: './index.js' },
    'node_modules/esm-dep/index.js': 'export default "esm-dep";',
    'wrap.cjs': [
      '// Another tool wrapping require() resolution after coldstart/register came in.',
      'const Module = process.getBuiltinModule("node:module");',
      'const original = Module._resolveFilename;',
      'let calls = 0;',
      'Module._resolveFilename = function (...args) { calls++; return original.apply(this, args); };',
      'process.on("exit", () => console.log("wrapper calls", calls > 0));',
    ].join('\n'),
    'script.cjs': `console.log(${activated});`,
  });
  // The index, built once by a process that has a script.
  assert.equal(runNode(['--require', register, 'script.cjs'], { cwd: root }).code, 0);
  return root;
}

function run(root, args, env = {}) {
  const stats = join(root, `stats-${Math.random().toString(36).slice(2)}.jsonl`);
  const result = runNode(['--require', register, ...args], { cwd: root, env: { COLDSTART_INDEX_STATS: stats, ...env } });
  assert.equal(result.code, 0, result.stderr);
  const reports = existsSync(stats) ? readFileSync(stats, 'utf8').trim().split('\n').map((line) => JSON.parse(line)) : [];
  return { ...result, reports };
}

test('node -e that loads nothing, or only builtins, never activates (Node 22+)', (t) => {
  const root = project(t);
  const idle = run(root, ['-e', `require("node:fs"); process.on("exit", () => console.log(${activated}))`]);
  assert.equal(idle.stdout, waits ? 'undefined\n' : 'function\n');
  assert.equal(idle.reports.length, waits ? 0 : 1, 'the index is opened only by a process that activated');
});

test('the first require() activates, and is itself answered by the index', (t) => {
  const root = project(t);
  const first = run(root, ['-p', `require("dep") + " " + ${activated}`]);
  assert.equal(first.stdout, 'dep function\n');
  assert.equal(first.reports.length, 1);
  assert.equal(first.reports[0].state, 'used');
  assert.equal(first.reports[0].counts.hits, 1, JSON.stringify(first.reports[0].counts));
});

test('the first import() activates before Node resolves it', (t) => {
  const root = project(t);
  const result = run(root, ['-e', `import("esm-dep").then((m) => console.log(m.default, ${activated}))`]);
  assert.equal(result.stdout, 'esm-dep function\n');
  assert.equal(result.reports.length, 1);
});

test('a resolution wrapper installed after coldstart still runs, and so does coldstart', (t) => {
  const root = project(t);
  const result = run(root, ['--require', './wrap.cjs', '-p', `require("dep") + " " + ${activated}`]);
  // `-p` prints before or after exit listeners depending on the Node: compare the lines as a set.
  const lines = (text) => text.trim().split('\n').sort();
  assert.deepEqual(lines(result.stdout), ['dep function', 'wrapper calls true']);
  assert.equal(result.reports[0]?.state, 'used');
  // And the second require goes through both as well.
  const twice = run(root, ['--require', './wrap.cjs', '-p', `require("dep") + require("dep/package.json").name`]);
  assert.deepEqual(lines(twice.stdout), ['depdep', 'wrapper calls true']);
});

test('a script, module-typed eval code and a worker activate at once', (t) => {
  const root = project(t);
  assert.equal(run(root, ['script.cjs']).stdout, 'function\n');
  const typed = run(root, ['--input-type=module', '-e', `console.log(${activated})`]);
  assert.equal(typed.stdout, 'function\n');
  const worker = run(root, ['-e', [
    'const { Worker } = require("node:worker_threads");',
    `new Worker(${JSON.stringify(`require("node:worker_threads").parentPort.postMessage(${activated})`)}, { eval: true }).on("message", (m) => console.log("worker", m));`,
  ].join('\n')]);
  assert.equal(worker.stdout, 'worker function\n');
});

test('loader changes -e code makes before its first require keep the order of an activation at start', (t) => {
  const root = project(t);
  const cases = [
    // Another tool's load hook, registered first: it sees the file (the source steps step aside).
    ['TRANSFORMED', [
      'require("node:module").registerHooks({ load(url, context, next) {',
      '  const result = next(url, context);',
      '  return url.endsWith("/dep/index.js") ? { ...result, source: "module.exports = \'TRANSFORMED\'" } : result;',
      '} });',
      'console.log(require("dep"));',
    ]],
    // A replaced extension handler wraps coldstart's, as it would have at start.
    ['CUSTOM', [
      'const old = require.extensions[".js"];',
      'require.extensions[".js"] = function (module, filename) {',
      '  return filename.endsWith("/dep/index.js") ? module._compile("module.exports = \'CUSTOM\'", filename) : old(module, filename);',
      '};',
      'console.log(require("dep"));',
    ]],
    // A resolution mock stays in front of the index for every require, the first and the later ones.
    ['dep2 mock', [
      'const Module = require("node:module");',
      'const original = Module._resolveFilename;',
      'Module._resolveFilename = function (request, ...rest) { return request === "dep" ? process.cwd() + "/mock.js" : original.call(this, request, ...rest); };',
      'console.log(require("dep2"), require("dep"));',
    ]],
  ];
  for (const [want, lines] of cases) {
    // module.registerHooks is Node 22.15+.
    if (want === 'TRANSFORMED' && typeof process.getBuiltinModule('node:module').registerHooks !== 'function') continue;
    const result = run(root, ['-e', lines.join('\n')]);
    assert.equal(result.stdout, `${want}\n`, lines.join('\n'));
    assert.equal(result.reports.length, 1, 'coldstart activated');
  }
});

test('a process whose loader another tool changes before any module still starts as plain Node does', (t) => {
  const root = project(t);
  const plain = runNode(['-e', 'console.log(Object.keys(require.extensions).join(), typeof require("node:module")._resolveFilename)'], { cwd: root });
  const ours = run(root, ['-e', 'console.log(Object.keys(require.extensions).join(), typeof require("node:module")._resolveFilename)']);
  assert.equal(ours.stdout, plain.stdout);
});
