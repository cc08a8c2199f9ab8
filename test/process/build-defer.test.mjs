// Lazy imports lowered at build time: the import-defer conformance cases on the output of each
// bundler plugin and of `coldstart build-defer`, run with plain node (no hooks); the demo CLI
// built each way against the eager one; stack traces through the chained source maps; and the
// build-defer command's manners.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { dist, installedTree, root, runCli, runNode, tempDir, writeTree } from '../helpers.mjs';
import { cases, program, show } from './defer-conformance-cases.mjs';

const requireRoot = createRequire(join(root, 'package.json'));
const { build } = await import(pathToFileURL(requireRoot.resolve('esbuild')).href);
const { rollup } = await import(pathToFileURL(requireRoot.resolve('rollup')).href);
const esbuildDefer = (await import(pathToFileURL(join(dist, 'build/esbuild.js')).href)).default;
const rollupDefer = (await import(pathToFileURL(join(dist, 'build/rollup.js')).href)).default;
const rolldown = (await import(pathToFileURL(requireRoot.resolve('rolldown')).href)).rolldown;
const vite = await import(pathToFileURL(requireRoot.resolve('vite')).href);
const tsc = join(dirname(requireRoot.resolve('typescript/package.json')), 'bin/tsc');

/** Runs a conformance program's build and compares every case with the proposal (and our documented deviations). */
function assertConforms(file, label) {
  const result = runNode([file]);
  assert.equal(result.code, 0, `${label}: ${result.stderr}`);
  const results = JSON.parse(result.stdout);
  cases.forEach((c, n) => {
    const over = { ...c.ours, ...c.atBuild };
    const want = { value: show(over.value !== undefined ? over.value : c.value), evaluated: over.evaluated ?? c.evaluated };
    const got = results[n];
    assert.equal(got.error, undefined, `${label}: ${c.name}: threw ${got.error}`);
    assert.deepEqual({ value: got.value, evaluated: got.evaluated }, want, `${label}: ${c.name}`);
  });
}

test('conformance: esbuild plugin, dependencies bundled (lazy module wrappers)', async (t) => {
  const dir = tempDir(t, 'coldstart-build-conf-');
  const main = program(join(dir, 'src'));
  await build({ entryPoints: [main], outfile: join(dir, 'out.mjs'), bundle: true, platform: 'node', format: 'esm', logLevel: 'silent', plugins: [esbuildDefer({ defer: [] })] });
  assert.doesNotMatch(readFileSync(join(dir, 'out.mjs'), 'utf8'), /import defer/);
  assertConforms(join(dir, 'out.mjs'), 'esbuild bundled');
});

