// Small programs learned without a pack. A project with an index but no pack has no recorded
// run to tell a small program by, so the core watches one: at exit, a run that loaded fewer than
// SMALL_RUN_MODULES CommonJS modules (and no ES module, where the index answers import too), in
// which the core installed nothing but the index (no defer hooks: no `import defer` in the entry
// or an installed package, no first-party ES module program, no defer configuration), writes a
// row beside the index (step-aside.ts learnedFile). Later runs of that entry with those arguments
// get plain Node from the register loader until a file the row watches changes: the entry and
// the first-party modules the run loaded, the configuration lookup and the install
// (docs/decisions/startup-costs.md#small-programs-without-a-pack). A program that a pack in the
// project was not recorded for is learned the same way when the pack served it no module; its
// row then watches the pack file too (docs/decisions/startup-costs.md#small-programs-beside-a-pack).
import { realpathSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { isOff, isOn, sharedInstall, type SettingName } from './settings.js';
import { atExit } from './shared-state.js';
import { has } from './node-features.js';
import { debug } from './debug.js';
import { readTrustedFile, writeFileAtomic } from './store.js';
import { distPath } from './dist-paths.js';
import { loadedSoFar, type LoadedSoFar } from './loader/node.js';
import { conditionsKey } from './pack/open-at-start.js';
import { stampCandidates } from './locations/stamps.js';
import {
  LEARNED_FORMAT,
  SMALL_RUN_MODULES,
  TINY_RUN_MODULES,
  argsHash,
  coreNeeded,
  forkedChild,
  learnedAside,
  learnedFile,
  learnedRows,
  otherPreloads,
  plainResolution,
  preloadsKey,
  slowFilesystem,
  watchFiles,
  type StoredAside,
} from './step-aside.js';

/** The pack a run is learned beside: its file, its mtime and size when opened, and how many of its modules the run loaded. */
export interface BesidePack {
  readonly file: string;
  readonly opened: readonly [number, number];
  readonly served: () => number;
}

/** Argument lists kept per entry: the newest win. */
const ROWS_PER_ENTRY = 16;

/** Settings under which a run records what it loads: it must load it, whatever was learned. */
const recording: readonly SettingName[] = ['COLDSTART_PACK_RECORD', 'COLDSTART_PROFILE_DIR', 'COLDSTART_PROFILE_COVERAGE', 'COLDSTART_LAZY_RECORDS'];

/**
 * Why this process steps aside, when an earlier run of its program was learned small; else
 * undefined. Asked only where the register loader did not ask already (a setting made it load
 * the core for reports: `coldstart doctor` then shows what a plain run does).
 */
export function learnedStepsAside(root: string, indexFile: string, packFile?: string): string | undefined {
  if (!coreNeeded() || sharedInstall() || recording.some((name) => isOn(name))) return undefined;
  const row = learnedAside(root, dirname(indexFile), conditionsKey(), packFile);
  if (row === undefined) return undefined;
  const what = packFile === undefined ? 'the index' : 'the index and the pack, which served it nothing,';
  return `an earlier run of ${row[0]}${process.argv.length > 2 ? ' with these arguments' : ''} loaded ${row[2]} module${row[2] === 1 ? '' : 's'}: too few for ${what} to pay on a local disk, so coldstart steps aside (COLDSTART_STEP_ASIDE=0 serves it)`;
}

/** Preload flags that load ES modules other than coldstart's own register entry. */
function foreignPreloads(): boolean {
  return otherPreloads().some(([name]) => name === '--import' || name === '--loader' || name === '--experimental-loader');
}

/**
 * Watches this run, to learn at exit whether its program is small (see the file's comment).
 * `deferUsers`: the index's count of installed packages that use `import defer` (undefined when
 * the index was not opened, and then nothing is learned); `imports`: what the index's in-thread
 * hooks saw of import (undefined beside the CommonJS patch, which sees no import). Only on
 * Node 22.15+, on POSIX, for a run with no records, resolution flags or foreign preloads, whose
 * entry is under `root`.
 */
export function learnSmallProgram(
  root: string,
  indexFile: string,
  facts: {
    deferUsers: () => number | undefined;
    deferHooks: boolean;
    imports: () => { esModules: number; unsure: ReadonlySet<string> } | undefined;
    /** The pack serving this run, which its row then watches, as it was when opened, and how many of the modules it holds the run loaded. */
    pack?: BesidePack | undefined;
  },
): void {
  const entry = process.argv[1];
  if (entry === undefined || !entry.startsWith(`${root}/`) || process.platform === 'win32' || !has('registerHooks')) return;
  // Defer's hooks are the one thing the core does that a plain run would do otherwise (the
  // syntax, a configuration, even an empty one): a program that has them always needs the core.
  if (facts.deferHooks) return;
  if (isOff('COLDSTART_STEP_ASIDE') || sharedInstall() || recording.some((name) => isOn(name)) || !plainResolution() || foreignPreloads() || forkedChild()) return;
  // A worker (where Node disables process.chdir) sees its own modules, not its program's.
  if ((process.chdir as { disabled?: unknown }).disabled === true) return;
  // As the program was started: some rewrite process.argv as they parse it, or NODE_OPTIONS for their children.
  const args = process.argv.slice(2);
  const preloads = preloadsKey();
  atExit(() => {
    try {
      // Served from the pack: not learned (learn, below), and told before require.cache is read.
      if (facts.pack !== undefined && facts.pack.served() > 0) return;
      learn(root, dirname(indexFile), entry, args, preloads, facts.deferUsers(), facts.imports(), loadedSoFar(), facts.pack);
    } catch (error) {
      // Learning is an optimisation for the next run; this one exits as it would.
      debug('register', `could not learn whether ${entry} is a small program: ${(error as Error).message}`);
    }
  });
}

function learn(
  root: string,
  dir: string,
  entry: string,
  args: string[],
  preloads: string,
  deferUsers: number | undefined,
  imports: { esModules: number; unsure: ReadonlySet<string> } | undefined,
  loaded: LoadedSoFar,
  pack: BesidePack | undefined,
): void {
  // A large program is told at once (coldstart's register entry may be one of the files).
  if (deferUsers !== 0 || loaded.files.length > SMALL_RUN_MODULES) return;
  // Beside a pack: only a program that loaded none of the modules it holds (so no deferral
  // either), and only a pack under the root, which the row can watch.
  if (pack !== undefined && (pack.served() > 0 || !pack.file.startsWith(`${root}/`))) return;
  // A pack rebuilt while the program ran was not the one that served it nothing.
  const packNow = pack === undefined ? undefined : statSync(pack.file, { throwIfNoEntry: false });
  if (pack !== undefined && (packNow === undefined || packNow.mtimeMs !== pack.opened[0] || packNow.size !== pack.opened[1])) return;
  // coldstart's own register entry is no module of the program's.
  const ours = distPath('');
  const run = { files: loaded.files.filter((file) => !file.startsWith(ours)) };
  if (deferUsers !== 0 || run.files.length >= SMALL_RUN_MODULES) return;
  // A CommonJS entry (an ES module one is not in require.cache), and nothing loaded from
  // outside the tree, where no stamp could watch it.
  const real = realpathSync(entry);
  if (!run.files.includes(real) || run.files.some((file) => !file.startsWith(`${root}/`))) return;
  // ES modules count only where the index answers import too (in-thread hooks, which count the
  // imports that did not land on CommonJS): with the CommonJS resolver patch, what it can save is
  // what require.cache holds (and without defer's hooks, an ES module runs the same with the core
  // as without it).
  if (imports !== undefined && (imports.esModules > 0 || loaded.esModule() || !loaded.holdsAsCommonJs(imports.unsure))) return;
  // A network or FUSE filesystem: serving pays from a handful of modules.
  if (run.files.length >= TINY_RUN_MODULES && slowFilesystem(root) !== undefined) return;
  const rel = entry.slice(root.length + 1);
  // Beside the index, in the folder it already has: creating one in node_modules would change
  // the mtime the index's stamps watch.
  if (statSync(dir, { throwIfNoEntry: false })?.isDirectory() !== true) return;
  const file = learnedFile(dir, rel);
  // A file the register loader would refuse (writable by others) is replaced, not added to.
  const read = readTrustedFile(file, 1024 * 1024, 0, root);
  const rows = (read.ok ? learnedRows(read.bytes) : undefined) ?? [];
  const key = argsHash(args);
  // Watched: the entry and the first-party modules the run loaded, the configuration lookup, and
  // the install (the index's stamps: a package added since may use `import defer`, which needs the core).
  const install = stampCandidates.map((path) => `${root}/${path}`).filter((path) => statSync(path, { throwIfNoEntry: false }) !== undefined);
  // Files under node_modules change with the install, which the stamps watch, as the pack's rows do.
  const firstParty = run.files.filter((file) => !file.slice(root.length).includes('/node_modules/'));
  // Their folders too: a file added there (a plugin an optional require() looked for) may change
  // what the program loads. Beside a pack, the pack file too: rebuilt (perhaps for this program)
  // or removed, the row is void.
  // Not the folder this row is written to, whose mtime the write moves.
  const folders = [real, ...firstParty].map((file) => file.slice(0, file.lastIndexOf('/'))).filter((folder) => (folder.startsWith(`${root}/`) || folder === root) && folder !== dir);
  const watched = watchFiles(root, [entry, ...firstParty, ...install, ...(pack === undefined ? [] : [pack.file]), ...folders], real.slice(0, real.lastIndexOf('/')));
  const row: StoredAside = [rel, key, run.files.length, watched, conditionsKey(), preloads];
  // One row per arguments and preloads: a run started another way (coldstart doctor's) keeps its own.
  const same = (r: StoredAside): boolean => Array.isArray(r) && r[0] === rel && r[1] === key && r[5] === preloads;
  const others = rows.filter((r) => !same(r));
  const known = rows.find(same);
  if (known !== undefined && JSON.stringify(known) === JSON.stringify(row)) return;
  const bytes = `${JSON.stringify({ format: LEARNED_FORMAT, aside: [...others.slice(-(ROWS_PER_ENTRY - 1)), row] })}\n`;
  writeFileAtomic(file, Buffer.from(bytes));
  debug('register', `learned: ${[rel, ...args].join(' ')} loaded ${run.files.length} modules; its next runs step aside`);
}
