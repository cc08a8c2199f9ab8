// Small programs learned without a pack (src/step-aside-learn.ts): on Node 22.15+, a run that
// loaded fewer than 40 CommonJS modules and needed nothing of coldstart's but the index writes a
// row beside the index at exit, and later runs of the same entry and arguments get plain Node
// from the register loader. Every rule that keeps a run from being learned, or voids what was
// learned, has a case here; Node 20 (and 22 before registerHooks) never learns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { dist, runCli, runNode, tempDir, writeTree } from '../helpers.mjs';

const register = join(dist, 'register.cjs');
const base = { COLDSTART_INDEX: '', COLDSTART_PACK: '', COLDSTART_PACK_VERIFY: '', COLDSTART_ROOT: '', COLDSTART_SHARED: '', COLDSTART_DEBUG: '', COLDSTART_STEP_ASIDE: '' };
const learns = Number(process.versions.node.split('.')[0]) >= 22 && typeof createRequire(import.meta.url)('node:module').registerHooks === 'function';
// Whether the core ran in the process: it keeps its state on this symbol.
const probe = 'console.log(require("small-lib"), typeof globalThis[Symbol.for("coldstart")]);';

function app(t, { modules = 2, coldstart, main = probe, extra = {}, dir = realpathSync(tempDir(t, 'coldstart-learned-')) } = {}) {
  const files = {
    'package.json': { name: 'app', private: true, ...(coldstart === undefined ? {} : { coldstart }) },
    'node_modules/.package-lock.json': '{"v":1}',
    'node_modules/small-lib/package.json': { name: 'small-lib', version: '1.0.0' },
    'node_modules/small-lib/index.js': `module.exports = [${Array.from({ length: modules - 1 }, (_, i) => `require("./m${i}")`).join(', ')}].length;`,
    'main.js': main,
    ...extra,
  };
  for (let i = 0; i < modules - 1; i++) files[`node_modules/small-lib/m${i}.js`] = `module.exports = ${i};`;
  writeTree(dir, files);
  return dir;
}

/** A run under coldstart/register; `core`: whether coldstart's core ran in it. */
function run(dir, env = {}, args = []) {
  const result = runNode(['--require', register, 'main.js', ...args], { cwd: dir, env: { ...base, ...env } });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stderr, '');
  return { ...result, core: result.stdout.includes('object') };
}

/** The learned files in the project (one per entry). */
function learnedFiles(dir) {
  const cache = join(dir, 'node_modules/.cache/coldstart');
  return readdirSync(cache).filter((name) => name.startsWith('small-')).map((name) => join(cache, name));
}

/** The index's report of a run (it makes the core load; the core decides as the register loader would). */
function indexReport(dir, env = {}, args = []) {
  const stats = join(dir, `stats-${Math.random().toString(36).slice(2)}.jsonl`);
  const result = runNode(['--require', register, 'main.js', ...args], { cwd: dir, env: { ...base, COLDSTART_INDEX_STATS: stats, ...env } });
  assert.equal(result.code, 0, result.stderr);
  const report = JSON.parse(readFileSync(stats, 'utf8').trim().split('\n')[0]);
  rmSync(stats);
  return report;
}

test('without a pack, a small program is served once, then gets plain Node; doctor says why', (t) => {
  const dir = app(t);
  const plain = runNode(['main.js'], { cwd: dir });
  const first = run(dir);
  assert.ok(first.core, 'the first run is served');
  assert.equal(first.stdout, plain.stdout.replace('undefined', 'object'));
  const second = run(dir);
  assert.equal(second.core, !learns, 'the second run steps aside where Node can tell every import');
  assert.equal(learnedFiles(dir).length, learns ? 1 : 0);
  if (!learns) return;
  assert.equal(second.stdout, plain.stdout);
  const report = indexReport(dir);
  assert.equal(report.state, 'aside', JSON.stringify(report));
  assert.match(report.reason, /an earlier run of main\.js loaded 3 modules: too few/);
  // COLDSTART_STEP_ASIDE=0 serves it.
  assert.ok(run(dir, { COLDSTART_STEP_ASIDE: '0' }).core);
  assert.equal(indexReport(dir, { COLDSTART_STEP_ASIDE: '0' }).state, 'used');
});

