// `import defer` and `import.defer()` with no configuration: in any file of a first-party ES
// module program (Node 22.15+), and the dynamic form on every Node; programs that cannot hold the
// syntax get no load hook.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { statSync, utimesSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { dist, runNode, tempDir, writeTree } from '../helpers.mjs';

const register = pathToFileURL(join(dist, 'register.js')).href;
const inThread = typeof (await import('node:module')).registerHooks === 'function';
const env = { COLDSTART_DEFER_CACHE: '0', COLDSTART_EAGER: '', NODE_OPTIONS: '' };

test('import defer in a file other than the entry, no configuration', (t) => {
  const dir = tempDir(t, 'coldstart-defer-nested-');
  writeTree(dir, {
    'package.json': '{ "name": "nested" }\n',
    'main.mjs': 'import { show } from "./lib.mjs";\nconsole.log("main", globalThis.depRan ?? false);\nshow();\n',
    'lib.mjs': 'import /* evaluated at first use */ defer * as d from "./dep.mjs";\nexport function show() {\n  console.log("before", globalThis.depRan ?? false);\n  console.log("value", d.value);\n  console.log("after", globalThis.depRan);\n}\n',
    'dep.mjs': 'globalThis.depRan = true;\nexport const value = 42;\n',
  });
  const result = runNode(['--import', register, 'main.mjs'], { cwd: dir, env: { ...env, COLDSTART_DEBUG: '1' } });
  if (!inThread) {
    // Node 20: only the entry's own use switches the off-thread hooks on (a worker start each).
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /SyntaxError/);
    return;
  }
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, 'main false\nbefore false\nvalue 42\nafter true\n');
  assert.match(result.stderr, /load hook installed: a first-party ES module program/);
  // A typeless `.js` entry with import statements runs as an ES module too (Node's detection).
  writeTree(dir, { 'main.js': 'import { show } from "./lib.mjs";\nshow();\n' });
  const typeless = runNode(['--import', register, 'main.js'], { cwd: dir, env });
  assert.equal(typeless.code, 0, typeless.stderr);
  assert.equal(typeless.stdout, 'before false\nvalue 42\nafter true\n');
});

test('import.defer(): a promise of the deferred namespace, resolved and loaded ahead, evaluated at first use', (t) => {
  const dir = tempDir(t, 'coldstart-defer-dynamic-');
  writeTree(dir, {
    'package.json': '{ "name": "dynamic", "type": "module" }\n',
    'main.js': [
      'globalThis.ev = 0;',
      'const p = import.defer("./dep.js");',
      'console.log("promise", p instanceof Promise, globalThis.ev);',
      'const ns = await p;',
      'console.log("awaited", globalThis.ev, Object.prototype.toString.call(ns), Object.keys(globalThis).includes("x"));',
      'console.log("x", ns.x, globalThis.ev);',
      'console.log("same namespace", (await import.defer("./dep.js")) === ns);',
      'for (const bad of ["./missing.js", Symbol("s")]) {',
      '  const settled = import.defer(bad);',
      '  try { await settled; } catch (e) { console.log("rejected", e.code ?? e.constructor.name, String(e.message).includes("coldstart-defer:")); }',
      '}',
      'const tla = await import.defer("./awaits.js");',
      'console.log("awaiting module ran ahead", globalThis.awaited, tla.t);',
      'const json = await import.defer("./data.json", { with: { type: "json" } });',
      'console.log("json", json.default.n);',
      '',
    ].join('\n'),
    'dep.js': 'globalThis.ev++;\nexport const x = 1;\n',
    'awaits.js': 'await 0;\nglobalThis.awaited = true;\nexport const t = 2;\n',
    'data.json': '{ "n": 3 }\n',
  });
  const want = 'promise true 0\nawaited 0 [object Deferred Module] false\nx 1 1\nsame namespace true\nrejected ERR_MODULE_NOT_FOUND false\nrejected TypeError false\nawaiting module ran ahead true 2\njson 3\n';
  const result = runNode(['--import', register, 'main.js'], { cwd: dir, env });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, want);
  // COLDSTART_EAGER: an ordinary import(), evaluated while the promise is pending.
  const eager = runNode(['--import', register, 'main.js'], { cwd: dir, env: { ...env, COLDSTART_EAGER: '1' } });
  assert.equal(eager.code, 0, eager.stderr);
  assert.equal(eager.stdout, want.replace('awaited 0 [object Deferred Module]', 'awaited 1 [object Module]'));
});

