// `coldstart pack` end to end on the built package: a CommonJS + ES module app runs with the
// same output (file names, URLs, stack lines, require.cache keys, require.resolve answers)
// from the pack as from the disk; stale files under default and verify modes; bad packs are
// ignored; and the pack removes most file opens (strace).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { dist, fixtures, runCli, runNode, tempDir } from '../helpers.mjs';
import { decodePack, headerChecksum } from '../../dist/pack/format.js';

const { makePackApp } = await import(pathToFileURL(join(fixtures, 'pack-app', 'make.mjs')).href);
const register = pathToFileURL(join(dist, 'register.js')).href;
const packRel = 'node_modules/.cache/coldstart/pack.v1';
const node = process.execPath;
const node20 = Number(process.versions.node.split('.')[0]) < 22;
const base = { COLDSTART_INDEX: 'off', COLDSTART_PACK: '', COLDSTART_PACK_VERIFY: '', COLDSTART_ROOT: '' };

function setup(t) {
  const dir = realpathSync(tempDir(t, 'coldstart-pack-'));
  makePackApp(dir);
  const built = runCli(['pack', '--always', '--json', '--run', `"${node}" main.cjs`, '--', node, 'main.mjs'], { cwd: dir, env: base });
  assert.equal(built.code, 0, built.stderr);
  const summary = JSON.parse(built.stdout.trim().split('\n').pop());
  return { dir, summary, stats: join(dir, 'stats.jsonl') };
}

/** Runs an entry with and without the pack; returns both outputs and the pack's report. */
function both(dir, entry, env = {}) {
  const plain = runNode([entry], { cwd: dir, env: base });
  const statsFile = join(dir, `stats-${Math.random().toString(36).slice(2)}.jsonl`);
  const packed = runNode(['--import', register, entry], { cwd: dir, env: { ...base, COLDSTART_PACK_STATS: statsFile, ...env } });
  const report = JSON.parse(readFileSync(statsFile, 'utf8').trim().split('\n').pop());
  return { plain, packed, report };
}

test('pack records CommonJS, ES modules and JSON from several commands into one file', (t) => {
  const { summary, dir } = setup(t);
  assert.equal(summary.processes, 2);
  assert.equal(summary.file, join(dir, packRel));
  // main.cjs, main.mjs, report.cjs, lib/local.cjs, dep-cjs (index, util, data.json, typed,
  // oneline, dyn, 20 chain files), dep-inner, dep-esm (esm.js, helper.js)
  assert.equal(summary.modules, 33);
  assert.ok(summary.answers >= 5, `answers: ${summary.answers}`);
});

test('a packed app prints exactly what it prints from the disk, and the pack served it', (t) => {
  const { dir } = setup(t);
  for (const entry of ['main.cjs', 'main.mjs']) {
    const { plain, packed, report } = both(dir, entry);
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal(packed.stdout, plain.stdout, `${entry}: output differs`);
    assert.equal(packed.stderr, plain.stderr);
    assert.match(plain.stdout, /"stack":"at Object.<anonymous> \(.*node_modules\/dep-cjs\/index.js:3:17\)"/);
    assert.equal(report.state, 'used');
    assert.equal(report.counts.misses, 0, JSON.stringify(report));
    // Node 20 serves CommonJS and JSON only (6 in main.cjs); 22.15+ ES modules too.
    assert.ok(report.counts.hits >= 5, JSON.stringify(report));
  }
});

