// What a run needs before it measures anything: the bench programs installed, the Node binaries
// to compare, the external tools present, and a description of the machine for the report.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

export function log(message) {
  process.stderr.write(`bench: ${message}\n`);
}

function run(file, args, options = {}) {
  return spawnSync(file, args, { encoding: 'utf8', timeout: 600_000, ...options });
}

/**
 * Installs a directory's pinned packages with `npm ci` when node_modules is missing or older than
 * the lock file (bench/ itself; the demo CLI, another folder's, only when it has no node_modules).
 */
export function ensureDeps(dir, label, { onlyIfMissing = false } = {}) {
  const lock = join(dir, 'package-lock.json');
  if (!existsSync(lock)) return;
  const marker = join(dir, 'node_modules', '.package-lock.json');
  if (existsSync(marker) && (onlyIfMissing || statSync(marker).mtimeMs >= statSync(lock).mtimeMs)) return;
  log(`installing ${label} (npm ci in ${dir}) ...`);
  const result = run('npm', ['ci', '--no-audit', '--no-fund'], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
  if (result.status !== 0) throw new Error(`npm ci in ${dir} failed; see the lines above`);
}

function versionOf(path) {
  const result = run(path, ['--version']);
  return result.status === 0 ? result.stdout.trim() : null;
}

/**
 * Finds a Node binary for a major version: this process, the machine's /usr/bin/node, the
 * shared copies in /tmp/nodes, one installed earlier into bench/.work/nodes, or else installs
 * the registry package node-<platform>-<arch>@<major> there (a fresh machine needs nothing else).
 */
export function findNode(spec, workDir) {
  if (spec === 'self') return { label: process.versions.node.split('.')[0], path: process.execPath, version: process.version };
  if (spec.includes('/')) {
    const version = versionOf(spec);
    if (!version) throw new Error(`--node ${spec}: not a working node binary`);
    return { label: version.slice(1).split('.')[0], path: spec, version };
  }
  if (!/^\d+$/.test(spec)) throw new Error(`--node ${spec}: give a major version (20) or a path`);
  const pkg = `node-${process.platform}-${process.arch}`;
  const candidates = [process.execPath, '/usr/bin/node', '/usr/local/bin/node',
    `/tmp/nodes/n${spec}/node_modules/${pkg}/bin/node`, join(workDir, 'nodes', spec, 'node_modules', pkg, 'bin', 'node')];
  for (const path of candidates) {
    if (!existsSync(path)) continue;
    const version = versionOf(path);
    if (version && version.slice(1).split('.')[0] === spec) return { label: spec, path, version };
  }
  const prefix = join(workDir, 'nodes', spec);
  mkdirSync(prefix, { recursive: true });
  log(`installing Node ${spec} (npm install ${pkg}@${spec} into ${prefix}) ...`);
  const result = run('npm', ['install', '--no-audit', '--no-fund', '--prefix', prefix, `${pkg}@${spec}`], { stdio: ['ignore', 'ignore', 'inherit'] });
  const path = join(prefix, 'node_modules', pkg, 'bin', 'node');
  const version = result.status === 0 && existsSync(path) ? versionOf(path) : null;
  if (!version) throw new Error(`could not install Node ${spec} from the registry (${pkg}@${spec})`);
  return { label: spec, path, version };
}

/** Debian packages a full run uses, by the program that tells whether each is there. */
const DEBIAN = { strace: 'strace', bindfs: 'bindfs fuse3', mpirun: 'openmpi-bin', srun: 'slurm-wlm munge', '/usr/bin/time': 'time' };
/** Installed only for a run that counts instructions (--instructions). */
const DEBIAN_INSTRUCTIONS = { valgrind: 'valgrind' };

/**
 * Installs the Debian packages a run uses and lacks (as root, where apt-get exists); a package
 * that cannot be installed leaves its part skipped with a message, as on any other machine.
 */
export function installDebianTools({ instructions = false } = {}) {
  if (process.getuid?.() !== 0 || run('sh', ['-c', 'command -v apt-get']).status !== 0) return;
  const missing = Object.entries({ ...DEBIAN, ...(instructions ? DEBIAN_INSTRUCTIONS : {}) }).filter(([program]) => run('sh', ['-c', `command -v ${program}`]).status !== 0).flatMap(([, pkgs]) => pkgs.split(' '));
  if (missing.length === 0) return;
  log(`installing Debian packages: ${missing.join(' ')} ...`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const ok = run('apt-get', ['update', '-qq'], { env }).status === 0 && run('apt-get', ['install', '-y', '-qq', ...missing], { env }).status === 0;
  if (!ok) log(`apt-get could not install ${missing.join(' ')}; the parts that need them are skipped`);
}

/** Which optional tools this machine has; each missing one skips its part with a message. */
export function findTools() {
  const has = (file, args = ['--version']) => {
    const result = run(file, args);
    return !result.error && result.status === 0;
  };
  return {
    strace: has('strace', ['-V']),
    time: existsSync('/usr/bin/time'),
    bindfs: has('bindfs'),
    fuseDevice: existsSync('/dev/fuse'),
    mpirun: has('mpirun'),
    valgrind: has('valgrind'),
  };
}

/** The machine, for the report: CPU model, cores, memory, kernel. */
export function describeMachine() {
  const cpus = os.cpus();
  let model = cpus[0]?.model ?? 'unknown';
  if (model === 'unknown' && existsSync('/proc/cpuinfo')) {
    model = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? model;
  }
  return {
    cpu: model.trim(),
    cores: cpus.length,
    memGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    load: os.loadavg().map((n) => Math.round(n * 100) / 100),
  };
}
