// The pack's on-disk format and the in-memory server: round trip, alignment, checksums, and
// the one-line reasons for foreign, truncated and corrupt packs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { core } from '../helpers.mjs';
const { decodePack, encodePack, FORMAT_VERSION } = await import(core('pack/format'));
const { PackServer, newPackCounts } = await import(core('pack/server'));

const input = () => ({
  root: '/build/root',
  node: 'v0',
  conditions: 'c',
  stamps: [['package.json', 1, 2]],
  modules: [
    { path: 'node_modules/a/index.js', format: 'commonjs', mtime: 5, bytes: Buffer.from('exports.a = "é";\n') },
    { path: 'node_modules/a/data.json', format: 'json', mtime: 6, bytes: Buffer.from('{"x":1}') },
    { path: 'src/own.mjs', format: 'module', mtime: 7, bytes: Buffer.from('export default 1;') },
  ],
  answers: [
    ['node_modules/a', './data.json', 'r', 'node_modules/a/data.json', 'json'],
    ['src', 'a', 'r', 'node_modules/a/index.js', 'commonjs'],
  ],
});

test('encode then decode gives back every module byte for byte, 4-byte aligned', () => {
  const { header, body } = decodePack(encodePack(input()));
  assert.equal(header.modules.length, 3);
  for (const [i, m] of input().modules.entries()) {
    const [path, format, size, mtime, offset] = header.modules[i];
    assert.deepEqual([path, format, size, mtime], [m.path, m.format, m.bytes.length, m.mtime]);
    assert.equal(offset % 4, 0);
    assert.equal(body.subarray(offset, offset + size).toString(), m.bytes.toString());
  }
  assert.equal(body.byteOffset % 4, 0);
});

test('foreign, truncated and corrupt packs are refused with a reason', () => {
  const good = encodePack(input());
  const cases = [
    ['not a pack', Buffer.from('hello world, this is not a pack'), /not a coldstart pack/],
    ['other version', Buffer.from(good.toString('latin1').replace(`\n${FORMAT_VERSION}\n`, '\n99\n'), 'latin1'), /pack format 99/],
    ['truncated body', good.subarray(0, good.length - 3), /body is/],
    ['truncated header', good.subarray(0, 60), /truncated (header|start line)|JSON|Unterminated|Unexpected/],
    ['empty', Buffer.alloc(0), /not a coldstart pack/],
    ['header edited in place', Buffer.from(good.toString('latin1').replace('node_modules/a', 'node_modules/b'), 'latin1'), /corrupt header \(checksum\)/],
  ];
  for (const [name, bytes, reason] of cases) assert.throws(() => decodePack(bytes), reason, name);
});

test('the server serves sources, answers only between node_modules files, and stops at a bad checksum', () => {
  const bytes = encodePack(input());
  const counts = newPackCounts();
  const server = new PackServer(decodePack(bytes), '/run/here', { verify: false, conditions: 'c', counts });
  assert.equal(server.source('/run/here/node_modules/a/index.js', ['commonjs']).source, 'exports.a = "é";\n');
  assert.equal(server.source('/run/here/node_modules/a/index.js', ['module']), undefined, 'format not asked for');
  assert.equal(server.answer('/run/here/node_modules/a', './data.json', 'r').path, '/run/here/node_modules/a/data.json');
  assert.equal(server.answer('/run/here/src', 'a', 'r'), undefined, 'first-party parents are left to the index');
  assert.equal(server.answer('/run/here/node_modules/a', './data.json', 'i'), undefined, 'mode is part of the key');
  assert.equal(counts.hits, 1);

  const other = new PackServer(decodePack(bytes), '/run/here', { verify: false, conditions: 'other', counts: newPackCounts() });
  assert.equal(other.answer('/run/here/node_modules/a', './data.json', 'r'), undefined, 'other conditions: no answers');

  const flipped = Buffer.from(bytes);
  const decoded = decodePack(flipped);
  const [, , , , offset] = decoded.header.modules[1];
  decoded.body[offset + 2] ^= 0xff;
  const broken = new PackServer(decoded, '/run/here', { verify: false, conditions: 'c', counts: newPackCounts() });
  assert.equal(broken.source('/run/here/node_modules/a/data.json', ['json']), undefined);
  assert.equal(broken.source('/run/here/node_modules/a/index.js', ['commonjs']), undefined, 'nothing more is served after a bad checksum');
  assert.equal(broken.counts.stale, 1);
});

