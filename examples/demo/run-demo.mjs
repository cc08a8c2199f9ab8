// `npm run demo`: installs the demo CLI's packages if needed, builds it lazily with each bundler
// plugin and with tsc + build-defer (build-variants.mjs), then times `--help` of its eager,
// lazy(), import-lazy, auto-defer and built variants against `node -e 0`, checks they print the
// same thing, and counts the modules each loaded.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildVariants } from './build-variants.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const runs = Number(process.env.DEMO_RUNS ?? 20);

function ensureInstalled() {
  const marker = join(here, 'node_modules', '.package-lock.json');
  if (existsSync(marker) && existsSync(join(here, 'node_modules', 'coldstart'))) return;
  process.stderr.write('demo: installing typescript, @aws-sdk/client-s3, eslint and import-lazy (npm ci)...\n');
  execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: here, stdio: ['ignore', 'ignore', 'inherit'] });
}

const variants = [
  { name: 'node -e 0', args: ['-e', '0'] },
  { name: 'eager imports', args: ['eager.mjs', '--help'] },
  { name: 'coldstart lazy()', args: ['lazy.mjs', '--help'] },
  { name: 'import-lazy', args: ['import-lazy.cjs', '--help'] },
  // The eager program's ordinary imports, made lazy by autodefer/package.json's "coldstart.defer".
  { name: 'coldstart auto-defer', args: ['--import', 'coldstart/register', 'autodefer/main.mjs', '--help'] },
];

// Without NODE_EXTRA_CA_CERTS, as in the benchmark suite: Node 20 parses that file at every
// start (~30 ms on the machine this was measured on), which would hide the differences.
const baseEnv = { ...process.env, NODE_OPTIONS: '' };
delete baseEnv.NODE_EXTRA_CA_CERTS;

function run(args, env = {}) {
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, { cwd: here, encoding: 'utf8', env: { ...baseEnv, ...env } });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new Error(`node ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return { ms, stdout: result.stdout };
}

function countModules(args) {
  const dir = mkdtempSync(join(tmpdir(), 'coldstart-demo-'));
  const file = join(dir, 'modules.txt');
  try {
    run(['--import', './count-modules.mjs', ...args], { DEMO_MODULES_FILE: file });
    const files = new Set(existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);
    const all = [...files].filter((f) => !f.includes(`${sep}count-modules`));
    const heavy = all.filter((f) => /node_modules[\\/](typescript|@aws-sdk|eslint)[\\/]/.test(f)).length;
    return { total: all.length, heavy };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

ensureInstalled();
process.stderr.write('demo: building the lazy variants (esbuild, Rollup, tsc + build-defer)...\n');
// Built without hooks: each runs with plain `node`, its three packages loaded at first use.
for (const built of await buildVariants()) variants.push({ name: built.name, args: [built.file, '--help'] });
const outputs = variants.slice(1).map((v) => run(v.args).stdout);
const same = outputs.every((o) => o === outputs[0]);
process.stderr.write(`demo: timing --help, ${runs} runs per variant after 3 warm-up runs, interleaved...\n`);
for (const v of variants) for (let i = 0; i < 3; i++) run(v.args);
const times = variants.map(() => []);
for (let i = 0; i < runs; i++) variants.forEach((v, j) => times[j].push(run(v.args).ms));

const rows = variants.map((v, j) => ({
  name: v.name,
  median: median(times[j]),
  min: Math.min(...times[j]),
  max: Math.max(...times[j]),
  modules: v.name === 'node -e 0' ? { total: 0, heavy: 0 } : countModules(v.args),
}));
const base = rows[0].median;
const eager = rows[1].median;
const lines = [
  `demo-cli --help on node ${process.version} (${runs} runs each; milliseconds)`,
  '',
  '| variant | median | min | max | vs node -e 0 | vs eager | modules loaded | of them typescript/aws/eslint |',
  '|---|---:|---:|---:|---:|---:|---:|---:|',
  ...rows.map((r) => `| ${r.name} | ${r.median.toFixed(1)} | ${r.min.toFixed(1)} | ${r.max.toFixed(1)} | ${(r.median / base).toFixed(2)}x | ${(eager / r.median).toFixed(2)}x faster | ${r.modules.total} | ${r.modules.heavy} |`),
  '',
  `same --help output from all ${variants.length - 1} CLI variants: ${same ? 'yes' : 'NO'}`,
  `lazy() --help vs node -e 0: ${(((rows[2].median / base) - 1) * 100).toFixed(1)}% slower (goal: within 15%)`,
  `lazy() --help vs eager: ${(eager / rows[2].median).toFixed(1)}x faster (goal: at least 4x)`,
  `auto-defer --help vs lazy(): ${(((rows[4].median / rows[2].median) - 1) * 100).toFixed(1)}% slower (goal: within 15%; Node 20 runs its hooks in a worker thread)`,
  ...rows.slice(5).map((r) => `${r.name} --help vs lazy(): ${(((r.median / rows[2].median) - 1) * 100).toFixed(1)}% (goal: within 5%, no hooks)`),
];
process.stdout.write(lines.join('\n') + '\n');
if (!same) process.exitCode = 1;
