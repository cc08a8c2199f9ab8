// Learned deferral (`coldstart pack --lazy`): a program whose dependencies exercise every safety
// rule prints what it prints under plain Node, and the pack's header shows each rule's decision
// (so removing a rule fails a named assertion before it fails the output comparison).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
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
  // A plugin that registers itself into another module's state while it loads.
  ...pkg('reg-pkg', 'const entries = new Map();\nexports.add = (k, v) => entries.set(k, v);\nexports.get = (k) => entries.get(k);\nexports.maker = (p) => (n) => entries.set(`${p}:${n}`, () => "made");\n'),
  // The same through a function reg-pkg returned (debug's `require("debug")("ns")("…")` shape).
  ...pkg('maker-pkg', 'const reg = require("reg-pkg").maker("k");\nreg("loaded");\nexports.version = 1;\n'),
  ...pkg('uses-maker', user('maker-pkg')),
  ...pkg('plug-pkg', 'require("reg-pkg").add("hello", () => "hi from plugin");\nexports.version = 1;\n'),
  ...pkg('uses-plug', user('plug-pkg')),
  // "use strict" with no semicolon: the rewrite must not glue code to it.
  ...pkg('strict-nosemi', "'use strict'\n\nconst heavy = require('heavy-pure')\nmodule.exports = (n) => heavy.double(n)\n"),
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
  // `const f = mod.f` after the require: the alias waits for its own first use, and the require with it,
  // unless the alias is read while the module evaluates.
  ...pkg('alias-target', 'module.exports = { double: (n) => n * 2, triple: (n) => n * 3 };\n'),
  ...pkg('alias-user', 'const target = require("alias-target");\nconst double = target.double;\nconst { triple } = target;\nmodule.exports = (n) => [double(n), triple(n)];\n'),
  ...pkg('alias-late', 'const heavy = require("heavy-pure");\nconst dbl = heavy.double;\nconst four = dbl(2);\nmodule.exports = () => four;\n'),
  // A value kept from exports that change after load is read at load: by the module's own
  // function (a counter), or by another module that writes into it.
  ...pkg('counter-pkg', 'exports.count = 0;\nexports.bump = () => { exports.count++; };\n'),
  ...pkg('snap-user', 'const { count } = require("counter-pkg");\nmodule.exports = () => count;\n'),
  ...pkg('box-pkg', 'exports.level = 1;\n'),
  ...pkg('box-writer', 'const box = require("box-pkg");\nmodule.exports = () => { box.level = 2; };\n'),
  ...pkg('box-user', 'const level = require("box-pkg").level;\nmodule.exports = () => level;\n'),
  // An effect already done before the importer runs (the recorded load order): deferring is safe.
  ...pkg('early-effect', 'process.env.EARLY_EFFECT = "1";\nmodule.exports = { v: 1 };\n'),
  ...pkg('late-user', user('early-effect')),
  // Throws at first use: the program sees Node's own error, as it would at the require.
  ...pkg('thrower-user', 'const missing = require("./gone-later");\nmodule.exports = () => missing.x;\n', { 'node_modules/thrower-user/gone-later.js': 'module.exports = { x: "here" };\n' }),
  // What the recorded run showed. A function that writes process.env only with the value already
  // there (debug's save), a function no run called, and a property saved and put back do not
  // make an effect; the same writes that change something do.
  ...pkg('env-save-pkg', 'function save(ns) { if (ns) process.env.SAVE_NS = ns; else delete process.env.SAVE_NS; }\nconst api = { save, load: () => process.env.SAVE_NS };\napi.save(api.load());\nmodule.exports = api;\n'),
  ...pkg('uses-env-save', user('env-save-pkg')),
  ...pkg('env-set-pkg', 'function setup() { process.env.SET_BY_PKG = "set"; }\nconst api = { setup };\napi.setup();\nmodule.exports = api;\n'),
  ...pkg('uses-env-set', user('env-set-pkg')),
  // The same value the recorded run's environment had, written without reading it first.
  ...pkg('env-prod-pkg', 'const api = { setEnv() { process.env.LAZY_TEST_MODE = "production"; } };\napi.setEnv();\nmodule.exports = api;\n'),
  ...pkg('uses-env-prod', user('env-prod-pkg')),
  // A setter shaped as debug's save, called with another variable's value that happens to equal its own.
  ...pkg('env-copy-pkg', 'function save(v) { if (v) process.env.LAZY_COPY_TO = v; else delete process.env.LAZY_COPY_TO; }\nconst api = { save };\napi.save(process.env.LAZY_COPY_FROM);\nmodule.exports = api;\n'),
  ...pkg('uses-env-copy', user('env-copy-pkg')),
  ...pkg('never-called-pkg', 'exports.install = function () { globalThis.installedLater = true; };\n'),
  ...pkg('uses-never-called', user('never-called-pkg')),
  ...pkg('called-pkg', 'const api = { install() { globalThis.installedAtLoad = "yes"; } };\napi.install();\nmodule.exports = api;\n'),
  ...pkg('uses-called', user('called-pkg')),
  ...pkg('restore-pkg', 'const { report } = require("node:process");\nfunction h() { const previous = report.compact; report.compact = true; const c = report.compact; report.compact = previous; return c; }\nh();\nmodule.exports = { h };\n'),
  ...pkg('uses-restore', user('restore-pkg')),
  ...pkg('norestore-pkg', 'const { report } = require("node:process");\nfunction h() { report.compact = true; }\nh();\nmodule.exports = { h };\n'),
  ...pkg('uses-norestore', user('norestore-pkg')),
  'main.js': [
    'require("early-effect");',
    'for (const name of ["uses-env-save", "uses-env-set", "uses-env-prod", "uses-env-copy", "uses-never-called", "uses-called", "uses-restore", "uses-norestore"]) require(name);',
    'console.log(process.env.SET_BY_PKG, process.env.LAZY_TEST_MODE, process.env.LAZY_COPY_TO, globalThis.installedAtLoad, process.report.compact, globalThis.installedLater);',
    'for (const name of ["uses-polyfill", "uses-patch", "uses-exit", "uses-stack", "uses-global", "uses-leak", "uses-ext", "uses-modpatch", "uses-fresh", "uses-plug", "strict-nosemi", "uses-indirect", "uses-maker", "reassign-pkg", "toplevel-pkg", "try-pkg", "lazy-user", "late-user", "thrower-user", "alias-user", "alias-late", "snap-user", "box-user", "box-writer"]) require(name);',
    'console.log([].fancy?.(), require("fs").patchedByTest, Error.stackTraceLimit, globalThis.fromGlobal, typeof leaked, typeof require.extensions[".txt"], module.constructor.prototype.patchedByTest, globalThis.fromIndirect, globalThis.sideRan);',
    'console.log(require("cyc-a").get(), require("try-pkg")(), process.env.EARLY_EFFECT, require("reg-pkg").get("hello")?.() ?? "NOT registered", require("reg-pkg").get("k:loaded")?.() ?? "NOT made", require("strict-nosemi")(4));',
    'if (process.argv[2] === "--use") { require("counter-pkg").bump(); require("box-writer")(); console.log(require("snap-user")(), require("box-user")()); }',
    'if (process.argv[2] === "--use") console.log(require("lazy-user")(21).join(" "), require("thrower-user")(), require("alias-user")(5).join(","), require("alias-late")());',
    '',
  ].join('\n'),
};

