// Slurm on this one machine (bench/slurm/start.sh): the benchmark's srun launches, and the
// cluster recipe of docs/scale.md — the pack, the index and coldstart staged to node-local storage
// by sbcast inside the allocation, then `srun -n N`. Stopped (and its files removed) after the run.
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { normalise } from './measure.mjs';
import { log } from './setup.mjs';

const scripts = join(import.meta.dirname, '..', 'slurm');

/** Starts Slurm under `work`; returns { env, stop() } or { reason } when it cannot start here. */
export function startSlurm(work, cpus) {
  // `srun --version` itself fails before a configuration exists: look the programs up instead.
  if (spawnSync('sh', ['-c', 'command -v srun salloc sbcast slurmctld slurmd munged mungekey'], { stdio: 'ignore' }).status !== 0) {
    return { reason: 'slurm-wlm or munge is not installed (Debian: apt-get install slurm-wlm munge)' };
  }
  const base = join(work, 'slurm');
  const env = { ...process.env, BENCH_SLURM_BASE: base, BENCH_SLURM_CPUS: String(cpus) };
  const started = spawnSync('bash', [join(scripts, 'start.sh')], { env, encoding: 'utf8', timeout: 120_000 });
  const stop = () => spawnSync('bash', [join(scripts, 'stop.sh')], { env, stdio: 'ignore', timeout: 60_000 });
  if (started.status !== 0) {
    stop();
    const why = `${started.stderr}`.trim().split('\n').at(-1) || `exit ${started.status}`;
    return { reason: `Slurm did not start on this machine: ${why}` };
  }
  log('Slurm started (one node, localhost)');
  let stopped = false;
  return {
    env: { SLURM_CONF: join(base, 'rt', 'etc', 'slurm.conf') },
    stop() {
      if (stopped) return;
      stopped = true;
      stop();
    },
  };
}

function run(file, args, options) {
  const start = process.hrtime.bigint();
  return new Promise((resolve) => {
    const child = spawn(file, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => { stdout += chunk; });
    child.stderr.setEncoding('utf8').on('data', (chunk) => { stderr += chunk; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 600_000);
    child.on('error', (error) => { clearTimeout(timer); resolve({ code: null, error: error.message, stdout, stderr, ms: 0 }); });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Number(process.hrtime.bigint() - start) / 1e6 });
    });
  });
}

/**
 * `n` copies through Slurm. A command with `stage` (files to place on every node) runs the
 * cluster recipe: inside one allocation, sbcast each file to node-local storage, then srun; the
 * time includes the broadcast. Resolves to { ms, problem }.
 */
export async function launchSrun(slurm, command, n, expected) {
  const target = command.stage?.command ?? command;
  const env = { ...target.env, ...slurm.env, NO_COLOR: '1' };
  const srun = ['srun', '-n', String(n), '--overcommit', '--kill-on-bad-exit=0', target.file, ...target.args].map(quote).join(' ');
  let script = srun;
  if (command.stage) {
    // sbcast places single files and makes no directories: one task per node makes the directory.
    const dir = command.stage.dir;
    script = [
      'set -e',
      `srun -n 1 --ntasks-per-node=1 mkdir -p ${quote(dir)}`,
      ...command.stage.files.map(([from, name]) => `sbcast -f ${quote(from)} ${quote(join(dir, name))}`),
      `srun -n 1 --ntasks-per-node=1 tar -xf ${quote(join(dir, 'coldstart.tar'))} -C ${quote(dir)}`,
      srun,
    ].join('\n');
  }
  const result = await run('salloc', ['-n', String(n), '--overcommit', '-Q', 'bash', '-c', script], { cwd: command.cwd, env });
  const want = Array.from({ length: n }, () => normalise(expected.stdout).split('\n')).flat().sort();
  const got = normalise(result.stdout).split('\n').sort();
  let problem = null;
  if (result.code !== expected.code) problem = `salloc/srun exit ${result.code}: ${result.error ?? result.stderr.trim().split('\n')[0] ?? ''}`;
  else if (want.join('\n') !== got.join('\n')) problem = 'output differs from N copies of plain Node\'s';
  return { ms: result.ms, problem };
}

function quote(text) {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${String(text).replaceAll("'", "'\\''")}'`;
}
