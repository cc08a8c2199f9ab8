// Start-up of the pack under `coldstart/register`: find it (one open; a missing pack costs
// that failed open and nothing else), check owner, format and stamps, install the hooks. Any
// failure leaves the program running as if no pack existed.
import { atExit, sharedState } from '../shared-state.js';
import { pnpActive, pnpReason } from '../pnp.js';
import { preservesSymlinks } from '../node-options.js';
import { isOn, pathSetting, setting, sharedInstall } from '../settings.js';
import { appendFileSync, realpathSync } from 'node:fs';
import { debug } from '../debug.js';
import { eagerMode } from '../lazy/eager.js';
import { cjsConditions, esmConditions } from '../loader/conditions.js';
import { checksInstalled, verifyMode } from './freshness.js';
import { installPackHooks, type PackHooks } from './provider.js';
import { PackServer, newPackCounts, type PackCounts } from './server.js';
import { findPack, packOff } from './store.js';
import type { PackHeader } from './format.js';
import { rebuildCommand } from './rebuild.js';
import { useStartFacts } from '../loader/entry.js';
import { asideEntry } from '../step-aside.js';
import { enableCompileCache } from '../loader/node.js';

/** What `coldstart doctor` reads back: one JSON line per process, written at exit. */
export interface PackRunReport {
  readonly pid: number;
  readonly entry: string | undefined;
  pack: string | undefined;
  /** used: hooks installed; aside: a small program (src/step-aside.ts); missing/stale/refused/off/no-project/error: plain Node. */
  state: 'used' | 'aside' | 'missing' | 'stale' | 'refused' | 'off' | 'no-project' | 'error';
  reason: string | undefined;
  verify: boolean;
  /** COLDSTART_SHARED=1: stamps trusted, nothing written into the tree. */
  shared: boolean;
  modules: number;
  /** Bytes of the pack's body this process read (it reads the windows holding what it serves). */
  bytesRead: number;
  /** Requires that loaded at first use (or never) in the modules served with learned deferral. */
  deferredRequires: number;
  /** Learned-deferral rewrites served as written instead: what they were learned on changed since packing. */
  rewritesAsWritten?: number;
  /** How the pack joined Node's loader (pack/provider.ts). */
  hooks?: PackHooks;
  /** Where Node's compile cache is, when this process switched it on for the ES modules it serves. */
  compileCache?: string | undefined;
  readonly counts: PackCounts;
}

/** The condition sets (and NODE_PATH) answers depend on; a pack recorded under others answers nothing. */
export function conditionsKey(): string {
  // Symlinked paths kept (--preserve-symlinks) give other answers; without it the key is as before.
  return `${cjsConditions().join(',')}|${esmConditions().join(',')}|${process.env['NODE_PATH'] ?? ''}${preservesSymlinks() ? '|preserve-symlinks' : ''}`;
}

let active: PackServer | undefined;
let asideReason: string | undefined;
/** No pack file, or packs off: what the core learns of small programs decides instead (step-aside-learn.ts). */
let absent = false;

/** Whether this process has no pack to consult (switched off, or no file where it would be). */
export function packAbsent(): boolean {
  return absent;
}

/** Why coldstart steps aside for this process (the pack recorded it as a small program), if it does. */
export function packStepsAside(): string | undefined {
  return asideReason;
}

/** The pack serving this process, if any: the index asks it first, so a packed lookup costs
 *  no index work (and, in verify mode, no stat of the package it lands in). */
export function activePack(): PackServer | undefined {
  return active;
}

/** The pack file a run is learned beside: the one serving it, or a stale one, which serves nothing. */
let beside: { readonly file: string; readonly opened: readonly [number, number]; readonly stale: boolean } | undefined;

/**
 * The pack file this process could be learned beside (step-aside-learn.ts): the fresh pack serving
 * it, or a stale one (which serves nothing until rebuilt), with its mtime and size when opened.
 */
export function packBeside(): { readonly file: string; readonly opened: readonly [number, number]; readonly stale: boolean } | undefined {
  return beside !== undefined && (beside.stale || active !== undefined) ? beside : undefined;
}

/**
 * Installs the pack's hooks for this process; returns their remover (or a no-op). Never throws.
 * `learned`: why this process steps aside, as learned from an earlier run beside the pack at the
 * given path of a program the pack was not recorded for (step-aside-learn.ts); undefined to serve.
 */