function setup(t) {
  const dir = realpathSync(tempDir(t, 'coldstart-lazy-pack-'));
  writeTree(dir, tree);
  // Recorded where LAZY_TEST_MODE already says what env-prod-pkg writes; served runs lack it.
  const built = runCli(['pack', '--lazy', '--always', '--json', '--', process.execPath, 'main.js'], { cwd: dir, env: { ...base, LAZY_TEST_MODE: 'production', LAZY_COPY_FROM: 'same', LAZY_COPY_TO: 'same' } });
  assert.equal(built.code, 0, built.stderr);
  const read = readPackFile(join(dir, 'node_modules/.cache/coldstart/pack.v1'));
  assert.ok(read.ok, read.reason);
  read.pack.body.close();
  const deferred = new Map((read.pack.header.lazy ?? []).map((row) => [row[0], row[4]]));
  return { dir, summary: JSON.parse(built.stdout.trim().split('\n').pop()), deferred };
}

/** Records a lazy pack in `dir` from `node main.js`, serving every program (--always). */
function packLazy(dir) {
  const built = runCli(['pack', '--lazy', '--always', '--', process.execPath, 'main.js'], { cwd: dir, env: base });
  assert.equal(built.code, 0, built.stderr);
}

/** The lazy rows of the pack in `dir`'s default place. */
function lazyRows(dir) {
  const read = readPackFile(join(dir, 'node_modules/.cache/coldstart/pack.v1'));
  read.pack.body.close();
  return read.pack.header.lazy ?? [];
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
  for (const name of ['uses-polyfill', 'uses-patch', 'uses-exit', 'uses-stack', 'uses-global', 'uses-leak', 'uses-ext', 'uses-modpatch', 'uses-plug', 'uses-maker', 'uses-indirect']) {
    assert.deepEqual(of(name), [], `${name} must keep its require eager`);
  }
  assert.deepEqual(of('cyc-a'), [], 'a require inside a cycle stays eager');
  assert.deepEqual(of('reassign-pkg'), [], 'a reassigned binding stays eager');
  assert.deepEqual(of('toplevel-pkg'), [], 'a binding read while the module evaluates stays eager');
  assert.deepEqual(of('try-pkg'), [], 'requires in try and side-effect-only requires are never candidates');
  assert.deepEqual(of('lazy-user'), ['heavy-pure', 'heavy-pure', 'node:path'], 'pure targets and builtins load at first use');
  assert.deepEqual(of('strict-nosemi'), ['heavy-pure'], "'use strict' with no semicolon is rewritten too");
  assert.deepEqual(of('uses-fresh'), ['fresh-pkg'], 'a require.cache write inside a function is not a load-time effect');
  assert.deepEqual(of('late-user'), ['early-effect'], 'an effect the recorded runs had done before the importer ran does not block');
  assert.deepEqual(of('thrower-user'), ['./gone-later']);
  assert.deepEqual(of('alias-user'), ['alias-target'], 'aliases read only in functions wait with their require');
  assert.deepEqual(of('alias-late'), [], 'an alias read while the module evaluates keeps its require eager');
  assert.deepEqual(of('snap-user'), [], 'a value kept from exports the module itself changes later is read at load');
  assert.deepEqual(of('box-user'), [], 'a value kept from exports another module writes into is read at load');
  assert.deepEqual(of('box-writer'), ['box-pkg'], 'the exports object itself still waits: its reads are live');
  assert.ok(summary.lazy.refused['target has effects when loaded'] >= 10, JSON.stringify(summary.lazy));
  // The recorded run's evidence (V8's coverage, the environment it watched).
  assert.deepEqual(of('uses-env-save'), ['env-save-pkg'], 'process.env written back unchanged is no effect');
  assert.deepEqual(of('uses-env-set'), [], 'process.env changed by a function that ran at load is an effect');
  assert.deepEqual(of('uses-env-prod'), [], 'a write of the value the variable had, not read first, is an effect');
  assert.deepEqual(of('uses-env-copy'), [], "a setter given another variable's value is an effect, even when the values were equal");
  assert.deepEqual(of('uses-never-called'), ['never-called-pkg'], 'a global write in a function no run called is no effect');
  assert.deepEqual(of('uses-called'), [], 'a global write in a function that ran at load is an effect');
  assert.deepEqual(of('uses-restore'), ['restore-pkg'], 'a builtin property saved and put back is no effect');
  assert.deepEqual(of('uses-norestore'), [], 'a builtin property set and left is an effect');
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
  assert.match(run(dir, ['--use']).stdout, /42 42 edited/);
  const edited = run(dir, ['--use'], { COLDSTART_PACK_VERIFY: '1' });
  assert.match(edited.stdout, /42 42 edited/);
});

