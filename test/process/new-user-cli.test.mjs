// What a new user hit with the CLI and the caches: a global install indexing the wrong project,
// a typo'd directory, a failed `defer --remove` that still edited package.json, pnpm's NODE_PATH
// making the index stale, a cache directory that cannot be made, and doctor's messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dist, installedTree, root, runCli, runNode, tempDir, writeTree } from '../helpers.mjs';

const register = join(dist, 'register.cjs');
const indexRel = 'node_modules/.cache/coldstart/index.v1';

function app(t) {
  const dir = realpathSync(tempDir(t, 'coldstart-user-'));
  writeTree(dir, {
    'package.json': { name: 'app', private: true },
    'node_modules/.package-lock.json': '{"lockfileVersion":3}',
    'node_modules/foo/package.json': { name: 'foo', main: 'main.js' },
    'node_modules/foo/main.js': 'module.exports = "foo";',
    'app.js': 'let extra; try { extra = require("extra"); } catch (e) { extra = e.code; } console.log(require("foo"), extra);',
  });
  return dir;
}

test('a global install indexes the working directory\'s project, not its own location', (t) => {
  const project = app(t);
  // A copy of the package under <prefix>/lib/node_modules, as `npm i -g` lays it out.
  const prefix = realpathSync(tempDir(t, 'coldstart-global-'));
  const installed = join(prefix, 'lib/node_modules/coldstart');
  mkdirSync(installed, { recursive: true });
  for (const part of ['dist', 'bin', 'package.json']) cpSync(join(root, part), join(installed, part), { recursive: true });
  symlinkSync(join(root, 'node_modules'), join(installed, 'node_modules'));
  const cli = join(installed, 'bin/coldstart.cjs');
  const built = runNode([cli, 'index'], { cwd: project });
  assert.equal(built.code, 0, built.stderr);
  assert.ok(existsSync(join(project, indexRel)), built.stderr);
  assert.ok(!existsSync(join(prefix, 'lib/node_modules/.cache')), 'nothing written beside the global install');
  const doctor = runNode([cli, 'doctor'], { cwd: project });
  assert.match(doctor.stdout, new RegExp(`project root: ${project}\\n`));
  assert.equal(doctor.code, 0, doctor.stdout);
  // The global copy preloaded by path: the run's project is the working directory's, too.
  const stats = join(project, 'stats.jsonl');
  const run = runNode(['--require', join(installed, 'dist/register.cjs'), 'app.js'], { cwd: project, env: { COLDSTART_INDEX_STATS: stats } });
  assert.equal(run.stdout, 'foo MODULE_NOT_FOUND\n', run.stderr);
  const report = JSON.parse(readFileSync(stats, 'utf8').trim());
  assert.equal(report.root, project);
  assert.equal(report.state, 'used');
  assert.ok(!existsSync(join(prefix, 'lib/node_modules/.cache')), 'nothing written beside the global install');
});

test('coldstart index of a directory that does not exist fails with one line and writes nothing', (t) => {
  const project = app(t);
  const result = runCli(['index', './typo-dir'], { cwd: project });
  assert.equal(result.code, 1);
  assert.equal(result.stderr, `coldstart index: ${join(project, 'typo-dir')} is not a directory\n`);
  assert.ok(!existsSync(join(project, 'typo-dir')));
});

test('coldstart defer --remove of a name not listed changes nothing', (t) => {
  const project = app(t);
  const before = readFileSync(join(project, 'package.json'), 'utf8');
  const result = runCli(['defer', '--remove', 'notthere'], { cwd: project });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /'notthere' is not in the list; .*package\.json is unchanged/);
  assert.equal(readFileSync(join(project, 'package.json'), 'utf8'), before);
  // Adding what is there already rewrites nothing either.
  assert.equal(runCli(['defer', '--add', 'foo'], { cwd: project }).code, 0);
  const added = readFileSync(join(project, 'package.json'), 'utf8');
  assert.equal(runCli(['defer', '--add', 'foo'], { cwd: project }).code, 0);
  assert.equal(readFileSync(join(project, 'package.json'), 'utf8'), added);
});

