// A CommonJS program whose pack holds a few ES modules (npm: 5 of 84) is served without a
// registerHooks resolve hook: such a hook would put every require() through Node's hooked
// resolution. require() is answered in the CommonJS resolution step, the ES modules' sources come
// from a load hook, and a served module's learned stand-in imports are written as the stand-ins'
// URLs, which Node's own resolver hands to the load hook. Node's own debug log (NODE_DEBUG=module)
// names each require() that went through the hooked path: that is what is counted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { dist, runCli, runNode, tempDir, writeTree } from '../helpers.mjs';

const { readPackFile } = await import(pathToFileURL(join(dist, 'pack/store.js')).href);
const registerCjs = join(dist, 'register.cjs');
const base = { COLDSTART_INDEX: 'off', COLDSTART_PACK: '', COLDSTART_PACK_VERIFY: '', COLDSTART_ROOT: '', COLDSTART_EAGER: '', COLDSTART_HOOKS: '', NODE_DEBUG: '' };
const registerHooks = typeof (await import('node:module')).registerHooks === 'function';
const standInUrls = Number(process.versions.node.split('.')[0]) >= 24;

const pkg = (name, text, type = 'commonjs') => ({
  [`node_modules/${name}/package.json`]: JSON.stringify({ name, version: '1.0.0', type, main: 'index.js' }),
  [`node_modules/${name}/index.js`]: text,
});

const chain = 16;
const tree = {
  'package.json': '{"name":"mostly-cjs-app","private":true}',
  ...Object.assign(
    {},
    ...Array.from({ length: chain }, (_, i) => pkg(`cjs-${i}`, i + 1 < chain ? `const next = require("cjs-${i + 1}");\nmodule.exports = () => ${i} + next();\n` : 'module.exports = () => 0;\n')),
  ),
  // Required only inside a function: learned deferral makes it wait.
  ...pkg('cjs-lazy', 'const heavy = require("cjs-heavy");\nmodule.exports = () => heavy();\n'),
  ...pkg('cjs-heavy', 'module.exports = () => "heavy";\n'),
  ...pkg('cjs-after', 'module.exports = "after";\n'),
  // The ES modules: one default-imports a package and a builtin it reads only in a function.
  ...pkg('esm-part', 'import dep from "esm-dep";\nimport os from "node:os";\nexport const run = () => `${dep()} ${typeof os.cpus}`;\n', 'module'),
  ...pkg('esm-dep', 'export default () => "esm dep";\n', 'module'),
  ...pkg('esm-other', 'import dep2 from "esm-dep2";\nexport const other = () => dep2();\n', 'module'),
  ...pkg('esm-dep2', 'export default () => "esm dep2";\n', 'module'),
  'main.js': [
    // Another tool's off-thread hooks: Node runs preloads in their thread too (see core-loader.ts).
    'if (process.argv[2] === "--register") require("node:module").register("data:text/javascript,export async function resolve(s, c, n) { return n(s, c); }");',
    'const sum = require("cjs-0")();',
    'const lazy = require("cjs-lazy");',
    'console.log("sum", sum);',
    'process.stderr.write("--- requires done\\n");',
    // require() of the ES module (Node 22.12+): its stand-in imports are resolved on that path too.
    'if (process.argv[2] === "--require-esm") console.log("required", require("esm-part").run());',
    'import("esm-part").then(async (m) => {',
    '  console.log(process.argv[2] === "--use" ? [m.run(), lazy()].join(" ") : typeof m.run);',
    '  console.log(require("cjs-after"));',
    // Off-thread hooks run after every in-thread one: they must still see each import.
    '  if (process.argv[2] === "--register-after") require("node:module").register("./off-thread-hooks.mjs", require("node:url").pathToFileURL(__filename));',
    '  console.log((await import("esm-other")).other());',
    '});',
    '',
  ].join('\n'),
  // Off-thread hooks that see every import, and give one module a source of their own.
  'off-thread-hooks.mjs': [
    'import { writeSync } from "node:fs";',
    'export async function resolve(specifier, context, next) {',
    '  if (!specifier.startsWith("node:")) writeSync(1, `seen ${specifier}\\n`);',
    '  return next(specifier, context);',
    '}',
    'export async function load(url, context, next) {',
    '  const result = await next(url, context);',
    '  return url.includes("esm-dep2") ? { ...result, source: "export default () => \\"dep2 from an off-thread load hook\\";", shortCircuit: true } : result;',
    '}',
    '',
  ].join('\n'),
  // The same modules under an ES module entry, whose imports the index resolves in a hook anyway.
  'esm-main.mjs': 'import { createRequire } from "node:module";\nconst require = createRequire(import.meta.url);\nconsole.log("sum", require("cjs-0")());\nconst m = await import("esm-part");\nconsole.log(m.run());\n',
};

