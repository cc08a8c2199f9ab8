// Prefetch on slow filesystems: a worker reads the files earlier runs loaded while require()
// runs. Checked with COLDSTART_PREFETCH=1 on local disk (the same code path), and on a real
// FUSE mount (bindfs) where it switches itself on. Counts only, never times.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tempDir, writeTree, runNode, runCli, dist } from '../helpers.mjs';

const register = join(dist, 'register.cjs');

function project(t, dir) {
  const root = dir ?? realpathSync(tempDir(t, 'coldstart-prefetch-'));
  const files = {
    'package.json': { name: 'app', private: true },
    'node_modules/.package-lock.json': '{"v":1}',
    'app.cjs': [
      'const fs = require("node:fs");',
      // Work before the requires, as a real program compiles: the worker is up by then.
      'const until = Date.now() + 400; while (Date.now() < until);',
      'const out = [];',
      'for (let i = 0; i < 30; i++) out.push(require(`dep${i}`));',
      // Changed while the program runs, then loaded again: the new text, not the prefetched one.
      'const file = require.resolve("dep0");',
      'fs.writeFileSync(file, "module.exports = \\"dep0 changed\\";");',
      'delete require.cache[file];',
      'out.push(require("dep0"));',
      'console.log(out.join(","));',
    ].join('\n'),
  };
  // 30 packages: fewer than 24 files are never worth a worker on their own (index-activate.ts).
  for (let i = 0; i < 30; i++) {
    files[`node_modules/dep${i}/package.json`] = { name: `dep${i}`, main: 'lib/index.js' };
    files[`node_modules/dep${i}/lib/index.js`] = `module.exports = ${JSON.stringify(`dep${i} v1`)};`;
  }
  writeTree(root, files);
  return root;
}

function resetDep0(root) {
  writeFileSync(join(root, 'node_modules/dep0/lib/index.js'), 'module.exports = "dep0 v1";');
}

function run(root, env = {}, cwd = root) {
  const stats = join(root, '..', `stats-${process.pid}.jsonl`);
  rmSync(stats, { force: true });
  // A program this small gets plain Node once a run has learned its size: these runs are the index's.
  const r = runNode(['--require', register, 'app.cjs'], { cwd, env: { COLDSTART_INDEX_STATS: stats, COLDSTART_PACK: 'off', COLDSTART_STEP_ASIDE: '0', ...env } });
  const report = existsSync(stats) ? JSON.parse(readFileSync(stats, 'utf8').trim().split('\n').at(-1)) : undefined;
  rmSync(stats, { force: true });
  resetDep0(root);
  return { ...r, report };
}

const expected = Array.from({ length: 30 }, (_, i) => `dep${i} v1`).join(',') + ',dep0 changed\n';

test('files earlier runs loaded are read ahead by a worker; output unchanged', (t) => {
  const root = project(t);
  const plain = runNode(['app.cjs'], { cwd: root });
  resetDep0(root);
  assert.equal(plain.stdout, expected);
  assert.equal(runCli(['index'], { cwd: root }).code, 0);
  // The first run learns which files the program loads; nothing to read ahead yet.
  const first = run(root, { COLDSTART_PREFETCH: '1' });
  assert.equal(first.stdout, expected, first.stderr);
  assert.deepEqual(first.report.prefetch, undefined);
  const second = run(root, { COLDSTART_PREFETCH: '1' });
  assert.equal(second.stdout, expected, second.stderr);
  const { taken, missed } = second.report.prefetch;
  // 30 files, each taken or read by the main thread itself; the reload of dep0 is never taken.
  assert.equal(taken + missed, 31, JSON.stringify(second.report.prefetch));
  assert.ok(taken >= 1, JSON.stringify(second.report.prefetch));
  // Local disk: off unless asked for.
  assert.equal(run(root).report.prefetch, undefined);
  assert.equal(run(root, { COLDSTART_PREFETCH: '0' }).report.prefetch, undefined);
});

test('a file changed or removed since the last run is read as it is now', (t) => {
  const root = project(t);
  assert.equal(runCli(['index'], { cwd: root }).code, 0);
  run(root, { COLDSTART_PREFETCH: '1' });
  writeFileSync(join(root, 'node_modules/dep5/lib/index.js'), 'module.exports = "dep5 v2";');
  const changed = run(root, { COLDSTART_PREFETCH: '1' });
  assert.equal(changed.stdout, expected.replace('dep5 v1', 'dep5 v2'), changed.stderr);
  rmSync(join(root, 'node_modules/dep7/lib/index.js'));
  const plain = runNode(['app.cjs'], { cwd: root });
  resetDep0(root);
  const removed = run(root, { COLDSTART_PREFETCH: '1' });
  assert.equal(removed.code, plain.code);
  assert.match(plain.stderr, /Cannot find module/);
  // A file removed by hand inside a package is not seen by the package stamps (docs/index.md):
  // the same kind of error, naming the file and what to do.
  assert.match(removed.stderr, /Error: Cannot find module '.*dep7\/lib\/index\.js' \(the coldstart index answered it, but the file is gone: run `coldstart index` again\)/);
  assert.match(removed.stderr, /code: 'MODULE_NOT_FOUND'/);
});

test('on a FUSE mount the worker starts by itself', (t) => {
  if (spawnSync('bindfs', ['--version']).status !== 0 || !existsSync('/dev/fuse')) return t.skip('bindfs or /dev/fuse missing');
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'coldstart-prefetch-fuse-')));
  const source = join(dir, 'src');
  const mount = join(dir, 'mnt');
  mkdirSync(source);
  mkdirSync(mount);
  project(t, source);
  const mounted = spawnSync('bindfs', ['-o', 'attr_timeout=0,entry_timeout=0,negative_timeout=0', source, mount]);
  // Unmounted before the tree is removed.
  t.after(() => {
    spawnSync('fusermount', ['-u', mount]);
    rmSync(dir, { recursive: true, force: true });
  });
  if (mounted.status !== 0) return t.skip(`bindfs could not mount: ${String(mounted.stderr).trim()}`);
  assert.equal(runCli(['index'], { cwd: mount }).code, 0);
  run(mount);
  const second = run(mount);
  assert.equal(second.stdout, expected, second.stderr);
  assert.ok(second.report.prefetch !== undefined, JSON.stringify(second.report));
  assert.equal(second.report.prefetch.taken + second.report.prefetch.missed, 31);
  assert.equal(run(mount, { COLDSTART_PREFETCH: '0' }).report.prefetch, undefined);
});
