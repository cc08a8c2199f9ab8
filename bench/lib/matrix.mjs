// Measuring one scenario on one tree and Node: plain Node's reference output, each variant's
// setup and output check, then interleaved timed runs (so drift in machine load hits every
// variant alike), syscall counts and peak RSS.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { countInstructions, countSyscalls, difference, runOnce, runWithRss, stats } from './measure.mjs';
import { countOnMount } from './mountops.mjs';
import { launchMpi, launchTogether } from './many.mjs';
import { launchSrun } from './slurm.mjs';
import { log } from './setup.mjs';
import { SetupError } from './variants.mjs';

// Lets signal handlers run between runs: spawnSync blocks the event loop, and without a turn of
// it a SIGINT/SIGTERM would wait for the whole run to end before the FUSE mount is removed.
const tick = () => new Promise((resolve) => setImmediate(resolve));

/**
 * Each variant gets its own temporary folder, and with it its own default compile cache: programs
 * that call module.enableCompileCache() (npm, tsc, webpack, vitest) keep it in os.tmpdir(), keyed
 * by file name, so variants that serve different sources of the same file (the lazy pack's
 * rewritten ones) would replace each other's entries at every alternation, a cost no user who
 * keeps one setup pays.
 */
function ownTemp(command, work, fs, node, scenario, variant) {
  // On local disk whatever the tree: a temporary folder is local on any machine.
  const dir = join(work, 'tmp', fs, `node${node.label}`, scenario.id, variant.id);
  mkdirSync(dir, { recursive: true });
  return { ...command, env: { ...command.env, TMPDIR: dir } };
}

function record(base, variant, fields) {
  return { ...base, variant: variant.id, variantTitle: variant.title, median: null, min: null, max: null, runs: 0,
    samples: [], ratio: null, instructions: null, instructionRatio: null, syscalls: null, mountOps: null, rssKiB: null, reason: null, ...fields };
}

/**
 * Returns { records, commands, reference }: one record per applicable variant, the commands of
 * the variants that passed the check (for the many-process runs) and plain Node's output.
 */
export async function measureScenario({ root, coldstart, work, fs, node, scenario, variants, options, tools, memo, notes }) {
  const base = { fs, node: node.label, nodeVersion: node.version, scenario: scenario.id, scenarioTitle: scenario.title };
  const cell = { root, coldstart, work, fs, node, scenario, memo, notes };
  const applicable = variants.filter((v) => !v.applies || v.applies(cell));
  const [plain, ...others] = applicable;
  const plainCommand = ownTemp(plain.prepare(cell), work, fs, node, scenario, plain);
  runOnce(plainCommand); // warm-up: the page cache, and what the program itself caches
  const reference = runWithRss(plainCommand, tools.time);
  if (reference.error || reference.signal) {
    const reason = reference.error ?? `killed by ${reference.signal}`;
    return { records: applicable.map((v) => record(base, v, { status: 'plain-failed', reason })), commands: new Map(), reference };
  }
  const records = new Map([[plain.id, record(base, plain, { status: 'ok', rssKiB: reference.rssKiB })]]);
  const commands = new Map([[plain.id, plainCommand]]);
  for (const variant of others) {
    let command;
    try {
      command = ownTemp(variant.prepare(cell), work, fs, node, scenario, variant);
    } catch (error) {
      const reason = error instanceof SetupError ? error.message : `setup threw: ${error.message}`;
      records.set(variant.id, record(base, variant, { status: 'setup-failed', reason }));
      continue;
    }
    await tick();
    // A warm-up with the variant's own TMPDIR first, as plain's: programs that switch on Node's
    // compile cache (tsc, prettier) keep it there, and a cold one costs 10 MiB more RSS.
    runOnce(command);
    const check = runWithRss(command, tools.time);
    const problem = difference(reference, check, scenario);
    if (problem) {
      records.set(variant.id, record(base, variant, { status: 'broken', reason: problem }));
      continue;
    }
    records.set(variant.id, record(base, variant, { status: 'ok', rssKiB: check.rssKiB }));
    commands.set(variant.id, command);
  }
  const runs = fs === 'fuse' ? options.fuseRuns : options.runs;
  for (let round = 0; round < runs; round++) {
    for (const [id, command] of commands) {
      await tick();
      const result = runOnce(command);
      const problem = difference(reference, result, scenario);
      if (problem) {
        Object.assign(records.get(id), { status: 'broken', reason: `timed run ${round + 1}: ${problem}` });
        commands.delete(id);
      } else records.get(id).samples.push(Math.round(result.ms * 10) / 10);
    }
  }
  // Syscall counts do not depend on the filesystem, so they are taken on local disk only; on the
  // slow mount, what counts is the operations each process sends to it.
  if (options.strace && tools.strace) {
    for (const [id, command] of commands) {
      await tick();
      if (fs === 'local') records.get(id).syscalls = countSyscalls(command);
      else records.get(id).mountOps = countOnMount(command, root);
    }
  }
  // Instructions on local disk only: the mount's cost is in the kernel, which valgrind does not count.
  if (options.instructions && tools.valgrind && fs === 'local') {
    for (const [id, command] of commands) {
      await tick();
      records.get(id).instructions = countInstructions(command);
    }
  }
  const plainRecord = records.get(plain.id);
  const plainMillions = plainRecord.instructions?.millions;
  for (const r of records.values()) {
    if (r.instructions?.millions !== undefined && plainMillions !== undefined) r.instructionRatio = Math.round((r.instructions.millions / plainMillions) * 1000) / 1000;
  }
  for (const r of records.values()) {
    if (r.status !== 'ok' || r.samples.length === 0) continue;
    Object.assign(r, stats(r.samples));
  }
  for (const r of records.values()) {
    if (r.status === 'ok' && plainRecord.status === 'ok' && r.median !== null) r.ratio = Math.round((r.median / plainRecord.median) * 1000) / 1000;
  }
  const summary = [...records.values()].map((r) => `${r.variant} ${r.status === 'ok' ? `${Math.round(r.median)} ms` : r.status}`).join(', ');
  log(`${fs} node${node.label} ${scenario.id}: ${summary}`);
  return { records: [...records.values()], commands, reference };
}

