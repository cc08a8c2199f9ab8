// The index is read in parts: the header at start, the project section alone when a run asks
// for it, the rest of the file with the first package section; a file replaced in between is
// not mixed with the header that was read (its sections count as unreadable).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { realpathSync, renameSync, readFileSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readIndexFile } from '../../dist/locations/store.js';
import { decodeSection } from '../../dist/locations/format.js';
import { tempDir, writeTree, runCli } from '../helpers.mjs';

function project(t) {
  const root = realpathSync(tempDir(t, 'coldstart-partial-'));
  const files = { 'package.json': { name: 'app', private: true }, 'src/a.js': '', 'node_modules/.package-lock.json': '{}' };
  // Enough packages that the sections dwarf the header.
  for (let i = 0; i < 100; i++) {
    files[`node_modules/p${i}/package.json`] = { name: `p${i}`, main: 'lib/index.js' };
    for (let j = 0; j < 50; j++) files[`node_modules/p${i}/lib/file-with-a-long-name-${j}.js`] = '';
  }
  writeTree(root, files);
  assert.equal(runCli(['index'], { cwd: root }).code, 0);
  return join(root, 'node_modules/.cache/coldstart/index.v1');
}

test('header first, the project section alone, the rest with the first package section', (t) => {
  const file = project(t);
  const size = statSync(file).size;
  const read = readIndexFile(file);
  assert.equal(read.ok, true, read.reason);
  const { index } = read;
  assert.ok(index.buffer.length < size / 2, `${index.buffer.length} of ${size} bytes read at start`);
  const projectSection = decodeSection(index, index.header.project, true);
  assert.ok(projectSection?.d['']?.includes('src/'), JSON.stringify(projectSection));
  assert.ok(index.buffer.length < size / 2, 'the project section did not bring in the rest');
  const pkg = decodeSection(index, index.header.sections['node_modules/p7']);
  assert.ok(pkg?.d['lib']?.includes('file-with-a-long-name-3.js'), JSON.stringify(pkg)?.slice(0, 200));
  assert.equal(index.buffer.length, size);
});

test('a file replaced after the header was read gives no sections', (t) => {
  const file = project(t);
  const read = readIndexFile(file);
  assert.equal(read.ok, true, read.reason);
  const copy = `${file}.copy`;
  writeFileSync(copy, readFileSync(file));
  renameSync(copy, file);
  assert.equal(decodeSection(read.index, read.index.header.project, true), undefined);
  assert.equal(decodeSection(read.index, read.index.header.sections['node_modules/p7']), undefined);
});

test('start-up stamp stats are shared inside one activation only, and a build refreshes them', async (t) => {
  const { sharingStampStats, stampStat, collectStamps, staleReason } = await import('../../dist/locations/stamps.js');
  const root = realpathSync(tempDir(t, 'coldstart-stamps-'));
  writeTree(root, { 'package.json': { name: 'app' }, 'node_modules/.package-lock.json': '{}' });
  const pkg = join(root, 'package.json');
  const stamps = collectStamps(root);
  sharingStampStats(() => {
    assert.equal(stampStat(pkg).size, statSync(pkg).size);
    writeFileSync(pkg, JSON.stringify({ name: 'app', type: 'module' }));
    // Within the activation the first answer stands (the index and the pack see the same tree)...
    assert.equal(staleReason(root, stamps, '', ''), undefined);
    // ...until a build stamps the tree again: later checks see what it saw.
    const rebuilt = collectStamps(root);
    assert.equal(stampStat(pkg).size, statSync(pkg).size);
    assert.equal(staleReason(root, rebuilt, '', ''), undefined);
  });
  // Outside, every check stats afresh.
  assert.equal(staleReason(root, stamps, '', ''), 'package.json changed');
  // A package.json rewritten with the same fields resolution reads is not a change.
  const same = collectStamps(root);
  writeFileSync(pkg, JSON.stringify({ type: 'module', version: '3.0.0', name: 'app' }, null, 4));
  assert.equal(staleReason(root, same, '', ''), undefined);
});
