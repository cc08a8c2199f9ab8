// The rules of the source tree that docs/architecture.md describes, checked on src/: one folder
// (src/loader/) touches Node's loader, no folder imports another that imports it back, no file at
// src/ shares its name with a folder there, and the pure cores stay pure. (One module reads
// COLDSTART_* variables: settings.test.mjs.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const src = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src');

function sources(dir = src) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...sources(full));
    else if (name.endsWith('.ts')) out.push(full);
  }
  return out;
}

/** The code of a file without its comments (strings are kept: a property name may be in one). */
function code(file) {
  return readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
}

const top = (file) => {
  const parts = relative(src, file).split(sep);
  return parts.length > 1 ? parts[0] : '';
};

test('only src/loader/ touches Node\'s loader internals', () => {
  const contact = /\b(?:_resolveFilename|_extensions|_compile|_load|_cache|runMain)\b|\bregisterHooks\s*[(!]|\.register\(|registerHooks\s*=|internals\.register\b/;
  const outside = sources().filter((file) => top(file) !== 'loader' && contact.test(code(file)));
  assert.deepEqual(outside.map((file) => relative(src, file)), []);
});

test('the rule catches a contact outside src/loader/ (the check can fail)', () => {
  const contact = /\b(?:_resolveFilename|_extensions|_compile|_load|_cache|runMain)\b|\bregisterHooks\s*[(!]|\.register\(|registerHooks\s*=|internals\.register\b/;
  assert.ok(contact.test('Module.prototype._compile = patched;'));
  assert.ok(contact.test('module.registerHooks({ load })'));
  assert.ok(!contact.test("has('registerHooks')"));
});

test('no folder of src/ imports a folder that imports it back', () => {
  const edges = new Map();
  for (const file of sources()) {
    const from = top(file);
    if (from === '') continue;
    for (const match of code(file).matchAll(/(?:from|import\()\s*['"](\.[^'"]+)['"]/g)) {
      const to = top(normalize(join(dirname(file), match[1])));
      if (to === '' || to === from) continue;
      if (!edges.has(from)) edges.set(from, new Map());
      edges.get(from).set(to, `${relative(src, file)} imports ${match[1]}`);
    }
  }
  const cycles = [];
  for (const [from, targets] of edges) {
    for (const [to, why] of targets) {
      const back = edges.get(to)?.get(from);
      if (back !== undefined && from < to) cycles.push(`${from} <-> ${to}: ${why}; ${back}`);
    }
  }
  assert.deepEqual(cycles, []);
});

test('no file at src/ shares its name with a folder there', () => {
  const entries = readdirSync(src, { withFileTypes: true });
  const folders = new Set(entries.filter((e) => e.isDirectory()).map((e) => e.name));
  const clashes = entries.filter((e) => e.isFile() && folders.has(e.name.replace(/\.ts$/, ''))).map((e) => e.name);
  assert.deepEqual(clashes, []);
});

test('the pure cores import nothing of the loader, the settings or the shared state', () => {
  // They take what they need as arguments (a view of the filesystem, the source text) and are
  // unit-tested from source; `isBuiltin`, a fact about the running Node, is their one node:module import.
  const cores = [
    'resolve/resolve.ts', 'resolve/esm.ts', 'resolve/cjs.ts', 'resolve/targets.ts', 'resolve/facts.ts', 'resolve/memory-view.ts',
    'locations/format.ts', 'locations/checksum.ts', 'pack/format.ts', 'pack/cache-check.ts',
    'defer/transform.ts', 'defer/scope.ts', 'defer/detect.ts', 'defer/learned.ts',
    'profile/analyze.ts', 'profile/render-text.ts', 'profile/render-trace.ts', 'profile/render-html.ts', 'profile/defer.ts', 'profile/check.ts',
    'build/lower.ts',
  ];
  const impure = [];
  for (const core of cores) {
    const text = code(join(src, core));
    const imports = [...text.matchAll(/(?:from|import\()\s*['"]([^'"]+)['"]/g)].map((m) => m[1]);
    const bad = imports.filter((i) => /\/loader\/|settings\.js$|shared-state\.js$/.test(i) || (i === 'node:module' && !/import \{ isBuiltin \} from 'node:module'/.test(text)));
    if (bad.length > 0) impure.push(`${core}: ${bad.join(', ')}`);
  }
  assert.deepEqual(impure, []);
});
