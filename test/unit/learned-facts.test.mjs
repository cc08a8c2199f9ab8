// Learned deferral's analysis of one CommonJS module, as a table: what counts as an effect when
// the module loads, and which top-level requires are candidates. The decisions over the load
// graph are tested end to end in test/process/pack-lazy.test.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { core } from '../helpers.mjs';
const { commonJsFacts, keepsValue, lowerLearned, moduleFacts } = await import(core('defer/learned'));
const { neverRanAt, neverRanIn } = await import(core('pack/coverage'));

const effect = (source) => commonJsFacts(source, '/m/index.js').sideEffect;
const candidates = (source) => commonJsFacts(source, '/m/index.js').candidates.map((site) => site.specifier);

const effects = [
  ['a global write', 'globalThis.x = 1;', /globalThis/],
  ['a prototype patch', 'Array.prototype.last = function () {};', /Array/],
  ['an implicit global', 'leak = 1;', /global leak/],
  ['a process handler at the top level', 'process.on("exit", () => {});', /process\.on/],
  ['output while loading', 'console.log("hi");', /console\.log/],
  ['a write to process.env, even in a function', 'function f() { process.env.X = "1"; }', /process/],
  ['a patch of a builtin module binding', 'const fs = require("fs");\nfs.close = () => {};', /builtin module bound to fs/],
  ['a patch through require("fs") itself', 'require("fs").close = () => {};', /builtin module fs/],
  ['defineProperty on a shared object', 'Object.defineProperty(globalThis, "x", { value: 1 });', /Object\.defineProperty on globalThis/],
  ['require.extensions at the top level', 'require.extensions[".x"] = () => {};', /require\.extensions/],
  ['module.constructor at the top level', 'module.constructor.prototype.x = 1;', /module\.constructor/],
  ['Error.prepareStackTrace at the top level', 'Error.prepareStackTrace = () => {};', /Error/],
  ['registering into another module (a call made for what it does)', 'const reg = require("./reg");\nreg.add("x", 1);', /calls reg\.add of another module/],
  ['registering through require itself', 'require("chai").use(plugin);', /calls chai\.use of another module/],
  ['calling a function taken from another module', 'const { config } = require("dotenv");\nconfig();', /calls config of another module/],
  ['a builtin property set in a function and not put back', 'const { report } = require("node:process");\nfunction h() { const previous = report.compact; report.compact = true; return previous; }', /builtin module bound to report/],
  ['a saved value put back before another write', 'function h() { const p = process.title; process.title = p; process.title = "x"; }', /process\.title/],
  ['a restore in a branch', 'function h() { const saved = process.exitCode; process.exitCode = 3; if (undo) process.exitCode = saved; }', /process\.exitCode/],
  ['a restore after an early return', 'function h() { const saved = process.exitCode; process.exitCode = 3; if (done) return; process.exitCode = saved; }', /process\.exitCode/],
  ['a saved local that may change (let)', 'function h() { let prev = globalThis.MODE; globalThis.MODE = "x"; prev = "changed"; globalThis.MODE = prev; }', /globalThis\.MODE/],
  ['a timer set while loading', 'setTimeout(() => console.log("later"));', /calls setTimeout while it loads/],
  ['loading an env file', 'process.loadEnvFile();', /process\.loadEnvFile/],
  ['a chained call on another module', 'const chai = require("chai");\nchai.use(a).use(b);', /calls chai\.use\.use of another module/],
  ['calling what require returns', 'require("reg")("x");', /calls reg of another module/],
  ['constructing from another module', 'const reg = require("reg");\nnew reg.Thing("x");', /calls reg\.Thing of another module/],
  ["handing another module's function to a call", 'const reg = require("reg");\n["a"].forEach(reg.add);', /calls reg\.add of another module/],
  ['handing a function taken from another module to a call', 'const { add } = require("reg");\n["a"].forEach(add);', /calls add of another module/],
  ['a call in a sequence', 'const reg = require("reg");\nreg.add("x"), 0;', /calls reg\.add of another module/],
  ['a call into another module from a function the top level calls', 'const helper = require("helper");\nfunction init() { helper.mark(); }\ninit();', /calls helper\.mark of another module/],
  ['a save and restore of process.env (an unset variable comes back as "undefined")', 'function f() { const prev = process.env.FOO; process.env.FOO = "tmp"; process.env.FOO = prev; }', /process\.FOO/],
  ['an await between the write and the restore', 'async function f() { const old = process.exitCode; process.exitCode = 7; await g(); process.exitCode = old; }', /process\.exitCode/],
  ['an optional call of a function taken from another module', 'const { add } = require("reg");\nadd?.("x");', /calls add of another module/],
  ["a compiler's call of another module's function", 'const reg_1 = require("reg");\n(0, reg_1.add)("x");', /calls reg_1\.add of another module/],
  ['an optional method call on another module', 'const reg = require("reg");\nreg.add?.("x");', /calls reg\.add of another module/],
  // Functions another module made: calling one for what it does may register or print.
  ['a call of a function another module returned', 'const reg = require("registry").makeRegistrar("k");\nreg("loaded");', /calls reg of another module/],
  ['the same through a binding of the module', 'const r = require("registry");\nconst reg = r.makeRegistrar("m");\nreg("loaded");', /calls reg of another module/],
  ["debug's logger called while the module loads", 'const debug = require("debug")("pkg");\ndebug("loaded");', /calls debug of another module/],
  ["a builtin's logger called while the module loads", 'const log = require("util").debuglog("pkg");\nlog("loaded");', /calls log of another module/],
  ['an alias of a function of another module', 'const reg = require("reg");\nconst add = reg.add;\nadd("x");', /calls add of another module/],
  ['a function another module made, handed to a call', 'const reg = require("registry").makeRegistrar("k");\n["a"].forEach(reg);', /calls reg of another module/],
];
const noEffects = [
  ['reading process.argv', 'if (process.argv.includes("--x")) exports.x = 1;'],
  ['writing its own exports', 'module.exports.x = 1;\nexports.y = 2;\nmodule.exports = { z: 3 };'],
  ['Error.prepareStackTrace saved and restored in a function', 'function f() { const old = Error.prepareStackTrace; Error.prepareStackTrace = (_, s) => s; const s = new Error().stack; Error.prepareStackTrace = old; return s; }'],
  ['require.cache deleted in a function', 'module.exports = (id) => { delete require.cache[id]; return require(id); };'],
  ['console in a function', 'module.exports = () => console.log("later");'],
  ['a timer set in a function', 'exports.later = () => setTimeout(() => {}, 10);'],
  ["another module's exports copied (picomatch)", 'const pico = require("./lib/picomatch");\nfunction picomatch() {}\nObject.assign(picomatch, pico);\nmodule.exports = picomatch;'],
  ['a call into another module from a function nothing at the top level calls', 'const helper = require("helper");\nfunction later() { helper.mark(); }\nmodule.exports = later;'],
  ['a helper of another module whose value is kept', 'const util = require("./util");\nconst RULES = util.toHash(["a"]);\nmodule.exports = RULES;'],
  ['a builtin helper called for what it does', 'const util = require("util");\nutil.inspect.defaultOptions;'],
  ['util.inherits on its own classes', 'const util = require("util");\nfunction A() {}\nfunction B() {}\nutil.inherits(A, B);'],
  ["debug's logger made at load and called in a function", 'const debug = require("debug")("pkg");\nmodule.exports = () => debug("later");'],
  ['an object another module made, kept', 'const x = require("x").create();\nmodule.exports = x;'],
  ['a require made for the module, asked to resolve', 'const { createRequire } = require("module");\nconst __require = createRequire(__filename);\ntry { __require.resolve("picomatch"); } catch {}'],
  ["a bundler's lazy wrapper of the module's own code, called", 'const { __esmMin } = require("./chunk.js");\nlet value;\nconst init_a = __esmMin((() => { value = 1; }));\ninit_a();\nmodule.exports = () => value;'],
  ['a local shadowing a global name', 'const process = { on() {} };\nprocess.on("x");\nconst Array = [];\nArray.x = 1;'],
  ["a builtin property saved, set and put back in a function (rollup's native.js)", 'const { report } = require("node:process");\nfunction h() { const previous = report.excludeNetwork; report.excludeNetwork = true; const header = report.getReport().header; report.excludeNetwork = previous; return header; }\nh();'],
  ['a shared property set in try and put back in finally', 'function f() { const old = process.exitCode; try { process.exitCode = 2; g(); } finally { process.exitCode = old; } }'],
];