test('pack --lazy: a minified module grows only by its edits; under --enable-source-maps, one that names a map is served as written', async (t) => {
  const dir = realpathSync(tempDir(t, 'coldstart-lazy-maps-'));
  writeTree(dir, {
    'package.json': '{"name":"lazy-maps","private":true}',
    'node_modules/.keep': '',
    'lib.src.js': 'const path = require("path");\nconst util = require("./util");\n\nfunction usesUtil(x) {\n  return util.fmt(x);\n}\n\nfunction second(x) {\n  if (x > 1) {\n    throw new Error("second failed for " + x);\n  }\n  return x;\n}\n\nfunction third(x) {\n  return second(x + 1) + usesUtil(path.sep);\n}\n\nmodule.exports = { usesUtil, second, third };\n',
    'util.js': 'exports.fmt = (x) => "[" + x + "]";\n',
    // FMT=1 stands for a tool that formats stacks itself (source-map-support maps them so).
    'main.js': 'if (process.env.FMT) Error.prepareStackTrace = (e, calls) => [e.message, ...calls.map((c) => `    at ${c.getFileName()}:${c.getLineNumber()}:${c.getColumnNumber()}`)].join("\\n");\nconst lib = require("./lib.js");\nif (process.argv[2] === "--use") { console.log(lib.usesUtil("a")); lib.third(5); }\n',
  });
  const { buildSync } = await import('esbuild');
  buildSync({ entryPoints: [join(dir, 'lib.src.js')], outfile: join(dir, 'lib.js'), minify: true, sourcemap: true, format: 'cjs', platform: 'node', logLevel: 'silent' });
  assert.equal(readFileSync(join(dir, 'lib.js'), 'utf8').trimEnd().split('\n').length, 2, 'one line of code and the map comment');
  packLazy(dir);
  const rows = lazyRows(dir);
  assert.ok(rows.some((r) => r[0] === 'lib.js' && r[4].includes('./util')), 'lib.js defers ./util');
  const frames = (stderr) => stderr.split('\n').filter((line) => /^\s+at /.test(line) && line.includes(dir));
  // Without source maps: the same frames but for columns on the rewritten line, and the line
  // Node prints above the error is the module's own line as rewritten, not the helper.
  const plain = runNode(['main.js', '--use'], { cwd: dir, env: base });
  const served = run(dir, ['--use']);
  assert.equal(served.code, plain.code, served.stderr);
  assert.equal(served.stdout, plain.stdout);
  assert.ok(served.report.deferredRequires >= 2, 'lib.js is served rewritten');
  assert.deepEqual(frames(served.stderr).map((l) => l.replace(/:\d+\)?$/, '')), frames(plain.stderr).map((l) => l.replace(/:\d+\)?$/, '')));
  assert.doesNotMatch(served.stderr, /__coldstart_lazy\(load/);
  // With them: every frame as plain Node maps it.
  const mappedPlain = runNode(['--enable-source-maps', 'main.js', '--use'], { cwd: dir, env: base });
  const mapped = run(dir, ['--use'], { NODE_OPTIONS: '--enable-source-maps' });
  assert.equal(mapped.code, mappedPlain.code, mapped.stderr);
  assert.match(mappedPlain.stderr, /lib\.src\.js:10/);
  assert.deepEqual(frames(mapped.stderr), frames(mappedPlain.stderr));
  // Another tool's stack formatter: such a module is served as written too, columns and all.
  const formattedPlain = runNode(['main.js', '--use'], { cwd: dir, env: { ...base, FMT: '1' } });
  const formatted = run(dir, ['--use'], { FMT: '1' });
  assert.ok(frames(formattedPlain.stderr).length > 0, formattedPlain.stderr);
  assert.deepEqual(frames(formatted.stderr), frames(formattedPlain.stderr));
});

