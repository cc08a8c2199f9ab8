// The "exports" and "imports" fields: Node's PACKAGE_EXPORTS_RESOLVE, PACKAGE_IMPORTS_RESOLVE
// and PACKAGE_TARGET_RESOLVE over data, in URL space exactly as Node does them (targets are
// URL-relative to package.json, so percent-encoding decodes the way Node's does).
import { fileURLToPath } from 'node:url';
import { Failure, fail, giveUp } from './outcome.js';

/** What a bare target inside "imports" resolves through (ESM PACKAGE_RESOLVE). */
export type BareResolver = (specifier: string, base: URL) => URL;

export interface TargetContext {
  readonly pjsonUrl: URL;
  readonly conditions: ReadonlySet<string>;
  /** Importing file for messages, or undefined (CommonJS exports lookups name no base). */
  readonly base: string | undefined;
  readonly internal: boolean;
  readonly resolveBare: BareResolver;
}

// Segments Node rejects or warns about in targets and subpaths ('.', '..', 'node_modules',
// empty, percent-encoded forms): we never answer those, Node does.
const invalidSegment = /(^|\\|\/)((\.|%2e)(\.|%2e)?|(n|%6e|%4e)(o|%6f|%4f)(d|%64|%44)(e|%65|%45)(_|%5f)(m|%6d|%4d)(o|%6f|%4f)(d|%64|%44)(u|%75|%55)(l|%6c|%4c)(e|%65|%45)(s|%73|%53))?(\\|\/|$)/i;

function packageDir(ctx: TargetContext): string {
  return fileURLToPath(new URL('.', ctx.pjsonUrl));
}

function importedFrom(base: string | undefined): string {
  return base ? ` imported from ${base}` : '';
}

function invalidTarget(ctx: TargetContext, key: string, target: unknown): never {
  const shown = typeof target === 'object' && target !== null ? JSON.stringify(target) : String(target);
  const hint = typeof target === 'string' && !ctx.internal && target.length > 0 && !target.startsWith('./')
    ? '; targets must start with "./"' : '';
  const where = `in the package config ${packageDir(ctx)}package.json${importedFrom(ctx.base)}${hint}`;
  const message = key === '.'
    ? `Invalid "exports" main target ${JSON.stringify(shown)} defined ${where}`
    : `Invalid "${ctx.internal ? 'imports' : 'exports'}" target ${JSON.stringify(shown)} defined for '${key}' ${where}`;
  return fail('ERR_INVALID_PACKAGE_TARGET', message);
}

function isArrayIndex(key: string): boolean {
  const n = Number(key);
  return String(n >>> 0) === key && n >>> 0 !== 0xffffffff;
}

