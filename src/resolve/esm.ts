// Node's ESM resolution (the `import` algorithm) over the view: no extension probing, no
// directory index, package.json "exports"/"imports", legacy "main" with its probing quirk.
import { isBuiltin } from 'node:module';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isFile, packageJson, packageScope, stat, realpath } from './facts.js';
import { fail, giveUp } from './outcome.js';
import { resolveExports, resolveImports, type TargetContext } from './targets.js';
import type { PackageFacts, ResolutionView } from './view.js';

/** Where an ESM resolution ends before finalisation: a file URL or a builtin. */
export type EsmTarget = { readonly url: URL } | { readonly builtin: string };

export interface EsmContext {
  readonly view: ResolutionView;
  readonly conditions: ReadonlySet<string>;
}

/** A bare name's package name and subpath ('.' or './x'); gives up on names Node rejects. */
export function parsePackageName(specifier: string): { name: string; subpath: string; scoped: boolean } {
  let separator = specifier.indexOf('/');
  const scoped = specifier.startsWith('@');
  if (scoped) {
    if (separator === -1) giveUp(`invalid package name ${specifier}`);
    separator = specifier.indexOf('/', separator + 1);
  }
  const name = separator === -1 ? specifier : specifier.slice(0, separator);
  if (name === '' || name.startsWith('.') || name.includes('%') || name.includes('\\')) giveUp(`invalid package name ${specifier}`);
  return { name, subpath: '.' + (separator === -1 ? '' : specifier.slice(separator)), scoped };
}

export function targetContext(ctx: EsmContext, pkg: PackageFacts, base: string | undefined, internal: boolean): TargetContext {
  return {
    pjsonUrl: pathToFileURL(join(pkg.dir, 'package.json')),
    conditions: ctx.conditions,
    base,
    internal,
    resolveBare: (specifier, pjsonUrl) => {
      // Node resolves it from the package.json, and names that file in its errors.
      const target = packageResolve(ctx, specifier, fileURLToPath(pjsonUrl), undefined);
      if ('builtin' in target) giveUp(`"imports" target ${specifier} is a builtin`);
      return target.url;
    },
  };
}

/** LEGACY_MAIN_RESOLVE: "main" with CommonJS-style guesses, then index.*, all as files. */
function legacyMain(ctx: EsmContext, pkgDir: string, pkg: PackageFacts | null, base: string): URL {
  const pjsonUrl = pathToFileURL(join(pkgDir, 'package.json'));
  const main = pkg?.main;
  if (main !== undefined && main !== '') {
    if (/[%?#\\]/.test(main)) giveUp(`"main" ${main} needs URL decoding`);
    const initial = fileURLToPath(new URL(`./${main}`, pjsonUrl));
    for (const suffix of ['', '.js', '.json', '.node', '/index.js', '/index.json', '/index.node']) {
      // A "main" ending in '/' gives 'lib//index.js', which the file system reads as one '/'.
      const guess = normalize(initial + suffix);
      if (guess.endsWith('/')) continue;
      if (isFile(ctx.view, guess)) return pathToFileURL(guess);
    }
  }
  for (const name of ['index.js', 'index.json', 'index.node']) {
    const guess = join(pkgDir, name);
    if (isFile(ctx.view, guess)) return pathToFileURL(guess);
  }
  return fail('ERR_MODULE_NOT_FOUND', `Cannot find package '${pkgDir}/' imported from ${base}`);
}

/** PACKAGE_RESOLVE from `basePath` (a file, or a package.json for "imports" targets). */
export function packageResolve(ctx: EsmContext, specifier: string, basePath: string, messageBase: string | undefined): EsmTarget {
  if (isBuiltin(specifier) && !specifier.startsWith('node:')) return { builtin: `node:${specifier}` };
  const { name, subpath } = parsePackageName(specifier);
  const shownBase = messageBase ?? basePath;
  const self = packageScope(ctx.view, basePath);
  if (self !== null && self.exports !== undefined && self.exports !== null && self.name === name) {
    return { url: resolveExports(targetContext(ctx, self, messageBase, false), self.exports, subpath) };
  }
  // Every directory from the base's upward, node_modules segments included (unlike CommonJS).
  let dir = dirname(basePath);
  while (true) {
    const pkgDir = join(dir, 'node_modules', name);
    if (stat(ctx.view, pkgDir) === 1) {
      const pkg = packageJson(ctx.view, pkgDir);
      if (pkg !== null && pkg.exports !== undefined && pkg.exports !== null) {
        return { url: resolveExports(targetContext(ctx, pkg, messageBase, false), pkg.exports, subpath) };
      }
      if (subpath === '.') return { url: legacyMain(ctx, pkgDir, pkg, shownBase) };
      if (/[%?#\\]/.test(subpath)) giveUp(`subpath ${subpath} needs URL decoding`);
      return { url: new URL(subpath, pathToFileURL(join(pkgDir, 'package.json'))) };
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return fail('ERR_MODULE_NOT_FOUND', `Cannot find package '${name}' imported from ${shownBase}`);
}

/** FINALIZE: the URL must name a file (not a directory); the answer is its real path. */
export function finalize(ctx: EsmContext, url: URL, base: string): string {
  if (url.protocol !== 'file:') giveUp(`non-file URL ${url.href}`);
  if (url.host !== '') giveUp(`file URL with a host ${url.href}`);
  if (url.search !== '' || url.hash !== '') giveUp('query or fragment in the resolved URL');
  if (/%2f|%5c/i.test(url.pathname)) giveUp('encoded separator in the resolved URL');
  const path = fileURLToPath(url);
  // Node stats only the last character of a path ending in '/' (that is, '/'), so every such
  // path is a directory import, whatever is on disk.
  const kind = path.endsWith('/') ? 1 : stat(ctx.view, path);
  if (kind === 1) {
    fail('ERR_UNSUPPORTED_DIR_IMPORT', `Directory import '${path}' is not supported resolving ES modules imported from ${base}`);
  }
  if (kind !== 0) fail('ERR_MODULE_NOT_FOUND', `Cannot find module '${path}' imported from ${base}`);
  return realpath(ctx.view, path);
}

/** `.`, `..`, `./x` or `../x`: relative to the importing (or requiring) file. */
export function isRelativeRequest(request: string): boolean {
  return request[0] === '.' && (request.length === 1 || request[1] === '/' ||
    (request[1] === '.' && (request.length === 2 || request[2] === '/')));
}

function isRelativeOrAbsolute(specifier: string): boolean {
  return specifier[0] === '/' || isRelativeRequest(specifier);
}

/** ESM_RESOLVE for a parent file; returns a real path or a builtin id. */
export function esmResolve(ctx: EsmContext, specifier: string, parentPath: string): EsmTarget & ({ path: string } | { builtin: string }) {
  const base = pathToFileURL(parentPath);
  let url: URL;
  if (isRelativeOrAbsolute(specifier)) {
    url = new URL(specifier, base);
  } else if (specifier[0] === '#') {
    const scope = packageScope(ctx.view, parentPath);
    const tctx = scope ? targetContext(ctx, scope, parentPath, true) : undefined;
    url = resolveImports(tctx, scope?.imports, specifier, parentPath);
  } else if (URL.canParse(specifier)) {
    url = new URL(specifier);
  } else {
    const target = packageResolve(ctx, specifier, parentPath, parentPath);
    if ('builtin' in target) return { builtin: target.builtin };
    url = target.url;
  }
  return { url, path: finalize(ctx, url, parentPath) };
}