test('pack --lazy: what a deferred first-party file loads is watched, and where a new file would be found first; under COLDSTART_PACK_VERIFY=1, an edited package too', (t) => {
  const dir = realpathSync(tempDir(t, 'coldstart-lazy-watch-deep-'));
  const files = {
    'package.json': '{"name":"lazy-watch-deep","private":true}',
    ...pkg('fakepkg', 'exports.v = () => "pkg";\n'),
    'main.js': 'const cmd = require("./cmd");\nconst flag = require("./flag");\nconsole.log("start", flag());\nif (process.argv[2] === "--use") cmd.run();\n',
    'cmd.js': 'const heavy = require("./heavy");\nconst dirmod = require("./dirmod");\nconst pkg = require("fakepkg");\nconst cfg = require("./cfgdir/");\nconst k = require("./k");\nconst user = require("./sub/user");\nexports.run = () => console.log(heavy.work(), dirmod.name, pkg.v(), cfg.name, k.name, user.name());\n',
    'heavy.js': 'const dep = require("./dep");\nexports.work = () => "heavy:" + dep.f();\n',
    'dep.js': 'exports.f = () => "dep";\n',
    'dirmod/index.js': 'exports.name = "dirmod/index";\n',
    // A package.json without "main" is read and passed over: it must stay as it was, not absent.
    'dirmod/package.json': '{"name":"dirmod"}',
    'cfgdir/package.json': '{"main":"lib.js"}',
    'cfgdir/lib.js': 'exports.name = "cfg lib";\n',
    'cfgdir/other.js': 'globalThis.FLAG = "from cfgdir/other";\nexports.name = "cfg other";\n',
    // A "main" naming a directory: a file of that name added beside it wins.
    'k/package.json': '{"main":"dist"}',
    'k/dist/index.js': 'exports.name = "k dist";\n',
    // A nested package.json's "imports".
    'sub/package.json': '{"imports":{"#a":"./a.js"}}',
    'sub/user.js': 'const a = require("#a");\nexports.name = () => a.name;\n',
    'sub/a.js': 'exports.name = "sub a";\n',
    'sub/b.js': 'globalThis.FLAG = "from sub/b";\nexports.name = "sub b";\n',
    'flag.js': 'module.exports = () => globalThis.FLAG ?? "noflag";\n',
  };
  // Each case starts from the tree as packed, and a pack learned from it.
  const fresh = () => {
    rmSync(dir, { recursive: true, force: true });
    writeTree(dir, files);
    packLazy(dir);
  };
  const same = (label, env = {}) => {
    const plain = runNode(['main.js', '--use'], { cwd: dir, env: base });
    const served = run(dir, ['--use'], env);
    assert.equal(served.code, plain.code, `${label}: ${served.stderr}`);
    assert.equal(served.stdout, plain.stdout, label);
    return served;
  };
  fresh();
  const rows = lazyRows(dir);
  const row = rows.find((r) => r[0] === 'cmd.js');
  assert.deepEqual(row?.[4], ['./heavy', './dirmod', 'fakepkg', './cfgdir/', './k', './sub/user']);
  const watched = row?.[5] ?? [];
  for (const path of ['heavy.js', 'dep.js', 'dirmod/index.js']) assert.ok(watched.includes(path), `watches ${path}`);
  for (const path of ['dirmod', 'dirmod.js', 'dirmod.json', 'dirmod.node']) assert.ok(watched.some((w) => Array.isArray(w) && w[0] === path && w[1] === -1), `watches that no file ${path} appears`);
  for (const path of ['dirmod/package.json', 'cfgdir/package.json']) assert.ok(watched.some((w) => Array.isArray(w) && w[0] === path && w.length === 4 && typeof w[3] === 'string'), `watches ${path} unchanged`);
  // cmd.js's six, sub/user.js's #a, and main.js's ./cmd (used only with --use).
  assert.equal(same('as packed').report.deferredRequires, 8);
  // A file the deferred target loads gains an effect at load: it runs before "start", as in Node.
  writeTree(dir, { 'dep.js': 'globalThis.FLAG = "from dep";\nexports.f = () => "dep";\n' });
  const transitive = same('a transitive load gains an effect');
  assert.match(transitive.stdout, /^start from dep\n/);
  // cmd.js's and main.js's rewrites are dropped; sub/user.js's, which dep.js does not touch, stays.
  assert.equal(transitive.report.deferredRequires, 1);
  // A file added where require("./dirmod") now finds it first.
  fresh();
  writeTree(dir, { 'dirmod.js': 'globalThis.FLAG = "from dirmod.js";\nexports.name = "dirmod.js";\n' });
  assert.match(same('a file found first is added').stdout, /^start from dirmod\.js\nheavy:dep dirmod\.js pkg cfg lib k dist sub a\n$/);
  fresh();
  writeTree(dir, { 'k/dist.js': 'globalThis.FLAG = "from k/dist.js";\nexports.name = "k dist.js";\n' });
  assert.match(same('a file found before a "main" directory').stdout, /^start from k\/dist\.js\n/);
  fresh();
  writeTree(dir, { 'sub/package.json': '{"imports":{"#a":"./b.js"}}' });
  assert.match(same('a nested "imports" changed').stdout, /^start from sub\/b\n/);
  // A package.json whose "main" now names another file.
  fresh();
  writeTree(dir, { 'cfgdir/package.json': '{"main":"other.js"}' });
  assert.match(same('a "main" changed').stdout, /^start from cfgdir\/other\n/);
  // A directory of that name is no file to Node: the rewrite still serves.
  fresh();
  writeTree(dir, { 'dirmod.json/.keep': '' });
  assert.equal(same('a directory named like a probe').report.deferredRequires, 8);
  // A package edited in place: its file is read from the disk at its first use, so the edit runs;
  // only COLDSTART_PACK_VERIFY=1, which then serves no rewrite, runs a load effect the edit added
  // where Node runs it.
  fresh();
  writeTree(dir, { 'node_modules/fakepkg/index.js': 'globalThis.FLAG = "from fakepkg";\nexports.v = () => "pkg";\n' });
  const byDefault = run(dir, ['--use']);
  assert.equal(byDefault.report.counts.stale, 1, JSON.stringify(byDefault.report.counts));
  const verified = same('a package edited in place, verify mode', { COLDSTART_PACK_VERIFY: '1' });
  assert.match(verified.stdout, /^start from fakepkg\n/);
  assert.equal(verified.report.deferredRequires, 0);
});

test('pack --lazy, ES modules: an import through a nested package.json\'s "imports" is watched too', (t) => {
  const dir = realpathSync(tempDir(t, 'coldstart-lazy-imports-'));
  writeTree(dir, {
    'package.json': '{"name":"lazy-imports","private":true,"type":"module"}',
    'node_modules/.keep': '',
    'main.js': 'import * as cmd from "./cmd.js";\nimport { flag } from "./flag.js";\nconsole.log("start", flag());\nif (process.argv[2] === "--use") cmd.run();\n',
    'cmd.js': 'import * as user from "./sub/user.js";\nexport const run = () => console.log(user.name());\n',
    'sub/package.json': '{"type":"module","imports":{"#a":"./a.js"}}',
    'sub/user.js': 'import * as a from "#a";\nexport const name = () => a.name;\n',
    'sub/a.js': 'export const name = "sub a";\n',
    'sub/b.js': 'globalThis.FLAG = "from sub/b";\nexport const name = "sub b";\n',
    'flag.js': 'export const flag = () => globalThis.FLAG ?? "noflag";\n',
  });
  packLazy(dir);
  // ES modules are served rewritten on Node 22.15+ only (coldstart pack says so on older Nodes).
  const asPacked = run(dir, ['--use']).report.deferredRequires;
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major > 22 || (major === 22 && minor >= 15)) assert.ok(asPacked >= 2, `served rewritten as packed (${asPacked})`);
  writeTree(dir, { 'sub/package.json': '{"type":"module","imports":{"#a":"./b.js"}}' });
  const plain = runNode(['main.js', '--use'], { cwd: dir, env: base });
  const served = run(dir, ['--use']);
  assert.match(plain.stdout, /^start from sub\/b\n/);
  assert.equal(served.stdout, plain.stdout);
});

test('pack --lazy: a require found through a symlink cannot be watched, so its importer is stored as written', (t) => {
  const dir = realpathSync(tempDir(t, 'coldstart-lazy-link-'));
  writeTree(dir, {
    'package.json': '{"name":"lazy-link","private":true}',
    'node_modules/.keep': '',
    'main.js': 'const linked = require("./link");\nconst plain = require("./plain");\nconsole.log("start");\nif (process.argv[2] === "--use") console.log(linked.name, plain.name);\n',
    'realdir/index.js': 'exports.name = "real";\n',
    'plain.js': 'exports.name = "plain";\n',
  });
  symlinkSync('realdir', join(dir, 'link'));
  packLazy(dir);
  const rows = lazyRows(dir);
  // Pointing the link elsewhere changes what loads, and no stat of ours would see it.
  assert.equal(rows.find((r) => r[0] === 'main.js'), undefined);
  const plain = runNode(['main.js', '--use'], { cwd: dir, env: base });
  const served = run(dir, ['--use']);
  assert.equal(served.stdout, plain.stdout);
});

