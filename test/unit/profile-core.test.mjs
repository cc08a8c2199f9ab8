// Pure parts of the profiler: marker injection, package roots, the import tree and its
// inclusive times, savings, the lazy() line printed for an import, the check rules, the trace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { entryScript, tempDir, core } from '../helpers.mjs';
const { injectMarkers, isMarkerURL, sourceText } = await import(core('profile/inject'));
const { MIN_BOUNDARY_MS, Recorder, packageRootOf, keyOf } = await import(core('profile/recorder'));
const { analyze, labelOf, isWrapper } = await import(core('profile/analyze'));
const { deferCandidates, findImport, lazyLine, savingOf } = await import(core('profile/defer'));
const { evaluate } = await import(core('profile/check'));
const { renderTrace } = await import(core('profile/render-trace'));
const { renderTree } = await import(core('profile/render-text'));
const { installOnFirstModule, mayImportStatically, startsInCommonJs: startsInCommonJsNow } = await import(core('profile/esm-start'));

test('markers move no code: a start call on a code-free first line, else a data: module imported last', () => {
  const source = 'export const a = 1;\nthrow new Error("x");';
  const plain = injectMarkers(source, 'file:///a.mjs');
  assert.ok(plain.startsWith(source + '\n'));
  assert.match(plain.slice(source.length), /^\n;globalThis\[Symbol\.for\("coldstart\.profile"\)\]\?\.e\("file:\/\/\/a\.mjs"\);\nimport "data:text\/javascript,[^"]+";\n$/);
  const start = /import "([^"]+)"/.exec(plain)[1];
  assert.ok(isMarkerURL(start));
  assert.equal(decodeURIComponent(start.slice('data:text/javascript,'.length)), '/*coldstart-profile*/globalThis[Symbol.for("coldstart.profile")]?.s("file:///a.mjs");');
  // A first line with no code (a comment, or blank after a hashbang) takes the call inline.
  const commented = injectMarkers('// banner\nimport x from "y";', 'file:///b.mjs', { m: [] });
  assert.ok(commented.startsWith('globalThis[Symbol.for("coldstart.profile")]?.s("file:///b.mjs",{"m":[]});// banner\nimport x from "y";\n'));
  assert.ok(!commented.includes('data:'));
  const bang = injectMarkers('#!/usr/bin/env node\n\nlet a = 1;', 'file:///c.mjs');
  assert.ok(bang.startsWith('#!/usr/bin/env node\nglobalThis[Symbol.for("coldstart.profile")]?.s("file:///c.mjs");\nlet a = 1;'));
  const bangCode = injectMarkers('#!/usr/bin/env node\nlet a = 1;', 'file:///d.mjs');
  assert.ok(bangCode.startsWith('#!/usr/bin/env node\nlet a = 1;\n') && bangCode.includes('import "data:'));
  assert.ok(!isMarkerURL('file:///b.mjs') && !isMarkerURL('data:text/javascript,export default 1'));
  // A source ending in a line comment must not swallow the end marker.
  assert.match(injectMarkers('let a = 1 // done', 'file:///e.mjs'), /\/\/ done\n;globalThis/);
  assert.equal(sourceText(new TextEncoder().encode('héllo')), 'héllo');
  assert.equal(sourceText(null), undefined);
});

test('package roots and labels', () => {
  const cases = [
    ['/app/node_modules/typescript/lib/typescript.js', '/app/node_modules/typescript'],
    ['/app/node_modules/@aws-sdk/client-s3/dist-cjs/index.js', '/app/node_modules/@aws-sdk/client-s3'],
    ['/app/node_modules/a/node_modules/b/x.js', '/app/node_modules/a/node_modules/b'],
    ['/app/src/main.js', ''],
    ['node:fs', ''],
  ];
  for (const [path, root] of cases) assert.equal(packageRootOf(path), root, path);
  assert.equal(keyOf('file:///x/y.mjs'), '/x/y.mjs');
  assert.equal(labelOf('/app/node_modules/@s/p/lib/i.js', '/app'), '@s/p/lib/i.js');
  assert.equal(labelOf('/app/src/main.js', '/app'), 'src/main.js');
  // A deferred import's stand-in is named by its specifier, not by its URL.
  const standIn = 'coldstart-defer:?url=file%3A%2F%2F%2Fapp%2Fnode_modules%2F%40s%2Fp%2Fi.js&format=commonjs&specifier=%40s%2Fp&parent=file%3A%2F%2F%2Fapp%2Fmain.mjs&at=3%3A1&checked=1';
  assert.equal(labelOf(standIn, '/app'), '@s/p [deferred import]');
  assert.equal(labelOf('node:fs', '/app'), 'node:fs');
  assert.equal(isWrapper({ mainPath: '/usr/lib/node_modules/npm/bin/npm-cli.js', argv: [] }), true);
  assert.equal(isWrapper({ mainPath: '/app/cli.js', argv: [] }), false);
});