for (const [name, source, reason] of effects) test(`effect: ${name}`, () => assert.match(effect(source) ?? '', reason));
for (const [name, source] of noEffects) test(`no effect: ${name}`, () => assert.equal(effect(source), undefined));

test('effects and what the recorded runs showed: code they never ran, and process.env they saw unchanged', () => {
  const global = 'exports.install = function () { globalThis.installed = true; };\n';
  const at = global.indexOf('globalThis');
  const never = (offset) => offset >= 18 && offset < global.length - 2;
  assert.match(moduleFacts(global, '/m/a.js', 'commonjs').sideEffect ?? '', /globalThis/, 'no evidence: a write anywhere counts');
  assert.equal(moduleFacts(global, '/m/a.js', 'commonjs', { neverRan: never }).sideEffect, undefined, 'a function no run called');
  assert.match(moduleFacts(global, '/m/a.js', 'commonjs', { neverRan: (offset) => offset !== at && never(offset) }).sideEffect ?? '', /globalThis/, 'the write ran');
  // Top-level code and a function invoked on the spot are what loading runs: coverage is not asked.
  assert.match(moduleFacts('globalThis.x = 1;', '/m/a.js', 'commonjs', { neverRan: () => true }).sideEffect ?? '', /globalThis/);
  assert.match(moduleFacts('(function () { globalThis.x = 1; })();', '/m/a.js', 'commonjs', { neverRan: () => true }).sideEffect ?? '', /globalThis/);
  // A function loading calls by name (or may call: in a branch) is not asked: its branches,
  // and whether it runs at all, depend on the environment.
  // V8's answer for a file whose first line is a function no run called.
  const firstLine = (source) => (offset) => offset < source.indexOf('\n');
  const named = 'function init() { if (process.env.FEATURE) globalThis.feature = "on"; }\ninit();\n';
  assert.match(moduleFacts(named, '/m/a.js', 'commonjs', { neverRan: firstLine(named) }).sideEffect ?? '', /globalThis/);
  const maybe = 'function install() { globalThis.installed = true; }\nif (process.env.INSTALL) install();\n';
  assert.match(moduleFacts(maybe, '/m/a.js', 'commonjs', { neverRan: firstLine(maybe) }).sideEffect ?? '', /globalThis/);
  const method = 'const api = { install() { globalThis.installed = true; } };\nif (process.env.INSTALL) api.install();\n';
  assert.match(moduleFacts(method, '/m/a.js', 'commonjs', { neverRan: (offset) => offset > 13 && offset < method.indexOf('\n') - 3 }).sideEffect ?? '', /globalThis/, 'a method of an object made at load');
  const inner = 'function outer() { const go = () => { globalThis.x = 1; };\nif (process.env.GO) go(); }\nouter();\n';
  const goAt = inner.indexOf('() =>');
  assert.match(moduleFacts(inner, '/m/a.js', 'commonjs', { neverRan: (offset) => offset >= goAt && offset < inner.indexOf('\n') - 2 }).sideEffect ?? '', /globalThis/, 'called by name from a function that ran');
  const chain = 'function a() { setup(); }\nfunction setup() { globalThis.T = 1; }\nif (process.env.A) a();\n';
  assert.match(moduleFacts(chain, '/m/a.js', 'commonjs', { neverRan: (offset) => offset < chain.lastIndexOf('if') }).sideEffect ?? '', /globalThis/, 'reached through a function loading may call');
  const own = 'exports.install = function () { globalThis.E = 1; };\nif (process.env.B) exports.install();\n';
  const ownFn = (offset) => offset >= own.indexOf('function') && offset < own.indexOf(';\n');
  assert.equal(moduleFacts('exports.install = function () { globalThis.E = 1; };\n', '/m/a.js', 'commonjs', { neverRan: ownFn }).sideEffect, undefined, 'an export no one calls at load');
  assert.match(moduleFacts(own, '/m/a.js', 'commonjs', { neverRan: ownFn }).sideEffect ?? '', /globalThis/, 'the module calls its own export');
  const ts = 'const install = () => { globalThis.E = 1; };\nexports.install = install;\nif (process.env.B) (0, exports.install)();\n';
  assert.match(moduleFacts(ts, '/m/a.js', 'commonjs', { neverRan: (offset) => offset >= 16 && offset < ts.indexOf(';\n') }).sideEffect ?? '', /globalThis/, "TypeScript's call of its own export");
  const later = 'function restart() { globalThis.started = Date.now(); }\nfunction serve() { restart(); }\nexport { serve };\n';
  assert.equal(moduleFacts(later, '/m/a.mjs', 'module', { neverRan: (offset) => offset < later.lastIndexOf('export') }).sideEffect, undefined, 'called only from functions no run called; exports are not calls');
  // An ES module's byte order mark is not part of what V8 compiled (offsets shift by one);
  // CommonJS keeps it.
  const bom = `\ufeff${global}`;
  const bomAt = bom.indexOf('function');
  assert.equal(moduleFacts(bom, '/m/a.js', 'commonjs', { neverRan: (offset) => offset >= bomAt && offset < bom.length - 2 }).sideEffect, undefined);
  const esmBom = '\ufeffexport function install() { globalThis.installed = true; }\n';
  const esmAt = esmBom.indexOf('function') - 1;
  assert.equal(moduleFacts(esmBom, '/m/a.mjs', 'module', { neverRan: (offset) => offset >= esmAt && offset < esmBom.length - 3 }).sideEffect, undefined);
  assert.match(moduleFacts(esmBom, '/m/a.mjs', 'module', { neverRan: (offset) => offset >= esmAt + 1 && offset < esmAt + 2 }).sideEffect ?? '', /globalThis/);
  const save = 'function save(ns) { if (ns) process.env.DEBUG = ns; else delete process.env.DEBUG; }\nconst api = { save, load: () => process.env.DEBUG };\napi.save(api.load());\nmodule.exports = api;';
  assert.match(moduleFacts(save, '/m/a.js', 'commonjs').sideEffect ?? '', /process\.DEBUG/, 'no evidence: process.env written in a function counts');
  assert.equal(moduleFacts(save, '/m/a.js', 'commonjs', { envWritesBack: true }).sideEffect, undefined, 'the runs saw this file only write back what it read');
  assert.match(moduleFacts('process.env.DEBUG = "x";', '/m/a.js', 'commonjs', { envWritesBack: true }).sideEffect ?? '', /process\.DEBUG/, 'a top-level write still counts');
  assert.match(moduleFacts('function setEnv() { process.env.NODE_ENV = "production"; }', '/m/a.js', 'commonjs', { envWritesBack: true }).sideEffect ?? '', /process\.NODE_ENV/, 'only a setter from a parameter (debug\'s shape) is asked about');
  // Whether a write is one the recording calls a write-back: test/process/pack-lazy.test.mjs (env-copy-pkg).
  assert.match(moduleFacts('function f() { process.title = "x"; }', '/m/a.js', 'commonjs', { envWritesBack: true }).sideEffect ?? '', /process\.title/, 'only process.env');
});

