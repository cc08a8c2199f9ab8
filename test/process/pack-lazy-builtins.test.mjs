// Learned deferral of builtin modules: an ES module's default import of a builtin (its exports
// object, the same value `require` gives) loads at first use with no ES module facade; named and
// namespace imports keep Node's facade and stay; a builtin that warns when loaded stays eager in
// both module systems, so the warning keeps its place in stderr.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { dist, runCli, runNode, tempDir, writeTree } from '../helpers.mjs';

const { readPackFile } = await import(pathToFileURL(join(dist, 'pack/store.js')).href);
const register = pathToFileURL(join(dist, 'register.js')).href;
const registerCjs = join(dist, 'register.cjs');
const base = { COLDSTART_INDEX: 'off', COLDSTART_PACK: '', COLDSTART_PACK_VERIFY: '', COLDSTART_ROOT: '', COLDSTART_EAGER: '' };
const registerHooks = typeof (await import('node:module')).registerHooks === 'function';

const pkg = (name, file, text, type = 'module') => ({
  [`node_modules/${name}/package.json`]: JSON.stringify({ name, version: '1.0.0', type, main: file }),
  [`node_modules/${name}/${file}`]: text,
});

const tree = {
  'package.json': '{"name":"builtin-lazy-app","private":true,"type":"module"}',
  // Default imports read only in functions: each waits for its first use.
  ...pkg(
    'esm-hash',
    'index.js',
    [
      'import crypto from "node:crypto";',
      'import readline from "readline";',
      'import fs from "fs";',
      'export const hash = (s) => crypto.createHash("sha1").update(s).digest("hex");',
      'export const sameFs = (other) => fs === other;',
      'export const hasPrompt = () => typeof readline.createInterface;',
      // `new` on a deferred binding must still construct it.
      'import events from "node:events";',
      'import url from "node:url";',
      'export const made = () => [typeof new events.EventEmitter().on, new url.URL("http://a/b").pathname, new events().listenerCount("x")].join(" ");',
      '',
    ].join('\n'),
  ),
  // A default import named `process`, deferred itself: the other cells must not read it.
  ...pkg('esm-own-process', 'index.js', ['import process from "node:process";', 'import os from "os";', 'export const info = () => [process.platform === os.platform(), typeof process.getBuiltinModule].join(",");', ''].join('\n')),
  // Named and namespace imports are values of Node's facade: they stay as written.
  ...pkg('esm-named', 'index.js', ['import { deflateSync } from "node:zlib";', 'export const named = (s) => deflateSync(s).length;', ''].join('\n')),
  ...pkg('esm-star', 'index.js', ['import * as v8 from "node:v8";', 'export const star = () => typeof v8.serialize;', ''].join('\n')),
  // Read while the module evaluates: nothing to wait for.
  ...pkg('esm-at-load', 'index.js', ['import util from "node:util";', 'export const kind = util.types.isDate(new Date(0));', ''].join('\n')),
  // Re-exported: the binding leaves the module as written.
  ...pkg('esm-reexport-builtin', 'index.js', ['import dns from "node:dns";', 'export { dns };', ''].join('\n')),
  // Builtins that print a warning when loaded stay where they load, as import and as require.
  ...pkg('esm-wasi', 'index.js', ['import wasi from "node:wasi";', 'export const w = () => typeof wasi.WASI;', ''].join('\n')),
  ...pkg('cjs-wasi', 'index.js', ['const wasi = require("wasi");', 'module.exports = () => typeof wasi.WASI;', ''].join('\n'), 'commonjs'),
  // domain changes process state when it loads (EventEmitter.usingDomains): it stays.
  ...pkg('esm-domain', 'index.js', ['import domain from "node:domain";', 'export const make = () => typeof domain.create();', ''].join('\n')),
  // A cycle calls this module's function before its body runs: the builtin must be there already.
  ...pkg('esm-cycle', 'index.js', ['import dgram from "node:dgram";', 'import { got } from "./b.js";', 'export function id() { return typeof dgram.createSocket; }', 'export const seen = got;', ''].join('\n'), 'module'),
  'node_modules/esm-cycle/b.js': ['import { id } from "./index.js";', 'export const got = id();', ''].join('\n'),
  // A module with its own `globalThis`: the generated code would read it, so it is not rewritten.
  ...pkg('esm-own-global', 'index.js', ['import os from "os";', 'const globalThis = { process: { getBuiltinModule() { return { cpus: 1 }; } } };', 'export const cpus = () => typeof os.cpus;', ''].join('\n')),
  // Imported after the program may register a resolve hook that redirects their imports.
  ...pkg('esm-mockable', 'index.js', ['import os from "node:os";', 'export const host = () => os.hostname();', ''].join('\n')),
  ...pkg('esm-real-dep', 'index.js', ['export const who = () => "real dep";', ''].join('\n')),
  ...pkg('esm-dep-user', 'index.js', ['import { who } from "esm-real-dep";', 'export const whoIs = () => who();', ''].join('\n')),
  // A namespace of a CommonJS module is named by Node from the text (here: no names found), not
  // from the exports object: the stand-in names it the same way at its first use. A getter Node
  // never calls stays uncalled. (Read through its properties only: one handed on whole stays.)
  ...pkg('esm-cjs-ns', 'index.js', ['import * as ns from "cjs-object";', 'export const nsKeys = () => [String(ns.v), typeof ns.default, String(ns.boom), ns["module.exports"] === ns.default].join(" ");', ''].join('\n')),
  ...pkg('esm-cjs-ns-whole', 'index.js', ['import * as ns from "cjs-object";', 'export const nsWhole = () => Object.keys(ns).join("|");', ''].join('\n')),
  ...pkg('cjs-object', 'index.js', 'module.exports = { v: "V", w: 2, get boom() { throw new Error("never read"); } };\n', 'commonjs'),
  // Named and default imports of CommonJS: the names Node finds in the text (a non-enumerable
  // one included), no call of a getter it never reads, and values as they were once the module
  // had run (a module whose exports change later stays as written).
  ...pkg('esm-cjs-interop', 'index.js', ['import { a, b } from "cjs-defined";', 'import m from "cjs-getter";', 'import { count } from "cjs-counter";', 'export const interop = () => [a, b, m.ok, count].join(" ");', ''].join('\n')),
  ...pkg('cjs-defined', 'index.js', 'Object.defineProperty(exports, "a", { value: "A" });\nexports.b = "B";\n', 'commonjs'),
  ...pkg('cjs-getter', 'index.js', 'exports.ok = "OK";\nObject.defineProperty(exports, "gone", { enumerable: true, get() { throw new Error("gone was removed"); } });\n', 'commonjs'),
  ...pkg('cjs-counter', 'index.js', 'exports.count = 0;\nexports.inc = () => { exports.count++; };\n', 'commonjs'),
  'mock-os.mjs': 'export default { hostname: () => "MOCKED host" };\n',
  'mock-dep.mjs': 'export const who = () => "MOCKED dep";\n',
  'mock-hooks.mjs': 'export async function resolve(specifier, context, next) { return specifier === "node:os" ? { url: new URL("./mock-os.mjs", import.meta.url).href, shortCircuit: true } : next(specifier, context); }\n',
  'main.js': [
    'import { createRequire } from "node:module";',
    'import { hash, sameFs, hasPrompt, made } from "esm-hash";',
    'import { info } from "esm-own-process";',
    'import { named } from "esm-named";',
    'import { star } from "esm-star";',
    'import { kind } from "esm-at-load";',
    'import { dns } from "esm-reexport-builtin";',
    'import { w } from "esm-wasi";',
    'import { make } from "esm-domain";',
    'import { seen } from "esm-cycle";',
    'import { cpus } from "esm-own-global";',
    'import { nsKeys } from "esm-cjs-ns";',
    'import { nsWhole } from "esm-cjs-ns-whole";',
    'import { interop } from "esm-cjs-interop";',
    'import EventEmitter from "node:events";',
    'const cjsWasi = createRequire(import.meta.url)("cjs-wasi");',
    'console.log(kind, typeof dns.lookup, EventEmitter.usingDomains, seen, cpus());',
    'const { registerHooks, register } = await import("node:module");',
    'if (process.argv[2] === "--mock") {',
    '  const mocks = { "node:os": "./mock-os.mjs", "esm-real-dep": "./mock-dep.mjs" };',
    '  registerHooks({ resolve: (specifier, context, next) => (mocks[specifier] ? { url: new URL(mocks[specifier], import.meta.url).href, shortCircuit: true } : next(specifier, context)) });',
    '}',
    'if (process.argv[2] === "--register") register("./mock-hooks.mjs", import.meta.url);',
    'if (process.argv[2] === "--passthrough") registerHooks({ load: (url, context, next) => next(url, context) });',
    'const { host } = await import("esm-mockable");',
    'const { whoIs } = await import("esm-dep-user");',
    'console.log(["--mock", "--register"].includes(process.argv[2]) ? host() : typeof host(), whoIs());',
    'if (process.argv[2] === "--use") console.log(hash("x"), sameFs(createRequire(import.meta.url)("fs")), hasPrompt(), info(), named("y"), star(), w(), cjsWasi(), make(), made(), nsKeys(), nsWhole(), (createRequire(import.meta.url)("cjs-counter").inc(), interop()));',
    'if (process.env.SHOW_LOADED) console.log(["crypto", "readline"].map((name) => `${name}: ${process.moduleLoadList.includes(`NativeModule ${name}`)}`).join(" "));',
    '',
  ].join('\n'),
};