test('default mode: an edited first-party file is read from the disk; a tool\'s cache folder in node_modules does not make the pack stale, a new package does', (t) => {
  const { dir } = setup(t);
  writeFileSync(join(dir, 'lib/local.cjs'), readFileSync(join(dir, 'lib/local.cjs'), 'utf8').replace("'local-1'", "'local-2-edited'"));
  let run = both(dir, 'main.cjs');
  assert.match(run.packed.stdout, /local-2-edited/);
  assert.equal(run.packed.stdout, run.plain.stdout);
  assert.equal(run.report.counts.stale, 1);

  // A tool's cache folder beside the packages moves node_modules' mtime, and installs nothing.
  mkdirSync(join(dir, 'node_modules/.vite-temp'));
  run = both(dir, 'main.cjs');
  assert.equal(run.report.state, 'used', JSON.stringify(run.report));
  assert.equal(run.packed.stdout, run.plain.stdout);

  // A package put back under the same name (`yarn link` swaps the folder for a symlink).
  const linked = join(dir, 'linked/dep-cjs');
  cpSync(join(dir, 'node_modules/dep-cjs'), linked, { recursive: true });
  writeFileSync(join(linked, 'index.js'), `${readFileSync(join(linked, 'index.js'), 'utf8')}\nconsole.log("linked copy");\n`);
  rmSync(join(dir, 'node_modules/dep-cjs'), { recursive: true });
  symlinkSync('../linked/dep-cjs', join(dir, 'node_modules/dep-cjs'));
  run = both(dir, 'main.cjs');
  assert.match(run.plain.stdout, /linked copy/);
  assert.equal(run.report.state, 'stale', JSON.stringify(run.report));
  assert.equal(run.packed.stdout, run.plain.stdout);

  mkdirSync(join(dir, 'node_modules/added-later'));
  run = both(dir, 'main.cjs', { COLDSTART_DEBUG: '1' });
  assert.equal(run.report.state, 'stale');
  assert.match(run.report.reason, /node_modules changed/);
  assert.equal(run.packed.stdout, run.plain.stdout);
  assert.deepEqual(run.packed.stderr.split('\n').filter((l) => l.startsWith('coldstart: pack')).length, 1);
});

test('an edited file inside node_modules is read from the disk, on a local disk by default; COLDSTART_PACK_VERIFY=0 trusts the stamps', (t) => {
  const { dir } = setup(t);
  const util = join(dir, 'node_modules/dep-cjs/lib/util.js');
  writeFileSync(util, 'exports.twice = (n) => n * 2 + 1000;\n');
  // A hand edit (a fix tried in place, a console.log to debug) is what plain Node runs.
  const seen = both(dir, 'main.cjs');
  assert.match(seen.plain.stdout, /cjs-1004/);
  assert.equal(seen.packed.stdout, seen.plain.stdout);
  assert.equal(seen.report.verify, false);
  assert.equal(seen.report.counts.stale, 1);
  const verified = both(dir, 'main.cjs', { COLDSTART_PACK_VERIFY: '1' });
  assert.equal(verified.packed.stdout, verified.plain.stdout);
  assert.equal(verified.report.verify, true);
  assert.equal(verified.report.counts.stale, 1);
  // Switched off, node_modules is taken to change only through the package manager (stamped), as
  // on a network filesystem: documented in docs/pack.md; pinned so a change to it is deliberate.
  const trusting = both(dir, 'main.cjs', { COLDSTART_PACK_VERIFY: '0' });
  assert.match(trusting.packed.stdout, /cjs-4/);
  assert.equal(trusting.report.counts.stale, 0);
});

test('corrupt, truncated, foreign and group/world-writable packs are ignored, program unchanged', (t) => {
  const { dir } = setup(t);
  const file = join(dir, packRel);
  const good = readFileSync(file);
  const cases = {
    corrupt: Buffer.from('coldstart-pack\n1\n0000000010\n{{{{{{{{{{'),
    truncated: good.subarray(0, Math.floor(good.length / 2)),
    foreign: Buffer.from(good.toString('latin1').replace(/^coldstart-pack\n\d+\n/, 'coldstart-pack\n7\n'), 'latin1'),
    garbage: Buffer.from('\0\0\0 not a pack at all'),
    // An answer's target edited in place: same length, still JSON, caught by the header checksum.
    'edited in place': Buffer.from(good.toString('latin1').replace('node_modules/', 'node_modulex/'), 'latin1'),
  };
  for (const [name, bytes] of Object.entries(cases)) {
    writeFileSync(file, bytes);
    chmodSync(file, 0o644);
    const run = both(dir, 'main.cjs', { COLDSTART_DEBUG: '1' });
    assert.equal(run.packed.code, 0, `${name}: ${run.packed.stderr}`);
    assert.equal(run.packed.stdout, run.plain.stdout, name);
    assert.equal(run.report.state, 'refused', name);
    assert.equal(run.packed.stderr.split('\n').filter((l) => l.startsWith('coldstart: pack')).length, 1, `${name}: one debug line`);
  }
  writeFileSync(file, good);
  for (const mode of [0o666, 0o664]) {
    chmodSync(file, mode);
    const run = both(dir, 'main.cjs');
    assert.equal(run.report.state, 'refused');
    assert.match(run.report.reason, /writable by group or others/);
    assert.equal(run.packed.stdout, run.plain.stdout);
  }
});

