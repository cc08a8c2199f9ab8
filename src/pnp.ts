// Yarn Plug'n'Play: its .pnp.cjs is already a map of every module's location, and its packages
// live inside zip archives. coldstart's index, pack and (on Node 20) its off-thread hooks step
// aside there; lazy(), auto-defer and import defer in-thread (Node 22.15+) and the profiler work.

/** Why the index and the pack step aside, for reports and doctor. */
export const pnpReason = "Yarn Plug'n'Play resolves every module from its own map (.pnp.cjs)";

/** True in a process that Yarn's Plug'n'Play runtime set up (it sets process.versions.pnp). */
export function pnpActive(): boolean {
  return process.versions['pnp'] !== undefined;
}

/** The CLI's check: this process runs under Plug'n'Play, or the working directory's project has a .pnp.cjs. */
export function pnpProject(cwd: string): boolean {
  if (pnpActive()) return true;
  const { existsSync } = process.getBuiltinModule('node:fs');
  const { dirname, join } = process.getBuiltinModule('node:path');
  for (let dir = cwd; ; dir = dirname(dir)) {
    if (existsSync(join(dir, '.pnp.cjs'))) return true;
    if (existsSync(join(dir, 'package.json')) || dirname(dir) === dir) return false;
  }
}
