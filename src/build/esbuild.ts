// `coldstart/esbuild`: an esbuild plugin that lowers `import defer` and makes imports of
// configured packages lazy in the bundle, so that the output needs no hooks at run time. An
// external module is resolved when its importer evaluates and loaded with require() at first
// use; a bundled one stays in the bundle behind esbuild's lazy module wrapper (esbuild cannot
// load a split chunk synchronously).
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { helperModule, helperInline, helperSpecifier } from './helper.js';
import { lowerDefer, planLowering } from './lower.js';
import { awaitsAtTopLevel, externalTargetAwaits, inNodeModules, resolvePluginOptions, sourceFile, sourceFormat, type DeferPluginOptions } from './options.js';
import type { DeferSite } from '../defer/sites.js';

export type { DeferPluginOptions } from './options.js';

/** The part of esbuild's plugin API this plugin uses (esbuild's own `Plugin` is compatible). */
export interface EsbuildPlugin {
  name: string;
  setup(build: any): void;
}

const loaders: Record<string, string> = { ts: 'ts', mts: 'ts', cts: 'ts', tsx: 'tsx', jsx: 'jsx', js: 'js', mjs: 'js', cjs: 'js' };

export function coldstartDefer(options: DeferPluginOptions = {}): EsbuildPlugin {
  return {
    name: 'coldstart-defer',
    setup(build) {
      const initial = build.initialOptions as { absWorkingDir?: string; format?: string; platform?: string; bundle?: boolean };
      const settings = resolvePluginOptions(options, initial.absWorkingDir ?? process.cwd());
      const bundling = initial.bundle === true;
      const output = initial.format ?? (initial.platform === 'node' ? 'cjs' : 'esm');
      if (bundling) {
        build.onResolve({ filter: /^coldstart:defer-runtime$/ }, () => ({ path: 'runtime', namespace: 'coldstart-defer' }));
        build.onLoad({ filter: /.*/, namespace: 'coldstart-defer' }, () => ({ contents: helperModule(), loader: 'js' }));
      }
      build.onLoad({ filter: sourceFile, namespace: 'file' }, async (args: { path: string }) => {
        if (!settings.deferNodeModules && inNodeModules(args.path)) return undefined;
        const source = await readFile(args.path, 'utf8');
        const format = sourceFormat(args.path, source);
        let plan;
        try {
          plan = planLowering(source, args.path, format, settings.defer);
        } catch {
          return undefined; // esbuild reports the syntax error itself
        }
        if (plan === undefined) return undefined;
        const loads = new Map<DeferSite, string | undefined>();
        for (const site of plan.sites) {
          if (site.keep) continue;
          loads.set(site, await loadOf(site));
        }
        const result = lowerDefer(source, args.path, plan, { loadOf: (site) => loads.get(site), helper: bundling ? { from: helperSpecifier } : { inline: helperInline() } });
        if (result === undefined) return undefined;
        const map = Buffer.from(result.map).toString('base64');
        const ext = args.path.slice(args.path.lastIndexOf('.') + 1);
        return { contents: `${result.code}\n//# sourceMappingURL=data:application/json;base64,${map}\n`, loader: loaders[ext] ?? 'js', resolveDir: dirname(args.path) };

        async function loadOf(site: DeferSite): Promise<string | undefined> {
          const specifier = JSON.stringify(site.specifier);
          if (site.kind === 'require') return `() => (${site.init})`;
          let external = !bundling;
          if (bundling) {
            const resolved = await build.resolve(site.specifier, { kind: 'import-statement', resolveDir: dirname(args.path), importer: args.path });
            if (resolved.errors.length > 0) return undefined; // kept: esbuild reports it
            external = resolved.external === true;
            if (!external && (resolved.namespace !== 'file' || awaitsAtTopLevel(resolved.path))) return undefined;
          }
          if (!external) return `() => require(${specifier})`;
          if (externalTargetAwaits(args.path, site.specifier)) return undefined;
          return output === 'esm' ? `__coldstart_load(import.meta.url, import.meta.resolve(${specifier}))` : `__coldstart_load(__filename, require.resolve(${specifier}))`;
        }
      });
    },
  };
}

export default coldstartDefer;
