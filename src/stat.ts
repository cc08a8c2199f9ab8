// One stat for every freshness check: any error (a folder made unreadable, a path too long, a
// loop of links) means "not there as it was", never an exception inside the program's require.
// Builtins come from process.getBuiltinModule: the register loader bundles this file.
import type { Stats } from 'node:fs';

/** stat of `path`; undefined when it is absent or cannot be asked about. */
export function statOrUndefined(path: string): Stats | undefined {
  try {
    return process.getBuiltinModule('node:fs').statSync(path, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}
