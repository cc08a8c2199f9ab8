// The coldstart command and the published package shape, from real processes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bin, fixtures, root, runCli, runNode, tempDir } from '../helpers.mjs';

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

test('--help lists the commands and exits 0; no arguments prints usage and exits 2', () => {
  const help = runCli(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^coldstart \d+\.\d+\.\d+: make Node\.js programs start fast/);
  assert.match(help.stdout, /\n  lazy +list the lazy\(\) declarations/);
  assert.equal(help.stderr, '');
  const bare = runCli([]);
  assert.equal(bare.code, 2);
  assert.equal(bare.stdout, help.stdout);
});

test('--version prints the package version', () => {
  const result = runCli(['--version']);
  assert.deepEqual([result.code, result.stdout], [0, `${pkg.version}\n`]);
});

test('an unknown command or flag exits 2 with one line and a hint', () => {
  const unknown = runCli(['frobnicate']);
  assert.equal(unknown.code, 2);
  assert.equal(unknown.stderr, "coldstart: unknown command 'frobnicate' (run `coldstart --help` for the list)\n");
  const flag = runCli(['--frobnicate']);
  assert.equal(flag.code, 2);
  assert.match(flag.stderr, /options go after a command/);
  const badOption = runCli(['lazy', '--nope', '--', 'node', '-e', '0']);
  assert.equal(badOption.code, 2);
  assert.match(badOption.stderr, /^coldstart lazy: unknown option '--nope'\n/);
  // Two lines: the error, then the synopsis and where the rest is (not the whole --help page).
  assert.match(badOption.stderr, /^.*\nhint: coldstart lazy .*\(coldstart lazy --help for more\)\n$/);
  const noCommand = runCli(['lazy']);
  assert.equal(noCommand.code, 2);
  assert.match(noCommand.stderr, /no command given after `--`/);
  const missing = runCli(['lazy', '--', 'no-such-program-coldstart']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /command not found: no-such-program-coldstart/);
});

test('--help loads the CLI front only: no subcommand module', (t) => {
  const dir = tempDir(t);
  const counter = join(dir, 'count.cjs');
  writeFileSync(counter, `process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(join(dir, 'out.json'))}, JSON.stringify(Object.keys(require.cache))));`);
  const result = runNode(['--require', counter, bin, '--help']);
  assert.equal(result.code, 0);
  const loaded = JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8')).filter((f) => f !== counter);
  assert.deepEqual(loaded.map((f) => f.slice(root.length + 1)).sort(), ['bin/coldstart.cjs', 'dist/cli/main.cjs']);
});

test('coldstart lazy passes the command through and reports its lazy modules on stderr', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'app.mjs'), [
    `import { lazy } from ${JSON.stringify(join(root, 'dist/index.js'))};`,
    `const used = lazy('./used.cjs', import.meta.url);`,
    `const unused = lazy('./unused.cjs', import.meta.url);`,
    `console.log(used.value);`,
    `process.exitCode = 3;`,
  ].join('\n'));
  writeFileSync(join(dir, 'used.cjs'), 'module.exports = { value: "from used" };');
  writeFileSync(join(dir, 'unused.cjs'), 'throw new Error("must not load");');
  const result = runCli(['lazy', '--', process.execPath, join(dir, 'app.mjs')], { cwd: dir });
  assert.equal(result.code, 3);
  assert.equal(result.stdout, 'from used\n');
  assert.match(result.stderr, /\.\/used\.cjs {2}loaded in [\d.]+ ms, by get "value" at .*app\.mjs:4:18/);
  assert.match(result.stderr, /\.\/unused\.cjs {2}not loaded \(declared at .*app\.mjs:3:16\)/);
  const json = runCli(['lazy', '--json', '--', process.execPath, join(dir, 'app.mjs')], { cwd: dir });
  const [proc] = JSON.parse(json.stderr);
  assert.deepEqual(proc.records.map((r) => r.status), ['loaded', 'pending']);
});

test('the package resolves by name: import, require, --import and --require of coldstart/register', (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(root, join(dir, 'node_modules', 'coldstart'), 'dir');
  writeFileSync(join(dir, 'dep.cjs'), 'module.exports = { n: 7 };');
  writeFileSync(join(dir, 'a.mjs'), "import { lazy } from 'coldstart';\nconsole.log(lazy('./dep.cjs', import.meta.url).n);\n");
  writeFileSync(join(dir, 'b.cjs'), "const { lazy } = require('coldstart');\nconsole.log(lazy('./dep.cjs', __filename).n);\n");
  for (const args of [['a.mjs'], ['b.cjs'], ['--import', 'coldstart/register', 'a.mjs'], ['--require', 'coldstart/register', 'b.cjs']]) {
    const result = runNode(args, { cwd: dir });
    assert.deepEqual([result.code, result.stdout, result.stderr], [0, '7\n', ''], args.join(' '));
  }
  // Both entries share one store: a record made through require() is visible through import.
  writeFileSync(join(dir, 'c.mjs'), "import { createRequire } from 'node:module';\nimport { lazyRecords } from 'coldstart';\ncreateRequire(import.meta.url)('./b.cjs');\nconsole.log(lazyRecords().length);\n");
  assert.equal(runNode(['c.mjs'], { cwd: dir }).stdout, '7\n1\n');
});

