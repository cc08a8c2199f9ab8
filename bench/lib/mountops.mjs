// Operations one process sends to the slow mount, counted from `strace -f -y`: every syscall that
// names a path under the mount, or works on a descriptor of a file there. On a shared filesystem
// each is a round trip to the metadata or data server, so this is the figure that grows with the
// number of processes, whatever the speed of the machine that measures it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';

// Syscalls that change the tree: any of them on the mount counts as a write.
const WRITING = new Set(['mkdir', 'mkdirat', 'rename', 'renameat', 'renameat2', 'unlink', 'unlinkat', 'rmdir', 'link', 'linkat',
  'symlink', 'symlinkat', 'write', 'pwrite64', 'writev', 'pwritev', 'pwritev2', 'ftruncate', 'truncate', 'fallocate', 'chmod',
  'fchmod', 'fchmodat', 'chown', 'fchown', 'fchownat', 'lchown', 'utimensat', 'futimesat', 'flock', 'fsync', 'fdatasync']);
const READING = new Set(['read', 'pread64', 'readv', 'preadv', 'preadv2']);
// Calls whose first string argument is a path (getcwd is not one: the kernel answers it from its
// own cache of names, without asking the filesystem).
const NAMING = new Set(['open', 'openat', 'openat2', 'creat', 'stat', 'lstat', 'newfstatat', 'statx', 'access', 'faccessat',
  'faccessat2', 'readlink', 'readlinkat', 'chdir', 'execve', 'execveat', 'mkdir', 'mkdirat', 'rename', 'renameat', 'renameat2',
  'unlink', 'unlinkat', 'rmdir', 'link', 'linkat', 'symlink', 'symlinkat', 'chmod', 'fchmodat', 'chown', 'fchownat', 'lchown',
  'utimensat', 'futimesat', 'truncate', 'statfs', 'getxattr', 'lgetxattr', 'listxattr', 'llistxattr', 'inotify_add_watch',
  'mknod', 'mknodat', 'opendir']);
// Calls the kernel answers without asking the filesystem once the descriptor is open.
const LOCAL = new Set(['close', 'lseek', 'fcntl', 'dup', 'dup2', 'dup3', 'ioctl', 'mmap', 'munmap', 'epoll_ctl']);

/** The syscall, its argument text and its result from one line of `strace -f -y` output, or null. */
export function parseStraceLine(line) {
  const match = /^(?:\[pid\s+\d+\]\s+|\d+\s+)?([a-z_0-9]+)\((.*)\)\s+=\s+(-?\d+|\?|0x[0-9a-f]+)(?:\s+([A-Z][A-Z0-9_]+))?/.exec(line);
  if (!match) return null;
  const [, name, args, result, errno] = match;
  return { name, args, result: /^-?\d+$/.test(result) ? Number(result) : null, errno: errno ?? null };
}

function touchesMount(call, mount, cwd) {
  // Descriptors as strace -y prints them: 3</path/of/file>.
  for (const fd of call.args.matchAll(/\d+<([^>]*)>/g)) {
    if (fd[1] === mount || fd[1].startsWith(`${mount}/`)) return true;
  }
  // The first quoted argument of a path-naming call; a relative one is resolved against the cwd.
  if (!NAMING.has(call.name)) return false;
  const quoted = /"((?:[^"\\]|\\.)*)"/.exec(call.args);
  if (!quoted || quoted[1] === '') return false; // "" with AT_EMPTY_PATH: the descriptor, already looked at
  const path = isAbsolute(quoted[1]) ? quoted[1] : resolve(cwd, quoted[1]);
  return path === mount || path.startsWith(`${mount}/`);
}

/** The calls in strace output that reached the mount; `cwd` is where the command ran (for relative paths). */
export function callsOnMount(text, mount, cwd) {
  const calls = [];
  for (const line of text.split('\n')) {
    const call = parseStraceLine(line);
    if (call && !LOCAL.has(call.name) && touchesMount(call, mount, cwd)) calls.push(call);
  }
  return calls;
}

/** Summarises strace output: { ops, failed, writes, bytesRead, bySyscall } for the calls that reached the mount. */
export function countMountOps(text, mount, cwd) {
  const counts = { ops: 0, failed: 0, writes: 0, bytesRead: 0, bySyscall: {} };
  for (const call of callsOnMount(text, mount, cwd)) {
    const isWrite = WRITING.has(call.name) || /^open/.test(call.name) && /O_(WRONLY|RDWR|CREAT|TRUNC)/.test(call.args);
    counts.ops++;
    const entry = (counts.bySyscall[call.name] ??= { calls: 0, errors: 0 });
    entry.calls++;
    if (call.errno) {
      counts.failed++;
      entry.errors++;
    }
    if (isWrite) counts.writes++;
    if (READING.has(call.name) && call.result > 0) counts.bytesRead += call.result;
  }
  return counts;
}

/** Runs `command` under strace and counts what it sent to `mount`. */
export function countOnMount(command, mount) {
  const dir = mkdtempSync(join(tmpdir(), 'coldstart-bench-mount-'));
  try {
    // -ff: one file per process, so no call is split into "unfinished" and "resumed" halves.
    const result = spawnSync('strace', ['-ff', '-y', '-qq', '-s', '0', '-o', join(dir, 'trace'), command.file, ...command.args], {
      cwd: command.cwd, env: command.env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 180_000, maxBuffer: 64 * 2 ** 20,
    });
    if (result.error) return { error: result.error.message };
    const text = readdirSync(dir).map((name) => readFileSync(join(dir, name), 'utf8')).join('\n');
    return { ...countMountOps(text, mount, command.cwd), code: result.status };
  } catch (error) {
    return { error: error.message };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
