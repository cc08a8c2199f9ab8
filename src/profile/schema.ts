// The shape of what one profiled process writes at exit, shared by the recorder and the reports.
// Times are milliseconds; `startMs` is relative to the process's start (`timeOrigin`).

export const PROCESS_FORMAT = 1;

export type ModuleFormat = 'module' | 'commonjs' | 'json' | 'addon' | 'builtin' | 'wasm' | 'other';

export interface ModuleEntry {
  id: number;
  /** Absolute path for files, `node:x` for builtins, the URL otherwise. */
  key: string;
  /** The specifier as written by the first importer. */
  specifier: string;
  /** Id of the first importer (the tree's parent); null for entry points and preloads. */
  parent: number | null;
  format: ModuleFormat;
  resolveMs: number;
  readMs: number;
  /** Evaluation of this module's own code, children excluded. */
  evalMs: number;
  /** resolve + read + eval: the time this module costs by itself. */
  selfMs: number;
  /** Start of its load (CommonJS) or of its evaluation (ES module), when known. */
  startMs: number | null;
  /** Length of that window, children included; null when no window was observed. */
  durMs: number | null;
  /** Source length in characters, when the recorder saw the source. */
  size: number | null;
  /** Present (true) when coldstart/register's pack served the source from memory. */
  fromPack?: true;
}

export interface CoverageSnapshot {
  /** Module whose load had just finished (a package entry imported by first-party code); null at exit. */
  after: number | null;
  /** Paths of files with at least one function (other than the top level) called since the previous snapshot. */
  used: string[];
}

export interface ProcessProfile {
  format: typeof PROCESS_FORMAT;
  pid: number;
  ppid: number;
  argv: string[];
  /** Real path of the main script, when there is one. */
  mainPath: string | null;
  nodeVersion: string;
  /** How ES modules were observed: in-thread hooks, off-thread hooks, or not at all. */
  esmHooks: 'registerHooks' | 'register' | 'none';
  /**
   * When those hooks went in, in ms since process start: at the preload, or, for a program run in
   * coldstart's own process that starts in the CommonJS loader, at its first ES module; null
   * when they never did (no ES module loaded, or no hooks).
   */
  esmHooksFromMs: number | null;
  /** Epoch milliseconds when the process started (Date.now() less process.uptime()). */
  timeOrigin: number;
  /** From process start to the exit event. */
  wallMs: number;
  modules: ModuleEntry[];
  /** Every import/require edge seen, [from id, to id], cached ones included. */
  edges: [number, number][];
  coverage: CoverageSnapshot[] | null;
}
