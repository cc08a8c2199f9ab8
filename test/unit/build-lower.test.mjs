// Build-time lowering as a pure function: a table of (case, source, what the output must contain),
// then the properties every output keeps: line numbers, idempotence, and code that runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { core } from '../helpers.mjs';
// The helper is read from the built runtime (dist/build/runtime.js): taken from dist.
import { helperInline } from '../../dist/build/helper.js';

const { lowerDefer, planLowering } = await import(core('build/lower'));

const external = (site) => (site.kind === 'require' ? `() => (${site.init})` : `__coldstart_load(import.meta.url, import.meta.resolve(${JSON.stringify(site.specifier)}))`);

function lower(source, { format = 'module', defer = ['x'], loadOf = external, helper = { from: 'coldstart:defer-runtime' }, file = '/app/main.mjs' } = {}) {
  const plan = planLowering(source, file, format, defer);
  return plan === undefined ? undefined : lowerDefer(source, file, plan, { loadOf, helper });
}

const cases = [
  ['import defer', 'import defer * as ns from "y";\nns.a;', ['const ns = __coldstart_deferred(__coldstart_load(import.meta.url, import.meta.resolve("y")));', '\nns.a;']],
  ['named import reads through the namespace', 'import { a } from "x";\na();', ['const __coldstart_defer0 = __coldstart_deferred(', '(0, __coldstart_defer0.a)();']],
  ['default import', 'import d from "x";\nd;', ['__coldstart_defer0.default;']],
  ['namespace import keeps its name', 'import * as m from "x";\nm.a;', ['const m = __coldstart_deferred(', 'm.a;']],
  ['the helper is imported once', 'import { a } from "x";\nimport { b } from "x/sub";\na; b;', ['import { __coldstart_deferred, __coldstart_external, __coldstart_load, __coldstart_lazyRequire } from "coldstart:defer-runtime";']],
  ['a hoisted use before the import line finds the stand-in', 'f();\nfunction f() { return a; }\nimport { a } from "x";', ['const __coldstart_defer0', 'f();']],
  ['an exported binding stays eager', 'import { a } from "x";\nexport { a };', undefined],
  ['an unlisted module stays eager', 'import { a } from "z";\na;', undefined],
  ['CommonJS require', '"use strict";\nconst m = require("x");\nm.go();', ['"use strict";const { __coldstart_deferred, __coldstart_external, __coldstart_load, __coldstart_lazyRequire } = require("coldstart:defer-runtime"); ', 'const __coldstart_defer0 = __coldstart_lazyRequire(() => (require("x")));', '__coldstart_defer0.m.go();'], { format: 'commonjs' }],
  ['"use strict" with no semicolon gets one before the helper', '"use strict"\nconst m = require("x");\nm.go();', ['"use strict";const { __coldstart_deferred'], { format: 'commonjs' }],
  ["tsc's interop wrapper is kept inside the lazy load", 'const ts = __importStar(require("x"));\nts.go();', ['__coldstart_lazyRequire(() => (__importStar(require("x"))))', '__coldstart_defer0.m.go();'], { format: 'commonjs' }],
];

for (const [name, source, expected, options] of cases) {
  test(`lower: ${name}`, () => {
    const result = lower(source, options);
    if (expected === undefined) {
      assert.equal(result?.deferred.length ?? 0, 0, result?.code);
      return;
    }
    for (const fragment of expected) assert.ok(result.code.includes(fragment), `missing ${JSON.stringify(fragment)} in:\n${result.code}`);
  });
}

test('lower: a module the caller keeps eager loses only the defer keyword', () => {
  const result = lower('import defer * as ns from "./tla.mjs";\nns.x;', { loadOf: () => undefined });
  assert.deepEqual(result.kept, ['./tla.mjs']);
  assert.equal(result.code, 'import * as ns from "./tla.mjs";\nns.x;');
});

test('lower: every line keeps its number, a hashbang stays first, the map names the source', () => {
  const source = '#!/usr/bin/env node\n// comment\nimport {\n  a,\n} from "x";\nconsole.log(a);\nthrow new Error("line 7");\n';
  const result = lower(source);
  const lines = result.code.split('\n');
  assert.equal(lines[0], '#!/usr/bin/env node');
  assert.equal(lines[5], 'console.log(__coldstart_defer0.a);');
  assert.equal(lines[6], 'throw new Error("line 7");');
  assert.deepEqual(JSON.parse(result.map).sources, ['/app/main.mjs']);
});

test('lower: the inline helper goes after the code, before a source map comment that stays last', () => {
  const source = 'import defer * as ns from "y";\nns.a;\n//# sourceMappingURL=main.js.map\n';
  const result = lower(source, { helper: { inline: helperInline() } });
  assert.ok(result.code.trimEnd().endsWith('//# sourceMappingURL=main.js.map'), result.code.slice(-200));
  assert.match(result.code, /\nfunction __coldstart_deferred\(load, commonjs\)/);
  assert.doesNotMatch(result.code, /^export /m);
});

test('lower: a second pass finds nothing to do', () => {
  const once = lower('import { a } from "x";\nimport defer * as y from "y";\na(y.b);', { helper: { inline: helperInline() } });
  assert.equal(lower(once.code, { helper: { inline: helperInline() } }), undefined);
  const cjs = lower('const m = require("x");\nm();', { format: 'commonjs', helper: { inline: helperInline() } });
  assert.equal(lower(cjs.code, { format: 'commonjs', helper: { inline: helperInline() } }), undefined);
});

test('lower: TypeScript keeps its types and drops type-only imports from the plan', () => {
  const result = lower('import type { T } from "x";\nimport { a, type B } from "x";\nconst v: B = a as T;', { file: '/app/main.ts' });
  assert.ok(result.code.includes('const v: B = __coldstart_defer0.a as T;'), result.code);
  assert.ok(result.code.includes('import type { T } from "x";'), result.code);
});

test('lower: a rewritten call that opens a statement keeps its boundary in code without semicolons', () => {
  const out = lower('import { a } from "x"\nconst s = [1, 2].join(" ")\na(s)\n');
  assert.match(out.code, /join\(" "\)\n;\(0, /);
});