test('no load hook where no file can hold the syntax: a CommonJS entry, an installed ES module entry', (t) => {
  const dir = tempDir(t, 'coldstart-defer-none-');
  writeTree(dir, {
    'package.json': '{ "name": "none" }\n',
    'main.cjs': 'console.log(require("./node_modules/tool/cli.mjs").name);\n',
    'node_modules/tool/package.json': '{ "name": "tool", "type": "module" }\n',
    'node_modules/tool/cli.mjs': 'export const name = "tool";\nconsole.log("tool ran");\n',
  });
  for (const entry of ['main.cjs', 'node_modules/tool/cli.mjs']) {
    const result = runNode(['--import', register, entry], { cwd: dir, env: { ...env, COLDSTART_DEBUG: '1' } });
    assert.equal(result.code, 0, result.stderr);
    assert.doesNotMatch(result.stderr, /load hook installed/, entry);
  }
});

// Native import defer (Node 26 with the V8 flag), for comparing what the proposal says happens.
const native = spawnSync(process.execPath, ['--js-defer-import-eval', '-e', '0']).status === 0;

test('a deferred namespace read while a module of its graph evaluates throws TypeError and evaluates nothing; later reads work', (t) => {
  const dir = tempDir(t, 'coldstart-defer-cycle-');
  writeTree(dir, {
    // Node 20 switches the hooks on for files other than the entry only with a configuration.
    'package.json': `{ "name": "cycle", "type": "module"${inThread ? '' : ', "coldstart": { "defer": [] }'} }\n`,
    'a.js': 'import defer * as b from "./b.js";\nexport const name = "A";\nexport function later() { return b.hello(); }\nlet early;\ntry { early = b.hello(); } catch (e) { early = `${e.constructor.name} ${globalThis.bRan ?? false}`; }\nexport { early };\n',
    'b.js': 'import { name } from "./a.js";\nglobalThis.bRan = true;\nexport function hello() { return "hello, " + name; }\n',
    'main.js': 'import { early, later } from "./a.js";\nconsole.log(early);\nconsole.log(later());\n',
  });
  const want = 'TypeError false\nhello, A\n';
  const result = runNode(['--import', register, 'main.js'], { cwd: dir, env });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, want);
  if (native) {
    const theirs = runNode(['--js-defer-import-eval', 'main.js'], { cwd: dir, env });
    assert.equal(theirs.stdout, want, theirs.stderr);
  }
});

test('a deferred module that defers an import itself (require(esm) of a graph with a stand-in)', (t) => {
  const dir = tempDir(t, 'coldstart-defer-inner-');
  writeTree(dir, {
    'package.json': '{ "name": "inner", "type": "module" }\n',
    'main.js': 'import defer * as a from "./a.js";\nconsole.log("main");\nconsole.log(a.run());\nconst a2 = await import.defer("./a.js");\nconsole.log(a2 === a);\n',
    'a.js': 'import defer * as b from "./b.js";\nconsole.log("a evaluated");\nexport function run() { return "b says " + b.msg; }\n',
    'b.js': 'console.log("b evaluated");\nexport const msg = "hi";\n',
  });
  const result = runNode(['--import', register, 'main.js'], { cwd: dir, env });
  assert.equal(result.code, 0, result.stderr);
  // Node 20 evaluates the deferred module through require(), whose imports its hooks do not see:
  // the inner `import defer` is an ordinary import there.
  assert.equal(result.stdout, inThread ? 'main\na evaluated\nb evaluated\nb says hi\ntrue\n' : 'main\nb evaluated\na evaluated\nb says hi\ntrue\n');
});

