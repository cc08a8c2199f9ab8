// The error a lazy module raises when it cannot be found or fails to evaluate: it names the
// specifier, the declaration site and the first use, and keeps Node's error as `cause`.

export class LazyLoadError extends Error {
  /** Node-style code, so callers can branch without parsing messages. */
  readonly code = 'ERR_COLDSTART_LAZY_LOAD';
  readonly specifier: string;
  readonly declaredAt: string;
  readonly firstUseAt: string;

  constructor(specifier: string, declaredAt: string, firstUseAt: string, cause: unknown) {
    super(
      `lazy module '${specifier}' could not be loaded: ${describe(cause)}\n` +
        `    declared at ${declaredAt}\n` +
        `    first used at ${firstUseAt}`,
      { cause },
    );
    this.name = 'LazyLoadError';
    this.specifier = specifier;
    this.declaredAt = declaredAt;
    this.firstUseAt = firstUseAt;
  }
}

function describe(cause: unknown): string {
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    const first = cause.message.split('\n')[0] ?? '';
    return typeof code === 'string' ? `${code}: ${first}` : first;
  }
  return String(cause);
}

/** Raised in place of ERR_REQUIRE_ASYNC_MODULE: the module needs top-level await. */
export function topLevelAwaitError(specifier: string, cause: unknown): Error {
  const error = new Error(
    `'${specifier}' (or a module it imports) uses top-level await, so it cannot be loaded ` +
      `synchronously on first use. Load it with \`await import('${specifier}')\` where you need it, ` +
      `or import it eagerly.`,
    { cause },
  );
  (error as { code?: string }).code = 'ERR_COLDSTART_LAZY_TOP_LEVEL_AWAIT';
  return error;
}
