// The one rule for COLDSTART_* switches: '0', 'off', 'false' and 'no' (any case) turn a feature
// off; unset or empty leaves its default; anything else turns it on.

const offWords = new Set(['0', 'off', 'false', 'no']);

/** True when `value` says off. */
export function settingOff(value: string | undefined): boolean {
  return value !== undefined && offWords.has(value.trim().toLowerCase());
}

/**
 * COLDSTART_SHARED=1: a read-only install shared by many processes (a cluster's network
 * filesystem, a container image). The index and the pack were checked when they were built and
 * are trusted as they are (no stamps at start-up), and a run writes nothing into the tree: no
 * index build, no lock, no learned answers, no code cache. See docs/scale.md.
 */
export function sharedInstall(env: NodeJS.ProcessEnv = process.env): boolean {
  return settingOn(env['COLDSTART_SHARED']);
}

/** True when `value` is set, not empty, and does not say off. */
export function settingOn(value: string | undefined): boolean {
  return value !== undefined && value.trim() !== '' && !settingOff(value);
}
