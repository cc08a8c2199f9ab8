// Build-time lowering, a pure function of the source: `import defer * as ns` and ordinary imports
// (or top-level requires) of configured packages become code that loads the module at first use
// through a small helper (build/runtime.ts), so the output runs on plain `node` with no hooks.
// The caller (a bundler plugin, or `coldstart build-defer` over a compiled folder) decides how
// each module is reached at run time: that is all that differs between them.
import MagicString from 'magic-string';
import { mayNeedTransform } from '../defer/detect.js';
import { insertAfterDirectives, keepLines, planDefer, rewriteReferences, uniqueName, type DeferPlan, type DeferSite } from '../defer/sites.js';
import type { Node } from '../defer/scope.js';

/** The helper's exported names, which emitted code calls. */
export const helperNames = ['__coldstart_deferred', '__coldstart_external', '__coldstart_load', '__coldstart_lazyRequire'] as const;

export interface LowerOptions {
  /** How each site's module is reached: an expression that evaluates (when the importing module
   *  does) to a function returning the module. Undefined keeps that declaration eager. */
  readonly loadOf: (site: DeferSite) => string | undefined;
  /** Whether the module a site loads is CommonJS (a hint for bundlers that wrap it in a namespace). */
  readonly commonjsTarget?: (site: DeferSite) => boolean;
  /** The helper: `{ inline }` appends its text (function declarations, hoisted) to the file;
   *  `{ from }` imports it from a module specifier (a bundler's virtual module). */
  readonly helper: { readonly inline: string } | { readonly from: string };
}

export interface LowerResult {
  readonly code: string;
  /** A source map from `code` to the input (magic-string's, as JSON). */
  readonly map: string;
  /** What was made lazy, for messages and tests. */
  readonly deferred: readonly string[];
  /** What stayed eager because `loadOf` said so (a module that awaits at top level, say). */
  readonly kept: readonly string[];
}

/** The declarations of `source` that lowering would make lazy; undefined when none. */
export function planLowering(source: string, file: string, format: 'module' | 'commonjs', defer: readonly string[]): DeferPlan | undefined {
  if (!mayNeedTransform(source, defer)) return undefined;
  const plan = planDefer(source, file, format, { defer, eager: false, nativeImportDefer: false, interopRequire: true, dynamic: true });
  if (plan === undefined || plan.calls.length === 0) return plan;
  // `import.defer("x")` with a literal specifier is one more lazy module the bundler can see; the
  // others become import() (lowerDefer).
  const sites = [...plan.sites];
  let counter = 0;
  for (const call of plan.calls) {
    const argument = call['source'] as Node;
    if (argument.type !== 'Literal' || typeof argument['value'] !== 'string' || call['options'] != null) continue;
    const object = uniqueName(source, `__coldstart_dynamic${counter++}`);
    sites.push({ kind: 'import-defer', specifier: argument['value'] as string, start: call.start as number, end: call.end as number, object, read: object, locals: new Map(), keep: false, call: true });
  }
  return { ...plan, sites };
}

/** Rewrites `source` by `plan` (from planLowering on the same source). */
export function lowerDefer(source: string, file: string, plan: DeferPlan, options: LowerOptions): LowerResult | undefined {
  const s = new MagicString(source);
  const deferred: string[] = [];
  const kept: string[] = [];
  const top: string[] = [];
  const lowered = new Set<number>();
  for (const site of plan.sites) {
    if (site.keep) continue;
    const load = options.loadOf(site);
    if (site.call === true) {
      if (load === undefined) continue; // an ordinary import(), below
      lowered.add(site.start);
      deferred.push(`import.defer ${site.specifier}`);
      top.push(`const ${site.object} = __coldstart_deferred(${load}${options.commonjsTarget?.(site) === true ? ', true' : ''});`);
      s.overwrite(site.start, site.end, keepLines(source, site.start, site.end, `Promise.resolve(${site.object})`), { contentOnly: true });
      continue;
    }
    if (load === undefined) {
      site.keep = true;
      kept.push(site.specifier);
      // Nothing but a newer Node runs `import defer` itself: kept eager, it loses the keyword.
      if (site.kind === 'import-defer') s.overwrite(site.start, site.start + source.slice(site.start, site.end).indexOf('*'), 'import ', { contentOnly: true });
      continue;
    }
    deferred.push(site.kind === 'import-defer' ? `import defer ${site.specifier}` : site.specifier);
    if (site.kind === 'require') {
      s.overwrite(site.start, site.end, keepLines(source, site.start, site.end, `${site.object} = __coldstart_lazyRequire(${load})`), { contentOnly: true });
    } else {
      // Imports are hoisted: their lazy stand-ins go to the top, so that code running before the
      // import's line (a hoisted function called early) finds them, as it would the import.
      s.overwrite(site.start, site.end, keepLines(source, site.start, site.end, ''), { contentOnly: true });
      top.push(`const ${site.object} = __coldstart_deferred(${load}${options.commonjsTarget?.(site) === true ? ', true' : ''});`);
    }
  }
  // Any other `import.defer(x)` (a computed specifier, import attributes, a module that awaits):
  // an ordinary import(), which evaluates the module before the promise settles.
  for (const call of plan.calls) {
    if (lowered.has(call.start as number)) continue;
    const args = (call['source'] as Node).start as number;
    s.overwrite(call.start as number, args, keepLines(source, call.start as number, args, 'import('), { contentOnly: true });
    kept.push('import.defer()');
  }
  if (deferred.length === 0 && kept.length === 0) return undefined;
  rewriteReferences(s, plan, source);
  if (deferred.length > 0) {
    if ('from' in options.helper) {
      const names = helperNames.join(', ');
      top.unshift(plan.commonjs ? `const { ${names} } = require(${JSON.stringify(options.helper.from)});` : `import { ${names} } from ${JSON.stringify(options.helper.from)};`);
    } else {
      appendBeforeMapComment(s, source, `\n${options.helper.inline}`);
    }
    // On the first statement's line: no line is added, so every line number stays right.
    if (top.length > 0) insertAfterDirectives(s, plan.program, source, `${top.join(' ')} `);
  }
  return { code: s.toString(), map: s.generateMap({ hires: true, source: file, includeContent: true }).toString(), deferred, kept };
}

const mapCommentAtEnd = /\n?\/\/[#@] sourceMappingURL=[^\n]*\s*$/;

/** Appends `text` at the end of the code, before a trailing source map comment, which must stay last. */
function appendBeforeMapComment(s: MagicString, source: string, text: string): void {
  const match = mapCommentAtEnd.exec(source);
  if (match === null) s.append(text.endsWith('\n') ? text : `${text}\n`);
  else s.appendLeft(match.index, text);
}
