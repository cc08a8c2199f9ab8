// Shared test helpers: project paths, temp dirs that clean up, and running real Node processes.
import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const dist = join(root, 'dist');
export const bin = join(root, 'bin', 'coldstart.cjs');
export const fixtures = join(root, 'test', 'fixtures');

/**
 * Where a unit test takes a pure core module from (`path` without extension, e.g.
 * 'resolve/resolve'): its TypeScript source when the unit suite runs under tsx (scripts/run-tests.mjs
 * does that, so unit tests need no build), else the built dist/ file.
 */
export function core(path) {
  return process.env['UNIT_FROM_SOURCE'] === '1' ? join(root, 'src', `${path}.ts`) : join(dist, `${path}.js`);
}

// The registry trees `npm test` installs before it runs (scripts/prepare-fixtures.mjs): a test
// that needs one fails, rather than skips, when it is missing.
export function installedTree(file) {
  const full = join(root, file);
  assert.ok(existsSync(full), `${file} is missing: run node scripts/prepare-fixtures.mjs (npm test runs it)`);
  return full;
}

/**
 * Sets process.argv[1] (the entry script, as Node sets it) for in-process tests; the original
 * comes back when the test ends, after `cleanup` runs.
 */
export function entryScript(t, cleanup = () => {}) {
  const saved = process.argv[1];
  t.after(() => {
    process.argv[1] = saved;
    cleanup();
  });
  return (path) => {
    process.argv[1] = path;
  };
}

/** A fresh directory under the OS temp dir, removed when the test ends. */
export function tempDir(t, prefix = 'coldstart-test-') {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes a tree `{ 'a/b.js': 'text', ... }` under `dir`. */
export function writeTree(dir, files) {
  for (const [name, text] of Object.entries(files)) {
    const full = join(dir, name);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, typeof text === 'string' ? text : JSON.stringify(text, null, 2));
  }
}

/** Runs `node ...args` synchronously; returns { code, stdout, stderr }. */
export function runNode(args, { cwd = root, env = {}, input } = {}) {
  const result = spawnSync(process.execPath, args, {
    cwd,
    env: { ...process.env, NODE_OPTIONS: '', COLDSTART_DEBUG: '', COLDSTART_EAGER: '', ...env },
    encoding: 'utf8',
    input,
    timeout: 120_000,
  });
  return { code: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr };
}

/** Runs the coldstart CLI from the built package. */
export function runCli(args, options) {
  return runNode([bin, ...args], options);
}

const { checksum } = await import(core('locations/checksum'));

/** A learned-answers table as saved: its checksum line, then the JSON. */
export function readAnswerTable(file) {
  const text = readFileSync(file, 'utf8');
  return JSON.parse(text.slice(text.indexOf('\n') + 1));
}

/** Writes a learned-answers table with a valid checksum (as a program that forges one would). */
export function writeAnswerTable(file, data) {
  const json = Buffer.from(typeof data === 'string' ? data : JSON.stringify(data));
  writeFileSync(file, Buffer.concat([Buffer.from(`${checksum(json)}\n`), json]));
}