export function activatePack(learned?: (packFile: string) => string | undefined): () => void {
  const env = process.env;
  const report: PackRunReport = {
    pid: process.pid,
    entry: process.argv[1],
    pack: undefined,
    state: 'off',
    reason: undefined,
    verify: false,
    shared: false,
    modules: 0,
    bytesRead: 0,
    deferredRequires: 0,
    counts: newPackCounts(),
  };
  let remove = (): void => {};
  try {
    absent = false;
    if (packOff(setting('COLDSTART_PACK', env))) {
      report.reason = 'COLDSTART_PACK is off';
      absent = true;
    } else if (pnpActive()) report.reason = pnpReason;
    else remove = open(report, learned);
  } catch (error) {
    report.state = 'error';
    report.reason = (error as Error).message;
    debug('pack', `not used: ${report.reason}`);
  }
  const statsFile = pathSetting('COLDSTART_PACK_STATS', env);
  if (statsFile) {
    atExit(() => {
      try {
        if (active !== undefined) {
          report.bytesRead = active.bytesRead;
          report.deferredRequires = active.deferredRequires;
          if (active.rewritesAsWritten > 0) report.rewritesAsWritten = active.rewritesAsWritten;
          if (active.brokenReason !== undefined) {
            report.state = 'error';
            report.reason = active.brokenReason;
          } else if (report.counts.foreign > 0 && report.reason === undefined) {
            report.reason = `${report.counts.foreign} packed module${report.counts.foreign === 1 ? '' : 's'} left to Node for another tool's module hooks (${sharedState().foreignHooks?.reason ?? 'they may redirect imports'})`;
          }
        }
        appendFileSync(statsFile, JSON.stringify(report) + '\n');
      } catch {
        // A report that cannot be written must never change how the program exits.
      }
    });
  }
  return remove;
}

