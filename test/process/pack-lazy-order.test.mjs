// Learned deferral of ES modules keeps what a program sees: which module of a cycle evaluates
// first, load-time effects however they are written, the namespace and values an import gives,
// and loads another run may not make. Each program is recorded with `pack --lazy`, then served
// (with other arguments where the case says) and compared with plain Node: stdout, stderr, code.
// Every program also imports a module whose import may wait, so each test sees deferral at work.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { dist, runCli, runNode, tempDir, writeTree } from '../helpers.mjs';

const { readPackFile } = await import(pathToFileURL(join(dist, 'pack/store.js')).href);
const register = pathToFileURL(join(dist, 'register.js')).href;
const base = { COLDSTART_INDEX: 'off', COLDSTART_PACK: '', COLDSTART_PACK_VERIFY: '', COLDSTART_ROOT: '', COLDSTART_EAGER: '', COLDSTART_STEP_ASIDE: '0' };
const registerHooks = typeof (await import('node:module')).registerHooks === 'function';
const skip = registerHooks ? false : 'the pack serves ES modules on Node 22.15+ only';

/** A case: its files (entry.mjs imports the probe first), the recorded arguments and the served ones. */
const cases = {
  'a cycle entered elsewhere once a load into it waits (class extends)': {
    files: {
      'entry.mjs': 'import { makeDog } from "./factory.mjs";\nimport { Animal } from "./animal.mjs";\nconsole.log(makeDog().speak(), Animal.create().speak());\n',
      'factory.mjs': 'import { Dog } from "./dog.mjs";\nexport function makeDog() { return new Dog(); }\n',
      'dog.mjs': 'import { Animal } from "./animal.mjs";\nexport class Dog extends Animal { speak() { return "woof"; } }\n',
      'animal.mjs': 'import { Dog } from "./dog.mjs";\nexport class Animal { static create() { return new Dog(); } speak() { return "..."; } }\n',
    },
  },
  'a module a pending import() loads too': {
    files: {
      'entry.mjs': 'import { use } from "./app.mjs";\nconst pending = import("./t.mjs");\nconsole.log("use:", use());\nconsole.log("dyn:", (await pending).t);\n',
      'app.mjs': 'import { t } from "./t.mjs";\nexport function use() { return t; }\n',
      't.mjs': 'import { s } from "./shared.mjs";\nexport const t = "T+" + s;\n',
      'shared.mjs': 'export const s = "S";\n',
    },
  },
  "namespaces require() does not give: export * of CommonJS, a name module.exports, a name then": {
    files: {
      'entry.mjs': 'import { show } from "./app.mjs";\nawait show();\n',
      'app.mjs': 'import { own, helper } from "./barrel.mjs";\nimport { b } from "./named.mjs";\nimport * as ns from "./named.mjs";\nimport { then } from "./thenable.mjs";\nexport async function show() { console.log(own, typeof helper, b, Object.keys(ns)); then((v) => console.log("then gave", v)); }\n',
      'barrel.mjs': 'export * from "./helpers.cjs";\nexport const own = "OWN";\n',
      'helpers.cjs': 'exports.helper = function helper() {};\n',
      'named.mjs': 'const api = { a: 1 };\nexport { api as "module.exports" };\nexport const b = 2;\n',
      'thenable.mjs': 'export function then(cb) { cb("ok"); }\n',
    },
  },
  'effects in functions run while a module loads, and output however it is written': {
    files: {
      'entry.mjs': 'import { run } from "./app.mjs";\nconsole.log("entry body");\nrun();\n',
      'app.mjs': ['announce', 'iife', 'global', 'alias', 'writesync', 'console', 'exit'].map((n, i) => `import { v${i} } from "./d-${n}.mjs";`).join('\n') + '\nexport function run() { console.log("run", v0, v1, v2, v3, v4, v5, v6); }\n',
      'd-announce.mjs': 'function announce() { console.log("announced"); }\nannounce();\nexport const v0 = 0;\n',
      'd-iife.mjs': '(() => { console.log("iife"); })();\nexport const v1 = 1;\n',
      'd-global.mjs': 'globalThis.console.log("globalThis.console");\nexport const v2 = 2;\n',
      'd-alias.mjs': 'const log = console.log;\nlog("aliased console");\nexport const v3 = 3;\n',
      'd-writesync.mjs': 'import { writeSync } from "node:fs";\nwriteSync(1, "writeSync\\n");\nexport const v4 = 4;\n',
      'd-console.mjs': 'import { log } from "node:console";\nlog("node:console");\nexport const v5 = 5;\n',
      'd-exit.mjs': 'function setup() { process.on("exit", (code) => console.log("exit handler", code)); }\nsetup();\nexport const v6 = 6;\n',
    },
  },
  'a command that registers itself into a registry it imports by name': {
    record: ['help'],
    serve: ['build'],
    files: {
      'entry.mjs': 'import { handlers } from "./registry.mjs";\nimport { help } from "./cli.mjs";\nconst cmd = process.argv[2] ?? "help";\nconsole.log("registered:", Object.keys(handlers).join(",") || "(none)");\nif (cmd === "help") help(); else if (handlers[cmd]) handlers[cmd](); else console.log("unknown", cmd);\n',
      'registry.mjs': 'export const handlers = {};\n',
      'build-cmd.mjs': 'import { handlers } from "./registry.mjs";\nexport function build() { console.log("building"); }\nhandlers.build = build;\n',
      'cli.mjs': 'import { build } from "./build-cmd.mjs";\nexport function help() { console.log("usage", typeof build); }\n',
    },
  },
  'modules loaded through createRequire, under any name': {
    files: {
      'entry.mjs': 'import { use } from "./app.mjs";\nconsole.log("entry body");\nuse();\n',
      'app.mjs': 'import { t } from "./t.mjs";\nimport { u } from "./u.mjs";\nexport function use() { console.log("use", t, u); }\n',
      't.mjs': 'import { createRequire } from "node:module";\nconst load = createRequire(import.meta.url);\nexport const t = load("./side.cjs").v;\n',
      'u.mjs': 'import { createRequire } from "node:module";\nconst require = createRequire(import.meta.url);\nexport const u = require("./side2.cjs").v;\n',
      'side.cjs': 'console.log("side loaded");\nexports.v = "V";\n',
      'side2.cjs': 'console.log("side2 loaded");\nexports.v = "V2";\n',
    },
  },
  "a CommonJS module's exports another module writes into after they were imported by name": {
    files: {
      'entry.mjs': 'import counter from "./counter.cjs";\nimport { show } from "./reader.mjs";\ncounter.count = 42;\nshow();\n',
      'counter.cjs': 'exports.count = 1;\n',
      'reader.mjs': 'import { count } from "./counter.cjs";\nexport function show() { console.log("count seen by reader:", count); }\n',
    },
  },
  'a namespace handed on whole': {
    files: {
      'entry.mjs': 'import { check } from "./app.mjs";\nawait check();\n',
      'app.mjs': 'import * as ns from "./lib.mjs";\nimport * as cj from "./lib.cjs";\nexport async function check() { console.log(ns === await import("./lib.mjs"), Object.prototype.toString.call(ns), cj === await import("./lib.cjs"), cj); }\n',
      'lib.mjs': 'export let x = 1;\n',
      'lib.cjs': 'exports.y = 2;\n',
    },
  },
  'an effect loaded before only on the branch the recorded arguments took': {
    record: ['warm', 'go'],
    serve: ['cold', 'nogo'],
    files: {
      'entry.mjs': 'if (process.argv[2] === "warm") await import("./warm.mjs");\nconst { main } = await import("./main.mjs");\nconsole.log("main loaded");\nmain(process.argv[3] === "go");\n',
      'warm.mjs': 'import "./effectful.mjs";\n',
      'main.mjs': 'import { f } from "./effectful.mjs";\nexport function main(go) { if (go) f(); }\n',
      'effectful.mjs': 'console.log("effectful loaded");\nexport function f() { console.log("f called"); }\n',
    },
  },
  'an effect another import makes anyway, with another effect between': {
    files: {
      'entry.mjs': 'import { use } from "./app.mjs";\nuse();\n',
      'app.mjs': 'import { e } from "./E.mjs";\nimport "./P.mjs";\nimport { d } from "./D.mjs";\nexport function use() { console.log("use", e, d); }\nconsole.log("app body", d);\n',
      'E.mjs': 'import "./E2.mjs";\nexport const e = "e";\n',
      'E2.mjs': 'console.log("E2 loaded");\nexport const e2 = 1;\n',
      'P.mjs': 'console.log("P loaded");\n',
      'D.mjs': 'import { e2 } from "./E2.mjs";\nexport const d = "d" + e2;\n',
    },
  },
  'a namespace read at the top level': {
    files: {
      'entry.mjs': 'import * as ns from "./lib.mjs";\nconsole.log("entry body");\nconsole.log(ns.x);\n',
      'lib.mjs': 'if (!globalThis.ok) throw new Error("lib failed at load");\nexport const x = 1;\n',
    },
  },
  'a module an import() loads through an import kept as written': {
    files: {
      'package.json': '{"name":"lazy-order","private":true,"type":"module","coldstart":{"eager":["dyn.mjs"]}}',
      'entry.mjs': 'import { use } from "./user.mjs";\nconst p = import("./dyn.mjs");\nconsole.log("use:", use());\np.then((ns) => console.log("dyn", ns.get()));\n',
      'dyn.mjs': 'import { v } from "./lib.mjs";\nexport function get() { return v; }\n',
      'user.mjs': 'import { v } from "./lib.mjs";\nexport function use() { return v; }\n',
      'lib.mjs': 'export const v = "V";\n',
    },
  },
  'an effect loaded first only by the program recorded beside this one': {
    record: ['warm'],
    serve: [],
    also: ['a.mjs'],
    files: {
      'entry.mjs': 'if (process.argv[2] === "warm") await import("./" + "warm.mjs");\nconst { run } = await import("./user.mjs");\nconsole.log("b", run());\n',
      'a.mjs': 'import "./warm.mjs";\nimport { run } from "./user.mjs";\nconsole.log("a", run());\n',
      'user.mjs': 'import { w } from "./warm.mjs";\nexport const run = () => (process.argv[3] === "use" ? w : "unused");\n',
      'warm.mjs': 'console.log("warm loaded");\nexport const w = "W";\n',
    },
  },
  'CommonJS: an effect loaded before only under the recorded branch of an if': {
    cjs: true,
    record: ['warm'],
    serve: [],
    files: {
      'entry.cjs': 'if (process.argv[2] === "warm") require("./warm.cjs");\nconst user = require("./user.cjs");\nconsole.log("entry", user.run());\n',
      'user.cjs': 'const w = require("./warm.cjs");\nexports.run = () => (process.argv[2] === "use" ? w : "not used");\n',
      'warm.cjs': 'console.log("warm loaded");\nmodule.exports = "W";\n',
    },
  },
  // A module that reads process state as it loads, deferred by a module that does not change it,
  // past a change the program makes before its first use.
  'CommonJS: process.env changed before the first use of a module that read it as it loaded': {
    cjs: true,
    record: ['--verbose'],
    files: {
      'entry.cjs': 'const lib = require("./lib.cjs");\nif (process.argv.includes("--verbose")) process.env.DBG = "1";\nconsole.log(lib.run());\n',
      'lib.cjs': 'const dbg = require("./dbg.cjs");\nexports.run = () => { dbg("running"); return "ran"; };\n',
      'dbg.cjs': 'module.exports = process.env.DBG ? (m) => console.error("dbg " + m) : () => {};\n',
    },
  },
  'CommonJS: process.env changed by a function no recorded run called': {
    cjs: true,
    record: [],
    serve: ['--verbose'],
    files: {
      'entry.cjs': 'const lib = require("./lib.cjs");\nfunction verbose() { process.env["DBG"] = "1"; }\nif (process.argv.includes("--verbose")) verbose();\nconsole.log(lib.run());\n',
      'lib.cjs': 'const dbg = require("./dbg.cjs");\nexports.run = () => { dbg("running"); return "ran"; };\n',
      'dbg.cjs': 'const { env } = process;\nmodule.exports = env.DBG ? (m) => console.error("dbg " + m) : () => {};\n',
    },
  },
  'CommonJS: the working directory and process.argv changed before the first use of modules that read them as they loaded': {
    cjs: true,
    record: ['--in-sub'],
    files: {
      'sub/.keep': '',
      'entry.cjs': 'const paths = require("./paths.cjs");\nif (process.argv.includes("--in-sub")) { process.chdir(require("node:path").join(__dirname, "sub")); process.argv.push("--pushed"); }\nconsole.log(paths.root(), paths.args());\n',
      'paths.cjs': 'const where = require("./where.cjs");\nconst args = require("./args.cjs");\nexports.root = () => require("node:path").basename(where.cwd);\nexports.args = () => args.count;\n',
      'where.cjs': 'exports.cwd = process.cwd();\n',
      'args.cjs': 'exports.count = process.argv.length;\n',
    },
  },
  'CommonJS: a require in a function the module calls while it loads': {
    cjs: true,
    files: {
      'entry.cjs': 'const d = require("./dep.cjs");\nconsole.log("entry");\nmodule.exports = () => d;\n',
      'dep.cjs': 'function init() { require("./eff.cjs"); }\ninit();\nmodule.exports = 1;\n',
      'eff.cjs': 'console.log("eff loaded");\n',
    },
  },
  'CommonJS: functions of the importer that run at load through a class, an object, its own exports, a tag': {
    cjs: true,
    files: {
      'entry.cjs': [1, 2, 3, 4, 5].map((n) => `const c${n} = require("./c${n}.cjs");`).join('\n') + '\nglobalThis.mode = "late";\nconst cli = { run() { return c1.mode; } };\nclass App { constructor() { this.m = c2.mode; } }\nmodule.exports.main = () => c3.mode;\nclass Tool { static check() { return c4.mode; } }\nfunction tag() { return c5.mode; }\nconsole.log(cli.run(), new App().m, module.exports.main(), Tool.check(), tag``);\n',
      ...Object.fromEntries([1, 2, 3, 4, 5].map((n) => [`c${n}.cjs`, 'exports.mode = globalThis.mode ?? "early";\n'])),
    },
  },
  'CommonJS: effects in functions a module runs as it loads: an arrow called by name, a class constructed, a function expression': {
    cjs: true,
    files: {
      'entry.cjs': 'const t1 = require("./t1.cjs");\nconst t2 = require("./t2.cjs");\nconst t3 = require("./t3.cjs");\nconsole.log("entry body");\nmodule.exports = () => [t1, t2, t3].map((t) => t.v);\n',
      't1.cjs': 'const init = () => { console.log("t1 init"); };\ninit();\nexports.v = 1;\n',
      't2.cjs': 'class Banner { constructor() { console.log("t2 banner"); } }\nnew Banner();\nexports.v = 2;\n',
      't3.cjs': 'const setup = function () { process.on("exit", () => console.log("t3 exit hook")); };\nsetup();\nexports.v = 3;\n',
    },
  },
  'CommonJS: a module that replaces its module.exports later': {
    cjs: true,
    serve: ['reset'],
    files: {
      'entry.cjs': 'const store = require("./store.cjs");\nconst view = require("./view.cjs");\nif (process.argv[2] === "reset") store.reset();\nview.show();\n',
      'store.cjs': 'function make(tag) { return { tag, reset() { module.exports = make("fresh"); } }; }\nmodule.exports = make("initial");\n',
      'view.cjs': 'const store = require("./store.cjs");\nexports.show = () => console.log("view holds store:", store.tag);\n',
    },
  },
  'CommonJS: an importer that reassigns require': {
    cjs: true,
    files: {
      'entry.cjs': 'require("./app.cjs").run();\n',
      'app.cjs': 'const dep = require("./dep.cjs");\nconst original = require;\nrequire = function traced(id) { console.log("traced require of", id); return original(id); };\nexports.run = () => console.log("dep is", dep.v);\n',
      'dep.cjs': 'exports.v = "D";\n',
    },
  },
  'CommonJS: loads after a top-level return are no loads of every run': {
    cjs: true,
    serve: ['quick'],
    files: {
      'entry.cjs': 'if (process.argv[2] === "quick") { require("./b.cjs").run(); return; }\nrequire("./a.cjs");\nrequire("./b.cjs").run();\n',
      'a.cjs': 'console.log("a loaded");\nmodule.exports = "A";\n',
      'b.cjs': 'const a = require("./a.cjs");\nexports.run = () => console.log("run:", process.argv[3] === "use" ? a : "a unused");\n',
    },
  },
  'CommonJS: a target that loads a builtin which warns or changes process state when loaded': {
    cjs: true,
    files: {
      'entry.cjs': 'const idn = require("./idn.cjs");\nconst dom = require("./dom.cjs");\nconsole.log("start");\nexports.use = () => [idn.toASCII("a"), dom.create()];\nprocess.on("exit", () => console.log("usingDomains", require("events").usingDomains));\n',
      'idn.cjs': 'const punycode = require("punycode");\nexports.toASCII = (s) => punycode.toASCII(s);\n',
      'dom.cjs': 'const domain = require("domain");\nexports.create = () => domain.create();\n',
    },
  },
  'CommonJS: targets that read which module loaded them, or what it had exported by then': {
    cjs: true,
    files: {
      'entry.cjs': 'exports.name = "host";\nconst a = require("./a.cjs");\nconst b = require("./b.cjs");\nconst plugin = require("./plugin.cjs");\nexports.version = 2;\nconsole.log("b saw", b.early);\na.show();\nprocess.once("beforeExit", () => console.log("plugin saw host keys:", plugin.seen));\n',
      'a.cjs': 'const caller = require("./caller.cjs");\nexports.show = () => console.log("caller saw its parent as", caller.parent);\n',
      'b.cjs': 'const caller = require("./caller.cjs");\nexports.early = caller.parent;\n',
      'caller.cjs': 'exports.parent = require("path").basename(module.parent.filename);\n',
      'plugin.cjs': 'exports.seen = Object.keys(require.main.exports).join(",");\n',
    },
  },
  'CommonJS: an importer that changes process.env, argv and the working directory as it loads': {
    cjs: true,
    serve: ['--no-color', '--in-tmp', '--verbose'],
    files: {
      'entry.cjs': 'require("./app.cjs").report();\n',
      'app.cjs': 'const color = require("./color.cjs");\nconst cwdinfo = require("./cwdinfo.cjs");\nconst argvinfo = require("./argvinfo.cjs");\nif (process.argv.includes("--no-color")) process.env.NO_COLOR = "1";\nif (process.argv.includes("--in-tmp")) process.chdir(require("os").tmpdir());\nprocess.argv = process.argv.filter((a) => !a.startsWith("--"));\nexports.report = () => console.log("color", color.enabled, "cwd", cwdinfo.dir === require("path").basename(__dirname), "verbose", argvinfo.verbose);\n',
      'color.cjs': 'exports.enabled = !process.env.NO_COLOR;\n',
      'cwdinfo.cjs': 'exports.dir = require("path").basename(process.cwd());\n',
      'argvinfo.cjs': 'exports.verbose = process.argv.includes("--verbose");\n',
    },
  },
  'an ES module that changes process.env as it loads, after its imports evaluated': {
    serve: ['--no-color'],
    files: {
      'entry.mjs': 'import { report } from "./app.mjs";\nreport();\n',
      'app.mjs': 'import { enabled } from "./color.mjs";\nif (process.argv.includes("--no-color")) process.env.NO_COLOR = "1";\nexport function report() { console.log("color", enabled); }\n',
      'color.mjs': 'export const enabled = !process.env.NO_COLOR;\n',
    },
  },
  'CommonJS: writes and calls through a local name for a shared object': {
    cjs: true,
    files: {
      'entry.cjs': 'globalThis[Symbol.for("app.plugins")] = new Set();\nconst a1 = require("./a1.cjs");\nconst a2 = require("./a2.cjs");\nconst a3 = require("./a3.cjs");\nconsole.log(globalThis.featureFlag, typeof [].last, [...globalThis[Symbol.for("app.plugins")]].join(","));\nmodule.exports = () => [a1, a2, a3];\n',
      'a1.cjs': 'const g = globalThis;\nObject.defineProperty(g, "featureFlag", { value: "on", configurable: true });\nexports.v = 1;\n',
      'a2.cjs': 'const AP = Array.prototype;\nAP.last = function () { return this[this.length - 1]; };\nexports.v = 2;\n',
      'a3.cjs': 'const plugins = global[Symbol.for("app.plugins")];\nplugins.add("two");\nexports.v = 3;\n',
    },
  },
  'CommonJS: asynchronous work a module starts as it loads': {
    cjs: true,
    files: {
      'entry.cjs': 'const app = require("./app.cjs");\nsetTimeout(() => app.show(), 300);\n',
      'app.cjs': 'const t1 = require("./t1.cjs");\nconst t2 = require("./t2.cjs");\nconst t3 = require("./t3.cjs");\nconst t4 = require("./t4.cjs");\nexports.show = () => console.log(t1.status, t2.ready, t3.lines, t4.ticked);\n',
      't1.cjs': 'async function init() { await null; exports.status = "loaded"; }\nexports.status = null;\ninit();\n',
      't2.cjs': 'exports.ready = false;\nPromise.resolve().then(() => { exports.ready = true; });\n',
      't3.cjs': 'const fs = require("fs");\nexports.lines = "not yet";\nfs.readFile(__filename, "utf8", (error, text) => { exports.lines = text.split("\\n").length; });\n',
      't4.cjs': 'exports.ticked = false;\nprocess.nextTick(() => { exports.ticked = true; });\n',
    },
  },
  'CommonJS: a runtime-deprecated builtin function a module calls as it loads': {
    cjs: true,
    files: {
      'entry.cjs': 'const app = require("./app.cjs");\nconsole.log("entry body");\nmodule.exports = app;\n',
      'app.cjs': 'const u = require("./u.cjs");\nconst e = require("./e.cjs");\nexports.show = () => console.log(u.host, e.merged);\n',
      'u.cjs': 'const url = require("url");\nexports.host = url.parse("http://example.com/x").host;\n',
      'e.cjs': 'const util = require("util");\nexports.merged = util._extend({ a: 1 }, { b: 2 });\n',
    },
  },
  'CommonJS: getters among the exports, and re-export getters over exports that change': {
    cjs: true,
    serve: ['--debug', 'bump'],
    files: {
      'entry.cjs': 'const app = require("./app.cjs");\nconst state = require("./state.cjs");\nconst view = require("./view.cjs");\nif (process.argv.includes("--debug")) globalThis.level = "debug";\nif (process.argv.includes("bump")) state.bump();\nview.show();\nsetTimeout(() => app.show(), 10);\n',
      'app.cjs': 'const { plugins, version } = require("./lib.cjs");\nconst { level } = require("./envlevel.cjs");\nexports.show = () => console.log("version", version, "plugins", plugins.length, "level", level);\n',
      'lib.cjs': 'module.exports = {\n  version: "1.0",\n  get plugins() { return require("./plugins.cjs"); },\n};\n',
      'plugins.cjs': 'console.log("plugins loaded");\nmodule.exports = ["a", "b"];\n',
      'envlevel.cjs': 'Object.defineProperty(exports, "level", { enumerable: true, get() { return globalThis.level || "info"; } });\n',
      'state.cjs': 'exports.count = 0;\nexports.bump = function () { exports.count++; };\n',
      'index.cjs': '"use strict";\nvar state_1 = require("./state.cjs");\nObject.defineProperty(exports, "count", { enumerable: true, get: function () { return state_1.count; } });\n',
      'view.cjs': 'const { count } = require("./index.cjs");\nexports.show = () => console.log("count seen by view:", count);\n',
    },
  },
  'CommonJS: exports changed through this, or through an object the exports hold': {
    cjs: true,
    serve: ['production'],
    files: {
      'entry.cjs': 'const config = require("./config.cjs");\nconst flags = require("./flags.cjs");\nconst state = require("./state.cjs");\nconst view = require("./view.cjs");\nif (process.argv[2]) { config.load(process.argv[2]); flags.set(process.argv[2]); state.bump(); }\nview.show();\n',
      'config.cjs': 'class Config {\n  constructor() { this.mode = "default"; }\n  load(mode) { this.mode = mode; }\n}\nmodule.exports = new Config();\n',
      'flags.cjs': 'exports.flag = "none";\nexports.set = function (f) { this.flag = f; };\n',
      'state.cjs': 'const counter = { n: 0 };\nexports.counter = counter;\nexports.bump = () => { counter.n++; };\n',
      'view.cjs': 'const { mode } = require("./config.cjs");\nconst { flag } = require("./flags.cjs");\nconst n = require("./state.cjs").counter.n;\nexports.show = () => console.log("seen at load:", mode, flag, n);\n',
    },
  },
  'CommonJS: a file the program rewrites before a deferred require of it first runs': {
    cjs: true,
    serve: ['set'],
    files: {
      'entry.cjs': 'const fs = require("fs");\nconst file = `${__dirname}/meta.json`;\nconst before = fs.statSync(file);\nconst saved = fs.readFileSync(file);\nprocess.on("exit", () => { fs.writeFileSync(file, saved); fs.utimesSync(file, before.atime, before.mtime); });\nconst app = require("./app.cjs");\nif (process.argv[2] === "set") fs.writeFileSync(file, JSON.stringify({ version: 7 }));\napp.show();\n',
      'app.cjs': 'const meta = require("./meta.json");\nexports.show = () => console.log("version in memory", meta.version);\n',
      'meta.json': '{"version":1}\n',
    },
  },
  'CommonJS: a module of the project loaded again after the program changed it': {
    cjs: true,
    serve: ['change'],
    files: {
      'entry.cjs': 'const fs = require("fs");\nconst file = `${__dirname}/cfg.cjs`;\nconst before = fs.statSync(file);\nconst saved = fs.readFileSync(file);\nprocess.on("exit", () => { fs.writeFileSync(file, saved); fs.utimesSync(file, before.atime, before.mtime); });\nconsole.log("first", require("./cfg.cjs").v);\nif (process.argv[2] === "change") fs.writeFileSync(file, \'exports.v = "changed";\\n\');\ndelete require.cache[require.resolve("./cfg.cjs")];\nconsole.log("again", require("./cfg.cjs").v);\n',
      'cfg.cjs': 'exports.v = "original";\n',
    },
  },
  'CommonJS: a module that freezes a shared object as it loads': {
    cjs: true,
    files: {
      'entry.cjs': 'const app = require("./app.cjs");\nconsole.log("frozen:", Object.isFrozen(Array.prototype));\nmodule.exports = app;\n',
      'app.cjs': 'const harden = require("./harden.cjs");\nexports.use = () => harden.v;\n',
      'harden.cjs': 'Object.freeze(Array.prototype);\nexports.v = 1;\n',
    },
  },
  'CommonJS: a builtin function a module calls for what it does as it loads': {
    cjs: true,
    files: {
      'entry.cjs': 'const app = require("./app.cjs");\nconsole.log("at start-up:", require("events").defaultMaxListeners, require("stream").getDefaultHighWaterMark(false));\nmodule.exports = app;\n',
      'app.cjs': 'const tuned = require("./tuned.cjs");\nexports.send = () => tuned.send();\n',
      'tuned.cjs': 'const events = require("events");\nconst { setDefaultHighWaterMark } = require("stream");\nevents.setMaxListeners(42);\nsetDefaultHighWaterMark(false, 1024);\nexports.send = () => "sent";\n',
    },
  },
  'a module that registers resolve hooks as it loads': {
    files: {
      'entry.mjs': 'import { use } from "./app.mjs";\nconst m = await import("virtual:hello").catch((error) => ({ default: error.code }));\nconsole.log("import at start:", m.default, typeof use);\n',
      'app.mjs': 'import { v } from "./hooks.mjs";\nexport function use() { return v; }\n',
      'hooks.mjs': 'import module from "node:module";\nif (typeof module.registerHooks === "function") module.registerHooks({ resolve(specifier, context, next) { return specifier === "virtual:hello" ? { url: "data:text/javascript,export default \'hello from the hook\'", shortCircuit: true } : next(specifier, context); } });\nexport const v = 1;\n',
    },
  },
  'CommonJS: a module that registers into an object the process keeps on globalThis': {
    cjs: true,
    files: {
      'entry.cjs': 'require("./registry.cjs");\nconst plugin = require("./plugin.cjs");\nconsole.log("registered:", [...globalThis[Symbol.for("app.plugins")]].join(",") || "(none)");\nexports.use = () => plugin;\n',
      'registry.cjs': 'globalThis[Symbol.for("app.plugins")] = new Set();\n',
      'plugin.cjs': 'globalThis[Symbol.for("app.plugins")].add("plugin-one");\nexports.name = "one";\n',
    },
  },
};