/** require() calls Node resolved through its hooked path (before the program's marker, or in all). */
function hooked(stderr, beforeMarker = true) {
  const part = beforeMarker ? stderr.slice(0, stderr.indexOf('--- requires done')) : stderr;
  return part.split('\n').filter((line) => line.includes('resolveForCJSWithHooks')).length;
}

test('pack, a CommonJS program with a few ES modules: require() is not put through a resolve hook', { skip: registerHooks ? false : 'registerHooks: Node 22.15+' }, (t) => {
  const dir = realpathSync(tempDir(t, 'coldstart-mostly-cjs-'));
  writeTree(dir, tree);
  const built = runCli(['pack', '--lazy', '--always', '--', process.execPath, 'main.js', '--use'], { cwd: dir, env: base });
  assert.equal(built.code, 0, built.stderr);
  const read = readPackFile(join(dir, 'node_modules/.cache/coldstart/pack.v1'));
  assert.ok(read.ok, read.reason);
  read.pack.body.close();
  const deferred = new Map((read.pack.header.lazy ?? []).map((row) => [row[0], row[4]]));
  assert.deepEqual(deferred.get('node_modules/esm-part/index.js'), ['esm-dep', 'node:os'], 'the ES module imports a stand-in');
  assert.deepEqual(deferred.get('node_modules/cjs-lazy/index.js'), ['cjs-heavy']);

  for (const args of [[], ['--use'], ['--register'], ['--register-after'], ['--require-esm']]) {
    const plain = runNode(['main.js', ...args], { cwd: dir, env: base });
    assert.equal(plain.code, 0, plain.stderr);
    const stats = join(dir, `stats-${args[0] ?? 'none'}.jsonl`);
    const served = runNode(['--require', registerCjs, 'main.js', ...args], { cwd: dir, env: { ...base, COLDSTART_PACK_STATS: stats } });
    const pidless = (text) => text.replace(/\(node:\d+\)/g, '(node)');
    assert.deepEqual([served.code, served.stdout, pidless(served.stderr)], [plain.code, plain.stdout, pidless(plain.stderr)], args.join(' '));
    const report = JSON.parse(readFileSync(stats, 'utf8').trim().split('\n').pop());
    assert.equal(report.state, 'used', JSON.stringify(report));
    assert.equal(report.hooks, 'load-hook', JSON.stringify(report));
    assert.equal(report.counts.misses, 0, JSON.stringify(report));
    if (args[0] === '--register-after') assert.match(plain.stdout, /seen esm-other\nseen esm-dep2\ndep2 from an off-thread load hook\n/);
    // Every module the run loads, ES modules included, comes from the pack, or is left to Node
    // as written once another tool may redirect imports (--register: esm-dep then loads at once).
    const loaded = chain + 6 + ({ '--use': 2, '--register': 1, '--require-esm': 1 }[args[0]] ?? 0);
    assert.equal(report.counts.hits + report.counts.foreign, loaded, JSON.stringify(report));
  }

  // Node's own log: no require() before the marker went through the hooked resolution, while the
  // same pack with the resolve hook forced puts each of them through it.
  const debugged = runNode(['--require', registerCjs, 'main.js', '--use'], { cwd: dir, env: { ...base, NODE_DEBUG: 'module' } });
  assert.equal(debugged.code, 0, debugged.stderr);
  assert.match(debugged.stdout, /esm dep function heavy\nafter\nesm dep2\n/);
  // Node 24+: none in the whole run, the stand-ins being served as URLs. Node 22 cannot take such
  // a URL in an ES module loaded by require(), so the hook joins with the first stand-in there.
  assert.equal(hooked(debugged.stderr, !standInUrls), 0, 'no require() resolved through a hook');
  const forced = runNode(['--require', registerCjs, 'main.js', '--use'], { cwd: dir, env: { ...base, NODE_DEBUG: 'module', COLDSTART_HOOKS: 'registerHooks' } });
  assert.equal(forced.code, 0, forced.stderr);
  assert.ok(hooked(forced.stderr) >= chain, 'the forced resolve hook is seen by the count');

  // An ES module entry keeps the resolve hook.
  const esmPack = join(dir, 'esm-entry.pack');
  const esmBuilt = runCli(['pack', '--lazy', '--always', '--out', esmPack, '--', process.execPath, 'esm-main.mjs'], { cwd: dir, env: base });
  assert.equal(esmBuilt.code, 0, esmBuilt.stderr);
  const plain = runNode(['esm-main.mjs'], { cwd: dir, env: base });
  const stats = join(dir, 'stats-esm.jsonl');
  const served = runNode(['--require', registerCjs, 'esm-main.mjs'], { cwd: dir, env: { ...base, COLDSTART_PACK: esmPack, COLDSTART_PACK_STATS: stats } });
  assert.deepEqual([served.code, served.stdout, served.stderr], [plain.code, plain.stdout, plain.stderr]);
  const report = JSON.parse(readFileSync(stats, 'utf8').trim().split('\n').pop());
  assert.equal(report.hooks, 'registerHooks', JSON.stringify(report));
});
