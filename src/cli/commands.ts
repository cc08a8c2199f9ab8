// The table of subcommands: a one-line summary, usage text, and a loader that imports the
// command's module only when that command runs, so `coldstart --help` loads nothing else.

export interface Command {
  /** The exit code; undefined when the command handed this process to a program that sets its own. */
  run(argv: string[]): Promise<number | undefined>;
}

interface Entry {
  readonly summary: string;
  readonly usage: string;
  readonly load: () => Promise<Command>;
}

export const commands = {
  lazy: {
    summary: 'list the lazy() declarations a command made and what forced each to load',
    usage: [
      'Usage: coldstart lazy [--json] -- <command...>',
      '',
      'Runs a Node command with lazy-load recording on and prints, after it exits, every',
      'lazy() module it declared: whether it loaded, when, and the call site that forced it.',
      'The command\'s stdout, stderr and exit code pass through; the report goes to stderr.',
      '',
      'Options:',
      '  --json  print the records as JSON instead of a table',
    ].join('\n'),
    load: () => import('./commands/lazy.js'),
  },
  profile: {
    summary: 'record every module a command loads: time tree, defer candidates, lazy loads',
    usage: [
      'Usage: coldstart profile [options] -- <command...>',
      '',
      'Runs a command with module-load recording in every Node process it starts (through',
      'NODE_OPTIONS, so scripts, bins, npx and npm run work) and prints, after it exits, the',
      'import tree by inclusive time, the packages that could be deferred with the lazy() line',
      'to write, and what forced each lazy() load. The command\'s stdout, stderr and exit code',
      'pass through; the report goes to stderr. `node <script>` with the Node running coldstart',
      'runs in this process (one Node start-up fewer); other commands run as a child.',
      '',
      'Options:',
      '  --json FILE    write everything recorded as JSON (schema: docs/profile.md)',
      '  --trace FILE   write Chrome trace events (open in Perfetto or chrome://tracing)',
      '  --html FILE    write a self-contained page with an icicle chart and a sortable table',
      '  --min-ms N     fold tree entries under N ms (default: 1% of loading time, at least 0.5)',
      '  --no-coverage  skip V8 call counts: faster, but no defer candidates',
      '  -q, --quiet    no text report (files only)',
      '  --spawn        run `node <script>` as a child process too (a report even if it is killed)',
    ].join('\n'),
    load: () => import('./commands/profile.js'),
  },
  check: {
    summary: 'fail (exit 3) when a command loads a forbidden package or too many modules',
    usage: [
      'Usage: coldstart check [--forbid NAME]... [--max-modules N] [--max-ms N [--tolerance P]] -- <command...>',
      '',
      'Runs a command with module-load recording and exits 3 with the reason when it loaded a',
      'forbidden package, more modules than allowed, or took longer than allowed; otherwise it',
      'exits 0 (or with the command\'s own code when that failed). Counts are the reliable gate;',
      'a time budget is noisy, so give it a tolerance.',
      '',
      'Options:',
      '  --forbid NAME     a package (or node:builtin) that must not load; repeatable',
      '  --max-modules N   most modules (builtins excluded) all the Node processes may load',
      '  --max-ms N        most milliseconds of wall time for the whole command',
      '  --tolerance P     percent added to --max-ms before failing (default 0)',
      '  --json FILE       write the verdict and the counts as JSON to FILE',
    ].join('\n'),
    load: () => import('./commands/check.js'),
  },
  index: {
    summary: 'build the module-location index of a project (one walk of node_modules)',
    usage: [
      'Usage: coldstart index [dir] [--index FILE] [--json]',
      '',
      'Walks everything Node could resolve from the project in dir (default: the project of the',
      'working directory): node_modules at every level, scopes, symlinked layouts, NODE_PATH.',
      'Writes the index atomically to node_modules/.cache/coldstart/index.v1 (or COLDSTART_INDEX,',
      'or --index FILE). Runs with `node --import coldstart/register` then resolve from it.',
      'A one-line summary goes to stderr; progress too, on a terminal.',
      '',
      'Options:',
      '  --index FILE  write the index here instead',
      '  --json        print the summary as JSON on stdout',
    ].join('\n'),
    load: () => import('./commands/build-index.js'),
  },
  resolve: {
    summary: 'print what the index answers for a specifier: path and format',
    usage: [
      'Usage: coldstart resolve <specifier> [--from FILE] [--conditions require|import|a,b,c] [--index FILE] [--json]',
      '',
      'Resolves a specifier from the index alone, as the resolve hook would, and prints the',
      'path and format (tab-separated) on stdout. Exit 1 when the index says Node would fail',
      '(the error is printed) or when the index cannot answer (Node would decide).',
      '',
      'Options:',
      '  --from FILE        the importing file (default: a file in the working directory)',
      "  --conditions C     'require' (default), 'import', or a comma-separated condition list",
      '  --index FILE       read this index instead of the project\'s',
      '  --json             print the whole answer as JSON',
    ].join('\n'),
    load: () => import('./commands/resolve.js'),
  },
  doctor: {
    summary: 'are the index and the pack in use and fresh; with -- <command>, what they served',
    usage: [
      'Usage: coldstart doctor [--index FILE] [--pack FILE] [--json] [-- <command...>]',
      '',
      'Without a command: where the project\'s index is, when it was built, and whether it is',
      'fresh (exit 0) or missing, stale or refused (exit 1); the same for the pack, which is',
      'optional (missing: exit 0; stale or refused: exit 1). With a command: runs it with',
      'coldstart/register (added to NODE_OPTIONS when absent) and prints, per Node process, how',
      'many lookups the index answered and how many fell through to Node, and how many module',
      'loads the pack served and how many went to the disk. The command\'s output and exit code',
      'pass through; the report goes to stderr.',
      '',
      'Options:',
      '  --index FILE  the index to check (default: COLDSTART_INDEX or the project\'s)',
      '  --pack FILE   the pack to check (default: COLDSTART_PACK or the project\'s)',
      '  --json        print the report as JSON',
    ].join('\n'),
    load: () => import('./commands/doctor.js'),
  },
  defer: {
    summary: 'list, add or remove the packages auto-defer loads on first use',
    usage: [
      'Usage: coldstart defer [--list] [--json]',
      '       coldstart defer --add <package|glob>... | --remove <package|glob>...',
      '',
      'Edits "coldstart": { "defer": [...] } in the package.json of the current directory (or',
      'coldstart.config.json when that file exists). Imports and requires of these packages in',
      'your own files are evaluated on first use when run with coldstart/register.',
      '',
      'Options:',
      '  --list    print the entries (the default)',
      '  --add     add entries, e.g. typescript or \'@aws-sdk/*\'',
      '  --remove  remove entries',
      '  --json    print the list as JSON',
    ].join('\n'),
    load: () => import('./commands/defer.js'),
  },
  pack: {
    summary: 'record what a command loads and write it into one pack file served from memory',
    usage: [
      'Usage: coldstart pack [--out FILE] [--run "<command>"]... [--package NAME]... [-- <command...>]',
      '',
      'Runs each command with module-load recording (in every Node process it starts, through',
      'NODE_OPTIONS) and writes ONE pack: every module file they loaded (CommonJS, ES modules,',
      'JSON) with its size and mtime, and the resolution answers they saw. With',
      '`node --import coldstart/register` the pack is then read once per process and its modules',
      'served from memory. Several commands are merged into one pack: repeat --run, or combine',
      '--run with `--`. --package packs whole packages instead (or as well): every .js, .cjs,',
      '.mjs and .json file of each installed copy, listed by the module-location index (built',
      'first if needed), each with the format Node gives it. See docs/pack.md for freshness',
      '(COLDSTART_PACK_VERIFY=1) and sharing.',
      'Recorded by Node 20, the pack also holds the V8 code cache of the CommonJS it runs, made',
      'at the end of each run (it pays there; Node 22+ compile as fast without one).',
      '',
      'Options:',
      '  -o, --out FILE     where to write (default: COLDSTART_PACK, else',
      '                     <root>/node_modules/.cache/coldstart/pack.v1)',
      '  --run "CMD"        a shell command to record; repeatable',
      '  -p, --package NAME every file of an installed package (globs: "@aws-sdk/*"); repeatable',
      '  --no-code-cache    store no V8 code cache',
      '  --json             print the summary as JSON',
    ].join('\n'),
    load: () => import('./commands/pack.js'),
  },
} satisfies Record<string, Entry>;

export type CommandName = keyof typeof commands;