test('pack --lazy: a first-party file a rewrite defers is watched; once it changes, moves or breaks, the importer is served as written', (t) => {
  const dir = realpathSync(tempDir(t, 'coldstart-lazy-watch-'));
  writeTree(dir, {
    'package.json': '{"name":"lazy-watch","private":true}',
    'node_modules/.keep': '',
    'main.js': 'const a = require("./lib/a");\nconsole.log("started");\nif (process.argv[2] === "--use") console.log(a());\n',
    'lib/a.js': 'const b = require("./b");\nmodule.exports = () => b.value;\n',
    'lib/b.js': 'exports.value = 42;\n',
  });
  packLazy(dir);
  const rows = lazyRows(dir);
  const row = rows.find((r) => r[0] === 'lib/a.js');
  assert.deepEqual(row?.slice(4), [['./b'], ['lib/b.js', ['lib/b', -1]]], 'the rewrite of lib/a.js defers ./b, watches lib/b.js and that no file lib/b appears');
  const same = (label) => {
    const plain = runNode(['main.js'], { cwd: dir, env: base });
    const served = run(dir, []);
    assert.equal(served.code, plain.code, `${label}: ${served.stderr}`);
    assert.equal(served.stdout, plain.stdout, label);
    const message = (text) => text.split('\n').find((l) => /^\w*Error\b.*:/.test(l));
    assert.equal(message(served.stderr), message(plain.stderr), label);
    return served;
  };
  assert.equal(same('as packed').report.deferredRequires, 1);
  // Gone: plain Node fails as main.js loads lib/a.js, so the served run must too, not at first use.
  const b = join(dir, 'lib/b.js');
  rmSync(b);
  assert.equal(same('target removed').code, 1);
  // Broken, then back with an effect of its own: what was learned no longer holds either way.
  writeTree(dir, { 'lib/b.js': 'exports.value = ;\n' });
  assert.equal(same('target broken').code, 1);
  writeTree(dir, { 'lib/b.js': 'console.log("b loads");\nexports.value = 42;\n' });
  const effect = same('target with an effect');
  assert.match(effect.stdout, /^b loads\nstarted/);
  assert.equal(effect.report.deferredRequires, 0);
  // A run that loads nothing of the project (`node -e`) writes no pack over this one, and a
  // missing script is refused before anything runs.
  const packFile = join(dir, 'node_modules/.cache/coldstart/pack.v1');
  const kept = readFileSync(packFile);
  const nothing = runCli(['pack', '--lazy', '--', process.execPath, '-e', '0'], { cwd: dir, env: base });
  assert.equal(nothing.code, 1, nothing.stderr);
  assert.match(nothing.stderr, /loaded no module under .*; nothing written \(.*pack\.v1 is kept\)/);
  const missing = runCli(['pack', '--lazy', '--', process.execPath, 'no-such-script.js'], { cwd: dir, env: base });
  assert.equal(missing.code, 2, missing.stderr);
  assert.match(missing.stderr, /cannot find 'no-such-script\.js'/);
  assert.ok(readFileSync(packFile).equals(kept));
  // Stale after an install: the rebuild doctor suggests keeps learned deferral.
  writeTree(dir, { 'node_modules/added-later/index.js': '' });
  const doctor = runCli(['doctor'], { cwd: dir, env: base });
  assert.equal(doctor.code, 1, doctor.stdout);
  assert.ok(doctor.stdout.includes(`rebuilt (coldstart pack --lazy --always -- ${process.execPath} main.js)`), doctor.stdout);
});

test('pack --lazy: "coldstart": { "eager": [...] } keeps matching modules as they are', (t) => {
  const dir = realpathSync(tempDir(t, 'coldstart-lazy-pack-'));
  writeTree(dir, { ...tree, 'package.json': '{"name":"lazy-app","private":true,"coldstart":{"eager":["node_modules/lazy-user/**"]}}' });
  packLazy(dir);
  const rows = lazyRows(dir);
  const rewritten = new Set(rows.map((row) => row[0]));
  assert.ok(!rewritten.has('node_modules/lazy-user/index.js'));
  assert.ok(rewritten.has('node_modules/late-user/index.js'));
});