test('code caches: stored after the sources for CommonJS only, offered in place, checked before V8 sees them', () => {
  const withCache = () => {
    const value = input();
    value.modules[0].codeCache = Buffer.from('v8-cache-bytes-for-a');
    value.modules[1].codeCache = Buffer.from('json has none'); // not CommonJS: dropped
    return { ...value, codeCacheTag: 'v20.0.0-x64' };
  };
  const bytes = encodePack(withCache());
  const { header, body } = decodePack(bytes);
  assert.equal(header.codeCache, 'v20.0.0-x64');
  assert.equal(header.modules[0].length, 9);
  assert.equal(header.modules[1].length, 6);
  const [, , , , sourceAt, , cacheAt, cacheLength] = header.modules[0];
  assert.ok(cacheAt > sourceAt && cacheAt % 4 === 0);
  assert.equal(body.toString('latin1', cacheAt, cacheAt + cacheLength), 'v8-cache-bytes-for-a');
  // Without a tag, nothing is stored; a reader of the first six fields still serves sources.
  assert.equal(decodePack(encodePack({ ...withCache(), codeCacheTag: undefined })).header.modules[0].length, 6);

  const server = new PackServer(decodePack(bytes), '/build/root', { verify: false, conditions: 'c', counts: newPackCounts() });
  assert.equal(server.codeCacheTag, 'v20.0.0-x64');
  assert.equal(server.codeCache('/build/root/node_modules/a/index.js'), undefined, 'only after its source was served and checked');
  server.source('/build/root/node_modules/a/index.js', ['commonjs']);
  const cache = server.codeCache('/build/root/node_modules/a/index.js');
  assert.equal(cache.toString(), 'v8-cache-bytes-for-a');
  assert.equal(server.codeCache('/build/root/node_modules/a/data.json'), undefined);

  // Moved elsewhere: the caches (which name the recorded paths) are not offered.
  assert.equal(new PackServer(decodePack(bytes), '/run/here', { verify: false, conditions: 'c', counts: newPackCounts() }).codeCacheTag, '');

  // A flipped cache byte: the source is still served, the cache is not.
  const flipped = decodePack(Buffer.from(bytes));
  flipped.body[cacheAt + 3] ^= 0xff;
  const careful = new PackServer(flipped, '/build/root', { verify: false, conditions: 'c', counts: newPackCounts() });
  assert.equal(careful.source('/build/root/node_modules/a/index.js', ['commonjs']).source, 'exports.a = "é";\n');
  assert.equal(careful.codeCache('/build/root/node_modules/a/index.js'), undefined);

  // A cache entry pointing outside the body is a corrupt pack: found when the module is first
  // asked for, and then nothing more is served from it (each row is checked at first use).
  const bad = decodePack(Buffer.from(bytes));
  bad.header.modules[0][6] = bad.body.length;
  const wary = new PackServer(bad, '/build/root', { verify: false, conditions: 'c', counts: newPackCounts() });
  // Rows asked for before it are served: they are whole, and checked like any other.
  assert.equal(wary.source('/build/root/node_modules/a/data.json', ['json']).source, '{"x":1}');
  assert.equal(wary.brokenReason, undefined);
  assert.equal(wary.source('/build/root/node_modules/a/index.js', ['commonjs']), undefined);
  assert.match(wary.brokenReason, /node_modules\/a\/index\.js has a corrupt entry/);
  assert.equal(wary.source('/build/root/node_modules/a/data.json', ['json']), undefined, 'nothing more once it is found');
  assert.equal(wary.answer('/build/root/node_modules/a', './data.json', 'r'), undefined);
  assert.equal(wary.packedFormat('/build/root/node_modules/a/data.json'), undefined);
});

test('what a served run reads lies first, in the order given, its learned-deferral source in place of its source', () => {
  const lazySource = Buffer.from('/* rewritten */ exports.a = 1;\n');
  const modules = input().modules.map((m) => (m.path === 'src/own.mjs' ? m : { ...m }));
  modules[0].lazy = { source: lazySource, deferred: ['x'] };
  const { header, body } = decodePack(encodePack({ ...input(), modules, servedFirst: ['src/own.mjs', 'node_modules/a/index.js'] }));
  const row = (path) => header.modules.find((m) => m[0] === path);
  const [, , , , ownAt] = row('src/own.mjs');
  const [lazyPath, lazyAt, lazyLength] = header.lazy[0];
  assert.equal(lazyPath, 'node_modules/a/index.js');
  assert.equal(ownAt, 0);
  assert.ok(lazyAt > ownAt && lazyAt < row('node_modules/a/index.js')[4], 'the rewrite before the original it replaces');
  assert.ok(lazyAt < row('node_modules/a/data.json')[4], 'before what the run does not read first');
  assert.equal(body.subarray(lazyAt, lazyAt + lazyLength).toString(), lazySource.toString());
  // Every byte is still where its row says, under its checksum.
  for (const [path, , size, , offset] of header.modules) assert.equal(body.subarray(offset, offset + size).toString(), modules.find((m) => m.path === path).bytes.toString());
  // The rows keep the input's order, whatever the body's.
  assert.deepEqual(header.modules.map((m) => m[0]), modules.map((m) => m.path));
});

