// With a fresh pack that knows the index's count of `import defer` users, a run reads the index
// only when the pack leaves a lookup to it: a run the pack serves whole never opens it; a run that
// loads something new opens it at that lookup, which it then answers.
// A pack made without that count (the index off at pack time) opens the index at start, as before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, realpathSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { dist, runCli, runNode, tempDir, writeTree } from '../helpers.mjs';

const register = join(dist, 'register.cjs');
const base = { COLDSTART_INDEX: '', COLDSTART_PACK: '', COLDSTART_PACK_VERIFY: '', COLDSTART_ROOT: '' };

function app(t) {
  const dir = realpathSync(tempDir(t, 'coldstart-when-asked-'));
  writeTree(dir, {
    'package.json': { name: 'app', private: true },
    'node_modules/.package-lock.json': '{"v":1}',
    'node_modules/a/package.json': { name: 'a', version: '1.0.0', main: 'index.js' },
    'node_modules/a/index.js': 'module.exports = "a+" + require("b");',
    'node_modules/b/package.json': { name: 'b', version: '1.0.0' },
    'node_modules/b/index.js': 'module.exports = "b";',
    'node_modules/c/package.json': { name: 'c', version: '1.0.0' },
    'node_modules/c/index.js': 'module.exports = "c+" + require("./lib/more");',
    'node_modules/c/lib/more.js': 'module.exports = "more";',
    // Installed CLIs, as the pack serves them: answers from first-party files are left to the
    // index (the stamps watch node_modules only).
    'node_modules/a/cli.js': 'console.log(require("./index.js"));',
    // Loads what the recorded run never did: c, then c's own file.
    'node_modules/c/cli.js': 'console.log(require("a"), require("c"));',
  });
  return dir;
}

function run(dir, entry, env = {}) {
  const stats = join(dir, `stats-${Math.random().toString(36).slice(2)}.jsonl`);
  const result = runNode(['--require', register, ...[entry].flat()], { cwd: dir, env: { ...base, COLDSTART_INDEX_STATS: stats, COLDSTART_PACK_STATS: stats, ...env } });
  assert.equal(result.code, 0, result.stderr);
  const reports = readFileSync(stats, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
  rmSync(stats);
  return { ...result, index: reports.find((r) => 'sectionsLoaded' in r), pack: reports.find((r) => 'modules' in r) };
}

test('a run the pack serves whole never reads the index; one that loads something new reads it at that lookup', (t) => {
  const dir = app(t);
  const built = runCli(['pack', '--always', '--', process.execPath, 'node_modules/a/cli.js'], { cwd: dir, env: base });
  assert.equal(built.code, 0, built.stderr);
  const plain = runNode(['node_modules/a/cli.js'], { cwd: dir });
  const served = run(dir, 'node_modules/a/cli.js');
  assert.equal(served.stdout, plain.stdout);
  assert.equal(served.pack.state, 'used');
  assert.ok(served.pack.counts.hits > 0, JSON.stringify(served.pack.counts));
  assert.equal(served.index.state, 'unopened', JSON.stringify(served.index));
  assert.equal(served.index.sectionsLoaded, 0);

  const other = run(dir, 'node_modules/c/cli.js');
  assert.equal(other.stdout, runNode(['node_modules/c/cli.js'], { cwd: dir }).stdout);
  assert.equal(other.index.state, 'used', JSON.stringify(other.index));
  // The lookup that opened it (c) and c's own file were both answered by the index.
  assert.ok(other.index.counts.hits >= 2, JSON.stringify(other.index.counts));
  assert.equal(other.stdout, 'a+b c+more\n');
  // The sources the pack does not hold (c's two files) are the index's to read, not Node's.
  assert.ok(other.index.sources.served >= 2, JSON.stringify(other.index.sources));
  assert.ok(other.pack.counts.hits > 0, JSON.stringify(other.pack.counts));
});

test('a pack that does not know the count (index off when it was made) opens the index at start', (t) => {
  const dir = app(t);
  const built = runCli(['pack', '--always', '--', process.execPath, 'node_modules/a/cli.js'], { cwd: dir, env: { ...base, COLDSTART_INDEX: '0' } });
  assert.equal(built.code, 0, built.stderr);
  const served = run(dir, 'node_modules/a/cli.js');
  assert.equal(served.pack.state, 'used');
  assert.notEqual(served.index.state, 'unopened', JSON.stringify(served.index));
  assert.ok(['used', 'built'].includes(served.index.state), JSON.stringify(served.index));
});

test('a module over 1 MiB without a rewrite stays on disk: the pack says so, and the run prints the same', (t) => {
  const dir = app(t);
  writeTree(dir, {
    'node_modules/big/package.json': { name: 'big', version: '1.0.0' },
    'node_modules/big/index.js': `module.exports = ${'1 + '.repeat(300_000)}0;\n`,
    'node_modules/big/cli.js': 'console.log(require("./index.js"), require("a"));',
  });
  // Without code caches, which Node 20 would keep for it (and so serve it).
  const built = runCli(['pack', '--always', '--json', '--no-code-cache', '--', process.execPath, 'node_modules/big/cli.js'], { cwd: dir, env: base });
  assert.equal(built.code, 0, built.stderr);
  const summary = JSON.parse(built.stdout.trim().split('\n').pop());
  assert.equal(summary.leftOnDisk, 1, JSON.stringify(summary));
  const served = run(dir, 'node_modules/big/cli.js');
  assert.equal(served.stdout, runNode(['node_modules/big/cli.js'], { cwd: dir }).stdout);
  assert.equal(served.stdout, '300000 a+b\n');
  // The small modules are served; the big one is read from the disk.
  assert.ok(served.pack.counts.hits >= 3, JSON.stringify(served.pack.counts));
  assert.equal(served.pack.counts.misses, 1, JSON.stringify(served.pack.counts));
});

test('a lazy pack answers the targets of its own stand-ins: an ES module program it serves whole never reads the index', { skip: typeof (await import('node:module')).registerHooks === 'function' ? false : 'the pack serves ES modules on Node 22.15+ only' }, (t) => {
  const dir = app(t);
  writeTree(dir, {
    'node_modules/esm-heavy/package.json': { name: 'esm-heavy', version: '1.0.0', type: 'module', exports: './index.js' },
    'node_modules/esm-heavy/index.js': 'performance.mark("heavy");\nexport const twice = (n) => n * 2;\n',
    'node_modules/esm-tool/package.json': { name: 'esm-tool', version: '1.0.0', type: 'module' },
    'node_modules/esm-tool/lib.js': 'import { twice } from "esm-heavy";\nexport const work = (n) => twice(n);\n',
    'node_modules/esm-tool/cli.js': [
      'import { work } from "./lib.js";',
      'console.log(process.argv[2] === "work" ? work(21) : "help", performance.getEntriesByName("heavy").length);',
      '',
    ].join('\n'),
  });
  const built = runCli(['pack', '--lazy', '--always', '--', process.execPath, 'node_modules/esm-tool/cli.js'], { cwd: dir, env: base });
  assert.equal(built.code, 0, built.stderr);
  for (const [args, printed] of [[[], 'help 0\n'], [['work'], '42 1\n']]) {
    const served = run(dir, ['node_modules/esm-tool/cli.js', ...args]);
    assert.equal(served.stdout, printed);
    // lib.js's import of esm-heavy became a stand-in, whose target the pack answered.
    assert.equal(served.pack.deferredRequires, 1, JSON.stringify(served.pack));
    assert.equal(served.index.state, 'unopened', JSON.stringify(served.index));
  }
});
