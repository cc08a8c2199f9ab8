// The profiler on real packages: the demo CLI (typescript, @aws-sdk/client-s3, eslint) and
// `eslint --version` from the real fixture tree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { installedTree, root, runCli, tempDir } from '../helpers.mjs';

const demo = join(root, 'examples/demo');
const needDemo = () => installedTree('examples/demo/node_modules/typescript/package.json');
const realTree = join(root, 'test/fixtures/real-tree');
const heavy = ['typescript', '@aws-sdk/client-s3', 'eslint'];

test('eager demo: the three heavy packages are defer candidates, and the printed change works', (t) => {
  needDemo();
  const dir = realpathSync(tempDir(t, 'coldstart-profile-demo-'));
  const jsonOut = join(dir, 'report.json');
  const eager = runCli(['profile', '--json', jsonOut, '--', process.execPath, 'eager.mjs', '--help'], { cwd: demo });
  assert.equal(eager.code, 0, eager.stderr);
  assert.match(eager.stdout, /Usage: demo-cli/);
  const report = JSON.parse(readFileSync(jsonOut, 'utf8'));
  const names = report.deferCandidates.map((c) => c.package);
  for (const name of heavy) assert.ok(names.includes(name), `${name} in ${names.join(', ')}`);

  // Apply exactly what was printed to a copy of the CLI, then check that --help loads none of them.
  for (const name of ['eager.mjs', 'cli-body.mjs']) copyFileSync(join(demo, name), join(dir, name));
  symlinkSync(join(demo, 'node_modules'), join(dir, 'node_modules'), 'dir');
  const lines = readFileSync(join(dir, 'eager.mjs'), 'utf8').split('\n');
  for (const c of report.deferCandidates.filter((c) => heavy.includes(c.package))) {
    assert.equal(c.importer, join(demo, 'eager.mjs'));
    assert.equal(lines[c.line - 1], c.statement);
    lines[c.line - 1] = c.replacement;
  }
  lines.splice(2, 0, "import { lazy, lazyNamed } from 'coldstart';");
  writeFileSync(join(dir, 'eager.mjs'), lines.join('\n'));
  const forbid = heavy.flatMap((name) => ['--forbid', name]);
  const fixed = runCli(['check', ...forbid, '--', process.execPath, 'eager.mjs', '--help'], { cwd: dir });
  assert.equal(fixed.code, 0, fixed.stderr);
  assert.equal(fixed.stdout, eager.stdout);
  const versions = runCli(['check', '--forbid', 'typescript', '--', process.execPath, 'eager.mjs', 'versions'], { cwd: dir });
  assert.equal(versions.code, 3, 'the lazy modules still load when used');
  assert.match(versions.stdout, /^typescript \d/);
});

test('check fails the eager demo --help with --forbid typescript and passes the lazy one', () => {
  needDemo();
  const eager = runCli(['check', '--forbid', 'typescript', '--', process.execPath, 'eager.mjs', '--help'], { cwd: demo });
  assert.equal(eager.code, 3, eager.stderr);
  assert.match(eager.stderr, /coldstart check: FAIL forbid: 'typescript' was loaded \(process \d+\): eager\.mjs → typescript\/lib\/typescript\.js/);
  assert.match(eager.stdout, /Usage: demo-cli/, 'the command output passes through');
  const lazy = runCli(['check', '--forbid', 'typescript', '--max-modules', '20', '--', process.execPath, 'lazy.mjs', '--help'], { cwd: demo });
  assert.equal(lazy.code, 0, lazy.stderr);
  assert.match(lazy.stderr, /coldstart check: ok \(\d+ modules/);
});

test('lazy demo: the lazy modules section says what forced each load', () => {
  needDemo();
  const r = runCli(['profile', '--no-coverage', '--', process.execPath, 'lazy.mjs', 'versions'], { cwd: demo });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /lazy modules of process \d+:/);
  assert.match(r.stderr, /typescript {2}loaded in [\d.]+ ms, by get "version" at .*cli-body\.mjs:\d+:\d+/);
  assert.match(r.stderr, /@aws-sdk\/client-s3 {2}not loaded/);
  // The modules loaded through lazy() appear in the tree under the file that declared them.
  assert.match(r.stderr, /typescript\/lib\/typescript\.js/);
});

test('eslint --version: the recorded modules are exactly the ones Node loaded', (t) => {
  installedTree('test/fixtures/real-tree/node_modules/eslint/package.json');
  const dir = realpathSync(tempDir(t, 'coldstart-profile-eslint-'));
  const lister = join(dir, 'list-cache.cjs');
  const cacheOut = join(dir, 'cache.json');
  writeFileSync(lister, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(cacheOut)}, JSON.stringify(Object.keys(require.cache))));\n`);
  const jsonOut = join(dir, 'report.json');
  const r = runCli(['profile', '--json', jsonOut, '--', process.execPath, '--require', lister, 'node_modules/.bin/eslint', '--version'], { cwd: realTree });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^v9\./);
  const [p] = JSON.parse(readFileSync(jsonOut, 'utf8')).processes;
  const recorded = p.modules.filter((m) => m.format !== 'builtin').map((m) => m.key).sort();
  // --require preloads run before NODE_OPTIONS' --import: the lister itself is not recorded.
  const cache = JSON.parse(readFileSync(cacheOut, 'utf8')).filter((key) => key !== lister).sort();
  assert.ok(cache.length > 50, `eslint loads many modules (${cache.length})`);
  assert.deepEqual(recorded, cache);
  assert.match(r.stderr, new RegExp(`modules: ${cache.length} \\(`));
});
