// `coldstart pack [--out FILE] [--run "CMD"]... [--package NAME]... [-- <command...>]`: runs
// each command with module-load recording, then writes one pack of every module file they
// loaded and the resolution answers they saw, and of every file of the named packages (from
// the module-location index). Results on stdout, progress on stderr.
import { isOff, isOn } from '../../settings.js';
import { has } from '../../node-features.js';
import { pnpProject, pnpReason } from '../../pnp.js';
import { existsSync, mkdtempSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { deferConfigAt, eagerListAt } from '../../defer/config.js';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { runChild } from '../run-child.js';
import { UsageError } from '../usage-error.js';
import { commands } from '../commands.js';
import { indexPathFor } from '../../locations/store.js';
import { findProjectRoot, makeDirectory } from '../../store.js';
import { openIndex } from '../../locations/load.js';
import { buildIndex } from '../../locations/build.js';
import { packageFiles, type PackageFiles } from '../../pack/packages.js';
import { megabytes } from '../units.js';
import { buildPack, readRecordings } from '../../pack/build.js';
import { readCoverage } from '../../pack/coverage.js';
import { LAZY_MARKER } from '../../pack/format.js';
import { packPathFor } from '../../pack/store.js';
import { plainResolution, SMALL_RUN_MODULES } from '../../step-aside.js';
import { conditionsKey } from '../../pack/open-at-start.js';

const preloadUrl = new URL('../../pack/record-preload.js', import.meta.url).href;

interface Options {
  out: string | undefined;
  runs: string[][];
  packages: string[];
  json: boolean;
  codeCache: boolean;
  lazy: boolean;
  always: boolean;
}

function parse(argv: string[]): Options {
  const usage = commands.pack.usage;
  const dash = argv.indexOf('--');
  const options = dash === -1 ? argv : argv.slice(0, dash);
  const out: Options = { out: undefined, runs: [], packages: [], json: false, codeCache: true, lazy: false, always: false };
  for (let i = 0; i < options.length; i++) {
    const option = options[i]!;
    const eq = option.startsWith('--') ? option.indexOf('=') : -1;
    const flag = eq === -1 ? option : option.slice(0, eq);
    const value = (): string => {
      const v = eq === -1 ? options[++i] : option.slice(eq + 1);
      if (v === undefined || v === '') throw new UsageError(`${flag} needs a value`, usage);
      return v;
    };
    if (flag === '--out' || flag === '-o') out.out = value();
    // A --run string goes through the shell, so pipes and `&&` work as typed.
    else if (flag === '--run') out.runs.push(['/bin/sh', '-c', value()]);
    else if (flag === '--json') out.json = true;
    else if (flag === '--no-code-cache') out.codeCache = false;
    else if (flag === '--lazy') out.lazy = true;
    else if (flag === '--always') out.always = true;
    else if (flag === '--package' || flag === '-p') out.packages.push(value());
    else throw new UsageError(`unknown option '${option}'`, usage);
  }
  if (dash !== -1 && dash + 1 < argv.length) out.runs.push(argv.slice(dash + 1));
  if (out.runs.length === 0 && out.packages.length === 0) {
    throw new UsageError('nothing to pack: give `-- <command...>`, --run "<command>" or --package <name>', usage);
  }
  return out;
}

/**
 * The project's `"coldstart": { "eager": [...] }` list (or coldstart.config.json's): globs of
 * module paths, relative to the root, that learned deferral leaves alone, and whose requires it
 * never makes lazy (`*` within a path segment, `**` across them).
 */
function eagerMatcher(root: string): ((path: string) => boolean) | undefined {
  const patterns = eagerListAt(root);
  if (patterns.length === 0) return undefined;
  const expressions = patterns.map((pattern) => new RegExp(`^${pattern.split('**').map((part) => part.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*')).join('.*')}$`));
  return (path) => {
    const rel = path.startsWith(`${root}/`) ? path.slice(root.length + 1) : path;
    return expressions.some((re) => re.test(rel));
  };
}

function withPreload(nodeOptions: string | undefined): string {
  const quoted = `--import "${preloadUrl.replace(/"/g, '%22')}"`;
  return nodeOptions === undefined || nodeOptions.trim() === '' ? quoted : `${nodeOptions} ${quoted}`;
}

/** The condition set most recordings ran under: answers from the others are not kept. */
function commonConditions(recordings: { conditions: string }[]): string {
  const tally = new Map<string, number>();
  for (const r of recordings) tally.set(r.conditions, (tally.get(r.conditions) ?? 0) + 1);
  return [...tally].sort((a, b) => b[1] - a[1])[0]?.[0] ?? '';
}

/**
 * The files of the packages named by `patterns`, from the project's index; the index is built
 * first when it is missing or stale, as the first run with coldstart/register would.
 */
function filesOfPackages(root: string, patterns: string[]): PackageFiles {
  const file = indexPathFor(root);
  let opened = openIndex(root, file);
  if (!opened.ok) {
    process.stderr.write(`coldstart pack: ${opened.reason}; indexing ${root}\n`);
    buildIndex({ root, file });
    opened = openIndex(root, file);
    if (!opened.ok) throw new Error(`the index just built cannot be used: ${opened.reason}`);
  }
  return packageFiles(root, opened.index, patterns);
}

/**
 * The index's count of installed packages that use `import defer`, for the pack's header: a run
 * the pack serves then needs nothing of the index at start-up. The index is built when missing
 * or stale, as the first run with coldstart/register would; undefined when there is none to use.
 */
function deferUsersOf(root: string): number | undefined {
  if (isOff('COLDSTART_INDEX')) return undefined;
  try {
    const file = indexPathFor(root);
    let opened = openIndex(root, file);
    if (!opened.ok && opened.state !== 'refused') {
      buildIndex({ root, file });
      opened = openIndex(root, file);
    }
    return opened.ok ? opened.view.deferUsers.length : undefined;
  } catch {
    return undefined;
  }
}

/** Node's options that take their value as the next argument (`node -r x app.js`). */
const nodeValueFlags = new Set(['-r', '--require', '--import', '--loader', '--experimental-loader', '-C', '--conditions', '--env-file', '--input-type', '--title', '--stack-size', '--max-old-space-size', '--inspect-port', '--test-reporter', '--test-reporter-destination', '--watch-path', '--disable-warning']);

/**
 * The script `command` runs when it is `node [options] <script> ...` and Node could not find it,
 * as Node's main-module lookup finds it (the path, with .js, .json or .node, or a folder's
 * package.json main or index); undefined otherwise. The recording preloads with --import, so
 * Node would report a missing script as an ES module resolution error, not as plain Node does.
 */
function missingScript(command: readonly string[], cwd: string): string | undefined {
  const program = command[0]?.split('/').pop() ?? '';
  if (!/^node(?:js)?(?:\d+)?$/.test(program) && command[0] !== process.execPath) return undefined;
  for (let i = 1; i < command.length; i++) {
    const arg = command[i]!;
    if (arg === '--') return undefined;
    // Code given inline, from stdin, or a REPL: no script to look for.
    if (['-e', '--eval', '-p', '--print', '-', '-i', '--interactive', '--test', '--run', '-v', '--version', '-h', '--help', '--check', '-c'].includes(arg) || arg.startsWith('--eval=') || arg.startsWith('--print=')) return undefined;
    if (arg.startsWith('-')) {
      if (nodeValueFlags.has(arg)) i++;
      continue;
    }
    try {
      createRequire(join(cwd, 'noop.js')).resolve(resolve(cwd, arg));
      return undefined;
    } catch {
      return arg;
    }
  }
  return undefined;
}

export async function run(argv: string[]): Promise<number> {
  const options = parse(argv);
  for (const command of options.runs) {
    const script = missingScript(command, process.cwd());
    if (script !== undefined) throw new UsageError(`cannot find '${script}', the script \`${command.join(' ')}\` runs (from ${process.cwd()})`, 'run the command without coldstart to check it');
  }
  if (pnpProject(process.cwd())) {
    throw new UsageError(`not available here: ${pnpReason}`, 'lazy(), auto-defer and coldstart profile work in Plug\'n\'Play projects; the index and the pack do not apply');
  }
  const found = findProjectRoot(process.cwd(), false);
  if (found === undefined) {
    throw new UsageError('no project here: no node_modules directory above the working directory', 'run it in the project, or set COLDSTART_ROOT');
  }
  const root = realpathSync.native(found);
  const file = packPathFor(root, options.out);
  // Before recording, which can take long: a pack cannot be written in place of a directory or under a file.
  const seen = (path: string): ReturnType<typeof statSync> | undefined => {
    try {
      return statSync(path, { throwIfNoEntry: false });
    } catch {
      return undefined; // ENOTDIR: a file above it, found below
    }
  };
  // Nor in place of a device or other special file (`--out /dev/null` would replace it).
  const existing = seen(file);
  if (existing !== undefined && !existing.isFile()) {
    throw new UsageError(`--out ${file} is ${existing.isDirectory() ? 'a directory' : 'not a regular file'}`, 'give the path of the pack file to write, such as DIR/pack.v1');
  }
  for (let at = dirname(file); dirname(at) !== at; at = dirname(at)) {
    const found = seen(at);
    if (found === undefined) continue;
    if (!found.isDirectory()) throw new UsageError(`--out ${file}: ${at} is a file, not a directory`, 'give a path under a directory');
    break;
  }
  // The directory exists before the stamps are taken: creating it later would touch
  // node_modules' mtime and make the new pack stale at once.
  makeDirectory(dirname(file));
  // The index's and the pack's home too, whatever --out says: a first run that builds the index
  // there would otherwise touch node_modules itself and make the new pack stale at once.
  makeDirectory(join(root, 'node_modules/.cache/coldstart'));
  let fromIndex: PackageFiles | undefined;
  if (options.packages.length > 0) {
    try {
      fromIndex = filesOfPackages(root, options.packages);
    } catch (error) {
      process.stderr.write(`coldstart pack: cannot list the packages: ${(error as Error).message}\n`);
      return 1;
    }
    if (fromIndex.unmatched.length > 0) {
      process.stderr.write(`coldstart pack: no installed package matches ${fromIndex.unmatched.map((p) => `'${p}'`).join(', ')}\nhint: names as in package.json ("eslint", "@aws-sdk/*"); is it installed under ${root}/node_modules?\n`);
      return 1;
    }
    process.stderr.write(`coldstart pack: ${fromIndex.files.length} files from ${fromIndex.packages.length} package${fromIndex.packages.length === 1 ? '' : 's'}\n`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'coldstart-pack-'));
  const start = performance.now();
  try {
    const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: withPreload(process.env['NODE_OPTIONS']), COLDSTART_PACK_RECORD: dir, COLDSTART_PACK: 'off' };
    if (!options.codeCache) env['COLDSTART_CODE_CACHE'] = '0';
    // Learned deferral asks which functions the runs never called (V8's coverage). A user's own
    // NODE_V8_COVERAGE is left alone (then the rules stay static). Code compiled for coverage
    // counts blocks, so runs under either make no code cache.
    if (options.lazy) writeFileSync(join(dir, LAZY_MARKER), '');
    const coverage = options.lazy && process.env['NODE_V8_COVERAGE'] === undefined ? join(dir, 'coverage') : undefined;
    if (coverage !== undefined) env['NODE_V8_COVERAGE'] = coverage;
    if (env['NODE_V8_COVERAGE'] !== undefined) env['COLDSTART_CODE_CACHE'] = '0';
    for (const command of options.runs) {
      const shown = command[0] === '/bin/sh' ? command[2]! : command.join(' ');
      process.stderr.write(`coldstart pack: recording ${shown}\n`);
      const result = await runChild(command, env, options.json);
      if (result.code !== 0) process.stderr.write(`coldstart pack: warning: \`${shown}\` exited with ${result.code}; its loads are packed anyway\n`);
    }
    const recordings = readRecordings(dir);
    if (recordings.length === 0 && options.runs.length > 0) {
      process.stderr.write('coldstart pack: no Node process reported its module loads; nothing written\nhint: is the command a Node program? (NODE_OPTIONS must reach it)\n');
      return 1;
    }
    // Runs that loaded no module of the project (a missing script, a failure before the first
    // require, `node -e`) would make an empty pack: the pack already there, if any, is worth more.
    if (options.runs.length > 0 && fromIndex === undefined && recordings.every((r) => !r.modules.some(([path]) => path.startsWith(`${root}/`)))) {
      process.stderr.write(`coldstart pack: the recorded run${options.runs.length === 1 ? '' : 's'} loaded no module under ${root}; nothing written${existsSync(file) ? ` (${file} is kept)` : ''}\nhint: does the command start its program? run it without coldstart to see\n`);
      return 1;
    }
    // The parser decides which code caches are kept, and the format of package files whose
    // package has no "type"; loaded only when there is one of those.
    const needsParser = recordings.some((r) => r.caches !== undefined) || fromIndex?.files.some(([, format]) => format === 'detect') === true;
    if (options.lazy && recordings.length === 0) throw new UsageError('--lazy learns from recorded runs: give `-- <command...>` or --run "<command>"', commands.pack.usage);
    const parseSync = needsParser ? (await import('oxc-parser')).parseSync : undefined;
    const summary = buildPack({
      root, file, recordings, conditions: commonConditions(recordings), parse: parseSync, packageFiles: fromIndex?.files, detect: parseSync,
      lazy: options.lazy, keepEager: options.lazy ? eagerMatcher(root) : undefined,
      // A program that rewrote the CommonJS wrapper had its files compiled at other offsets.
      coverage: coverage === undefined || recordings.some((r) => r.wrapPatched === true) ? undefined : readCoverage(coverage, root),
      deferUsers: deferUsersOf(root),
      defersAt: (at) => (deferConfigAt(at)?.defer.length ?? 0) > 0, always: options.always,
      plainConditions: plainResolution() ? conditionsKey() : undefined,
      made: { args: argv, dir: relative(root, realpathSync.native(process.cwd())) || '.' },
    });
    const totalMs = performance.now() - start;
    // A process reads the header and the windows holding what it serves, but the file is held in
    // the page cache and copied to each node that stages it: a very large pack says too much was packed.
    if (summary.bytes > 64e6) {
      process.stderr.write(`coldstart pack: warning: the pack is ${megabytes(summary.bytes)}; a process reads only what it serves, but the whole file is kept on disk and in the page cache, and copied wherever it is staged; pack what programs load (record a run) or fewer packages\n`);
    }
    // Why each require or import that could have waited stays, as `--json` gives them.
    if (isOn('COLDSTART_DEBUG')) for (const r of summary.lazy?.refusals ?? []) process.stderr.write(`coldstart: learned deferral: ${r.module}: ${r.specifier} stays: ${r.reason}\n`);
    if (options.json) process.stdout.write(JSON.stringify({ ...summary, root, totalMs, packages: fromIndex?.packages ?? [] }) + '\n');
    else {
      process.stdout.write(
        `packed ${summary.modules} modules (${megabytes(summary.sourceBytes)}) and ${summary.answers} resolution answers from ` +
          [
            ...(options.runs.length > 0 ? [`${summary.processes} process${summary.processes === 1 ? '' : 'es'}`] : []),
            ...(fromIndex !== undefined ? [`${fromIndex.packages.length} package${fromIndex.packages.length === 1 ? '' : 's'}`] : []),
          ].join(' and ') +
          ` into ${summary.file} (${megabytes(summary.bytes)}) in ${summary.ms.toFixed(0)} ms` +
          (summary.codeCacheModules > 0 ? `; V8 code cache for ${summary.codeCacheModules} CommonJS modules (${megabytes(summary.codeCacheBytes)}, ${summary.codeCacheTag})` : '') +
          (summary.skipped > 0 ? `; ${summary.skipped} loaded files left out (outside ${root}, changed while packing, or transformed by another loader such as tsx)` : '') +
          (summary.leftOnDisk > 0 ? `; ${summary.leftOnDisk} module${summary.leftOnDisk === 1 ? '' : 's'} over 1 MiB left on disk (no gain from serving ${summary.leftOnDisk === 1 ? 'it' : 'them'})` : '') +
          (summary.aside.length > 0
            ? `; on a local disk coldstart steps aside for ${summary.aside.map((a) => `${a.entry} (${a.modules} module${a.modules === 1 ? '' : 's'})`).join(', ')}: fewer than ${SMALL_RUN_MODULES} modules, too few for serving to pay (--always serves ${summary.aside.length === 1 ? 'it' : 'them'} anyway)`
            : '') +
          (summary.lazy !== undefined ? `; learned deferral: ${summary.lazy.requires} requires and imports in ${summary.lazy.modules} of ${summary.lazy.analyzed} modules load at first use${has('registerHooks') ? '' : ' (on this Node, only the CommonJS ones are served rewritten: ES modules need 22.15+)'}` : '') +
          '\n',
      );
    }
    return 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
