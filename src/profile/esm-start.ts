// When a profiled program's main script is CommonJS, the ES module hooks wait for its first
// ES module: from the start in coldstart's own process; in a child, once the main script has
// loaded as CommonJS through them (preload.ts). A registerHooks hook, even one that passes
// everything through, sends every require() down Node's slower hooked path
// (docs/decisions/startup-costs.md#commonjs-patch-vs-registerhooks). The CommonJS
// patch records require() without them.
//
// An ES module reaches a CommonJS program in two ways, and both are seen in time:
//  - import(): Node publishes `tracing:module.import:start` before it resolves the specifier
//    (checked on Node 22.15, the first with registerHooks, and on 22, 24 and 26);
//  - require() of an ES module: Module.prototype._compile runs before the module is linked,
//    with format 'module' (a .mjs file, or "type": "module"), or with no format in a package
//    without "type", where Node looks at the syntax. A module there without an import
//    statement imports nothing statically, so only those are taken as ES modules (a word
//    "import" at a line start in a comment of a CommonJS file installs the hooks early: a cost,
//    never a lost record).
import { entryKind } from '../loader/entry.js';
import { packageScope } from '../resolve/facts.js';
import { createFsView } from '../resolve/fs-view.js';

/**
 * Whether Node's runMain will start the script in process.argv[1] in the CommonJS loader, by
 * Node's rules (loader/entry.ts: .cjs, or a package scope without "type": "module"), given no
 * --import or loader flag in `execFlags` (the process's execArgv and NODE_OPTIONS). An
 * unreadable scope counts as not CommonJS: the hooks then go in at once.
 */
export function startsInCommonJs(execFlags: string): boolean {
  if (/(?:^|\s)--(?:import|loader|experimental-loader|experimental-default-type)\b/.test(execFlags)) return false;
  const view = createFsView();
  const typeOf = (file: string): string | undefined | null => {
    try {
      const scope = packageScope(view, file);
      return scope?.malformed === true ? null : scope?.type;
    } catch {
      return null;
    }
  };
  return entryKind(typeOf) === 'commonjs';
}

/** An import or export-from statement: what makes a module load others when it is linked. */
const staticImport = /(?:^|[\n;{}])\s*(?:import(?![\w$])\s*[\w$*{"']|export\s*(?:\*|\{[^}]*\}\s*from))/;

export function mayImportStatically(source: string): boolean {
  return staticImport.test(source);
}

/**
 * Calls `install` once, at the first sign of an ES module: returns the check the CommonJS
 * patch runs before each compile. `subscribe` is diagnostics_channel.subscribe (injected for tests).
 */
export function installOnFirstModule(
  install: () => void,
  channels: { subscribe(name: string, fn: () => void): void; unsubscribe(name: string, fn: () => void): unknown },
): (source: unknown, format: unknown) => void {
  let done = false;
  const onImport = (): void => {
    first();
  };
  const first = (): void => {
    if (done) return;
    done = true;
    channels.unsubscribe('tracing:module.import:start', onImport);
    install();
  };
  channels.subscribe('tracing:module.import:start', onImport);
  return (source, format) => {
    if (done) return;
    if (format === undefined) {
      if (typeof source === 'string' && mayImportStatically(source)) first();
    } else if (typeof format === 'string' && !format.startsWith('commonjs')) {
      first();
    }
  };
}