test('conformance: esbuild plugin, dependencies external, and without bundling (inline helper)', async (t) => {
  const dir = tempDir(t, 'coldstart-build-conf-');
  const main = program(dir);
  await build({ entryPoints: [main], outfile: join(dir, 'external.mjs'), bundle: true, platform: 'node', format: 'esm', external: ['./dep-*', './setup.mjs'], logLevel: 'silent', plugins: [esbuildDefer({ defer: [] })] });
  assertConforms(join(dir, 'external.mjs'), 'esbuild external');
  await build({ entryPoints: [main], outfile: join(dir, 'single.mjs'), bundle: false, platform: 'node', format: 'esm', logLevel: 'silent', plugins: [esbuildDefer({ defer: [] })] });
  assert.match(readFileSync(join(dir, 'single.mjs'), 'utf8'), /function __coldstart_deferred\(/);
  assertConforms(join(dir, 'single.mjs'), 'esbuild transform only');
});

test('conformance: Rollup plugin, each deferred module its own chunk', async (t) => {
  const dir = tempDir(t, 'coldstart-build-conf-');
  const main = program(join(dir, 'src'));
  const bundle = await rollup({ input: main, plugins: [rollupDefer({ defer: [] })], onwarn() {} });
  await bundle.write({ dir: join(dir, 'out'), format: 'es', entryFileNames: 'main.mjs', chunkFileNames: '[name].mjs' });
  assert.ok(existsSync(join(dir, 'out/dep-0.mjs')), 'a deferred module is a chunk of its own');
  assertConforms(join(dir, 'out/main.mjs'), 'rollup');
});

test('conformance: build-defer over a folder of ES modules, rewritten in place', (t) => {
  const dir = tempDir(t, 'coldstart-build-conf-');
  const main = program(dir);
  const result = runCli(['build-defer', dir]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /main\.mjs: import defer \.\/dep-0\.mjs, .*; kept eager: \.\/dep-\d+\.mjs/);
  assertConforms(main, 'build-defer');
  const again = runCli(['build-defer', dir]);
  assert.match(again.stderr, /rewrote 0 of \d+ files/, 'a second run changes nothing');
});

test('conformance: Rolldown, and a Vite server build, with the same plugin object', async (t) => {
  const dir = tempDir(t, 'coldstart-build-conf-');
  const main = program(join(dir, 'src'));
  const bundle = await rolldown({ input: main, plugins: [rollupDefer({ defer: [] })], logLevel: 'silent' });
  await bundle.write({ dir: join(dir, 'rolldown'), format: 'es', entryFileNames: 'main.mjs', chunkFileNames: '[name].mjs' });
  assertConforms(join(dir, 'rolldown/main.mjs'), 'rolldown');
  await vite.build({ root: dir, configFile: false, logLevel: 'silent', plugins: [rollupDefer({ defer: [] })], build: { ssr: main, outDir: join(dir, 'vite'), rolldownOptions: { output: { entryFileNames: 'main.mjs', chunkFileNames: '[name].mjs' } } } });
  assertConforms(join(dir, 'vite/main.mjs'), 'vite');
});

/** A program with an external package, a bundled ES module and a bundled CommonJS module, all lazy. */
const mixedProgram = {
  'node_modules/heavy-pkg/package.json': '{"name":"heavy-pkg","main":"index.js"}',
  'node_modules/heavy-pkg/index.js': 'globalThis.loaded.push("pkg"); exports.name = "pkg";',
  'package.json': '{"type":"module"}',
  'src/local.mjs': 'globalThis.loaded.push("local");\nexport const name = "local";\n',
  'src/legacy.cjs': 'globalThis.loaded.push("legacy");\nmodule.exports = function legacy() {};\nmodule.exports.tag = "legacy-tag";\n',
  'src/main.mjs': [
    'import "./setup.mjs";',
    'import { name } from "heavy-pkg";',
    'import defer * as local from "./local.mjs";',
    'import defer * as legacy from "./legacy.cjs";',
    'console.log(JSON.stringify(globalThis.loaded));',
    'console.log(name, local.name, legacy.tag, typeof legacy.default, JSON.stringify(Object.keys(legacy)), JSON.stringify(globalThis.loaded));',
    '',
  ].join('\n'),
  'src/setup.mjs': 'globalThis.loaded = [];\n',
};
const mixedOutput = '[]\npkg local legacy-tag function ["default","tag"] ["pkg","local","legacy"]\n';

test('Rolldown and Vite, ES module and CommonJS output: external, bundled and CommonJS modules load at first use, named exports kept', async (t) => {
  const dir = tempDir(t, 'coldstart-build-mixed-');
  writeTree(dir, mixedProgram);
  const input = join(dir, 'src/main.mjs');
  for (const format of ['es', 'cjs']) {
    const ext = format === 'es' ? 'mjs' : 'cjs';
    const bundle = await rolldown({ input, external: ['heavy-pkg'], plugins: [rollupDefer({ defer: ['heavy-pkg'] })], logLevel: 'silent' });
    await bundle.write({ dir: join(dir, `rolldown-${format}`), format, entryFileNames: `main.${ext}`, chunkFileNames: `[name].${ext}` });
    const rolled = runNode([join(dir, `rolldown-${format}/main.${ext}`)]);
    assert.equal(rolled.stdout, mixedOutput, `rolldown ${format}: ${rolled.stderr}`);
    await vite.build({ root: dir, configFile: false, logLevel: 'silent', plugins: [rollupDefer({ defer: ['heavy-pkg'] })], build: { ssr: input, outDir: join(dir, `vite-${format}`), rolldownOptions: { output: { format, entryFileNames: `main.${ext}`, chunkFileNames: `[name].${ext}` } } } });
    const built = runNode([join(dir, `vite-${format}/main.${ext}`)]);
    assert.equal(built.stdout, mixedOutput, `vite ${format}: ${built.stderr}`);
  }
});

test('Rollup plugin, CommonJS output: external package and bundled module both load at first use', async (t) => {
  const dir = tempDir(t, 'coldstart-build-cjs-');
  writeTree(dir, {
    'node_modules/heavy-pkg/package.json': '{"name":"heavy-pkg","main":"index.js"}',
    'node_modules/heavy-pkg/index.js': 'globalThis.loaded.push("pkg"); exports.name = "pkg";',
    'src/local.mjs': 'globalThis.loaded.push("local");\nexport const name = "local";\n',
    'src/main.mjs': 'import "./setup.mjs";\nimport { name } from "heavy-pkg";\nimport defer * as local from "./local.mjs";\nconsole.log(JSON.stringify(globalThis.loaded));\nconsole.log(name, local.name, JSON.stringify(globalThis.loaded));\n',
    'src/setup.mjs': 'globalThis.loaded = [];\n',
  });
  // The usual rule of a Node CLI's config: every bare import stays external.
  const bundle = await rollup({ input: join(dir, 'src/main.mjs'), external: (id) => !id.startsWith('.') && !isAbsolute(id), plugins: [rollupDefer({ defer: ['heavy-pkg'] })], onwarn() {} });
  await bundle.write({ dir: join(dir, 'out'), format: 'cjs', entryFileNames: 'main.cjs', chunkFileNames: '[name].cjs' });
  const result = runNode([join(dir, 'out/main.cjs')]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, '[]\npkg local ["pkg","local"]\n');
});

test('demo CLI built with each plugin and with tsc + build-defer: same output as eager, no hooks, --help loads no heavy package', async (t) => {
  installedTree('examples/demo/node_modules/typescript/package.json');
  const demo = join(root, 'examples/demo');
  const out = join(demo, `built-test-${process.pid}`);
  t.after(() => rmSync(out, { recursive: true, force: true }));
  const { buildVariants } = await import(pathToFileURL(join(demo, 'build-variants.mjs')).href);
  const variants = await buildVariants(out);
  // An eager build of the same source, for the check that must fail.
  await build({ entryPoints: [join(demo, 'ts/src/main.ts')], outfile: join(out, 'eager/main.mjs'), bundle: true, platform: 'node', format: 'esm', packages: 'external', logLevel: 'silent' });
  const commands = [['--help'], ['versions'], ['transpile', 'samples/greet.ts'], ['lint', 'samples/bad.js'], ['s3-request', 'bucket', 'key.txt'], ['no-such-command']];
  for (const args of commands) {
    const eager = runNode(['eager.mjs', ...args], { cwd: demo });
    for (const variant of variants) {
      const built = runNode([variant.file, ...args], { cwd: demo });
      assert.equal(built.code, eager.code, `${variant.name} ${args.join(' ')}: ${built.stderr}`);
      assert.equal(built.stdout, eager.stdout, `${variant.name} ${args.join(' ')}`);
      assert.equal(built.stderr, eager.stderr, `${variant.name} ${args.join(' ')}`);
    }
  }
  const forbid = ['typescript', '@aws-sdk/client-s3', 'eslint'].flatMap((name) => ['--forbid', name]);
  for (const variant of variants) {
    const help = runCli(['check', ...forbid, '--', process.execPath, variant.file, '--help'], { cwd: demo });
    assert.equal(help.code, 0, `${variant.name}: ${help.stderr}`);
  }
  const eagerHelp = runCli(['check', '--forbid', 'typescript', '--', process.execPath, join(out, 'eager/main.mjs'), '--help'], { cwd: demo });
  assert.equal(eagerHelp.code, 3, 'the eager build loads typescript for --help');
});

const traceProject = {
  'package.json': '{"type":"module","coldstart":{"defer":["./report.js"]}}',
  'tsconfig.json': JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'esnext', moduleResolution: 'bundler', rootDir: 'src', outDir: 'out', sourceMap: true, strict: true, types: ['node'], typeRoots: [join(root, 'node_modules/@types')] }, include: ['src'] }),
  'src/main.ts': [
    "import defer * as heavy from './heavy.js';",
    "import { summary } from './report.js';",
    '',
    'const which: string = process.argv[2] ?? "";',
    'console.log("started");',
    'if (which === "report") console.log(summary());',
    'else heavy.fail(which);',
    '',
  ].join('\n'),
  'src/heavy.ts': [
    '// A module that is deferred: its errors must point here.',
    'interface Options { readonly reason: string }',
    'if (process.env.THROW_AT_LOAD === "1") {',
    '  throw new Error("heavy failed while loading");',
    '}',
    'export function fail(reason: string): never {',
    '  const options: Options = { reason };',
    '  throw new Error(`heavy failed: ${options.reason}`);',
    '}',
    '',
  ].join('\n'),
  'src/report.ts': 'export function summary(): string {\n  return "report ok";\n}\n',
};