test('import.defer() in a first-party CommonJS entry', (t) => {
  const dir = tempDir(t, 'coldstart-defer-cjs-');
  writeTree(dir, {
    'package.json': '{ "name": "cjs" }\n',
    'main.cjs': 'globalThis.ran = false;\n(async () => {\n  const ns = await import.defer("./dep.mjs");\n  console.log(globalThis.ran, ns.x, globalThis.ran);\n})();\n',
    'dep.mjs': 'globalThis.ran = true;\nexport const x = 1;\n',
  });
  const result = runNode(['--import', register, 'main.cjs'], { cwd: dir, env });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, 'false 1 true\n');
});

test('a file with import defer and another syntax error: Node reports that error, at its line', (t) => {
  const dir = tempDir(t, 'coldstart-defer-syntax-');
  writeTree(dir, {
    'package.json': '{ "name": "syntax" }\n',
    'main.mjs': 'import defer * as h from "./h.mjs";\nconsole.log(h.v);\nconst x = ;\n',
    'h.mjs': 'export const v = 1;\n',
  });
  const result = runNode(['--import', register, 'main.mjs'], { cwd: dir, env });
  assert.notEqual(result.code, 0);
  assert.match(result.stderr, /main\.mjs:3\n/);
  assert.match(result.stderr, /SyntaxError: Unexpected token ';'/);
});

test('import attributes: Node checks them as for import (its own errors); a JSON namespace holds only default', (t) => {
  const dir = tempDir(t, 'coldstart-defer-attributes-');
  const checks = [['missing', '"./d.json"'], ['wrong type', '"./m.mjs", { with: { type: "json" } }'], ['unsupported', '"./d.json", { with: { type: "bogus" } }']];
  writeTree(dir, {
    'package.json': '{ "name": "attributes", "type": "module" }\n',
    'd.json': '{ "j": 1 }\n',
    'm.mjs': 'export const m = 1;\n',
    'main.js': [
      'import defer * as data from "./d.json" with { type: "json" };',
      'console.log(JSON.stringify(Object.keys(data)), data.default.j);',
      ...checks.map(([name, args]) => `console.log(${JSON.stringify(name)}, await import.defer(${args}).then(() => "ok", (e) => e.code), await import(${args}).then(() => "ok", (e) => e.code));`),
      '',
    ].join('\n'),
  });
  const result = runNode(['--import', register, 'main.js'], { cwd: dir, env });
  assert.equal(result.code, 0, result.stderr);
  const lines = result.stdout.trim().split('\n');
  assert.equal(lines[0], '["default"] 1');
  for (const line of lines.slice(1)) {
    const [, deferred, plain] = line.match(/^\S+(?: \S+)? (\S+) (\S+)$/);
    assert.match(deferred, /^ERR_IMPORT_/, line);
    assert.equal(deferred, plain, line);
  }
});

test('where Node runs import defer itself, import.defer() gives its namespace object', { skip: native ? false : 'no native import defer in this Node' }, (t) => {
  const dir = tempDir(t, 'coldstart-defer-native-dynamic-');
  writeTree(dir, {
    'package.json': '{ "name": "native-dynamic", "type": "module" }\n',
    'main.js': 'import defer * as a from "./h.js";\nconst b = await import.defer("./h.js");\nconsole.log(a === b, globalThis.ran ?? false, b.x, globalThis.ran);\n',
    'h.js': 'globalThis.ran = true;\nexport const x = 1;\n',
  });
  const result = runNode(['--js-defer-import-eval', '--import', register, 'main.js'], { cwd: dir, env });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, 'true false 1 true\n');
});