const mod = (id, key, parent, selfMs, format = 'commonjs', specifier = key) => ({
  id, key, specifier, parent, format, resolveMs: 0, readMs: 0, evalMs: selfMs, selfMs,
  startMs: format === 'builtin' ? null : id, durMs: format === 'builtin' ? null : selfMs, size: null,
});

/** main -> a (-> a/x), main -> b -> shared, a/x -> shared (cached), main -> node:fs */
function sampleProfile(coverage = null) {
  return {
    format: 1, pid: 42, ppid: 1, argv: ['node', '/app/main.js'], mainPath: '/app/main.js', nodeVersion: 'v20.0.0',
    esmHooks: 'register', timeOrigin: 1000, wallMs: 100,
    modules: [
      mod(0, '/app/main.js', null, 1),
      mod(1, '/app/node_modules/a/index.js', 0, 10, 'commonjs', 'a'),
      mod(2, '/app/node_modules/a/x.js', 1, 5),
      mod(3, '/app/node_modules/b/index.js', 0, 2, 'module', 'b'),
      mod(4, '/app/node_modules/shared/index.js', 3, 4),
      mod(5, 'node:fs', 0, 0, 'builtin'),
    ],
    edges: [[0, 1], [1, 2], [0, 3], [3, 4], [2, 4], [0, 5]],
    coverage,
  };
}

test('the tree sums inclusive times by first importer; builtins are counted apart', () => {
  const view = analyze(sampleProfile());
  assert.equal(view.roots.length, 1);
  const root = view.roots[0];
  assert.equal(root.inclusiveMs, 22);
  assert.deepEqual(root.children.map((c) => [c.module.id, c.inclusiveMs]), [[1, 15], [3, 6], [5, 0]]);
  assert.equal(view.moduleCount, 5);
  assert.equal(view.builtinCount, 1);
  assert.deepEqual(view.byFormat, { commonjs: 4, module: 1 });
  assert.equal(view.loadingMs, 22);
  const text = renderTree(view, { cwd: '/app', minMs: 4.5 });
  assert.match(text, /a\/x\.js/);
  assert.doesNotMatch(text, /shared|node:fs/);
  assert.match(text, /4\.0 +└─ 1 more under 4\.5 ms each/);
});

test('saving counts only what nothing else pulls in', () => {
  const view = analyze(sampleProfile());
  // shared is also reached through a/x.js, so cutting b saves b only.
  assert.deepEqual(savingOf(view, '/app/node_modules/b'), { savingMs: 2, count: 1 });
  // cutting a removes a and a/x; shared stays (b imports it).
  assert.deepEqual(savingOf(view, '/app/node_modules/a'), { savingMs: 15, count: 2 });
});

test('defer candidates: packages with no code run after their load', (t) => {
  const dir = tempDir(t);
  const main = join(dir, 'main.js');
  writeFileSync(main, "const a = require('a');\nimport('b');\n");
  const profile = sampleProfile([
    { after: 1, used: ['/app/node_modules/a/x.js'] }, // ran during a's own load: not use
    { after: 3, used: ['/app/node_modules/a/x.js'] }, // ran after a's load (while b loaded): use

    { after: null, used: [main] },
  ]);
  profile.mainPath = main;
  profile.modules[0].key = main;
  profile.modules.forEach((m) => { m.key = m.key.replace('/app/', dir + '/'); });
  for (const snapshot of profile.coverage) snapshot.used = snapshot.used.map((p) => p.replace('/app/', dir + '/'));
  const candidates = deferCandidates(analyze(profile));
  assert.deepEqual(candidates.map((c) => c.package), ['b']);
  assert.equal(candidates[0].line, 2);
  assert.equal(candidates[0].importer, main);
});