test('a packed file inside node_modules required by its own path answers itself while it is on disk', (t) => {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'coldstart-own-answer-')));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'node_modules/a'), { recursive: true });
  writeFileSync(join(dir, 'node_modules/a/index.js'), 'exports.a = "é";\n');
  writeFileSync(join(dir, 'src.js'), '');
  const server = new PackServer(decodePack(encodePack({ ...input(), root: dir })), dir, { verify: false, conditions: 'c', counts: newPackCounts() });
  const own = `${dir}/node_modules/a/index.js`;
  assert.deepEqual(server.answer(`${dir}/node_modules/a`, own, 'r'), { path: own, format: '' }, 'format left to Node');
  assert.equal(server.answer(`${dir}/node_modules/a`, own, 'i'), undefined, 'import gives a URL, not a path');
  assert.equal(server.answer(dir, own, 'r'), undefined, 'from a first-party file: the index\'s');
  assert.equal(server.answer(`${dir}/node_modules/a`, `${dir}/node_modules/a/data.json`, 'r'), undefined, 'not on disk: Node says so');
  // No condition changes where a real path leads.
  const other = new PackServer(decodePack(encodePack({ ...input(), root: dir })), dir, { verify: false, conditions: 'other', counts: newPackCounts() });
  assert.equal(other.answer(`${dir}/node_modules/a`, own, 'r').path, own);
  rmSync(own);
  assert.equal(server.answer(`${dir}/node_modules/a`, own, 'r'), undefined, 'deleted since: Node says so');
});

test('probedBefore: the paths whose state decided where a require went', async () => {
  const { probedBefore } = await import(core('pack/build'));
  assert.deepEqual(probedBefore('/p', './a', '/p/a.js'), ['/p/a']);
  assert.deepEqual(probedBefore('/p', './a', '/p/a.node'), ['/p/a', '/p/a.js', '/p/a.json']);
  assert.deepEqual(probedBefore('/p', './a', '/p/a.ts'), ['/p/a', '/p/a.js', '/p/a.json', '/p/a.node']);
  assert.deepEqual(probedBefore('/p/lib', '../a', '/p/a/index.json'), ['/p/a', '/p/a.js', '/p/a.json', '/p/a.node', '/p/a/package.json', '/p/a/index.js']);
  // Through a package.json "main": that package.json, and the files of the directory's name.
  assert.deepEqual(probedBefore('/p', './a', '/p/a/lib/main.js'), ['/p/a', '/p/a.js', '/p/a.json', '/p/a.node', '/p/a/package.json', '/p/a/lib', '/p/a/lib.js', '/p/a/lib.json', '/p/a/lib.node', '/p/a/lib/main']);
  // A trailing slash names the directory alone; an absolute path is its own base.
  assert.deepEqual(probedBefore('/p', './a/', '/p/a/index.js'), ['/p/a/package.json']);
  assert.deepEqual(probedBefore('/q', '/p/a', '/p/a.js'), ['/p/a']);
  // Through a "main" naming a directory or a file without its extension: what Node tries first.
  assert.deepEqual(probedBefore('/p', './k', '/p/k/dist/index.js'), ['/p/k', '/p/k.js', '/p/k.json', '/p/k.node', '/p/k/package.json', '/p/k/dist', '/p/k/dist.js', '/p/k/dist.json', '/p/k/dist.node', '/p/k/dist/index']);
  // Named exactly: nothing. A bare or `#` specifier: the node_modules folders passed and the
  // package.json files found by lookup (markers lazyWatch resolves), for the requirer's
  // "imports" and the target's package.
  assert.deepEqual(probedBefore('/p', './a.js', '/p/a.js'), []);
  for (const specifier of ['#a', 'a']) {
    const bare = probedBefore('/p', specifier, '/p/sub/a.js');
    assert.equal(bare.length, 3);
    assert.ok(bare.every((marker) => marker.startsWith('\0')));
  }
  // Found elsewhere than the specifier leads (a symlink on the way): cannot be watched.
  assert.equal(probedBefore('/p', './link', '/p/real/index.js'), undefined);
});
