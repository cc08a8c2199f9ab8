// The defer transform, a pure function of (source, file, format, options): rewrites
// `import defer * as ns from "x"` and, for configured modules, ordinary imports and top-level
// requires into reads through a lazily evaluated namespace. Inserts no line breaks, so line
// numbers survive even without the inline source map it attaches.
import MagicString from 'magic-string';
import { mayNeedTransform, specifierPrefix } from './detect.js';
import { insertAfterDirectives, keepLines, planDefer, position, rewriteReferences } from './sites.js';
import type { Node } from './scope.js';

export { exportFacts, hasTopLevelAwait, parseCount } from './sites.js';

export interface TransformOptions {
  /** Auto-defer patterns (package names, globs); empty for none. */
  readonly defer: readonly string[];
  /** COLDSTART_EAGER: `import defer` becomes a plain import, nothing is auto-deferred. */
  readonly eager: boolean;
  /** Node evaluates `import defer` itself (--js-defer-import-eval): leave those statements alone. */
  readonly nativeImportDefer: boolean;
  /** Absolute path of the CommonJS bundle (dist/index.cjs) that CommonJS rewrites require for lazyModules. */
  readonly lazyRuntimePath: string;
  /** Attach an inline source map (skipped when the file already names its own map). */
  readonly sourceMap: boolean;
}

export interface TransformResult {
  readonly code: string;
  /** What was rewritten, for debug lines and tests. */
  readonly deferred: readonly string[];
}

/** Rewrites `source`; undefined when nothing in it needs rewriting. */
export function transformDefer(source: string, file: string, format: string | undefined, options: TransformOptions): TransformResult | undefined {
  if (!mayNeedTransform(source, options.eager ? [] : options.defer)) return undefined;
  const plan = planDefer(source, file, format, { ...options, dynamic: true });
  if (plan === undefined) return undefined;
  const s = new MagicString(source);
  const deferred: string[] = [];
  const virtual = (offset: number, specifier: string) => {
    const { line, column } = position(source, offset);
    return JSON.stringify(`${specifierPrefix}${line}:${column}:${specifier}`);
  };
  for (const site of plan.sites) {
    if (site.keep) continue;
    deferred.push(site.kind === 'import-defer' ? `import defer ${site.specifier}` : site.specifier);
    if (site.kind === 'import-defer' && options.eager) {
      // COLDSTART_EAGER: the statement loses only its `defer` keyword.
      s.overwrite(site.start, site.start + source.slice(site.start, site.end).indexOf('*'), 'import ', { contentOnly: true });
      continue;
    }
    let text: string;
    if (site.kind === 'require') {
      text = `${site.object} = ${lazyRuntimeName}(__filename, { m: ${JSON.stringify(site.specifier)} })`;
    } else {
      text = `import ${site.object} from ${virtual(site.start, site.specifier)}${site.attributes ?? ''};`;
    }
    s.overwrite(site.start, site.end, keepLines(source, site.start, site.end, text), { contentOnly: true });
  }
  for (const call of plan.calls) {
    const head = call.start as number;
    const args = (call['source'] as Node).start as number;
    deferred.push('import.defer()');
    // COLDSTART_EAGER: an ordinary import(). Otherwise import() of the stand-in, whose default
    // export is the deferred namespace: the module is resolved and loaded ahead (and an awaiting
    // one evaluated) while the promise is pending, as the proposal says. The specifier is made a
    // string inside import(), so that a failing conversion rejects the promise instead of throwing.
    const { line, column } = position(source, head);
    const text = options.eager
      ? 'import('
      : `((s, o) => import({ toString: () => ${JSON.stringify(`${specifierPrefix}${line}:${column}:`)} + \`\${s}\` }, o).then((m) => m.default))(`;
    s.overwrite(head, args, keepLines(source, head, args, text), { contentOnly: true });
  }
  rewriteReferences(s, plan, source);
  if (plan.commonjs && plan.sites.some((site) => site.kind === 'require' && !site.keep)) {
    insertAfterDirectives(s, plan.program, source, `const { lazyModules: ${lazyRuntimeName} } = require(${JSON.stringify(options.lazyRuntimePath)}); `);
  }

  if (deferred.length === 0) return undefined;
  let code = s.toString();
  if (options.sourceMap) {
    const upstream = inlineMap.exec(source);
    if (upstream !== null) {
      // Another loader's output (tsx, a TypeScript compiler) with its own inline map: ours is
      // chained onto it, so stack traces still name the lines of the file the user wrote.
      const composed = chainMap(s.generateMap({ hires: true, source: file }).toString(), upstream[1]!, file);
      if (composed !== undefined) code = `${code.slice(0, code.length - (source.length - upstream.index))}${mapComment(composed)}`;
    } else if (!/\/\/[#@] sourceMappingURL=/.test(source)) {
      code += `\n${mapComment(s.generateMap({ hires: 'boundary', source: file, includeContent: true }).toString())}\n`;
    }
  }
  return { code, deferred };
}

/** A trailing inline source map comment, its base64 JSON captured. */
const inlineMap = /\/\/[#@] sourceMappingURL=data:application\/json;(?:charset=utf-8;)?base64,([A-Za-z0-9+/=]+)\s*$/;

function mapComment(json: string): string {
  return `//# sourceMappingURL=data:application/json;charset=utf-8;base64,${Buffer.from(json).toString('base64')}`;
}

/** Our map (output -> the loader's output) traced through the loader's (-> the original); undefined when unreadable. */
function chainMap(ours: string, upstreamBase64: string, file: string): string | undefined {
  try {
    const upstream = JSON.parse(Buffer.from(upstreamBase64, 'base64').toString('utf8')) as object;
    // Loaded on first need: only files that arrive with an inline map from another loader pay.
    const require = process.getBuiltinModule('node:module').createRequire(import.meta.url);
    const remapping = require('@jridgewell/remapping') as (map: string, loader: (source: string) => object | null) => { toString(): string };
    // Asked once: the loader's map names the same file as its source, which must end the chain.
    let given = false;
    return remapping(ours, (source) => {
      if (given || source !== file) return null;
      given = true;
      return upstream;
    }).toString();
  } catch {
    return undefined;
  }
}

const lazyRuntimeName = '__coldstart_lazyModules';

