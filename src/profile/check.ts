// The rules of `coldstart check`, as a pure function of what was recorded: forbidden packages,
// a module budget and an optional time budget with a tolerance.
import { isWrapper, labelOf, packageNameOf, type ProcessView } from './analyze.js';

export interface CheckRules {
  forbid: string[];
  maxModules: number | undefined;
  maxMs: number | undefined;
  /** Percent added to maxMs before the time rule fails. */
  tolerance: number;
}

export interface Violation {
  rule: 'forbid' | 'max-modules' | 'max-ms';
  message: string;
}

export interface Verdict {
  ok: boolean;
  violations: Violation[];
  /** Modules (builtins excluded) loaded by every process but npm/npx wrappers. */
  moduleCount: number;
  wallMs: number;
}

/** `a.mjs → b/index.js → typescript/lib/typescript.js`: how the module was first reached. */
function chainOf(view: ProcessView, id: number, cwd: string): string {
  const names: string[] = [];
  const seen = new Set<number>();
  let current = view.nodes.get(id);
  while (current !== undefined && !seen.has(current.module.id)) {
    seen.add(current.module.id);
    names.unshift(labelOf(current.module.key, cwd));
    current = current.module.parent === null ? undefined : view.nodes.get(current.module.parent);
  }
  return names.join(' → ');
}

export function evaluate(views: ProcessView[], wallMs: number, rules: CheckRules, cwd: string): Verdict {
  const violations: Violation[] = [];
  const counted = views.filter((view) => !isWrapper(view.profile));
  for (const name of rules.forbid) {
    const builtin = name.startsWith('node:') ? name : undefined;
    for (const view of counted) {
      const hit = view.profile.modules.find((m) =>
        builtin !== undefined ? m.key === builtin : m.format !== 'builtin' && packageNameOf(m.key) === name,
      );
      if (hit === undefined) continue;
      violations.push({
        rule: 'forbid',
        message: `'${name}' was loaded (process ${view.profile.pid}): ${chainOf(view, hit.id, cwd)}`,
      });
      break;
    }
  }
  const moduleCount = counted.reduce((sum, view) => sum + view.moduleCount, 0);
  if (rules.maxModules !== undefined && moduleCount > rules.maxModules) {
    const top = counted
      .flatMap((view) => view.roots.flatMap((root) => root.children.map((child) => ({ view, child }))))
      .map(({ view, child }) => {
        let count = 0;
        const walk = (n: typeof child) => { if (n.module.format !== 'builtin') count++; n.children.forEach(walk); };
        walk(child);
        return { label: labelOf(child.module.key, cwd), count, view };
      })
      .sort((a, b) => b.count - a.count)
      .slice(0, 3)
      .map((e) => `${e.label} (${e.count})`);
    violations.push({
      rule: 'max-modules',
      message: `${moduleCount} modules were loaded, more than the ${rules.maxModules} allowed${top.length > 0 ? `; most come through ${top.join(', ')}` : ''}`,
    });
  }
  if (rules.maxMs !== undefined) {
    const limit = rules.maxMs * (1 + rules.tolerance / 100);
    if (wallMs > limit) {
      violations.push({
        rule: 'max-ms',
        message: `the command took ${wallMs.toFixed(0)} ms, more than ${rules.maxMs} ms + ${rules.tolerance}% (${limit.toFixed(0)} ms)`,
      });
    }
  }
  return { ok: violations.length === 0, violations, moduleCount, wallMs };
}
