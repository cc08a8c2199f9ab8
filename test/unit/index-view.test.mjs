// The index's storage and view without hooks: what it answers about a tree, and how it treats
// corrupt, truncated, foreign-version, foreign-owner and group-writable files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, existsSync, readFileSync, realpathSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, writeTree, dist } from '../helpers.mjs';
const { FORMAT_VERSION } = await import(join(dist, 'locations', 'format.js'));

const { buildIndex } = await import(join(dist, 'locations/build.js'));
const { readIndexFile } = await import(join(dist, 'locations/store.js'));
const walkModule = await import(join(dist, 'locations/walk.js'));
const { openIndex } = await import(join(dist, 'locations/load.js'));
const { placeOf } = await import(join(dist, 'locations/paths.js'));

function project(t) {
  const root = realpathSync(tempDir(t, 'coldstart-index-'));
  writeTree(root, {
    'package.json': { name: 'app', type: 'module' },
    'src/app.js': '',
    'node_modules/foo/package.json': { name: 'foo', main: 'lib/main.js' },
    'node_modules/foo/lib/main.js': '',
    'node_modules/foo/lib/esm/package.json': { type: 'module' },
    'node_modules/foo/node_modules/bar/package.json': { name: 'bar' },
    'node_modules/foo/node_modules/bar/index.js': '',
    'node_modules/@scope/pkg/package.json': { name: '@scope/pkg', exports: { '.': './x.js' } },
    'node_modules/@scope/pkg/x.js': '',
    'node_modules/broken/package.json': '{ not json',
    'store/real-dep/package.json': { name: 'linked' },
    'store/real-dep/index.js': '',
  });
  symlinkSync(join(root, 'store/real-dep'), join(root, 'node_modules/linked'));
  const file = join(root, 'node_modules/.cache/coldstart/index.v1');
  const summary = buildIndex({ root, file });
  return { root, file, summary };
}

test('the view answers files, directories, package.json facts and real paths from data', (t) => {
  const { root, file, summary } = project(t);
  assert.equal(summary.packages >= 4, true);
  const opened = openIndex(root, file, { verify: true });
  assert.equal(opened.ok, true, opened.reason);
  const view = opened.view;
  const cases = [
    ['node_modules/foo/lib/main.js', true, false],
    ['node_modules/foo/lib', false, true],
    ['node_modules/foo/lib/nope.js', false, false],
    ['node_modules/foo/nope/deeper.js', false, false],
    ['node_modules/nope', false, false],
    ['node_modules/foo/node_modules/bar/index.js', true, false],
    ['node_modules/@scope/pkg/x.js', true, false],
    ['node_modules/@scope', false, true],
    ['node_modules/linked/index.js', undefined, undefined], // a linked folder outside node_modules is first-party
    ['src/node_modules', false, false],
    ['src/app.js', undefined, undefined], // the project's own files are not indexed
  ];
  for (const [rel, isFile, isDirectory] of cases) {
    assert.equal(view.isFile(join(root, rel)), isFile, `isFile ${rel}`);
    assert.equal(view.isDirectory(join(root, rel)), isDirectory, `isDirectory ${rel}`);
  }
  assert.equal(view.isFile('/somewhere/else.js'), undefined);
  // Where the hook may ask Node at once: first-party directories and places outside the index.
  for (const [rel, known] of [['node_modules/foo/lib', true], ['node_modules', true], ['node_modules/linked', false], ['store/real-dep', false], ['', false], ['src', false], ['store', false]]) {
    assert.equal(view.knowsFilesIn(join(root, rel)), known, `knowsFilesIn ${rel}`);
  }
  assert.equal(view.knowsFilesIn('/somewhere'), false);
  assert.equal(view.packageJson(join(root, 'node_modules/foo')).main, 'lib/main.js');
  assert.equal(view.packageJson(join(root, 'node_modules/foo/lib/esm')).type, 'module');
  assert.equal(view.packageJson(join(root, 'node_modules/foo/lib')), null);
  assert.equal(view.packageJson(join(root, 'node_modules/broken')).malformed, true);
  assert.equal(view.packageJson(root).type, 'module');
  assert.equal(view.realpath(join(root, 'node_modules/linked/index.js')), undefined);
  // A linked folder inside the project is a project folder: its package.json is known, as the
  // project's own are (by real path), its files are not.
  assert.deepEqual({ ...view.packageJson(join(root, 'node_modules/linked')) }, { dir: join(root, 'store/real-dep'), name: 'linked', main: undefined, exports: undefined, imports: undefined, type: undefined });
  // Only the packages looked into were parsed.
  assert.ok(view.stats.sectionsLoaded <= 6, `sections loaded: ${view.stats.sectionsLoaded}`);
  assert.ok(readFileSync(file).toString('latin1').startsWith(`coldstart-index\n${FORMAT_VERSION}\n`));
  const header = readIndexFile(file).index.header;
  const keys = [...Object.keys(header.sections), ...Object.keys(header.nodeModules), ...Object.values(header.links)];
  assert.ok(keys.every((k) => !k.startsWith('/')), 'paths inside the index are relative to the root');
});