test('NODE_PATH (pnpm bin shims) keeps one fresh index, and its answers stay NODE_PATH\'s', (t) => {
  const project = app(t);
  writeTree(project, {
    'node_modules/.pnpm/node_modules/extra/package.json': { name: 'extra', main: 'x.js' },
    'node_modules/.pnpm/node_modules/extra/x.js': 'module.exports = "extra";',
  });
  const nodePath = join(project, 'node_modules/.pnpm/node_modules');
  assert.equal(runCli(['index'], { cwd: project }).code, 0);
  const stats = join(project, 'stats.jsonl');
  const run = (env) => {
    rmSync(stats, { force: true });
    const plain = runNode(['app.js'], { cwd: project, env });
    const ours = runNode(['--require', register, 'app.js'], { cwd: project, env: { ...env, COLDSTART_INDEX_STATS: stats } });
    assert.equal(ours.stdout, plain.stdout);
    return { stdout: ours.stdout, report: JSON.parse(readFileSync(stats, 'utf8').trim().split('\n')[0]) };
  };
  const shim = run({ NODE_PATH: nodePath });
  assert.equal(shim.stdout, 'foo extra\n');
  assert.equal(shim.report.state, 'used', 'not rebuilt for NODE_PATH');
  // The answer learned under NODE_PATH is not given to a run without it.
  const direct = run({ NODE_PATH: '' });
  assert.equal(direct.stdout, 'foo MODULE_NOT_FOUND\n');
  assert.equal(direct.report.state, 'used');
  assert.equal(run({ NODE_PATH: nodePath }).stdout, 'foo extra\n');
  const doctor = runCli(['doctor'], { cwd: project, env: { NODE_PATH: nodePath } });
  assert.match(doctor.stdout, /state: +fresh/);
  const doctorRun = runCli(['doctor', '--', process.execPath, 'app.js'], { cwd: project, env: { NODE_PATH: nodePath } });
  assert.match(doctorRun.stderr, /index used/);
  assert.doesNotMatch(doctorRun.stderr, /index built/);
});

test('a defer cache directory that cannot be made means no cache, at once', (t) => {
  const project = app(t);
  writeTree(project, {
    'package.json': { name: 'app', private: true, type: 'module', coldstart: { defer: ['foo'] } },
    'main.js': 'import foo from "foo"; console.log(foo);',
  });
  const result = runNode(['--import', join(dist, 'register.js'), 'main.js'], { cwd: project, env: { COLDSTART_DEFER_CACHE: '/proc/nope/cache' } });
  assert.equal(result.signal, null, 'did not hang');
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, 'foo\n');
  // "off" means no cache, as for every other switch, not a directory named off.
  const off = runNode(['--import', join(dist, 'register.js'), 'main.js'], { cwd: project, env: { COLDSTART_DEFER_CACHE: 'off' } });
  assert.equal(off.stdout, 'foo\n', off.stderr);
  assert.ok(!existsSync(join(project, 'off')));
  assert.ok(!existsSync(join(project, 'node_modules/.cache/coldstart/defer')));
});