test('CommonJS with a top-level return: import.defer() rewritten, strings untouched', (t) => {
  const dir = tempDir(t, 'coldstart-defer-return-');
  writeTree(dir, {
    'package.json': '{ "name": "ret" }\n',
    'main.cjs': 'globalThis.ran = false;\nconst s = "call import.defer(\\"./dep.mjs\\") later";\nconsole.log(s);\nimport.defer("./dep.mjs").then((ns) => console.log(globalThis.ran, ns.x, globalThis.ran));\nif (process.argv[2]) return;\n',
    'dep.mjs': 'globalThis.ran = true;\nexport const x = 1;\n',
  });
  const result = runNode(['--import', register, 'main.cjs'], { cwd: dir, env });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, 'call import.defer("./dep.mjs") later\nfalse 1 true\n');
});

test('a module require() cannot name (a query, a data: URL) is the right instance, evaluated at the import', (t) => {
  const dir = tempDir(t, 'coldstart-defer-query-');
  writeTree(dir, {
    'package.json': '{ "name": "query", "type": "module" }\n',
    't.js': 'globalThis.count = (globalThis.count ?? 0) + 1;\nexport const url = import.meta.url.slice(import.meta.url.lastIndexOf("/") + 1);\n',
    'main.js': [
      'import defer * as d from "./t.js?v=1";',
      'import defer * as data from "data:text/javascript,export const x = 7";',
      'const eager = await import("./t.js?v=1");',
      'console.log(d.url, eager === d || eager.url === d.url, globalThis.count, data.x);',
      '',
    ].join('\n'),
  });
  const result = runNode(['--import', register, 'main.js'], { cwd: dir, env });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, 't.js?v=1 true 1 7\n');
});

test('util.inspect shows the values of an evaluated deferred namespace; a stack limit of 0 is left alone', (t) => {
  const dir = tempDir(t, 'coldstart-defer-inspect-');
  writeTree(dir, {
    'package.json': '{ "name": "inspect", "type": "module" }\n',
    'm.js': 'export const y = 2;\nexport const z = 1;\nexport const limit = Error.stackTraceLimit;\n',
    'bad.js': 'throw new Error("boom");\n',
    'main.js': [
      'import { inspect } from "node:util";',
      'import defer * as ns from "./m.js";',
      'import defer * as bad from "./bad.js";',
      'ns.z;',
      'console.log(inspect(ns).includes("y: 2, z: 1"));',
      'Error.stackTraceLimit = 0;',
      'try { bad.x; } catch (e) { console.log(e.message, e.stack.split("\\n").length, Error.stackTraceLimit); }',
      '',
    ].join('\n'),
  });
  const result = runNode(['--import', register, 'main.js'], { cwd: dir, env });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, 'true\nboom 1 0\n');
});

test('an installed package that uses import defer works under a CommonJS entry and an installed CLI, no configuration', (t) => {
  const dir = tempDir(t, 'coldstart-defer-package-');
  writeTree(dir, {
    'package.json': '{ "name": "app" }\n',
    'main.cjs': 'import("lib").then((lib) => console.log(lib.show()));\n',
    'node_modules/lib/package.json': '{ "name": "lib", "type": "module", "exports": "./index.js" }\n',
    'node_modules/lib/index.js': 'import defer * as heavy from "./heavy.js";\nexport function show() { const before = globalThis.heavyRan ?? false; return `${before} ${heavy.value} ${globalThis.heavyRan}`; }\n',
    'node_modules/lib/heavy.js': 'globalThis.heavyRan = true;\nexport const value = 42;\n',
    'node_modules/tool/package.json': '{ "name": "tool", "type": "module" }\n',
    'node_modules/tool/cli.mjs': 'import { show } from "lib";\nconsole.log(show());\n',
  });
  for (const entry of ['main.cjs', 'node_modules/tool/cli.mjs']) {
    const result = runNode(['--import', register, entry], { cwd: dir, env: { ...env, COLDSTART_DEBUG: '1' } });
    assert.equal(result.code, 0, `${entry}: ${result.stderr}`);
    assert.equal(result.stdout, 'false 42 true\n', entry);
    assert.match(result.stderr, inThread ? /load hook installed: an installed package uses import defer/ : /installed the off-thread defer hooks/, entry);
  }
});

