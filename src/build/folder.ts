// `coldstart build-defer <dir>`'s work: lowers every compiled file of a folder (tsc's output, say)
// in place, so the published code makes its configured imports and `import defer` lazy on plain
// `node`. Every module is reached at run time as written (nothing is bundled); source maps beside
// the files, or inline, are chained so that they still lead to the original sources.
import { readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative as relativePath } from 'node:path';
import { formatOf } from '../resolve/facts.js';
import { createFsView } from '../resolve/fs-view.js';
import { helperInline } from './helper.js';
import { lowerDefer, planLowering } from './lower.js';
import { externalTargetAwaits, sourceFormat } from './options.js';

export interface FolderReport {
  /** Files rewritten, relative to the folder, with what each made lazy and kept eager. */
  readonly files: { file: string; deferred: readonly string[]; kept: readonly string[] }[];
  /** Files that could not be parsed: left as they were. */
  readonly skipped: { file: string; reason: string }[];
  scanned: number;
}

const compiled = /\.[cm]?js$/;

function* walk(dir: string, prefix = ''): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const relative = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) yield* walk(join(dir, entry.name), relative);
    else if (entry.isFile() && compiled.test(entry.name)) yield relative;
  }
}

/** Lowers the files under `dir`; `write: false` reports what would change and writes nothing. */
export function lowerFolder(dir: string, defer: readonly string[], write = true): FolderReport {
  const view = createFsView();
  const report: FolderReport = { files: [], skipped: [], scanned: 0 };
  for (const relative of walk(dir)) {
    report.scanned++;
    const file = join(dir, relative);
    const source = readFileSync(file, 'utf8');
    let format: 'module' | 'commonjs';
    try {
      const known = formatOf(view, file);
      format = known === 'module' || known === 'commonjs' ? known : sourceFormat(file, source);
    } catch {
      format = sourceFormat(file, source);
    }
    let plan;
    try {
      plan = planLowering(source, file, format, defer);
    } catch (error) {
      report.skipped.push({ file: relative, reason: (error as Error).message });
      continue;
    }
    if (plan === undefined) continue;
    const specifierOf = (specifier: string) => JSON.stringify(specifier);
    const result = lowerDefer(source, file, plan, {
      helper: { inline: helperInline() },
      loadOf(site) {
        if (site.kind === 'require') return `() => (${site.init})`;
        if (externalTargetAwaits(file, site.specifier)) return undefined;
        return format === 'module'
          ? `__coldstart_load(import.meta.url, import.meta.resolve(${specifierOf(site.specifier)}))`
          : `__coldstart_load(__filename, require.resolve(${specifierOf(site.specifier)}))`;
      },
    });
    if (result === undefined) continue;
    report.files.push({ file: relative, deferred: result.deferred, kept: result.kept });
    if (!write) continue;
    let code = result.code;
    const mapped = chainSourceMap(file, source, code, result.map);
    if (mapped !== undefined) code = mapped;
    writeAtomic(file, code);
  }
  return report;
}

function writeAtomic(file: string, text: string): void {
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, text);
  renameSync(temp, file);
}

const inlineMap = /\/\/[#@] sourceMappingURL=data:application\/json;(?:charset=utf-8;)?base64,([A-Za-z0-9+/=]+)\s*$/;
const fileMap = /\/\/[#@] sourceMappingURL=([^\s'"]+\.map)\s*$/;

/**
 * Keeps the compiler's source map right: ours (new code -> compiled code) traced through the
 * compiler's (compiled code -> the sources). A map file beside the code is rewritten in place; an
 * inline map is replaced. Returns the code with its new inline map, or undefined when the code
 * keeps its comment (no map, or a map file, rewritten here).
 */
function chainSourceMap(file: string, source: string, code: string, ours: string): string | undefined {
  const inline = inlineMap.exec(source);
  const linked = inline === null ? fileMap.exec(source) : null;
  if (inline === null && linked === null) return undefined;
  let upstream: object;
  const mapFile = linked !== null ? join(file, '..', linked[1]!) : undefined;
  try {
    upstream = JSON.parse(inline !== null ? Buffer.from(inline[1]!, 'base64').toString('utf8') : readFileSync(mapFile!, 'utf8')) as object;
  } catch {
    return undefined; // an unreadable map stays as it was: lines are unchanged by the rewrite anyway
  }
  const composed = compose(ours, upstream, file, dirname(mapFile ?? file));
  if (composed === undefined) return undefined;
  if (mapFile !== undefined) {
    writeAtomic(mapFile, composed);
    return undefined;
  }
  const comment = inlineMap.exec(code);
  if (comment === null) return undefined;
  return `${code.slice(0, comment.index)}//# sourceMappingURL=data:application/json;charset=utf-8;base64,${Buffer.from(composed).toString('base64')}\n`;
}

function compose(ours: string, upstream: object, file: string, base: string): string | undefined {
  try {
    const require = process.getBuiltinModule('node:module').createRequire(import.meta.url);
    const remapping = require('@jridgewell/remapping') as (map: string, loader: (source: string) => object | null) => { file?: string; toString(): string };
    let given = false;
    const map = remapping(ours, (source) => {
      if (given || source !== file) return null;
      given = true;
      return upstream;
    });
    // The map keeps the compiler's name for its file and source paths relative to itself.
    const result = JSON.parse(map.toString()) as { file?: string; sources?: (string | null)[] };
    const original = upstream as { file?: string };
    if (original.file !== undefined) result.file = original.file;
    result.sources = result.sources?.map((source) => (source !== null && isAbsolute(source) ? relativePath(base, source) : source));
    return JSON.stringify(result);
  } catch {
    return undefined;
  }
}
