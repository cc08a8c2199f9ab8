// Defer candidates: packages imported by first-party code none of whose functions ran after
// their own load finished (coverage snapshots), ranked by the time that deferring them would
// save: the own time of every module reachable only through them. Each comes with the import
// line to replace and the lazy() line to put there.
import { readFileSync } from 'node:fs';
import { packageRootOf } from './recorder.js';
import { packageNameOf, type ProcessView } from './analyze.js';
import type { ModuleEntry } from './schema.js';

export interface DeferCandidate {
  pid: number;
  package: string;
  specifier: string;
  /** First-party file that imports it, and the 1-based line of that import when found. */
  importer: string;
  line: number | null;
  statement: string | null;
  replacement: string;
  /** Own time of the modules only it pulls in (itself included), and how many there are. */
  savingMs: number;
  modules: number;
}

export function deferCandidates(view: ProcessView): DeferCandidate[] {
  const { profile } = view;
  const snapshots = profile.coverage;
  if (snapshots === null || profile.mainPath === null) return [];
  const firstParty = packageRootOf(profile.mainPath);
  const byId = new Map(profile.modules.map((m) => [m.id, m]));
  const importersOf = new Map<number, number[]>();
  for (const [from, to] of profile.edges) importersOf.set(to, [...(importersOf.get(to) ?? []), from]);

  // The last snapshot taken right after each package finished loading from first-party code.
  const boundary = new Map<string, { index: number; module: ModuleEntry; importer: ModuleEntry }>();
  snapshots.forEach((snapshot, index) => {
    const module = snapshot.after === null ? undefined : byId.get(snapshot.after);
    if (module === undefined) return;
    const root = packageRootOf(module.key);
    const importerIds = [module.parent, ...(importersOf.get(module.id) ?? [])];
    if (root === '' || root === firstParty) return;
    const importer =
      importerIds.map((id) => (id === null ? undefined : byId.get(id))).find((m) => m !== undefined && packageRootOf(m.key) === firstParty) ??
      (importerIds.length === 1 && module.parent === null ? unnamedImporter(profile.modules, firstParty, module) : undefined);
    if (importer === undefined) return;
    boundary.set(root, { index, module, importer });
  });

  const out: DeferCandidate[] = [];
  for (const [root, { index, module, importer }] of boundary) {
    const usedLater = snapshots.slice(index + 1).some((s) => s.used.some((path) => path.startsWith(root + '/')));
    if (usedLater) continue;
    const { savingMs, count } = savingOf(view, root);
    // Node 20 may not tell which specifier an ES module used for CommonJS: fall back to the name.
    const specifier = module.specifier.startsWith('/') ? (packageNameOf(module.key) ?? module.specifier) : module.specifier;
    const site = findImport(importer.key, specifier);
    out.push({
      pid: profile.pid,
      package: packageNameOf(module.key) ?? module.specifier,
      specifier,
      importer: importer.key,
      line: site?.line ?? null,
      statement: site?.statement ?? null,
      replacement: lazyLine(site?.statement ?? null, specifier, importer, module.format === 'module'),
      savingMs,
      modules: count,
    });
  }
  return out.sort((a, b) => b.savingMs - a.savingMs);
}

/**
 * Node 20 loads CommonJS for an ES module without naming the importer: the first-party ES
 * module whose source imports the package is taken for it.
 */
function unnamedImporter(modules: readonly ModuleEntry[], firstParty: string, module: ModuleEntry): ModuleEntry | undefined {
  const name = packageNameOf(module.key);
  if (name === undefined) return undefined;
  return modules.find((m) => m.format === 'module' && m.key.startsWith('/') && packageRootOf(m.key) === firstParty && findImport(m.key, name) !== undefined);
}

