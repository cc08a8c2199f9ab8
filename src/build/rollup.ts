// `coldstart/rollup`: a Rollup plugin (also for Vite and Rolldown builds) that lowers
// `import defer` and makes imports of configured packages lazy. An external module is resolved
// when its importer evaluates and loaded with require() at first use; a bundled one becomes a
// chunk of its own, which require() loads synchronously at first use (require(esm), Node 20.19+).
import { helperModule, helperSpecifier } from './helper.js';
import { lowerDefer, planLowering } from './lower.js';
import { awaitsAtTopLevel, externalTargetAwaits, inNodeModules, resolvePluginOptions, sourceFile, type DeferPluginOptions, type ResolvedPluginOptions } from './options.js';
import type { DeferSite } from '../defer/sites.js';

export type { DeferPluginOptions } from './options.js';

/** The hooks this plugin has, typed so that the object is a Rollup (or Vite, Rolldown) `Plugin`
 *  without this package's types depending on Rollup's. */
export interface RollupPlugin {
  name: string;
  buildStart(): void;
  resolveId(id: string): string | null;
  load(id: string): string | null;
  transform(this: any, code: string, id: string): Promise<{ code: string; map: string } | null>;
  resolveImportMeta(property: string | null, options: { moduleId: string; format: string }): string | null;
}

const helperId = `\0${helperSpecifier}`;

export function coldstartDefer(options: DeferPluginOptions = {}): RollupPlugin {
  let settings: ResolvedPluginOptions | undefined;
  /** Modules this plugin rewrote: only their `import.meta.resolve` is given a CommonJS meaning. */
  const lowered = new Set<string>();
  return {
    name: 'coldstart-defer',
    buildStart() {
      settings = resolvePluginOptions(options, process.cwd());
    },
    resolveId(id: string) {
      return id === helperSpecifier ? helperId : null;
    },
    load(id: string) {
      return id === helperId ? helperModule() : null;
    },
    async transform(this: any, code: string, id: string) {
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
      for (const site of plan.sites) {
        if (site.keep) continue;
        const specifier = JSON.stringify(site.specifier);
        const resolved = (await this.resolve(site.specifier, id)) as { id: string; external: boolean | string } | null;
        if (resolved === null || resolved.external) {
          // Rollup rewrites the paths of relative externals; a string we pass along it would not.
          const relative = site.specifier.startsWith('.');
          loads.set(site, relative || externalTargetAwaits(id, site.specifier) ? undefined : `__coldstart_load(import.meta.url, import.meta.resolve(${specifier}))`);
        } else if (resolved.id.startsWith('\0') || awaitsAtTopLevel(resolved.id)) {
          loads.set(site, undefined);
        } else {
          const ref = this.emitFile({ type: 'chunk', id: resolved.id, preserveSignature: 'strict' }) as string;
          loads.set(site, `__coldstart_load(import.meta.url, import.meta.ROLLUP_FILE_URL_${ref})`);
        }
      }
      const result = lowerDefer(code, id, plan, { loadOf: (site) => loads.get(site), helper: { from: helperSpecifier } });
      if (result === undefined) return null;
      lowered.add(id);
      return { code: result.code, map: result.map };
    },
    resolveImportMeta(property: string | null, { moduleId, format }: { moduleId: string; format: string }) {
      // CommonJS output: the require() resolution of the same specifier (as its eager imports get).
      if (property === 'resolve' && format === 'cjs' && lowered.has(moduleId)) return 'require.resolve';
      return null;
    },
  };
}

export default coldstartDefer;
