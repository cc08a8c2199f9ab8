// The resolution conditions and search folders Node itself uses for require(), for the Node 20
// CommonJS patch (registerHooks hands the hook its conditions; Module._resolveFilename does not).
import { hasLaunchFlag, splitNodeOptions } from '../node-options.js';
import { internals } from './node.js';

/** `--conditions` / `-C` values from the command line and NODE_OPTIONS, in order. */
export function userConditions(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env['NODE_OPTIONS'] ?? ''): string[] {
  const out: string[] = [];
  const scan = (args: readonly string[]): void => {
    for (let i = 0; i < args.length; i++) {
      const arg = args[i]!;
      if (arg === '--conditions' || arg === '-C') {
        const value = args[i + 1];
        if (value !== undefined) out.push(value);
        i++;
      } else if (arg.startsWith('--conditions=')) out.push(arg.slice(13));
      else if (arg.startsWith('-C') && arg.length > 2) out.push(arg.slice(arg[2] === '=' ? 3 : 2));
    }
  };
  // NODE_OPTIONS come first in Node's option parsing, the command line after.
  scan(splitNodeOptions(nodeOptions));
  scan(execArgv);
  return out;
}

/** The condition set of require() on this Node: require, node, node-addons, user, module-sync. */
export function cjsConditions(): string[] {
  const noAddons = hasLaunchFlag('--no-addons');
  const out = ['require', 'node', ...(noAddons ? [] : ['node-addons']), ...userConditions()];
  if ((process.features as unknown as Record<string, unknown>)['require_module'] === true) out.push('module-sync');
  return out;
}

/** Module.globalPaths: NODE_PATH entries, then ~/.node_modules, ~/.node_libraries, <prefix>/lib/node. */
export function globalPaths(): string[] {
  return Array.isArray(internals.globalPaths) ? [...internals.globalPaths] : [];
}

/** The condition set of import on this Node: node, import, module-sync, node-addons, user. */
export function esmConditions(): string[] {
  const noAddons = hasLaunchFlag('--no-addons');
  const out = ['node', 'import'];
  if ((process.features as unknown as Record<string, unknown>)['require_module'] === true) out.push('module-sync');
  if (!noAddons) out.push('node-addons');
  return [...out, ...userConditions()];
}
