// A workspace package is first-party code that the user edits: after `coldstart index` (and a
// pack), moving or adding its files must give exactly what plain Node gives, with no manual step.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, realpathSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dist, runCli, runNode, tempDir, writeTree } from '../helpers.mjs';

const register = join(dist, 'register.cjs');

function workspace(t) {
  const root = realpathSync(tempDir(t, 'coldstart-ws-'));
  writeTree(root, {
    'package.json': { name: 'app', private: true, workspaces: ['packages/*'] },
    'package-lock.json': '{"lockfileVersion":3}',
    'node_modules/.package-lock.json': '{"lockfileVersion":3}',
    'packages/lib/package.json': { name: '@ws/lib', version: '1.0.0', main: 'src/main.js' },
    'packages/lib/src/main.js': 'module.exports = require("./a") + " " + require("./util");',
    'packages/lib/src/a.js': 'module.exports = "a.js";',
    'packages/lib/src/util/index.js': 'module.exports = "util/index.js";',
    'ua.js': 'console.log(require("@ws/lib"), require("@ws/lib/src/a"), require("@ws/lib/src/util"));',
    'ua.mjs': 'import lib from "@ws/lib"; console.log(lib);',
  });
  mkdirSync(join(root, 'node_modules/@ws'), { recursive: true });
  symlinkSync('../../packages/lib', join(root, 'node_modules/@ws/lib'));
  return root;
}

function compare(root, label) {
  for (const app of ['ua.js', 'ua.mjs']) {
    const plain = runNode([app], { cwd: root });
    assert.equal(plain.code, 0, plain.stderr);
    for (const flag of ['--require', '--import']) {
      const ours = runNode([flag, register, app], { cwd: root });
      assert.equal(ours.stderr, plain.stderr, `${label}: ${flag} ${app}`);
      assert.equal(ours.stdout, plain.stdout, `${label}: ${flag} ${app}`);
      assert.equal(ours.code, plain.code, `${label}: ${flag} ${app}`);
    }
  }
}

test('workspace refactoring after coldstart index: moved and added files answer as plain Node', (t) => {
  const root = workspace(t);
  const built = runCli(['index'], { cwd: root });
  assert.equal(built.code, 0, built.stderr);
  compare(root, 'as built');
  // A file becomes a folder with an index.js.
  mkdirSync(join(root, 'packages/lib/src/a'));
  renameSync(join(root, 'packages/lib/src/a.js'), join(root, 'packages/lib/src/a/index.js'));
  writeFileSync(join(root, 'packages/lib/src/a/index.js'), 'module.exports = "a/index.js";');
  compare(root, 'a.js moved to a/index.js');
  // A file added beside a folder of the same name wins in Node's lookup order.
  writeFileSync(join(root, 'packages/lib/src/util.js'), 'module.exports = "util.js";');
  compare(root, 'util.js added beside util/');
});

test('workspace refactoring after coldstart pack: moved and added files answer as plain Node', (t) => {
  const root = workspace(t);
  const packed = runCli(['pack', '--always', '--', 'node', 'ua.js'], { cwd: root });
  assert.equal(packed.code, 0, packed.stderr);
  compare(root, 'as packed');
  mkdirSync(join(root, 'packages/lib/src/a'));
  renameSync(join(root, 'packages/lib/src/a.js'), join(root, 'packages/lib/src/a/index.js'));
  compare(root, 'a.js moved to a/index.js');
  writeFileSync(join(root, 'packages/lib/src/util.js'), 'module.exports = "util.js";');
  compare(root, 'util.js added beside util/');
});

// A workspace inside the project is walked as the project's own folders are: its code's requires
// of installed packages are answered without probing, and a package installed into it is seen.
test('a workspace package\'s requires of installed packages are answered by the index, and follow an install into the workspace', (t) => {
  const root = workspace(t);
  writeTree(root, {
    'node_modules/q/package.json': { name: 'q', version: '1.0.0' },
    'node_modules/q/index.js': 'module.exports = "root q";',
    'packages/lib/src/deep/uses-q.js': 'module.exports = require("q");',
    'uq.js': 'console.log(require("@ws/lib/src/deep/uses-q"));',
  });
  assert.equal(runCli(['index'], { cwd: root }).code, 0);
  const env = { COLDSTART_STEP_ASIDE: '0', COLDSTART_PACK: 'off' };
  const same = (label) => {
    const plain = runNode(['uq.js'], { cwd: root });
    const ours = runNode(['--require', register, 'uq.js'], { cwd: root, env });
    assert.deepEqual(ours, plain, label);
    return plain.stdout.trim();
  };
  assert.equal(same('learning'), 'root q');
  assert.equal(same('as built'), 'root q');
  if (spawnSync('strace', ['-V']).status === 0) {
    // The node_modules folders Node probes on the way up from packages/lib/src/deep.
    const probes = (args) => {
      const traced = spawnSync('strace', ['-f', '-qq', '-e', 'trace=%file', process.execPath, ...args, 'uq.js'], { cwd: root, encoding: 'utf8', env: { ...process.env, ...env, NODE_OPTIONS: '' } });
      assert.equal(traced.stdout, 'root q\n');
      return traced.stderr.split('\n').filter((line) => line.includes(`${root}/packages/`) && line.includes('/node_modules') && line.includes('ENOENT')).length;
    };
    const plain = probes([]);
    assert.ok(plain >= 3, `plain Node probes the workspace's node_modules folders (${plain})`);
    assert.equal(probes(['--require', register]), 0, 'the index answers without probing');
  }
  writeTree(root, {
    'packages/lib/node_modules/q/package.json': { name: 'q', version: '2.0.0' },
    'packages/lib/node_modules/q/index.js': 'module.exports = "workspace q";',
  });
  assert.equal(same('q installed into the workspace'), 'workspace q');
});
