// lazy(), lazyNamed(), lazyModules() in real processes on the built package: what forces a load,
// that nothing loads before, errors, the eager switch and the records.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { dist, fixtures, runNode, tempDir } from '../helpers.mjs';

const api = pathToFileURL(join(dist, 'index.js')).href;
const apiCjs = join(dist, 'index.cjs');

/** Writes `code` as `name` into a temp dir holding copies of the lazy fixtures; runs it. */
function runScript(t, name, code, env = {}) {
  const dir = tempDir(t);
  cpSync(join(fixtures, 'lazy'), dir, { recursive: true });
  writeFileSync(join(dir, name), code);
  return { dir, ...runNode([join(dir, name)], { cwd: dir, env }) };
}

function ok(result) {
  assert.equal(result.code, 0, `exit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  return JSON.parse(result.stdout.trim().split('\n').at(-1));
}

test('declaring does not evaluate, in ESM and CJS parents', (t) => {
  const esm = runScript(t, 'main.mjs', `
    import { lazy, lazyNamed, lazyModules, lazyRecords } from '${api}';
    const a = lazy('./throws-on-eval.cjs', import.meta.url);
    const b = lazy('./throws-on-eval.mjs', import.meta.url);
    const { x } = lazyNamed('./throws-on-eval.cjs', import.meta.url, ['x']);
    const m = lazyModules(import.meta.url, { t: './throws-on-eval.mjs' });
    console.log(JSON.stringify(lazyRecords().map((r) => r.status)));
  `);
  assert.deepEqual(ok(esm), ['pending', 'pending', 'pending', 'pending']);
  const cjs = runScript(t, 'main.cjs', `
    const { lazy, lazyRecords } = require(${JSON.stringify(apiCjs)});
    const a = lazy('./throws-on-eval.cjs', __filename);
    console.log(JSON.stringify(lazyRecords().map((r) => [r.status, r.parent === __filename])));
  `);
  assert.deepEqual(ok(cjs), [['pending', true]]);
});

for (const [use, expression, expected] of [
  ['a property read', 'mod.answer', 42],
  ['`in`', "'add' in mod", true],
  ['Object.keys', 'Object.keys(mod).join()', 'add,Widget,answer,nested'],
  ['a method call', 'mod.add(2, 3)', 5],
  ['new on an export', 'new mod.Widget(7).size', 7],
  ['instanceof against a lazy named class', '(() => { const w = new Widget(1); return w instanceof Widget; })()', true],
  ['spreading', '({ ...mod }).answer', 42],
  ['JSON.stringify', 'JSON.stringify(mod.nested)', '{"deep":true}'],
]) {
  test(`${use} loads the module exactly once, on first use`, (t) => {
    const result = runScript(t, 'main.mjs', `
      import { lazy, lazyNamed } from '${api}';
      const mod = lazy('./counted.cjs', import.meta.url);
      const { Widget } = lazyNamed('./counted.cjs', import.meta.url, ['Widget']);
      const before = globalThis.countedLoads ?? 0;
      const value = ${expression};
      mod.answer; mod.add(1, 1); 'x' in mod;
      console.log(JSON.stringify({ before, value, after: globalThis.countedLoads }));
    `);
    assert.deepEqual(ok(result), { before: 0, value: expected, after: 1 });
  });
}

test('a callable module: calls, new on its members, typeof', (t) => {
  const result = runScript(t, 'main.mjs', `
    import { lazy, isLazy, unwrap } from '${api}';
    const greet = lazy('./callable.cjs', import.meta.url);
    const kind = typeof greet;
    const before = globalThis.callableLoads ?? 0;
    const said = greet('ada');
    const p = new greet.Person('bob');
    console.log(JSON.stringify({ kind, before, said, name: p.name, loads: globalThis.callableLoads,
      isLazy: isLazy(greet), realIsFn: typeof unwrap(greet) === 'function', realNotLazy: !isLazy(unwrap(greet)) }));
  `);
  assert.deepEqual(ok(result), { kind: 'function', before: 0, said: 'hello ada', name: 'bob', loads: 1, isLazy: true, realIsFn: true, realNotLazy: true });
});

test('ES module targets load through require(esm); named bindings for a default class and a function', (t) => {
  const result = runScript(t, 'main.cjs', `
    const { lazy, lazyNamed } = require(${JSON.stringify(apiCjs)});
    const ns = lazy('./esm-target.mjs', __filename);
    const { default: Shape, double } = lazyNamed('./esm-target.mjs', __filename, ['default', 'double']);
    const before = globalThis.esmLoads ?? 0;
    const s = new Shape();
    const out = { before, area: s.area(), isShape: s instanceof Shape, doubled: double(21), loads: globalThis.esmLoads };
    ns.bump(); ns.bump();
    out.live = ns.counter;
    console.log(JSON.stringify(out));
  `);
  assert.deepEqual(ok(result), { before: 0, area: 0, isShape: true, doubled: 42, loads: 1, live: 2 });
});

test('lazyModules getters replace themselves with plain data properties', (t) => {
  const result = runScript(t, 'main.mjs', `
    import { lazyModules } from '${api}';
    const m = lazyModules(import.meta.url, { c: './counted.cjs' });
    const before = typeof Object.getOwnPropertyDescriptor(m, 'c').get;
    const v = m.c.answer;
    const d = Object.getOwnPropertyDescriptor(m, 'c');
    console.log(JSON.stringify({ before, v, data: 'value' in d, loads: globalThis.countedLoads }));
  `);
  assert.deepEqual(ok(result), { before: 'function', v: 42, data: true, loads: 1 });
});

test('a missing module fails at first use, naming declaration and first use, cause kept, not retried', (t) => {
  const result = runScript(t, 'main.mjs', [
    `import { lazy, lazyRecords } from '${api}';`,
    `const gone = lazy('./not-there.cjs', import.meta.url);`,
    `let first, second;`,
    `try { gone.x; } catch (e) { first = e; }`,
    `try { gone.y; } catch (e) { second = e; }`,
    `console.log(JSON.stringify({ name: first.name, code: first.code, message: first.message, cause: first.cause.code,`,
    `  same: first === second, record: lazyRecords()[0] }));`,
  ].join('\n'));
  const out = ok(result);
  const file = join(result.dir, 'main.mjs');
  assert.equal(out.name, 'LazyLoadError');
  assert.equal(out.code, 'ERR_COLDSTART_LAZY_LOAD');
  assert.equal(out.cause, 'MODULE_NOT_FOUND');
  assert.match(out.message, /^lazy module '\.\/not-there\.cjs' could not be loaded: MODULE_NOT_FOUND: Cannot find module/);
  assert.ok(out.message.includes(`declared at ${file}:2:14`), out.message);
  assert.ok(out.message.includes(`first used at ${file}:4:12`), out.message);
  assert.equal(out.same, true);
  assert.equal(out.record.status, 'failed');
  assert.equal(out.record.trigger, 'get "x"');
});

test('a module that throws while evaluating: cause is the original error, evaluated once', (t) => {
  const result = runScript(t, 'main.mjs', `
    import { lazy } from '${api}';
    const bad = lazy('./throws-on-eval.cjs', import.meta.url);
    const errors = [];
    for (let i = 0; i < 3; i++) { try { bad(); } catch (e) { errors.push(e); } }
    console.log(JSON.stringify({ n: errors.length, cause: errors[0].cause.message, same: errors[0] === errors[2] }));
  `);
  assert.deepEqual(ok(result), { n: 3, cause: 'throws-on-eval.cjs was evaluated', same: true });
});

test('a module that needs top-level await gets an error that says so and what to do', (t) => {
  const result = runScript(t, 'main.mjs', `
    import { lazy } from '${api}';
    const tla = lazy('./tla-target.mjs', import.meta.url);
    try { tla.ready; } catch (e) { console.log(JSON.stringify({ code: e.cause.code, message: e.message })); }
  `);
  const out = ok(result);
  assert.equal(out.code, 'ERR_COLDSTART_LAZY_TOP_LEVEL_AWAIT');
  assert.match(out.message, /uses top-level await/);
  assert.match(out.message, /await import\('\.\/tla-target\.mjs'\)/);
});

test('specifiers resolve against the declaring file, not the working directory', (t) => {
  const dir = tempDir(t);
  cpSync(join(fixtures, 'lazy'), join(dir, 'lib'), { recursive: true });
  writeFileSync(join(dir, 'lib', 'decl.mjs'), `import { lazy } from '${api}';\nexport const c = lazy('./counted.cjs', import.meta.url);\n`);
  writeFileSync(join(dir, 'main.mjs'), `import { c } from './lib/decl.mjs';\nconsole.log(JSON.stringify(c.answer));\n`);
  const result = runNode([join(dir, 'main.mjs')], { cwd: '/' });
  assert.equal(ok(result), 42);
});

test('COLDSTART_EAGER=1 loads at declaration, so import errors surface early', (t) => {
  const counted = runScript(t, 'main.mjs', `
    import { lazy, lazyRecords } from '${api}';
    const mod = lazy('./counted.cjs', import.meta.url);
    console.log(JSON.stringify({ loads: globalThis.countedLoads, trigger: lazyRecords()[0].trigger }));
  `, { COLDSTART_EAGER: '1' });
  assert.deepEqual(ok(counted), { loads: 1, trigger: 'eager' });
  const failing = runScript(t, 'main.mjs', `
    import { lazy } from '${api}';
    const mod = lazy('./throws-on-eval.cjs', import.meta.url);
    console.log('"unreachable"');
  `, { COLDSTART_EAGER: '1' });
  assert.notEqual(failing.code, 0);
  assert.match(failing.stderr, /LazyLoadError: lazy module '\.\/throws-on-eval\.cjs' could not be loaded/);
});

test('records say when each module loaded and which call site forced it', (t) => {
  const result = runScript(t, 'main.mjs', [
    `import { lazy, lazyRecords, lazyRecordOf } from '${api}';`,
    `const a = lazy('./counted.cjs', import.meta.url);`,
    `const b = lazy('./callable.cjs', import.meta.url);`,
    `a.add(1, 2);`,
    `console.log(JSON.stringify({ all: lazyRecords(), ofB: lazyRecordOf(b), ofPlain: lazyRecordOf({}) ?? null }));`,
  ].join('\n'));
  const out = ok(result);
  const file = join(result.dir, 'main.mjs');
  const [a, b] = out.all;
  assert.equal(a.status, 'loaded');
  assert.equal(a.trigger, 'get "add"');
  assert.equal(a.declaredAt, `${file}:2:11`);
  assert.equal(a.firstUseAt, `${file}:4:3`);
  assert.equal(a.resolved, join(result.dir, 'counted.cjs'));
  assert.equal(typeof a.loadStartMs, 'number');
  assert.ok(a.loadDurationMs >= 0);
  assert.equal(b.status, 'pending');
  assert.equal(out.ofB.specifier, './callable.cjs');
  assert.equal(out.ofPlain, null);
});

test('bad arguments are rejected at declaration with a clear TypeError', (t) => {
  const result = runScript(t, 'main.mjs', `
    import { lazy } from '${api}';
    const out = [];
    try { lazy('', import.meta.url); } catch (e) { out.push(e.message); }
    try { lazy('x'); } catch (e) { out.push(e.message); }
    console.log(JSON.stringify(out));
  `);
  assert.deepEqual(ok(result), [
    'lazy(): the specifier must be a non-empty string, got ',
    "lazy('x', parent): parent must be import.meta.url or __filename, got undefined",
  ]);
});
