// Builds the (mode, specifier, parent) cases of the resolver conformance test from a real
// tree on disk, asks a child Node for its answers, and compares coldstart's answers with them.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const MAX_FILES = 4000;
const PER_PATTERN = 25;

function entries(dir) {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

/** Every directory named node_modules under `root`, symlinks not followed. */
function nodeModulesDirs(root) {
  const out = [];
  const walk = (dir) => {
    for (const entry of entries(dir)) {
      if (!entry.isDirectory()) continue;
      const full = join(dir, entry.name);
      if (entry.name === 'node_modules') out.push(full);
      walk(full);
    }
  };
  walk(root);
  return out.sort();
}

/** Packages directly in a node_modules directory: [name, path] (links included). */
function packagesIn(nm) {
  const out = [];
  for (const entry of entries(nm)) {
    if (entry.name.startsWith('.')) continue;
    const full = join(nm, entry.name);
    if (entry.name.startsWith('@')) {
      for (const inner of entries(full)) out.push([`${entry.name}/${inner.name}`, join(full, inner.name)]);
    } else {
      out.push([entry.name, full]);
    }
  }
  return out.filter(([, path]) => statSync(path, { throwIfNoEntry: false })?.isDirectory());
}

/** Files and directories of a package (relative, '/'-separated), nested node_modules excluded. */
function layout(pkgDir) {
  const files = [];
  const dirs = [];
  const walk = (dir, rel) => {
    for (const entry of entries(dir).sort((a, b) => a.name.localeCompare(b.name))) {
      if (files.length >= MAX_FILES) return;
      if (entry.name === 'node_modules') continue;
      const r = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        dirs.push(r);
        walk(join(dir, entry.name), r);
      } else if (entry.isFile()) {
        files.push(r);
      }
    }
  };
  walk(pkgDir, '');
  return { files, dirs };
}

function readJson(path) {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Every string target anywhere in an exports/imports value. */
function targetStrings(value, out = []) {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) value.forEach((v) => targetStrings(v, out));
  else if (value && typeof value === 'object') Object.values(value).forEach((v) => targetStrings(v, out));
  return out;
}

function spread(list, max) {
  if (list.length <= max) return list;
  const step = list.length / max;
  return Array.from({ length: max }, (_, i) => list[Math.floor(i * step)]);
}

/** Keys of an exports/imports map expanded against the package's files: the part after the
 *  name (e.g. './lib/x' or '#internal/y'). */
function expandKeys(map, files) {
  const out = [];
  for (const [key, value] of Object.entries(map)) {
    const star = key.indexOf('*');
    if (star === -1) {
      out.push(key);
      continue;
    }
    const [kp, ks] = [key.slice(0, star), key.slice(star + 1)];
    const stars = new Set();
    for (const target of targetStrings(value)) {
      const t = target.indexOf('*');
      if (t === -1 || !target.startsWith('./')) continue;
      const [tp, ts] = [target.slice(0, t), target.slice(t + 1)];
      for (const file of files) {
        const f = `./${file}`;
        if (f.length >= tp.length + ts.length && f.startsWith(tp) && f.endsWith(ts)) stars.add(f.slice(tp.length, f.length - ts.length));
      }
    }
    for (const s of spread([...stars].sort(), PER_PATTERN)) out.push(kp + s + ks);
  }
  return out;
}

function withoutExt(file) {
  const base = basename(file);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? file.slice(0, file.length - (base.length - dot)) : file;
}

