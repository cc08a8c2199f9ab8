// The index as a provider of the loader pipeline: resolves a specifier through the index, in a
// registerHooks resolve hook (require and import) for ES module programs on Node 22.15+, else in
// require()'s resolution step (Node 20, and CommonJS programs everywhere: see loader/entry.ts).
// Each step starts with a pass-through guard; then a pack's recorded answer, the index, or Node.
import { isBuiltin } from 'node:module';
import { dirname, join } from 'node:path';
import { has } from '../node-features.js';
import { resolve } from '../resolve/resolve.js';
import { isRelativeRequest } from '../resolve/esm.js';
import type { Resolution, ResolutionView, ResolveRequest } from '../resolve/view.js';
import type { AnswerTable } from '../locations/answers.js';
import { debug, debugEnabled } from '../debug.js';
import { cjsConditions } from '../loader/conditions.js';
import { foreignLoadHooks } from '../loader/foreign-hooks.js';
import { fileUrlOf, ownLookupPaths, ownLookupPathsAt, pathOfFileUrl, registeredExtensions, type NextResolve, type ResolveContext, type ResolveResult } from '../loader/node.js';
import { pipeline, type ResolveStep, type Steps } from '../loader/pipeline.js';

/** What a run's lookups came to, for `coldstart doctor`. */
export interface LookupCounts {
  /** Answered from the index with a file. */
  hits: number;
  /** The index says Node would fail; Node is asked anyway and raises its own error. */
  notFound: number;
  /** The index could not answer; Node resolved it. */
  fellThrough: number;
  /** Builtins, data:, URLs and other specifiers passed straight to Node. */
  passed: number;
  /** import lookups (in-thread hooks only) that landed on a format other than CommonJS, JSON or
   *  a builtin: what keeps a run from being learned small (src/step-aside-learn.ts). */
  esModuleImports: number;
}

export function newCounts(): LookupCounts {
  return { hits: 0, notFound: 0, fellThrough: 0, passed: 0, esModuleImports: 0 };
}

/** More files than this landed on without a format: the run is no small program anyway, and the set stops growing. */
const UNSURE_MAX = 64;

/**
 * Counts an import's answer that may be an ES module: a format other than CommonJS, JSON or a
 * builtin; without a format (a `.js` file), its URL goes to `unsure`, which the learning of
 * small programs checks against require.cache at exit.
 */
function noteImport(counts: LookupCounts, unsure: Set<string>, url: string, format: string | null | undefined): void {
  if (format === 'commonjs' || format === 'json' || format === 'builtin') return;
  if (format !== undefined && format !== null) counts.esModuleImports++;
  else if (unsure.size >= UNSURE_MAX) counts.esModuleImports++;
  else unsure.add(url);
}

/** require.extensions in probing order, only when a loader changed it (else the resolver's default). */
function extensions(): readonly string[] | undefined {
  const keys = registeredExtensions();
  return keys.length === 3 && keys[0] === '.js' && keys[1] === '.json' && keys[2] === '.node' ? undefined : keys;
}

/** Specifiers the index never answers: builtins, URLs and data:, which are Node's. */
export function skip(specifier: string): boolean {
  // Relative and absolute paths, the bulk of a program's lookups, are never skipped.
  const first = specifier.charCodeAt(0);
  if (first === 46 /* . */ || first === 47 /* / */) return false;
  // Builtins, data: and other URLs are Node's; so are specifiers a loader may rewrite.
  return hasScheme(specifier) || isBuiltin(specifier);
}

/** `scheme:` at the start, as in a URL (a letter, then letters, digits, `+`, `.`, `-`). A scan,
 *  not a regular expression: compiling one at its first use showed up in start-up profiles. */