test('stack traces of errors thrown in a deferred module name the TypeScript lines (esbuild, tsc + build-defer)', async (t) => {
  const dir = tempDir(t, 'coldstart-build-trace-');
  writeTree(dir, traceProject);
  await build({ entryPoints: [join(dir, 'src/main.ts')], outfile: join(dir, 'bundle/main.mjs'), bundle: true, platform: 'node', format: 'esm', sourcemap: true, logLevel: 'silent', plugins: [esbuildDefer({ cwd: dir })] });
  const compiled = runNode([tsc, '-p', join(dir, 'tsconfig.json')]);
  assert.equal(compiled.code, 0, compiled.stdout + compiled.stderr);
  const rewritten = runCli(['build-defer', join(dir, 'out')]);
  assert.equal(rewritten.code, 0, rewritten.stderr);
  assert.match(rewritten.stdout, /main\.js: import defer \.\/heavy\.js, \.\/report\.js/);
  const map = JSON.parse(readFileSync(join(dir, 'out/main.js.map'), 'utf8'));
  assert.deepEqual(map.sources, ['../src/main.ts'], 'the chained map keeps the compiler\'s relative sources');
  for (const file of [join(dir, 'bundle/main.mjs'), join(dir, 'out/main.js')]) {
    const report = runNode([file, 'report']);
    assert.equal(report.stdout, 'started\nreport ok\n', `${file}: ${report.stderr}`);
    const called = runNode(['--enable-source-maps', file, 'bad input']);
    assert.equal(called.code, 1);
    assert.match(called.stderr, /heavy failed: bad input/);
    assert.match(called.stderr, /src[\\/]heavy\.ts:8:\d+/, `${file}: the throw is on heavy.ts line 8:\n${called.stderr}`);
    assert.match(called.stderr, /src[\\/]main\.ts:7:\d+/, `${file}: the call is on main.ts line 7:\n${called.stderr}`);
    const loading = runNode(['--enable-source-maps', file, 'x'], { env: { THROW_AT_LOAD: '1' } });
    assert.match(loading.stdout, /^started\n/, 'heavy evaluates at first use, after main started');
    assert.match(loading.stderr, /heavy failed while loading/);
    assert.match(loading.stderr, /src[\\/]heavy\.ts:4:\d+/, `${file}:\n${loading.stderr}`);
  }
});