test('doctor: a missing index and pack are fine, a refused one says what to do, runs say nothing of a pack never made', (t) => {
  const project = app(t);
  const missing = runCli(['doctor'], { cwd: project });
  assert.equal(missing.code, 0, missing.stdout);
  assert.match(missing.stdout, /state: +missing/);
  // A pack named on the command line that is not there is an error, not an optional file.
  const named = runCli(['doctor', '--pack', join(project, 'no-such.pack')], { cwd: project });
  assert.equal(named.code, 1, named.stdout);
  assert.match(named.stdout, /REFUSED \(.*no-such\.pack does not exist\)/);
  // A directory named as the pack: nothing to remove, the name is what is wrong.
  const folder = runCli(['doctor', '--pack', join(project, 'node_modules')], { cwd: project });
  assert.equal(folder.code, 1, folder.stdout);
  assert.match(folder.stdout, /is not a regular file\): runs ignore it; name a pack file/);
  assert.doesNotMatch(folder.stdout, /\brm /);
  // pack --out naming a directory, or a path under a file, fails before it records anything.
  // A FIFO stands for any special file (`--out /dev/null`), which writing the pack would replace.
  const fifo = join(project, 'fifo');
  process.getBuiltinModule('node:child_process').execFileSync('mkfifo', [fifo]);
  for (const out of [join(project, 'node_modules'), join(project, 'app.js', 'p.v1'), fifo]) {
    const refusedOut = runCli(['pack', '--out', out, '--', process.execPath, '-e', 'require("fs").writeFileSync("ran", "")'], { cwd: project });
    assert.equal(refusedOut.code, 2, refusedOut.stderr);
    assert.match(refusedOut.stderr, /is a directory|is a file, not a directory|is not a regular file/);
    assert.ok(!existsSync(join(project, 'ran')), 'nothing recorded');
  }
  // A script Node cannot find is named as such before anything runs, not reported as the
  // recorder's ES module resolution error; found scripts (by extension, with flags before them) run.
  const absent = runCli(['pack', '--lazy', '--', process.execPath, '--conditions', 'x', 'no-such.js', 'arg'], { cwd: project });
  assert.equal(absent.code, 2, absent.stderr);
  assert.match(absent.stderr, /cannot find 'no-such\.js', the script `.* --conditions x no-such\.js arg` runs/);
  assert.doesNotMatch(absent.stderr, /recording|ERR_MODULE_NOT_FOUND/);
  const byExtension = runCli(['pack', '--out', join(project, 'ext.pack'), '--', process.execPath, '-r', './app.js', 'app'], { cwd: project });
  assert.doesNotMatch(byExtension.stderr, /cannot find/);
  assert.match(byExtension.stderr, /recording/);
  assert.equal(runCli(['index'], { cwd: project }).code, 0);
  const run = runCli(['doctor', '--', process.execPath, 'app.js'], { cwd: project });
  assert.equal(run.code, 0, run.stderr);
  assert.doesNotMatch(run.stderr, /pack: missing/);
  // A section edited in place: runs check only what they read, doctor checks every section.
  const good = readFileSync(join(project, indexRel), 'latin1');
  writeFileSync(join(project, indexRel), Buffer.from(good.replace('"main":"main.js"', '"main":"mainXjs"'), 'latin1'));
  const corrupt = runCli(['doctor'], { cwd: project });
  assert.equal(corrupt.code, 1);
  assert.match(corrupt.stdout, /state: +CORRUPT \(section node_modules\/foo fails its checksum\): the next run with coldstart\/register builds a new one/);
  writeFileSync(join(project, indexRel), 'not an index');
  const { chmodSync } = process.getBuiltinModule('node:fs');
  chmodSync(join(project, indexRel), 0o666);
  const refused = runCli(['doctor'], { cwd: project });
  assert.equal(refused.code, 1);
  assert.match(refused.stdout, new RegExp(`REFUSED \\(.*\\): runs ignore it; remove it \\(rm ${join(project, indexRel)}\\) and the next run, or coldstart index, builds a new one`));
});

test('profile names typescript as a defer candidate when the CLI calls process.exit(), and for an ES module main', (t) => {
  const dir = realpathSync(tempDir(t, 'coldstart-exit-'));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(installedTree('bench/node_modules/typescript/package.json').slice(0, -'/package.json'.length), join(dir, 'node_modules/typescript'));
  writeTree(dir, {
    'package.json': { name: 'cli', private: true },
    'exits.cjs': "const ts = require('typescript');\nconsole.log('x');\nprocess.exit(0);\n",
    'main.mjs': "import ts from 'typescript';\nconsole.log('x');\n",
    'main-exits.mjs': "import ts from 'typescript';\nconsole.log('x');\nprocess.exit(0);\n",
  });
  for (const [file, line] of [['exits.cjs', "const ts = require('typescript');"], ['main.mjs', "import ts from 'typescript';"], ['main-exits.mjs', "import ts from 'typescript';"]]) {
    const out = join(dir, `${file}.json`);
    const result = runCli(['profile', '-q', '--json', out, '--', process.execPath, file], { cwd: dir });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 'x\n');
    const candidates = JSON.parse(readFileSync(out, 'utf8')).deferCandidates;
    assert.deepEqual(candidates.map((c) => [c.package, c.importer, c.statement]), [['typescript', join(dir, file), line]], file);
  }
});