test('the lazy() line printed for each import form', () => {
  const esm = { key: '/app/cli.mjs', format: 'module' };
  const ts = { key: '/app/cli.ts', format: 'module' };
  const cjs = { key: '/app/cli.cjs', format: 'commonjs' };
  const cases = [
    ["import * as ts from 'typescript';", 'typescript', ts, false, "const ts = lazy<typeof import('typescript')>('typescript', import.meta.url);"],
    ["import ts from 'typescript';", 'typescript', esm, false, "const ts = /** @type {typeof import('typescript')} */ (lazy('typescript', import.meta.url));"],
    ["import { ESLint, Linter as L } from 'eslint';", 'eslint', esm, false, "const { ESLint, Linter: L } = lazyNamed('eslint', import.meta.url, ['ESLint', 'Linter']);"],
    ['import {\n  S3Client,\n} from "@aws-sdk/client-s3";', '@aws-sdk/client-s3', ts, false, "const { S3Client } = lazyNamed<typeof import('@aws-sdk/client-s3')>('@aws-sdk/client-s3', import.meta.url, ['S3Client']);"],
    ["import chalk from 'chalk';", 'chalk', esm, true, "const { default: chalk } = lazyNamed('chalk', import.meta.url, ['default']);"],
    ["const ts = require('typescript');", 'typescript', cjs, false, "const ts = lazy('typescript', __filename);"],
    ["const { ESLint } = require('eslint');", 'eslint', cjs, false, "const { ESLint } = lazyNamed('eslint', __filename, ['ESLint']);"],
    [null, '@scope/some-pkg', cjs, false, "const somePkg = lazy('@scope/some-pkg', __filename);"],
  ];
  for (const [statement, specifier, importer, esmPackage, expected] of cases) {
    assert.equal(lazyLine(statement, specifier, importer, esmPackage), expected, String(statement));
  }
});

test('findImport finds single and multi-line imports', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'a.mjs');
  writeFileSync(file, "// uses 'eslint' later\nimport x from 'y';\nimport {\n  ESLint,\n} from 'eslint';\nconst t = require(\"typescript\");\n");
  assert.deepEqual(findImport(file, 'eslint'), { line: 3, statement: "import {\n  ESLint,\n} from 'eslint';" });
  assert.deepEqual(findImport(file, 'typescript'), { line: 6, statement: 'const t = require("typescript");' });
  assert.equal(findImport(file, 'nope'), undefined);
  assert.equal(findImport(join(dir, 'missing.js'), 'y'), undefined);
});

test('check rules: forbid with the import chain, module budget, time budget with tolerance', () => {
  const view = analyze(sampleProfile());
  const ok = evaluate([view], 100, { forbid: ['zzz'], maxModules: 5, maxMs: 90, tolerance: 20 }, '/app');
  assert.deepEqual(ok.violations, []);
  assert.equal(ok.ok, true);
  assert.equal(ok.moduleCount, 5);
  const bad = evaluate([view], 120, { forbid: ['shared', 'node:fs'], maxModules: 4, maxMs: 90, tolerance: 20 }, '/app');
  assert.deepEqual(bad.violations.map((v) => v.rule), ['forbid', 'forbid', 'max-modules', 'max-ms']);
  assert.equal(bad.violations[0].message, "'shared' was loaded (process 42): main.js → b/index.js → shared/index.js");
  assert.match(bad.violations[2].message, /^5 modules were loaded, more than the 4 allowed; most come through a\/index\.js \(2\)/);
  assert.match(bad.violations[3].message, /took 120 ms, more than 90 ms \+ 20% \(108 ms\)/);
  // npm/npx wrapper processes do not count.
  const wrapper = analyze({ ...sampleProfile(), pid: 7, mainPath: '/usr/lib/node_modules/npm/bin/npm-cli.js' });
  assert.equal(evaluate([view, wrapper], 1, { forbid: [], maxModules: 5, maxMs: undefined, tolerance: 0 }, '/app').ok, true);
});

test('trace events are complete events with pid, tid, ts and dur', () => {
  const trace = renderTrace([sampleProfile()], '/app');
  const complete = trace.traceEvents.filter((e) => e.ph === 'X');
  assert.equal(complete.length, 1 + 5); // the process, and every module with a window
  for (const e of complete) {
    for (const field of ['pid', 'tid', 'ts', 'dur', 'name']) assert.ok(e[field] !== undefined, `${field} in ${JSON.stringify(e)}`);
    assert.ok(Number.isInteger(e.ts) && e.ts >= 0 && e.dur >= 1);
  }
  assert.ok(trace.traceEvents.some((e) => e.ph === 'M' && e.name === 'process_name'));
});