test('a pack is relocatable: built in one directory, used from a copy elsewhere', (t) => {
  const { dir } = setup(t);
  const copy = join(realpathSync(tempDir(t, 'coldstart-pack-copy-')), 'app');
  const cp = spawnSync('cp', ['-a', dir, copy]);
  assert.equal(cp.status, 0);
  const run = both(copy, 'main.cjs');
  assert.equal(run.report.state, 'used', run.report.reason);
  assert.equal(run.packed.stdout, run.plain.stdout);
  assert.match(run.packed.stdout, new RegExp(copy.replace(/[/.]/g, '\\$&')));
  assert.equal(run.report.counts.misses, 0);
  // Node 20's V8 keeps the recorded file names in a code cache: a moved pack serves without it.
  assert.equal(run.report.counts.codeCache, 0);
  if (node20) assert.ok(both(dir, 'main.cjs').report.counts.codeCache > 0, 'in place, the cache is used');
});

test('strace: far fewer file syscalls inside node_modules with the pack', (t) => {
  if (spawnSync('strace', ['-V']).status !== 0) {
    t.skip('strace is not installed');
    return;
  }
  const { dir } = setup(t);
  const count = (args, env = {}) => {
    const log = join(dir, `strace-${Math.random().toString(36).slice(2)}.txt`);
    const r = spawnSync('strace', ['-f', '-qq', '-e', 'trace=%file', '-o', log, node, ...args, 'main.cjs'], { cwd: dir, env: { ...process.env, ...base, NODE_OPTIONS: '', ...env } });
    assert.equal(r.status, 0, String(r.stderr));
    const lines = readFileSync(log, 'utf8').split('\n').filter((l) => l.includes(`${dir}/node_modules/`) && !l.includes('/.cache/coldstart/'));
    rmSync(log);
    return lines.length;
  };
  const plain = count([]);
  const packed = count(['--import', register]);
  // What the stamps alone cost; by default each installed file served is asked once more (its size and mtime).
  const stampsOnly = count(['--import', register], { COLDSTART_PACK_VERIFY: '0' });
  t.diagnostic(`file syscalls inside node_modules: plain ${plain}, packed ${packed}, stamps only ${stampsOnly}`);
  assert.ok(stampsOnly * 4 <= plain, `plain ${plain}, stamps only ${stampsOnly}`);
  assert.ok(packed * 2 <= plain && packed > stampsOnly, `plain ${plain}, packed ${packed}, stamps only ${stampsOnly}`);
});