test('ES modules: calls of imported functions are effects; bare imports are listed for learn.ts', () => {
  const esm = (source) => moduleFacts(source, '/m/a.mjs', 'module');
  assert.match(esm('import reg from "reg";\nreg.add("x");\nexport const y = 1;').sideEffect ?? '', /calls reg\.add of another module/);
  assert.match(esm('import { add } from "reg";\nadd("x");\nexport const y = 1;').sideEffect ?? '', /calls add of another module/);
  assert.equal(esm('import { toHash } from "util-pkg";\nexport const RULES = toHash(["a"]);').sideEffect, undefined, 'a value kept is a helper');
  const facts = esm('import "a";\nimport { b } from "b";\nimport "./c.js";\nimport json from "./d.json" with { type: "json" };\nexport const f = () => [b, json];');
  assert.deepEqual(facts.bareImports.map((site) => site.specifier), ['a', './c.js']);
  const source = 'import "a";\nimport { b } from "b";\nexport const f = () => b;\n';
  const lowered = moduleFacts(source, '/m/a.mjs', 'module');
  const code = lowerLearned(source, lowered, new Set(lowered.bareImports));
  assert.equal(code, '\nimport { b } from "b";\nexport const f = () => b;\n', 'dropped, lines kept; the other import as written');
});