test('build-defer: wrong input gets one clear line and changes nothing', (t) => {
  const dir = tempDir(t, 'coldstart-build-cli-');
  const missing = runCli(['build-defer', join(dir, 'nope')]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /is not a directory/);
  assert.equal(runCli(['build-defer']).code, 2);
  assert.match(runCli(['build-defer', dir, '--frobnicate']).stderr, /unknown option '--frobnicate'/);
  writeTree(dir, { 'a.mjs': 'import { x } from "pkg";\nconsole.log(x);\n', 'broken.mjs': 'import { from "other";\n' });
  const before = readFileSync(join(dir, 'a.mjs'), 'utf8');
  const dry = runCli(['build-defer', dir, '--defer', 'pkg', '--dry-run', '--json']);
  const report = JSON.parse(dry.stdout);
  assert.deepEqual(report.files.map((f) => f.file), ['a.mjs']);
  assert.deepEqual(report.skipped.map((f) => f.file), [], 'broken.mjs has no configured import: not parsed at all');
  assert.equal(readFileSync(join(dir, 'a.mjs'), 'utf8'), before, '--dry-run writes nothing');
  writeFileSync(join(dir, 'broken.mjs'), 'import { from "pkg";\n// pkg\n');
  const failed = runCli(['build-defer', dir, '--defer', 'pkg']);
  assert.equal(failed.code, 1, 'a file that does not parse is reported');
  assert.match(failed.stderr, /broken\.mjs left as it was/);
  assert.equal(readFileSync(join(dir, 'broken.mjs'), 'utf8'), 'import { from "pkg";\n// pkg\n');
  assert.notEqual(readFileSync(join(dir, 'a.mjs'), 'utf8'), before, 'the other file is still rewritten');
});

