// Command-line options of the benchmark suite and the three profiles (smoke, quick, full) they
// start from; explicit flags override the profile.

export const usage = `Usage: node bench/run.mjs [--smoke | --quick] [options]

Runs real programs under plain Node and under each start-up accelerator, checks every variant
prints what plain Node prints, and times the ones that do. Markdown on stdout, progress on
stderr, JSON + SVG chart in bench/results/.

Profiles:
  (default)   full run: Node 20 and 24, every scenario and variant, local disk and FUSE,
              10 timed runs each, many-process launches of 8, 32 and 64 by our own spawn,
              mpirun and srun where they run (about 30 minutes)
  --quick     the same matrix with 3 runs and one many-process round (a few minutes)
  --smoke     one scenario, two variants, one run, local disk, this Node (a few seconds)

Options:
  --runs N            timed runs per variant after the warm-up
  --node LIST         Node versions or binaries, e.g. 20,24 or /path/to/node
  --scenario LIST     only these scenarios (ids, comma-separated)
  --real-work         also run each --version command's real work (eslint on a file, tsc -p,
                      a webpack build, prettier --check, npm ls, vitest run) with the lazy pack
                      learned from its --version run; stderr is compared too
  --variant LIST      only these variants (ids; 'plain' is always added)
  --fs LIST           local,fuse
  --many LIST         process counts for the many-process runs (0 = none)
  --no-strace         skip the syscall-count runs
  --instructions      also count each variant's instructions once under valgrind (local
                      disk only; slow: tens of seconds per command)
  --out DIR           where results go (default bench/results, or bench/.work/smoke for --smoke)
  --strict            exit 3 if any variant is broken or failed to set up
  -h, --help          this text

Exit codes: 0 done (broken variants are results, not failures), 1 the harness failed,
2 bad usage, 3 --strict and some variant broken.`;

const profiles = {
  full: { runs: 10, fuseRuns: 5, nodes: ['20', '24'], fs: ['local', 'fuse'], many: [8, 32, 64], manyRounds: 2, strace: true, scenarios: null, variants: null },
  quick: { runs: 3, fuseRuns: 3, nodes: ['20', '24'], fs: ['local', 'fuse'], many: [8, 32], manyRounds: 1, strace: true, scenarios: null, variants: null },
  smoke: { runs: 1, fuseRuns: 1, nodes: ['self'], fs: ['local'], many: [], manyRounds: 0, strace: true, scenarios: ['eslint-version'], variants: ['plain', 'coldstart'] },
};

export class UsageError extends Error {}

function list(value, flag) {
  if (value === undefined || value.startsWith('--')) throw new UsageError(`${flag} needs a value`);
  return value.split(',').map((item) => item.trim()).filter(Boolean);
}

function count(value, flag) {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0) throw new UsageError(`${flag} needs a whole number, got '${value}'`);
  return number;
}

/** Parses argv (without node and script) into the options the run uses. */
export function parseOptions(argv) {
  const profile = argv.includes('--smoke') ? 'smoke' : argv.includes('--quick') ? 'quick' : 'full';
  const options = { profile, ...structuredClone(profiles[profile]), out: null, strict: false, help: false, realWork: false, instructions: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const next = () => argv[++i];
    switch (flag) {
      case '--smoke': case '--quick': break;
      case '-h': case '--help': options.help = true; break;
      case '--runs': options.runs = options.fuseRuns = count(next(), flag); break;
      case '--node': options.nodes = list(next(), flag); break;
      case '--scenario': options.scenarios = list(next(), flag); break;
      case '--variant': options.variants = list(next(), flag); break;
      case '--fs': options.fs = list(next(), flag); break;
      case '--many': options.many = list(next(), flag).map((n) => count(n, flag)).filter((n) => n > 0); break;
      case '--no-strace': options.strace = false; break;
      case '--out': options.out = list(next(), flag).join(','); break;
      case '--strict': options.strict = true; break;
      case '--real-work': options.realWork = true; break;
      case '--instructions': options.instructions = true; break;
      default: throw new UsageError(`unknown option '${flag}' (see --help)`);
    }
  }
  for (const name of options.fs) {
    if (name !== 'local' && name !== 'fuse') throw new UsageError(`--fs takes local and/or fuse, got '${name}'`);
  }
  if (options.runs < 1) throw new UsageError('--runs must be at least 1');
  if (options.variants && !options.variants.includes('plain')) options.variants.unshift('plain');
  return options;
}