test("a module's own TypeScript types reach lazy() callers (tsc)", (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(root, join(dir, 'node_modules', 'coldstart'), 'dir');
  for (const name of ['heavy.ts', 'use.ts', 'misuse.ts']) writeFileSync(join(dir, name), readFileSync(join(fixtures, 'types', name)));
  const tsconfig = (files) => JSON.stringify({
    compilerOptions: { module: 'nodenext', target: 'es2022', strict: true, noEmit: true, skipLibCheck: true, types: [] },
    files,
  });
  const tsc = join(root, 'node_modules/typescript/bin/tsc');
  writeFileSync(join(dir, 'tsconfig.json'), tsconfig(['use.ts']));
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  const good = runNode([tsc, '-p', dir], { cwd: dir });
  assert.equal(good.code, 0, good.stdout + good.stderr);
  writeFileSync(join(dir, 'tsconfig.json'), tsconfig(['misuse.ts']));
  const bad = runNode([tsc, '-p', dir], { cwd: dir });
  assert.notEqual(bad.code, 0);
  assert.match(bad.stdout, /misuse\.ts\(5,7\): error TS2339: Property 'notThere' does not exist/);
  // lazyNamed() is narrowed to the names listed; forgetting them binds nothing, with a message.
  writeFileSync(join(dir, 'unlisted.ts'), readFileSync(join(fixtures, 'types', 'unlisted.ts')));
  writeFileSync(join(dir, 'tsconfig.json'), tsconfig(['unlisted.ts']));
  const unlisted = runNode([tsc, '-p', dir], { cwd: dir });
  assert.notEqual(unlisted.code, 0);
  assert.match(unlisted.stdout, /unlisted\.ts\(5,9\): error TS2339: Property 'parse' does not exist on type 'Pick</);
  assert.match(unlisted.stdout, /unlisted\.ts\(6,9\): error TS2339: Property 'Parser' does not exist on type '\{ .lazyNamed: give the names as the second type argument/);
});

test('TypeScript projects of every module setting compile against the package types (tsc)', (t) => {
  const tsc = join(root, 'node_modules/typescript/bin/tsc');
  const settings = [
    // [module, moduleResolution, package type, file]
    ['node16', 'node16', 'commonjs', 'use-cjs.ts'],
    ['nodenext', 'nodenext', 'commonjs', 'use-cjs.ts'],
    ['node16', 'node16', 'module', 'use.ts'],
    ['nodenext', 'nodenext', 'module', 'use.ts'],
    ['commonjs', undefined, 'commonjs', 'use-cjs.ts'],
    ['esnext', 'bundler', 'module', 'use.ts'],
    ['preserve', 'bundler', 'module', 'use.ts'],
  ];
  for (const [module, moduleResolution, type, file] of settings) {
    const dir = tempDir(t);
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(root, join(dir, 'node_modules', 'coldstart'), 'dir');
    for (const name of ['heavy.ts', file]) writeFileSync(join(dir, name), readFileSync(join(fixtures, 'types', name)));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ type }));
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { module, moduleResolution, target: 'es2022', strict: true, noEmit: true, types: [] },
      files: [file],
    }));
    const result = runNode([tsc, '-p', dir], { cwd: dir });
    assert.equal(result.code, 0, `${module}/${moduleResolution ?? 'default'}, "type": "${type}": ${result.stdout}${result.stderr}`);
  }
});

test('the published package: a LICENSE, no source maps naming unshipped sources, types for both conditions', () => {
  const packed = spawnSync('npm', ['pack', '--dry-run', '--ignore-scripts', '--json'], { cwd: root, encoding: 'utf8' });
  assert.equal(packed.status, 0, packed.stderr);
  const files = JSON.parse(packed.stdout)[0].files.map((f) => f.path);
  assert.ok(files.includes('LICENSE'));
  assert.deepEqual(files.filter((f) => f.endsWith('.map')), []);
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  for (const [entry, conditions] of Object.entries(pkg.exports)) {
    if (typeof conditions === 'string') continue;
    for (const [condition, target] of Object.entries(conditions)) {
      for (const file of [target.types, target.default]) assert.ok(files.includes(file.slice(2)), `${entry} ${condition}: ${file} is shipped`);
    }
  }
});

test('the bundler plugins resolve by name, from import and require, and give plugins', (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(root, join(dir, 'node_modules', 'coldstart'), 'dir');
  writeFileSync(join(dir, 'a.mjs'), "import esbuild from 'coldstart/esbuild';\nimport { coldstartDefer } from 'coldstart/rollup';\nconsole.log(esbuild({ defer: [] }).name, typeof coldstartDefer({ defer: [] }).transform);\n");
  writeFileSync(join(dir, 'b.cjs'), "const { coldstartDefer } = require('coldstart/esbuild');\nconsole.log(typeof coldstartDefer({ defer: [] }).setup);\n");
  assert.deepEqual([runNode(['a.mjs'], { cwd: dir }).stdout, runNode(['b.cjs'], { cwd: dir }).stdout], ['coldstart-defer function\n', 'function\n']);
});

test("the plugins' types are the bundlers' own Plugin types (tsc)", (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'node_modules'));
  for (const [name, target] of [['coldstart', root], ['rollup', join(root, 'node_modules/rollup')], ['esbuild', join(root, 'node_modules/esbuild')]]) symlinkSync(target, join(dir, 'node_modules', name), 'dir');
  writeFileSync(join(dir, 'config.ts'), [
    "import type { Plugin as RollupPlugin } from 'rollup';",
    "import type { Plugin as EsbuildPlugin } from 'esbuild';",
    "import rollupDefer from 'coldstart/rollup';",
    "import { coldstartDefer } from 'coldstart/esbuild';",
    "export const plugins: [RollupPlugin, EsbuildPlugin] = [rollupDefer({ defer: ['typescript'] }), coldstartDefer({ cwd: '.' })];",
    '',
  ].join('\n'));
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'nodenext', target: 'es2022', strict: true, noEmit: true, skipLibCheck: true, types: [] }, files: ['config.ts'] }));
  const result = runNode([join(root, 'node_modules/typescript/bin/tsc'), '-p', dir], { cwd: dir });
  assert.equal(result.code, 0, result.stdout + result.stderr);
});
