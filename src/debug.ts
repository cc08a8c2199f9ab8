// Debug lines behind COLDSTART_DEBUG=1, on stderr; the flag is read once per process.
import { isOn } from './settings.js';

let enabled: boolean | undefined;

export function debugEnabled(): boolean {
  if (enabled === undefined) {
    enabled = isOn('COLDSTART_DEBUG');
  }
  return enabled;
}

/** Writes one line `coldstart: <area>: <message>` to stderr when debugging is on. */
export function debug(area: string, message: string): void {
  if (debugEnabled()) process.stderr.write(`coldstart: ${area}: ${message}\n`);
}