for (const [name, { files, record = [], serve = record, cjs = false, also }] of Object.entries(cases)) {
  test(`pack --lazy keeps what plain Node does: ${name}`, { skip: cjs ? false : skip }, (t) => {
    const dir = realpathSync(tempDir(t, 'coldstart-lazy-order-'));
    const entry = cjs ? 'entry.cjs' : 'entry.mjs';
    writeTree(dir, {
      'package.json': '{"name":"lazy-order","private":true,"type":"module"}',
      'node_modules/.keep': '',
      ...files,
      [entry]: `${cjs ? 'const { probe } = require("./probe.cjs");' : 'import { probe } from "./probe.mjs";'}\nprobe();\n${files[entry]}`,
      'probe.mjs': 'import { quiet } from "./quiet.mjs";\nexport function probe() { return quiet; }\n',
      'quiet.mjs': 'export const quiet = 1;\n',
      'probe.cjs': 'const { quiet } = require("./quiet.cjs");\nexports.probe = () => quiet;\n',
      'quiet.cjs': 'exports.quiet = 1;\n',
    });
    const runs = also === undefined ? [] : ['--run', [process.execPath, ...also].join(' ')];
    const built = runCli(['pack', '--lazy', '--always', ...runs, '--', process.execPath, entry, ...record], { cwd: dir, env: base });
    assert.equal(built.code, 0, built.stderr);
    const read = readPackFile(join(dir, 'node_modules/.cache/coldstart/pack.v1'));
    read.pack.body.close();
    const deferred = new Map((read.pack.header.lazy ?? []).map((row) => [row[0], row[4]]));
    assert.deepEqual(cjs ? deferred.get('probe.cjs') : deferred.get('probe.mjs'), [cjs ? './quiet.cjs' : './quiet.mjs'], 'learned deferral is at work in this program');
    const plain = runNode([entry, ...serve], { cwd: dir, env: base });
    const served = runNode(['--import', register, entry, ...serve], { cwd: dir, env: base });
    // A warning names the process it came from.
    const pidless = (text) => text.replace(/\(node:\d+\)/g, '(node:PID)');
    assert.deepEqual([served.code, served.stdout, pidless(served.stderr)], [plain.code, plain.stdout, pidless(plain.stderr)], [...deferred].join('\n'));
  });
}