test('a package changed since the build answers "unknown" instead of stale data', (t) => {
  const { root, file } = project(t);
  writeFileSync(join(root, 'node_modules/foo/added.js'), '');
  const view = openIndex(root, file).view;
  assert.equal(view.isFile(join(root, 'node_modules/foo/added.js')), undefined);
  assert.deepEqual(view.stats.changed, ['node_modules/foo']);
});

test('install, uninstall and upgrade make the index stale through the stamps', (t) => {
  const { root, file } = project(t);
  writeTree(root, { 'node_modules/.package-lock.json': '{}' });
  // The lockfile did not exist at build time: its creation moved node_modules' mtime.
  const opened = openIndex(root, file);
  assert.equal(opened.ok, false);
  assert.equal(opened.state, 'stale');
  assert.match(opened.reason, /node_modules changed/);
});

test('corrupt, truncated and foreign-version files are ignored with a reason', (t) => {
  const { file } = project(t);
  const good = readFileSync(file);
  const variants = {
    garbage: [Buffer.from('hello world\n'), /not a coldstart index/],
    truncated: [good.subarray(0, good.length - 10), /truncated/],
    version: [Buffer.from(good.toString('latin1').replace(`coldstart-index\n${FORMAT_VERSION}\n`, 'coldstart-index\n9\n'), 'latin1'), /format 9/],
    header: [Buffer.from(good.toString('latin1').replace(`{"version":${FORMAT_VERSION}`, `{"version":${FORMAT_VERSION},,`), 'latin1'), /corrupt/],
    // Same length, still JSON: only the checksum can tell.
    'header edited in place': [Buffer.from(good.toString('latin1').replace('"builtBy":"coldstart', '"builtBy":"coldstarT'), 'latin1'), /corrupt index \(header checksum\)/],
    empty: [Buffer.alloc(0), /not a coldstart index/],
  };
  for (const [name, [bytes, reason]] of Object.entries(variants)) {
    writeFileSync(file, bytes);
    const read = readIndexFile(file);
    assert.equal(read.ok, false, name);
    assert.match(read.reason, reason, name);
  }
});

test('a corrupt package section answers "unknown" for that package only', (t) => {
  const { root, file } = project(t);
  const text = readFileSync(file, 'latin1');
  // Damage the bytes of foo's section (it holds "main.js") without changing the length.
  const damaged = text.slice(0, text.lastIndexOf('"main.js"')) + '}main.js"' + text.slice(text.lastIndexOf('"main.js"') + 9);
  writeFileSync(file, Buffer.from(damaged, 'latin1'));
  const view = openIndex(root, file).view;
  assert.equal(view.isFile(join(root, 'node_modules/foo/lib/main.js')), undefined);
  assert.equal(view.isFile(join(root, 'node_modules/@scope/pkg/x.js')), true);
  assert.deepEqual(view.stats.corrupt, ['node_modules/foo']);
  assert.equal(existsSync(file), false, 'removed, so that the next run builds a new one');
});

test('a header edited in place answers nothing through openIndex, and the file goes to be built anew', (t) => {
  const { root, file } = project(t);
  const text = readFileSync(file, 'latin1');
  writeFileSync(file, Buffer.from(text.replace('"builtBy":"coldstart', '"builtBy":"coldstarT'), 'latin1'));
  const opened = openIndex(root, file);
  assert.equal(opened.ok, true, 'the checksum is checked at the first answer, not at open');
  assert.equal(opened.view.isFile(join(root, 'node_modules/foo/lib/main.js')), undefined);
  assert.equal(opened.view.packageJson(join(root, 'node_modules/foo')), undefined);
  assert.deepEqual(opened.view.stats.corrupt, ['(header)']);
  assert.equal(existsSync(file), false);
});