const esmPkg = (name, source) => ({
  [`node_modules/${name}/package.json`]: JSON.stringify({ name, version: '1.0.0', type: 'module', exports: './index.js' }),
  [`node_modules/${name}/index.js`]: source,
});
const esmTree = {
  'package.json': '{"name":"lazy-esm-app","private":true,"type":"module"}',
  // A performance mark is the one trace of evaluation the rules do not count as an effect.
  ...esmPkg('esm-heavy', 'performance.mark("esm-heavy evaluated");\nexport const double = (n) => n * 2;\n'),
  ...esmPkg('esm-heavy2', 'export const x = 1;\nexport default "d";\n'),
  ...esmPkg('esm-user', 'import { double } from "esm-heavy";\nimport * as other from "esm-heavy2";\nimport d from "esm-heavy2";\nexport const run = (n) => [double(n), other.x, d].join(" ");\n'),
  ...esmPkg('esm-effect', 'globalThis.esmEffect = "ran";\nexport const y = 1;\n'),
  ...esmPkg('esm-effect-user', 'import { y } from "esm-effect";\nexport const f = () => y;\n'),
  ...esmPkg('esm-tla', 'await 0;\nexport const z = 1;\n'),
  ...esmPkg('esm-tla-user', 'import { z } from "esm-tla";\nexport const g = () => z;\n'),
  ...esmPkg('esm-reexport', 'import { x } from "esm-heavy2";\nexport { x };\n'),
  // A bundler's hoisted bare import of a module another import of the file reaches: dropped, so
  // the module loads when that import's binding is first used. One nothing else reaches stays.
  ...esmPkg('esm-leaf', 'performance.mark("esm-leaf evaluated");\nexport const leaf = 7;\n'),
  ...esmPkg('esm-mid', 'import { leaf } from "esm-leaf";\nexport const mid = () => leaf;\n'),
  ...esmPkg('esm-hoisted', 'import { mid } from "esm-mid";\nimport "esm-leaf";\nexport const hoisted = () => mid();\n'),
  ...esmPkg('esm-quiet', 'performance.mark("esm-quiet evaluated");\nexport const q = 1;\n'),
  ...esmPkg('esm-lonely', 'import "esm-quiet";\nexport const lonely = 1;\n'),
  // Plugins that register into another module while they load: through a namespace and a named import.
  ...esmPkg('esm-registry', 'export const list = [];\nexport const add = (x) => { list.push(x); };\n'),
  ...esmPkg('esm-plugin-member', 'import * as reg from "esm-registry";\nreg.add("member");\nexport const p1 = 1;\n'),
  ...esmPkg('esm-plugin-named', 'import { add } from "esm-registry";\nadd("named");\nexport const p2 = 2;\n'),
  ...esmPkg('esm-plugin-user', 'import { p1 } from "esm-plugin-member";\nimport { p2 } from "esm-plugin-named";\nexport const pu = () => p1 + p2;\n'),
  // A module imported bare twice, by nothing else: both stay.
  ...esmPkg('esm-quiet2', 'performance.mark("esm-quiet2 evaluated");\nexport const q2 = 1;\n'),
  ...esmPkg('esm-twice', 'import "esm-quiet2";\nimport "esm-quiet2";\nexport const twice = 2;\n'),
  // A bare import whose module loads one with an effect that another import loads later: dropping
  // it would run that effect after esm-v's.
  ...esmPkg('esm-logz', 'globalThis.orderLog = (globalThis.orderLog ?? "") + "z";\nexport {};\n'),
  ...esmPkg('esm-logv', 'globalThis.orderLog = (globalThis.orderLog ?? "") + "v";\nexport {};\n'),
  ...esmPkg('esm-x', 'import "esm-logz";\nexport const x = 1;\n'),
  ...esmPkg('esm-w', 'import "esm-logz";\nexport const w = 2;\n'),
  ...esmPkg('esm-y', 'import { x } from "esm-x";\nexport const y = () => x;\n'),
  ...esmPkg('esm-bundle', 'import "esm-x";\nimport "esm-logv";\nimport { w } from "esm-w";\nimport { y } from "esm-y";\nexport const wv = w;\nexport const run = () => y();\n'),
  // A bare import of a module that reads, as it loads, what a later import sets: kept, so that it
  // still reads it first.
  ...esmPkg('esm-reader', 'export const seen = String(globalThis.laterFlag);\n'),
  ...esmPkg('esm-setter', 'globalThis.laterFlag = "set";\nexport {};\n'),
  ...esmPkg('esm-reader-user', 'import { seen } from "esm-reader";\nexport const r = () => seen;\n'),
  ...esmPkg('esm-bundle-later', 'import "esm-reader";\nimport "esm-setter";\nimport { r } from "esm-reader-user";\nexport const read = () => r();\n'),
  'main.js': [
    'import { read } from "esm-bundle-later";',
    'if (process.argv[2] === "--use") console.log("reader saw", read());',
    'import { twice } from "esm-twice";',
    'import { wv } from "esm-bundle";',
    'console.log(twice, wv, globalThis.orderLog);',
    'import { hoisted } from "esm-hoisted";',
    'import { lonely } from "esm-lonely";',
    'import { list } from "esm-registry";',
    'import { pu } from "esm-plugin-user";',
    'console.log(lonely, list.join(","));',
    'if (process.argv[2] === "--use") console.log(hoisted(), pu());',
    'if (process.env.SHOW_EVALUATED) console.log("esm-leaf evaluated:", performance.getEntriesByName("esm-leaf evaluated").length, "esm-quiet evaluated:", performance.getEntriesByName("esm-quiet evaluated").length, "esm-quiet2 evaluated:", performance.getEntriesByName("esm-quiet2 evaluated").length);',
    'import { run } from "esm-user";',
    'import { f } from "esm-effect-user";',
    'import { g } from "esm-tla-user";',
    'import { x } from "esm-reexport";',
    'console.log(globalThis.esmEffect, f(), g(), x);',
    'if (process.argv[2] === "--use") console.log(run(21));',
    'if (process.env.SHOW_EVALUATED) console.log("esm-heavy evaluated:", performance.getEntriesByName("esm-heavy evaluated").length);',
    '',
  ].join('\n'),
};

const registerHooks = typeof (await import('node:module')).registerHooks === 'function';

test('pack --lazy, ES modules: imports nothing reads at load become deferred namespaces; effects, top-level await and re-exports stay', { skip: registerHooks ? false : 'the pack serves ES modules on Node 22.15+ only' }, (t) => {
  const dir = realpathSync(tempDir(t, 'coldstart-lazy-esm-'));
  writeTree(dir, esmTree);
  packLazy(dir);
  const rows = lazyRows(dir);
  const deferred = new Map(rows.map((row) => [row[0], row[4]]));
  assert.deepEqual(deferred.get('node_modules/esm-user/index.js'), ['esm-heavy', 'esm-heavy2', 'esm-heavy2']);
  assert.equal(deferred.get('node_modules/esm-effect-user/index.js'), undefined, 'a target with an effect stays eager');
  assert.equal(deferred.get('node_modules/esm-tla-user/index.js'), undefined, 'a target that awaits at top level stays eager');
  assert.equal(deferred.get('node_modules/esm-reexport/index.js'), undefined, 'a re-exported binding stays eager');
  assert.deepEqual(deferred.get('node_modules/esm-hoisted/index.js'), ['esm-mid', 'esm-leaf'], 'a hoisted bare import is dropped');
  assert.deepEqual(deferred.get('node_modules/esm-bundle-later/index.js'), ['esm-reader-user'], 'a bare import stays when a later import has an effect');
  assert.equal(deferred.get('node_modules/esm-twice/index.js'), undefined, 'two bare imports of one module are not each other\'s other path');
  assert.deepEqual(deferred.get('node_modules/esm-bundle/index.js'), ['esm-y'], 'a bare import whose module reaches an effect stays, whoever else loads that');
  assert.equal(deferred.get('node_modules/esm-lonely/index.js'), undefined, 'a bare import nothing else reaches stays');
  assert.equal(deferred.get('node_modules/esm-plugin-user/index.js'), undefined, 'plugins that register while they load stay eager');
  assert.equal(deferred.get('node_modules/esm-plugin-member/index.js'), undefined, 'a namespace read at the top level (reg.add(…)) stays: nothing to gain');
  for (const args of [[], ['--use']]) {
    const plain = runNode(['main.js', ...args], { cwd: dir, env: base });
    assert.equal(plain.code, 0, plain.stderr);
    const stats = join(dir, `stats-${args.length}.jsonl`);
    const lazy = runNode(['--import', register, 'main.js', ...args], { cwd: dir, env: { ...base, COLDSTART_PACK_STATS: stats } });
    assert.deepEqual([lazy.code, lazy.stdout, lazy.stderr], [plain.code, plain.stdout, plain.stderr], args.join(' '));
    const report = JSON.parse(readFileSync(stats, 'utf8').trim().split('\n').pop());
    // Each served rewrite counts what it defers; --use loads esm-mid, whose import of esm-leaf waits too.
    assert.equal(report.deferredRequires, args.length === 0 ? 7 : 9, JSON.stringify(report));
  }
  const show = { ...base, SHOW_EVALUATED: '1' };
  assert.match(runNode(['main.js'], { cwd: dir, env: show }).stdout, /esm-heavy evaluated: 1/);
  assert.match(runNode(['--import', register, 'main.js'], { cwd: dir, env: show }).stdout, /esm-heavy evaluated: 0/, 'not evaluated when not used');
  assert.match(runNode(['--import', register, 'main.js', '--use'], { cwd: dir, env: show }).stdout, /42 1 d\nesm-heavy evaluated: 1/);
  assert.match(runNode(['main.js'], { cwd: dir, env: show }).stdout, /^2 2 zv\n/);
  assert.match(runNode(['main.js'], { cwd: dir, env: show }).stdout, /esm-leaf evaluated: 1 esm-quiet evaluated: 1/);
  assert.match(runNode(['--import', register, 'main.js'], { cwd: dir, env: show }).stdout, /esm-leaf evaluated: 0 esm-quiet evaluated: 1 esm-quiet2 evaluated: 1/);
  assert.match(runNode(['--import', register, 'main.js', '--use'], { cwd: dir, env: show }).stdout, /^reader saw undefined\n2 2 zv\n1 member,named\n7 3\nesm-leaf evaluated: 1 esm-quiet evaluated: 1/);
});

