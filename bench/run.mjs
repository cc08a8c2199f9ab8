#!/usr/bin/env node
// Entry of the benchmark suite (`npm run bench`): sets up programs, Node binaries and the FUSE
// tree, measures every scenario x variant x filesystem x Node, then prints Markdown and writes
// JSON + SVG. See docs/bench.md.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { svgChart } from './lib/chart.mjs';
import { fuseUnavailable, mountFuseTree } from './lib/fuse.mjs';
import { startSlurm } from './lib/slurm.mjs';
import { measureMany, measureScenario } from './lib/matrix.mjs';
import { mpiWorks } from './lib/many.mjs';
import { UsageError, parseOptions, usage } from './lib/options.mjs';
import { markdown } from './lib/report.mjs';
import { selectScenarios } from './lib/scenarios.mjs';
import { describeMachine, ensureDeps, findNode, findTools, installDebianTools, log } from './lib/setup.mjs';
import { selectVariants } from './lib/variants.mjs';

const benchDir = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(benchDir, '..');
const work = join(benchDir, '.work');

function writeAtomic(path, text) {
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, text);
  renameSync(temp, path);
}

function hasCompileCache(nodePath) {
  const result = spawnSync(nodePath, ['-p', "typeof require('node:module').enableCompileCache === 'function'"], { encoding: 'utf8' });
  return result.stdout.trim() === 'true';
}

async function run(options) {
  const started = performance.now();
  ensureDeps(benchDir, 'the benchmark programs');
  if (!options.scenarios || options.scenarios.includes('demo-help')) ensureDeps(join(repoRoot, 'examples', 'demo'), 'the demo CLI', { onlyIfMissing: true });
  // Not for the smoke run, which `npm test` starts: tests install nothing on the machine.
  if (options.profile !== 'smoke') installDebianTools({ instructions: options.instructions });
  const tools = findTools();
  const nodes = options.nodes.map((spec) => ({ ...findNode(spec, work), compileCache: false }));
  for (const node of nodes) node.compileCache = hasCompileCache(node.path);
  log(`Node: ${nodes.map((n) => `${n.version} (${n.path})`).join(', ')}`);
  const { chosen: scenarios, skipped: missing } = selectScenarios(repoRoot, options.scenarios, options.realWork);
  const variants = selectVariants(options.variants);
  const skipped = missing.map((s) => `scenario ${s.id}: ${s.reason}`);
  const notes = [];
  if (!existsSync(join(repoRoot, 'dist', 'register.js'))) skipped.push('coldstart variants: dist/ is not built (npm run build)');
  if (options.strace && !tools.strace) skipped.push('syscall counts: strace is not installed');
  if (!tools.time) skipped.push('peak RSS: /usr/bin/time (GNU time) is not installed');
  if (options.instructions && !tools.valgrind) skipped.push('instruction counts: valgrind is not installed');
  for (const s of skipped) log(`skipped: ${s}`);
  const results = [];
  const many = [];
  /** Slurm, started at the first many-process scenario: undefined not yet tried, null unavailable. */
  let slurm;
  for (const fs of options.fs) {
    let tree;
    if (fs === 'fuse') {
      const reason = fuseUnavailable(tools);
      if (reason) {
        skipped.push(`FUSE filesystem: ${reason}`);
        log(`skipped: FUSE filesystem: ${reason}`);
        continue;
      }
      try {
        tree = mountFuseTree(repoRoot, work);
      } catch (error) {
        skipped.push(`FUSE filesystem: ${error.message}`);
        log(`skipped: FUSE filesystem: ${error.message}`);
        continue;
      }
    } else {
      // Local state (bundles, warmed caches) starts empty so every run sets up alike; the smoke run,
      // which CI may start while a real run is going, uses none of it and leaves it alone.
      if (options.profile !== 'smoke') for (const dir of ['state', 'bundles', 'tmp']) rmSync(join(work, dir), { recursive: true, force: true });
      tree = { root: repoRoot, coldstart: repoRoot, close() {} };
    }
    try {
      const memo = new Map();
      for (const node of nodes) {
        for (const scenario of scenarios) {
          const measured = await measureScenario({ root: tree.root, coldstart: tree.coldstart, work, fs, node, scenario, variants, options, tools, memo, notes });
          results.push(...measured.records);
          const manyHere = fs === 'fuse' && scenario.many && options.many.length > 0 && (options.profile !== 'quick' || node === nodes.at(-1));
          if (manyHere) {
            const mpi = tools.mpirun && mpiWorks(node.path);
            if (!mpi && !skipped.some((s) => s.startsWith('mpirun'))) skipped.push('mpirun launches: mpirun missing or cannot start processes (Debian: openmpi-bin)');
            if (slurm === undefined && options.many.includes(32)) {
              const started = startSlurm(work, Math.max(...options.many));
              slurm = started.reason === undefined ? started : null;
              if (slurm) process.once('exit', () => slurm.stop()); // also when the run fails
              if (started.reason !== undefined) skipped.push(`srun launches: ${started.reason}`);
            }
            many.push(...await measureMany({ node, scenario, measured, counts: options.many, rounds: options.manyRounds, mpi, slurm }));
          }
        }
      }
    } finally {
      tree.close();
    }
  }
  slurm?.stop();
  const doc = {
    format: 1, profile: options.profile, date: new Date().toISOString(), machine: describeMachine(),
    nodes: nodes.map(({ label, version, path, compileCache }) => ({ label, version, path, compileCache })),
    runs: options.runs, fuseRuns: options.fuseRuns, skipped, notes, results, many,
    seconds: Math.round((performance.now() - started) / 1000),
  };
  const out = options.out ?? (options.profile === 'smoke' ? join(work, 'smoke') : join(benchDir, 'results'));
  mkdirSync(out, { recursive: true });
  const name = options.profile === 'full' ? 'bench' : options.profile;
  const text = markdown(doc);
  writeAtomic(join(out, `${name}.json`), `${JSON.stringify(doc, null, 1)}\n`);
  writeAtomic(join(out, `${name}.md`), `${text}\n`);
  writeAtomic(join(out, `${name}.svg`), svgChart(doc));
  process.stdout.write(`${text}\n`);
  log(`done in ${doc.seconds} s; wrote ${join(out, name)}.{json,md,svg}`);
  const bad = [...results, ...many].filter((r) => r.status !== 'ok');
  return options.strict && bad.length > 0 ? 3 : 0;
}

async function main() {
  let options;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`bench: ${error.message}\n`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  try {
    return await run(options);
  } catch (error) {
    process.stderr.write(`bench: ${error.message}\n  hint: BENCH_DEBUG=1 prints the stack; --smoke checks the setup in a few seconds\n`);
    if (process.env.BENCH_DEBUG) process.stderr.write(`${error.stack}\n`);
    return 1;
  }
}

process.exitCode = await main();