test('coverage: the innermost block decides, and every process that covered a file must not have run it', () => {
  const blocks = [[0, 100, 1], [10, 50, 0], [20, 30, 3]];
  assert.deepEqual([5, 15, 25, 60, 150].map((offset) => neverRanAt(blocks, offset)), [false, true, false, false, false]);
  assert.equal(neverRanIn(undefined, [1]), undefined);
  const two = neverRanIn([{ pid: 1, blocks }, { pid: 2, blocks: [[0, 100, 1], [10, 50, 2]] }], [1, 2]);
  assert.equal(two(15), false, 'one process ran it');
  assert.equal(neverRanIn([{ pid: 1, blocks }, { pid: 2, blocks }], [1, 2])(15), true);
  assert.equal(neverRanIn([{ pid: 1, blocks }], [1, 2]), undefined, 'process 2 loaded the file and wrote no coverage of it');
});

const cases = [
  ['used only in a function', 'const a = require("a");\nmodule.exports = () => a.x;', ['a']],
  ['destructured, member and interop forms', 'const { b } = require("b");\nconst c = require("c").c;\nconst d = __importStar(require("d"));\nmodule.exports = () => [b, c, d];', ['b', 'c', 'd']],
  ['read while the module evaluates', 'const a = require("a");\nconst x = a.x;\nx.y;\nmodule.exports = () => x;', []],
  ['an alias read only in a function waits with its require', 'const a = require("a");\nconst x = a.x.y;\nconst { z } = a;\nmodule.exports = () => [x, z];', ['a', 'a', 'a']],
  ['an alias read at load keeps its require eager', 'const a = require("a");\nconst x = a.x;\nconst y = a.y;\ny();\nmodule.exports = () => x;', []],
  ['an alias re-exported keeps its require eager', 'const a = require("a");\nconst x = a.x;\nmodule.exports = { x };', []],
  ['an alias reassigned keeps its require eager', 'const a = require("a");\nlet x = a.x;\nmodule.exports = () => { x = 1; };', []],
  ['a computed member is no alias', 'const a = require("a");\nconst x = a[k];\nmodule.exports = () => x;', []],
  ['an optional member is no alias', 'const a = require("a");\nconst x = a?.x;\nmodule.exports = () => x;', []],
  ['an alias before its require is none (it read an unset binding)', 'var X = x.X;\nvar x = require("x");\nmodule.exports = () => [X, x];', []],
  ['an alias in the same list before its require is none', 'const X = x.X, x = require("x");\nmodule.exports = () => [X, x];', []],
  ['no alias where the module writes through its require', 'const x = require("x");\nconst L = x.level;\nexports.set = (v) => { x.level = v; };\nexports.get = () => L;', []],
  ['no alias where the module defines a property on its require', 'const x = require("x");\nconst L = x.level;\nexports.set = (v) => Object.defineProperty(x, "level", { value: v });\nexports.get = () => L;', []],
  ['a name declared twice stays as written', 'var a = require("a");\nif (c) { var a = 1; }\nmodule.exports = () => a;', []],
  ['re-exported at the top level', 'const a = require("a");\nmodule.exports = { a };', []],
  ['reassigned', 'let a = require("a");\nmodule.exports = () => { a = null; };', []],
  ['inside try or a condition, or only for effects', 'try { const a = require("a"); } catch {}\nif (x) { const b = require("b"); }\nrequire("c");', []],
  ['a static class block runs at load, a method does not', 'const a = require("a");\nconst b = require("b");\nclass K { static { b.x; } m() { return a; } }', ['a']],
  ['eval makes names unresolvable', 'const a = require("a");\nmodule.exports = () => eval("a");', []],
];
for (const [name, source, expected] of cases) test(`candidates: ${name}`, () => assert.deepEqual(candidates(source), expected));

