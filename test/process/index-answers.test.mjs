// Learned answers beside the index, in real processes: a warm run answers from the table with
// the same output, and a table that is corrupt, from another index, foreign-owned or pointing
// into a changed package is never used.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, realpathSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { readAnswerTable, tempDir, writeAnswerTable, writeTree, runNode, dist } from '../helpers.mjs';

const register = join(dist, 'register.cjs');
const { answersPathFor } = await import(pathToFileURL(join(dist, 'locations', 'answers.js')).href);
/** The table app.cjs's runs learn, relative to the project root. */
const tableRel = (root) => relative(root, answersPathFor(join(root, 'node_modules/.cache/coldstart/index.v1'), join(root, 'app.cjs')));

function project(t) {
  const root = realpathSync(tempDir(t, 'coldstart-answers-'));
  writeTree(root, {
    'package.json': { name: 'app', private: true },
    'node_modules/.package-lock.json': '{"v":1}',
    'node_modules/foo/package.json': { name: 'foo', version: '1.0.0', main: 'main.js' },
    'node_modules/foo/main.js': 'module.exports = "foo@1 " + require("./lib/util");',
    'node_modules/foo/lib/util.js': 'module.exports = "util";',
    'node_modules/foo/lib/other.js': 'module.exports = "other";',
    'app.cjs': 'console.log(require("foo"), require("foo/lib/util"));',
  });
  return root;
}

function run(root, env = {}) {
  const stats = join(root, 'stats.jsonl');
  rmSync(stats, { force: true });
  // A program this small gets plain Node once a run has learned its size: these runs are the index's.
  const result = runNode(['--require', register, 'app.cjs'], { cwd: root, env: { COLDSTART_INDEX_STATS: stats, COLDSTART_STEP_ASIDE: '0', ...env } });
  assert.equal(result.code, 0, result.stderr);
  const report = JSON.parse(readFileSync(stats, 'utf8').trim().split('\n')[0]);
  return { stdout: result.stdout, stderr: result.stderr, report };
}

test('the first run learns its answers; the next answers every lookup from the table', (t) => {
  const root = project(t);
  const plain = runNode(['app.cjs'], { cwd: root }).stdout;
  const first = run(root);
  assert.equal(first.stdout, plain);
  assert.equal(first.report.learnedAnswers, 0);
  const table = readAnswerTable(join(root, tableRel(root)));
  assert.equal(table.format, 'coldstart-answers/2');
  assert.deepEqual(Object.values(table.answers).map((a) => a[0]).sort(), ['node_modules/foo/lib/util.js', 'node_modules/foo/lib/util.js', 'node_modules/foo/main.js']);
  const second = run(root);
  assert.equal(second.stdout, plain);
  assert.equal(second.report.counts.hits, 3);
  assert.equal(second.report.learnedAnswers, 3);
  // Nothing new was learned, so the table was not rewritten.
  assert.deepEqual(readAnswerTable(join(root, tableRel(root))), table);
});

test('a corrupt table, or one learned from another index, is ignored and replaced', (t) => {
  const root = project(t);
  run(root);
  const file = join(root, tableRel(root));
  const saved = readFileSync(file, 'utf8');
  const good = JSON.stringify(readAnswerTable(file));
  // The same bytes with one path edited in place (same length), under the old checksum line.
  const edited = saved.replace('node_modules/foo/main.js', 'node_modules/foo/mainXjs');
  assert.notEqual(edited, saved);
  for (const bad of [edited, '{"format":"coldstart-ans', JSON.stringify({ ...JSON.parse(good), index: '1:2' }), '[]', 'null']) {
    if (bad === edited) writeFileSync(file, bad);
    else writeAnswerTable(file, bad);
    const result = run(root, { COLDSTART_DEBUG: '1' });
    assert.equal(result.report.learnedAnswers, 0, bad);
    // An index rebuilt since is the common case, and said as such.
    assert.match(result.stderr, bad.includes('"index":"1:2"') ? /learned from an earlier index; learning them again/ : /learned answers (ignored|in .* (are of another format, or corrupt|fail their checksum))/, bad);
    assert.equal(result.report.counts.hits, 3);
    assert.equal(readAnswerTable(file).format, 'coldstart-answers/2', 'rewritten whole');
  }
});

test('a table that points somewhere wrong is refused when writable by others, and not trusted for a changed package', (t) => {
  const root = project(t);
  run(root);
  const file = join(root, tableRel(root));
  const table = readAnswerTable(file);
  // Someone rewrites the answers to point at another file of the package.
  for (const key of Object.keys(table.answers)) table.answers[key] = ['node_modules/foo/lib/other.js', null];
  writeAnswerTable(file, table);
  chmodSync(file, 0o666);
  const refused = run(root);
  assert.equal(refused.report.learnedAnswers, 0);
  assert.equal(refused.stdout, 'foo@1 util util\n');
  // The same table, owned and private, but the package changed since the index was built:
  // its directory stamp no longer matches, so its answers go back to Node.
  writeAnswerTable(file, table);
  chmodSync(file, 0o644);
  const later = new Date(Date.now() + 5000);
  utimesSync(join(root, 'node_modules/foo'), later, later);
  const changed = run(root);
  assert.equal(changed.report.learnedAnswers, 0);
  assert.equal(changed.stdout, 'foo@1 util util\n');
  assert.deepEqual(changed.report.changedPackages, ['node_modules/foo']);
});

test("an answer found while a sub-project's node_modules was away is not served once it is back", (t) => {
  const root = realpathSync(tempDir(t, 'coldstart-answers-sub-'));
  writeTree(root, {
    'package.json': { name: 'app', private: true },
    'node_modules/.package-lock.json': '{"v":1}',
    'node_modules/foo/package.json': { name: 'foo', version: '1.0.0', main: 'main.js' },
    'node_modules/foo/main.js': 'module.exports = "foo@1";',
    'tools/package.json': { name: 'tools', private: true },
    'tools/node_modules/foo/package.json': { name: 'foo', version: '2.0.0', main: 'main.js' },
    'tools/node_modules/foo/main.js': 'module.exports = "foo@2";',
    'tools/x.cjs': 'console.log(require("foo"));',
  });
  const runTools = () => {
    const result = runNode(['--require', register, 'tools/x.cjs'], { cwd: root, env: { COLDSTART_STEP_ASIDE: '0' } });
    assert.equal(result.code, 0, result.stderr);
    return result.stdout;
  };
  assert.equal(runTools(), 'foo@2\n');
  assert.equal(runTools(), 'foo@2\n');
  // As `rm -rf tools/node_modules`, a run, then `npm ci` in tools/ would leave it.
  renameSync(join(root, 'tools/node_modules'), join(root, 'tools/away'));
  assert.equal(runTools(), 'foo@1\n');
  renameSync(join(root, 'tools/away'), join(root, 'tools/node_modules'));
  assert.equal(runTools(), 'foo@2\n');
  assert.equal(runTools(), 'foo@2\n');
});