test('a CommonJS module deferred has the namespace import gives it: the names Node finds in its text, through re-exports', (t) => {
  const dir = tempDir(t, 'coldstart-defer-cjs-names-');
  writeTree(dir, {
    'package.json': '{ "name": "cjs-names", "type": "module" }\n',
    'x.cjs': 'exports.a = 1;\nmodule.exports.b = 2;\nconst k = "dyn";\nexports[k] = 3;\n',
    'outer.cjs': 'module.exports = require("./x.cjs");\n',
    'main.js': [
      'import * as eager from "./x.cjs";',
      'import * as eagerOuter from "./outer.cjs";',
      'import defer * as lazy from "./x.cjs";',
      'import defer * as lazyOuter from "./outer.cjs";',
      'const view = (ns) => JSON.stringify(Object.keys(ns).map((k) => [k, typeof ns[k] === "object" ? "object" : ns[k]]));',
      'console.log(Object.isExtensible(lazyOuter), view(lazy) === view(eager), view(lazyOuter) === view(eagerOuter));',
      '',
    ].join('\n'),
  });
  const result = runNode(['--import', register, 'main.js'], { cwd: dir, env });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, 'false true true\n');
});

test('export * chains: a name ambiguous one level down, and a CommonJS file re-exported, give what import gives', (t) => {
  const dir = tempDir(t, 'coldstart-defer-stars-');
  writeTree(dir, {
    'package.json': '{ "name": "stars", "type": "module" }\n',
    'x.js': 'export const p = "px", q = "qx";\n',
    'y.js': 'export const r = "ry", p = "py";\n',
    's4.js': 'export * from "./x.js";\nexport * from "./y.js";\n',
    's5.js': 'export * from "./s4.js";\n',
    'c.cjs': 'exports.a = 1;\n',
    'e.js': 'export * from "./c.cjs";\nexport const mine = 1;\n',
    'main.js': [
      'import * as plainS5 from "./s5.js";',
      'import * as plainE from "./e.js";',
      'import defer * as s5 from "./s5.js";',
      'import defer * as e from "./e.js";',
      'const view = (ns) => JSON.stringify([Object.keys(ns), "p" in ns, JSON.stringify(ns)]);',
      'console.log(view(s5) === view(plainS5), view(e) === view(plainE), e.mine);',
      '',
    ].join('\n'),
  });
  const result = runNode(['--import', register, 'main.js'], { cwd: dir, env });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, 'true true 1\n');
});

test('export names are read again when a file changes, even to the same size with its old mtime (a copy that keeps times)', (t) => {
  const dir = tempDir(t, 'coldstart-defer-stale-');
  const cache = join(dir, 'cache');
  writeTree(dir, {
    'package.json': '{ "name": "stale", "type": "module" }\n',
    'm.js': 'export const a = 1, c = 2;\n',
    'main.js': 'import defer * as m from "./m.js";\nconsole.log(JSON.stringify(Object.keys(m)));\n',
  });
  const first = runNode(['--import', register, 'main.js'], { cwd: dir, env: { ...env, COLDSTART_DEFER_CACHE: cache } });
  assert.equal(first.stdout, '["a","c"]\n', first.stderr);
  const before = statSync(join(dir, 'm.js'));
  writeFileSync(join(dir, 'm.js'), 'export const a = 1, d = 2;\n');
  utimesSync(join(dir, 'm.js'), before.atime, before.mtime);
  const second = runNode(['--import', register, 'main.js'], { cwd: dir, env: { ...env, COLDSTART_DEFER_CACHE: cache } });
  assert.equal(second.code, 0, second.stderr);
  assert.equal(second.stdout, '["a","d"]\n');
});