test('the index and the pack share their start-up checks: the project package.json is stat-ed once', (t) => {
  const { dir } = setup(t);
  const indexed = runCli(['index', dir], { cwd: dir, env: { ...base, COLDSTART_INDEX: '' } });
  assert.equal(indexed.code, 0, indexed.stderr);
  // Counted in JavaScript, before coldstart loads: Node's own C++ package.json reads differ by version.
  const counter = join(dir, 'count-stats.cjs');
  const countFile = join(dir, 'stat-count.txt');
  writeFileSync(counter, [
    "const fs = require('node:fs');",
    'const statSync = fs.statSync;',
    'let n = 0;',
    `const target = ${JSON.stringify(join(dir, 'package.json'))};`,
    'fs.statSync = function (path, ...rest) { if (String(path) === target) n++; return statSync.call(this, path, ...rest); };',
    `process.on('exit', () => fs.writeFileSync(${JSON.stringify(countFile)}, String(n)));`,
    '',
  ].join('\n'));
  const statsFile = join(dir, 'stats.jsonl');
  const r = runNode(['--require', counter, '--import', register, 'main.cjs'], { cwd: dir, env: { ...base, COLDSTART_INDEX: '', COLDSTART_PACK_STATS: statsFile } });
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(readFileSync(statsFile, 'utf8').trim().split('\n').pop());
  assert.equal(report.state, 'used');
  // Both stamp it; before sharing, this was 2.
  assert.equal(readFileSync(countFile, 'utf8'), '1');
});

test('coldstart doctor reports the pack: fresh, stale, refused; and what a run took from it', (t) => {
  const { dir } = setup(t);
  const env = { ...base, COLDSTART_INDEX: '' };
  assert.equal(runCli(['index', dir], { cwd: dir, env }).code, 0);
  const fresh = runCli(['doctor'], { cwd: dir, env });
  assert.match(fresh.stdout, new RegExp(`pack: +${join(dir, packRel).replace(/[/.]/g, '\\$&')}`));
  assert.match(fresh.stdout, /pack built: .* 33 modules, \d+ resolution answers/);
  assert.match(fresh.stdout, /pack state: +fresh/);
  const json = JSON.parse(runCli(['doctor', '--json'], { cwd: dir, env }).stdout);
  assert.equal(json.pack.state, 'fresh');
  assert.equal(json.pack.modules, 33);

  // A run: the command's output passes through; the report counts what the pack served.
  const run = runCli(['doctor', '--', node, 'main.cjs'], { cwd: dir, env });
  const plain = runNode(['main.cjs'], { cwd: dir, env: base });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, plain.stdout);
  const line = run.stderr.split('\n').find((l) => l.startsWith('  pack: '));
  assert.ok(line !== undefined, run.stderr);
  const served = Number(/(\d+) module loads served from it, (\d+) read from disk/.exec(line)?.[1]);
  const fromDisk = Number(/(\d+) read from disk/.exec(line)?.[1]);
  assert.ok(served >= 5, line);
  assert.equal(fromDisk, 0, line);
  assert.match(line, /[1-9]\d* resolutions answered/);

  // With COLDSTART_INDEX off, the pack's report still appears for the process.
  const noIndex = runCli(['doctor', '--json', '--', node, 'main.cjs'], { cwd: dir, env: base });
  const report = JSON.parse(noIndex.stderr);
  assert.equal(report.packRuns.length, 1);
  assert.equal(report.packRuns[0].state, 'used');
  assert.equal(report.packRuns[0].counts.misses, 0);

  // Group-writable: refused, exit 1. Then a new package: stale, exit 1, and a run says why.
  const file = join(dir, packRel);
  chmodSync(file, 0o664);
  const refused = runCli(['doctor'], { cwd: dir, env });
  assert.equal(refused.code, 1);
  assert.match(refused.stdout, /pack state: +REFUSED \(refusing .*writable by group or others/);
  chmodSync(file, 0o644);
  mkdirSync(join(dir, 'node_modules/added-later'));
  const stale = runCli(['doctor'], { cwd: dir, env: base });
  assert.equal(stale.code, 1);
  assert.match(stale.stdout, /pack state: +STALE \(node_modules changed\)/);
  const staleRun = runCli(['doctor', '--', node, 'main.cjs'], { cwd: dir, env: base });
  assert.match(staleRun.stderr, /  pack: stale \(stale pack: node_modules changed\)/);

  // The rebuild is the command the pack was made with, quoted for the shell.
  assert.ok(stale.stdout.includes(`rebuilt (coldstart pack --always --json --run '"${node}" main.cjs' -- ${node} main.mjs)`), stale.stdout);
  // --pack names another file, which must then exist; a bad flag is an error.
  const other = runCli(['doctor', '--pack', join(dir, 'nowhere.pack')], { cwd: dir, env });
  assert.equal(other.code, 1);
  assert.match(other.stdout, /pack state: +REFUSED \(.*nowhere\.pack does not exist\)/);
  const bad = runCli(['doctor', '--pack'], { cwd: dir, env });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--pack needs a file/);
});

