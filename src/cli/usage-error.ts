// The error a subcommand throws for a wrong flag or argument, and the exit codes the CLI uses.

/** Exit codes: 0 success, 1 the work failed, 2 wrong usage, 3 a check (`coldstart check`) failed. */
export const exitCodes = { ok: 0, failed: 1, usage: 2, checkFailed: 3 } as const;

/**
 * True for a UsageError from any copy of this module: the CLI front is bundled apart from the
 * subcommands, so `instanceof` would see two different classes.
 */
export function isUsageError(error: unknown): error is UsageError {
  return error instanceof Error && error.name === 'UsageError';
}

export class UsageError extends Error {
  readonly hint: string | undefined;
  constructor(message: string, hint?: string) {
    super(message);
    this.name = 'UsageError';
    this.hint = hint;
  }
}
