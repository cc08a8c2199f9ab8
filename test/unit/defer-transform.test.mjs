// The defer transform as a pure function: a table of (case, source, expected output fragments),
// plus the pattern matcher and the stand-in specifier format.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { transformDefer } from '../../dist/defer/transform.js';
import { entryIsCommonJs, matchesDefer, programDeferConfig, resetDeferConfig } from '../../dist/defer/config.js';
import { findReferences } from '../../dist/defer/scope.js';
import { mayBeAsyncModule, parseVirtual, readVirtualURL, virtualURL } from '../../dist/defer/load-core.js';
import { hasScheme } from '../../dist/locations/resolve-provider.js';
import { bytesMayNeedTransform, hasImportDefer, hasImportDeferCall, mayNeedTransform, withoutDefer } from '../../dist/defer/detect.js';
import { mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { entryScript, tempDir } from '../helpers.mjs';

const options = { defer: ['x', '@aws-sdk/*'], eager: false, nativeImportDefer: false, lazyRuntimePath: '/lazy.js', sourceMap: false };
const run = (source, format = 'module', extra = {}) => transformDefer(source, '/app/main.mjs', format, { ...options, ...extra })?.code;

const cases = [
  ['import defer', 'import defer * as ns from "y";\nns.a;', ['import ns from "#coldstart-defer:1:1:y";', 'ns.a;']],
  ['named import read', 'import { a } from "x";\nconsole.log(a);', ['import __coldstart_defer0 from "#coldstart-defer:1:1:x";', 'console.log(__coldstart_defer0.a);']],
  ['callee keeps this undefined', 'import { a } from "x";\na(1);', ['(0, __coldstart_defer0.a)(1);']],
  ['default and typeof', 'import d from "x";\ntypeof d;', ['typeof __coldstart_defer0.default;']],
  ['namespace import needs no rewrite', 'import * as m from "x";\nm.a;', ['import m from "#coldstart-defer:1:1:x";', 'm.a;']],
  ['shorthand property', 'import { a } from "x";\n({ a });', ['({ a: __coldstart_defer0.a });']],
  ['shadowing parameter is left alone', 'import { a } from "x";\nfunction f(a) { return a; }', ['function f(a) { return a; }']],
  ['a parameter default reads the import, not the body var', 'import { a } from "x";\nfunction f(b = a) { var a = 1; return b + a; }', ['function f(b = __coldstart_defer0.a) { var a = 1; return b + a; }']],
  ['shadowing block let is left alone', 'import { a } from "x";\n{ let a = 1; a; }\na;', ['{ let a = 1; a; }\n__coldstart_defer0.a;']],
  ['member property names are not references', 'import { a } from "x";\nobj.a; ({ a: 1 });', ['obj.a; ({ a: 1 });']],
  ['glob pattern', 'import { S3 } from "@aws-sdk/client-s3";\nS3;', ['__coldstart_defer0.S3;']],
  ['side-effect import stays', 'import "x";', undefined],
  ['re-export keeps the import eager', 'import { a } from "x";\nexport { a };', undefined],
  ['export * stays', 'export * from "x";', undefined],
  ['unlisted module stays', 'import { a } from "z";\na;', undefined],
  ['line breaks of a multi-line import are kept', 'import {\n  a,\n} from "x";\na;', ['from "#coldstart-defer:1:1:x";\n\n\n__coldstart_defer0.a;']],
  ['CommonJS require', '"use strict";\nconst m = require("x");\nm.go();', ['"use strict";const { lazyModules: __coldstart_lazyModules } = require("/lazy.js"); ', 'const __coldstart_defer0 = __coldstart_lazyModules(__filename, { m: "x" });', '__coldstart_defer0.m.go();'], 'commonjs'],
  ['CommonJS after "use strict" with no semicolon', '"use strict"\nconst m = require("x");\nm.go();', ['"use strict";const { lazyModules: __coldstart_lazyModules }'], 'commonjs'],
  ['CommonJS destructuring', 'const { a, b: c } = require("x");\nc(a);', ['(0, __coldstart_defer0.m.b)(__coldstart_defer0.m.a);'], 'commonjs'],
];

for (const [name, source, expected, format] of cases) {
  test(`transform: ${name}`, () => {
    const code = run(source, format);
    if (expected === undefined) return assert.equal(code, undefined);
    assert.ok(code !== undefined, 'expected a rewrite');
    for (const fragment of expected) assert.ok(code.includes(fragment), `missing ${JSON.stringify(fragment)} in:\n${code}`);
  });
}

test('eager mode turns import defer into a plain import and defers nothing', () => {
  assert.equal(run('import defer * as ns from "y";', 'module', { eager: true }), 'import * as ns from "y";');
  assert.equal(run('import { a } from "x";\na;', 'module', { eager: true }), undefined);
});

test('native import defer is left to Node', () => {
  assert.equal(run('import defer * as ns from "y";', 'module', { nativeImportDefer: true }), undefined);
});

test('source map is attached inline', () => {
  const code = run('import defer * as ns from "y";', 'module', { sourceMap: true });
  assert.match(code, /\/\/# sourceMappingURL=data:application\/json;charset=utf-8;base64,/);
});

test('matchesDefer: names cover subpaths, globs stay within a segment, relative only exact', () => {
  assert.equal(matchesDefer(['lodash'], 'lodash/fp'), true);
  assert.equal(matchesDefer(['lodash'], 'lodash-es'), false);
  assert.equal(matchesDefer(['@aws-sdk/*'], '@aws-sdk/client-s3'), true);
  assert.equal(matchesDefer(['@aws-sdk/*'], '@aws-sdkx/client'), false);
  assert.equal(matchesDefer(['./heavy.js'], './heavy.js'), true);
  assert.equal(matchesDefer(['heavy'], './heavy'), false);
});

test('findReferences: catch parameters, for-of bindings and class names shadow', async () => {
  const { parseSync } = await import('oxc-parser');
  const { program } = parseSync('a.mjs', 'try {} catch (a) { a; }\nfor (const a of []) a;\nclass a {}\n');
  assert.deepEqual(findReferences(program, new Set(['a'])).map((r) => r.kind), []);
});

// Each «x» marks a reference that means the module's binding; every other `x` is a local one.
const scopeCases = [
  ['a parameter default does not see the body\'s var', 'function f(a = «x») { var x = 1; return a + x; }'],
  ['a parameter default does not see the body\'s const', 'function f(a = «x») { const x = 1; return a + x; }'],
  ['a parameter default does not see the body\'s function', 'function f(a = «x») { function x() {} }'],
  ['a closure in a default sees the parameters, not the body', 'async function f(a = () => «x», b = () => a) { var x = 1; }'],
  ['arrow parameters', 'const f = (a = «x») => { let x; return x; };'],
  ['methods, setters, constructors and computed keys of patterns', 'const o = { m(a = «x») { var x; }, set s(v = «x») { var x; } };\nclass C { constructor(a = «x») { var x; } static async *g({ [«x»]: a }) { var x; } }'],
  ['a parameter shadows in the defaults after it, and before it (TDZ)', 'function f(x, a = x) { var x; }\nfunction g(a = x, x) {}'],
  ['a named function expression\'s name shadows in its defaults', 'const f = function x(a = x) { var x; };'],
  ['a body var named as a parameter', 'function f(x) { var x; return x; }'],
  ['a var in a static block is the block\'s own', 'function g() { class K { static { var x = 1; K.s = x; { var x; } } } return «x»; }'],
  ['a class heritage sees the class name, not the import', '(class x extends x {});\n(class C extends «x» {});'],
  ['a non-arrow function has its own arguments', 'function f() { return arguments; }\nconst g = () => «arguments»;', { sourceType: 'commonjs' }, 'arguments'],
  ['sloppy code: a function in a block is also a var of its function', 'function f() { { function x() {} } return x; }\nfunction g() { if (1) function x() {} return x; }\nfunction h() { { l: function x() {} } return x; }', { sourceType: 'commonjs' }],
  ['sloppy code: not where a lexical name of an enclosing block forbids the var', 'function f() { { let x; { function x() {} } } return «x»; }\nfunction g() { for (let x of []) { function x() {} } return «x»; }\nfunction h() { try {} catch ([x]) { { function x() {} } } return «x»; }', { sourceType: 'commonjs' }],
  ['strict code: a function in a block is the block\'s only', 'function f() { "use strict"; { function x() {} } return «x»; }\nclass C { m() { { function x() {} } return «x»; } }', { sourceType: 'commonjs' }],
  ['modules are strict', 'function f() { { function x() {} } return «x»; }'],
  ['a file-wide "use strict"', '"use strict";\nfunction f() { { function x() {} } return «x»; }', { sourceType: 'commonjs' }],
  ['a labelled function declares its name in its block', '{ l: function x() {} x; }', { sourceType: 'commonjs' }],
  ['TypeScript: parameters of abstract methods and overloads are declarations', 'abstract class C { abstract m(x: number): void; n(x: string): void; n(x) { return x; } }', { lang: 'ts' }],
  ['TypeScript: parameter decorators are read where the class is defined', 'class C { constructor(@Inject(«x») private a, @Inject(«x») x = 1) {} }', { lang: 'ts' }],
];

for (const [name, marked, options = {}, binding = 'x'] of scopeCases) {
  test(`findReferences: ${name}`, async () => {
    const { parseSync } = await import('oxc-parser');
    const source = marked.replace(/[«»]/g, '');
    const expected = [];
    for (let at = marked.indexOf('«'), removed = 0; at !== -1; at = marked.indexOf('«', at + 1), removed += 2) expected.push(at - removed);
    const { program, errors } = parseSync(options.lang === 'ts' ? 'a.ts' : 'a.js', source, { sourceType: 'module', lang: 'js', ...options });
    assert.deepEqual(errors, []);
    assert.deepEqual(findReferences(program, new Set([binding])).map((r) => r.start), expected, source);
  });
}

test('findReferences: a caller searching part of a program says whether its code is strict', async () => {
  const { parseSync } = await import('oxc-parser');
  const { program } = parseSync('a.js', '"use strict";\n(function () { function f() { { function x() {} } return x; } })();', { sourceType: 'commonjs' });
  const body = program.body[1].expression.callee.expression.body.body;
  const part = { type: 'Program', body, start: 0, end: 0 };
  assert.equal(findReferences(part, new Set(['x'])).length, 0, 'sloppy unless told');
  assert.equal(findReferences(part, new Set(['x']), true).length, 1);
});

test('the transform cache without node_modules lives in the temp dir, found as os.tmpdir() finds it', async () => {
  const { defaultCacheDir } = await import('../../dist/defer/cache.js');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const keys = ['TMPDIR', 'TMP', 'TEMP', 'COLDSTART_DEFER_CACHE'];
  const saved = Object.fromEntries(keys.map((k) => [k, process.env[k]]));
  const user = typeof process.getuid === 'function' ? String(process.getuid()) : 'user';
  try {
    delete process.env['COLDSTART_DEFER_CACHE'];
    for (const [tmp, t, temp] of [['/tmp/a/', undefined, undefined], ['/var/tmp', undefined, undefined], ['/', undefined, undefined], [undefined, '/x/t/', undefined], [undefined, undefined, '/y'], [undefined, undefined, undefined], ['', '', '/z']]) {
      for (const [k, v] of [['TMPDIR', tmp], ['TMP', t], ['TEMP', temp]]) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      assert.equal(defaultCacheDir('/no/such/project'), join(tmpdir(), `coldstart-defer-${user}`), JSON.stringify([tmp, t, temp]));
    }
    process.env['COLDSTART_DEFER_CACHE'] = '/explicit';
    assert.equal(defaultCacheDir('/no/such/project'), '/explicit');
    process.env['COLDSTART_DEFER_CACHE'] = '0';
    assert.equal(defaultCacheDir('/no/such/project'), undefined);
  } finally {
    for (const k of keys) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  }
});

test('the entry is CommonJS when its package scope says so, learnt from the configuration lookup; no config file inside node_modules', (t) => {
  const dir = realpathSync(tempDir(t, 'coldstart-entry-'));
  const write = (name, text) => {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  };
  write('cjs/package.json', '{"type":"commonjs","coldstart":{"defer":["x"]}}');
  write('cjs/bin/main.js', '');
  write('esm/package.json', '{"type":"module"}');
  write('esm/main.js', '');
  write('none/package.json', '{}');
  write('none/main.js', '');
  write('none/main.cjs', '');
  write('cjs/node_modules/loose.js', '');
  write('config/coldstart.config.json', '{"defer":["y"]}');
  write('config/package.json', '{"type":"commonjs"}');
  write('config/main.js', '');
  write('cjs/node_modules/pkg/coldstart.config.json', '{"defer":["ignored"]}');
  write('cjs/node_modules/pkg/package.json', '{"type":"commonjs","coldstart":{"defer":["z"]}}');
  write('cjs/node_modules/pkg/bin/cli.js', '');
  const setEntry = entryScript(t, resetDeferConfig);
  const ask = (entry) => {
    setEntry(join(dir, entry));
    resetDeferConfig();
    return entryIsCommonJs();
  };
  assert.equal(ask('cjs/bin/main.js'), true);
  assert.deepEqual(programDeferConfig()?.defer, ['x']);
  assert.equal(ask('esm/main.js'), false);
  assert.equal(ask('none/main.js'), false, 'no "type": Node may find module syntax');
  assert.equal(ask('none/main.cjs'), true);
  assert.equal(ask('cjs/node_modules/loose.js'), false, "Node's scope lookup stops at node_modules");
  assert.equal(ask('config/main.js'), false, 'a coldstart.config.json ended the walk: the scope is unknown');
  assert.deepEqual(programDeferConfig()?.defer, ['y']);
  assert.equal(ask('missing.js'), false);
  // Inside node_modules only package.json is read: an installed bin's directories are not
  // probed for a coldstart.config.json.
  assert.equal(ask('cjs/node_modules/pkg/bin/cli.js'), true);
  assert.deepEqual(programDeferConfig()?.defer, ['z']);
});

test('stand-in specifiers and URLs: written and read back by hand, strange characters included', () => {
  assert.deepEqual(parseVirtual('coldstart-defer:12:3:@aws-sdk/client-s3'), { line: 12, column: 3, specifier: '@aws-sdk/client-s3', checked: false });
  assert.deepEqual(parseVirtual('coldstart-defer:1:1:x:y'), { line: 1, column: 1, specifier: 'x:y', checked: false });
  assert.deepEqual(parseVirtual('coldstart-defer:1:1:'), { line: 1, column: 1, specifier: '', checked: false });
  // Learned deferral's stand-ins: `=` says the target was checked for top-level await at pack time.
  assert.deepEqual(parseVirtual('coldstart-defer:4:2:=./x.mjs'), { line: 4, column: 2, specifier: './x.mjs', checked: true });
  // The prefix emitted now (not URL-shaped); the one above is what earlier packs and caches hold.
  assert.deepEqual(parseVirtual('#coldstart-defer:7:5:typescript'), { line: 7, column: 5, specifier: 'typescript', checked: false });
  assert.equal(readVirtualURL(virtualURL('file:///x.mjs', 'module', './x.mjs', 'file:///p.mjs', 4, 2, true))?.checked, true);
  for (const bad of ['x', 'coldstart-defer:', 'coldstart-defer:1:x', 'coldstart-defer::1:x', 'coldstart-defer:1a:1:x', 'coldstart-defer:1:-1:x']) {
    assert.equal(parseVirtual(bad), undefined, bad);
  }
  const odd = 'file:///a b/c&d=e/%41+ü#?.mjs';
  const url = virtualURL(odd, 'module', 'pkg/sub?x=1&y', 'file:///p/main.mjs', 7, 9);
  assert.ok(url.startsWith('coldstart-defer:?url='), url);
  assert.doesNotThrow(() => new URL(url), 'a valid URL');
  assert.deepEqual(readVirtualURL(url), { url: odd, format: 'module', specifier: 'pkg/sub?x=1&y', parent: 'file:///p/main.mjs', line: 7, column: 9, checked: false });
  assert.equal(readVirtualURL(virtualURL('file:///x.js', null, 'x', '', 1, 2))?.format, '');
  assert.equal(readVirtualURL('file:///x.js'), undefined);
  assert.equal(readVirtualURL('coldstart-defer:?url=%E0%A4%A'), undefined, 'malformed encoding is not ours');
  const mod = (u, format = '') => ({ url: u, format, specifier: 'x', parent: '', line: 1, column: 1 });
  assert.equal(mayBeAsyncModule(mod('file:///a/x.mjs')), true);
  assert.equal(mayBeAsyncModule(mod('file:///a/x.mts?v=1')), true);
  assert.equal(mayBeAsyncModule(mod('file:///a/x.js#.mjs')), false);
  assert.equal(mayBeAsyncModule(mod('file:///a/x.cjs')), false);
  assert.equal(mayBeAsyncModule(mod('file:///a/x.js', 'module')), true);
  assert.equal(mayBeAsyncModule(mod('node:fs')), false);
});

test('the resolve hook tells URL-like specifiers by a scan that agrees with the URL scheme grammar', () => {
  const scheme = /^[a-z][a-z0-9+.-]*:/i;
  const samples = ['node:fs', 'data:text/javascript,1', 'file:///x', 'C:\\x', 'a:', 'A1+.-:x', '1a:x', ':x', 'x', '', '@scope/pkg', 'pkg/sub:x', 'a b:x', 'é:x', 'Z:', 'a_b:x', '.:x', 'a[:x', 'a`:x', 'a@:x'];
  for (let c = 32; c < 127; c++) samples.push(`a${String.fromCharCode(c)}:`, `${String.fromCharCode(c)}a:`);
  for (const sample of samples) assert.equal(hasScheme(sample), scheme.test(sample), JSON.stringify(sample));
});

test('the import defer check agrees with /\\bimport\\s+defer\\b/', () => {
  const pattern = /\bimport\s+defer\b/;
  const samples = ['import defer * as ns from "x"', 'import\n\tdefer', 'import\u00a0defer', 'import\u2003defer x', 'import\ufeffdefer', 'importdefer', 'import deferred', 'reimport defer', '_import defer', 'import defer_', 'import defer$', '$import defer', 'import  import defer', 'import', 'defer', 'import defe', 'x import defer', 'import\u200bdefer', 'import defer', 'import\u0085defer', 'éimport defer', 'import defer9', 'Import defer'];
  for (const sample of samples) assert.equal(hasImportDefer(sample), pattern.test(sample), JSON.stringify(sample));
  for (let c = 0; c < 0x3010; c++) {
    const ch = String.fromCharCode(c);
    for (const sample of [`import${ch}defer`, `${ch}import defer`, `import defer${ch}`]) assert.equal(hasImportDefer(sample), pattern.test(sample), JSON.stringify(sample));
  }
  for (const ch of ['\ufeff', '\ufffe', '\u3000']) assert.equal(hasImportDefer(`import${ch}defer`), pattern.test(`import${ch}defer`));
});

test('a comment between the words counts as white space, for both forms and the fallback', () => {
  for (const sample of ['import /* lazy */ defer * as x from "y"', 'import/**/defer * as x from "y"', 'import // why\ndefer * as x from "y"']) {
    assert.equal(hasImportDefer(sample), true, sample);
    assert.equal(withoutDefer(sample).includes('defer'), false, sample);
    assert.equal(withoutDefer(sample).length, sample.length);
  }
  for (const sample of ['import /* x */ . /* y */ defer("z")', 'import.// c\ndefer("z")']) assert.equal(hasImportDeferCall(sample), true, sample);
  for (const sample of ['import /* defer */ x from "y"', 'import /* unterminated defer', 'import // defer\nx from "y"', 'import / defer']) assert.equal(hasImportDefer(sample), false, sample);
});

test('the import.defer() check agrees with /(?<![\\w$.])import\\s*\\.\\s*defer\\b/', () => {
  const pattern = /(?<![\w$.])import\s*\.\s*defer\b/;
  const samples = ['import.defer("x")', 'import . defer(x)', 'import\n.\ndefer', 'import.deferred', 'x.import.defer', '$import.defer', 'import.meta', 'import defer', 'importdefer', 'import.', 'import.defe', 'await import.defer(x)', 'import.\u00a0defer', 'import.defer$'];
  for (const sample of samples) assert.equal(hasImportDeferCall(sample), pattern.test(sample), JSON.stringify(sample));
  for (let c = 0; c < 0x3010; c++) {
    const ch = String.fromCharCode(c);
    for (const sample of [`import${ch}.defer`, `${ch}import.defer`, `import.defer${ch}`, `import.${ch}defer`]) assert.equal(hasImportDeferCall(sample), pattern.test(sample), JSON.stringify(sample));
  }
});

test('a file the transform cannot parse reaches Node without its defer keywords, every position kept', () => {
  const source = 'import defer * as x from "y"; const p = import . defer("z"); // import deferred; x.import.defer';
  const out = withoutDefer(source);
  assert.equal(out, 'import       * as x from "y"; const p = import        ("z"); // import deferred; x.import.defer');
  assert.equal(out.length, source.length);
  assert.equal(withoutDefer('nothing to do'), 'nothing to do');
});

test('the check on undecoded bytes never says no where the string check says yes', () => {
  const samples = ['import defer * as x from "y"', 'const p = import.defer("x")', 'import x from "lodash/fp"', 'nothing here', 'defer', 'é import defer', 'import\u00a0defer'];
  for (const sample of samples) {
    for (const defer of [[], ['lodash'], ['@aws-sdk/*']]) {
      if (mayNeedTransform(sample, defer)) assert.equal(bytesMayNeedTransform(new TextEncoder().encode(sample), defer), true, sample);
    }
  }
  assert.equal(bytesMayNeedTransform(new TextEncoder().encode('import x from "y";'), []), false);
  assert.equal(bytesMayNeedTransform(Buffer.from('require("@aws-sdk/client-s3")'), ['@aws-sdk/*']), true);
});

test('auto-defer: a rewritten call that opens a statement keeps its boundary in code without semicolons', () => {
  const code = run('import { a } from "x"\nconst s = [1, 2].join(" ")\na(s)\n');
  assert.match(code, /join\(" "\)\n;\(0, __coldstart_defer0\.a\)\(s\)/);
});
