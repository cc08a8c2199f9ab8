// What coldstart/register costs a program in instructions (valgrind), this build against another
// built checkout of coldstart, alternating run by run: `eslint --version` (a CommonJS program
// that gets no defer hook), the demo's auto-defer `--help` (which has one), and a first-party ES
// module program importing prettier (which gets one since `import defer` needs no configuration).
// Each build has an index of its own (their formats may differ) and a code cache written by the
// measured command. Usage:
//   git worktree add /tmp/base <commit> && (cd /tmp/base && npm ci && npm run build)
//   node bench/defer/hook-cost.mjs --base /tmp/base [--runs 8] [--node /path/to/node]
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const { values } = parseArgs({ options: { base: { type: 'string' }, runs: { type: 'string', default: '8' }, node: { type: 'string', default: process.execPath } } });
if (values.base === undefined || !existsSync(join(values.base, 'dist/register.js'))) {
  console.error('hook-cost: --base must name a built checkout of coldstart (with dist/register.js)');
  process.exit(2);
}
if (spawnSync('valgrind', ['--version']).status !== 0) {
  console.error('hook-cost: valgrind is needed (apt-get install valgrind)');
  process.exit(2);
}
const runs = Number(values.runs);
const builds = { base: resolve(values.base), this: root };
const work = mkdtempSync(join(tmpdir(), 'coldstart-hook-cost-'));

// A first-party ES module program with its own node_modules (prettier, copied from the benchmark tree).
const firstParty = join(work, 'first-party');
mkdirSync(join(firstParty, 'node_modules'), { recursive: true });
cpSync(join(root, 'bench/node_modules/prettier'), join(firstParty, 'node_modules/prettier'), { recursive: true });
writeFileSync(join(firstParty, 'package.json'), '{ "name": "first-party", "type": "module" }\n');
writeFileSync(join(firstParty, 'lib.js'), 'export const v = "lib";\n');
writeFileSync(join(firstParty, 'main.js'), 'import { v } from "./lib.js";\nimport * as prettier from "prettier";\nconsole.log(v, prettier.version);\n');

const scenarios = [
  { name: 'eslint --version', cwd: join(root, 'bench'), args: ['node_modules/eslint/bin/eslint.js', '--version'] },
  { name: 'demo autodefer --help', cwd: join(root, 'examples/demo'), args: ['autodefer/main.mjs', '--help'] },
  { name: 'first-party ES module program', cwd: firstParty, args: ['main.js'] },
];

function env(build, scenario) {
  const { NODE_EXTRA_CA_CERTS: _, NODE_OPTIONS: __, ...rest } = process.env;
  return { ...rest, COLDSTART_INDEX: join(work, `${build}-${scenarios.indexOf(scenario)}.index.v1`) };
}

function instructions(build, scenario) {
  const args = ['--tool=callgrind', '--callgrind-out-file=/dev/null', values.node, '--import', join(builds[build], 'dist/register.js'), ...scenario.args];
  const result = spawnSync('valgrind', args, { cwd: scenario.cwd, env: env(build, scenario), encoding: 'utf8' });
  const found = /Collected : (\d+)/.exec(result.stderr);
  if (found === null) throw new Error(`${scenario.name} (${build}): no count\n${result.stderr.slice(-500)}`);
  return Number(found[1]);
}

function clearCodeCaches() {
  for (const dir of Object.values(builds)) {
    for (const name of readdirSync(join(dir, 'dist'))) if (name.startsWith('register-core.') && name.endsWith('.v8cache')) rmSync(join(dir, 'dist', name));
  }
}

const median = (list) => {
  const sorted = [...list].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

console.log(`instructions (valgrind), Node ${spawnSync(values.node, ['--version'], { encoding: 'utf8' }).stdout.trim()}, ${runs} alternating runs each; base ${builds.base}`);
for (const scenario of scenarios) {
  clearCodeCaches();
  // Warm-up: builds each index and writes each code cache from this command.
  for (const build of Object.keys(builds)) {
    for (let i = 0; i < 2; i++) spawnSync(values.node, ['--import', join(builds[build], 'dist/register.js'), ...scenario.args], { cwd: scenario.cwd, env: env(build, scenario) });
  }
  const counts = { base: [], this: [] };
  for (let i = 0; i < runs; i++) for (const build of Object.keys(builds)) counts[build].push(instructions(build, scenario));
  const [b, t] = [median(counts.base), median(counts.this)];
  const range = (list) => `${(Math.min(...list) / 1e6).toFixed(1)}-${(Math.max(...list) / 1e6).toFixed(1)}`;
  console.log(`${scenario.name}: base ${(b / 1e6).toFixed(1)} M (${range(counts.base)}), this ${(t / 1e6).toFixed(1)} M (${range(counts.this)}), ${(((t / b) - 1) * 100).toFixed(1)} %`);
}
clearCodeCaches();
rmSync(work, { recursive: true, force: true });
