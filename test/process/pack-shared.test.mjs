// A pack and an index shared read-only by many processes (docs/scale.md): a served start asks
// the disk nothing about an installed entry (start-up facts recorded at pack time), and under
// COLDSTART_SHARED=1 stamps are trusted and nothing is written into the tree; files owned by the
// tree's owner are trusted, files others can write are not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, cpSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { dist, root, runCli, runNode, tempDir, writeTree } from '../helpers.mjs';

const { countOnMount } = await import(pathToFileURL(join(root, 'bench', 'lib', 'mountops.mjs')).href);
const register = join(dist, 'register.cjs');
const base = { COLDSTART_INDEX: '', COLDSTART_PACK: '', COLDSTART_PACK_VERIFY: '', COLDSTART_ROOT: '', COLDSTART_SHARED: '' };
const hasStrace = spawnSync('strace', ['-V']).status === 0;
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** A project whose program is an installed bin, as `npx tool` would run it. */
function setup(t) {
  const dir = realpathSync(tempDir(t, 'coldstart-shared-'));
  writeTree(dir, {
    'package.json': JSON.stringify({ name: 'app', private: true }),
    'node_modules/tool/package.json': JSON.stringify({ name: 'tool', version: '1.2.3', type: 'commonjs', bin: 'bin/cli.js' }),
    // The program reads no package.json itself: every read counted below is start-up's.
    'node_modules/tool/bin/cli.js': "const dep = require('dep');\nconsole.log('tool', '1.2.3', dep.answer);\n",
    'node_modules/dep/package.json': JSON.stringify({ name: 'dep', main: 'index.js' }),
    'node_modules/dep/index.js': 'exports.answer = 42;\n',
  });
  const entry = join(dir, 'node_modules', 'tool', 'bin', 'cli.js');
  const indexed = runCli(['index', dir], { cwd: dir, env: base });
  assert.equal(indexed.code, 0, indexed.stderr);
  const packed = runCli(['pack', '--always', '--', process.execPath, entry], { cwd: dir, env: base });
  assert.equal(packed.code, 0, packed.stderr);
  return { dir, entry };
}

