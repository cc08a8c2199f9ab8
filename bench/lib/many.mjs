// The seed's scenario: N copies of one program started at the same moment on the slow
// filesystem, timed until the last one exits, launched by us and by a real parallel launcher
// (Open MPI's mpirun). Every copy must print what plain Node prints.
import { spawn, spawnSync } from 'node:child_process';
import { normalise } from './measure.mjs';

function runAll(commands) {
  const start = process.hrtime.bigint();
  return Promise.all(commands.map((command) => new Promise((resolve) => {
    const child = spawn(command.file, command.args, { cwd: command.cwd, env: command.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => { stdout += chunk; });
    child.stderr.setEncoding('utf8').on('data', (chunk) => { stderr += chunk; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
    child.on('error', (error) => { clearTimeout(timer); resolve({ code: null, error: error.message, stdout, stderr }); });
    child.on('close', (code, signal) => { clearTimeout(timer); resolve({ code, signal, stdout, stderr }); });
  }))).then((results) => ({ ms: Number(process.hrtime.bigint() - start) / 1e6, results }));
}

/** Starts `n` copies of `command` at once; resolves to { ms, problem } (problem null when all matched). */
export async function launchTogether(command, n, expected) {
  const { ms, results } = await runAll(Array.from({ length: n }, () => command));
  const bad = results.filter((r) => r.code !== expected.code || normalise(r.stdout) !== normalise(expected.stdout));
  const problem = bad.length === 0 ? null : `${bad.length} of ${n} differ from plain Node (first: exit ${bad[0].code}${bad[0].error ? `, ${bad[0].error}` : ''})`;
  return { ms, problem };
}

/**
 * Starts `n` copies through `mpirun --oversubscribe -n N`, passing the variant's environment
 * with -x; the launcher's own output must be exactly the N outputs (in any order of lines).
 */
export async function launchMpi(command, n, expected) {
  const exported = Object.keys(command.env).filter((key) => /^(NODE_COMPILE_CACHE|CACHE_REQUIRE_PATHS_FILE|V8_COMPILE_CACHE_CACHE_DIR|TMPDIR|COLDSTART_\w+)$/.test(key));
  // mpirun gives each rank a pseudo-terminal for stdout, and programs colour their output on a
  // terminal; NO_COLOR keeps the output comparable with plain Node's piped run.
  const args = ['--oversubscribe', '--allow-run-as-root', '-n', String(n), '-x', 'NO_COLOR=1', ...exported.flatMap((key) => ['-x', key]),
    command.file, ...command.args];
  const { ms, results } = await runAll([{ file: 'mpirun', args, cwd: command.cwd, env: { ...command.env, OMPI_MCA_btl_vader_single_copy_mechanism: 'none' } }]);
  const [result] = results;
  const want = Array.from({ length: n }, () => normalise(expected.stdout).split('\n')).flat().sort();
  const got = normalise(result.stdout).split('\n').sort();
  let problem = null;
  if (result.code !== expected.code) problem = `mpirun exit ${result.code}${result.error ? ` (${result.error})` : ''}: ${result.stderr.trim().split('\n')[0] ?? ''}`;
  else if (want.join('\n') !== got.join('\n')) problem = 'output differs from N copies of plain Node\'s';
  return { ms, problem };
}

/** Whether mpirun can start processes here at all (it needs a working local transport). */
export function mpiWorks(nodePath) {
  const result = spawnSync('mpirun', ['--oversubscribe', '--allow-run-as-root', '-n', '2', nodePath, '-e', 'console.log("ok")'], {
    encoding: 'utf8', timeout: 60_000, env: { ...process.env, OMPI_MCA_btl_vader_single_copy_mechanism: 'none' },
  });
  return result.status === 0 && result.stdout.trim() === 'ok\nok';
}