test('an edit to a first-party module the run loaded voids what was learned; the next run learns again', { skip: !learns }, (t) => {
  const dir = app(t, { main: `require("./helper.js"); ${probe}`, extra: { 'helper.js': 'module.exports = 1;' } });
  run(dir);
  assert.equal(run(dir).core, false);
  const later = new Date(Date.now() + 5000);
  utimesSync(join(dir, 'helper.js'), later, later);
  assert.ok(run(dir).core, 'served after the edit');
  assert.equal(run(dir).core, false, 'learned again');
  // An auto-defer configuration added since is a change the row watches too.
  writeFileSync(join(dir, 'coldstart.config.json'), JSON.stringify({ defer: ['small-lib'] }));
  assert.ok(run(dir).core, 'served once configured');
  assert.ok(run(dir).core, 'and not learned while configured');
});

test('other arguments are another program; the file keeps a hash of them, not their text', { skip: !learns }, (t) => {
  const dir = app(t);
  run(dir, {}, ['--token=hunter2']);
  assert.equal(run(dir, {}, ['--token=hunter2']).core, false);
  assert.ok(run(dir, {}, ['build']).core);
  const [file] = learnedFiles(dir);
  assert.doesNotMatch(readFileSync(file, 'utf8'), /hunter2/);
});

test('an install changed since voids what was learned (a package added may use import defer)', { skip: !learns }, (t) => {
  const dir = app(t);
  run(dir);
  assert.equal(run(dir).core, false);
  writeTree(dir, { 'node_modules/added/package.json': { name: 'added', version: '1.0.0' }, 'node_modules/added/index.js': 'module.exports = 1;' });
  const later = new Date(Date.now() + 5000);
  utimesSync(join(dir, 'node_modules'), later, later);
  assert.ok(run(dir).core, 'served after the install');
});

test('never learned: 40 modules or more, a defer configuration (even an empty one)', { skip: !learns }, (t) => {
  const cases = {
    'forty modules': app(t, { modules: 39 }),
    'auto-defer configuration': app(t, { coldstart: { defer: ['small-lib'] } }),
    // An empty list still installs defer's hooks, which transform `import.defer()` in first-party files.
    'empty defer configuration': app(t, { coldstart: { defer: [] } }),
  };
  for (const [name, dir] of Object.entries(cases)) {
    run(dir);
    assert.ok(run(dir).core, `${name}: served again`);
    assert.deepEqual(learnedFiles(dir), [], name);
  }
  // One module fewer is small (the entry, small-lib's index and 37 more: 39).
  const small = app(t, { modules: 38 });
  run(small);
  assert.equal(run(small).core, false);
});

test('ES modules count where the index answers import too (registerHooks), not beside the CommonJS patch', { skip: !learns }, (t) => {
  const esm = { 'e.mjs': 'export default 1;' };
  const cases = {
    'import()': { main: `import("./e.mjs").then(() => ${probe.slice(0, -1)});`, extra: esm },
    'require() of an ES module': { main: `require("./e.mjs"); ${probe}`, extra: esm },
    'an ES module exporting "module.exports"': { main: `require("./e.mjs"); ${probe}`, extra: { 'e.mjs': 'const api = { ok: 1 }; export { api as "module.exports" };' } },
  };
  for (const [name, shape] of Object.entries(cases)) {
    // In-thread hooks answer the ES modules' imports: an unseen graph may be large.
    const hooked = app(t, shape);
    run(hooked, { COLDSTART_HOOKS: 'registerHooks' });
    assert.ok(run(hooked, { COLDSTART_HOOKS: 'registerHooks' }).core, `${name}: served again`);
    assert.deepEqual(learnedFiles(hooked), [], name);
    // The CommonJS patch answers require() only: what the index can save is in require.cache.
    const patched = app(t, shape);
    run(patched, { COLDSTART_HOOKS: 'patch' });
    assert.equal(run(patched, { COLDSTART_HOOKS: 'patch' }).core, false, `${name}: learned beside the patch`);
  }
  // import() of CommonJS (webpack-cli imports envinfo so) loads no ES module.
  const imported = app(t, { main: `import("small-lib").then((lib) => console.log(lib.default, typeof globalThis[Symbol.for("coldstart")]));` });
  run(imported, { COLDSTART_HOOKS: 'registerHooks' });
  assert.equal(run(imported, { COLDSTART_HOOKS: 'registerHooks' }).core, false, 'import() of CommonJS: learned');
});

test('a corrupt or foreign-writable learned file is ignored, then replaced', { skip: !learns }, (t) => {
  const dir = app(t);
  run(dir);
  const [file] = learnedFiles(dir);
  const good = readFileSync(file, 'utf8');
  for (const bad of ['{"format":"coldstart-sm', '[]', JSON.stringify({ format: 'coldstart-small/1', aside: 'x' })]) {
    writeFileSync(file, bad);
    assert.ok(run(dir).core, bad);
    assert.equal(readFileSync(file, 'utf8'), good, 'rewritten');
  }
  chmodSync(file, 0o666);
  assert.ok(run(dir).core, 'writable by others: refused');
  assert.equal(run(dir).core, false, 'replaced');
});

