// The benchmark's count of operations sent to the slow mount, from `strace -ff -y` lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { callsOnMount, countMountOps } from '../../bench/lib/mountops.mjs';

const trace = [
  'openat(AT_FDCWD</m/app>, "/m/app/package.json", O_RDONLY|O_CLOEXEC) = 21</m/app/package.json>',
  'pread64(21</m/app/package.json>, ""..., 4096, 0) = 511',
  'close(21</m/app/package.json>) = 0',
  'statx(AT_FDCWD</m/app>, "/m/app/node_modules/x", AT_STATX_SYNC_AS_STAT, STATX_ALL, 0x7ffd) = -1 ENOENT (No such file or directory)',
  'openat(AT_FDCWD</m/app>, "/etc/ld.so.cache", O_RDONLY|O_CLOEXEC) = 3</etc/ld.so.cache>',
  'newfstatat(3</etc/ld.so.cache>, "", {st_mode=S_IFREG|0644, ...}, AT_EMPTY_PATH) = 0',
  'statx(AT_FDCWD</m/app>, "lib/a.js", AT_STATX_SYNC_AS_STAT, STATX_ALL, {...}) = 0',
  'openat(AT_FDCWD</m/app>, "/m/app/out.tmp", O_WRONLY|O_CREAT|O_TRUNC, 0644) = 22</m/app/out.tmp>',
  'write(22</m/app/out.tmp>, "/m/app/not-a-path", 17) = 17',
  'rename("/m/app/out.tmp", "/m/app/out") = 0',
  'getcwd("/m/app", 4096) = 7',
  'prctl(PR_SET_NAME, "node") = 0',
  'readlink("/m", 0x7ffe, 1023) = -1 EINVAL (Invalid argument)',
  'openat(AT_FDCWD</tmp>, "/mnt/other", O_RDONLY) = 5</mnt/other>',
].join('\n');

test('counts calls naming a path under the mount or a descriptor of a file there, failed and writes apart', () => {
  const counts = countMountOps(trace, '/m', '/m/app');
  assert.deepEqual(
    callsOnMount(trace, '/m', '/m/app').map((c) => c.name),
    ['openat', 'pread64', 'statx', 'statx', 'openat', 'write', 'rename', 'readlink'],
  );
  assert.equal(counts.ops, 8);
  assert.equal(counts.failed, 2);
  assert.equal(counts.writes, 3);
  assert.equal(counts.bytesRead, 511);
  assert.deepEqual(counts.bySyscall.statx, { calls: 2, errors: 1 });
});
