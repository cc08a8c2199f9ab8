// Conformance of the pure resolver with Node itself: for every package and every "exports"
// subpath of real installed trees, under require and import, coldstart's answer (over the
// fs-backed view) must equal what the running Node answers in a child process.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { dist, fixtures, installedTree, tempDir } from '../helpers.mjs';
import { casesFor, compare, describeMismatches, nodeAnswers } from './resolve-cases.mjs';

const { resolve } = await import(join(dist, 'resolve/resolve.js'));
const { createFsView } = await import(join(dist, 'resolve/fs-view.js'));

/** Writes a fixture tree.json (files and symlinks) under `dir`; returns its real path. */
function materialise(name, dir) {
  const tree = JSON.parse(readFileSync(join(fixtures, name, 'tree.json'), 'utf8'));
  for (const [path, content] of Object.entries(tree.files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  }
  for (const [link, target] of Object.entries(tree.links)) {
    mkdirSync(dirname(join(dir, link)), { recursive: true });
    symlinkSync(target, join(dir, link), 'dir');
  }
  const root = realpathSync(dir);
  return { root, cases: tree.cases.map(([specifier, parent]) => [specifier, join(root, parent)]) };
}

function check(t, label, root, extra, allowedUnknown = []) {
  const cases = casesFor(root, extra);
  const node = nodeAnswers(cases, root);
  // NODE_PATH is cleared in the child; the global folders (~/.node_modules...) stay Node's.
  const view = createFsView({ nodePath: node.globalPaths });
  const result = compare(resolve, view, cases, node);
  const failures = cases.filter((_, i) => node.answers[i].code).length;
  t.diagnostic(`${label}: ${result.total} (specifier, mode) pairs, ${failures} of them Node failures; ` +
    `${result.same} equal, ${result.unknownCount} unknown, ${result.mismatches.length} mismatches`);
  for (const [reason, count] of result.unknown) t.diagnostic(`  unknown x${count}: ${reason}`);
  assert.equal(result.mismatches.length, 0, `coldstart differs from Node ${process.version}:\n${describeMismatches(result, root)}`);
  // Giving up is allowed but must stay rare, and happen only where the fixture asks for it.
  assert.ok(result.unknownCount <= result.total * 0.01 || result.unknown.every(([reason]) => allowedUnknown.some((r) => r.test(reason))),
    `unexpected unknown answers: ${JSON.stringify(result.unknown)}`);
  return result;
}

test('real tree (eslint, typescript, @aws-sdk/client-s3, webpack-cli, prettier): coldstart equals Node', (t) => {
  const root = join(fixtures, 'real-tree');
  installedTree('test/fixtures/real-tree/node_modules/eslint/package.json');
  const result = check(t, 'real-tree', root, []);
  assert.ok(result.total > 5000, `expected thousands of cases, got ${result.total}`);
});

test('pnpm-style symlinked tree: coldstart equals Node', (t) => {
  const { root, cases } = materialise('resolve-pnpm', tempDir(t, 'coldstart-pnpm-'));
  check(t, 'pnpm', root, cases);
});

test('npm workspace with linked packages: coldstart equals Node', (t) => {
  const { root, cases } = materialise('resolve-workspace', tempDir(t, 'coldstart-ws-'));
  // node_modules/broken has a malformed package.json and "./dir" maps to a directory target
  // Node warns about (DEP0166): both are left to Node on purpose.
  check(t, 'workspace', root, cases, [/^malformed /, /deprecated or invalid segment/]);
});
