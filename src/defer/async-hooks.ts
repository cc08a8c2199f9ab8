// The defer hooks as Node 20 runs them: asynchronous, in the loader worker that
// `module.register` starts. Same decisions as the in-thread hooks (load-core), awaited.
import { isStandInSpecifier } from './detect.js';
import {
  knownTargetFacts,
  cjsNamespaceNames,
  requirable,
  namespaceNames,
  makeState,
  mayBeAsyncModule,
  parseVirtual,
  readVirtualURL,
  sourceText,
  targetFacts,
  transformLoaded,
  virtualSource,
  virtualURL,
  type DeferSettings,
  type DeferState,
  type TargetFacts,
  attributesToCheck,
  explainLoadError,
} from './load-core.js';

type NextResolve = (specifier: string, context?: object) => Promise<{ url: string; format?: string | null }>;
type NextLoad = (url: string, context?: object) => Promise<{ format?: string | null; source?: unknown }>;

let state: DeferState | undefined;

export function initialize(data: DeferSettings): void {
  state = makeState(data);
}

export async function resolve(specifier: string, context: { parentURL?: string }, next: NextResolve): Promise<unknown> {
  if (!isStandInSpecifier(specifier)) return next(specifier, context);
  const virtual = parseVirtual(specifier);
  if (virtual === undefined) return next(specifier, context);
  const resolved = await next(virtual.specifier, context);
  return { url: virtualURL(resolved.url, resolved.format, virtual.specifier, context.parentURL ?? '', virtual.line, virtual.column, virtual.checked), format: 'module', shortCircuit: true };
}

export async function load(url: string, context: { format?: string | null }, next: NextLoad): Promise<unknown> {
  if (state === undefined) return next(url, context);
  const module = readVirtualURL(url);
  if (module !== undefined) {
    const attributes = (context as { importAttributes?: Record<string, unknown> }).importAttributes;
    if (attributesToCheck(module, attributes)) await next(module.url, { format: module.format || undefined, importAttributes: attributes ?? {} });
    let facts: TargetFacts | undefined;
    let cjsNames: readonly string[] | undefined;
    if (mayBeAsyncModule(module)) {
      facts = knownTargetFacts(state, module.url);
      if (facts === undefined) {
        const target = await next(module.url, { format: undefined, importAttributes: {} });
        const text = sourceText(target.source);
        if (text !== undefined) facts = targetFacts(state, module.url, target.format ?? undefined, text);
      }
    } else if (module.format === 'commonjs' && requirable(module.url)) {
      cjsNames = cjsNamespaceNames(state, module.url);
    }
    const names = facts === undefined ? cjsNames : namespaceNames(state, module.url, facts);
    return { format: 'module', source: virtualSource(module, facts?.tla === true || names === 'at-import', false, names === 'at-import' ? undefined : names), shortCircuit: true };
  }
  let result: Awaited<ReturnType<NextLoad>>;
  try {
    result = await next(url, context);
  } catch (error) {
    throw explainLoadError(error);
  }
  // CommonJS is compiled by the patched CommonJS loader on the main thread, not here.
  if (!url.startsWith('file:') || (result.format !== 'module' && result.format !== 'module-typescript')) return result;
  const text = sourceText(result.source);
  if (text === undefined) return result;
  const code = transformLoaded(state, url, result.format ?? undefined, text);
  return code === undefined ? result : { ...result, source: code };
}
