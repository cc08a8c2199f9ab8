// Learned deferral (`coldstart pack --lazy`): a program whose dependencies exercise every safety
// rule prints what it prints under plain Node, and the pack's header shows each rule's decision
// (so removing a rule fails a named assertion before it fails the output comparison).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { dist, runCli, runNode, tempDir, writeTree } from '../helpers.mjs';

const { readPackFile } = await import(pathToFileURL(join(dist, 'pack/store.js')).href);
const register = pathToFileURL(join(dist, 'register.js')).href;
const base = { COLDSTART_INDEX: 'off', COLDSTART_PACK: '', COLDSTART_PACK_VERIFY: '', COLDSTART_ROOT: '', COLDSTART_EAGER: '' };

/** A package whose index.js requires `target` and uses it only inside a function. */
const user = (target) => `const dep = require(${JSON.stringify(target)});\nmodule.exports = () => dep;\n`;
const pkg = (name, index, extra = {}) => ({ [`node_modules/${name}/package.json`]: JSON.stringify({ name, version: '1.0.0' }), [`node_modules/${name}/index.js`]: index, ...extra });

const tree = {
  'package.json': '{"name":"lazy-app","private":true}',
  ...pkg('polyfill-pkg', 'Array.prototype.fancy = function () { return "fancy"; };\nmodule.exports = {};\n'),
  ...pkg('uses-polyfill', user('polyfill-pkg')),
  ...pkg('patch-fs', 'const fs = require("fs");\nfs.patchedByTest = true;\nmodule.exports = {};\n'),
  ...pkg('uses-patch', user('patch-fs')),
  ...pkg('exit-hook', 'process.on("exit", () => console.log("exit hook ran"));\nmodule.exports = {};\n'),
  ...pkg('uses-exit', user('exit-hook')),
  ...pkg('stack-pkg', 'Error.stackTraceLimit = 3;\nmodule.exports = {};\n'),
  ...pkg('uses-stack', user('stack-pkg')),
  ...pkg('global-pkg', 'globalThis.fromGlobal = 42;\nmodule.exports = {};\n'),
  ...pkg('uses-global', user('global-pkg')),
  ...pkg('leak-pkg', 'leaked = 7;\nmodule.exports = {};\n'),
  ...pkg('uses-leak', user('leak-pkg')),
  ...pkg('ext-pkg', 'require.extensions[".txt"] = (m, f) => { m.exports = require("fs").readFileSync(f, "utf8"); };\nmodule.exports = {};\n'),
  ...pkg('uses-ext', user('ext-pkg')),
  // require.cache written inside a function is what the module offers its callers: not an effect.
  ...pkg('fresh-pkg', 'module.exports = (id) => { delete require.cache[require.resolve(id)]; return require(id); };\n'),
  ...pkg('uses-fresh', user('fresh-pkg')),
  ...pkg('modpatch-pkg', 'module.constructor.prototype.patchedByTest = "module";\nmodule.exports = {};\n'),
  ...pkg('uses-modpatch', user('modpatch-pkg')),
  // Reaches an effect through what it loads.
  ...pkg('indirect-pkg', 'module.exports = require("global2-pkg");\n'),
  ...pkg('global2-pkg', 'globalThis.fromIndirect = "yes";\nmodule.exports = {};\n'),
  ...pkg('uses-indirect', user('indirect-pkg')),
  // A cycle: b, loaded while a evaluates, sees a's partial exports.
  ...pkg('cyc-a', 'exports.early = 1;\nconst b = require("./b");\nexports.late = 2;\nexports.get = () => b.value;\n', {
    'node_modules/cyc-a/b.js': 'const a = require("./index");\nexports.value = Object.keys(a).join(",");\n',
  }),
  // Reassigned, and read while the module evaluates: both stay as written.
  ...pkg('reassign-pkg', 'let dep = require("heavy-pure");\nif (process.env.NEVER_SET) dep = null;\nmodule.exports = () => dep;\n'),
  ...pkg('toplevel-pkg', 'const dep = require("heavy-pure");\nconst doubled = dep.double(2);\nmodule.exports = () => doubled;\n'),
  // A require in try, and a side-effect-only require: never candidates.
  ...pkg('try-pkg', 'let opt;\ntry { opt = require("not-installed-optional"); } catch (e) { opt = e.code; }\nrequire("side-pkg");\nmodule.exports = () => opt;\n'),
  ...pkg('side-pkg', 'globalThis.sideRan = true;\n'),
  // What deferral is for: a pure module used only by a function that --help never calls.
  ...pkg('heavy-pure', 'module.exports = { double: (n) => n * 2 };\n'),
  ...pkg('lazy-user', 'const heavy = require("heavy-pure");\nconst { double } = require("heavy-pure");\nconst path = require("node:path");\nmodule.exports = (n) => [heavy.double(n), double(n), path.basename("/a/b")];\n'),
  // An effect already done before the importer runs (the recorded load order): deferring is safe.
  ...pkg('early-effect', 'process.env.EARLY_EFFECT = "1";\nmodule.exports = { v: 1 };\n'),
  ...pkg('late-user', user('early-effect')),
  // Throws at first use: the program sees Node's own error, as it would at the require.
  ...pkg('thrower-user', 'const missing = require("./gone-later");\nmodule.exports = () => missing.x;\n', { 'node_modules/thrower-user/gone-later.js': 'module.exports = { x: "here" };\n' }),
  'main.js': [
    'require("early-effect");',
    'for (const name of ["uses-polyfill", "uses-patch", "uses-exit", "uses-stack", "uses-global", "uses-leak", "uses-ext", "uses-modpatch", "uses-fresh", "uses-indirect", "reassign-pkg", "toplevel-pkg", "try-pkg", "lazy-user", "late-user", "thrower-user"]) require(name);',
    'console.log([].fancy?.(), require("fs").patchedByTest, Error.stackTraceLimit, globalThis.fromGlobal, typeof leaked, typeof require.extensions[".txt"], module.constructor.prototype.patchedByTest, globalThis.fromIndirect, globalThis.sideRan);',
    'console.log(require("cyc-a").get(), require("try-pkg")(), process.env.EARLY_EFFECT);',
    'if (process.argv[2] === "--use") console.log(require("lazy-user")(21).join(" "), require("thrower-user")());',
    '',
  ].join('\n'),
};

