// The loader's path <-> file URL shortcuts give what Node's url functions give, for the paths
// they take themselves and for those they hand on (odd characters, dot segments, queries).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { core } from '../helpers.mjs';

const { fileUrlOf, pathOfFileUrl } = await import(core('loader/node'));

const paths = [
  '/a/b.js', '/srv/app/node_modules/@scope/pkg/dist/index.mjs', '/x/node_modules/.pnpm/a@1.0.0+b@2/node_modules/a/i.js',
  '/x/~user/a+b/c_d-e.cjs', '/x/.bin/tool', '/x/..hidden/y.js', '/x/y.', '/', '/a//b.js', '/a/./b.js', '/a/../b.js', '/a/b/',
  '/a/b c.js', '/a/b%20c.js', '/a/b#c.js', '/a/b?c.js', '/a/é.js', '/a/b\\c.js', '/a/b\nc.js', '/a/b\tc.js', '/a/[x].js', "/a/it's.js",
];

test('fileUrlOf is pathToFileURL(path).href', { skip: process.platform === 'win32' }, () => {
  for (const path of paths) assert.equal(fileUrlOf(path), pathToFileURL(path).href, JSON.stringify(path));
});

test('pathOfFileUrl is fileURLToPath(url), errors included', { skip: process.platform === 'win32' }, () => {
  const urls = [...paths.map((path) => pathToFileURL(path).href), 'file:///a/b.js?v=1', 'file:///a/b.js#top', 'file:///a/%2e%2e/b.js', 'file://localhost/a/b.js', 'file:///a/b%2Fc.js', 'file://host/a.js', 'file:///a//b.js'];
  for (const url of urls) {
    let expected;
    try {
      expected = fileURLToPath(url);
    } catch (error) {
      assert.throws(() => pathOfFileUrl(url), { code: error.code }, url);
      continue;
    }
    assert.equal(pathOfFileUrl(url), expected, url);
  }
});

test('on Windows every path and URL goes to Node\'s functions (drive letters, UNC shares)', async () => {
  const { platform } = process;
  Object.defineProperty(process, 'platform', { value: 'win32' });
  let windows;
  try {
    windows = await import(`${pathToFileURL(core('loader/node')).href}?platform=win32`);
  } finally {
    Object.defineProperty(process, 'platform', { value: platform });
  }
  // Node's own functions follow the real platform here; what matters is that each call reaches them.
  for (const url of ['file://server/share/proj/a.js', 'file:///a/b.js']) {
    let expected;
    try {
      expected = fileURLToPath(url);
    } catch (error) {
      assert.throws(() => windows.pathOfFileUrl(url), { code: error.code }, url);
      continue;
    }
    assert.equal(windows.pathOfFileUrl(url), expected, url);
  }
  for (const path of ['/a/b.js', '']) assert.equal(windows.fileUrlOf(path), pathToFileURL(path).href, JSON.stringify(path));
});
