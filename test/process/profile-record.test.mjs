// `coldstart profile` on real processes: CommonJS-only and ESM-only programs, passthrough of
// stdout/stderr/exit code, module counts against Node's own list, child processes, the files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { dist, runCli, runNode, tempDir } from '../helpers.mjs';
import { writeCjsApp, writeEsmApp, writeLateEsmApps, writeParentChild } from './profile-fixtures.mjs';
import nodeModule from 'node:module';

const realTemp = (t) => realpathSync(tempDir(t, 'coldstart-profile-test-'));
const ownModules = (p) => p.modules.filter((m) => m.format !== 'builtin');

test('a CommonJS program: passthrough, every module Node loaded, the unused package as candidate', (t) => {
  const dir = realTemp(t);
  const { main } = writeCjsApp(dir);
  const cacheOut = join(dir, 'cache.json');
  const jsonOut = join(dir, 'report.json');
  const r = runCli(['profile', '--json', jsonOut, '--', process.execPath, main], { cwd: dir, env: { CACHE_OUT: cacheOut } });
  assert.equal(r.code, 7, r.stderr);
  assert.equal(r.stdout, 'hello [local]1/\n');
  assert.match(r.stderr, /^to stderr\n/);
  const report = JSON.parse(readFileSync(jsonOut, 'utf8'));
  assert.equal(report.schema, 'coldstart.profile/1');
  assert.equal(report.exitCode, 7);
  assert.equal(report.processes.length, 1);
  const [p] = report.processes;
  // Node's own list of loaded CommonJS modules, taken by the same run.
  const cache = JSON.parse(readFileSync(cacheOut, 'utf8')).sort();
  assert.deepEqual(ownModules(p).map((m) => m.key).sort(), cache);
  assert.equal(p.moduleCount, cache.length);
  assert.deepEqual(p.byFormat, { commonjs: 5, json: 1 });
  assert.ok(p.modules.some((m) => m.key === 'node:path' && m.format === 'builtin'));
  const byKey = new Map(p.modules.map((m) => [m.key, m]));
  const unused = byKey.get(join(dir, 'node_modules/unused-pkg/index.js'));
  assert.equal(unused.specifier, 'unused-pkg');
  assert.equal(byKey.get(join(dir, 'main.cjs')).id, unused.parent);
  assert.ok(unused.inclusiveMs >= byKey.get(join(dir, 'node_modules/unused-pkg/lib.js')).inclusiveMs);
  assert.ok(unused.size > 0 && unused.durMs >= unused.selfMs - 1e-9);
  assert.deepEqual(report.deferCandidates.map((c) => c.package), ['unused-pkg']);
  const [candidate] = report.deferCandidates;
  assert.equal(candidate.line, 1);
  assert.equal(candidate.replacement, "const unused = lazy('unused-pkg', __filename);");
  assert.equal(candidate.modules, 2);
  assert.match(r.stderr, /module loading: [\d.]+ ms of [\d.]+ ms/);
  assert.match(r.stderr, /main\.cjs:1 +const unused = require\('unused-pkg'\);\n +replace with: const unused = lazy\('unused-pkg', __filename\);/);
});