const MANY_VARIANTS = ['plain', 'cache-require-paths', 'coldstart', 'coldstart-pack', 'coldstart-lazy-pack', 'coldstart-staged', 'esbuild'];

/** N copies at once, by our own spawn and by mpirun, for the variants that passed the check. */
export async function measureMany({ node, scenario, measured, counts, rounds, mpi, slurm }) {
  const base = { fs: 'fuse', node: node.label, nodeVersion: node.version, scenario: scenario.id, scenarioTitle: scenario.title };
  const out = [];
  const chosen = MANY_VARIANTS.filter((id) => measured.records.some((r) => r.variant === id));
  const launchers = ['spawn', ...(mpi ? ['mpirun'] : []), ...(slurm ? ['srun'] : [])];
  for (const launcher of launchers) {
    // srun: 32 processes, the count the cluster recipe is shown with (docs/scale.md).
    for (const n of launcher === 'srun' ? counts.filter((c) => c === 32) : counts) {
      const records = chosen.map((id) => {
        const variantRecord = measured.records.find((r) => r.variant === id);
        const ok = measured.commands.has(id);
        return { ...base, launcher, n, variant: id, variantTitle: variantRecord.variantTitle, status: ok ? 'ok' : variantRecord.status,
          reason: ok ? null : variantRecord.reason, samples: [], median: null, min: null, max: null, ratio: null };
      });
      for (let round = 0; round < rounds; round++) {
        for (const r of records.filter((x) => x.status === 'ok')) {
          const command = measured.commands.get(r.variant);
          const launch = launcher === 'mpirun' ? launchMpi : launcher === 'srun' ? (...a) => launchSrun(slurm, ...a) : launchTogether;
          const { ms, problem } = await launch(command, n, measured.reference);
          if (problem) Object.assign(r, { status: 'broken', reason: problem });
          else r.samples.push(Math.round(ms));
        }
      }
      for (const r of records) if (r.status === 'ok') Object.assign(r, stats(r.samples));
      const plain = records.find((r) => r.variant === 'plain');
      for (const r of records) if (r.status === 'ok' && plain?.status === 'ok') r.ratio = Math.round((r.median / plain.median) * 1000) / 1000;
      log(`fuse node${node.label} ${launcher} ${n} x ${scenario.id}: ${records.map((r) => `${r.variant} ${r.status === 'ok' ? `${Math.round(r.median)} ms` : r.status}`).join(', ')}`);
      out.push(...records);
    }
  }
  return out;
}