test('exports that change after load, and writes into other modules, are seen', () => {
  const later = (source) => commonJsFacts(source, '/m/index.js').exportsChangeLater;
  assert.equal(later('exports.count = 0;\nexports.bump = () => { exports.count++; };'), true);
  assert.equal(later('module.exports.ready = false;\nexports.init = function () { module.exports.ready = true; };'), true);
  assert.equal(later('exports.reset = () => { module.exports = {}; };'), true);
  assert.equal(later('exports.def = () => Object.defineProperty(exports, "x", { value: 1 });'), true);
  assert.equal(later('exports.a = 1;\nmodule.exports.b = () => 2;\nObject.defineProperty(exports, "__esModule", { value: true });'), false);
  assert.deepEqual(commonJsFacts('const box = require("box");\nconst other = require("other");\nmodule.exports = () => { box.level = 2; delete other.x; };', '/m/index.js').writesInto, ['box', 'other']);
  const sites = commonJsFacts('const a = require("a");\nconst { b } = require("b");\nconst c = require("c").c;\nconst d = __importStar(require("d"));\nconst A = a.A;\nmodule.exports = () => [a, b, c, d, A];', '/m/index.js').candidates;
  assert.deepEqual(sites.map((site) => keepsValue(site)), [false, true, true, true, true]);
});

