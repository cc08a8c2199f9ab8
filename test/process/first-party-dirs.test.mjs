// What the index and the pack know of the project's own directories must not outlive a change
// there: a node_modules or package.json added below the root, or a nested package.json edited,
// gives exactly what plain Node gives on the next run, with no rebuild.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, realpathSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
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
  // Node 22 words a missing named export of a CommonJS module differently once any registerHooks
  // load hook exists (a pass-through one too): there, where and which line only.
  const hooked22 = process.versions.node.startsWith('22.');
  const head = (stderr) => {
    const lines = stderr.split('\n').filter((line) => !/^\s+at /.test(line));
    return (hooked22 && /does not provide an export named|Named export/.test(stderr) ? lines.slice(0, 3) : lines).join('\n');
  };
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

// Found by a review of the checks above.
test('after coldstart index: a package added to an existing node_modules in a project folder, and a symlinked package.json there, are seen', (t) => {
  const root = project(t, { 'src/node_modules/q/index.js': 'module.exports = "src q";', 'cfg/type.json': { type: 'module' } });
  const r = runCli(['index'], { cwd: root });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(compare(root, 'learning'), 'src q, root q');
  assert.equal(compare(root, 'as built'), 'src q, root q');
  writeTree(root, { 'src/node_modules/r/index.js': 'module.exports = "src r";', 'src/deep/lib.js': 'module.exports = [require("q"), require("r")].join(", ");' });
  assert.equal(compare(root, 'src/node_modules/r added'), 'src q, src r');
  // Node follows a symlinked package.json; the index leaves it to Node.
  symlinkSync('../../cfg/type.json', join(root, 'src/deep/package.json'));
  compareFailure(root, 'main.js', 'src/deep/package.json linked to a "type": "module" file');
});

test('after coldstart index: two project folders swapped by rename, their mtimes equal, answer as Node', (t) => {
  const root = project(t, {
    'src/a/node_modules/q/index.js': 'module.exports = "a-local q";',
    'src/a/x.js': 'module.exports = "a: " + require("q");',
    'src/b/x.js': 'module.exports = "b: " + require("q");',
    'main.js': 'console.log(require("./src/a/x"), "|", require("./src/b/x"));',
  });
  const when = new Date('2023-11-14T22:13:20Z');
  for (const dir of ['src/a', 'src/b']) utimesSync(join(root, dir), when, when);
  const r = runCli(['index'], { cwd: root });
  assert.equal(r.code, 0, r.stderr);
  compare(root, 'learning');
  renameSync(join(root, 'src/a'), join(root, 'src/t'));
  renameSync(join(root, 'src/b'), join(root, 'src/a'));
  renameSync(join(root, 'src/t'), join(root, 'src/b'));
  assert.equal(compare(root, 'swapped'), 'b: root q | a: a-local q');
});