/** The pack's module rows by path, and where its body starts in the file. */
/** The pack with its header checksum made right again, for a test that edits the header on purpose. */
function reseal(bytes) {
  const second = bytes.indexOf(10, bytes.indexOf(10) + 1);
  const lengthEnd = second + 11;
  // After the length and checksum line comes the start line, then the header.
  const headerStart = bytes.indexOf(10, lengthEnd + 12) + 1;
  const length = Number(bytes.toString('latin1', second + 1, lengthEnd));
  bytes.write(String(headerChecksum(bytes.subarray(headerStart, headerStart + length))).padStart(10, '0'), lengthEnd + 1, 'latin1');
  return bytes;
}

function packRows(dir) {
  const bytes = readFileSync(join(dir, packRel));
  const { header } = decodePack(bytes);
  return { header, bytes, bodyStart: bytes.length - header.bodyLength, rows: new Map(header.modules.map((row) => [row[0], row])) };
}

test('V8 code cache: Node 20 compiles packed CommonJS from the pack\'s cache, made at the end of the recorded runs; Node 22+ store none', (t) => {
  const { dir, summary } = setup(t);
  const { header, rows } = packRows(dir);
  const cached = [...rows.values()].filter((row) => row.length > 6).map((row) => row[0]);
  if (!node20) {
    // Measured: no gain on Node 22+ (docs/pack.md), so nothing is stored or compiled by coldstart.
    assert.equal(summary.codeCacheModules, 0);
    assert.deepEqual(cached, []);
    assert.equal(header.codeCache, undefined);
    const run = both(dir, 'main.cjs');
    assert.equal(run.packed.stdout, run.plain.stdout);
    assert.equal(run.report.counts.codeCache, 0);
    return;
  }
  assert.equal(header.codeCache, `${process.version}-${process.arch}`);
  assert.equal(summary.codeCacheModules, cached.length);
  assert.equal(summary.codeCacheTag, header.codeCache);
  // Every CommonJS module but the entries (Node compiles a main module) and dyn.js, which calls
  // import(); typed.js only names import() in a JSDoc type, and starts with a hashbang.
  const commonjs = [...rows.values()].filter((row) => row[1] === 'commonjs').map((row) => row[0]);
  assert.deepEqual(cached.sort(), commonjs.filter((p) => !['main.cjs', 'node_modules/dep-cjs/lib/dyn.js'].includes(p)).sort());
  assert.ok(cached.includes('node_modules/dep-cjs/lib/typed.js'));

  const run = both(dir, 'main.cjs');
  assert.equal(run.packed.code, 0, run.packed.stderr);
  assert.equal(run.packed.stdout, run.plain.stdout);
  assert.equal(run.packed.stderr, run.plain.stderr, 'no warning: import() never runs in a module compiled from a cache');
  // Stack columns on the first line and after a hashbang, require's properties and argument
  // errors, `this`, a module that calls import(): as Node gives them (the outputs are equal).
  assert.match(run.plain.stdout, /"oneline":"at exports.where \(.*oneline.js:1:23\)"/);
  assert.match(run.plain.stdout, /"first":"at exports.first \(.*typed.js:3:23\)"/);
  assert.match(run.plain.stdout, /dyn \{"value":"esm-helped-dynamic"\}/);
  assert.equal(run.report.counts.codeCache, cached.length, JSON.stringify(run.report.counts));
  assert.equal(run.report.counts.codeCacheRejected, 0);
  const esm = both(dir, 'main.mjs');
  assert.equal(esm.packed.stdout, esm.plain.stdout);
  assert.ok(esm.report.counts.codeCache > 0, JSON.stringify(esm.report.counts));

  // The recording run that called import() in dyn.js printed no warning either.
  const again = runCli(['pack', '--always', '--', node, 'main.cjs'], { cwd: dir, env: base });
  assert.equal(again.code, 0, again.stderr);
  assert.doesNotMatch(again.stderr, /Warning/);

  // A module that ends the process from its body (as tsc does) still gets its cache.
  writeFileSync(join(dir, 'exit.cjs'), "require('dep-exit');\n");
  mkdirSync(join(dir, 'node_modules/dep-exit'));
  writeFileSync(join(dir, 'node_modules/dep-exit/index.js'), "console.log('bye');\nprocess.exit(0);\n");
  assert.equal(runCli(['pack', '--always', '--', node, 'exit.cjs'], { cwd: dir, env: base }).code, 0);
  assert.equal(packRows(dir).rows.get('node_modules/dep-exit/index.js').length, 9);
  const exits = both(dir, 'exit.cjs');
  assert.equal(exits.packed.stdout, 'bye\n');
  assert.equal(exits.report.counts.codeCache, 1);
});

