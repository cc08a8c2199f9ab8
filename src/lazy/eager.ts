// Process-wide switches read once: COLDSTART_EAGER (load every lazy module at declaration) and
// COLDSTART_LAZY_RECORDS (write the lazy-load records to a JSON file when the process exits).
import { isOn, pathSetting } from '../settings.js';
import { recordLearnedLoads } from './learned-records.js';
import { lazyRecords, store } from './records.js';

let eager: boolean | undefined;

/** True when COLDSTART_EAGER is on (settings.ts: set, and not 0/off/false/no). */
export function eagerMode(): boolean {
  if (eager === undefined) {
    eager = isOn('COLDSTART_EAGER');
  }
  return eager;
}

/** Installs, once per process, the exit hook that writes records for `coldstart lazy`/`profile`. */
export function installRecordsWriter(): void {
  const state = store();
  if (state.exitHookInstalled) return;
  state.exitHookInstalled = true;
  const file = pathSetting('COLDSTART_LAZY_RECORDS');
  if (file === undefined) return;
  recordLearnedLoads();
  process.once('exit', () => {
    try {
      process.getBuiltinModule('node:fs').writeFileSync(file, JSON.stringify({ pid: process.pid, records: lazyRecords() }) + '\n', { flag: 'a' });
    } catch {
      // A report that cannot be written must never change how the program exits.
    }
  });
}
