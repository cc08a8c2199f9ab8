// Which functions the recorded runs never called, from the coverage V8 writes when
// NODE_V8_COVERAGE is set. Learned deferral asks it about writes to shared objects inside
// functions: a function no recorded run called did not run while its module loaded.
// Why: docs/decisions/learned-deferral.md ("What the recorded runs showed").
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { innermostOf } from '../defer/innermost.js';

/** Start, end and call count of one function of a script (V8's ranges, UTF-16 offsets). */
export type Block = readonly [start: number, end: number, count: number];

/**
 * Whether the code at `offset` never ran: the innermost function holding it was never called.
 * Functions, not blocks: a branch a run did not take may be taken in another environment
 * (learned.ts asks further whether loading could reach the function at all: unreachedCode). A
 * function V8 did not list (compiled from a code cache, or inside one never compiled) falls to
 * its parent's count.
 */
export function neverRanAt(blocks: readonly Block[], offset: number): boolean {
  let find = indexes.get(blocks);
  if (find === undefined) {
    find = innermostOf(blocks);
    indexes.set(blocks, find);
  }
  const at = find(offset);
  return at !== -1 && blocks[at]![2] === 0;
}

const indexes = new WeakMap<readonly Block[], (offset: number) => number>();

/** One process's function counts for one file. */
export interface Covered {
  readonly pid: number;
  readonly blocks: readonly Block[];
}

/**
 * The function counts of every file under `root` that a process covered, from the coverage-<pid>-*.json
 * files in `dir` (a worker thread writes a file of its own, under its process's pid).
 * Unreadable or foreign files are skipped: no answer means "may have run".
 */
export function readCoverage(dir: string, root: string): Map<string, Covered[]> {
  const byFile = new Map<string, Covered[]>();
  let names: string[];
  try {
    names = readdirSync(dir).filter((name) => name.endsWith('.json'));
  } catch {
    return byFile;
  }
  for (const name of names) {
    const pid = Number(/^coverage-(\d+)-/.exec(name)?.[1]);
    if (!Number.isInteger(pid)) continue;
    let report: { result?: { url?: string; functions?: { ranges?: { startOffset: number; endOffset: number; count: number }[] }[] }[] };
    try {
      report = JSON.parse(readFileSync(`${dir}/${name}`, 'utf8'));
    } catch {
      continue;
    }
    for (const script of report.result ?? []) {
      if (typeof script.url !== 'string' || !script.url.startsWith('file:')) continue;
      let path: string;
      try {
        path = fileURLToPath(script.url);
      } catch {
        continue;
      }
      if (!path.startsWith(`${root}/`)) continue;
      const blocks: Block[] = [];
      for (const fn of script.functions ?? []) {
        const whole = fn.ranges?.[0];
        if (whole !== undefined) blocks.push([whole.startOffset, whole.endOffset, whole.count]);
      }
      const list = byFile.get(path) ?? [];
      list.push({ pid, blocks });
      byFile.set(path, list);
    }
  }
  return byFile;
}

/**
 * For one file: whether the code at `offset` ran in none of the processes that loaded it
 * (`loaders`, their pids). Undefined, "may have run", unless every one of them covered the file:
 * a process that died before it wrote its coverage, or ran with coverage of its own, tells nothing.
 */
export function neverRanIn(covered: readonly Covered[] | undefined, loaders: readonly number[]): ((offset: number) => boolean) | undefined {
  if (covered === undefined || loaders.length === 0 || !loaders.every((pid) => covered.some((entry) => entry.pid === pid))) return undefined;
  return (offset) => covered.every((entry) => neverRanAt(entry.blocks, offset));
}
