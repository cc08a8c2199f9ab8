// Runs the user's command (everything after `--`) with extra environment, passing its stdin,
// stdout and stderr through untouched, and resolves to its exit code (128+n for a signal).
import { UsageError } from './usage-error.js';

/** Splits `argv` at `--` into our options and the command; the command must not be empty. */
export function splitCommand(argv: string[], usage: string): { options: string[]; command: string[] } {
  const dash = argv.indexOf('--');
  const options = dash === -1 ? argv : argv.slice(0, dash);
  const command = dash === -1 ? [] : argv.slice(dash + 1);
  if (command.length === 0) throw new UsageError('no command given after `--`', usage);
  return { options, command };
}

export interface ChildResult {
  code: number;
  signal: NodeJS.Signals | null;
  wallMs: number;
}

/** `stdoutToStderr`: the command's output goes to our stderr, leaving stdout to a `--json` result. */
export function runChild(command: string[], env: NodeJS.ProcessEnv, stdoutToStderr = false): Promise<ChildResult> {
  const [file, ...args] = command as [string, ...string[]];
  const start = process.uptime() * 1000;
  return new Promise((resolve, reject) => {
    // Taken when a child is started: `coldstart profile` running a script in its own process never
    // needs what node:child_process pulls in (docs/decisions/startup-costs.md#lazy-builtins).
    const { spawn } = process.getBuiltinModule('node:child_process');
    const child = spawn(file, args, { stdio: stdoutToStderr ? ['inherit', 2, 'inherit'] : 'inherit', env });
    // Signals meant for the command (Ctrl-C) reach it through the shared process group; we
    // only wait for it to finish instead of dying first and orphaning it.
    const ignore = () => {};
    process.on('SIGINT', ignore);
    process.on('SIGTERM', ignore);
    child.once('error', (error: NodeJS.ErrnoException) => {
      process.off('SIGINT', ignore);
      process.off('SIGTERM', ignore);
      reject(error.code === 'ENOENT' ? new UsageError(`command not found: ${file}`, 'is it installed and on PATH?') : error);
    });
    child.once('exit', (code, signal) => {
      process.off('SIGINT', ignore);
      process.off('SIGTERM', ignore);
      const signalNumber = signal === null ? 0 : (osSignals[signal] ?? 1);
      resolve({ code: code ?? 128 + signalNumber, signal, wallMs: process.uptime() * 1000 - start });
    });
  });
}

const osSignals: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 };
