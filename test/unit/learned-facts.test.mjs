// Learned deferral's analysis of one CommonJS module, as a table: what counts as an effect when
// the module loads, and which top-level requires are candidates. The decisions over the load
// graph are tested end to end in test/process/pack-lazy.test.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { core } from '../helpers.mjs';
const { commonJsFacts, lowerLearned } = await import(core('defer/learned'));

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
];
const noEffects = [
  ['reading process.argv', 'if (process.argv.includes("--x")) exports.x = 1;'],
  ['writing its own exports', 'module.exports.x = 1;\nexports.y = 2;\nmodule.exports = { z: 3 };'],
  ['Error.prepareStackTrace saved and restored in a function', 'function f() { const old = Error.prepareStackTrace; Error.prepareStackTrace = (_, s) => s; const s = new Error().stack; Error.prepareStackTrace = old; return s; }'],
  ['require.cache deleted in a function', 'module.exports = (id) => { delete require.cache[id]; return require(id); };'],
  ['console in a function', 'module.exports = () => console.log("later");'],
  ['a helper of another module whose value is kept', 'const util = require("./util");\nconst RULES = util.toHash(["a"]);\nmodule.exports = RULES;'],
  ['a builtin helper called for what it does', 'const util = require("util");\nutil.inspect.defaultOptions;'],
  ['a local shadowing a global name', 'const process = { on() {} };\nprocess.on("x");\nconst Array = [];\nArray.x = 1;'],
];

for (const [name, source, reason] of effects) test(`effect: ${name}`, () => assert.match(effect(source) ?? '', reason));
for (const [name, source] of noEffects) test(`no effect: ${name}`, () => assert.equal(effect(source), undefined));

const cases = [
  ['used only in a function', 'const a = require("a");\nmodule.exports = () => a.x;', ['a']],
  ['destructured, member and interop forms', 'const { b } = require("b");\nconst c = require("c").c;\nconst d = __importStar(require("d"));\nmodule.exports = () => [b, c, d];', ['b', 'c', 'd']],
  ['read while the module evaluates', 'const a = require("a");\nconst x = a.x;\nmodule.exports = () => x;', []],
  ['re-exported at the top level', 'const a = require("a");\nmodule.exports = { a };', []],
  ['reassigned', 'let a = require("a");\nmodule.exports = () => { a = null; };', []],
  ['inside try or a condition, or only for effects', 'try { const a = require("a"); } catch {}\nif (x) { const b = require("b"); }\nrequire("c");', []],
  ['a static class block runs at load, a method does not', 'const a = require("a");\nconst b = require("b");\nclass K { static { b.x; } m() { return a; } }', ['a']],
  ['eval makes names unresolvable', 'const a = require("a");\nmodule.exports = () => eval("a");', []],
];
for (const [name, source, expected] of cases) test(`candidates: ${name}`, () => assert.deepEqual(candidates(source), expected));

test("lowerLearned: after 'use strict' with no semicolon, the helper is separated by one", () => {
  const source = "'use strict'\nconst a = require('a')\nmodule.exports = () => a\n";
  const facts = commonJsFacts(source, '/m/index.js');
  const code = lowerLearned(source, facts, new Set(facts.candidates));
  assert.match(code, /^'use strict';function __coldstart_lazy/);
  assert.doesNotThrow(() => new Function('require', 'module', code));
});

test('lowerLearned: a getter per accepted declaration, the helper on the first line, lines kept', () => {
  const source = '"use strict";\nconst a = require("a");\nconst { b } = require("b");\nmodule.exports = () => [a.x, b()];\n';
  const facts = commonJsFacts(source, '/m/index.js');
  const code = lowerLearned(source, facts, new Set(facts.candidates));
  assert.equal(code.split('\n').length, source.split('\n').length);
  assert.match(code, /^"use strict";function __coldstart_lazy\(load, specifier, line, column\)/);
  // The specifier and where it was required travel with it, for the lazy-load records.
  assert.match(code, /const __coldstart_defer0 = __coldstart_lazy\(\(\) => \(require\("a"\)\), "a", 2, 7\);/);
  assert.match(code, /\[__coldstart_defer0\.m\.x, \(0, __coldstart_defer1\.m\.b\)\(\)\]/);
  assert.equal(lowerLearned(source, facts, new Set()), undefined);
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