/** Own time of the modules that no longer load when every module of package `root` is cut out. */
export function savingOf(view: ProcessView, root: string): { savingMs: number; count: number } {
  const { profile } = view;
  const next = new Map<number, number[]>();
  const link = (from: number, to: number) => next.set(from, [...(next.get(from) ?? []), to]);
  for (const [from, to] of profile.edges) link(from, to);
  for (const m of profile.modules) if (m.parent !== null) link(m.parent, m.id);
  const inside = (m: ModuleEntry | undefined) => m !== undefined && m.key.startsWith(root + '/');
  const byId = new Map(profile.modules.map((m) => [m.id, m]));
  const reached = new Set<number>();
  const queue = profile.modules.filter((m) => m.parent === null && !inside(m)).map((m) => m.id);
  for (const id of queue) reached.add(id);
  while (queue.length > 0) {
    const id = queue.pop()!;
    for (const to of next.get(id) ?? []) {
      if (reached.has(to) || inside(byId.get(to))) continue;
      reached.add(to);
      queue.push(to);
    }
  }
  let savingMs = 0;
  let count = 0;
  for (const m of profile.modules) {
    if (reached.has(m.id) || m.format === 'builtin') continue;
    savingMs += m.selfMs;
    count++;
  }
  return { savingMs, count };
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** The import or require of `specifier` in `file`: its first line number and whole statement. */
export function findImport(file: string, specifier: string): { line: number; statement: string } | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const lines = text.split('\n');
  const quoted = new RegExp(`(['"\`])${escape(specifier)}\\1`);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (!quoted.test(line)) continue;
    if (/\brequire\s*\(|\bimport\b|\bfrom\b/.test(line) === false) continue;
    // A multi-line `import {\n a,\n} from 'x'` starts at the line that opens it.
    let start = i;
    if (/^\s*}?\s*from\b|^[^'"]*}\s*from\b/.test(line) && !/\bimport\b/.test(line)) {
      while (start > 0 && !/^\s*import\b/.test(lines[start] ?? '')) start--;
    }
    return { line: start + 1, statement: lines.slice(start, i + 1).join('\n').trim() };
  }
  return undefined;
}

function identifierOf(specifier: string): string {
  const base = specifier.replace(/^@[^/]+\//, '').replace(/\/.*$/, '');
  const camel = base.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase());
  return /^[A-Za-z_$]/.test(camel) ? camel : `_${camel}`;
}

/** The lazy() line that replaces `statement`; TypeScript files get the module's type as well. */
export function lazyLine(statement: string | null, specifier: string, importer: ModuleEntry, esmPackage: boolean): string {
  const esm = importer.format === 'module';
  const parent = esm ? 'import.meta.url' : '__filename';
  const type = /\.[cm]?tsx?$/.test(importer.key) ? `<typeof import('${specifier}')>` : '';
  const spec = `'${specifier}'`;
  const flat = (statement ?? '').replace(/\s+/g, ' ');
  const named = (list: string) => {
    const pairs = list.split(',').map((s) => s.trim()).filter((s) => s !== '' && !s.startsWith('type '));
    const names = pairs.map((p) => p.split(/\s+as\s+|\s*:\s*/)[0]!.trim());
    const binds = pairs.map((p) => p.replace(/\s+as\s+/, ': '));
    return `const { ${binds.join(', ')} } = lazyNamed${type}(${spec}, ${parent}, [${names.map((n) => `'${n}'`).join(', ')}]);`;
  };
  // JavaScript files keep the module's type through a JSDoc cast, TypeScript through the type argument.
  const whole = (name: string) =>
    type !== '' || !esm ? `const ${name} = lazy${type}(${spec}, ${parent});` : `const ${name} = /** @type {typeof import(${spec})} */ (lazy(${spec}, ${parent}));`;
  const esmMatch = /^import\s+(.+?)\s+from\s/.exec(flat);
  if (esmMatch !== null) {
    const clause = esmMatch[1]!.trim();
    const ns = /^\*\s+as\s+([\w$]+)$/.exec(clause);
    if (ns !== null) return whole(ns[1]!);
    const braces = /^(?:([\w$]+)\s*,\s*)?\{([^}]*)\}$/.exec(clause);
    if (braces !== null) {
      const list = (braces[1] !== undefined ? `default as ${braces[1]}, ` : '') + (braces[2] ?? '');
      return named(list);
    }
    if (/^[\w$]+$/.test(clause)) {
      return esmPackage ? named(`default as ${clause}`) : whole(clause);
    }
  }
  const cjs = /(?:const|let|var)\s+([\w$]+|\{[^}]*\})\s*=\s*require\(/.exec(flat);
  if (cjs !== null) {
    const target = cjs[1]!;
    if (target.startsWith('{')) return named(target.slice(1, -1));
    return `const ${target} = lazy(${spec}, ${parent});`;
  }
  return whole(identifierOf(specifier));
}