test('V8 code cache: other V8 flags, source maps, COLDSTART_CODE_CACHE=0, another V8\'s tag, a corrupt cache and --no-code-cache all leave it unused, output unchanged', { skip: !node20 && 'Node 20 only: Node 22+ store no code cache' }, (t) => {
  const { dir } = setup(t);
  const { rows, bytes, bodyStart, header } = packRows(dir);
  const cached = [...rows.values()].filter((row) => row.length > 6).length;
  const check = (name, args, env, expect) => {
    const plain = runNode([...args, 'main.cjs'], { cwd: dir, env: base });
    const statsFile = join(dir, `stats-${name}.jsonl`);
    const packed = runNode([...args, '--import', register, 'main.cjs'], { cwd: dir, env: { ...base, COLDSTART_PACK_STATS: statsFile, ...env } });
    assert.equal(packed.stdout, plain.stdout, name);
    assert.equal(packed.stderr, plain.stderr, name);
    const report = JSON.parse(readFileSync(statsFile, 'utf8').trim().split('\n').pop());
    assert.equal(report.state, 'used', name);
    assert.equal(report.counts.codeCache, expect.used, `${name}: ${JSON.stringify(report.counts)}`);
    assert.equal(report.counts.codeCacheRejected, expect.rejected ?? 0, name);
  };
  // V8 turns a cache made under other flags down: the first refusal stops further attempts.
  check('other V8 flags', ['--stack-size=900'], {}, { used: 0, rejected: 1 });
  check('source maps', ['--enable-source-maps'], {}, { used: 0 });
  check('switched off', [], { COLDSTART_CODE_CACHE: '0' }, { used: 0 });
  check('as built', [], {}, { used: cached });

  const file = join(dir, packRel);
  // Another V8's caches (the tag names the Node that made them): not even offered to V8.
  const tag = header.codeCache;
  const foreign = tag.replace(/^v\d+/, 'v19');
  assert.equal(foreign.length, tag.length); // the header keeps its length, the body its place
  writeFileSync(file, reseal(Buffer.from(bytes.toString('latin1').replace(`"codeCache":"${tag}"`, `"codeCache":"${foreign}"`), 'latin1')));
  check('another V8', [], {}, { used: 0 });
  // A cache whose bytes changed fails its checksum and is not used; the others are.
  const corrupt = Buffer.from(bytes);
  const row = rows.get('node_modules/dep-cjs/index.js');
  corrupt[bodyStart + row[6] + Math.floor(row[7] / 2)] ^= 0xff;
  writeFileSync(file, corrupt);
  check('a corrupt cache', [], {}, { used: cached - 1 });

  const none = runCli(['pack', '--always', '--json', '--no-code-cache', '--', node, 'main.cjs'], { cwd: dir, env: base });
  assert.equal(none.code, 0, none.stderr);
  assert.equal(JSON.parse(none.stdout.trim().split('\n').pop()).codeCacheModules, 0);
  check('--no-code-cache', [], {}, { used: 0 });
});

