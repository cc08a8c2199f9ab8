// Where a root-relative path sits in a node_modules layout: a node_modules (or scope)
// directory itself, or a path inside a package. Pure string work on the hot path: no fs.

export type Place =
  | { readonly kind: 'modules'; readonly dir: string }
  | { readonly kind: 'package'; readonly key: string; readonly sub: string };

/** Places `rest`, a path below the modules directory `modulesDir` ('' when it is the directory). */
export function placeIn(modulesDir: string, rest: string): Place {
  if (rest === '') return { kind: 'modules', dir: modulesDir };
  const slash = rest.indexOf('/');
  const first = slash === -1 ? rest : rest.slice(0, slash);
  const after = slash === -1 ? '' : rest.slice(slash + 1);
  if (first.startsWith('@')) {
    if (after === '') return { kind: 'modules', dir: `${modulesDir}/${first}` };
    const slash2 = after.indexOf('/');
    const second = slash2 === -1 ? after : after.slice(0, slash2);
    return { kind: 'package', key: `${modulesDir}/${first}/${second}`, sub: slash2 === -1 ? '' : after.slice(slash2 + 1) };
  }
  return { kind: 'package', key: `${modulesDir}/${first}`, sub: after };
}

/** Places a root-relative path by its last `node_modules` segment; undefined when it has none. */
export function placeOf(rel: string): Place | undefined {
  const padded = `/${rel}/`;
  const at = padded.lastIndexOf('/node_modules/');
  if (at === -1) return undefined;
  // padded[at] is the slash before the segment, so in `rel` the segment starts at `at`.
  const modulesDir = rel.slice(0, at + 12);
  return placeIn(modulesDir, rel.slice(at + 13));
}

/**
 * Whether a root-relative path is the root's node_modules or inside it: what the stamps watch
 * (the package manager rewrites a lockfile on every change there). A node_modules below a
 * project folder is not.
 */
export function inRootModules(rel: string): boolean {
  return rel === 'node_modules' || rel.startsWith('node_modules/');
}

/**
 * What the index lists of a first-party directory, from its entries: sub-directories (`name/`,
 * dot-directories left out), a `node_modules/` and a `package.json` file; a `package.json` or
 * `node_modules` of another kind (a symlink: Node follows it, the index does not) as `name@`,
 * unknown, so that every question about it is Node's. The build and the check of a directory
 * changed since (view.ts) list it the same way.
 */
export function projectNames(entries: readonly { readonly name: string; isDirectory(): boolean; isFile(): boolean }[]): string[] {
  const names: string[] = [];
  for (const entry of entries) {
    const name = entry.name;
    if (name === 'package.json') names.push(entry.isFile() ? name : `${name}@`);
    else if (name === 'node_modules') names.push(entry.isDirectory() ? `${name}/` : `${name}@`);
    else if (entry.isDirectory() && !name.startsWith('.')) names.push(`${name}/`);
  }
  return names;
}