test('a package that loaded in under MIN_BOUNDARY_MS takes no coverage snapshot; a slower one does', () => {
  const recorder = new Recorder('/app/main.js');
  const taken = [];
  recorder.onBoundary = (id) => taken.push(id);
  recorder.module('/app/main.js', '/app/main.js', undefined, 'commonjs');
  const quick = recorder.module('/app/node_modules/quick/index.js', 'quick', '/app/main.js', 'commonjs');
  quick.durMs = MIN_BOUNDARY_MS / 2;
  recorder.finished(quick);
  const slow = recorder.module('/app/node_modules/slow/index.js', 'slow', '/app/main.js', 'commonjs');
  slow.durMs = MIN_BOUNDARY_MS * 3;
  recorder.finished(slow);
  // Loaded by another package, not by first-party code: no snapshot either.
  const nested = recorder.module('/app/node_modules/slow/node_modules/dep/index.js', 'dep', '/app/node_modules/slow/index.js', 'commonjs');
  nested.durMs = MIN_BOUNDARY_MS * 3;
  recorder.finished(nested);
  assert.deepEqual(taken, [slow.id]);
});

test('the first ES module of a CommonJS program: import statements found, other words not; the loader Node starts in', (t) => {
  for (const source of ["import x from 'y';", "'use strict';import{a}from\"b\"", "const a = 1;\nimport * as ns from 'x';", "export * from './x.js';", "export { a } from './x.js';", "  import './side-effect.js';", 'import defer * as ns from "x";']) {
    assert.equal(mayImportStatically(source), true, source);
  }
  for (const source of ["const m = await import('x');", 'exports.a = 1; module.exports = { exports: 1 };', '/**\n * import foo from "bar"\n */', 'const { important } = x;', 'console.log(import.meta.url)', 'export const a = 1;', 'export { a };']) {
    assert.equal(mayImportStatically(source), false, source);
  }
  const dir = tempDir(t);
  const write = (name, text) => writeFileSync(join(dir, name), text);
  write('a.mjs', '');
  write('b.cjs', '');
  write('c.js', '');
  // The script is process.argv[1], as when `coldstart profile` runs it in its own process.
  const setEntry = entryScript(t);
  const startsInCommonJs = (script, flags) => {
    setEntry(script);
    return startsInCommonJsNow(flags);
  };
  assert.equal(startsInCommonJs(join(dir, 'a.mjs'), ''), false);
  assert.equal(startsInCommonJs(join(dir, 'b.cjs'), ''), true);
  assert.equal(startsInCommonJs(join(dir, 'b.cjs'), '--import ./x.mjs'), false);
  assert.equal(startsInCommonJs(join(dir, 'b.cjs'), '--experimental-loader=./x.mjs'), false);
  assert.equal(startsInCommonJs(join(dir, 'missing.js'), ''), false);
  write('package.json', '{"type":"module"}');
  assert.equal(startsInCommonJs(join(dir, 'c.js'), ''), false);
  write('package.json', '{"name":"x"}');
  assert.equal(startsInCommonJs(join(dir, 'c.js'), ''), true);
  write('package.json', '{ not json');
  assert.equal(startsInCommonJs(join(dir, 'c.js'), ''), false);

  // Installed once: by the import() channel or by a compile that may import, never twice.
  const subscribed = new Map();
  const channels = { subscribe: (name, fn) => subscribed.set(name, fn), unsubscribe: (name) => subscribed.delete(name) };
  let installs = 0;
  const check = installOnFirstModule(() => installs++, channels);
  check('module.exports = 1;', 'commonjs');
  check("require('x')", undefined);
  check("import x from 'y'", 'commonjs-typescript');
  assert.equal(installs, 0);
  check('export const a = 1;', 'module');
  assert.equal(installs, 1);
  assert.equal(subscribed.size, 0);
  check("import x from 'y'", undefined);
  const viaChannel = installOnFirstModule(() => installs++, channels);
  subscribed.get('tracing:module.import:start')();
  assert.equal(installs, 2);
  viaChannel("import x from 'y'", undefined);
  assert.equal(installs, 2);
});