function resolveTargetString(ctx: TargetContext, target: string, subpath: string, key: string, pattern: boolean): URL {
  if (subpath !== '' && !pattern && !target.endsWith('/')) invalidTarget(ctx, key, target);
  if (!target.startsWith('./')) {
    if (ctx.internal && !target.startsWith('../') && !target.startsWith('/')) {
      if (URL.canParse(target)) giveUp(`URL target ${target}`);
      const specifier = pattern ? target.replaceAll('*', () => subpath) : target + subpath;
      return ctx.resolveBare(specifier, ctx.pjsonUrl);
    }
    return invalidTarget(ctx, key, target);
  }
  if (invalidSegment.test(target.slice(2))) giveUp(`target ${target} has a deprecated or invalid segment`);
  const resolved = new URL(target, ctx.pjsonUrl);
  if (!resolved.pathname.startsWith(new URL('.', ctx.pjsonUrl).pathname)) invalidTarget(ctx, key, target);
  if (subpath === '') return resolved;
  if (invalidSegment.test(subpath) || /[%#?\\]/.test(subpath)) giveUp(`subpath ${subpath} needs Node's own checks`);
  if (pattern) return new URL(resolved.href.replaceAll('*', () => subpath));
  return new URL(subpath, resolved);
}

/** URL, null (explicitly excluded) or undefined (no condition matched), as Node's function. */
export function resolveTarget(ctx: TargetContext, target: unknown, subpath: string, key: string, pattern: boolean): URL | null | undefined {
  if (typeof target === 'string') return resolveTargetString(ctx, target, subpath, key, pattern);
  if (Array.isArray(target)) {
    if (target.length === 0) return null;
    let last: Failure | null | undefined;
    for (const item of target) {
      let result: URL | null | undefined;
      try {
        result = resolveTarget(ctx, item, subpath, key, pattern);
      } catch (error) {
        if (error instanceof Failure && error.code === 'ERR_INVALID_PACKAGE_TARGET') {
          last = error;
          continue;
        }
        throw error;
      }
      if (result === undefined) continue;
      if (result === null) {
        last = null;
        continue;
      }
      return result;
    }
    if (last === undefined || last === null) return last;
    throw last;
  }
  if (typeof target === 'object' && target !== null) {
    const keys = Object.getOwnPropertyNames(target);
    // Node throws ERR_INVALID_PACKAGE_CONFIG for numeric condition keys; let it.
    if (keys.some(isArrayIndex)) giveUp('numeric condition key');
    for (const condition of keys) {
      if (condition === 'default' || ctx.conditions.has(condition)) {
        const result = resolveTarget(ctx, (target as Record<string, unknown>)[condition], subpath, key, pattern);
        if (result !== undefined) return result;
      }
    }
    return undefined;
  }
  if (target === null) return null;
  return invalidTarget(ctx, key, target);
}

/** Node's PATTERN_KEY_COMPARE: which of two keys is the more specific match. */
function patternKeyCompare(a: string, b: string): number {
  const aStar = a.indexOf('*');
  const bStar = b.indexOf('*');
  const aBase = aStar === -1 ? a.length : aStar + 1;
  const bBase = bStar === -1 ? b.length : bStar + 1;
  if (aBase > bBase) return -1;
  if (bBase > aBase) return 1;
  if (aStar === -1) return 1;
  if (bStar === -1) return -1;
  if (a.length > b.length) return -1;
  if (b.length > a.length) return 1;
  return 0;
}

/** The best pattern key of `map` for `request` and the part `*` stands for. */
function bestPattern(map: object, request: string): { key: string; subpath: string } | undefined {
  let best = '';
  let bestSubpath = '';
  for (const key of Object.getOwnPropertyNames(map)) {
    const star = key.indexOf('*');
    if (star === -1 || !request.startsWith(key.slice(0, star))) continue;
    const trailer = key.slice(star + 1);
    if (request.length >= key.length && request.endsWith(trailer) && patternKeyCompare(best, key) === 1 && key.lastIndexOf('*') === star) {
      best = key;
      bestSubpath = request.slice(star, request.length - trailer.length);
    }
  }
  return best ? { key: best, subpath: bestSubpath } : undefined;
}

function isConditionalSugar(exports: unknown): boolean {
  if (typeof exports === 'string' || Array.isArray(exports)) return true;
  if (typeof exports !== 'object' || exports === null) return false;
  let sugar: boolean | undefined;
  for (const key of Object.getOwnPropertyNames(exports)) {
    const current = key === '' || key[0] !== '.';
    // Mixed keys make Node throw ERR_INVALID_PACKAGE_CONFIG; let it.
    if (sugar !== undefined && sugar !== current) giveUp('"exports" mixes subpaths and conditions');
    sugar = current;
  }
  return sugar ?? false;
}

function notExported(ctx: TargetContext, subpath: string): never {
  const where = `${packageDir(ctx)}package.json${importedFrom(ctx.base)}`;
  return fail('ERR_PACKAGE_PATH_NOT_EXPORTED', subpath === '.'
    ? `No "exports" main defined in ${where}`
    : `Package subpath '${subpath}' is not defined by "exports" in ${where}`);
}

/** PACKAGE_EXPORTS_RESOLVE: `subpath` is '.' or './x'. */
export function resolveExports(ctx: TargetContext, exportsField: unknown, subpath: string): URL {
  // Node 22+ ignores a boolean or numeric "exports" while Node 20 exports nothing.
  if (typeof exportsField !== 'string' && typeof exportsField !== 'object') giveUp('"exports" is neither a string nor an object');
  const map = (isConditionalSugar(exportsField) ? { '.': exportsField } : exportsField) as object;
  if (subpath.endsWith('/')) giveUp('trailing-slash subpath (deprecated in Node)');
  if (typeof map !== 'object' || map === null) return notExported(ctx, subpath);
  if (Object.prototype.hasOwnProperty.call(map, subpath) && !subpath.includes('*')) {
    const result = resolveTarget(ctx, (map as Record<string, unknown>)[subpath], '', subpath, false);
    return result ?? notExported(ctx, subpath);
  }
  const match = bestPattern(map, subpath);
  if (match) {
    const result = resolveTarget(ctx, (map as Record<string, unknown>)[match.key], match.subpath, match.key, true);
    if (result) return result;
  }
  return notExported(ctx, subpath);
}

/** PACKAGE_IMPORTS_RESOLVE for `#name` given the scope's "imports" (null when no scope). */
export function resolveImports(ctx: TargetContext | undefined, importsField: unknown, name: string, base: string): URL {
  if (name === '#' || name.startsWith('#/') || name.endsWith('/')) giveUp(`${name} is not a valid imports name`);
  if (ctx && typeof importsField === 'object' && importsField !== null) {
    const map = importsField as Record<string, unknown>;
    if (Object.prototype.hasOwnProperty.call(map, name) && !name.includes('*')) {
      const result = resolveTarget(ctx, map[name], '', name, false);
      if (result) return result;
    } else {
      const match = bestPattern(map, name);
      if (match) {
        const result = resolveTarget(ctx, map[match.key], match.subpath, match.key, true);
        if (result) return result;
      }
    }
  }
  const where = ctx ? ` in package ${packageDir(ctx)}package.json` : '';
  return fail('ERR_PACKAGE_IMPORT_NOT_DEFINED', `Package import specifier "${name}" is not defined${where} imported from ${base}`);
}
