// Builds the demo CLI so that its three heavy packages load at first use with no hooks at run time,
// in each of the ways a CLI author can ship it: esbuild with coldstart/esbuild (ES module and
// CommonJS output), Rollup with coldstart/rollup, and tsc followed by `coldstart build-defer`.
// Used by run-demo.mjs and by the tests; every output goes under `out` (two levels below this
// folder, so the tsc output's `../../cli-body.mjs` import still finds the shared CLI body).
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../..');
const requireRoot = createRequire(join(root, 'package.json'));

/** The variants, each `node <file> <args>` with no --import or --require. */
export function variantFiles(out) {
  return [
    { name: 'esbuild plugin (ESM)', file: join(out, 'esbuild/main.mjs') },
    { name: 'esbuild plugin (CommonJS)', file: join(out, 'esbuild-cjs/main.cjs') },
    { name: 'rollup plugin', file: join(out, 'rollup/main.js') },
    { name: 'tsc + build-defer', file: join(out, 'tsc/main.js') },
  ];
}

export async function buildVariants(out = join(here, 'built')) {
  rmSync(out, { recursive: true, force: true });
  const { build } = await import(pathToFileURL(requireRoot.resolve('esbuild')).href);
  const { rollup } = await import(pathToFileURL(requireRoot.resolve('rollup')).href);
  const esbuildDefer = (await import(pathToFileURL(join(root, 'dist/build/esbuild.js')).href)).default;
  const rollupDefer = (await import(pathToFileURL(join(root, 'dist/build/rollup.js')).href)).default;
  const ts = join(here, 'ts');

  // esbuild: the TypeScript source; packages stay external (installed beside the CLI).
  for (const [format, file] of [['esm', 'esbuild/main.mjs'], ['cjs', 'esbuild-cjs/main.cjs']]) {
    await build({
      entryPoints: [join(ts, 'src/main.ts')],
      outfile: join(out, file),
      bundle: true,
      platform: 'node',
      format,
      packages: 'external',
      sourcemap: true,
      logLevel: 'warning',
      plugins: [esbuildDefer({ cwd: ts })],
    });
  }

  // Rollup: the JavaScript program of autodefer/ (Rollup reads no TypeScript by itself).
  const bundle = await rollup({
    input: join(here, 'autodefer/main.mjs'),
    external: (id) => !id.startsWith('.') && !isAbsolute(id),
    plugins: [rollupDefer({ cwd: join(here, 'autodefer') })],
    onwarn(warning, warn) {
      if (warning.code !== 'UNRESOLVED_IMPORT') warn(warning);
    },
  });
  await bundle.write({ dir: join(out, 'rollup'), format: 'es', sourcemap: true, entryFileNames: 'main.js' });
  await bundle.close();

  // tsc, then build-defer over its output folder with the TypeScript project's defer list.
  const tsc = join(dirname(requireRoot.resolve('typescript/package.json')), 'bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', join(ts, 'tsconfig.json'), '--outDir', join(out, 'tsc')], { stdio: 'inherit' });
  const defer = JSON.parse(readFileSync(join(ts, 'package.json'), 'utf8')).coldstart.defer;
  execFileSync(process.execPath, [join(root, 'bin/coldstart.cjs'), 'build-defer', join(out, 'tsc'), ...defer.flatMap((name) => ['--defer', name])], { stdio: ['ignore', 'ignore', 'inherit'] });
  return variantFiles(out);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const variant of await buildVariants(process.argv[2])) process.stdout.write(`${variant.name}: ${variant.file}\n`);
}
