// Every COLDSTART_* environment variable coldstart reads, in one table, and the one rule for
// on/off values: '0', 'off', 'false' and 'no' (any case) turn a feature off; unset or empty
// leaves its default; anything else turns it on. The rest of coldstart reads the environment
// only through this module (test/unit/architecture.test.mjs checks), dist/register.cjs's tiny
// loader included: it bundles the few readers it uses, which import nothing.
// The README's table lists exactly the documented ones (test/unit/settings.test.mjs).

export interface SettingInfo {
  /** How it is written in the README's table, e.g. `COLDSTART_PACK=path` / `off`. */
  readonly usage: string;
  readonly effect: string;
  /** Set by coldstart's own commands for the processes they start; not for users. */
  readonly internal?: true;
}

export const settings = {
  COLDSTART_EAGER: { usage: '`COLDSTART_EAGER=1`', effect: 'load every lazy module and deferred import at declaration' },
  COLDSTART_DEBUG: { usage: '`COLDSTART_DEBUG=1`', effect: 'one stderr line per reason a cache was not used, per fall-through; from `coldstart pack --lazy`, one per require or import kept eager, and why' },
  COLDSTART_INDEX: { usage: '`COLDSTART_INDEX=path` / `0`', effect: 'index file to read and write / no index' },
  COLDSTART_INDEX_BUILD: { usage: '`COLDSTART_INDEX_BUILD=0`', effect: 'never build an index at start-up (read-only images)' },
  COLDSTART_ROOT: {
    usage: '`COLDSTART_ROOT=dir`',
    effect: 'the project root (default, in a run: the project holding coldstart when the run is inside it, else found from the working directory; the CLI always starts from the working directory, so a global install works on the project you are in)',
  },
  COLDSTART_PACK: { usage: '`COLDSTART_PACK=path` / `off`', effect: 'pack file to serve / no pack' },
  COLDSTART_STEP_ASIDE: {
    usage: '`COLDSTART_STEP_ASIDE=0`',
    effect: 'serve every process, however small (by default a program that loaded fewer than 40 modules in its recorded or an earlier run gets plain Node on a local disk)',
  },
  COLDSTART_PACK_VERIFY: {
    usage: '`COLDSTART_PACK_VERIFY=1` / `0`',
    effect: "1: also check every packed file's size and mtime before a learned-deferral rewrite is served, and each resolution answer's target; 0: trust installed files to the pack's stamps (the default on network and FUSE filesystems; on a local disk each installed file served is checked at its first load)",
  },
  COLDSTART_SHARED: {
    usage: '`COLDSTART_SHARED=1`',
    effect: 'a read-only install shared by many processes: the index and pack are trusted as built (no stamps at start) and nothing is written into the tree ([docs/scale.md](docs/scale.md))',
  },
  COLDSTART_INDEX_VERIFY: { usage: '`COLDSTART_INDEX_VERIFY=0`', effect: "trust the index as built: no `stat` per package or project folder used" },
  COLDSTART_INDEX_SOURCES: { usage: '`COLDSTART_INDEX_SOURCES=off`', effect: 'leave `.js` package scopes to Node (see docs/index.md)' },
  COLDSTART_PREFETCH: {
    usage: '`COLDSTART_PREFETCH=1` / `0`',
    effect: 'force on / off the worker that reads ahead the files a program loads (default: on for network and FUSE filesystems)',
  },
  COLDSTART_HOOKS: { usage: '`COLDSTART_HOOKS=registerHooks` / `patch`', effect: 'force how the index and pack hook in on Node 22.15+' },
  COLDSTART_CODE_CACHE: { usage: '`COLDSTART_CODE_CACHE=0`', effect: "compile coldstart/register's core, and (Node 20) packed CommonJS, without V8's code cache" },
  COLDSTART_DEFER_CACHE: { usage: '`COLDSTART_DEFER_CACHE=dir` / `0`', effect: 'where transformed files are cached / no cache' },
  COLDSTART_LAZY_RECORDS: { usage: '`COLDSTART_LAZY_RECORDS=file`', effect: 'append lazy-load records at exit (set by `coldstart lazy` and `profile`)' },
  COLDSTART_INDEX_STATS: { usage: '`COLDSTART_INDEX_STATS=file`', effect: "append the index's per-process report at exit (set by `coldstart doctor`)" },
  COLDSTART_PACK_STATS: { usage: '`COLDSTART_PACK_STATS=file`', effect: "append the pack's per-process report at exit (set by `coldstart doctor`)" },
  COLDSTART_DEFER_STATS: { usage: '`COLDSTART_DEFER_STATS=1`', effect: 'one stderr line per defer transform decision' },
  COLDSTART_PACK_RECORD: { usage: '`COLDSTART_PACK_RECORD=dir`', effect: 'where `coldstart pack` collects what each recorded process loaded', internal: true },
  COLDSTART_PROFILE_DIR: { usage: '`COLDSTART_PROFILE_DIR=dir`', effect: 'where `coldstart profile` collects each recorded process', internal: true },
  COLDSTART_PROFILE_COVERAGE: { usage: '`COLDSTART_PROFILE_COVERAGE=1`', effect: 'record V8 coverage in a profiled process', internal: true },
} as const satisfies Record<string, SettingInfo>;

export type SettingName = keyof typeof settings;

const offWords = new Set(['0', 'off', 'false', 'no']);

/** True when `value` says off. */
export function settingOff(value: string | undefined): boolean {
  return value !== undefined && offWords.has(value.trim().toLowerCase());
}

/** True when `value` is set, not empty, and does not say off. */
export function settingOn(value: string | undefined): boolean {
  return value !== undefined && value.trim() !== '' && !settingOff(value);
}

/** A setting's raw value, read when asked (the CLI and tests change the environment between uses). */
export function setting(name: SettingName, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env[name];
}

/** Whether a switch is on: set, not empty, not an off word. */
export function isOn(name: SettingName, env: NodeJS.ProcessEnv = process.env): boolean {
  return settingOn(env[name]);
}

/** Whether a switch is explicitly off. */
export function isOff(name: SettingName, env: NodeJS.ProcessEnv = process.env): boolean {
  return settingOff(env[name]);
}

/** A file or directory setting: undefined when unset or empty; `off` is returned as written. */
export function pathSetting(name: SettingName, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

/**
 * COLDSTART_SHARED=1: a read-only install shared by many processes (a cluster's network
 * filesystem, a container image). The index and the pack were checked when they were built and
 * are trusted as they are (no stamps at start-up), and a run writes nothing into the tree: no
 * index build, no lock, no learned answers, no code cache. See docs/scale.md.
 */
export function sharedInstall(env: NodeJS.ProcessEnv = process.env): boolean {
  return isOn('COLDSTART_SHARED', env);
}
