// A real project's own test suite under coldstart: resolve (browserify/resolve), whose npm package
// ships its tape tests. Each test file runs with plain Node, then with NODE_OPTIONS activating
// coldstart, an index, and a lazy pack learned from one of its test files: every file must give
// the same test results and exit code. (A few files fail with plain Node too: the npm package
// leaves out fixtures they need; they must fail the same way.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { join } from 'node:path';
import { dist, installedTree, runCli, runNode, tempDir } from '../helpers.mjs';

const tree = installedTree('test/fixtures/real-suite/node_modules/resolve');
const tape = join(tree, '..', 'tape', 'bin', 'tape');

/** The TAP result lines of one run and its exit code: what the suite says passed and failed. */
function results(result) {
  const lines = result.stdout.split('\n').filter((line) => /^(not )?ok \d+/.test(line));
  return { lines, code: result.code };
}

test("resolve's own tape suite gives the same results with coldstart and a lazy pack as without", (t) => {
  const dir = tempDir(t, 'coldstart-real-suite-');
  const pack = join(dir, 'pack.v1');
  const env = { COLDSTART_PACK: pack, COLDSTART_INDEX: join(dir, 'index.v1'), COLDSTART_ROOT: '' };
  // Learned from one test file, as a user would: `coldstart pack --lazy -- tape test/mock.js`.
  const learned = runCli(['pack', '--lazy', '--out', pack, '--', process.execPath, tape, 'test/mock.js'], { cwd: tree, env });
  assert.equal(learned.code, 0, learned.stderr);
  assert.match(learned.stdout + learned.stderr, /learned deferral: [1-9]\d* requires/);
  const files = readdirSync(join(tree, 'test')).filter((name) => name.endsWith('.js')).sort();
  assert.ok(files.length >= 20, `${files.length} test files`);
  let okLines = 0;
  let failingFiles = 0;
  const stats = join(dir, 'pack-stats.jsonl');
  const unsteady = [];
  for (const file of files) {
    let plain = results(runNode([tape, `test/${file}`], { cwd: tree }));
    const ours = results(runNode([tape, `test/${file}`], { cwd: tree, env: { ...env, NODE_OPTIONS: `--require ${join(dist, 'register.cjs')}`, COLDSTART_PACK_STATS: stats } }));
    // test/resolver.js throws in an fs callback once a fixture the package leaves out is missing,
    // so where the run stops depends on which callback comes first: the served run must give one
    // of the results plain Node gives.
    for (let again = 0; again < 3 && !isDeepStrictEqual(ours, plain); again++) {
      const other = results(runNode([tape, `test/${file}`], { cwd: tree }));
      if (!isDeepStrictEqual(other, plain) && !unsteady.includes(file)) unsteady.push(file);
      if (isDeepStrictEqual(other, ours)) plain = other;
    }
    assert.deepEqual(ours, plain, `test/${file}`);
    okLines += plain.lines.filter((line) => line.startsWith('ok ')).length;
    if (plain.code !== 0) failingFiles++;
  }
  const reports = readFileSync(stats, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
  const served = reports.filter((r) => r.state === 'used' && r.counts.hits > 0);
  const deferred = reports.reduce((sum, r) => sum + r.deferredRequires, 0);
  t.diagnostic(`resolve's suite: ${files.length} files, ${okLines} passing assertions, ${failingFiles} files failing with plain Node too; served from the lazy pack in ${served.length} of ${reports.length} processes, ${deferred} requires loaded at first use${unsteady.length > 0 ? `; plain Node itself gave more than one result for ${unsteady.join(', ')}` : ''}`);
  assert.ok(served.length >= files.length / 2, `${served.length} of ${reports.length} processes served`);
  assert.ok(deferred > 0, 'learned deferral was in force');
});