test('pack --lazy, ES modules: a rewritten import reaches parameter defaults, and leaves a static block\'s own var alone', { skip: registerHooks ? false : 'the pack serves ES modules on Node 22.15+ only' }, (t) => {
  const dir = realpathSync(tempDir(t, 'coldstart-lazy-scope-'));
  writeTree(dir, {
    'package.json': '{"name":"lazy-scope","private":true,"type":"module"}',
    ...esmPkg('esm-lib', 'export const x = "LIBX", y = "LIBY", z = "LIBZ";\n'),
    ...esmPkg(
      'esm-shadow',
      [
        'import { x, y, z } from "esm-lib";',
        'export function f(a = x) { var x = "local"; return a + "/" + x; }',
        'export const h = (b = z) => { const z = "inner"; return b + "/" + z; };',
        'export function g() { class K { static { var y = "static-local"; K.seen = y; } } return K.seen + "/" + y; }',
        '',
      ].join('\n'),
    ),
    'main.js': 'import { f, g, h } from "esm-shadow";\nconsole.log(f(), g(), h());\n',
  });
  packLazy(dir);
  assert.deepEqual(new Map(lazyRows(dir).map((row) => [row[0], row[4]])).get('node_modules/esm-shadow/index.js'), ['esm-lib']);
  const plain = runNode(['main.js'], { cwd: dir, env: base });
  assert.equal(plain.stdout, 'LIBX/local static-local/LIBY LIBZ/inner\n', plain.stderr);
  const lazy = runNode(['--import', register, 'main.js'], { cwd: dir, env: base });
  assert.deepEqual([lazy.code, lazy.stdout, lazy.stderr], [plain.code, plain.stdout, plain.stderr]);
});

test('coldstart lazy and profile show each learned-deferral load: where it was required, what forced it, and where', (t) => {
  const dir = realpathSync(tempDir(t, 'coldstart-learned-records-'));
  writeTree(dir, {
    'package.json': '{"name":"records-app","private":true}',
    'node_modules/heavy/package.json': JSON.stringify({ name: 'heavy', version: '1.0.0' }),
    'node_modules/heavy/index.js': 'exports.run = () => "ran";\n',
    'node_modules/tool/package.json': JSON.stringify({ name: 'tool', version: '1.0.0' }),
    'node_modules/tool/index.js': 'const heavy = require("heavy");\nexports.help = () => "help";\nexports.work = () => heavy.run();\n',
    'main.js': 'const tool = require("tool");\nconsole.log(tool.help());\nif (process.argv[2] === "work") console.log(tool.work());\n',
  });
  const packed = runCli(['pack', '--lazy', '--always', '--', process.execPath, 'main.js'], { cwd: dir, env: base });
  assert.equal(packed.code, 0, packed.stderr);
  const env = { ...base, NODE_OPTIONS: `--import ${register}` };
  const listed = runCli(['lazy', '--', process.execPath, 'main.js', 'work'], { cwd: dir, env });
  assert.equal(listed.code, 0, listed.stderr);
  const said = `${listed.stdout}\n${listed.stderr}`;
  // heavy was deferred at pack time (the recorded run never used it), and `work` forced it here.
  assert.match(said, /heavy\s+loaded.*, by first use \(learned deferral\) at .*node_modules\/tool\/index\.js:3:\d+ \(declared at .*node_modules\/tool\/index\.js:1:7\)/);
  const quiet = runCli(['lazy', '--', process.execPath, 'main.js'], { cwd: dir, env });
  assert.match(`${quiet.stdout}\n${quiet.stderr}`, /heavy\s+not loaded \(declared at .*tool\/index\.js:1:7\)|^(?![\s\S]*heavy\s+loaded)/);
  const profile = runCli(['profile', '--', process.execPath, 'main.js', 'work'], { cwd: dir, env });
  assert.equal(profile.code, 0, profile.stderr);
  assert.match(`${profile.stdout}\n${profile.stderr}`, /heavy.*first use \(learned deferral\)/);
});