test("Yarn Plug'n'Play: the index and the pack step aside cleanly, nothing is written inside the zip cache", (t) => {
  const dir = realpathSync(tempDir(t, 'coldstart-pnp-'));
  // What matters of Yarn's runtime here: it sets process.versions.pnp, and packages live in zips.
  writeTree(dir, {
    'package.json': { name: 'app', private: true, type: 'commonjs' },
    '.pnp.cjs': "process.versions.pnp = '3';\n",
    'app.js': 'console.log("app", typeof process.versions.pnp);',
  });
  const installed = join(dir, '.yarn/cache/coldstart-npm-0.1.0-0123456789.zip/node_modules/coldstart');
  mkdirSync(installed, { recursive: true });
  for (const part of ['dist', 'bin', 'package.json']) cpSync(join(root, part), join(installed, part), { recursive: true });
  symlinkSync(join(root, 'node_modules'), join(installed, 'node_modules'));
  const stats = { COLDSTART_INDEX_STATS: join(dir, 'index.jsonl'), COLDSTART_PACK_STATS: join(dir, 'pack.jsonl') };
  const plain = runNode(['-r', './.pnp.cjs', 'app.js'], { cwd: dir });
  const ours = runNode(['-r', './.pnp.cjs', '--require', join(installed, 'dist/register.cjs'), 'app.js'], { cwd: dir, env: stats });
  assert.equal(ours.stdout, plain.stdout);
  assert.equal(ours.stderr, plain.stderr);
  for (const file of Object.values(stats)) {
    const report = JSON.parse(readFileSync(file, 'utf8').trim());
    assert.equal(report.state, 'off');
    assert.match(report.reason, /Plug'n'Play/);
  }
  assert.ok(!existsSync(join(dir, '.yarn/cache/coldstart-npm-0.1.0-0123456789.zip/node_modules/.cache')), 'nothing written in the zip cache');
  const cli = join(installed, 'bin/coldstart.cjs');
  const index = runNode([cli, 'index'], { cwd: dir });
  assert.equal(index.code, 1);
  assert.match(index.stderr, /^coldstart index: not needed here: Yarn Plug'n'Play resolves every module from its own map/);
  const doctor = runNode([cli, 'doctor'], { cwd: dir });
  assert.equal(doctor.code, 0, doctor.stdout);
  assert.match(doctor.stdout, /state: +off \(Yarn Plug'n'Play/);
  assert.match(doctor.stdout, /pack state: +off \(Yarn Plug'n'Play/);
});

// A new user's CLI tried an optional dependency: the recording run must see Node's own errors.
test('coldstart pack records a program that catches a missing module exactly as Node runs it', (t) => {
  const dir = app(t);
  writeFileSync(join(dir, 'dyn.mjs'), 'try { await import("nope"); } catch (e) { console.log("caught", e.code); }\n');
  for (const [entry, printed] of [['app.js', 'foo MODULE_NOT_FOUND\n'], ['dyn.mjs', 'caught ERR_MODULE_NOT_FOUND\n']]) {
    assert.equal(runNode([entry], { cwd: dir }).stdout, printed);
    for (const lazy of [[], ['--lazy']]) {
      const r = runCli(['pack', ...lazy, '--', 'node', entry], { cwd: dir });
      assert.equal(r.code, 0, r.stderr);
      assert.ok(r.stdout.includes(printed), `${entry} ${lazy}: ${r.stdout}${r.stderr}`);
      assert.doesNotMatch(r.stderr, /TypeError|exited with/);
    }
  }
});

// A new user ran `node -r <link>/node_modules/coldstart/dist/register.cjs <link>/cli.js` from
// outside the project, through a symlinked folder: nothing was used, and nothing said why.
test('a project run through a symlinked folder from outside it is found by the entry\'s real path', (t) => {
  const dir = app(t);
  const installed = join(dir, 'node_modules/coldstart');
  mkdirSync(installed, { recursive: true });
  cpSync(dist, join(installed, 'dist'), { recursive: true });
  cpSync(join(root, 'package.json'), join(installed, 'package.json'));
  const link = `${dir}-link`;
  symlinkSync(dir, link);
  t.after(() => rmSync(link, { force: true }));
  const outside = realpathSync(tempDir(t, 'coldstart-outside-'));
  const r = runNode(['--require', join(link, 'node_modules/coldstart/dist/register.cjs'), join(link, 'app.js')], { cwd: outside, env: { COLDSTART_DEBUG: '1', COLDSTART_STEP_ASIDE: '0' } });
  assert.equal(r.stdout, 'foo MODULE_NOT_FOUND\n');
  assert.match(r.stderr, new RegExp(`index: built ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/node_modules/\\.cache/coldstart/index\\.v1`));
  // Elsewhere, the debug output says why nothing is used.
  writeFileSync(join(outside, 'script.js'), '');
  const none = runNode(['--require', join(dist, 'register.cjs'), 'script.js'], { cwd: outside, env: { COLDSTART_DEBUG: '1' } });
  assert.match(none.stderr, /no node_modules directory above the working directory, and the entry script is not in the project holding coldstart/);
});