test('a program learned small is still recorded whole by coldstart pack', { skip: !learns }, (t) => {
  const dir = app(t);
  run(dir);
  assert.equal(run(dir).core, false);
  const built = runCli(['pack', '--json', '--always', '--', process.execPath, 'main.js'], { cwd: dir, env: base });
  assert.equal(built.code, 0, built.stderr);
  assert.equal(JSON.parse(built.stdout).modules, 3);
  // With a pack in place, the pack decides: --always serves it.
  assert.ok(run(dir).core);
});

test('on a FUSE mount only a program of fewer than 5 modules steps aside: there every lookup is a round trip', { skip: !learns }, (t) => {
  if (spawnSync('bindfs', ['--version']).status !== 0 || !existsSync('/dev/fuse')) return t.skip('bindfs or /dev/fuse missing');
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'coldstart-learned-fuse-')));
  t.after(() => {
    for (const name of ['tiny', 'small']) spawnSync('fusermount', ['-u', join(dir, `${name}-mnt`)]);
    rmSync(dir, { recursive: true, force: true });
  });
  // The entry, small-lib's index and one more: 3. The entry, the index and four more: 6.
  for (const [name, modules, learned] of [['tiny', 2, true], ['small', 5, false]]) {
    const source = join(dir, name);
    const mount = join(dir, `${name}-mnt`);
    mkdirSync(source);
    mkdirSync(mount);
    app(t, { modules, dir: source });
    const mounted = spawnSync('bindfs', ['-o', 'attr_timeout=0,entry_timeout=0,negative_timeout=0', source, mount]);
    if (mounted.status !== 0) return t.skip(`bindfs could not mount: ${String(mounted.stderr).trim()}`);
    run(mount);
    assert.equal(run(mount).core, !learned, `${name}: ${learned ? 'steps aside' : 'served'}`);
    assert.equal(learnedFiles(mount).length, learned ? 1 : 0, name);
  }
});

test('a watched run keeps the timing of import(): a program that is never small prints what plain Node prints', { skip: !learns }, (t) => {
  const order = [
    'const log = [];',
    'import("./x.cjs").then(() => log.push("import"));',
    'import("node:path").then(() => log.push("builtin"));',
    'let p = Promise.resolve(); for (let i = 1; i <= 12; i++) p = p.then(() => log.push(i));',
    'setTimeout(() => console.log(log.join(",")));',
  ].join('\n');
  // 45 modules: served, and watched at every run.
  const dir = app(t, { modules: 45, main: `require("small-lib"); ${order}`, extra: { 'x.cjs': 'module.exports = 1;' } });
  const plain = runNode(['main.js'], { cwd: dir });
  // Built beforehand: the run that builds it is another matter.
  assert.equal(runCli(['index'], { cwd: dir, env: base }).code, 0);
  for (let i = 0; i < 2; i++) {
    const served = runNode(['--require', register, 'main.js'], { cwd: dir, env: base });
    assert.equal(served.stdout, plain.stdout);
  }
});

test('the learned rows live beside the index, which keeps its stamps: nothing is created in node_modules', { skip: !learns }, (t) => {
  const dir = app(t);
  const elsewhere = realpathSync(tempDir(t, 'coldstart-learned-index-'));
  const env = { COLDSTART_INDEX: join(elsewhere, 'index.v1') };
  assert.equal(runCli(['index'], { cwd: dir, env: { ...base, ...env } }).code, 0);
  const before = readdirSync(join(dir, 'node_modules')).sort();
  run(dir, env);
  assert.equal(run(dir, env).core, false, 'learned');
  assert.deepEqual(readdirSync(join(dir, 'node_modules')).sort(), before, 'no .cache folder made');
  assert.equal(readdirSync(elsewhere).filter((name) => name.startsWith('small-')).length, 1);
  assert.equal(indexReport(dir, { ...env, COLDSTART_STEP_ASIDE: '0' }).state, 'used', 'the index is still fresh');
});