test('a program run with coldstart/register is recorded whole, with the index and with a pack serving its sources', (t) => {
  const dir = realTemp(t);
  const { main } = writeCjsApp(dir);
  // --require runs before the profiler's own preload, --import after it: then the index's and
  // the pack's source handlers are installed over the profiler's, and must not hide loads from it.
  const preloads = { require: ['--require', join(dist, 'register.cjs')], import: ['--import', pathToFileURL(join(dist, 'register.js')).href] };
  const profiled = (name, flag) => {
    const cacheOut = join(dir, `${name}.cache.json`);
    const jsonOut = join(dir, `${name}.json`);
    const stats = { COLDSTART_INDEX_STATS: join(dir, `${name}.index.jsonl`), COLDSTART_PACK_STATS: join(dir, `${name}.pack.jsonl`) };
    const htmlOut = join(dir, `${name}.html`);
    const r = runCli(['profile', '--json', jsonOut, '--html', htmlOut, '--', process.execPath, ...preloads[flag], main], { cwd: dir, env: { CACHE_OUT: cacheOut, ...stats } });
    assert.equal(r.code, 7, r.stderr);
    assert.equal(r.stdout, 'hello [local]1/\n');
    const [p] = JSON.parse(readFileSync(jsonOut, 'utf8')).processes;
    // coldstart's own files are not the program's (Node lists a --require preload in require.cache).
    const cache = JSON.parse(readFileSync(cacheOut, 'utf8')).filter((key) => !key.startsWith(dist)).sort();
    assert.deepEqual(ownModules(p).map((m) => m.key).sort(), cache, `${name} ${flag}`);
    assert.deepEqual(p.byFormat, { commonjs: 5, json: 1 }, `${name} ${flag}`);
    const lib = p.modules.find((m) => m.key === join(dir, 'node_modules/unused-pkg/lib.js'));
    assert.ok(lib.size > 0 && lib.parent !== null, `${name} ${flag}: ${JSON.stringify(lib)}`);
    const report = (kind) => JSON.parse(readFileSync(join(dir, `${name}.${kind}.jsonl`), 'utf8').trim().split('\n').at(-1));
    // Which modules the pack served: exactly as many as the pack counted, and only then.
    const fromPack = p.modules.filter((m) => m.fromPack === true);
    assert.equal(p.fromPackCount, fromPack.length);
    assert.equal(fromPack.length, name === 'pack' ? report('pack').counts.hits : 0, `${name} ${flag}`);
    assert.equal(readFileSync(htmlOut, 'utf8').split('"from":"pack"').length - 1, fromPack.length, `${name} ${flag}: HTML source column`);
    if (name === 'pack') {
      assert.ok(fromPack.some((m) => m.key === lib.key), `${flag}: lib.js came from the pack`);
      assert.match(r.stderr, new RegExp(`; ${fromPack.length} served from the pack \\(marked \\[pack\\]\\)`));
      assert.match(r.stderr, /unused-pkg\/index\.js \[pack\]/);
    } else assert.doesNotMatch(r.stderr, /\[pack\]/);
    return report;
  };
  runNode([...preloads.require, main], { cwd: dir }); // builds the index
  for (const flag of ['require', 'import']) {
    const indexed = profiled('index', flag);
    assert.equal(indexed('index').state, 'used');
    assert.ok(indexed('index').sources.served > 0, 'the index served sources: ' + JSON.stringify(indexed('index').sources));
  }
  assert.equal(runCli(['pack', '--always', '--', process.execPath, main], { cwd: dir }).code, 0);
  for (const flag of ['require', 'import']) {
    const packed = profiled('pack', flag);
    assert.equal(packed('pack').state, 'used');
    assert.ok(packed('pack').counts.hits > 0, JSON.stringify(packed('pack').counts));
  }
});

test('an ES module program: every file, evaluation timed, the unused package as candidate', (t) => {
  const dir = realTemp(t);
  const { main, files } = writeEsmApp(dir);
  const jsonOut = join(dir, 'report.json');
  const r = runCli(['profile', '--json', jsonOut, '--', process.execPath, main], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'hello [local]/\n');
  const [p] = JSON.parse(readFileSync(jsonOut, 'utf8')).processes;
  assert.deepEqual(ownModules(p).map((m) => m.key).sort(), files.map((f) => join(dir, f)).sort());
  for (const m of ownModules(p)) {
    assert.equal(m.format, 'module', m.key);
    assert.equal(typeof m.startMs, 'number', `evaluation of ${m.key} was observed`);
  }
  assert.ok(p.modules.some((m) => m.key === 'node:path'));
  const report = JSON.parse(readFileSync(jsonOut, 'utf8'));
  assert.deepEqual(report.deferCandidates.map((c) => c.package), ['esm-unused']);
  assert.equal(report.deferCandidates[0].replacement, "const { build } = lazyNamed('esm-unused', import.meta.url, ['build']);");
});

