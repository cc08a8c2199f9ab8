// docs/scale.md's model: the operations each process sent to the slow mount in a benchmark run
// (bench/results/bench.json, eslint --version on FUSE), scaled to N processes sharing one
// filesystem server. Prints a Markdown table. Usage: node bench/scale-model.mjs [bench.json]
// [--latency-ms 0.3] [--server-ops 20000] [--node 24]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const at = args.indexOf(name);
  return at === -1 ? fallback : args.splice(at, 2)[1];
};
const latencyMs = Number(flag('--latency-ms', '0.3'));
const serverOps = Number(flag('--server-ops', '20000'));
const nodeLabel = flag('--node', '24');
const file = args[0] ?? join(import.meta.dirname, 'results', 'bench.json');
const doc = JSON.parse(readFileSync(file, 'utf8'));
const rows = doc.results.filter((r) => r.fs === 'fuse' && r.node === nodeLabel && r.scenario === 'eslint-version' && r.mountOps && !r.mountOps.error);
if (rows.length === 0) {
  process.stderr.write(`no operation counts for eslint --version on FUSE, Node ${nodeLabel} in ${file}\n`);
  process.exit(1);
}
const counts = [1_000, 10_000, 100_000];
const human = (n) => (n >= 1e6 ? `${(n / 1e6).toFixed(n >= 1e7 ? 0 : 1)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(0)} k` : String(n));
const duration = (s) => (s >= 3600 ? `${(s / 3600).toFixed(1)} h` : s >= 60 ? `${(s / 60).toFixed(1)} min` : `${s.toFixed(1)} s`);
const out = [
  `| variant | ops per process (failed) | own wait at ${latencyMs} ms/op | ${counts.map((n) => `${human(n)} processes: ops, server busy`).join(' | ')} |`,
  `|---|--:|--:|${counts.map(() => '--:').join('|')}|`,
];
for (const r of rows) {
  const { ops, failed } = r.mountOps;
  out.push(`| ${r.variantTitle} | ${ops} (${failed}) | ${(ops * latencyMs).toFixed(0)} ms | ${counts.map((n) => `${human(ops * n)}, ${duration((ops * n) / serverOps)}`).join(' | ')} |`);
}
process.stdout.write(`${out.join('\n')}\n\nFrom ${file} (${doc.date}, Node ${rows[0].nodeVersion}); one server completing ${serverOps} metadata operations a second; ${latencyMs} ms per operation for one process.\n`);
