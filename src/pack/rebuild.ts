// The command that makes a pack again, as its stale and refused messages give it: the
// `coldstart pack` arguments it was made with, kept in its header, run from the folder it was
// made in. A pack made before the header kept them gets the generic form.
import type { PackHeader } from './format.js';
import { defaultPackPath } from './format.js';

/** How a pack was made: the `coldstart pack` arguments, and the working folder relative to the root. */
export interface PackMade {
  readonly args: string[];
  readonly dir: string;
}

/** One word for a POSIX shell: as is when it holds nothing the shell reads, else single-quoted. */
export function shellWord(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/** Whether `made` is what the header's field should hold (a pack's header is read, not trusted to be ours). */
function isMade(made: unknown): made is PackMade {
  const m = made as Partial<PackMade> | undefined;
  return typeof m === 'object' && m !== null && Array.isArray(m.args) && m.args.every((a) => typeof a === 'string') && typeof m.dir === 'string';
}

/**
 * The shell command that rebuilds the pack at `file` (under `root`), for a process working in
 * `cwd`: the arguments it was made with when its header kept them, prefixed with a `cd` to the
 * folder they were given in when that is not `cwd`; else the generic form, which keeps what the
 * pack was (`--lazy`) and where it is (`--out`).
 */
export function rebuildCommand(header: Pick<PackHeader, 'lazy' | 'made'> | undefined, file: string | undefined, root: string | undefined, cwd: string = process.cwd()): string {
  const made = header?.made;
  if (root !== undefined && isMade(made) && !made.dir.split('/').includes('..')) {
    const dir = made.dir === '.' ? root : `${root === '/' ? '' : root}/${made.dir}`;
    const command = ['coldstart', 'pack', ...made.args].map(shellWord).join(' ');
    return dir === cwd ? command : `cd ${shellWord(dir)} && ${command}`;
  }
  const lazy = header === undefined ? '[--lazy] ' : (header.lazy?.length ?? 0) > 0 ? '--lazy ' : '';
  const out = file !== undefined && !file.endsWith(`/${defaultPackPath}`) ? `--out ${shellWord(file)} ` : '';
  return `coldstart pack ${lazy}${out}-- <command>`;
}