test('a defer configuration above the project root, where the lookup goes on, voids what was learned', { skip: !learns }, (t) => {
  const outer = realpathSync(tempDir(t, 'coldstart-learned-outer-'));
  const dir = join(outer, 'p');
  app(t, { dir });
  // No package.json at the root: the configuration lookup climbs past it.
  rmSync(join(dir, 'package.json'));
  run(dir);
  assert.equal(run(dir).core, false, 'learned');
  writeFileSync(join(outer, 'package.json'), JSON.stringify({ coldstart: { defer: [] } }));
  assert.ok(run(dir).core, 'served once a configuration above it exists');
});

/** A project with a pack recorded for tool.js (big-lib: 45 modules); main.js loads none of them. */
function packedApp(t, extra = {}) {
  const big = {};
  for (let i = 0; i < 44; i++) big[`node_modules/big-lib/m${i}.js`] = `module.exports = ${i};`;
  const dir = app(t, {
    extra: {
      ...big,
      'node_modules/big-lib/package.json': { name: 'big-lib', version: '1.0.0' },
      'node_modules/big-lib/index.js': `module.exports = [${Array.from({ length: 44 }, (_, i) => `require("./m${i}")`).join(', ')}].length;`,
      'tool.js': 'console.log(require("big-lib"), typeof globalThis[Symbol.for("coldstart")]);',
      ...extra,
    },
  });
  const built = runCli(['pack', '--', process.execPath, 'tool.js'], { cwd: dir, env: base });
  assert.equal(built.code, 0, built.stderr);
  return dir;
}

test('beside a pack recorded for another program: a small program it serves nothing steps aside from its second run; a rebuilt or removed pack voids that', { skip: !learns }, (t) => {
  // uses-pack.js loads one module the pack holds: served, so never learned.
  const dir = packedApp(t, { 'uses-pack.js': `require("big-lib/m3"); ${probe}` });
  const pack = join(dir, 'node_modules/.cache/coldstart/pack.v1');
  assert.ok(existsSync(pack));
  const plain = runNode(['main.js'], { cwd: dir });
  assert.ok(run(dir).core, 'the first run is served (the pack has nothing for it)');
  const second = run(dir);
  assert.equal(second.core, false, 'learned beside the pack');
  assert.equal(second.stdout, plain.stdout);
  const report = indexReport(dir);
  assert.equal(report.state, 'aside', JSON.stringify(report));
  assert.match(report.reason, /an earlier run of main\.js loaded 3 modules: too few for the index and the pack, which served it nothing, to pay/);
  // The pack's own program is still served.
  for (let i = 0; i < 2; i++) {
    const tool = runNode(['--require', register, 'tool.js'], { cwd: dir, env: base });
    assert.equal(tool.code, 0, tool.stderr);
    assert.equal(tool.stdout, '44 object\n');
  }
  // A program the pack served a module is not learned.
  for (let i = 0; i < 3; i++) {
    const served = runNode(['--require', register, 'uses-pack.js'], { cwd: dir, env: base });
    assert.equal(served.code, 0, served.stderr);
    assert.match(served.stdout, /object/, `run ${i + 1} of uses-pack.js is served`);
  }
  // The pack rebuilt (it may hold this program now): the row is void until learned again.
  const later = new Date(Date.now() + 5000);
  utimesSync(pack, later, later);
  assert.ok(run(dir).core, 'served after the pack changed');
  assert.equal(run(dir).core, false, 'learned again');
  // The pack removed: a row learned beside it says nothing of a run without it.
  rmSync(pack);
  assert.ok(run(dir).core, 'served once the pack is gone');
  assert.equal(run(dir).core, false, 'learned again, without a pack');
  // A row learned without a pack says nothing of what a pack would serve.
  assert.equal(runCli(['pack', '--', process.execPath, 'tool.js'], { cwd: dir, env: base }).code, 0);
  assert.ok(run(dir).core, 'served beside the new pack');
  assert.equal(run(dir).core, false, 'and learned beside it');
  // Named by COLDSTART_PACK, relative to the working directory, as the core resolves it.
  for (const name of ['node_modules/.cache/coldstart/pack.v1', './node_modules/.cache/../.cache/coldstart/pack.v1']) {
    assert.equal(run(dir, { COLDSTART_PACK: name }).core, false, `the same pack, named ${name}`);
  }
});

