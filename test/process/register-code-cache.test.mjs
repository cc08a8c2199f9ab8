// coldstart/register runs its core through V8's code cache kept beside it: written by the first
// run, used by the next, rewritten when V8 rejects it, skipped where it cannot be written or when
// switched off; the program's behaviour never changes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dist, runNode, tempDir } from '../helpers.mjs';

/** A private copy of the built register files, so runs here do not race the other tests. */
function copy(t) {
  const dir = tempDir(t, 'coldstart-codecache-');
  for (const name of ['register.cjs', 'register-core.cjs', 'package.json']) cpSync(join(dist, name), join(dir, name));
  return dir;
}

const caches = (dir) => readdirSync(dir).filter((n) => n.endsWith('.v8cache'));
// A require() first: a process with no script activates coldstart at its first module.
const program = ['-e', 'try { require("./absent") } catch {} console.log(typeof globalThis[Symbol.for("coldstart")]?.activated)'];

function run(dir, env = {}) {
  const r = runNode(['--require', join(dir, 'register.cjs'), ...program], { env: { COLDSTART_DEBUG: '1', COLDSTART_INDEX: '0', COLDSTART_PACK: 'off', ...env } });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'function\n', 'coldstart/register activated');
  return r.stderr.match(/code cache ([^(]+?) \(/)?.[1];
}

test('the first run writes the cache, the next uses it', (t) => {
  const dir = copy(t);
  assert.equal(run(dir), 'none yet');
  assert.equal(caches(dir).length, 1);
  // Node 20 also names the folder (its V8 keeps the file name a cache was made with).
  const folder = Number(process.versions.node.split('.')[0]) < 22 ? '\\.[0-9a-f]{1,8}' : '';
  assert.match(caches(dir)[0], new RegExp(`^register-core\\.[0-9a-f]{16}${folder}\\.${process.version}-${process.arch}\\.v8cache$`));
  assert.equal(run(dir), 'used');
});

test('a runtime moved elsewhere names its own place in stack traces, and a shared staged runtime outside the project keeps its cache', (t) => {
  const dir = copy(t);
  run(dir);
  const moved = join(tempDir(t, 'coldstart-moved-'), 'rt');
  cpSync(dir, moved, { recursive: true });
  // Node 20: the copied cache is not this folder's, so the moved runtime compiles (and caches) anew.
  assert.equal(run(moved), Number(process.versions.node.split('.')[0]) < 22 ? 'none yet' : 'used');
  const shared = join(tempDir(t, 'coldstart-staged-'), 'rt');
  cpSync(dir, shared, { recursive: true, filter: (from) => !from.endsWith('.v8cache') });
  // Inside the project (COLDSTART_ROOT) a shared install writes nothing; outside it, the stage may cache.
  run(shared, { COLDSTART_SHARED: '1', COLDSTART_ROOT: shared });
  assert.equal(caches(shared).length, 0);
  run(shared, { COLDSTART_SHARED: '1', COLDSTART_ROOT: tempDir(t, 'coldstart-project-') });
  assert.equal(caches(shared).length, 1);
});

test('a corrupt cache is rejected by V8 and replaced; off means off', (t) => {
  const dir = copy(t);
  run(dir);
  const file = join(dir, caches(dir)[0]);
  writeFileSync(file, Buffer.alloc(4096, 7));
  assert.equal(run(dir), 'rejected by V8');
  assert.equal(run(dir), 'used');
  assert.equal(run(dir, { COLDSTART_CODE_CACHE: '0' }), 'off');
});

test('a cache that cannot be written leaves the run as it was', (t) => {
  const dir = copy(t);
  run(dir);
  // The cache's place taken by a directory: reading it and renaming onto it both fail.
  const name = caches(dir)[0];
  rmSync(join(dir, name));
  mkdirSync(join(dir, name));
  assert.equal(run(dir), 'none yet');
  assert.equal(run(dir), 'none yet');
  assert.deepEqual(readdirSync(dir).filter((n) => n.endsWith('.tmp')), [], 'no temp file left');
});

test('runs a pack serves keep a cache of their own; runs that record write none', (t) => {
  const dir = copy(t);
  // A pack named: the pack kind's cache (these runs compile the pack's server, not the index's).
  assert.equal(run(dir, { COLDSTART_PACK: join(dir, 'pack.v1') }), 'none yet');
  assert.deepEqual(caches(dir).map((name) => name.endsWith('.pack.v8cache')), [true]);
  assert.equal(run(dir, { COLDSTART_PACK: join(dir, 'pack.v1') }), 'used');
  assert.equal(run(dir), 'none yet', 'the other kind has its own');
  assert.equal(caches(dir).length, 2);
  const other = copy(t);
  const records = tempDir(t, 'coldstart-records-');
  assert.equal(run(other, { COLDSTART_PACK_RECORD: records }), 'none yet');
  assert.equal(run(other, { COLDSTART_PACK_RECORD: records }), 'none yet', 'a recording run wrote no cache');
  assert.deepEqual(caches(other), []);
});