test('pack --lazy, builtins: default imports load at first use without a facade; named, namespace and warning builtins stay', { skip: registerHooks ? false : 'the pack serves ES modules on Node 22.15+ only' }, (t) => {
  const dir = realpathSync(tempDir(t, 'coldstart-lazy-builtins-'));
  writeTree(dir, tree);
  const built = runCli(['pack', '--lazy', '--always', '--json', '--', process.execPath, 'main.js'], { cwd: dir, env: base });
  assert.equal(built.code, 0, built.stderr);
  const read = readPackFile(join(dir, 'node_modules/.cache/coldstart/pack.v1'));
  assert.ok(read.ok, read.reason);
  read.pack.body.close();
  const deferred = new Map((read.pack.header.lazy ?? []).map((row) => [row[0], row[4]]));
  const of = (name) => deferred.get(`node_modules/${name}/index.js`) ?? [];
  assert.deepEqual(of('esm-hash'), ['node:crypto', 'readline', 'fs', 'node:events', 'node:url'], 'default imports of builtins wait for their first use');
  assert.deepEqual(of('esm-own-process'), ['node:process', 'os'], 'a deferred `process` binding does not stop the other cells');
  assert.deepEqual(of('esm-named'), [], "a named import keeps the value of Node's facade");
  assert.deepEqual(of('esm-star'), [], "a namespace import is Node's facade itself");
  assert.deepEqual(of('esm-at-load'), [], 'a builtin read while the module evaluates stays');
  assert.deepEqual(of('esm-reexport-builtin'), [], 'a re-exported builtin binding stays');
  assert.deepEqual(of('esm-wasi'), [], 'a builtin that warns when loaded stays (import)');
  assert.deepEqual(of('cjs-wasi'), [], 'a builtin that warns when loaded stays (require)');
  assert.deepEqual(of('esm-domain'), [], 'a builtin that changes process state when loaded stays');
  assert.deepEqual(of('esm-cycle'), ["node:dgram"], 'deferred, and reachable before the module body runs');
  assert.deepEqual(of('esm-own-global'), [], 'a module binding a name the generated code reads is not rewritten');
  assert.deepEqual(of('esm-cjs-ns'), ['cjs-object'], 'a CommonJS namespace waits for its first use');
  assert.deepEqual(of('esm-cjs-ns-whole'), [], 'a namespace handed on whole stays: its stand-in is no namespace object');
  assert.deepEqual(of('esm-cjs-interop'), ['cjs-defined', 'cjs-getter'], 'a CommonJS module whose exports change later stays');
  assert.deepEqual(of('esm-mockable'), ['node:os']);
  assert.deepEqual(of('esm-dep-user'), ['esm-real-dep']);
  const summary = JSON.parse(built.stdout.trim().split('\n').pop());
  assert.ok(summary.lazy.refused['a builtin imported by name or namespace by an ES module'] >= 2, JSON.stringify(summary.lazy));
  assert.ok(summary.lazy.refused['a builtin that warns or changes process state when loaded'] >= 3, JSON.stringify(summary.lazy));

  // --mock, --register: a resolve hook registered before the last two load redirects their
  // imports, as it does without coldstart: they are served as written. A load hook alone changes
  // no import (--passthrough): they are served rewritten.
  for (const args of [[], ['--use'], ['--mock'], ['--register'], ['--passthrough']]) {
    const plain = runNode(['main.js', ...args], { cwd: dir, env: base });
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(plain.stderr, /WASI is an experimental feature/);
    const stats = join(dir, `stats-${args.length}.jsonl`);
    // --register also under --require activation, where the core gets the loader's Module. Node
    // runs preloads in module.register's own thread too; hooks coldstart registered there made
    // imports after the call fail on Node 22 (ERR_METHOD_NOT_IMPLEMENTED).
    const activation = args[0] === '--register' ? ['--require', registerCjs] : ['--import', register];
    const lazy = runNode([...activation, 'main.js', ...args], { cwd: dir, env: { ...base, COLDSTART_PACK_STATS: stats } });
    // Same output, and the same warning at the same place in stderr.
    assert.deepEqual([lazy.code, lazy.stdout, lazy.stderr.replace(/\(node:\d+\)/g, '')], [plain.code, plain.stdout, plain.stderr.replace(/\(node:\d+\)/g, '')], args.join(' '));
    const report = JSON.parse(readFileSync(stats, 'utf8').trim().split('\n').pop());
    assert.equal(report.state, 'used', JSON.stringify(report));
    const redirected = args[0] === '--mock' || args[0] === '--register';
    assert.equal(report.deferredRequires, redirected ? 11 : 13, JSON.stringify(report));
    // module.register's hooks run after the pack's: every ES module loaded after the call is Node's.
    if (redirected) assert.match(report.reason, new RegExp(`${args[0] === '--register' ? 4 : 2} packed modules left to Node for another tool's module hooks`));
  }
  const show = { ...base, SHOW_LOADED: '1' };
  assert.match(runNode(['main.js'], { cwd: dir, env: show }).stdout, /crypto: true readline: true/);
  assert.match(runNode(['--import', register, 'main.js'], { cwd: dir, env: show }).stdout, /crypto: false readline: false/, 'not loaded when not used');
  assert.match(runNode(['--import', register, 'main.js', '--use'], { cwd: dir, env: show }).stdout, /crypto: true readline: true/);

  // coldstart lazy names the ES module a deferred builtin was declared in, and what forced it.
  const listed = runCli(['lazy', '--', process.execPath, 'main.js', '--use'], { cwd: dir, env: { ...base, NODE_OPTIONS: `--import ${register}` } });
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(`${listed.stdout}\n${listed.stderr}`, /node:crypto\s+loaded.*first use \(learned deferral\) at .*esm-hash\/index\.js:4:\d+ \(declared at .*esm-hash\/index\.js:1:1\)/);
});
