// Builds dist/: writes the version module, compiles with tsc (per-file output, types), then
// bundles what programs load at start-up with esbuild: the `coldstart` API as ES module and
// CommonJS, coldstart/register's core (CommonJS, run through V8's code cache by a small loader),
// the defer runtime and the CLI front.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

mkdirSync(join(root, 'src/generated'), { recursive: true });
writeFileSync(
  join(root, 'src/generated/version.ts'),
  `// Written by scripts/build.mjs from package.json; not edited by hand.\nexport const VERSION = ${JSON.stringify(pkg.version)};\n`,
);

// Nothing is deleted unless asked (`--clean`, which `npm pack` uses): a build must not pull
// files from under a test run that is reading dist/ while another build runs.
if (process.argv.includes('--clean')) rmSync(join(root, 'dist'), { recursive: true, force: true });
// The published package (`npm pack` builds with --no-maps) ships no source maps: they would
// name src/*.ts files it does not ship.
const maps = !process.argv.includes('--no-maps');
const tsc = join(root, 'node_modules/typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.json'), ...(maps ? [] : ['--sourceMap', 'false'])], { stdio: 'inherit' });

// The `require` condition's types: a .d.cts twin of every declaration file, importing twins.
// TypeScript reads a .d.ts of this "type": "module" package as an ES module, which a CommonJS
// program compiled with module node16/nodenext may not import (TS1479).
for (const entry of readdirSync(join(root, 'dist'), { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !entry.name.endsWith('.d.ts')) continue;
  const file = join(entry.parentPath, entry.name);
  const text = readFileSync(file, 'utf8').replace(/(from\s+|import\()(['"])(\.{1,2}\/[^'"]*)\.js\2/g, '$1$2$3.cjs$2');
  writeFileSync(file.slice(0, -'.d.ts'.length) + '.d.cts', text);
}

// The entries a program loads at start-up are bundled, one file each, built apart so that no
// chunk is shared between them: every extra ES module file costs Node 20 ~1.5 ms of wall time
// to resolve, read and link (measured: `import 'coldstart'` took 3.6 ms as two files). The two
// entries share state through global symbols (lazy records, the activation guard), as the
// CommonJS copies do. What an entry imports dynamically stays in a chunk, loaded when used.
// tsc's per-file output stays beside them for the CLI and for unit tests of internals.
const { build } = await import('esbuild');

/** What every bundle shares: Node 20 syntax, dependencies and builtins left external. */
const common = { bundle: true, platform: 'node', target: 'node20', packages: 'external', logLevel: 'warning' };

// defer-runtime: what the stand-ins for deferred imports import, one file instead of five.
for (const [name, entry] of [['index', 'src/index.ts'], ['defer-runtime', 'src/defer/runtime.ts']]) {
  await build({
    ...common,
    entryPoints: { [name]: join(root, entry) },
    outdir: join(root, 'dist'),
    // Only what an entry imports dynamically (loaded when used) goes to a chunk of its own.
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    format: 'esm',
    sourcemap: maps,
    allowOverwrite: true,
  });
}

// The CLI front (argv, help, the command table) as one CommonJS file; each subcommand stays a
// separate ES module that main imports only when that command runs.
await build({
  ...common,
  // The subcommands are not packages: only they are kept out of the bundle here.
  packages: undefined,
  entryPoints: [join(root, 'src/cli/main.ts')],
  outfile: join(root, 'dist/cli/main.cjs'),
  format: 'cjs',
  sourcemap: maps,
  external: ['./commands/*'],
});

// The profiler's two entries, one file each, in place of tsc's per-file output: the command with
// its report code (loaded before an in-process program runs) and the preload every profiled
// process loads. Imported file by file they were ~20 ES modules: 43 M instructions (~12 ms) on
// Node 24 for the command's alone. Their dynamic imports of our own modules are inlined.
//
// Their builtins come from process.getBuiltinModule, not from an ES module import: importing
// node:fs makes Node build a facade that reads every export, and its ReadStream getter loads all
// of the streams code. Each `node:` import becomes a small module of the bundle that takes the
// builtin from process.getBuiltinModule and exports its plain data properties (their names from
// the Node that builds; getters such as fs.promises are left out, so none runs, and a named
// import of one fails the build). A first version re-exported each builtin as a CommonJS module,
// which esbuild copies, property by property, into every importing module: profiling an empty
// script on Node 24 took 139 M instructions that way and 129 M this way (valgrind, unseeded,
// median of 5).
const builtinsFromProcess = {
  name: 'builtins-from-process',
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (args) => ({ path: args.path, namespace: 'node-builtin' }));
    b.onLoad({ filter: /.*/, namespace: 'node-builtin' }, (args) => {
      const descriptors = Object.entries(Object.getOwnPropertyDescriptors(process.getBuiltinModule(args.path)));
      const names = descriptors
        .filter(([name, descriptor]) => /^[A-Za-z_$][\w$]*$/.test(name) && name !== 'default' && 'value' in descriptor)
        .map(([name]) => name);
      const lines = [`const builtin = process.getBuiltinModule(${JSON.stringify(args.path)});`, 'const pick = (name) => builtin[name];', 'export default builtin;'];
      // Marked pure, so that esbuild keeps only the names the bundle imports.
      for (const name of names) lines.push(`export const ${name} = /* @__PURE__ */ pick(${JSON.stringify(name)});`);
      return { contents: lines.join('\n'), loader: 'js' };
    });
  },
};
// The third is Node 20's defer hooks, which module.register runs in its loader worker: as tsc's
// eleven files, the auto-defer demo's `--help` took 93 ms on Node 20; bundled, ~75 ms (lazy():
// 31 ms; the worker's own start is most of the rest).
for (const name of ['cli/commands/profile', 'profile/preload', 'defer/async-hooks']) {
  await build({
    ...common,
    plugins: [builtinsFromProcess],
    entryPoints: [join(root, `src/${name}.ts`)],
    outfile: join(root, `dist/${name}.js`),
    format: 'esm',
    sourcemap: maps,
    allowOverwrite: true,
    // The command table's loaders of the other subcommands: never called from here.
    external: ['./commands/*'],
  });
}

// The CommonJS entries are real CommonJS bundles, not require(esm) shims: a CommonJS program
// that loads an ES module starts Node's ES module loader, ~2 ms before anything else runs. The
// two copies share state through global symbols (lazy records, the activation guard).
// Node looks for the package scope of every file it loads; answer it in dist/ itself.
writeFileSync(join(root, 'dist/package.json'), '{ "type": "module" }\n');
writeFileSync(join(root, 'dist/chunks/package.json'), '{ "type": "module" }\n');

for (const [name, out] of [['index', 'index'], ['register', 'register-core']]) {
  const core = out === 'register-core';
  await build({
    ...common,
    entryPoints: [join(root, `src/${name}.ts`)],
    outfile: join(root, `dist/${out}.cjs`),
    format: 'cjs',
    sourcemap: maps,
    define: { 'import.meta.url': 'importMeta.url' },
    inject: [join(root, 'scripts/build/import-meta-url.js')],
    // The core is run by src/loader/core-loader.ts, never required: it carries the CommonJS
    // wrapper itself, so a start compiles the file's text as read, not a copy with the wrapper
    // around it, and without whitespace and comments (names kept for stack traces), which every
    // start reads and holds in memory (docs/decisions/startup-costs.md#register-core-text).
    ...(core ? { banner: { js: '(function (exports, require, module, __filename, __dirname) {' }, footer: { js: '\n})' }, minifyWhitespace: true, minifySyntax: true } : {}),
  });
}

// dist/register.cjs runs the core through V8's code cache (src/loader/core-loader.ts); the cache's
// name carries a hash of the core, so a rebuilt core never meets an old cache. Old caches go.
const coreHash = createHash('sha256').update(readFileSync(join(root, 'dist/register-core.cjs'))).digest('hex').slice(0, 16);
for (const name of readdirSync(join(root, 'dist'))) {
  if (name.endsWith('.v8cache') && !name.includes(coreHash)) rmSync(join(root, 'dist', name), { force: true });
}
// The two entries of coldstart/register share that loader (src/loader/core-loader.ts): for
// `--require` a CommonJS file, for `--import` an ES module that imports nothing, so neither
// builds ES module facades of builtins nor goes through the CommonJS loader to reach the core.
for (const [entry, out, format] of [['register-entry-cjs', 'register.cjs', 'cjs'], ['register-entry-esm', 'register.js', 'esm']]) {
  await build({
    ...common,
    entryPoints: [join(root, `src/${entry}.ts`)],
    outfile: join(root, `dist/${out}`),
    format,
    define: { CORE_HASH: JSON.stringify(coreHash) },
    // Every process with coldstart/register parses this file before it does anything: V8's
    // parse is by the byte (docs/decisions/startup-costs.md#register-entry-size).
    minify: true,
    // src/store.ts comes in for a constant, its import.meta code shaken out: no warning about it.
    logOverride: { 'empty-import-meta': 'silent' },
    allowOverwrite: true,
  });
}