test('child processes are recorded too, and --trace writes complete events', (t) => {
  const dir = realTemp(t);
  writeParentChild(dir);
  const traceOut = join(dir, 'trace.json');
  const r = runCli(['profile', '--no-coverage', '--trace', traceOut, '--', process.execPath, 'parent.cjs'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'child ran\n');
  assert.equal((r.stderr.match(/^process \d+: /gm) ?? []).length, 2, r.stderr);
  assert.match(r.stderr, /child-dep\.mjs|1 more under/);
  const trace = JSON.parse(readFileSync(traceOut, 'utf8'));
  const pids = new Set(trace.traceEvents.filter((e) => e.ph === 'X').map((e) => e.pid));
  assert.equal(pids.size, 2);
  assert.ok(trace.traceEvents.every((e) => e.ph === 'M' || (Number.isFinite(e.ts) && Number.isFinite(e.dur))));
  assert.ok(trace.traceEvents.some((e) => e.ph === 'X' && e.name === 'child-dep.mjs'));
});

test('a worker thread is not recorded: one process, the main thread\'s modules only', (t) => {
  const dir = realTemp(t);
  writeFileSync(join(dir, 'main.mjs'), "import { Worker } from 'node:worker_threads';\nimport { label } from './main-dep.mjs';\nconst w = new Worker(new URL('./worker.mjs', import.meta.url));\nw.on('message', (m) => console.log(label, m));\n");
  writeFileSync(join(dir, 'main-dep.mjs'), "export const label = 'worker said';\n");
  writeFileSync(join(dir, 'worker.mjs'), "import { parentPort } from 'node:worker_threads';\nimport { word } from './worker-dep.mjs';\n// The recorder's global: set only where the recorder installed.\nparentPort.postMessage(`${word} ${typeof globalThis[Symbol.for('coldstart.profile')]}`);\n");
  writeFileSync(join(dir, 'worker-dep.mjs'), "export const word = 'hi';\n");
  const jsonOut = join(dir, 'report.json');
  for (const mode of [[], ['--spawn']]) {
    const r = runCli(['profile', '--json', jsonOut, ...mode, '--', process.execPath, 'main.mjs'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    // Spawned, the worker gets the preload through NODE_OPTIONS too, and must leave it be.
    assert.equal(r.stdout, 'worker said hi undefined\n');
    const { processes } = JSON.parse(readFileSync(jsonOut, 'utf8'));
    assert.equal(processes.length, 1);
    assert.deepEqual(ownModules(processes[0]).map((m) => m.key).sort(), [join(dir, 'main-dep.mjs'), join(dir, 'main.mjs')]);
  }
});

test('`node <script>` runs in the coldstart process; --spawn runs it as a child; both record the same', (t) => {
  for (const write of [writeCjsApp, writeEsmApp]) {
    const dir = realTemp(t);
    const { main } = write(dir);
    const reports = {};
    for (const mode of ['in-process', 'spawn']) {
      const jsonOut = join(dir, `${mode}.json`);
      const r = runCli(['profile', '--json', jsonOut, ...(mode === 'spawn' ? ['--spawn'] : []), '--', process.execPath, main], { cwd: dir, env: { CACHE_OUT: join(dir, 'cache.json') } });
      reports[mode] = { r, report: JSON.parse(readFileSync(jsonOut, 'utf8')) };
    }
    const inProcess = reports['in-process'];
    const spawned = reports.spawn;
    assert.equal(inProcess.r.code, spawned.r.code);
    assert.equal(inProcess.r.stdout, spawned.r.stdout);
    const [a] = inProcess.report.processes;
    const [b] = spawned.report.processes;
    // In-process, the recording process is the coldstart command itself; spawned, it is a child.
    assert.notEqual(a.ppid, b.ppid);
    assert.deepEqual(ownModules(a).map((m) => m.key).sort(), ownModules(b).map((m) => m.key).sort());
    assert.equal(a.mainPath, b.mainPath);
    assert.deepEqual(inProcess.report.deferCandidates.map((c) => c.replacement), spawned.report.deferCandidates.map((c) => c.replacement));
  }
});

// In its own process, a program that starts as CommonJS gets the ES module hooks only at its first
// ES module: every way one can arrive must still be recorded, static imports included.
test('a CommonJS program reaching ES modules late: every way records them, in-process and spawned; the hooks come in only then', { skip: typeof nodeModule.registerHooks !== 'function' && 'module.registerHooks is missing' }, (t) => {
  const dir = realTemp(t);
  for (const [way, app] of Object.entries(writeLateEsmApps(dir))) {
    const reports = {};
    for (const mode of ['in-process', 'spawn']) {
      const jsonOut = join(app.dir, `${mode}.json`);
      const r = runCli(['profile', '--no-coverage', '--json', jsonOut, ...(mode === 'spawn' ? ['--spawn'] : []), '--', process.execPath, app.main], { cwd: app.dir });
      assert.equal(r.code, 0, `${way} ${mode}: ${r.stderr}`);
      assert.equal(r.stdout, 'value 2\n', `${way} ${mode}`);
      const [p] = JSON.parse(readFileSync(jsonOut, 'utf8')).processes;
      const keys = ownModules(p).map((m) => m.key).sort();
      assert.deepEqual(keys, ['main.cjs', 'plain.cjs', ...app.esm].map((f) => join(app.dir, f)).sort(), `${way} ${mode}`);
      const b = ownModules(p).find((m) => m.key.endsWith(app.esm[1]));
      assert.equal(b.format, 'module', `${way} ${mode}: ${app.esm[1]} came through the ES module hooks`);
      reports[mode] = p;
    }
    // Both ways the hooks (back) in only after plain.cjs had loaded: in-process they wait from
    // the start; spawned (an --import preload) they come out when main.cjs loads as CommonJS.
    for (const [mode, p] of Object.entries(reports)) {
      const plain = p.modules.find((m) => m.key === join(app.dir, 'plain.cjs'));
      assert.ok(p.esmHooksFromMs > plain.startMs + plain.durMs, `${way} ${mode}: hooks at ${p.esmHooksFromMs} ms, plain.cjs loaded by ${plain.startMs + plain.durMs} ms`);
    }
  }
  // A CommonJS program that loads no ES module ends without them, both ways.
  const cjs = realTemp(t);
  writeCjsApp(cjs);
  for (const mode of ['in-process', 'spawn']) {
    const jsonOut = join(cjs, `${mode}.json`);
    const r = runCli(['profile', '--no-coverage', '--json', jsonOut, ...(mode === 'spawn' ? ['--spawn'] : []), '--', process.execPath, 'main.cjs'], { cwd: cjs });
    assert.equal(r.code, 7, r.stderr);
    assert.equal(JSON.parse(readFileSync(jsonOut, 'utf8')).processes[0].esmHooksFromMs, null, mode);
    assert.match(r.stderr, /no ES module loaded \(module\.registerHooks never needed\)/);
  }
});

test('in-process, an error thrown while loading prints as Node prints it, and the report still comes', (t) => {
  const dir = realTemp(t);
  writeFileSync(join(dir, 'boom.cjs'), "require('node:path');\nthrow new Error('boom at load');\n");
  const plain = runNode(['boom.cjs'], { cwd: dir });
  const r = runCli(['profile', '--no-coverage', '--', process.execPath, 'boom.cjs'], { cwd: dir });
  assert.equal(r.code, plain.code);
  assert.equal(r.code, 1);
  // Node's own uncaught-exception output: the source line, the caret, the message, the frame
  // (after the report: Node runs 'exit' listeners before it prints an uncaught error).
  const head = plain.stderr.split('\n').slice(0, 6).join('\n');
  assert.ok(r.stderr.includes(head), r.stderr);
  assert.match(r.stderr, /coldstart profile: .*boom\.cjs +\(exit 1,/);
  assert.match(r.stderr, /modules: 1 \(CommonJS 1\)/);
});

test('an ES module error that quotes line 1 reads as without the profiler', (t) => {
  const dir = realTemp(t);
  writeFileSync(join(dir, 'bad-import.mjs'), "import { nope } from 'node:fs';\nconsole.log(nope);\n");
  const plain = runNode(['bad-import.mjs'], { cwd: dir });
  for (const mode of [[], ['--spawn']]) {
    const r = runCli(['profile', '-q', '--no-coverage', ...mode, '--', process.execPath, 'bad-import.mjs'], { cwd: dir });
    assert.equal(r.code, plain.code);
    // The file line, the source line with its caret, and the message: no marker in sight.
    const head = plain.stderr.split('\n').slice(0, 4).join('\n');
    assert.match(head, /import \{ nope \} from 'node:fs';\n +\^+\nSyntaxError/);
    assert.ok(r.stderr.includes(head), r.stderr);
  }
});

test('profile without a command, or with an unknown option, is a usage error', () => {
  assert.equal(runCli(['profile']).code, 2);
  const r = runCli(['profile', '--nope', '--', 'node', '-e', '0']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown option '--nope'/);
});

test('a command that is not Node is reported as such, with its exit code', () => {
  const r = runCli(['profile', '--', 'sh', '-c', 'exit 5']);
  assert.equal(r.code, 5);
  assert.match(r.stderr, /no Node process reported/);
});

test('the unprofiled program is untouched when recording is off', (t) => {
  const dir = realTemp(t);
  writeCjsApp(dir);
  const r = runNode(['main.cjs'], { cwd: dir });
  assert.equal(r.code, 7);
  assert.equal(r.stdout, 'hello [local]1/\n');
});