test('pack --lazy: rewrites are served to the programs they were learned from only; another program gets the packed sources as written', (t) => {
  const dir = realpathSync(tempDir(t, 'coldstart-lazy-others-'));
  writeTree(dir, {
    'package.json': '{"name":"lazy-others","private":true}',
    // reads-env reads an environment variable while it loads; uses-env loads it and uses it only in a function.
    ...pkg('reads-env', 'const flag = process.env.LAZY_FLAG;\nmodule.exports = () => flag ?? "unset";\n'),
    ...pkg('uses-env', 'const read = require("reads-env");\nmodule.exports = { run: () => read() };\n'),
    'tool.js': 'require("uses-env");\nconsole.log("tool", Object.keys(require.cache).some((f) => f.includes("reads-env")));\n',
    // Another program sets the variable between its require() and the first use.
    'other.js': 'const env = require("uses-env");\nprocess.env.LAZY_FLAG = "late";\nconsole.log("other", env.run());\n',
  });
  const built = runCli(['pack', '--lazy', '--always', '--json', '--', process.execPath, 'tool.js'], { cwd: dir, env: base });
  assert.equal(built.code, 0, built.stderr);
  const header = readPackFile(join(dir, 'node_modules/.cache/coldstart/pack.v1')).pack.header;
  assert.deepEqual(header.lazyEntries, ['tool.js']);
  assert.ok(header.lazy.some(([path]) => path === 'node_modules/uses-env/index.js'), 'uses-env is rewritten');
  const served = (file) => {
    const result = runNode(['--import', register, file], { cwd: dir, env: base });
    assert.equal(result.code, 0, result.stderr);
    return result.stdout;
  };
  // The recorded program: reads-env stays unloaded.
  assert.equal(served('tool.js'), 'tool false\n');
  // Another program prints what plain Node prints: reads-env loads at require() and sees no flag.
  assert.equal(runNode(['other.js'], { cwd: dir }).stdout, 'other unset\n');
  assert.equal(served('other.js'), 'other unset\n');
  // Named as Node names it: `node tool` (no extension) is the program recorded so.
  const named = runCli(['pack', '--lazy', '--always', '--', process.execPath, 'tool'], { cwd: dir, env: base });
  assert.equal(named.code, 0, named.stderr);
  assert.deepEqual(readPackFile(join(dir, 'node_modules/.cache/coldstart/pack.v1')).pack.header.lazyEntries, ['tool']);
  assert.equal(served('tool'), 'tool false\n');
  // `node -e` names no program: another -e run is another program.
  const evaluated = runCli(['pack', '--lazy', '--always', '--', process.execPath, '-e', 'require("./tool.js")'], { cwd: dir, env: base });
  assert.equal(evaluated.code, 0, evaluated.stderr);
  assert.deepEqual(readPackFile(join(dir, 'node_modules/.cache/coldstart/pack.v1')).pack.header.lazyEntries, []);
  const other = runNode(['--import', register, '-e', 'const env = require("uses-env"); process.env.LAZY_FLAG = "late"; console.log(env.run());'], { cwd: dir, env: base });
  assert.equal(other.stdout, 'unset\n', other.stderr);
});

test('pack --lazy with COLDSTART_DEBUG=1 says which requires stay and why; without it, nothing', (t) => {
  const dir = realpathSync(tempDir(t, 'coldstart-lazy-debug-'));
  writeTree(dir, {
    'package.json': { name: 'debug-reasons', private: true },
    'node_modules/.keep': '',
    'main.js': 'const loud = require("./loud.js");\nconst quiet = require("./quiet.js");\nexports.use = () => [loud, quiet];\n',
    'loud.js': 'console.log("loud loaded");\nexports.v = 1;\n',
    'quiet.js': 'exports.v = 2;\n',
  });
  const told = runCli(['pack', '--lazy', '--always', '--', process.execPath, 'main.js'], { cwd: dir, env: { ...base, COLDSTART_DEBUG: '1' } });
  assert.equal(told.code, 0, told.stderr);
  assert.match(told.stderr, /coldstart: learned deferral: main\.js: \.\/loud\.js stays: loud\.js calls console\.log while it loads/);
  assert.doesNotMatch(told.stderr, /quiet\.js stays/);
  const quiet = runCli(['pack', '--lazy', '--always', '--', process.execPath, 'main.js'], { cwd: dir, env: base });
  assert.doesNotMatch(quiet.stderr, /stays:/);
});

test('pack --lazy: a module that reads process state as it loads waits, unless a module outside what loads with it changes that state', (t) => {
  const dir = realpathSync(tempDir(t, 'coldstart-lazy-state-'));
  writeTree(dir, {
    'package.json': JSON.stringify({ name: 'state-app', private: true }),
    ...pkg('reads-x', 'module.exports = process.env.STATE_X ?? "unset";\n'),
    ...pkg('reads-y', 'module.exports = process.env.STATE_Y ?? "unset";\n'),
    ...pkg('reads-all', 'const { env } = process;\nmodule.exports = Object.keys(env).length > 0;\n'),
    // Reads and changes STATE_Z itself: its own change cannot come before its own load.
    ...pkg('own-writer', 'const z = process.env.STATE_Z ?? "unset";\nexports.z = () => z;\nexports.set = () => { process.env.STATE_Z = "set"; };\n'),
    ...pkg('uses-x', user('reads-x')),
    ...pkg('uses-y', user('reads-y')),
    ...pkg('uses-all', user('reads-all')),
    ...pkg('uses-own', user('own-writer')),
    'main.js': [
      'const fns = ["uses-x", "uses-y", "uses-all", "uses-own"].map((name) => require(name));',
      'function setX() { process.env.STATE_X = "set"; }',
      'if (process.argv[2] === "--set") setX();',
      'console.log(fns.map((f) => { const v = f(); return typeof v === "object" ? v.z() : String(v); }).join(" "));',
      '',
    ].join('\n'),
  });
  packLazy(dir);
  const deferred = new Map(lazyRows(dir).map((row) => [row[0], row[4]]));
  const of = (name) => deferred.get(`node_modules/${name}/index.js`) ?? [];
  assert.deepEqual(of('uses-x'), [], 'STATE_X, which main.js changes, is read as reads-x loads');
  assert.deepEqual(of('uses-y'), ['reads-y'], 'a variable nothing changes');
  assert.deepEqual(of('uses-all'), [], 'the whole environment, of which main.js changes a variable');
  assert.deepEqual(of('uses-own'), ['own-writer'], 'a variable only the module itself changes');
  for (const args of [[], ['--set']]) {
    const plain = runNode(['main.js', ...args], { cwd: dir, env: base });
    const served = run(dir, args);
    assert.deepEqual([served.code, served.stdout, served.stderr], [plain.code, plain.stdout, plain.stderr]);
  }
});
