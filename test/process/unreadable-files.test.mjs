// A file or folder this user can no longer read (chmod) gives Node's own error, with coldstart's
// index and pack in use as without them: never a source served past the permission, never an
// exception from coldstart's own checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { bin, dist, tempDir, writeTree } from '../helpers.mjs';

const register = join(dist, 'register.cjs');
const isRoot = process.getuid?.() === 0;
const uid = 4545;

function as(dir, args, env = {}) {
  const r = spawnSync(process.execPath, args, { cwd: dir, uid, gid: uid, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '', COLDSTART_DEBUG: '', COLDSTART_STEP_ASIDE: '0', HOME: dir, ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The error Node printed: its message line, without the frames below it. */
const message = (stderr) => stderr.split('\n').find((line) => /^\w*Error/.test(line));

test('files made unreadable after coldstart index and pack give Node\'s own errors', { skip: !isRoot && 'needs root to run as another user' }, (t) => {
  const dir = realpathSync(tempDir(t, 'coldstart-unreadable-'));
  writeTree(dir, {
    'package.json': { name: 'app', private: true },
    'node_modules/.package-lock.json': '{"lockfileVersion":3}',
    'node_modules/q/package.json': { name: 'q', main: 'lib/index.js' },
    'node_modules/q/lib/index.js': 'module.exports = "q";',
    'lib/util.js': 'module.exports = "util";',
    'main.js': 'console.log(require("./lib/util"), require("q"));',
  });
  spawnSync('chown', ['-R', `${uid}:${uid}`, dir]);
  chownSync(dir, uid, uid);
  chmodSync(dir, 0o755);
  const packed = as(dir, [bin, 'pack', '--always', '--', 'node', 'main.js']);
  assert.equal(packed.code, 0, packed.stderr);
  const compare = (label, env = {}) => {
    const plain = as(dir, ['main.js']);
    const ours = as(dir, ['--require', register, 'main.js'], env);
    assert.equal(ours.stdout, plain.stdout, label);
    assert.equal(ours.code, plain.code, `${label}: ${ours.stderr}`);
    assert.equal(message(ours.stderr), message(plain.stderr), label);
    // No page of coldstart's bundled code as the error's source line.
    assert.ok(ours.stderr.length < plain.stderr.length + 600, `${label}: ${ours.stderr}`);
    return plain;
  };
  assert.equal(compare('readable').stdout, 'util q\n');
  chmodSync(join(dir, 'lib/util.js'), 0o000);
  assert.match(message(compare('own file unreadable, pack').stderr), /EACCES/);
  compare('own file unreadable, index only', { COLDSTART_PACK: 'off' });
  chmodSync(join(dir, 'lib/util.js'), 0o644);
  chmodSync(join(dir, 'node_modules/q/lib/index.js'), 0o000);
  assert.match(message(compare('installed file unreadable, index only', { COLDSTART_PACK: 'off' }).stderr), /EACCES/);
  // On a local disk a pack asks each installed file it serves, as verify mode does.
  assert.match(message(compare('installed file unreadable, pack').stderr), /EACCES/);
  compare('installed file unreadable, verify mode', { COLDSTART_PACK_VERIFY: '1' });
});