test("lowerLearned: the directive stays first, the helper goes on a line after the last, hoisted", () => {
  const source = "'use strict'\nconst a = require('a')\nmodule.exports = () => a";
  const facts = commonJsFacts(source, '/m/index.js');
  const code = lowerLearned(source, facts, new Set(facts.candidates));
  assert.match(code, /^'use strict'\nconst __coldstart_defer0 = __coldstart_lazy\(/);
  assert.match(code, /\nmodule\.exports = \(\) => __coldstart_defer0\.m\nfunction __coldstart_lazy\(/);
  const module = { exports: undefined };
  new Function('require', 'module', code)(() => 'a value', module);
  assert.equal(module.exports(), 'a value');
});

test('lowerLearned: a getter per accepted declaration, the helper on a line after the last, lines kept', () => {
  const source = '"use strict";\nconst a = require("a");\nconst { b } = require("b");\nmodule.exports = () => [a.x, b()];\n';
  const facts = commonJsFacts(source, '/m/index.js');
  const code = lowerLearned(source, facts, new Set(facts.candidates));
  // Every line of the module where it was, its first untouched (a minified file's only line grows by the edits alone).
  assert.equal(code.split('\n').length, source.split('\n').length + 1);
  assert.equal(code.split('\n')[0], '"use strict";');
  assert.match(code.split('\n').at(-1), /^function __coldstart_lazy\(load, specifier, line, column\)/);
  // The specifier and where it was required travel with it, for the lazy-load records.
  assert.match(code, /const __coldstart_defer0 = __coldstart_lazy\(\(\) => \(require\("a"\)\), "a", 2, 7\);/);
  assert.match(code, /\[__coldstart_defer0\.m\.x, \(0, __coldstart_defer1\.m\.b\)\(\)\]/);
  assert.equal(lowerLearned(source, facts, new Set()), undefined);
});

test('lowerLearned: an alias reads through its require at its own first use, and never without it', () => {
  const source = '"use strict";\nconst a = require("a");\nconst X = a.X;\nconst { y } = a;\nmodule.exports = () => [new X(), y, a.z];\n';
  const facts = commonJsFacts(source, '/m/index.js');
  const code = lowerLearned(source, facts, new Set(facts.candidates));
  assert.match(code, /const __coldstart_alias0 = __coldstart_lazy\(function __coldstart_via\(\) \{ return \(__coldstart_defer0\.m\.X\); \}, null, 3, 7\);/);
  assert.match(code, /\[new __coldstart_alias0\.m\(\), __coldstart_alias1\.m\.y, __coldstart_defer0\.m\.z\]/);
  // Evaluated: "a" loads at the first call, once, and each alias reads the value it had then.
  let loads = 0;
  const fake = { X: class {}, y: 1, z: 2 };
  const module = { exports: undefined };
  new Function('require', 'module', code)(() => (loads++, fake), module);
  assert.equal(loads, 0);
  const [made, y, z] = module.exports();
  assert.ok(made instanceof fake.X);
  assert.deepEqual([loads, y, z], [1, 1, 2]);
  // Under the lazy-load records, the one load is recorded once, however many aliases read it.
  const key = Symbol.for('coldstart.learnedLoad');
  const recorded = [];
  globalThis[key] = (load, specifier, file, line) => (recorded.push(`${specifier}:${line}`), load());
  try {
    const again = { exports: undefined };
    new Function('require', 'module', code)(() => fake, again);
    again.exports();
  } finally {
    delete globalThis[key];
  }
  assert.deepEqual(recorded, ['a:2']);
  // Accepting the alias without its require (or the reverse) rewrites neither.
  const [site, alias] = facts.candidates;
  assert.equal(lowerLearned(source, facts, new Set([alias])), undefined);
  const fresh = commonJsFacts(source, '/m/index.js');
  // One alias left out reads "a" at load: "a" and its other alias stay as written too.
  assert.equal(lowerLearned(source, fresh, new Set([fresh.candidates[0], fresh.candidates[2]])), undefined);
  assert.ok(site.alias === undefined && alias.alias === site);
});

test('lowerLearned: a destructured value is read once, at first use, as the declaration read it once', () => {
  const source = 'const x = require("x");\nconst { fresh } = x;\nconst { other } = require("y");\nmodule.exports = () => [fresh === fresh, other === other];\n';
  const facts = commonJsFacts(source, '/m/index.js');
  const code = lowerLearned(source, facts, new Set(facts.candidates));
  const module = { exports: undefined };
  const getter = () => ({ get fresh() { return {}; }, get other() { return {}; } });
  new Function('require', 'module', code)(getter, module);
  assert.deepEqual(module.exports(), [true, true]);
});

test('lowerLearned: a multi-line initialiser keeps every later line where it was', () => {
  const source = 'const x = require(\n  "x"\n);\nconst X = x\n  .X;\nmodule.exports = () => new Error(String(X)).stack;\n';
  const facts = commonJsFacts(source, '/m/index.js');
  const code = lowerLearned(source, facts, new Set(facts.candidates));
  assert.equal(code.split('\n').length, source.split('\n').length + 1);
  assert.equal(code.split('\n').findIndex((line) => line.includes('new Error')), 5);
});

test('an alias never takes a name a wrapper\'s require owns', () => {
  const source = 'const x = require("x");\nconst y = x.y;\n(function () {\n  var y;\n  y = require("z");\n  module.exports = function () { return y; };\n}).call(this);\n';
  const facts = commonJsFacts(source, '/m/index.js');
  const code = lowerLearned(source, facts, new Set(facts.candidates));
  const module = { exports: undefined };
  new Function('require', 'module', code ?? source)((id) => ({ id, y: 'x.y' }), module);
  assert.deepEqual(module.exports(), { id: 'z', y: 'x.y' });
});

test('the lazy-load records name the use that forced a load through an alias, not the alias', async () => {
  const { recordLearnedLoads } = await import(core('lazy/learned-records'));
  const { store } = await import(core('lazy/records'));
  const { writeFileSync, mkdtempSync, rmSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const { createRequire } = await import('node:module');
  const source = '"use strict";\nconst a = require("node:path");\nconst join = a.join;\n\nmodule.exports = () =>\n  join("x", "y");\n';
  const facts = commonJsFacts(source, '/m/index.js');
  const dir = mkdtempSync(join(tmpdir(), 'coldstart-via-'));
  try {
    const file = join(dir, 'rewritten.cjs');
    writeFileSync(file, lowerLearned(source, facts, new Set(facts.candidates)));
    recordLearnedLoads();
    const before = store().records.length;
    assert.equal(createRequire(file)(file)(), join('x', 'y'));
    const added = store().records.slice(before);
    assert.deepEqual(added.map((r) => r.specifier), ['node:path'], 'one load, recorded once');
    assert.match(String(added[0].firstUseAt), /rewritten\.cjs:6:/, 'the call on line 6, not the alias on line 3');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('code without semicolons: a rewritten call that opens a statement does not join the line before it', () => {
  // semver's comparator.js: a line ending in `.join(' ')`, then `debug(...)`.
  const source = "'use strict'\nconst debug = require('debug')\nfunction f (comp) {\n  comp = comp.trim().split(/\\s+/).join(' ')\n  debug('comparator', comp)\n  if (comp) debug(1)\n  debug(2);\n  return comp\n}\nmodule.exports = f\n";
  const facts = commonJsFacts(source, '/m/comparator.js');
  const code = lowerLearned(source, facts, new Set(facts.candidates));
  assert.match(code, /\.join\(' '\)\n {2};\(0, __coldstart_defer0\.m\)\('comparator', comp\)/);
  // The body of an `if` keeps its call: a `;` there would make it an empty statement.
  assert.match(code, /if \(comp\) \(0, __coldstart_defer0\.m\)\(1\)/);
  const calls = [];
  const module = { exports: {} };
  new Function('require', 'module', 'exports', '__filename', code)(() => (...args) => calls.push(args), module, module.exports, '/m/comparator.js');
  assert.equal(module.exports(' a  b '), 'a b');
  assert.deepEqual(calls, [['comparator', 'a b'], [1], [2]]);
});

test('a binding read by a function that runs while the module loads is not deferred (called, handed to a call, or invoked at once)', () => {
  const names = (source) => commonJsFacts(source, '/m/main.js').candidates.map((c) => c.specifier);
  // The trial's program: the environment changes, then main() reads chalk while the file loads.
  assert.deepEqual(names("const chalk = require('chalk')\nif (process.argv.includes('--plain')) process.env.FORCE_COLOR = '0'\nfunction main () { console.log(chalk.red('x')) }\nmain()\n"), []);
  assert.deepEqual(names("const a = require('a')\nfunction helper () { return a.x }\nfunction main () { return helper() }\nmain()\n"), []);
  assert.deepEqual(names("const a = require('a')\nconst run = () => a.x\n;[1].forEach(run)\n"), []);
  assert.deepEqual(names("const a = require('a')\n;(function () { a.x })()\n"), []);
  // Only exported, or run later: deferred.
  assert.deepEqual(names("const a = require('a')\nfunction main () { return a.x }\nmodule.exports = main\n"), ['a']);
  assert.deepEqual(names("const a = require('a')\nfunction later () { return a.x }\nsetTimeout\nmodule.exports = { later }\n"), ['a']);
});

test("a require assigned inside a module-wide invoked function (LiveScript's wrapper) is a candidate when only functions that run later read it", () => {
  const names = (source) => commonJsFacts(source, '/m/util.js').candidates.map((c) => c.specifier);
  // optionator's util.js, as LiveScript writes it.
  const util = '(function(){\n  var prelude, map, fl, closest;\n  prelude = require("prelude-ls"), map = prelude.map;\n  fl = require("fast-levenshtein");\n  closest = function(a, b){ return map(function(it){ return fl.get(a, it); })(b); };\n  module.exports = { closest: closest };\n}).call(this);\n';
  assert.deepEqual(names(util), ['fast-levenshtein']);
  // Read while the wrapper runs, called there, reassigned, or not the wrapper's own var: not deferred.
  assert.deepEqual(names('(function(){\n  var fl;\n  fl = require("x");\n  var y = fl.get;\n}).call(this);\n'), []);
  assert.deepEqual(names('(function(){\n  var fl, f;\n  fl = require("x");\n  f = function(){ return fl.get(); };\n  f();\n}).call(this);\n'), []);
  assert.deepEqual(names('(function(){\n  var fl;\n  fl = require("x");\n  fl = null;\n  module.exports = function(){ return fl; };\n})();\n'), []);
  assert.deepEqual(names('var fl;\n(function(){\n  fl = require("x");\n  module.exports = function(){ return fl; };\n})();\n'), []);
  // Its requires are what the module loads as it evaluates.
  assert.deepEqual(commonJsFacts(util, '/m/util.js').eagerRequires, ['prelude-ls', 'fast-levenshtein']);
  // The rewrite keeps the assignment and reads through it.
  const facts = commonJsFacts(util, '/m/util.js');
  const code = lowerLearned(util, facts, new Set(facts.candidates));
  assert.match(code, /fl = __coldstart_lazy\(\(\) => \(require\("fast-levenshtein"\)\), "fast-levenshtein", 4, 3\);/);
  assert.match(code, /return fl\.m\.get\(a, it\);/);
  const loaded = [];
  const module = { exports: {} };
  const req = (id) => {
    loaded.push(id);
    return id === 'prelude-ls' ? { map: (f) => (list) => list.map(f) } : { get: (a, b) => `${a}:${b}` };
  };
  new Function('require', 'module', 'exports', code).call({}, req, module, module.exports);
  assert.deepEqual(loaded, ['prelude-ls'], 'fast-levenshtein waits for its first use');
  assert.deepEqual(module.exports.closest('a', ['b']), ['a:b']);
  assert.deepEqual(loaded, ['prelude-ls', 'fast-levenshtein']);
});

test("a UMD wrapper's browser branches never run in a CommonJS module; a global write outside them counts", () => {
  // fast-levenshtein's tail.
  const umd = (tail) => `(function() {\n  var L = { get: function(){} };\n${tail}\n}());\n`;
  const branches = 'if (typeof define !== "undefined" && define !== null && define.amd) { define(function() { return L; }); }\nelse if (typeof module !== "undefined" && module !== null && typeof exports !== "undefined" && module.exports === exports) { module.exports = L; }\nelse if (typeof self !== "undefined") { self.L = L; }\nelse if (typeof window !== "undefined" && window !== null) { window.L = L; }';
  assert.equal(effect(umd(branches)), undefined);
  // A browser test first, or module.exports replaced before the test: the write may run.
  assert.match(effect(umd('if (typeof window !== "undefined") { window.L = L; } else { module.exports = L; }')) ?? '', /window/);
  assert.match(effect(umd(`module.exports = {};\n${branches}`)) ?? '', /self|window/);
});

test('a wrapper that might run one of its functions while loading keeps its requires; top-level requires read inside one stay as before', () => {
  const names = (source) => commonJsFacts(source, '/m/w.js').candidates.map((c) => c.specifier);
  const wrap = (load) => `(function(){\n  var fl, f;\n  fl = require("x");\n  f = function(){ return fl.v; };\n  module.exports = { f: f };\n  ${load}\n}).call(this);\n`;
  // What a review found running f (or another reader of fl) during load, each refused.
  for (const load of ['module.exports.f();', 'var o = { get v() { return f(); } }; o.v;', 'var g = f; g();', 'new f();', 'f``;', 'exports.r = [...{ [Symbol.iterator]: f }];', 'other.hook = f;', 'var o = { toString: f }; "" + o;', 'if (!G.want) return;', 'delete fl;', 'var fl = { v: 1 };', 'eval("fl");']) {
    assert.deepEqual(names(wrap(load)), [], load);
  }
  assert.deepEqual(names(wrap('')), ['x']);
  // A top-level require read inside a function an invoked function calls at load: not deferred.
  assert.deepEqual(names('var fl = require("x");\n(function(){\n  G.mode = "b";\n  exports.f = function(){ return fl.v; };\n  exports.r = exports.f();\n})();\n'), []);
  assert.deepEqual(names('var fl = require("x");\nfunction g(){ return fl.v; }\n(function(){ function g(){} })();\nexports.r = g();\n'), []);
  // A wrapper that may return early: its requires are not taken as loaded.
  assert.deepEqual(commonJsFacts('(function(){\n  if (G.off) return;\n  require("y");\n})();\n', '/m/w.js').eagerRequires, []);
});

test("a UMD test is trusted only where nothing else touches module or exports, and neither is a name the file declares", () => {
  const tail = 'if (typeof module !== "undefined" && module !== null && typeof exports !== "undefined" && module.exports === exports) { module.exports = L; }\nelse { global.L = L; }';
  const body = (before) => `var L = {};\n${before}\n${tail}\n`;
  assert.equal(effect(body('')), undefined);
  for (const before of ['function publish(){}\nmodule.exports = {};', 'Object.defineProperty(module, "exports", { value: {} });', 'var m = module; m.exports = {};', 'exports = {};', 'var module = undefined;']) {
    assert.match(effect(body(before)) ?? '', /global/, before);
  }
  // Inside a function that takes module and exports as parameters: its own names.
  assert.match(effect(`(function(module, exports){\n var L = {};\n ${tail}\n})();\n`) ?? '', /global/);
});

test('the innermost range holding an offset, searched by halves, is the one a scan of every range finds', async () => {
  const { innermostOf } = await import(core('defer/innermost'));
  const scan = (ranges, offset) => {
    let best = -1;
    ranges.forEach(([start, end], i) => {
      if (offset >= start && offset < end && (best === -1 || end - start <= ranges[best][1] - ranges[best][0])) best = i;
    });
    return best;
  };
  // Nested ranges as a parser gives functions (some equal, some empty), in no particular order.
  let seed = 7;
  const random = (n) => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
  const ranges = [];
  const make = (start, end, depth) => {
    ranges.push([start, end]);
    if (depth > 4) return;
    for (let at = start; at < end - 2; ) {
      const from = at + random(5);
      const to = Math.min(end, from + random(40));
      if (to <= from) break;
      make(from, to, depth + 1);
      if (random(4) === 0) ranges.push([from, to]);
      at = to;
    }
  };
  make(0, 400, 0);
  ranges.sort(() => random(3) - 1);
  const find = innermostOf(ranges);
  for (let offset = -2; offset < 405; offset++) assert.equal(find(offset), scan(ranges, offset), `offset ${offset}`);
  // Ranges that cross are scanned whole.
  const crossing = [[0, 10], [5, 15], [6, 8]];
  const across = innermostOf(crossing);
  for (let offset = 0; offset < 16; offset++) assert.equal(across(offset), scan(crossing, offset), `crossing, offset ${offset}`);
  assert.equal(innermostOf([])(3), -1);
});

// Process state a module reads as it loads, and what its code changes anywhere (learn.ts keeps a
// reader in place when a module outside what loads with it changes that state).
const stateUse = (source, format = 'commonjs') => {
  const facts = moduleFacts(source, format === 'module' ? '/m/index.mjs' : '/m/index.js', format);
  return [facts.stateReads, facts.stateChanges];
};
const stateCases = [
  ['a variable read at the top level', 'const on = process.env.DBG === "1";', [['env:DBG'], []]],
  ['a variable read by key, and one by a computed key', 'const a = process.env["A"];\nconst b = process.env[name];', [['env:*', 'env:A'], []]],
  ['the whole environment, destructured or handed on', 'const { env } = process;\nconst keys = Object.keys(process.env);', [['env:*'], []]],
  ['a read in a function the top level calls by name', 'function init() { return process.env.X; }\nconst x = init();', [['env:X'], []]],
  ['a read in a function that runs later only', 'exports.get = () => process.env.X + process.cwd() + process.argv[2];', [[], []]],
  ['the working directory and the arguments read as it loads', 'const root = process.cwd();\nconst flag = process.argv[2];', [['argv', 'cwd'], []]],
  ['a variable written in a function', 'exports.verbose = () => { process.env.DEBUG = "*"; };', [[], ['env:DEBUG']]],
  ['a variable deleted, and one set by a computed key', 'function f(k) { delete process.env.A; process.env[k] = "1"; }', [[], ['env:*', 'env:A']]],
  ['the environment assigned into, loaded from a file, or replaced', 'function f(o) { Object.assign(process.env, o); process.loadEnvFile(); process.env = {}; }', [[], ['env:*']]],
  ['the working directory changed, and the arguments mutated', 'function f(d) { process.chdir(d); process.argv.push("--x"); process.argv[2] = "y"; }', [[], ['argv', 'cwd']]],
  ['the working directory changed and put back by the same function', 'function f(d) { const cwd = process.cwd(); process.chdir(d); try { run(); } finally { process.chdir(cwd); } }', [[], []]],
  ['an ES module importing node:process', 'import { env } from "node:process";\nexport const x = 1;', [['argv', 'cwd', 'env:*'], []]],
];
for (const [name, source, expected] of stateCases) test(`process state: ${name}`, () => assert.deepEqual(stateUse(source, source.startsWith('import') ? 'module' : 'commonjs'), expected));
