// The programs the suite starts. Paths are relative to a tree root that mirrors the repository
// (package.json, dist/, bin/, bench/, examples/demo/), so the same table serves local disk and
// the FUSE copy.
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const eslint = 'bench/node_modules/eslint/bin/eslint.js';

/**
 * id: stable name used in flags and JSON; project: the directory `coldstart index` walks;
 * cwd: where the program runs; entry + args: what plain Node runs (no entry for `node -e`);
 * needs: the files it needs, if not its entry; bundle: the format esbuild writes; external:
 * packages left out of the bundle (eslint loads jiti only for TypeScript configs, and esbuild
 * cannot build eslint without that flag); lazy/importLazy/autoDefer: the demo's other versions;
 * projectPack: the scenario whose pack every pack variant uses (a program with no module of its
 * own runs with the pack its project has).
 */
export const scenarios = [
  { id: 'eslint-version', title: 'eslint --version', project: 'bench', cwd: 'bench', entry: eslint, args: ['--version'], bundle: 'cjs', external: ['jiti'], many: true },
  { id: 'eslint-lint', title: 'eslint one file', project: 'bench', cwd: 'bench/fixtures/lint', entry: eslint, args: ['sample.js'], bundle: 'cjs', external: ['jiti'] },
  { id: 'tsc-version', title: 'tsc --version', project: 'bench', cwd: 'bench', entry: 'bench/node_modules/typescript/bin/tsc', args: ['--version'], bundle: 'cjs' },
  { id: 'aws-s3', title: "require('@aws-sdk/client-s3')", project: 'bench', cwd: 'bench', entry: 'bench/fixtures/require-s3.cjs', args: [], bundle: 'cjs' },
  { id: 'webpack-version', title: 'webpack --version', project: 'bench', cwd: 'bench', entry: 'bench/node_modules/webpack/bin/webpack.js', args: ['--version'], bundle: 'cjs' },
  // The other --version commands of issue #18's table; vitest is an ES module program.
  { id: 'vitest-version', title: 'vitest --version', project: 'bench', cwd: 'bench', entry: 'bench/node_modules/vitest/vitest.mjs', args: ['--version'], bundle: 'esm' },
  { id: 'prettier-version', title: 'prettier --version', project: 'bench', cwd: 'bench', entry: 'bench/node_modules/prettier/bin/prettier.cjs', args: ['--version'], bundle: 'cjs' },
  { id: 'npm-version', title: 'npm --version', project: 'bench', cwd: 'bench', entry: 'bench/node_modules/npm/bin/npm-cli.js', args: ['--version'], bundle: 'cjs' },
  // `node -e 0`, issue #18's yardstick: what Node itself costs to start, and what each variant
  // adds to that in a project with an index and a pack (eslint's).
  { id: 'empty', title: 'empty script (node -e 0)', project: 'bench', cwd: 'bench', args: ['-e', '0'], needs: [], projectPack: 'eslint-version' },
  { id: 'prettier-check', title: 'prettier --check', project: 'bench', cwd: 'bench/fixtures/prettier', entry: 'bench/node_modules/prettier/bin/prettier.cjs', args: ['--check', 'formatted.js'], bundle: 'cjs' },
  {
    id: 'demo-help', title: 'demo CLI --help', project: 'examples/demo', cwd: 'examples/demo', entry: 'examples/demo/eager.mjs', args: ['--help'],
    bundle: 'esm', external: ['jiti'], lazy: 'examples/demo/lazy.mjs', importLazy: 'examples/demo/import-lazy.cjs', autoDefer: 'examples/demo/autodefer/main.mjs',
    needs: ['examples/demo/eager.mjs', 'examples/demo/node_modules'],
  },
];

/**
 * The real work of the `--version` commands, each run with the lazy pack learned from its
 * `--version` run (packFrom): what a user of that pack runs next must print what plain Node
 * prints, stderr included. Run with --real-work (or by id); the other variants learn their own.
 */
const realWork = 'bench/fixtures/real-work';
// A test runner's durations and clock times change from run to run.
const timings = [/\d+(?:\.\d+)?\s?m?s\b/g, /\b\d\d:\d\d:\d\d\b/g];
export const realWorkScenarios = [
  { id: 'eslint-lint-vp', title: 'eslint one file (--version pack)', project: 'bench', cwd: 'bench/fixtures/lint', entry: eslint, args: ['sample.js'], packFrom: 'eslint-version' },
  { id: 'tsc-project-vp', title: 'tsc -p (--version pack)', project: 'bench', cwd: realWork, entry: 'bench/node_modules/typescript/bin/tsc', args: ['-p', '.'], packFrom: 'tsc-version' },
  {
    id: 'webpack-build-vp', title: 'webpack building an entry (--version pack)', project: 'bench', cwd: realWork, entry: 'bench/node_modules/webpack/bin/webpack.js',
    args: ['--mode', 'production', '--entry', './src/entry.js', '--output-path', join(tmpdir(), 'coldstart-bench-webpack-out'), '--no-stats'], packFrom: 'webpack-version',
  },
  { id: 'prettier-check-vp', title: 'prettier --check (--version pack)', project: 'bench', cwd: 'bench/fixtures/prettier', entry: 'bench/node_modules/prettier/bin/prettier.cjs', args: ['--check', 'formatted.js'], packFrom: 'prettier-version' },
  { id: 'npm-ls-vp', title: 'npm ls (--version pack)', project: 'bench', cwd: 'bench', entry: 'bench/node_modules/npm/bin/npm-cli.js', args: ['ls', '--depth=0'], packFrom: 'npm-version' },
  { id: 'vitest-run-vp', title: 'vitest run (--version pack)', project: 'bench', cwd: realWork, entry: 'bench/node_modules/vitest/vitest.mjs', args: ['run', '--reporter=dot', '--root', '.'], packFrom: 'vitest-version', mask: timings },
].map((scenario) => ({ ...scenario, stderr: true, realWork: true }));

/** A scenario by id, the real-work ones included. */
export function scenarioById(id) {
  return [...scenarios, ...realWorkScenarios].find((s) => s.id === id);
}

/**
 * The scenarios to run, minus those whose files are missing (each skipped with a reason): all
 * but the real-work ones by default, those too with `realWork`, or exactly `ids`.
 */
export function selectScenarios(root, ids, realWork = false) {
  const chosen = [];
  const skipped = [];
  const known = [...scenarios, ...realWorkScenarios];
  for (const id of ids ?? []) {
    if (!known.some((s) => s.id === id)) throw new Error(`unknown scenario '${id}' (known: ${known.map((s) => s.id).join(', ')})`);
  }
  for (const scenario of known) {
    if (ids ? !ids.includes(scenario.id) : scenario.realWork && !realWork) continue;
    const missing = (scenario.needs ?? [scenario.entry]).find((path) => !existsSync(join(root, path)));
    if (missing) skipped.push({ id: scenario.id, reason: `${missing} does not exist yet` });
    else chosen.push(scenario);
  }
  return { chosen, skipped };
}
