// The text report: per process, a summary and the import tree sorted by inclusive time with
// own time beside it, small entries folded; then defer candidates.
import { relative } from 'node:path';
import { isWrapper, labelOf, type ProcessView, type TreeNode } from './analyze.js';
import type { DeferCandidate } from './defer.js';

const formatNames: Record<string, string> = { module: 'ESM', commonjs: 'CommonJS', json: 'JSON', addon: 'addon', wasm: 'wasm', other: 'other' };
const hookNames = { registerHooks: 'module.registerHooks', register: 'module.register (off-thread)', none: 'not observed' };

function esmHooksText(profile: ProcessView['profile']): string {
  if (profile.esmHooks !== 'none' && profile.esmHooksFromMs === null) return `no ES module loaded (${hookNames[profile.esmHooks]} never needed)`;
  return `ES modules seen through ${hookNames[profile.esmHooks]}`;
}

const ms = (value: number) => value.toFixed(1).padStart(8);

export interface TextOptions {
  cwd: string;
  /** Entries whose inclusive time is below this are folded; default: 1% of loading, at least 0.5 ms. */
  minMs?: number;
  color?: (text: string) => string;
}

export function renderSummary(view: ProcessView): string {
  const { profile } = view;
  const formats = Object.entries(view.byFormat)
    .sort((a, b) => b[1] - a[1])
    .map(([format, count]) => `${formatNames[format] ?? format} ${count}`)
    .join(', ');
  const share = profile.wallMs > 0 ? ` (${Math.round((100 * view.loadingMs) / profile.wallMs)}%)` : '';
  return [
    `process ${profile.pid}: ${profile.argv.map((a, i) => (i === 0 ? 'node' : a)).join(' ')}`,
    `  Node ${profile.nodeVersion}, ${esmHooksText(profile)}${isWrapper(profile) ? ', a wrapper (npm/npx)' : ''}`,
    `  modules: ${view.moduleCount}${formats === '' ? '' : ` (${formats})`}, builtins ${view.builtinCount} counted apart` +
      (view.fromPackCount > 0 ? `; ${view.fromPackCount} served from the pack (marked [pack])` : ''),
    `  module loading: ${view.loadingMs.toFixed(1)} ms of ${profile.wallMs.toFixed(1)} ms in the process${share}`,
  ].join('\n');
}

export function renderTree(view: ProcessView, options: TextOptions): string {
  const minMs = options.minMs ?? Math.max(0.5, view.loadingMs / 100);
  const lines = [`  ${'incl ms'.padStart(8)}  ${'self ms'.padStart(8)}  module`];
  const walk = (nodes: TreeNode[], prefix: string) => {
    const shown = nodes.filter((n) => n.inclusiveMs >= minMs && n.module.format !== 'builtin');
    const folded = nodes.filter((n) => !shown.includes(n) && n.module.format !== 'builtin');
    shown.forEach((node, i) => {
      const last = i === shown.length - 1 && folded.length === 0;
      const label = labelOf(node.module.key, options.cwd) + (node.module.fromPack === true ? ' [pack]' : '');
      lines.push(`  ${ms(node.inclusiveMs)}  ${ms(node.module.selfMs)}  ${prefix}${last ? '└─ ' : '├─ '}${label}`);
      walk(node.children, prefix + (last ? '   ' : '│  '));
    });
    if (folded.length > 0) {
      const sum = folded.reduce((total, node) => total + node.inclusiveMs, 0);
      lines.push(`  ${ms(sum)}  ${''.padStart(8)}  ${prefix}└─ ${folded.length} more under ${minMs.toFixed(1)} ms each`);
    }
  };
  walk(view.roots, '');
  return lines.join('\n');
}

export function renderCandidates(candidates: DeferCandidate[], cwd: string): string {
  if (candidates.length === 0) return 'defer candidates: none (every package imported by your code ran after it loaded)';
  const lines = ['defer candidates (loaded, yet none of their code ran after their own load):'];
  candidates.forEach((c, i) => {
    const where = `${relative(cwd, c.importer) || c.importer}${c.line === null ? '' : `:${c.line}`}`;
    lines.push(`  ${i + 1}. ${c.package}  would save ~${c.savingMs.toFixed(1)} ms (${c.modules} module${c.modules === 1 ? '' : 's'} only it loads)`);
    lines.push(`     ${where}  ${c.statement?.replace(/\s*\n\s*/g, ' ') ?? `(import of '${c.specifier}' not found in the source)`}`);
    lines.push(`     replace with: ${c.replacement}`);
  });
  const esm = candidates.some((c) => c.replacement.includes('import.meta.url'));
  const cjs = candidates.some((c) => c.replacement.includes('__filename'));
  if (esm) lines.push("  and add: import { lazy, lazyNamed } from 'coldstart';");
  if (cjs) lines.push("  and add: const { lazy, lazyNamed } = require('coldstart');");
  return lines.join('\n');
}