test('--package packs whole packages from the index, each file with the format Node gives it', (t) => {
  const dir = realpathSync(tempDir(t, 'coldstart-pack-'));
  makePackApp(dir);
  const built = runCli(['pack', '--always', '--json', '--package', 'dep-cjs'], { cwd: dir, env: base });
  assert.equal(built.code, 0, built.stderr);
  assert.match(built.stderr, /indexing/, 'no index yet: built first');
  const summary = JSON.parse(built.stdout.trim().split('\n').pop());
  assert.deepEqual(summary.packages, ['node_modules/dep-cjs']);
  // package.json, index.js, data.json, lib/util.js, typed.js, oneline.js, dyn.js, 20 chain files
  assert.equal(summary.modules, 27);
  assert.equal(summary.processes, 0);
  const run = both(dir, 'main.cjs');
  assert.equal(run.packed.stdout, run.plain.stdout);
  assert.equal(run.packed.stderr, run.plain.stderr);
  // Every dep-cjs module main.cjs loads came from the pack; the rest from the disk.
  assert.equal(run.report.counts.hits, 26, JSON.stringify(run.report.counts));
  assert.ok(run.report.counts.misses >= 3, JSON.stringify(run.report.counts));

  // A glob, and the formats: "type": "module", .cjs, and syntax where there is no "type".
  const glob = runCli(['pack', '--always', '--json', '--package', 'dep-*', '--package', 'dep-cjs'], { cwd: dir, env: base });
  assert.equal(glob.code, 0, glob.stderr);
  assert.deepEqual(JSON.parse(glob.stdout.trim().split('\n').pop()).packages, ['node_modules/dep-cjs', 'node_modules/dep-detect', 'node_modules/dep-esm', 'node_modules/dep-inner']);
  const { rows } = packRows(dir);
  const format = (path) => rows.get(path)?.[1];
  assert.equal(format('node_modules/dep-esm/esm.js'), 'module');
  assert.equal(format('node_modules/dep-esm/cjs.cjs'), 'commonjs');
  assert.equal(format('node_modules/dep-detect/index.js'), 'module');
  assert.equal(format('node_modules/dep-detect/cjs.js'), 'commonjs');
  assert.equal(format('node_modules/dep-inner/index.js'), 'commonjs');
  assert.equal(format('node_modules/dep-esm/package.json'), 'json');
  writeFileSync(join(dir, 'detect.mjs'), "import { four } from 'dep-detect';\nimport inner from 'dep-inner';\nconsole.log(four, inner);\n");
  const detect = both(dir, 'detect.mjs');
  assert.equal(detect.plain.stdout, '4 inner\n', detect.plain.stderr);
  assert.equal(detect.packed.stdout, detect.plain.stdout);
  assert.equal(detect.packed.stderr, detect.plain.stderr);
  for (const entry of ['main.cjs', 'main.mjs']) {
    const again = both(dir, entry);
    assert.equal(again.packed.stdout, again.plain.stdout, entry);
  }

  // With a recorded command: the union, the recorded formats and answers kept.
  const union = runCli(['pack', '--always', '--json', '--package', 'dep-detect', '--', node, 'main.cjs'], { cwd: dir, env: base });
  const merged = JSON.parse(union.stdout.trim().split('\n').pop());
  assert.equal(merged.processes, 1);
  assert.ok(merged.answers > 0);
  assert.ok(packRows(dir).rows.has('node_modules/dep-detect/index.js') && packRows(dir).rows.has('node_modules/dep-cjs/index.js'));

  // A name nothing matches: a clear error, and the pack in place is left alone.
  const before = readFileSync(join(dir, packRel));
  const none = runCli(['pack', '--always', '--package', 'no-such-package'], { cwd: dir, env: base });
  assert.equal(none.code, 1);
  assert.match(none.stderr, /no installed package matches 'no-such-package'/);
  assert.deepEqual(readFileSync(join(dir, packRel)), before);
  const empty = runCli(['pack'], { cwd: dir, env: base });
  assert.equal(empty.code, 2);
  assert.match(empty.stderr, /nothing to pack/);
});

