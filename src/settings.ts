// The one rule for COLDSTART_* switches: '0', 'off', 'false' and 'no' (any case) turn a feature
// off; unset or empty leaves its default; anything else turns it on.

const offWords = new Set(['0', 'off', 'false', 'no']);

/** True when `value` says off. */
export function settingOff(value: string | undefined): boolean {
  return value !== undefined && offWords.has(value.trim().toLowerCase());
}

/** True when `value` is set, not empty, and does not say off. */
export function settingOn(value: string | undefined): boolean {
  return value !== undefined && value.trim() !== '' && !settingOff(value);
}
