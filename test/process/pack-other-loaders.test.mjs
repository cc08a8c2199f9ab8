// A pack records what Node compiled; a file another loader transformed while the pack was
// recorded (tsx, a require hook) is not what a later run without that loader compiles, so it is
// left to Node: the run then gives exactly what plain Node gives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, realpathSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { dist, root as repo, runCli, runNode, tempDir, writeTree } from '../helpers.mjs';

const register = join(dist, 'register.cjs');

// Node itself drops the typeless-package warning of a crashing ES module once any --import
// preload ran (an empty one too): not compared.
const warnings = (stderr) => stderr.replace(/\(node:\d+\) \[MODULE_TYPELESS_PACKAGE_JSON\][^]*?\(Use `node --trace-warnings[^\n]*\n/g, '');

function same(dir, args, label) {
  const plain = runNode(args, { cwd: dir });
  for (const flag of ['--require', '--import']) {
    const ours = runNode([flag, register, ...args], { cwd: dir, env: { COLDSTART_STEP_ASIDE: '0' } });
    assert.deepEqual({ code: ours.code, stdout: ours.stdout, stderr: warnings(ours.stderr) }, { code: plain.code, stdout: plain.stdout, stderr: warnings(plain.stderr) }, `${label} (${flag})`);
  }
  return plain;
}

test('a module a require hook transformed while recording is read from disk without the hook', (t) => {
  const dir = realpathSync(tempDir(t, 'coldstart-hooked-'));
  writeTree(dir, {
    'package.json': { name: 'app', private: true },
    'node_modules/.package-lock.json': '{"lockfileVersion":3}',
    // A hook such as pirates or @babel/register: it compiles a transformed source.
    'hook.cjs': [
      'const Module = require("node:module");',
      'const js = Module._extensions[".js"];',
      'Module._extensions[".js"] = function (module, filename) {',
      '  if (!filename.includes("/src/")) return js(module, filename);',
      '  const text = require("node:fs").readFileSync(filename, "utf8");',
      '  module._compile(text.replace("PLAIN", "TRANSFORMED"), filename);',
      '};',
    ].join('\n'),
    'main.js': 'console.log(require("./src/a"), require("./src/b"));',
    'src/a.js': 'module.exports = "a PLAIN";',
    'src/b.js': '\uFEFFmodule.exports = "b untouched";',
  });
  const r = runCli(['pack', '--always', '--', 'node', '-r', './hook.cjs', 'main.js'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /a TRANSFORMED b untouched/);
  assert.match(r.stdout, /packed 2 modules .*1 loaded files? left out/, 'main.js and b.js (a byte order mark is no transform); not a.js');
  assert.equal(same(dir, ['main.js'], 'without the hook').stdout, 'a PLAIN b untouched\n');
  assert.equal(same(dir, ['-r', './hook.cjs', 'main.js'], 'with it').stdout, 'a TRANSFORMED b untouched\n');
  // The hook preloaded before coldstart: coldstart must not read a source past it (index or pack).
  for (const pack of [{}, { COLDSTART_PACK: 'off' }]) {
    const hooked = runNode(['-r', './hook.cjs', '--require', register, 'main.js'], { cwd: dir, env: { COLDSTART_STEP_ASIDE: '0', ...pack } });
    assert.equal(hooked.stdout, 'a TRANSFORMED b untouched\n', hooked.stderr);
  }
  // On Node 20 (no in-thread hooks) a preload that replaces none of require()'s functions (an
  // APM agent, dotenv) leaves the pack serving; Node 22+ leave every earlier preload's files to Node.
  if (Number(process.versions.node.split('.')[0]) < 22) {
    writeTree(dir, { 'harmless.cjs': 'globalThis.preloaded = true;' });
    const doctor = (preload) => {
      const r = runCli(['doctor', '--', 'node', 'main.js'], { cwd: dir, env: { COLDSTART_STEP_ASIDE: '0', NODE_OPTIONS: `--require ./${preload}` } });
      return r.stdout + r.stderr;
    };
    assert.match(doctor('harmless.cjs'), /pack: [1-9]\d* module loads? served from it/);
    assert.match(doctor('hook.cjs'), /pack: 0 module loads served from it/);
  }
});

// tsx compiles TypeScript through require() in a package without "type", and through its ES
// module hooks (after which the recorder sees the file's own bytes) in one with "type": "module".
for (const [type, util] of [[undefined, './util'], ['module', './util.ts']]) test(`a pack recorded under tsx leaves the TypeScript it compiled to Node and tsx (${type ?? 'no'} "type")`, (t) => {
  const dir = realpathSync(tempDir(t, 'coldstart-tsx-'));
  writeTree(dir, {
    'package.json': { name: 'app', private: true, ...(type === undefined ? {} : { type }) },
    'node_modules/.package-lock.json': '{"lockfileVersion":3}',
    'src/util.ts': 'export const two = (): number => 2;\n',
    'src/app.ts': `import { two } from "${util}";\nconsole.log("ts says", two());\n`,
  });
  mkdirSync(join(dir, 'node_modules'), { recursive: true });
  symlinkSync(join(repo, 'node_modules', 'tsx'), join(dir, 'node_modules', 'tsx'));
  const r = runCli(['pack', '--always', '--', 'node', '--import', 'tsx', 'src/app.ts'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /ts says 2/);
  assert.match(r.stdout, /packed 0 modules/);
  same(dir, ['src/app.ts'], 'without tsx');
  assert.equal(same(dir, ['--import', 'tsx', 'src/app.ts'], 'with tsx').stdout, 'ts says 2\n');
});