function open(report: PackRunReport, learned: ((packFile: string) => string | undefined) | undefined): () => void {
  const trusted = sharedInstall();
  report.shared = trusted;
  const found = findPack(undefined, true, trusted);
  report.pack = found.file;
  if (found.state !== 'fresh') {
    absent = found.state === 'missing';
    report.state = found.state;
    report.reason = found.state === 'stale' ? `stale pack: ${found.reason}` : found.reason;
    if (found.state === 'stale') {
      // What was learned beside this pack holds while it is unchanged (stale, it serves nothing).
      const learnedReason = trusted ? undefined : learned?.(found.file);
      if (learnedReason !== undefined) {
        report.state = 'aside';
        report.reason = asideReason = learnedReason;
        debug('pack', report.reason);
        return () => {};
      }
      beside = { file: found.file, opened: [found.mtime, found.size], stale: true };
      debug('pack', `${report.reason}; running without it (rebuild: ${rebuildCommand(found.header, found.file, found.root)})`);
    }
    else if (found.state === 'missing') debug('pack', `no pack at ${found.file} (optional: coldstart pack -- <command> makes one)`);
    else if (found.state !== 'no-project') debug('pack', `${found.reason}; running without the pack`);
    return () => {};
  }
  const root = found.root;
  // A shared install (a cluster's) is served whatever its size: there every lookup is a round trip.
  const small = trusted ? undefined : asideEntry(found.pack.header.aside, root, conditionsKey());
  if (small !== undefined) {
    found.pack.body.close();
    report.state = 'aside';
    report.reason = asideReason = `the pack's recorded run of ${[small[0], ...(Array.isArray(small[1]) ? small[1] : [])].join(' ')} loaded ${small[2]} module${small[2] === 1 ? '' : 's'}: too few for serving to pay on a local disk, so coldstart steps aside (coldstart pack --always serves it)`;
    debug('pack', report.reason);
    return () => {};
  }
  // A program the pack was not recorded for, learned small beside this pack: nothing in it served.
  const learnedReason = trusted ? undefined : learned?.(found.file);
  if (learnedReason !== undefined) {
    found.pack.body.close();
    report.state = 'aside';
    report.reason = asideReason = learnedReason;
    debug('pack', report.reason);
    return () => {};
  }
  report.verify = verifyMode();
  // COLDSTART_EAGER=1 turns learned deferral off with every other lazy load.
  // Learned deferral holds for the programs it was learned from: another program may set up a
  // mock, or an environment variable a deferred module reads, between its require() and first use.
  const recorded = lazyRecorded(found.pack.header, root);
  if (!recorded && (found.pack.header.lazy?.length ?? 0) > 0) {
    const entries = found.pack.header.lazyEntries;
    debug('pack', entries === undefined
      ? 'this pack was made before coldstart kept which programs its learned deferral is for: serving the packed sources as written (rebuild it with coldstart pack --lazy)'
      : `learned deferral is for ${entries.join(', ') || 'no program under the root'}, not this program: serving the packed sources as written`);
  }
  const server = new PackServer(found.pack, root, { verify: report.verify, checkInstalled: checksInstalled(root), conditions: conditionsKey(), counts: report.counts, lazy: !eagerMode(), forThisProgram: recorded, trusted });
  // A program started later in this process (coldstart profile's in-process run) is decided again.
  sharedState().programChanged = () => server.serveRewritesFor(lazyRecorded(found.pack.header, root));
  report.modules = server.size;
  report.state = 'used';
  // A tree mounted at another path than the one named (COLDSTART_ROOT) matches nothing: say so.
  const entry = process.argv[1];
  if (entry !== undefined && entry !== '' && !entry.startsWith(`${root.replace(/\/+$/, '')}/`)) {
    report.reason = `the entry ${entry} is outside the project root ${root}: nothing it loads from there can be served (is COLDSTART_ROOT where the project is?)`;
    debug('pack', report.reason);
  }
  debug('pack', `serving ${server.size} modules from ${found.file}${report.verify ? ' (verify mode)' : ''}`);
  // Before the hooks: installing them asks for the program's configuration.
  useStartFacts(server.startFacts);
  const { uninstall, hooks } = installPackHooks(server);
  report.hooks = hooks;
  // ES modules served from the pack compile from Node's compile cache, kept beside the pack: one
  // cache per pack, as two packs serving one file differently (a lazy one and a plain one) would
  // replace each other's entries at every run (docs/decisions/startup-costs.md#compile-cache-for-es-modules). Not for a
  // shared install (nothing written), nor under V8 coverage (NODE_V8_COVERAGE, the profiler's),
  // which code from the cache blurs.
  // Only for a program the pack was recorded from that did not switch it on itself: another would
  // find it on already (`module.enableCompileCache(dir)` refused, `getCompileCacheDir()` set).
  if (server.esModules > 0 && !trusted && !process.env['NODE_V8_COVERAGE'] && !isOn('COLDSTART_PROFILE_COVERAGE') && runsRecorded(found.pack.header.compileCacheFor, found.pack.header, root)) {
    report.compileCache = enableCompileCache(`${found.file}.compile-cache`);
  }
  active = server;
  beside = { file: found.file, opened: [found.mtime, found.size], stale: false };
  return () => {
    if (active === server) active = undefined;
    uninstall();
  };
}

/**
 * Whether this process runs a program the pack's learned deferral was learned from: its entry
 * as Node names it, else its real path (from the pack's start-up facts where they hold it, else
 * the disk), among the recorded ones. A pack made before the list was kept serves its rewrites
 * to none.
 */
function lazyRecorded(header: PackHeader, root: string): boolean {
  return runsRecorded(header.lazyEntries, header, root);
}

/** Whether this process's entry is one of `entries` (recorded entries, as lazyEntries names them). */
function runsRecorded(entries: readonly string[] | undefined, header: PackHeader, root: string): boolean {
  if (entries === undefined) return false;
  const entry = process.argv[1];
  if (entry === undefined || entry === '') return false;
  const base = root === '/' ? '' : root;
  // As Node names it (no disk asked), then by its real path.
  if (entry === root ? entries.includes('.') : entry.startsWith(`${base}/`) && entries.includes(entry.slice(base.length + 1))) return true;
  const known = header.starts?.find((start) => `${base}/${start[0]}` === entry);
  let real: string | undefined = known === undefined ? undefined : `${base}/${known[1]}`;
  if (real === undefined) {
    try {
      real = realpathSync(entry);
    } catch {
      return false;
    }
  }
  return real !== entry && real.startsWith(`${base}/`) && entries.includes(real.slice(base.length + 1));
}