test('what a run learned beside a pack holds only for runs like it: other preloads, a cluster worker, a file added where it looked, a pack rebuilt while it ran', { skip: !learns }, async (t) => {
  const served = (dir, args, env = {}) => {
    const result = runNode(['--require', register, ...args], { cwd: dir, env: { ...base, ...env } });
    assert.equal(result.code, 0, result.stderr);
    return result.stdout;
  };
  // A preload added on a later run may load what the pack holds: the row was learned without it.
  const preloaded = packedApp(t, { 'pre.js': 'require("big-lib");' });
  run(preloaded);
  assert.equal(run(preloaded).core, false);
  assert.match(served(preloaded, ['--require', './pre.js', 'main.js']), /object/, 'served with another preload');
  assert.equal(run(preloaded).core, false, 'and still learned for runs without it');
  // A cluster worker runs its primary's entry with its arguments and may load what the pack holds.
  const clustered = packedApp(t, {
    'main.js': [
      'const cluster = require("node:cluster");',
      'if (cluster.isPrimary) { cluster.fork().on("exit", () => console.log("primary", typeof globalThis[Symbol.for("coldstart")])); }',
      'else { console.log("worker", require("big-lib"), typeof globalThis[Symbol.for("coldstart")]); process.exit(0); }',
    ].join('\n'),
  });
  for (let i = 0; i < 3; i++) assert.match(served(clustered, ['main.js']), /worker 44 object/, `run ${i + 1}: the worker is served`);
  // An optional require() of a first-party file that is not there yet: added, it may load the pack's modules.
  const optional = packedApp(t, { 'main.js': `try { require("./plugin.js"); } catch {}\n${probe}` });
  run(optional);
  assert.equal(run(optional).core, false);
  writeFileSync(join(optional, 'plugin.js'), 'console.log("plugin", require("big-lib"));');
  assert.match(served(optional, ['main.js']), /plugin 44\n.*object/, 'served once the file is there');
  // A program that changes NODE_OPTIONS for its children is learned with the preloads it started with.
  const launcher = packedApp(t, { 'main.js': `process.env.NODE_OPTIONS = "--require ./child-hook.js";\n${probe}`, 'child-hook.js': '' });
  run(launcher);
  assert.equal(run(launcher).core, false, 'learned with its starting preloads');
  // coldstart's own register named another way (NODE_OPTIONS, as coldstart doctor adds it) is the same run.
  assert.doesNotMatch(served(launcher, ['--import', pathToFileURL(join(dist, 'register.js')).href, 'main.js']), /object/);
  // The index in the entry's own folder: writing the row there must not void it.
  const beside = packedApp(t);
  const inRoot = { COLDSTART_INDEX: './idx.v1' };
  run(beside, inRoot);
  assert.equal(run(beside, inRoot).core, false, 'learned with the index at the root');
  // A child forked from the program a pack recorded small still gets plain Node from the pack's row.
  const forked = app(t, { extra: { 'parent.js': 'require("node:child_process").fork("main.js").on("exit", (code) => process.exit(code));' } });
  assert.equal(runCli(['pack', '--', process.execPath, 'main.js'], { cwd: forked, env: base }).code, 0);
  assert.match(served(forked, ['parent.js']), /1 undefined/);
  // A pack rebuilt while the program ran did not serve it: nothing is learned from that run.
  const raced = packedApp(t, { 'main.js': `setTimeout(() => { ${probe} }, 1500);` });
  const child = spawn(process.execPath, ['--require', register, 'main.js'], { cwd: raced, env: { ...process.env, ...base }, stdio: 'ignore' });
  await new Promise((resolve) => setTimeout(resolve, 700));
  const later = new Date(Date.now() + 5000);
  utimesSync(join(raced, 'node_modules/.cache/coldstart/pack.v1'), later, later);
  await once(child, 'exit');
  assert.ok(run(raced).core, 'not learned from the run the pack changed under');
});

test('beside a stale pack (the install changed since it was made), which serves nothing, a small program is learned too; the pack rebuilt voids that', { skip: !learns }, (t) => {
  const dir = packedApp(t);
  writeTree(dir, { 'node_modules/added/package.json': { name: 'added', version: '1.0.0' }, 'node_modules/added/index.js': 'module.exports = 1;' });
  // Stats make the core load: it says the pack is stale, and learns nothing (a reporting run).
  const stats = join(tempDir(t, 'coldstart-learned-stats-'), 'pack.jsonl');
  assert.equal(runNode(['--require', register, 'main.js'], { cwd: dir, env: { ...base, COLDSTART_PACK_STATS: stats } }).code, 0);
  assert.equal(JSON.parse(readFileSync(stats, 'utf8').trim().split('\n')[0]).state, 'stale');
  run(dir);
  assert.equal(run(dir).core, false, 'learned beside the stale pack');
  assert.equal(runCli(['pack', '--', process.execPath, 'tool.js'], { cwd: dir, env: base }).code, 0);
  assert.ok(run(dir).core, 'served once the pack is rebuilt');
});