test("a section edited in place, still JSON of the same length, is caught by its checksum", (t) => {
  const { root, file } = project(t);
  const text = readFileSync(file, 'latin1');
  // foo's "main":"lib/main.js" becomes "lib/mainXjs": valid JSON, same length.
  assert.ok(text.includes('"main":"lib/main.js"'));
  writeFileSync(file, Buffer.from(text.replace('"main":"lib/main.js"', '"main":"lib/mainXjs"'), 'latin1'));
  const view = openIndex(root, file).view;
  assert.equal(view.packageJson(join(root, 'node_modules/foo')), undefined);
  assert.deepEqual(view.stats.corrupt, ['node_modules/foo']);
});

test('an index writable by group or others, or owned by another user, is refused', (t) => {
  const { file } = project(t);
  chmodSync(file, 0o664);
  assert.match(readIndexFile(file).reason, /writable by group or others/);
  chmodSync(file, 0o644);
  assert.equal(readIndexFile(file).ok, true);
  if (process.getuid?.() !== 0) return t.skip('changing the owner needs root');
  chownSync(file, 65534, 65534);
  assert.match(readIndexFile(file).reason, /owned by uid 65534/);
});

test('placeOf splits paths at the last node_modules segment', () => {
  const table = [
    ['node_modules', { kind: 'modules', dir: 'node_modules' }],
    ['node_modules/foo', { kind: 'package', key: 'node_modules/foo', sub: '' }],
    ['node_modules/@s', { kind: 'modules', dir: 'node_modules/@s' }],
    ['node_modules/@s/p/a/b.js', { kind: 'package', key: 'node_modules/@s/p', sub: 'a/b.js' }],
    ['a/node_modules/x/node_modules/y/z', { kind: 'package', key: 'a/node_modules/x/node_modules/y', sub: 'z' }],
    ['node_modules/.pnpm/y@1/node_modules/y', { kind: 'package', key: 'node_modules/.pnpm/y@1/node_modules/y', sub: '' }],
    ['src/node_modules_x/a', undefined],
  ];
  for (const [rel, expected] of table) assert.deepEqual(placeOf(rel), expected, rel);
});

test('pnpm-style layouts resolve through links to one real copy', (t) => {
  const root = realpathSync(tempDir(t, 'coldstart-pnpm-'));
  writeTree(root, {
    'node_modules/.pnpm/a@1.0.0/node_modules/a/package.json': { name: 'a', main: 'a.js' },
    'node_modules/.pnpm/a@1.0.0/node_modules/a/a.js': '',
    'node_modules/.pnpm/b@2.0.0/node_modules/b/package.json': { name: 'b' },
    'node_modules/.pnpm/b@2.0.0/node_modules/b/index.js': '',
  });
  symlinkSync('../../b@2.0.0/node_modules/b', join(root, 'node_modules/.pnpm/a@1.0.0/node_modules/b'));
  symlinkSync('.pnpm/a@1.0.0/node_modules/a', join(root, 'node_modules/a'));
  mkdirSync(join(root, 'node_modules/.cache'), { recursive: true });
  const file = join(root, 'node_modules/.cache/coldstart/index.v1');
  buildIndex({ root, file });
  const view = openIndex(root, file).view;
  assert.equal(view.isFile(join(root, 'node_modules/a/a.js')), true);
  assert.equal(view.realpath(join(root, 'node_modules/a/a.js')), join(root, 'node_modules/.pnpm/a@1.0.0/node_modules/a/a.js'));
  assert.equal(view.isDirectory(join(root, 'node_modules/.pnpm/a@1.0.0/node_modules/b')), true);
  assert.equal(view.realpath(join(root, 'node_modules/.pnpm/a@1.0.0/node_modules/b/index.js')), join(root, 'node_modules/.pnpm/b@2.0.0/node_modules/b/index.js'));
  assert.equal(view.isFile(join(root, 'node_modules/b/index.js')), false, 'b is not hoisted');
});