function setup(t) {
  const dir = realpathSync(tempDir(t, 'coldstart-lazy-pack-'));
  writeTree(dir, tree);
  const built = runCli(['pack', '--lazy', '--json', '--', process.execPath, 'main.js'], { cwd: dir, env: base });
  assert.equal(built.code, 0, built.stderr);
  const read = readPackFile(join(dir, 'node_modules/.cache/coldstart/pack.v1'));
  assert.ok(read.ok, read.reason);
  read.pack.body.close();
  const deferred = new Map((read.pack.header.lazy ?? []).map((row) => [row[0], row[4]]));
  return { dir, summary: JSON.parse(built.stdout.trim().split('\n').pop()), deferred };
}

function run(dir, args, env = {}) {
  const stats = join(dir, `stats-${Math.random().toString(36).slice(2)}.jsonl`);
  const result = runNode(['--import', register, 'main.js', ...args], { cwd: dir, env: { ...base, COLDSTART_PACK_STATS: stats, ...env } });
  return { ...result, report: JSON.parse(readFileSync(stats, 'utf8').trim().split('\n').pop()) };
}

test('pack --lazy: each safety rule decides as documented (the pack header)', (t) => {
  const { deferred, summary } = setup(t);
  const of = (name) => deferred.get(`node_modules/${name}/index.js`) ?? [];
  // Targets with effects stay eager: globals, prototypes, builtin modules, process handlers,
  // Error settings, implicit globals, require.extensions, and effects reached through a load.
  for (const name of ['uses-polyfill', 'uses-patch', 'uses-exit', 'uses-stack', 'uses-global', 'uses-leak', 'uses-ext', 'uses-modpatch', 'uses-indirect']) {
    assert.deepEqual(of(name), [], `${name} must keep its require eager`);
  }
  assert.deepEqual(of('cyc-a'), [], 'a require inside a cycle stays eager');
  assert.deepEqual(of('reassign-pkg'), [], 'a reassigned binding stays eager');
  assert.deepEqual(of('toplevel-pkg'), [], 'a binding read while the module evaluates stays eager');
  assert.deepEqual(of('try-pkg'), [], 'requires in try and side-effect-only requires are never candidates');
  assert.deepEqual(of('lazy-user'), ['heavy-pure', 'heavy-pure', 'node:path'], 'pure targets and builtins load at first use');
  assert.deepEqual(of('uses-fresh'), ['fresh-pkg'], 'a require.cache write inside a function is not a load-time effect');
  assert.deepEqual(of('late-user'), ['early-effect'], 'an effect the recorded runs had done before the importer ran does not block');
  assert.deepEqual(of('thrower-user'), ['./gone-later']);
  assert.ok(summary.lazy.refused['target has effects when loaded'] >= 9, JSON.stringify(summary.lazy));
});

