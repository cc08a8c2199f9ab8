// Node's own launch flags, as Node reads them: NODE_OPTIONS first (split on spaces, double quotes
// grouping, a backslash escaping inside quotes), then the command line (process.execArgv).
// Pure apart from the two defaults; the one place coldstart parses NODE_OPTIONS.

/** NODE_OPTIONS split as Node splits it. */
export function splitNodeOptions(text: string): string[] {
  const out: string[] = [];
  let current = '';
  let quoted = false;
  let started = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\' && quoted && i + 1 < text.length) {
      current += text[++i];
    } else if (c === '"') {
      quoted = !quoted;
      started = true;
    } else if ((c === ' ' || c === '\t' || c === '\n') && !quoted) {
      if (started) out.push(current);
      current = '';
      started = false;
    } else {
      current += c;
      started = true;
    }
  }
  if (started) out.push(current);
  return out;
}

/** Every launch flag of this process, in the order Node applies them. */
export function launchFlags(nodeOptions: string = process.env['NODE_OPTIONS'] ?? '', execArgv: readonly string[] = process.execArgv): string[] {
  return [...splitNodeOptions(nodeOptions), ...execArgv];
}

/** Whether `flag` (e.g. `--no-addons`) was given, alone or as `flag=value`. */
export function hasLaunchFlag(flag: string, flags: readonly string[] = launchFlags()): boolean {
  return flags.some((arg) => arg === flag || arg.startsWith(`${flag}=`));
}

/**
 * Whether Node keeps symlinked paths as they are asked (`--preserve-symlinks`, or
 * NODE_PRESERVE_SYMLINKS=1): then a module's path can be a link, where the index and a pack's
 * answers know real paths only.
 */
export function preservesSymlinks(flags: readonly string[] = launchFlags()): boolean {
  return hasLaunchFlag('--preserve-symlinks', flags) || process.env['NODE_PRESERVE_SYMLINKS'] === '1';
}
