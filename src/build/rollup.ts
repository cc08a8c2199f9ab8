// `coldstart/rollup`: a Rollup plugin (Vite and Rolldown take it too) that lowers `import defer`
// and makes imports of configured packages lazy. An external module is resolved when its
// importer evaluates and loaded with require() at first use; a bundled one becomes a chunk of its
// own, which require() loads synchronously at first use (require(esm), Node 20.19+). The helper
// is inlined into each rewritten module (Rollup drops what a module does not call): an import of
// a helper module could be caught by the project's own `external` rule.
import { readFileSync } from 'node:fs';
import { formatOf } from '../resolve/facts.js';
import { createFsView } from '../resolve/fs-view.js';
import { helperInline } from './helper.js';
import { lowerDefer, planLowering } from './lower.js';
import { awaitsAtTopLevel, externalTargetAwaits, inNodeModules, resolvePluginOptions, sourceFile, sourceFormat, type DeferPluginOptions, type ResolvedPluginOptions } from './options.js';
import type { DeferSite } from '../defer/sites.js';

export type { DeferPluginOptions } from './options.js';

/** The hooks this plugin has, typed so that the object is a Rollup (or Vite, Rolldown) `Plugin`
 *  without this package's types depending on Rollup's. */
export interface RollupPlugin {
  name: string;
  /** Vite: before its own plugins, so that the chunk file names below are ours to write. */
  enforce: 'pre';
  buildStart(): void;
  transform(this: any, code: string, id: string): Promise<{ code: string; map: string } | null>;
  resolveFileUrl(options: { referenceId: string; relativePath: string }): string | null;
}

/** Whether the file Rollup resolved is CommonJS by Node's rules (or, for a `.js` Node decides, by its syntax). */
function isCommonJs(file: string): boolean {
  try {
    const known = formatOf(createFsView(), file);
    if (known === 'commonjs' || known === 'module') return known === 'commonjs';
    return sourceFormat(file, readFileSync(file, 'utf8')) === 'commonjs';
  } catch {
    return false;
  }
}

export function coldstartDefer(options: DeferPluginOptions = {}): RollupPlugin {
  let settings: ResolvedPluginOptions | undefined;
  /** The chunks this plugin emitted: their URLs are written as paths relative to the importer. */
  const references = new Set<string>();
  return {
    name: 'coldstart-defer',
    enforce: 'pre',
    buildStart() {
      settings = resolvePluginOptions(options, process.cwd());
    },
    async transform(code: string, id: string) {
      settings ??= resolvePluginOptions(options, process.cwd());
      if (id.startsWith('\0') || !sourceFile.test(id) || (!settings.deferNodeModules && inNodeModules(id))) return null;
      let plan;
      try {
        plan = planLowering(code, id, 'module', settings.defer);
      } catch {
        return null; // Rollup reports the syntax error itself
      }
      if (plan === undefined) return null;
      const loads = new Map<DeferSite, string | undefined>();
      const commonjs = new Set<DeferSite>();
      for (const site of plan.sites) {
        if (site.keep) continue;
        const specifier = JSON.stringify(site.specifier);
        const resolved = (await this.resolve(site.specifier, id)) as { id: string; external: boolean | string } | null;
        if (resolved === null || resolved.external) {
          // Rollup rewrites the paths of relative externals; a string passed along it would not.
          const relative = site.specifier.startsWith('.');
          // import.meta.resolve is undefined in CommonJS output: the helper then uses require.resolve.
          loads.set(site, relative || externalTargetAwaits(id, site.specifier) ? undefined : `__coldstart_external(import.meta.url, import.meta.resolve, ${specifier})`);
        } else if (resolved.id.startsWith('\0') || awaitsAtTopLevel(resolved.id)) {
          loads.set(site, undefined);
        } else {
          const ref = this.emitFile({ type: 'chunk', id: resolved.id, preserveSignature: 'strict' }) as string;
          references.add(ref);
          if (isCommonJs(resolved.id)) commonjs.add(site);
          loads.set(site, `__coldstart_load(import.meta.url, import.meta.ROLLUP_FILE_URL_${ref})`);
        }
      }
      const result = lowerDefer(code, id, plan, { loadOf: (site) => loads.get(site), commonjsTarget: (site) => commonjs.has(site), helper: { inline: helperInline() } });
      if (result === undefined) return null;
      return { code: result.code, map: result.map };
    },
    resolveFileUrl({ referenceId, relativePath }: { referenceId: string; relativePath: string }) {
      // A path relative to the importing chunk, which require() from it resolves: right in ES
      // module and CommonJS output alike, whatever `base` a Vite build has.
      if (!references.has(referenceId)) return null;
      return JSON.stringify(relativePath.startsWith('.') ? relativePath : `./${relativePath}`);
    },
  };
}

export default coldstartDefer;
