// The slow filesystem: a copy of the programs served through bindfs with the kernel's attribute,
// entry and negative caches off, so every stat and failed lookup is a round trip to a userspace
// daemon, as on network and FUSE filesystems. Mounted for the run and always unmounted after.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, sep } from 'node:path';
import { log } from './setup.mjs';

const BINDFS_OPTIONS = 'attr_timeout=0,entry_timeout=0,negative_timeout=0';

// What the FUSE tree holds: the same layout as the repository, so scenario paths work unchanged.
// coldstart itself is installed into bench/node_modules/coldstart as npm would install it (its
// published files and its dependencies), so the variants read it through the mount.
const COPIED = ['package.json', 'dist', 'bin', 'bench/package.json', 'bench/node_modules', 'bench/fixtures',
  'examples/demo'];

/** Where the tree's installed coldstart lives, relative to the tree's root. */
export const INSTALLED_COLDSTART = 'bench/node_modules/coldstart';

/** Copies coldstart's published files and its production dependencies into `target`. */
function installColdstart(repoRoot, target) {
  rmSync(target, { recursive: true, force: true });
  mkdirSync(target, { recursive: true });
  for (const path of ['package.json', 'bin', 'dist']) cpSync(join(repoRoot, path), join(target, path), { recursive: true, filter: (from) => !/\.(map|v8cache)$/.test(from) });
  const list = spawnSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: repoRoot, encoding: 'utf8' });
  const prefix = join(repoRoot, 'node_modules') + sep;
  for (const dir of list.stdout.split('\n')) {
    if (!dir.startsWith(prefix)) continue;
    cpSync(dir, join(target, 'node_modules', dir.slice(prefix.length)), { recursive: true });
  }
}

function isMounted(dir) {
  try {
    return readFileSync('/proc/mounts', 'utf8').split('\n').some((line) => line.split(' ')[1] === dir);
  } catch {
    return false;
  }
}

function unmount(dir) {
  if (!isMounted(dir)) return;
  for (const args of [['-u', dir], ['-uz', dir]]) {
    const result = spawnSync('fusermount', args, { stdio: 'ignore' });
    if (result.status === 0 && !isMounted(dir)) return;
  }
  spawnSync('umount', ['-l', dir], { stdio: 'ignore' });
}

/** Why FUSE cannot be used here, or null when it can. */
export function fuseUnavailable(tools) {
  if (!tools.fuseDevice) return '/dev/fuse is missing (no FUSE in this machine or container)';
  if (!tools.bindfs) return 'bindfs is not installed (Debian: apt-get install bindfs fuse3)';
  return null;
}

/**
 * Copies the programs to `<work>/<name>-src` and mounts them at `<work>/<name>-mnt`. Returns
 * { root, source, coldstart, remount(readOnly), close() }; close() is idempotent and also runs on
 * exit and on SIGINT/SIGTERM/SIGHUP.
 */
export function mountFuseTree(repoRoot, work, name = 'fuse') {
  const source = join(work, `${name}-src`);
  const mount = join(work, `${name}-mnt`);
  unmount(mount); // a run killed with SIGKILL may have left its mount behind
  rmSync(source, { recursive: true, force: true });
  const started = performance.now();
  for (const path of COPIED) {
    const from = join(repoRoot, path);
    if (!existsSync(from)) continue;
    const to = join(source, path);
    mkdirSync(join(to, '..'), { recursive: true });
    const copy = spawnSync('cp', ['-a', from, to], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
    if (copy.status !== 0) throw new Error(`copying ${path} for the FUSE tree failed: ${copy.stderr.trim()}`);
  }
  installColdstart(repoRoot, join(source, INSTALLED_COLDSTART));
  log(`FUSE tree copied in ${Math.round(performance.now() - started)} ms`);
  mkdirSync(mount, { recursive: true });
  const bind = (readOnly) => {
    const result = spawnSync('bindfs', ['-o', `${BINDFS_OPTIONS}${readOnly ? ',ro' : ''}`, source, mount], { encoding: 'utf8' });
    if (result.status !== 0 || !isMounted(mount)) {
      rmSync(source, { recursive: true, force: true });
      throw new Error(`bindfs failed: ${(result.stderr || result.error?.message || `exit ${result.status}`).trim()}`);
    }
  };
  bind(false);
  let closed = false;
  const onSignal = (signal) => {
    close();
    process.stderr.write(`bench: ${signal}: FUSE mount removed\n`);
    process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGHUP' ? 1 : 15));
  };
  function close() {
    if (closed) return;
    closed = true;
    unmount(mount);
    if (!isMounted(mount)) rmSync(source, { recursive: true, force: true });
    process.off('exit', close);
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.off(signal, onSignal);
  }
  process.on('exit', close);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, onSignal);
  /** Mounts the same tree again, read-only or not (what an image or a read-only export gives). */
  const remount = (readOnly) => {
    unmount(mount);
    bind(readOnly);
  };
  return { root: mount, source, coldstart: join(mount, INSTALLED_COLDSTART), remount, close };
}