/** The cases for one tree: [mode, specifier, parentPath] (parent files need not exist). */
export function casesFor(root, extra = []) {
  const specs = [];
  const add = (specifier, parent) => specs.push([specifier, parent]);
  const seenInner = new Set();
  for (const nm of nodeModulesDirs(root)) {
    const outer = join(dirname(nm), '__parent__.js');
    for (const [name, path] of packagesIn(nm)) {
      const real = realpathSync(path);
      const pkg = readJson(join(real, 'package.json')) ?? {};
      const { files, dirs } = layout(real);
      add(name, outer);
      add(`${name}/package.json`, outer);
      add(`${name}/__nope__`, outer);
      if (pkg.exports !== undefined && pkg.exports !== null && typeof pkg.exports === 'object' && !Array.isArray(pkg.exports) &&
          Object.keys(pkg.exports).some((k) => k.startsWith('.'))) {
        for (const key of expandKeys(pkg.exports, files)) if (key !== '.') add(`${name}/${key.slice(2)}`, outer);
      } else if (pkg.exports === undefined) {
        for (const file of spread(files.filter((f) => /\.(c|m)?js$|\.json$/.test(f)), 12)) {
          add(`${name}/${file}`, outer);
          add(`${name}/${withoutExt(file)}`, outer);
        }
        for (const dir of spread(dirs, 4)) add(`${name}/${dir}`, outer);
      }
      if (seenInner.has(real)) continue;
      seenInner.add(real);
      const inner = join(real, '__parent__.js');
      if (typeof pkg.name === 'string') add(pkg.name, inner);
      if (pkg.imports && typeof pkg.imports === 'object') {
        for (const key of expandKeys(pkg.imports, files)) add(key, inner);
        add('#__nope__', inner);
      }
      for (const file of spread(files.filter((f) => f.endsWith('.js')), 3)) add(`./${withoutExt(file)}`, inner);
      add('./package.json', inner);
      add('.', inner);
      add('./__nope__', inner);
    }
  }
  for (const [specifier, parent] of extra) add(specifier, parent);
  const unique = new Map();
  for (const [specifier, parent] of specs) {
    for (const mode of ['require', 'import']) unique.set(`${mode}\0${specifier}\0${parent}`, [mode, specifier, parent]);
  }
  return [...unique.values()];
}

/** Node's answers from a child process of the running node. */
export function nodeAnswers(cases, cwd) {
  const child = spawnSync(process.execPath, ['--experimental-import-meta-resolve', '--no-warnings', join(here, 'resolve-node-side.mjs')], {
    cwd,
    input: JSON.stringify(cases),
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, NODE_OPTIONS: '', NODE_PATH: '' },
    timeout: 120_000,
  });
  if (child.status !== 0) throw new Error(`node side failed (${child.status}): ${child.stderr}`);
  return JSON.parse(child.stdout);
}

/** Compares coldstart's answers with Node's; returns counts and the mismatches. */
export function compare(resolve, view, cases, node) {
  const mismatches = [];
  const unknown = new Map();
  let same = 0;
  cases.forEach(([mode, specifier, parentPath], i) => {
    const expected = node.answers[i];
    const ours = resolve(view, { specifier, parentPath, mode, conditions: node.conditions[mode] });
    let ok;
    if (ours.kind === 'unknown') {
      unknown.set(ours.reason.replace(/\/\S*/g, '<path>'), (unknown.get(ours.reason.replace(/\/\S*/g, '<path>')) ?? 0) + 1);
      return;
    }
    if (ours.kind === 'file') ok = expected.path === ours.path;
    else if (ours.kind === 'builtin') ok = expected.builtin === ours.id;
    else ok = expected.code === ours.code;
    if (ok) same++;
    else mismatches.push({ mode, specifier, parent: parentPath, node: expected, coldstart: ours });
  });
  return { total: cases.length, same, unknown: [...unknown].sort((a, b) => b[1] - a[1]), unknownCount: [...unknown.values()].reduce((a, b) => a + b, 0), mismatches };
}

export function describeMismatches(result, root) {
  return result.mismatches.slice(0, 30).map((m) =>
    `${m.mode} ${m.specifier} from ${relative(root, m.parent)}: node ${JSON.stringify(m.node)} coldstart ${JSON.stringify(m.coldstart)}`).join('\n');
}