export function hasScheme(specifier: string): boolean {
  for (let i = 0; i < specifier.length; i++) {
    const code = specifier.charCodeAt(i);
    const lower = code | 0x20; // maps A-Z onto a-z, and nothing else onto a-z
    if (lower >= 97 && lower <= 122) continue;
    if (i === 0) return false;
    if (code === 58 /* : */) return true;
    if (!(code >= 48 && code <= 57) && code !== 43 /* + */ && code !== 46 /* . */ && code !== 45 /* - */) return false;
  }
  return false;
}

/** An answerer asked before the index (the pack's recorded answers): a path and format, or undefined. */
export type FirstAnswer = (dir: string, specifier: string, mode: 'r' | 'i') => { readonly path: string; readonly format: string } | undefined;

/** The view the hooks read: the index's, which can also vouch for a learned answer and say
 *  where it lists no files (first-party directories). */
export type HookView = ResolutionView & { answerStillValid?(path: string, fromDir?: string): boolean; knowsFilesIn?(dir: string): boolean };

/**
 * Resolves through the learned-answers table first (one map lookup), then the resolver; a new
 * file answer is learned for the next run. Only requests with Node's default extensions are
 * learned, since a loader that adds extensions changes the answers.
 */
function answer(view: HookView, table: AnswerTable | undefined, request: ResolveRequest, conditionsKey: string, first?: FirstAnswer): Resolution {
  if (first !== undefined && request.parentPath !== undefined) {
    const found = first(dirname(request.parentPath), request.specifier, request.mode === 'require' ? 'r' : 'i');
    if (found !== undefined) return { kind: 'file', path: found.path, format: found.format === '' ? undefined : found.format };
  }
  // A relative import between first-party files: the index lists no files there, so the
  // resolver could only give up, after building paths and URLs. Straight to Node.
  if (request.parentPath !== undefined && isRelativeRequest(request.specifier) && view.knowsFilesIn !== undefined) {
    const dir = dirname(join(dirname(request.parentPath), request.specifier));
    if (!view.knowsFilesIn(dir)) return { kind: 'unknown', reason: `${dir} is not listed in the index (first-party files are Node's to find)` };
  }
  const key =
    table !== undefined && request.extensions === undefined && request.parentPath !== undefined
      ? table.key(request.mode, conditionsKey, request.parentPath, request.specifier)
      : undefined;
  if (key !== undefined) {
    const known = table!.get(key);
    if (known !== undefined && (view.answerStillValid?.(known.path, dirname(request.parentPath!)) ?? true)) {
      table!.served++;
      return { kind: 'file', path: known.path, format: known.format };
    }
  }
  const result = resolve(view, request);
  // Learned only where the tree is as the index was built: one found while a sub-project's
  // node_modules was gone would be served again once it is back (its check compares with the build).
  if (key !== undefined && result.kind === 'file' && (view.answerStillValid?.(result.path, dirname(request.parentPath!)) ?? true)) table!.learn(key, result.path, result.format);
  return result;
}

/**
 * Joins the pipeline and returns the function that takes the index out again. The view, the
 * answer table and the counters are passed in: the steps hold no state of their own. `first`
 * is left out where the pack has joined at the same point: it has been asked already.
 */
export function installResolveHook(view: HookView, counts: LookupCounts, table?: AnswerTable, first?: FirstAnswer, viaRegisterHooks = has('registerHooks')): { leave: () => void; steps: Steps; unsureImports?: ReadonlySet<string> } {
  const asked = pipeline().provides('pack', viaRegisterHooks ? 'hooks' : 'resolveFilename');
  if (viaRegisterHooks) return joinAsHook(view, counts, table, asked ? undefined : first);
  return joinAsResolveStep(view, counts, table, asked ? undefined : first);
}