test('a linked working copy is first-party: its files are left to Node, its own node_modules is indexed', (t) => {
  const root = realpathSync(tempDir(t, 'coldstart-linked-'));
  writeTree(root, {
    'app/package.json': { name: 'app' },
    'lib/package.json': { name: 'lib', main: 'index.js' },
    'lib/index.js': '',
    'lib/node_modules/dep/package.json': { name: 'dep', main: 'dep.js' },
    'lib/node_modules/dep/dep.js': '',
    'lib/bench/node_modules/tool/package.json': { name: 'tool' },
    'lib/bench/node_modules/tool/index.js': '',
  });
  mkdirSync(join(root, 'app/node_modules/.cache'), { recursive: true });
  symlinkSync('../../lib', join(root, 'app/node_modules/lib'));
  const file = join(root, 'app/node_modules/.cache/coldstart/index.v1');
  buildIndex({ root: join(root, 'app'), file });
  const view = openIndex(join(root, 'app'), file).view;
  assert.equal(view.isFile(join(root, 'lib/index.js')), undefined, 'the user edits it: Node is asked');
  assert.equal(view.packageJson(join(root, 'lib')), undefined);
  assert.equal(view.knowsFilesIn(join(root, 'lib')), false);
  assert.equal(view.isFile(join(root, 'lib/node_modules/dep/dep.js')), true, "the link's own dependencies are indexed");
  assert.equal(view.isDirectory(join(root, 'lib/bench/node_modules')), undefined);
  assert.equal(view.isFile(join(root, 'lib/bench/node_modules/tool/index.js')), undefined, 'a deeper node_modules is not indexed: unknown, so Node is asked');
});

test("a first-party package.json edited after the build is not answered from the index", (t) => {
  const root = realpathSync(tempDir(t, 'coldstart-nested-'));
  writeTree(root, {
    'package.json': { name: 'app' },
    'tools/package.json': { type: 'module' },
    'node_modules/foo/package.json': { name: 'foo' },
  });
  const file = join(root, 'node_modules/.cache/coldstart/index.v1');
  buildIndex({ root, file });
  assert.equal(openIndex(root, file).view.packageJson(join(root, 'tools')).type, 'module');
  writeFileSync(join(root, 'tools/package.json'), JSON.stringify({ type: 'commonjs' }));
  assert.equal(openIndex(root, file).view.packageJson(join(root, 'tools')), undefined, 'edited: Node reads it');
});

test('isFileIfDecoded answers from decoded sections only, and decodes nothing', (t) => {
  const { root, file } = project(t);
  const opened = openIndex(root, file, { verify: true });
  assert.equal(opened.ok, true, opened.reason);
  const view = opened.view;
  const main = join(root, 'node_modules/foo/lib/main.js');
  const missing = join(root, 'node_modules/foo/lib/coldstart.config.json');
  assert.equal(view.isFileIfDecoded(main), undefined);
  assert.equal(view.isFileIfDecoded(missing), undefined);
  assert.equal(view.stats.sectionsLoaded, 0);
  // A peek leaves nothing behind that a full answer would not give.
  assert.equal(view.isFile(main), true);
  assert.equal(view.stats.sectionsLoaded, 1);
  assert.equal(view.isFileIfDecoded(main), true);
  assert.equal(view.isFileIfDecoded(missing), false);
  // Top-level node_modules names are in the header: no section needed to say what is absent.
  assert.equal(view.isFileIfDecoded(join(root, 'node_modules/nope/package.json')), false);
});

test('the index lists installed packages whose ES modules import with the defer phase, not those that only name it', (t) => {
  const { walkProject } = walkModule;
  const root = tempDir(t, 'coldstart-walk-defer-');
  writeTree(root, {
    'package.json': '{ "name": "app" }\n',
    'node_modules/user/package.json': '{ "name": "user", "type": "module" }\n',
    'node_modules/user/lib/a.js': 'import defer * as b from "./b.js";\nexport const f = () => b.x;\n',
    'node_modules/user/lib/b.js': 'export const x = 1;\n',
    'node_modules/dynamic/index.mjs': 'export const load = () => import.defer("./x.mjs");\n',
    'node_modules/minified/index.mjs': 'import defer*as r from"./h.mjs";export const x=()=>r.y;\n',
    'node_modules/printer/package.json': '{ "name": "printer", "type": "module" }\n',
    'node_modules/printer/index.js': 'export const text = "import defer * as ns from \\"x\\"; import.defer(y)"; // import defer * as z from "w"\n',
    'node_modules/cjs/package.json': '{ "name": "cjs" }\n',
    'node_modules/cjs/index.js': '// not an ES module: import defer * as q from "r"\nmodule.exports = 1;\n',
  });
  assert.deepEqual(walkProject(root).deferUsers.sort(), ['node_modules/dynamic', 'node_modules/minified', 'node_modules/user']);
});
