// `coldstart lazy -- <command>`: runs a command with lazy-load recording and reports, per
// lazy() declaration, whether it loaded and what forced it.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runChild, splitCommand } from '../run-child.js';
import { UsageError } from '../usage-error.js';
import type { LazyRecord } from '../../lazy/records.js';
import { commands } from '../commands.js';

interface ProcessRecords {
  pid: number;
  records: LazyRecord[];
}

/** Reads the records file: one JSON document per line, one line per process that used lazy(). */
export function readRecordsFile(file: string): ProcessRecords[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const out: ProcessRecords[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      out.push(JSON.parse(line) as ProcessRecords);
    } catch {
      // a process killed mid-write leaves a partial line; the rest still count
    }
  }
  return out;
}

export function formatRecords(processes: ProcessRecords[]): string {
  const lines: string[] = [];
  for (const { pid, records } of processes) {
    if (records.length === 0) continue;
    lines.push(`lazy modules of process ${pid}:`);
    for (const r of records) {
      if (r.status === 'pending') {
        lines.push(`  ${r.specifier}  not loaded (declared at ${r.declaredAt})`);
      } else {
        const ms = r.loadDurationMs === undefined ? '' : ` in ${r.loadDurationMs.toFixed(1)} ms`;
        const state = r.status === 'loaded' ? `loaded${ms}` : `FAILED${ms}: ${r.error ?? ''}`;
        lines.push(`  ${r.specifier}  ${state}, by ${r.trigger ?? '?'} at ${r.firstUseAt ?? '?'} (declared at ${r.declaredAt})`);
      }
    }
  }
  return lines.length === 0 ? 'no lazy() declarations were recorded\n' : lines.join('\n') + '\n';
}

export async function run(argv: string[]): Promise<number> {
  const { options, command } = splitCommand(argv, commands.lazy.usage);
  let json = false;
  for (const option of options) {
    if (option === '--json') json = true;
    else throw new UsageError(`unknown option '${option}'`, commands.lazy.usage);
  }
  const dir = mkdtempSync(join(tmpdir(), 'coldstart-lazy-'));
  const file = join(dir, 'records.jsonl');
  try {
    const result = await runChild(command, { ...process.env, COLDSTART_LAZY_RECORDS: file });
    const processes = readRecordsFile(file);
    process.stderr.write(json ? JSON.stringify(processes, null, 2) + '\n' : formatRecords(processes));
    return result.code;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