test('pack --lazy: the program prints what plain Node prints, loads less, and COLDSTART_EAGER=1 serves the originals', (t) => {
  const { dir } = setup(t);
  for (const args of [[], ['--use']]) {
    const plain = runNode(['main.js', ...args], { cwd: dir, env: base });
    assert.equal(plain.code, 0, plain.stderr);
    const lazy = run(dir, args);
    assert.deepEqual([lazy.code, lazy.stdout, lazy.stderr], [plain.code, plain.stdout, plain.stderr], args.join(' '));
    assert.equal(lazy.report.state, 'used');
    assert.ok(lazy.report.deferredRequires >= 4, JSON.stringify(lazy.report));
    const eager = run(dir, args, { COLDSTART_EAGER: '1' });
    assert.deepEqual([eager.code, eager.stdout], [plain.code, plain.stdout]);
    assert.equal(eager.report.deferredRequires, 0);
    if (args.length === 0) {
      assert.ok(lazy.report.counts.hits < eager.report.counts.hits, `heavy-pure and gone-later are not loaded: ${lazy.report.counts.hits} < ${eager.report.counts.hits}`);
    }
  }
  // A file changed after packing is served from disk, as written: never a stale rewrite.
  const file = join(dir, 'node_modules/lazy-user/index.js');
  writeTree(dir, { 'node_modules/lazy-user/index.js': readFileSync(file, 'utf8').replace('path.basename("/a/b")', '"edited"') });
  const edited = run(dir, ['--use'], { COLDSTART_PACK_VERIFY: '1' });
  assert.match(edited.stdout, /42 42 edited/);
});

test('pack --lazy: "coldstart": { "eager": [...] } keeps matching modules as they are', (t) => {
  const dir = realpathSync(tempDir(t, 'coldstart-lazy-pack-'));
  writeTree(dir, { ...tree, 'package.json': '{"name":"lazy-app","private":true,"coldstart":{"eager":["node_modules/lazy-user/**"]}}' });
  const built = runCli(['pack', '--lazy', '--', process.execPath, 'main.js'], { cwd: dir, env: base });
  assert.equal(built.code, 0, built.stderr);
  const read = readPackFile(join(dir, 'node_modules/.cache/coldstart/pack.v1'));
  read.pack.body.close();
  const rewritten = new Set((read.pack.header.lazy ?? []).map((row) => row[0]));
  assert.ok(!rewritten.has('node_modules/lazy-user/index.js'));
  assert.ok(rewritten.has('node_modules/late-user/index.js'));
});