test('after coldstart pack: a sub-project with a lockfile of its own upgrades a package; its new code runs', (t) => {
  const root = project(t, {
    'main.js': 'console.log(require("./srv/app"));',
    'srv/package.json': { name: 'srv', private: true },
    'srv/package-lock.json': '{"lockfileVersion":3}',
    'srv/app.js': 'module.exports = require("q");',
    'srv/node_modules/q/package.json': { name: 'q', version: '2.0.0' },
    'srv/node_modules/q/index.js': 'module.exports = "srv q 2";',
  });
  const r = runCli(['pack', '--always', '--', 'node', 'main.js'], { cwd: root, env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(compare(root, 'as packed'), 'srv q 2');
  // As a package manager does it: a new folder in place of the old one.
  rmSync(join(root, 'srv/node_modules/q'), { recursive: true });
  writeTree(root, { 'srv/node_modules/q/package.json': { name: 'q', version: '3.0.0' }, 'srv/node_modules/q/index.js': 'module.exports = "srv q 3";' });
  assert.equal(compare(root, 'upgraded'), 'srv q 3');
});

for (const [label, files, change, expected] of [
  [
    'a node_modules added in the importer\'s folder',
    { 'src/mid.js': 'const q = require("q");\nconsole.log("mid");\nexports.run = () => q.v;\n', 'node_modules/q/index.js': 'module.exports = { v: "root q" };\n' },
    { 'src/node_modules/q/index.js': 'console.log("src q loaded");\nmodule.exports = { v: "src q" };\n' },
    'src q loaded\nmid\nmain\nsrc q',
  ],
  [
    'the importer\'s "imports" pointed elsewhere',
    { 'src/package.json': { imports: { '#x': 'q' } }, 'src/mid.cjs': 'const q = require("#x");\nconsole.log("mid");\nexports.run = () => q.v;\n', 'node_modules/q/index.js': 'module.exports = { v: "root q" };\n', 'node_modules/r/index.js': 'console.log("r loaded");\nmodule.exports = { v: "root r" };\n' },
    { 'src/package.json': { imports: { '#x': 'r' } } },
    'r loaded\nmid\nmain\nroot r',
  ],
]) {
  test(`after coldstart pack --lazy: a deferred require of an installed package is voided by ${label}`, (t) => {
    const mid = Object.keys(files).find((name) => name.startsWith('src/mid'));
    const root = project(t, { ...files, 'main.js': `const m = require("./${mid}");\nconsole.log("main");\nconsole.log(m.run());\n` });
    const r = runCli(['pack', '--always', '--lazy', '--', 'node', 'main.js'], { cwd: root, env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout + r.stderr, /1 require/, `${mid} defers its require`);
    compare(root, 'as packed');
    writeTree(root, change);
    assert.equal(compare(root, label), expected);
    // doctor says why the deferral is gone.
    const doctor = runCli(['doctor', '--', 'node', 'main.js'], { cwd: root, env });
    assert.match(doctor.stdout + doctor.stderr, /1 learned-deferral rewrite served as written/);
  });
}

test('strace: a served run asks about each project folder and nested package.json once, whoever asks (index or pack)', (t) => {
  if (spawnSync('strace', ['-V']).status !== 0) {
    t.skip('strace is not installed');
    return;
  }
  const files = { 'src/package.json': { name: 'inner' } };
  const lines = [];
  for (const m of ['m0', 'm1', 'm2']) {
    for (const s of ['a', 'b']) {
      files[`src/${m}/${s}/f.js`] = 'module.exports = [require("q"), require("r")].join();';
      lines.push(`require("./src/${m}/${s}/f.js");`);
    }
  }
  const root = project(t, { ...files, 'main.js': `${lines.join('\n')}\nconsole.log("done");\n` });
  const r = runCli(['pack', '--always', '--', 'node', 'main.js'], { cwd: root, env });
  assert.equal(r.code, 0, r.stderr);
  compare(root, 'learning');
  // Per folder and package.json under src/, how often a run names it (Node's own realpath
  // lstats every folder once, and it reads each package.json on the way).
  const asked = (args) => {
    const log = join(root, `strace-${Math.random().toString(36).slice(2)}.txt`);
    const traced = spawnSync('strace', ['-f', '-qq', '-e', 'trace=%file', '-o', log, process.execPath, ...args, 'main.js'], { cwd: root, encoding: 'utf8', env: { ...process.env, ...env, NODE_OPTIONS: '' } });
    assert.equal(traced.stdout, 'done\n', traced.stderr);
    const counts = new Map();
    for (const line of readFileSync(log, 'utf8').split('\n')) {
      const path = /^\d+\s+\w+\((?:AT_FDCWD, )?"([^"]+)"/.exec(line)?.[1];
      if (path?.startsWith(`${root}/src`) && !path.endsWith('.js')) counts.set(path, (counts.get(path) ?? 0) + 1);
    }
    rmSync(log);
    return counts;
  };
  const plain = asked([]);
  const served = asked(['--require', register]);
  // (A package.json may be read less often than by Node: the pack skips Node's own lookup of it.)
  for (const dir of ['src/m0', 'src/m0/a', 'src/m2/b']) assert.ok((served.get(join(root, dir)) ?? 0) > (plain.get(join(root, dir)) ?? 0), `${dir} is checked`);
  const more = [...served].filter(([path, count]) => count > (plain.get(path) ?? 0) + 1);
  assert.deepEqual(more, [], 'each is asked about once more than by plain Node, not more');
});

// Found by a second review: what must keep working, and two more ways to be wrong.
test('after coldstart pack --lazy: a deferral of a package linked into a workspace folder (pnpm) is served', (t) => {
  const root = project(t, {
    'node_modules/.pnpm/s@1.0.0/node_modules/s/package.json': { name: 's', version: '1.0.0' },
    'node_modules/.pnpm/s@1.0.0/node_modules/s/index.js': 'module.exports = "s";',
    'app/package.json': { name: 'app', version: '1.0.0' },
    'app/src/m.js': 'const s = require("s");\nexports.f = () => s;\nexports.v = 1;\n',
    'app/main.js': 'const m = require("./src/m");\nconsole.log(m.v);\n',
  });
  mkdirSync(join(root, 'app/node_modules'));
  symlinkSync('../../node_modules/.pnpm/s@1.0.0/node_modules/s', join(root, 'app/node_modules/s'));
  const r = runCli(['pack', '--always', '--lazy', '--', 'node', 'app/main.js'], { cwd: root, env });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout + r.stderr, /1 require/);
  const stats = join(root, 'stats.jsonl');
  const served = runNode(['--require', register, 'app/main.js'], { cwd: root, env: { ...env, COLDSTART_PACK_STATS: stats } });
  assert.equal(served.stdout, '1\n', served.stderr);
  assert.match(readFileSync(stats, 'utf8'), /"deferredRequires":1/);
});

test('after coldstart index: a tool\'s cache folder made in a sub-project\'s node_modules keeps the answers', (t) => {
  const root = project(t, { 'app/node_modules/s/index.js': 'module.exports = "app s";', 'app/x.js': 'module.exports = [require("s"), require("q")].join(", ");', 'main.js': 'console.log(require("./app/x"));' });
  assert.equal(runCli(['index'], { cwd: root }).code, 0);
  compare(root, 'learning');
  mkdirSync(join(root, 'app/node_modules/.vite'));
  const r = runNode(['--require', register, 'main.js'], { cwd: root, env: { ...env, COLDSTART_DEBUG: '1' } });
  assert.equal(r.stdout, 'app s, root q\n', r.stderr);
  assert.doesNotMatch(r.stderr, /from .*app\/x\.js: asking Node|app\/node_modules changed/, r.stderr);
  // A package added there is still seen.
  writeTree(root, { 'app/node_modules/q/index.js': 'module.exports = "app q";' });
  assert.equal(compare(root, 'app/node_modules/q added'), 'app s, app q');
});

test('after coldstart pack: a package.json linked to a file that does not exist yet, then does, is obeyed', (t) => {
  const root = project(t, { 'cjs.js': 'console.log(require("./sub/lib").v);\n', 'sub/lib.js': 'exports.v = "from lib";\n' });
  symlinkSync('../type.json', join(root, 'sub/package.json'));
  const r = runCli(['pack', '--always', '--', 'node', 'cjs.js'], { cwd: root, env });
  assert.equal(r.code, 0, r.stderr);
  compareFailure(root, 'cjs.js', 'dangling');
  writeFileSync(join(root, 'type.json'), JSON.stringify({ type: 'module' }));
  assert.notEqual(compareFailure(root, 'cjs.js', 'link target made').code, 0);
});

test('after coldstart index: a project folder that can be passed through but not listed is left to Node', (t) => {
  if (process.getuid?.() !== 0) {
    t.skip('needs root to run as another user');
    return;
  }
  const root = project(t, { 'src/x/node_modules/r/index.js': 'module.exports = "local r";', 'src/x/y/m.js': 'module.exports = [require("r"), require("q")].join(", ");', 'main.js': 'console.log(require("./src/x/y/m"));' });
  assert.equal(runCli(['index'], { cwd: root }).code, 0);
  compare(root, 'learning');
  chmodSync(root, 0o755);
  chmodSync(join(root, 'src/x'), 0o311);
  const as = (args) => spawnSync(process.execPath, args, { cwd: root, uid: 65534, gid: 65534, encoding: 'utf8', env: { ...process.env, ...env, HOME: root, NODE_OPTIONS: '', COLDSTART_DEBUG: '' } });
  const plain = as(['main.js']);
  const ours = as(['--require', register, 'main.js']);
  assert.equal(plain.stdout, 'local r, root q\n', plain.stderr);
  assert.equal(ours.stdout, plain.stdout, ours.stderr);
});

// Found by a third review: sub-projects with node_modules of their own.
test('after coldstart index: a learned answer from a package in a sub-project\'s node_modules, and one from a folder that gains a linked node_modules, follow the change', (t) => {
  const root = project(t, {
    'tools/node_modules/p/index.js': 'module.exports = "p sees " + require("q");',
    'tools/run.js': 'console.log(require("p"));',
    'other/q/index.js': 'module.exports = "linked q";',
    'web/src/run.js': 'console.log(require("q"));',
  });
  assert.equal(runCli(['index'], { cwd: root }).code, 0);
  const run = (entry) => {
    const plain = runNode([entry], { cwd: root });
    const ours = runNode(['--require', register, entry], { cwd: root, env });
    assert.deepEqual([ours.stdout, ours.code], [plain.stdout, plain.code], `${entry}: ${ours.stderr}`);
    return plain.stdout.trim();
  };
  for (const entry of ['tools/run.js', 'web/src/run.js']) run(entry);
  writeTree(root, { 'tools/node_modules/q/index.js': 'module.exports = "tools q";' });
  assert.equal(run('tools/run.js'), 'p sees tools q');
  symlinkSync('../other', join(root, 'web/node_modules'));
  assert.equal(run('web/src/run.js'), 'linked q');
});

for (const [label, files, change, entry, expected] of [
  [
    'an "imports" target found beside the nested package.json',
    { 'src/package.json': { imports: { '#x': 'q' } }, 'src/mid.js': 'const q = require("#x");\nconsole.log("mid");\nexports.run = () => q;\n', 'main.js': 'const m = require("./src/mid");\nconsole.log("main", m.run());\n' },
    { 'src/node_modules/q/index.js': 'console.log("src q loaded");\nmodule.exports = "src q";\n' },
    'main.js',
    'src q loaded\nmid\nmain src q',
  ],
  [
    'a package the deferred sub-project package requires, added beside it',
    { 'tools/node_modules/p/index.js': 'module.exports = "p sees " + require("q");', 'tools/mid.js': 'const p = require("p");\nconsole.log("mid");\nexports.run = () => p;\n', 'tools/run.js': 'const m = require("./mid");\nconsole.log("main", m.run());\n' },
    { 'tools/node_modules/q/index.js': 'console.log("tools q loaded");\nmodule.exports = "tools q";\n' },
    'tools/run.js',
    'tools q loaded\nmid\nmain p sees tools q',
  ],
]) {
  test(`after coldstart pack --lazy: a deferral is voided by ${label}`, (t) => {
    const root = project(t, files);
    const r = runCli(['pack', '--always', '--lazy', '--', 'node', entry], { cwd: root, env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout + r.stderr, /[1-9] require/);
    runNode(['--require', register, entry], { cwd: root, env });
    writeTree(root, change);
    const plain = runNode([entry], { cwd: root });
    const ours = runNode(['--require', register, entry], { cwd: root, env });
    assert.equal(plain.stdout.trim(), expected);
    assert.equal(ours.stdout, plain.stdout, ours.stderr);
  });
}
