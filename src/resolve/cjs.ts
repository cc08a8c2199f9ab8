// Node's CommonJS resolution (Module._resolveFilename) over the view: "imports", self-reference,
// then for each lookup path "exports", the exact file, extension probing and directories.
import { dirname, isAbsolute, normalize, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageJson, packageScope, realpath, stat } from './facts.js';
import { isRelativeRequest, targetContext, type EsmContext } from './esm.js';
import { Failure, fail, giveUp } from './outcome.js';
import { resolveExports, resolveImports } from './targets.js';

export interface CjsContext extends EsmContext {
  readonly extensions: readonly string[];
}

const exportsPattern = /^((?:@[^/\\%]+\/)?[^./\\%][^/\\%]*)(\/.*)?$/;

function notFound(request: string, parentPath: string | undefined): never {
  const stack = parentPath ? `\nRequire stack:\n- ${parentPath}` : '';
  return fail('MODULE_NOT_FOUND', `Cannot find module '${request}'${stack}`);
}

/** Runs an ESM-side step the way Node's CommonJS loader does: ERR_MODULE_NOT_FOUND becomes
 *  MODULE_NOT_FOUND, every other error keeps its code. */
function esmStep<T>(request: string, parentPath: string | undefined, step: () => T): T {
  try {
    return step();
  } catch (error) {
    if (error instanceof Failure && error.code === 'ERR_MODULE_NOT_FOUND') notFound(request, parentPath);
    throw error;
  }
}

/** finalizeEsmResolution: an "exports"/"imports" answer must be a file (directories fail). */
function finalizeEsm(ctx: CjsContext, url: URL, parentPath: string | undefined): string {
  if (url.protocol !== 'file:' || url.host !== '') giveUp(`non-file URL ${url.href}`);
  if (url.search !== '' || url.hash !== '' || /%2f|%5c/i.test(url.pathname)) giveUp(`URL ${url.href} needs Node's own checks`);
  const filename = fileURLToPath(url);
  return tryFile(ctx, filename) || notFound(filename, parentPath);
}

function tryFile(ctx: CjsContext, path: string): string | false {
  return stat(ctx.view, path) === 0 ? realpath(ctx.view, path) : false;
}

function tryExtensions(ctx: CjsContext, base: string): string | false {
  for (const ext of ctx.extensions) {
    const found = tryFile(ctx, base + ext);
    if (found) return found;
  }
  return false;
}

/** LOAD_AS_DIRECTORY: "main" as a file, with extensions, as a directory index; then index.*;
 *  a "main" that finds nothing and no index.* stops the whole search with an error. */
function tryPackage(ctx: CjsContext, dir: string): string | false {
  const main = packageJson(ctx.view, dir)?.main;
  if (!main) return tryExtensions(ctx, resolvePath(dir, 'index'));
  const filename = resolvePath(dir, main);
  const found = tryFile(ctx, filename) || tryExtensions(ctx, filename) || tryExtensions(ctx, resolvePath(filename, 'index'));
  if (found) return found;
  // Node warns (DEP0128) when index.* rescues a bad "main"; only Node can emit that warning.
  if (tryExtensions(ctx, resolvePath(dir, 'index'))) giveUp(`invalid "main" in ${dir} (Node warns)`);
  return fail('MODULE_NOT_FOUND', `Cannot find module '${filename}'. Please verify that the package.json has a valid "main" entry`);
}

/** Module._nodeModulePaths: every ancestor's node_modules, skipping node_modules segments. */
export function nodeModulePaths(from: string): string[] {
  if (from === '/') return ['/node_modules'];
  const paths: string[] = [];
  let dir = from;
  while (dir !== '/') {
    if (!dir.endsWith('/node_modules')) paths.push(`${dir}/node_modules`);
    dir = dirname(dir);
  }
  paths.push('/node_modules');
  return paths;
}

