// The options both bundler plugins take, and what they default to: the project's own
// `"coldstart": { "defer": [...] }`, as the run-time auto-defer reads it.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve, sep } from 'node:path';
import { deferConfigAt } from '../defer/config.js';
import { hasTopLevelAwait } from '../defer/sites.js';

export interface DeferPluginOptions {
  /** Package names, globs (`@aws-sdk/*`) or exact specifiers whose ordinary imports load at first
   *  use. Default: the `coldstart.defer` list of the package.json (or coldstart.config.json)
   *  nearest to `cwd`. `import defer` statements are lowered whatever this says. */
  readonly defer?: readonly string[];
  /** Rewrite files inside node_modules too (default: the configuration's, else false). */
  readonly deferNodeModules?: boolean;
  /** Where the configuration is looked for (default: the bundler's working directory). */
  readonly cwd?: string;
}

export interface ResolvedPluginOptions {
  readonly defer: readonly string[];
  readonly deferNodeModules: boolean;
}

export function resolvePluginOptions(options: DeferPluginOptions, cwd: string): ResolvedPluginOptions {
  const config = options.defer === undefined || options.deferNodeModules === undefined ? deferConfigAt(options.cwd ?? cwd) : undefined;
  return { defer: options.defer ?? config?.defer ?? [], deferNodeModules: options.deferNodeModules ?? config?.deferNodeModules ?? false };
}

/** Files the plugins look at: JavaScript and TypeScript sources. */
export const sourceFile = /\.[cm]?[jt]sx?$/;

export function inNodeModules(file: string): boolean {
  return file.includes(`${sep}node_modules${sep}`);
}

/** 'commonjs' for .cjs/.cts, or a .js/.ts file with no import or export statement; else 'module'. */
export function sourceFormat(file: string, source: string): 'module' | 'commonjs' {
  if (/\.c[jt]s$/.test(file)) return 'commonjs';
  if (/\.m[jt]s$/.test(file)) return 'module';
  return /^\s*(?:import|export)\b/m.test(source) ? 'module' : 'commonjs';
}

/** Whether the module file at `path` awaits at its top level: require() cannot evaluate it, so
 *  an import of it stays eager (the proposal evaluates such a module eagerly too). */
export function awaitsAtTopLevel(path: string): boolean {
  let source: string;
  try {
    source = readFileSync(path, 'utf8');
  } catch {
    return false;
  }
  return hasTopLevelAwait(source, path);
}


/** For a relative or absolute specifier kept external: whether its file awaits at top level. */
export function externalTargetAwaits(importer: string, specifier: string): boolean {
  if (!specifier.startsWith('.') && !isAbsolute(specifier)) return false;
  return awaitsAtTopLevel(resolve(dirname(importer), specifier));
}
