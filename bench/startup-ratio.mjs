// Issue #18's headline figure from a benchmark run: for each variant, the geometric mean over the
// six `--version` commands (eslint, webpack-cli, vitest, npm, prettier, tsc) of the command's
// median time divided by the median time of an empty script in the same run, filesystem and Node.
// Usage: node bench/startup-ratio.mjs [results.json] [--fs local] [--node 24]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const usage = 'usage: node bench/startup-ratio.mjs [results.json] [--fs local|fuse] [--node <major>]\n';
const fail = (message) => {
  process.stderr.write(`startup-ratio: ${message}\n${usage}`);
  process.exit(2);
};
const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  process.stdout.write(usage);
  process.exit(0);
}
const flag = (name, fallback) => {
  const at = args.indexOf(name);
  if (at === -1) return fallback;
  const value = args.splice(at, 2)[1];
  if (value === undefined || value.startsWith('-')) fail(`${name} needs a value`);
  return value;
};
const fs = flag('--fs', 'local');
const node = flag('--node', '24');
const unknown = args.find((arg) => arg.startsWith('-'));
if (unknown !== undefined) fail(`unknown option ${unknown}`);
if (args.length > 1) fail(`one results file at most (got ${args.length})`);
const file = args[0] ?? join(import.meta.dirname, 'results', 'bench.json');
let doc;
try {
  doc = JSON.parse(readFileSync(file, 'utf8'));
} catch (error) {
  fail(`cannot read ${file}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`);
}
if (!Array.isArray(doc?.results)) fail(`${file} is not a benchmark result (no "results" list)`);
const commands = ['eslint-version', 'webpack-version', 'vitest-version', 'npm-version', 'prettier-version', 'tsc-version'];
const rows = doc.results.filter((r) => r.fs === fs && r.node === node);
const base = rows.find((r) => r.scenario === 'empty' && r.variant === 'plain');
if (base?.median == null) {
  process.stderr.write(`no empty-script run for ${fs}, Node ${node} in ${file}\n`);
  process.exit(1);
}
const out = [`| variant | ${commands.map((c) => c.replace('-version', '')).join(' | ')} | geometric mean |`, `|---|${commands.map(() => '--:').join('|')}|--:|`];
for (const variant of [...new Set(rows.map((r) => r.variant))]) {
  const ratios = commands.map((c) => {
    const r = rows.find((x) => x.scenario === c && x.variant === variant);
    return r?.status === 'ok' && r.median != null ? r.median / base.median : undefined;
  });
  const known = ratios.filter((x) => x !== undefined);
  const mean = known.length === commands.length ? Math.exp(known.reduce((a, x) => a + Math.log(x), 0) / known.length) : undefined;
  const title = rows.find((r) => r.variant === variant).variantTitle;
  out.push(`| ${title} | ${ratios.map((x) => (x === undefined ? '-' : `${x.toFixed(2)}x`)).join(' | ')} | ${mean === undefined ? '-' : `${mean.toFixed(2)}x`} |`);
}
let text = `${out.join('\n')}\n\nTime over an empty script (${base.median} ms), ${fs}, Node ${rows[0].nodeVersion}, from ${file}.\n`;
// The same figure in instructions, when the run counted them (bench/run.mjs --instructions).
const baseCount = base.instructions?.millions;
if (baseCount !== undefined) {
  const lines = [out[0], out[1]];
  for (const variant of [...new Set(rows.map((r) => r.variant))]) {
    const ratios = commands.map((c) => {
      const millions = rows.find((x) => x.scenario === c && x.variant === variant)?.instructions?.millions;
      return millions === undefined ? undefined : millions / baseCount;
    });
    const mean = ratios.every((x) => x !== undefined) ? Math.exp(ratios.reduce((a, x) => a + Math.log(x), 0) / ratios.length) : undefined;
    lines.push(`| ${rows.find((r) => r.variant === variant).variantTitle} | ${ratios.map((x) => (x === undefined ? '-' : `${x.toFixed(2)}x`)).join(' | ')} | ${mean === undefined ? '-' : `${mean.toFixed(2)}x`} |`);
  }
  text += `\n${lines.join('\n')}\n\nInstructions over an empty script's (${baseCount.toFixed(1)} M, valgrind), same run.\n`;
}
process.stdout.write(text);
