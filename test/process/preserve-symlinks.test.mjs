// Under --preserve-symlinks (or NODE_PRESERVE_SYMLINKS=1) Node names a module by the symlinked
// path it was reached through. The index and a pack's answers know real paths: the index steps
// aside, a pack recorded without the flag answers nothing, and the run prints what Node prints.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, realpathSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { dist, runCli, runNode, tempDir, writeTree } from '../helpers.mjs';

const register = join(dist, 'register.cjs');
const base = { COLDSTART_INDEX: '', COLDSTART_PACK: '', COLDSTART_PACK_VERIFY: '', COLDSTART_ROOT: '', NODE_PRESERVE_SYMLINKS: '' };

function pnpmTree(t) {
  const dir = realpathSync(tempDir(t, 'coldstart-preserve-'));
  const store = 'node_modules/.pnpm';
  writeTree(dir, {
    'package.json': { name: 'app', private: true },
    'node_modules/.modules.yaml': 'layoutVersion: 5\n',
    [`${store}/a@1.0.0/node_modules/a/package.json`]: { name: 'a', version: '1.0.0' },
    [`${store}/a@1.0.0/node_modules/a/index.js`]: 'module.exports = [__filename, require("b")];\n',
    [`${store}/b@1.0.0/node_modules/b/package.json`]: { name: 'b', version: '1.0.0' },
    [`${store}/b@1.0.0/node_modules/b/index.js`]: 'module.exports = __filename;\n',
    'node_modules/tool/package.json': { name: 'tool', version: '1.0.0' },
    'node_modules/tool/cli.js': 'console.log(require("a").map((p) => p.slice(process.cwd().length)).join(" "));\n',
  });
  // pnpm's layout: a package's dependencies are links beside it in the store, the project's in node_modules.
  symlinkSync('../../b@1.0.0/node_modules/b', join(dir, store, 'a@1.0.0/node_modules/b'));
  symlinkSync('.pnpm/a@1.0.0/node_modules/a', join(dir, 'node_modules/a'));
  symlinkSync('.pnpm/b@1.0.0/node_modules/b', join(dir, 'node_modules/b'));
  mkdirSync(join(dir, 'node_modules/.cache'), { recursive: true });
  return dir;
}

test('--preserve-symlinks: the index steps aside, a pack recorded without it answers nothing, the output is Node\'s', (t) => {
  const dir = pnpmTree(t);
  const built = runCli(['pack', '--lazy', '--always', '--', process.execPath, 'node_modules/tool/cli.js'], { cwd: dir, env: base });
  assert.equal(built.code, 0, built.stderr);
  for (const [flags, env] of [[['--preserve-symlinks'], {}], [[], { NODE_PRESERVE_SYMLINKS: '1' }]]) {
    const plain = runNode([...flags, 'node_modules/tool/cli.js'], { cwd: dir, env: { ...base, ...env } });
    assert.equal(plain.code, 0, plain.stderr);
    // The links, as Node names them under the flag.
    assert.match(plain.stdout, /^\/node_modules\/a\/index\.js \/node_modules\/b\/index\.js\n$/);
    const stats = join(dir, `stats-${flags.length}.jsonl`);
    const served = runNode(['--require', register, ...flags, 'node_modules/tool/cli.js'], { cwd: dir, env: { ...base, ...env, COLDSTART_INDEX_STATS: stats, COLDSTART_PACK_STATS: stats } });
    assert.deepEqual([served.code, served.stdout, served.stderr], [plain.code, plain.stdout, plain.stderr], JSON.stringify(flags));
    const reports = readFileSync(stats, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    const index = reports.find((r) => 'sectionsLoaded' in r);
    const pack = reports.find((r) => 'modules' in r);
    assert.match(index.reason, /--preserve-symlinks/, JSON.stringify(index));
    assert.equal(pack.counts.answers, 0, JSON.stringify(pack));
  }
  // Without the flag, the real paths, served.
  const plain = runNode(['node_modules/tool/cli.js'], { cwd: dir, env: base });
  assert.match(plain.stdout, /^\/node_modules\/\.pnpm\/a@1\.0\.0\/node_modules\/a\/index\.js \/node_modules\/\.pnpm\/b@1\.0\.0\/node_modules\/b\/index\.js\n$/);
  const served = runNode(['--require', register, 'node_modules/tool/cli.js'], { cwd: dir, env: base });
  assert.equal(served.stdout, plain.stdout);
});