test('import.defer() at build time: a literal specifier is lowered lazily, any other call (attributes, a computed specifier) becomes import()', async (t) => {
  const dir = tempDir(t, 'coldstart-build-dynamic-');
  writeTree(dir, {
    'main.mjs': [
      'globalThis.ev = [];',
      'const ns = await import.defer("./dep.mjs");',
      'const other = await import.defer("./other.mjs", { with: {} });',
      'console.log(JSON.stringify(globalThis.ev), Object.prototype.toString.call(ns), ns.x, JSON.stringify(globalThis.ev), other.y);',
      '',
    ].join('\n'),
    'dep.mjs': 'globalThis.ev.push("dep");\nexport const x = 1;\n',
    'other.mjs': 'globalThis.ev.push("other");\nexport const y = 2;\n',
  });
  const want = '["other"] [object Deferred Module] 1 ["other","dep"] 2\n';
  await build({ entryPoints: [join(dir, 'main.mjs')], outfile: join(dir, 'esbuild.mjs'), bundle: true, platform: 'node', format: 'esm', logLevel: 'silent', plugins: [esbuildDefer({ defer: [] })] });
  const bundle = await rollup({ input: join(dir, 'main.mjs'), plugins: [rollupDefer({ defer: [] })], onwarn() {} });
  await bundle.write({ dir: join(dir, 'rollup'), format: 'es', entryFileNames: 'main.mjs', chunkFileNames: '[name].mjs' });
  for (const file of [join(dir, 'esbuild.mjs'), join(dir, 'rollup/main.mjs')]) {
    const result = runNode([file]);
    assert.equal(result.code, 0, `${file}: ${result.stderr}`);
    assert.equal(result.stdout, want, file);
    assert.doesNotMatch(readFileSync(file, 'utf8'), /import\.defer/);
  }
  const folder = runCli(['build-defer', dir]);
  assert.equal(folder.code, 0, folder.stderr);
  const result = runNode([join(dir, 'main.mjs')]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, want);
});