function joinAsHook(view: HookView, counts: LookupCounts, table: AnswerTable | undefined, first: FirstAnswer | undefined): { leave: () => void; steps: Steps; unsureImports: ReadonlySet<string> } {
  const unsure = new Set<string>();
  const parents = new Map<string, string>();
  const urls = new Map<string, string>();
  const trace = debugEnabled();
  const foreign = foreignLoadHooks();
  const hook = (specifier: string, context: ResolveContext, nextResolve: NextResolve): ResolveResult => {
    const parentURL = context.parentURL;
    // Hooks that run after this one (module.register's, an earlier preload's) must see every lookup.
    if (foreign.after || parentURL === undefined || !parentURL.startsWith('file:') || skip(specifier)) {
      counts.passed++;
      if (isBuiltin(specifier) || (context.conditions ?? []).includes('require')) return nextResolve(specifier, context);
      const passed = nextResolve(specifier, context);
      noteImport(counts, unsure, passed.url, passed.format);
      return passed;
    }
    let parentPath = parents.get(parentURL);
    if (parentPath === undefined) {
      parentPath = pathOfFileUrl(parentURL);
      parents.set(parentURL, parentPath);
    }
    const conditions = context.conditions ?? [];
    const mode = conditions.includes('require') ? 'require' : 'import';
    // A require() from a module whose lookup paths were changed (requizzle) searches those: Node's.
    if (mode === 'require' && !ownLookupPathsAt(parentPath)) {
      counts.passed++;
      return nextResolve(specifier, context);
    }
    const result = answer(view, table, { specifier, parentPath, mode, conditions, extensions: mode === 'require' ? extensions() : undefined }, conditions.join(','), first);
    if (result.kind === 'file') {
      counts.hits++;
      let url = urls.get(result.path);
      if (url === undefined) {
        url = fileUrlOf(result.path);
        urls.set(result.path, url);
      }
      if (mode === 'import') noteImport(counts, unsure, url, result.format);
      // shortCircuit with a format: Node need not read package.json files to learn it.
      return result.format === undefined ? { url, shortCircuit: true } : { url, format: result.format, shortCircuit: true };
    }
    if (result.kind === 'not-found') {
      // A miss is handed to Node, which raises its own error (or finds a file added since
      // the build in a place the staleness checks do not watch): a miss is never wrong.
      counts.notFound++;
      if (trace) debug('index', `${specifier} from ${parentPath}: ${result.code} per the index; Node confirms`);
    } else if (result.kind === 'builtin') counts.passed++;
    else {
      counts.fellThrough++;
      if (trace) debug('index', `${specifier} from ${parentPath}: asking Node (${result.reason})`);
    }
    const resolved = nextResolve(specifier, context);
    if (mode === 'import' && result.kind !== 'builtin') noteImport(counts, unsure, resolved.url, resolved.format);
    return resolved;
  };
  const steps: Steps = { hooks: { resolve: hook } };
  return { leave: pipeline().join('index', steps), steps, unsureImports: unsure };
}

/** Node 20, and CommonJS programs on every Node: require() only, in require()'s resolution step. */
function joinAsResolveStep(view: HookView, counts: LookupCounts, table: AnswerTable | undefined, first: FirstAnswer | undefined): { leave: () => void; steps: Steps } {
  const conditions = cjsConditions();
  const conditionsKey = conditions.join(',');
  const trace = debugEnabled();
  const step: ResolveStep = (request, parent, isMain, options, next) => {
    const parentPath = parent?.filename;
    if (isMain || options?.paths !== undefined || typeof parentPath !== 'string' || typeof request !== 'string' || skip(request) || !ownLookupPaths(parent)) {
      counts.passed++;
      return next(request, parent, isMain, options);
    }
    const result = answer(view, table, { specifier: request, parentPath, mode: 'require', conditions, extensions: extensions() }, conditionsKey, first);
    if (result.kind === 'file') {
      counts.hits++;
      return result.path;
    }
    if (result.kind === 'not-found') counts.notFound++;
    else counts.fellThrough++;
    if (trace && result.kind === 'unknown') debug('index', `${request} from ${parentPath}: asking Node (${result.reason})`);
    return next(request, parent, isMain, options);
  };
  const steps: Steps = { resolveFilename: step };
  return { leave: pipeline().join('index', steps), steps };
}