function run(dir, entry, env = {}) {
  const stats = join(dir, `stats-${Math.random().toString(36).slice(2)}.jsonl`);
  const r = runNode(['--require', register, entry], { cwd: dir, env: { ...base, COLDSTART_PACK_STATS: stats, COLDSTART_INDEX_STATS: stats, ...env } });
  const reports = readFileSync(stats, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
  return { ...r, pack: reports.find((x) => 'modules' in x), index: reports.find((x) => 'sectionsLoaded' in x) };
}

test('a served start reads nothing about an installed entry: its real path and package scope come from the pack', (t) => {
  const { dir, entry } = setup(t);
  // Counted in JavaScript before coldstart loads: Node's own package.json reads are C++ and not seen.
  const counter = join(dir, 'count.cjs');
  const countFile = join(dir, 'count.txt');
  const target = join(dir, 'node_modules', 'tool', 'package.json');
  writeFileSync(counter, [
    "const fs = require('node:fs');",
    'const read = fs.readFileSync;',
    'let n = 0;',
    `fs.readFileSync = function (path, ...rest) { if (String(path) === ${JSON.stringify(target)}) n++; return read.call(this, path, ...rest); };`,
    `process.on('exit', () => fs.writeFileSync(${JSON.stringify(countFile)}, String(n)));`,
    '',
  ].join('\n'));
  const reads = (env) => {
    const r = runNode(['--require', counter, '--require', register, entry], { cwd: dir, env: { ...base, ...env } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'tool 1.2.3 42');
    return Number(readFileSync(countFile, 'utf8'));
  };
  const withoutPack = reads({ COLDSTART_PACK: 'off' });
  const withPack = reads({});
  t.diagnostic(`coldstart's reads of the entry's package.json at start: ${withoutPack} without the pack, ${withPack} with it`);
  assert.ok(withoutPack >= 1, 'without the pack, the configuration lookup reads the entry package.json');
  assert.equal(withPack, 0);
  const served = run(dir, entry);
  assert.equal(served.pack.state, 'used');
  assert.equal(served.index.learnedAnswers, 0);
});

test('a pack whose start-up facts are corrupt is ignored, not believed', (t) => {
  const { dir, entry } = setup(t);
  const file = join(dir, 'node_modules', '.cache', 'coldstart', 'pack.v1');
  const bytes = readFileSync(file);
  const text = bytes.toString('latin1');
  const at = text.indexOf('"starts":[[');
  assert.ok(at > 0, 'the pack records start-up facts for an installed entry');
  // Same length, still JSON, but the header checksum no longer matches.
  bytes.write('"starts":[["x"', at, 'latin1');
  writeFileSync(file, bytes);
  const r = run(dir, entry);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'tool 1.2.3 42');
  assert.equal(r.pack.state, 'refused');
});

test('COLDSTART_SHARED=1: stamps are trusted, and doctor says the pack is stale yet served', (t) => {
  const { dir, entry } = setup(t);
  // A stamp changes: the project package.json now says what Node assumed ("type": "commonjs").
  const pkg = join(dir, 'package.json');
  writeFileSync(pkg, JSON.stringify({ ...JSON.parse(readFileSync(pkg, 'utf8')), type: 'commonjs' }));
  assert.equal(run(dir, entry).pack.state, 'stale');
  const shared = run(dir, entry, { COLDSTART_SHARED: '1' });
  assert.equal(shared.stdout.trim(), 'tool 1.2.3 42');
  assert.equal(shared.pack.state, 'used');
  assert.equal(shared.pack.shared, true);
  // The pack serves the whole run: its index is never opened (docs/decisions/startup-costs.md#index-when-asked).
  assert.equal(shared.index.state, 'unopened');
  const doctor = runCli(['doctor'], { cwd: dir, env: { ...base, COLDSTART_SHARED: '1' } });
  assert.match(doctor.stdout, /mode: +shared install \(COLDSTART_SHARED=1\)/);
  assert.match(doctor.stdout, /pack state: +STALE .*yet served/);
  const plainDoctor = runCli(['doctor'], { cwd: dir, env: base });
  assert.match(plainDoctor.stdout, /mode: +per project/);
});

test('COLDSTART_SHARED=1 writes nothing into the tree where a normal run would (strace)', (t) => {
  if (!hasStrace) {
    t.skip('strace is not installed');
    return;
  }
  const { dir, entry } = setup(t);
  // A program the pack has not seen: its lookups go to the index, which learns answers to save.
  writeFileSync(join(dir, 'other.cjs'), "console.log(require('dep').answer);\n");
  const command = (env) => ({ file: process.execPath, args: ['--require', register, join(dir, 'other.cjs')], cwd: dir, env: { ...process.env, ...base, NODE_OPTIONS: '', ...env } });
  const shared = countOnMount(command({ COLDSTART_SHARED: '1' }), dir);
  const normal = countOnMount(command({}), dir);
  t.diagnostic(`operations in the tree: normal ${normal.ops} (${normal.writes} writes), shared ${shared.ops} (${shared.writes} writes)`);
  assert.ok(normal.writes > 0, 'a normal run saves the answers it learned beside the index');
  assert.equal(shared.writes, 0);
  assert.ok(shared.ops < normal.ops);
  // With the pack and the entry it was made for, a shared start sends few operations into the tree.
  const served = countOnMount({ ...command({ COLDSTART_SHARED: '1' }), args: ['--require', register, entry] }, dir);
  t.diagnostic(`served shared start: ${served.ops} operations (${served.failed} failed) in the tree`);
  assert.equal(served.writes, 0);
});

test('a pack owned by the owner of the tree is trusted; one owned by someone else, or writable by others, is not', (t) => {
  if (!isRoot) {
    t.skip('needs root to give files away');
    return;
  }
  const { dir, entry } = setup(t);
  const pack = join(dir, 'node_modules', '.cache', 'coldstart', 'pack.v1');
  // Runs as another user (uid 4242) in a tree owned by uid 4343.
  const asUser = (uid) => {
    const stats = join('/tmp', `coldstart-shared-stats-${process.pid}-${uid}-${Math.random().toString(36).slice(2)}.jsonl`);
    writeFileSync(stats, '');
    chmodSync(stats, 0o666);
    const r = spawnSync(process.execPath, ['--require', register, entry], {
      cwd: dir, uid, gid: uid, encoding: 'utf8', env: { ...process.env, ...base, NODE_OPTIONS: '', COLDSTART_SHARED: '1', COLDSTART_PACK_STATS: stats },
    });
    try {
      assert.equal(r.status, 0, r.stderr);
      return JSON.parse(readFileSync(stats, 'utf8').trim().split('\n')[0]);
    } finally {
      rmSync(stats, { force: true });
    }
  };
  chmodSync(dir, 0o755);
  for (const d of ['node_modules', 'node_modules/.cache', 'node_modules/.cache/coldstart']) chmodSync(join(dir, d), 0o755);
  chownSync(dir, 4343, 4343);
  chownSync(pack, 4343, 4343);
  assert.equal(asUser(4242).state, 'used', 'owned by the owner of the tree');
  chownSync(pack, 4444, 4444);
  const refused = asUser(4242);
  assert.equal(refused.state, 'refused');
  assert.match(refused.reason, /owned by uid 4444/);
  chownSync(pack, 4343, 4343);
  chmodSync(pack, 0o664);
  assert.match(asUser(4242).reason, /writable by group or others/);
});

test('coldstart stage: one relocatable folder that serves the program wherever it is copied; a stale pack is not staged', (t) => {
  const { dir, entry } = setup(t);
  const stage = join(realpathSync(tempDir(t, 'coldstart-stage-')), 'stage');
  const made = runCli(['stage', '--out', stage], { cwd: dir, env: base });
  assert.equal(made.code, 0, made.stderr);
  // Moved, as sbcast or an image layer would place it, then used through its env.sh.
  const placed = join(realpathSync(tempDir(t, 'coldstart-node-local-')), 'cs');
  cpSync(stage, placed, { recursive: true, preserveTimestamps: true });
  const stats = join(placed, 'stats.jsonl');
  const shell = `. ${JSON.stringify(join(placed, 'env.sh'))}; COLDSTART_PACK_STATS=${JSON.stringify(stats)} ${JSON.stringify(process.execPath)} ${JSON.stringify(entry)}`;
  const r = spawnSync('bash', ['-c', shell], { cwd: dir, encoding: 'utf8', env: { ...process.env, ...base, NODE_OPTIONS: '' } });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'tool 1.2.3 42');
  const report = JSON.parse(readFileSync(stats, 'utf8').trim().split('\n')[0]);
  assert.equal(report.state, 'used');
  assert.equal(report.shared, true);
  assert.equal(report.pack, join(placed, 'pack.v1'));
  // A stale pack is refused at staging time, the one moment it is checked.
  const pkg = join(dir, 'package.json');
  writeFileSync(pkg, JSON.stringify({ ...JSON.parse(readFileSync(pkg, 'utf8')), type: 'commonjs' }));
  const refused = runCli(['stage', '--out', join(placed, '..', 'again')], { cwd: dir, env: base });
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /the (pack|index) cannot be staged: .*stale/i);
  assert.equal(runCli(['stage'], { cwd: dir, env: base }).code, 2);
});
