// Where coldstart's own files are at run time. This code runs bundled (dist/register.cjs,
// dist/index.js) and per-file (dist/defer/*.js, for the off-thread hooks and the tests), and the
// files it hands to Node (dist/defer-runtime.js, dist/index.cjs) sit at the top of dist/, so
// paths are taken from the nearest `dist` directory, not from this module's URL.
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

let root: string | undefined;

function distRoot(): string {
  if (root === undefined) {
    // A CommonJS bundle knows its own file without parsing a URL.
    const here = typeof __filename === 'string' ? __filename : fileURLToPath(import.meta.url);
    let dir = dirname(here);
    while (basename(dir) !== 'dist' && dirname(dir) !== dir) dir = dirname(dir);
    root = basename(dir) === 'dist' ? dir : join(dirname(here), '..');
  }
  return root;
}

/** Absolute path of a file of the built package, e.g. `defer-runtime.js`. */
export function distPath(file: string): string {
  return join(distRoot(), file);
}

export function distURL(file: string): string {
  return pathToFileURL(distPath(file)).href;
}