/** The "exports" of a package found in node_modules directory `nmPath`, if it has any. */
function tryExports(ctx: CjsContext, nmPath: string, request: string, parentPath: string | undefined): string | false {
  const match = exportsPattern.exec(request);
  if (!match) return false;
  const pkgDir = resolvePath(nmPath, match[1]!);
  if (stat(ctx.view, pkgDir) !== 1) return false;
  const pkg = packageJson(ctx.view, pkgDir);
  if (pkg === null || pkg.exports === undefined || pkg.exports === null) return false;
  return esmStep(request, parentPath, () =>
    finalizeEsm(ctx, resolveExports(targetContext(ctx, pkg, undefined, false), pkg.exports, '.' + (match[2] ?? '')), parentPath));
}

function hasTrailingSlash(request: string): boolean {
  if (request.endsWith('/')) return true;
  return request === '.' || request === '..' || request.endsWith('/.') || request.endsWith('/..');
}

/** Module._findPath over `paths`. */
function findPath(ctx: CjsContext, request: string, paths: readonly string[], parentPath: string | undefined): string | false {
  const absolute = isAbsolute(request);
  if (absolute) paths = [''];
  const trailingSlash = hasTrailingSlash(request);
  const insidePath = !(isRelativeRequest(request) && normalize(request).startsWith('..'));
  for (const curPath of paths) {
    if (insidePath && curPath && stat(ctx.view, curPath) < 1) continue;
    if (!absolute) {
      const exported = tryExports(ctx, curPath, request, parentPath);
      if (exported) return exported;
    }
    const basePath = resolvePath(curPath || '/', request);
    const rc = stat(ctx.view, basePath);
    let filename: string | false = false;
    if (!trailingSlash) {
      if (rc === 0) filename = realpath(ctx.view, basePath);
      if (!filename) filename = tryExtensions(ctx, basePath);
    }
    if (!filename && rc === 1) filename = tryPackage(ctx, basePath);
    if (filename) return filename;
  }
  return false;
}

/** Module._resolveFilename for a non-builtin request; `parentPath` undefined is the entry. */
export function cjsResolve(ctx: CjsContext, request: string, parentPath: string | undefined): string {
  if (request[0] === '#' && parentPath) {
    const scope = packageScope(ctx.view, parentPath);
    if (scope && scope.imports !== undefined && scope.imports !== null) {
      // A non-object "imports" is skipped by Node 22+ and rejected by Node 20.
      if (typeof scope.imports !== 'object') giveUp('"imports" is not an object');
      return esmStep(request, parentPath, () =>
        finalizeEsm(ctx, resolveImports(targetContext(ctx, scope, parentPath, true), scope.imports, request, parentPath), parentPath));
    }
  }
  if (parentPath) {
    const self = packageScope(ctx.view, parentPath);
    if (self && self.exports !== undefined && self.name !== undefined) {
      const name = self.name;
      const expansion = request === name ? '.' : request.startsWith(`${name}/`) ? '.' + request.slice(name.length) : undefined;
      if (expansion !== undefined) {
        // Node 20 skips a null "exports" here while Node 22+ does not; let Node decide.
        if (self.exports === null) giveUp('self-reference with "exports": null');
        return esmStep(request, parentPath, () =>
          finalizeEsm(ctx, resolveExports(targetContext(ctx, self, parentPath, false), self.exports, expansion), parentPath));
      }
    }
  }
  let paths: readonly string[];
  const bare = request[0] !== '.' || (request.length > 1 && request[1] !== '.' && request[1] !== '/');
  if (bare) {
    paths = parentPath ? [...nodeModulePaths(dirname(parentPath)), ...ctx.view.nodePath] : ctx.view.nodePath;
  } else {
    if (!parentPath) giveUp('relative request without a parent resolves from the working directory');
    paths = [dirname(parentPath)];
  }
  if (paths.length === 0 && !isAbsolute(request)) notFound(request, parentPath);
  return findPath(ctx, request, paths, parentPath) || notFound(request, parentPath);
}
