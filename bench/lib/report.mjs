// Turns the run's records into the Markdown printed on stdout (a headline pivot, one table per
// filesystem and Node, the many-process table) and the JSON document written to results/.
import { variants } from './variants.mjs';

const fsTitle = { local: 'local disk', fuse: 'FUSE, kernel caches off' };

function ms(n) {
  return n === null || n === undefined ? '' : n >= 100 ? String(Math.round(n)) : n.toFixed(1);
}

function ratio(r) {
  return r === null || r === undefined ? '' : `${r.toFixed(2)}x`;
}

function statusText(record) {
  if (record.status === 'ok') return null;
  const label = { broken: 'BROKEN', 'setup-failed': 'not run', 'plain-failed': 'plain Node failed' }[record.status] ?? record.status;
  return `${label}: ${String(record.reason).replaceAll('|', '\\|')}`;
}

/** A Markdown table whose first `textColumns` columns are left-aligned and the rest right-aligned. */
function table(header, rows, textColumns = 2) {
  const lines = [`| ${header.join(' | ')} |`, `|${header.map((h, i) => (i < textColumns ? '---' : '--:')).join('|')}|`];
  for (const row of rows) lines.push(`| ${row.join(' | ')} |`);
  return lines.join('\n');
}

/** Rows: variants of one scenario; columns: each filesystem x Node, "median ms (ratio)". */
function headline(records, scenarioId) {
  const cells = records.filter((r) => r.scenario === scenarioId);
  if (cells.length === 0) return null;
  const columns = [...new Set(cells.map((r) => `${r.fs}|${r.node}`))];
  const order = variants.map((v) => v.title);
  const titles = [...new Set(cells.map((r) => r.variantTitle))].sort((a, b) => order.indexOf(a) - order.indexOf(b));
  const rows = titles.map((variant) => [variant, ...columns.map((column) => {
    const record = cells.find((r) => r.variantTitle === variant && `${r.fs}|${r.node}` === column);
    if (!record) return '-';
    if (record.status !== 'ok') return record.status === 'broken' ? 'broken' : 'not run';
    return record.variant === 'plain' ? `${ms(record.median)} ms` : `${ms(record.median)} ms (${ratio(record.ratio)})`;
  })]);
  const header = ['variant', ...columns.map((c) => { const [fs, node] = c.split('|'); return `${fs === 'fuse' ? 'FUSE' : 'local'}, Node ${node}`; })];
  return `### Headline: ${cells[0].scenarioTitle} (median wall time, ratio to plain Node)\n\n${table(header, rows, 1)}`;
}

export function markdown(doc) {
  const out = [`# coldstart benchmark (${doc.profile})`, '',
    `${doc.date} · ${doc.machine.cpu}, ${doc.machine.cores} cores, ${doc.machine.memGiB} GiB · ${doc.machine.os} · load at start ${doc.machine.load.join(' ')}`,
    `Node: ${doc.nodes.map((n) => n.version).join(', ')} · ${doc.runs} timed runs after a warm-up (${doc.fuseRuns} on FUSE) · ratio = variant median / plain median; below 1 is faster`,
    ''];
  for (const note of doc.skipped) out.push(`- skipped: ${note}`);
  if (doc.skipped.length) out.push('');
  const head = headline(doc.results, 'eslint-version');
  if (head) out.push(head, '');
  const groups = [...new Set(doc.results.map((r) => `${r.fs}|${r.node}`))];
  for (const group of groups) {
    const [fs] = group.split('|');
    const records = doc.results.filter((r) => `${r.fs}|${r.node}` === group);
    out.push(`### ${fsTitle[fs]}, Node ${records[0].nodeVersion}`, '');
    // On the slow mount the telling count is what each process sends to it (mountops.mjs).
    const onMount = fs === 'fuse';
    // Instruction counts, when the run took them (--instructions): two more columns.
    const counted = records.some((r) => r.instructions != null);
    const rows = records.map((r) => {
      const status = statusText(r);
      if (status) return [r.scenarioTitle, r.variantTitle, status, '', '', '', '', '', ...(counted ? ['', ''] : [])];
      const sys = onMount
        ? r.mountOps && !r.mountOps.error ? [`${r.mountOps.ops} (${r.mountOps.failed})`, `${r.mountOps.writes} / ${Math.round(r.mountOps.bytesRead / 1024)}`] : ['', '']
        : r.syscalls && !r.syscalls.error ? [`${r.syscalls.file} (${r.syscalls.failed})`, String(r.syscalls.reads)] : ['', ''];
      const instructions = !counted ? [] : r.instructions?.millions !== undefined ? [r.instructions.millions.toFixed(1), ratio(r.instructionRatio)] : [r.instructions?.error ? 'failed' : '', ''];
      return [r.scenarioTitle, r.variantTitle, ms(r.median), `${ms(r.min)}-${ms(r.max)}`, ratio(r.ratio), ...sys, r.rssKiB ? (r.rssKiB / 1024).toFixed(0) : '', ...instructions];
    });
    const counts = onMount ? ['ops on the mount per process (failed)', 'writes / KiB read there'] : ['file syscalls (failed)', 'reads'];
    out.push(table(['scenario', 'variant', 'median ms', 'min-max', 'vs node', ...counts, 'peak RSS MiB', ...(counted ? ['M instructions', 'instr. vs node'] : [])], rows), '');
  }
  if (doc.many.length > 0) {
    out.push('### Many processes at once (FUSE): time until the last exits', '');
    const rows = doc.many.map((r) => {
      const status = statusText(r);
      return [`Node ${r.node}, ${r.launcher}`, `${r.n} x ${r.scenarioTitle}`, r.variantTitle,
        status ?? `${ms(r.median)} (${ms(r.min)}-${ms(r.max)})`, status ? '' : ratio(r.ratio)];
    });
    out.push(table(['launch', 'processes', 'variant', 'wall ms median (min-max)', 'vs node'], rows, 3), '');
  }
  if (doc.notes.length) out.push('Setup notes:', ...doc.notes.map((n) => `- ${n}`), '');
  return out.join('\n');
}
