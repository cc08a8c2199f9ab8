// `coldstart pack --package NAME`: a pack of whole packages, taken from the module-location
// index instead of from a recorded run. Every copy of each named package (glob patterns as in
// the defer configuration: `@aws-sdk/*`) contributes every .js, .cjs, .mjs and .json file the
// index lists in it, with the format Node would give it: by extension, then by the nearest
// package.json's "type", then, for a `.js` file in a package without one, by its syntax (Node
// runs such a file as an ES module when it has import/export, which the parser tells).
import { join } from 'node:path';
import { decodeSection, type DecodedIndex, type Section, type StoredFacts } from '../locations/format.js';
import { matchesDefer } from '../defer/config.js';
import type { ModuleFormat } from './format.js';

/** oxc-parser's parseSync, as far as the syntax check needs it. */
export type ModuleSyntaxParse = (filename: string, source: string, options: { sourceType: 'unambiguous' }) => { module: { hasModuleSyntax: boolean } };

export interface PackageFiles {
  /** [absolute path, format] of every file to pack. */
  readonly files: [string, ModuleFormat | 'detect'][];
  /** Package roots (relative to the project root) that matched. */
  readonly packages: string[];
  /** Patterns no installed package matched. */
  readonly unmatched: string[];
}

/** The package name of a section root such as `node_modules/@scope/name` or `a/node_modules/b`. */
export function packageNameOfRoot(key: string): string | undefined {
  const at = key.lastIndexOf('node_modules/');
  if (at === -1 || (at > 0 && key[at - 1] !== '/')) return undefined;
  const name = key.slice(at + 'node_modules/'.length);
  const parts = name.split('/');
  if (parts.some((part) => part === '')) return undefined;
  return (name.startsWith('@') ? parts.length === 2 : parts.length === 1) ? name : undefined;
}

const moduleExtensions = ['.js', '.cjs', '.mjs', '.json'];

/** The "type" of the nearest package.json at or above `sub` within one package's section. */
function typeAt(section: Section, sub: string): string | undefined {
  for (let dir = sub; ; dir = dir.slice(0, Math.max(0, dir.lastIndexOf('/')))) {
    const facts = section.p[dir] as StoredFacts | 0 | undefined;
    if (facts !== undefined) return facts === 0 ? undefined : facts.type;
    if (dir === '') return undefined;
  }
}

/**
 * Lists the files of every package in `index` whose name matches `patterns`. `.js` files whose
 * package has no "type" come back as 'detect': their format needs their source (see
 * detectFormat).
 */
export function packageFiles(root: string, index: DecodedIndex, patterns: readonly string[]): PackageFiles {
  const files: [string, ModuleFormat | 'detect'][] = [];
  const packages: string[] = [];
  const matched = new Set<string>();
  if (!index.headerIntact()) throw new Error('the index is corrupt (header checksum); run coldstart index again');
  for (const [key, at] of Object.entries(index.header.sections)) {
    const name = packageNameOfRoot(key);
    if (name === undefined) continue;
    const by = patterns.filter((pattern) => matchesDefer([pattern], name));
    if (by.length === 0) continue;
    for (const pattern of by) matched.add(pattern);
    const section = decodeSection(index, at);
    if (section === undefined) throw new Error(`the index's section for ${key} is unreadable (rebuild it: coldstart index)`);
    packages.push(key);
    for (const [sub, names] of Object.entries(section.d)) {
      for (const entry of names) {
        if (entry.endsWith('/') || entry.endsWith('@')) continue;
        const dot = entry.lastIndexOf('.');
        const extension = dot === -1 ? '' : entry.slice(dot);
        if (!moduleExtensions.includes(extension)) continue;
        const path = join(root, key, sub, entry);
        if (extension === '.json') files.push([path, 'json']);
        else if (extension === '.cjs') files.push([path, 'commonjs']);
        else if (extension === '.mjs') files.push([path, 'module']);
        else {
          const type = typeAt(section, sub);
          files.push([path, type === 'module' ? 'module' : type === 'commonjs' ? 'commonjs' : 'detect']);
        }
      }
    }
  }
  return { files, packages: packages.sort(), unmatched: patterns.filter((pattern) => !matched.has(pattern)) };
}

/** The format Node gives a `.js` file of a package without "type": by its syntax. */
export function detectFormat(path: string, source: string, parse: ModuleSyntaxParse): ModuleFormat {
  if (!source.includes('import') && !source.includes('export')) return 'commonjs';
  try {
    return parse(path, source, { sourceType: 'unambiguous' }).module.hasModuleSyntax ? 'module' : 'commonjs';
  } catch {
    return 'commonjs';
  }
}
