// Running one command and reading figures off it: wall time, exit code and output, syscall
// counts from `strace -f -c`, and peak RSS from GNU time. Timing is our own spawn loop: every
// variant pays the same spawn overhead, and the loop can interleave variants.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const TIMEOUT_MS = 180_000;

/**
 * An environment without anything that would change how Node or coldstart behave.
 * NODE_EXTRA_CA_CERTS goes too: Node 20 reads and parses the named bundle at every start, in
 * every thread (measured on this machine, where it is set: `node -e 0` 75 ms with it, 30 ms
 * without; Node 22+ read it only when TLS is used), which would bury the differences measured.
 */
export function cleanEnv(extra = {}) {
  const env = { ...process.env };
  for (const key of Object.keys(env)) {
    if (/^(NODE_OPTIONS|NODE_COMPILE_CACHE|NODE_DISABLE_COMPILE_CACHE|NODE_EXTRA_CA_CERTS|FORCE_COLOR|CACHE_REQUIRE_PATHS_FILE|V8_COMPILE_CACHE_CACHE_DIR|DISABLE_V8_COMPILE_CACHE)$/.test(key) || key.startsWith('COLDSTART_')) {
      delete env[key];
    }
  }
  return { ...env, ...extra };
}

/** Runs `command` = { file, args, env, cwd } once; returns code, signal, stdout, stderr and ms. */
export function runOnce(command, wrap = []) {
  const [file, args] = wrap.length > 0 ? [wrap[0], [...wrap.slice(1), command.file, ...command.args]] : [command.file, command.args];
  const start = process.hrtime.bigint();
  const result = spawnSync(file, args, {
    cwd: command.cwd, env: command.env, encoding: 'utf8', timeout: TIMEOUT_MS, maxBuffer: 64 * 2 ** 20,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  return {
    code: result.status, signal: result.signal, stdout: result.stdout ?? '', stderr: result.stderr ?? '', ms,
    error: result.error ? result.error.message : null,
  };
}

/** Trailing whitespace is the only difference the comparison forgives. */
export function normalise(text) {
  return text.split('\n').map((line) => line.trimEnd()).join('\n').trimEnd();
}

/**
 * Why `got` differs from the plain-Node `want`, or null when they match: stdout and exit code,
 * and stderr too when `scenario.stderr`; `scenario.mask` lists what may differ from run to run
 * (a test runner's durations), replaced before comparing.
 */
export function difference(want, got, scenario = {}) {
  if (got.error) return `did not run: ${got.error}`;
  if (got.signal) return `killed by ${got.signal}`;
  if (got.code !== want.code) return `exit ${got.code} instead of ${want.code}${firstLine(got.stderr)}`;
  const masked = (text) => (scenario.mask ?? []).reduce((out, pattern) => out.replace(pattern, '<masked>'), normalise(text));
  for (const stream of scenario.stderr ? ['stdout', 'stderr'] : ['stdout']) {
    const a = masked(want[stream]).split('\n');
    const b = masked(got[stream]).split('\n');
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      if (a[i] !== b[i]) return `${stream} differs at line ${i + 1}: ${JSON.stringify(clip(b[i] ?? '<end>'))} instead of ${JSON.stringify(clip(a[i] ?? '<end>'))}`;
    }
  }
  return null;
}

function clip(text) {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function firstLine(stderr) {
  const lines = stderr.split('\n').filter((l) => l.trim() && !/^\s+at /.test(l));
  const line = lines.find((l) => /error|problem|cannot|failed/i.test(l)) ?? lines[0];
  return line ? ` (${clip(line.trim())})` : '';
}

export function stats(samples) {
  const sorted = [...samples].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  const round = (n) => Math.round(n * 10) / 10;
  return { median: round(median), min: round(sorted[0]), max: round(sorted.at(-1)), runs: sorted.length };
}

/**
 * Counts file syscalls under `strace -f -c -e trace=file,read,openat`: `file` is every traced call
 * except read(), `failed` those that returned an error, `reads` the read() calls.
 */
export function countSyscalls(command) {
  const dir = mkdtempSync(join(tmpdir(), 'coldstart-bench-strace-'));
  try {
    const out = join(dir, 'summary.txt');
    const result = runOnce(command, ['strace', '-f', '-c', '-o', out, '-e', 'trace=file,read,openat']);
    if (result.error) return { error: result.error };
    return parseStraceSummary(readFileSync(out, 'utf8'));
  } catch (error) {
    return { error: error.message };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * V8's flags that make a run repeat itself instruction for instruction: fixed hash and random
 * seeds, and no background threads (whose work would land on whichever thread valgrind counts).
 */
export const STEADY_FLAGS = ['--hash-seed=1', '--random-seed=1', '--single-threaded'];

/**
 * Instructions one run executes, in millions, under valgrind's callgrind (the steadiest figure
 * for differences of a few percent, which wall time on a shared machine cannot resolve). The
 * command runs once with the same V8 flags first: a code cache made under other flags (Node's
 * compile cache, coldstart's) is rejected, and the counted run must find a warm one.
 */
export function countInstructions(command) {
  const steady = { ...command, args: [...STEADY_FLAGS, ...command.args] };
  const dir = mkdtempSync(join(tmpdir(), 'coldstart-bench-callgrind-'));
  try {
    const warm = runOnce(steady);
    if (warm.error || warm.code !== 0) return { error: warm.error ?? `exit ${warm.code} under ${STEADY_FLAGS.join(' ')}` };
    const out = join(dir, 'callgrind.out');
    const result = runOnce(steady, ['valgrind', '--tool=callgrind', `--callgrind-out-file=${out}`]);
    if (result.error) return { error: result.error };
    const millions = parseCallgrindTotal(readFileSync(out, 'utf8'));
    return millions === null ? { error: 'no instruction total in callgrind output' } : { millions };
  } catch (error) {
    return { error: error.message };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The instruction total of a callgrind output file, in millions (one decimal); null when absent. */
export function parseCallgrindTotal(text) {
  const match = /^(?:summary|totals):\s+(\d+)/m.exec(text);
  return match === null ? null : Math.round(Number(match[1]) / 1e5) / 10;
}

/** Parses strace's -c table ("% time seconds usecs/call calls errors syscall"). */
export function parseStraceSummary(text) {
  const counts = { file: 0, failed: 0, reads: 0, bySyscall: {} };
  for (const line of text.split('\n')) {
    const match = /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:(\d+)\s+)?([a-z_0-9]+)\s*$/.exec(line);
    if (!match || match[3] === 'total') continue;
    const [, calls, errors = '0', name] = match;
    counts.bySyscall[name] = { calls: Number(calls), errors: Number(errors) };
    if (name === 'read') counts.reads += Number(calls);
    else {
      counts.file += Number(calls);
      counts.failed += Number(errors);
    }
  }
  return counts;
}

/** Runs once under GNU time and returns stdout/exit (for the output check) plus peak RSS in KiB. */
export function runWithRss(command, haveTime) {
  if (!haveTime) return { ...runOnce(command), rssKiB: null };
  const dir = mkdtempSync(join(tmpdir(), 'coldstart-bench-rss-'));
  try {
    const out = join(dir, 'rss.txt');
    const result = runOnce(command, ['/usr/bin/time', '-f', '%M', '-o', out]);
    let rssKiB = null;
    try {
      const last = readFileSync(out, 'utf8').trim().split('\n').at(-1);
      if (/^\d+$/.test(last)) rssKiB = Number(last);
    } catch { /* time wrote nothing: the command did not start; the caller sees the error */ }
    return { ...result, rssKiB };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