test('a run reads from the pack only the windows holding what it serves: nothing for -e 0 (not even opened on Node 22+), not a big module it never loads', (t) => {
  const dir = realpathSync(tempDir(t, 'coldstart-pack-'));
  makePackApp(dir);
  // A 3 MB package that only the second recorded command loads, in modules under 1 MiB each
  // (a larger one would stay on disk: pack/build.ts LARGE_MODULE).
  mkdirSync(join(dir, 'node_modules/big'), { recursive: true });
  writeFileSync(join(dir, 'node_modules/big/package.json'), '{"name":"big","main":"index.js"}');
  writeFileSync(join(dir, 'node_modules/big/index.js'), "exports.size = require('./a.js') + require('./b.js') + require('./c.js') + require('./d.js');\n");
  for (const part of ['a', 'b', 'c', 'd']) writeFileSync(join(dir, `node_modules/big/${part}.js`), `module.exports = ${'1 + '.repeat(190_000)}0;\n`);
  const built = runCli(['pack', '--always', '--run', `"${node}" main.cjs`, '--', node, '-e', 'require("big")'], { cwd: dir, env: base });
  assert.equal(built.code, 0, built.stderr);
  const packSize = readFileSync(join(dir, packRel)).length;
  assert.ok(packSize > 3_000_000, `pack size ${packSize}`);
  const run = (args) => {
    const stats = join(dir, `stats-${Math.random().toString(36).slice(2)}.jsonl`);
    const result = runNode(['--import', register, ...args], { cwd: dir, env: { ...base, COLDSTART_PACK_STATS: stats } });
    assert.equal(result.code, 0, result.stderr);
    return existsSync(stats) ? JSON.parse(readFileSync(stats, 'utf8').trim().split('\n').pop()) : undefined;
  };
  // A process with no script waits for its first module (Node 22+): one that loads none never
  // opens the pack. Node 20 opens it and reads nothing from it.
  const idle = run(['-e', '0']);
  if (Number(process.versions.node.split('.')[0]) >= 22) assert.equal(idle, undefined, JSON.stringify(idle));
  else {
    assert.equal(idle.state, 'used');
    assert.equal(idle.bytesRead, 0, 'nothing served, nothing read');
  }
  const loadsOne = run(['-e', 'try { require("./absent") } catch {}']);
  assert.equal(loadsOne?.state, 'used', 'activated at the first require()');
  const small = run(['main.cjs']);
  assert.ok(small.counts.hits >= 5, JSON.stringify(small));
  assert.ok(small.bytesRead > 0 && small.bytesRead < 3_000_000, `main.cjs read ${small.bytesRead} of ${packSize} bytes`);
  const big = run(['-e', 'require("big")']);
  assert.ok(big.counts.hits >= 1 && big.bytesRead >= 3_000_000, JSON.stringify(big));
});

test('a pack written with --out in a project that has no cache folder yet is fresh for the runs that then build the index', (t) => {
  const dir = realpathSync(tempDir(t, 'coldstart-pack-'));
  makePackApp(dir);
  const out = join(dir, 'elsewhere.pack');
  const built = runCli(['pack', '--always', '--out', out, '--json', '--', node, 'main.cjs'], { cwd: dir, env: base });
  assert.equal(built.code, 0, built.stderr);
  assert.doesNotThrow(() => JSON.parse(built.stdout), '--json leaves stdout to the summary: the command\'s own output goes to stderr');
  for (let i = 0; i < 2; i++) {
    const stats = join(dir, `stats-${i}.jsonl`);
    // With the index on: the first run builds it under node_modules/.cache.
    const run = runNode(['--import', register, 'main.cjs'], { cwd: dir, env: { ...base, COLDSTART_INDEX: '', COLDSTART_PACK: out, COLDSTART_PACK_STATS: stats } });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(JSON.parse(readFileSync(stats, 'utf8').trim()).state, 'used', `run ${i + 1}`);
  }
});
