// The pure resolver as tables of (case, input, expected) over an in-memory view: every
// feature of Node's CommonJS and ESM algorithms, with exact paths, codes and messages.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { core } from '../helpers.mjs';

const { resolve } = await import(core('resolve/resolve'));
const { createMemoryView } = await import(core('resolve/memory-view'));

const REQUIRE = ['node', 'require', 'module-sync', 'node-addons'];
const IMPORT = ['node', 'import', 'module-sync', 'node-addons'];

const view = createMemoryView({
  files: {
    '/p/package.json': { name: 'app', imports: { '#cfg': './src/config.js', '#dep': 'exp', '#lib/*': './src/lib/*.js', '#lib/private/*': null, '#bad': 'src/config.js', '#url': 'https://x.test/a.js', '#up': '../outside.js' }, exports: { '.': './src/main.js', './feature': './src/feature.js' } },
    '/p/src/main.js': '', '/p/src/feature.js': '', '/p/src/config.js': '', '/p/src/lib/a.js': '', '/p/src/lib/private/b.js': '',
    '/p/src/file.js': '', '/p/src/file.json': '', '/p/src/only.node': '', '/p/src/data.json': '', '/p/src/esm.mjs': '', '/p/src/cjs.cjs': '',
    '/p/src/script.ts': '', '/p/src/dir/index.js': '', '/p/src/jsondir/index.json': '', '/p/src/empty/': '',
    '/p/src/withmain/package.json': { main: 'lib/entry' }, '/p/src/withmain/lib/entry.js': '',
    '/p/src/maindir/package.json': { main: './lib' }, '/p/src/maindir/lib/index.js': '',
    '/p/src/badmain/package.json': { main: 'nowhere.js' },
    '/p/src/badmain-index/package.json': { main: 'nowhere.js' }, '/p/src/badmain-index/index.js': '',
    '/p/src/mod/package.json': { type: 'module' }, '/p/src/mod/x.js': '', '/p/src/mod/y.cjs': '',
    // exports: sugar, conditions in order, patterns, null, arrays, invalid targets
    '/p/node_modules/exp/package.json': {
      name: 'exp',
      exports: {
        '.': { import: './esm.mjs', require: './cjs.cjs', default: './esm.mjs' },
        './cond': { node: { import: './node-import.mjs', default: './node-default.js' }, default: './default.js' },
        './order': { default: './default.js', node: './node-default.js' },
        './pat/*': './lib/*.js',
        './pat/deep/*': './deep/*.js',
        './pat/*.css': './styles/*.css',
        './pat/excluded/*': null,
        './arr': ['./missing.js', './default.js'],
        './arr-invalid': ['nope', './default.js'],
        './arr-null': [null, './default.js'],
        './arr-empty': [],
        './invalid': 'default.js',
        './escape': './../outside.js',
        './nomatch': { browser: './browser.js' },
        './dir': './lib/',
        './gone': './gone.js',
        './package.json': './package.json',
      },
    },
    '/p/node_modules/exp/esm.mjs': '', '/p/node_modules/exp/cjs.cjs': '', '/p/node_modules/exp/node-import.mjs': '', '/p/node_modules/exp/node-default.js': '',
    '/p/node_modules/exp/default.js': '', '/p/node_modules/exp/lib/a.js': '', '/p/node_modules/exp/lib/b/c.js': '', '/p/node_modules/exp/deep/d.js': '',
    '/p/node_modules/exp/styles/s.css': '', '/p/node_modules/exp/lib/excluded/e.js': '', '/p/node_modules/exp/lib/index.js': '',
    '/p/node_modules/sugar/package.json': { exports: './main.js' }, '/p/node_modules/sugar/main.js': '',
    '/p/node_modules/csugar/package.json': { exports: { require: './r.js', default: './d.mjs' }, type: 'module' }, '/p/node_modules/csugar/r.js': '', '/p/node_modules/csugar/d.mjs': '',
    '/p/node_modules/legacy/package.json': { main: './lib/main' }, '/p/node_modules/legacy/lib/main.js': '', '/p/node_modules/legacy/lib/util.js': '', '/p/node_modules/legacy/lib/sub/index.js': '',
    '/p/node_modules/noindex/package.json': { name: 'noindex' },
    '/p/node_modules/nopkg/index.js': '',
    '/p/node_modules/@scope/pkg/package.json': { exports: { './x': './x.js' } }, '/p/node_modules/@scope/pkg/x.js': '',
    '/p/node_modules/bad-json/package.json': '{ nope',
    '/p/node_modules/bad-json/index.js': '',
    '/p/node_modules/mixed/package.json': { exports: { '.': './a.js', import: './b.js' } },
    '/p/node_modules/file.js': '',
    '/p/sub/node_modules/near/index.js': '', '/p/node_modules/near/index.js': '',
    '/p/node_modules/real/index.js': '',
    '/extra/lib/fromnodepath.js': '',
    '/p/src/unknowndir/x.js': '',
    '/p/node_modules/scoped-only/node_modules/inner/index.js': '',
    '/p/node_modules/nest/node_modules/node_modules/deep/index.js': '',
  },
  links: { '/p/node_modules/linked': '/p/node_modules/real' },
  unknown: ['/p/src/unknowndir', '/p/node_modules/mystery'],
  nodePath: ['/extra/lib'],
});

const main = '/p/src/main.js';
const U = { unknown: true };
const code = (c, message) => ({ code: c, message });

// [case, mode, specifier, parent, expected]: expected is a path, { builtin }, { code, message? } or U.
const table = [
  ['builtin bare (require keeps the name)', 'require', 'fs', main, { builtin: 'fs' }],
  ['builtin bare (import adds node:)', 'import', 'fs', main, { builtin: 'node:fs' }],
  ['builtin subpath', 'import', 'fs/promises', main, { builtin: 'node:fs/promises' }],
  ['builtin node: prefix', 'require', 'node:path', main, { builtin: 'node:path' }],
  ['node:-only builtin', 'require', 'node:test', main, { builtin: 'node:test' }],
  ['node:-only name without prefix is a package', 'require', 'test', main, code('MODULE_NOT_FOUND', "Cannot find module 'test'\nRequire stack:\n- /p/src/main.js")],
  ['unknown node: name is left to Node', 'import', 'node:nope', main, U],

  ['cjs exact file', 'require', './file.js', main, '/p/src/file.js'],
  ['cjs .js before .json', 'require', './file', main, '/p/src/file.js'],
  ['cjs .node probing', 'require', './only', main, '/p/src/only.node'],
  ['cjs .json exact', 'require', './data.json', main, '/p/src/data.json'],
  ['cjs .mjs only by exact name', 'require', './esm.mjs', main, '/p/src/esm.mjs'],
  ['cjs no .mjs probing', 'require', './esm', main, code('MODULE_NOT_FOUND')],
  ['cjs directory index.js', 'require', './dir', main, '/p/src/dir/index.js'],
  ['cjs directory trailing slash', 'require', './dir/', main, '/p/src/dir/index.js'],
  ['cjs directory index.json', 'require', './jsondir', main, '/p/src/jsondir/index.json'],
  ['cjs empty directory', 'require', './empty', main, code('MODULE_NOT_FOUND')],
  ['cjs package.json main with extension probing', 'require', './withmain', main, '/p/src/withmain/lib/entry.js'],
  ['cjs main naming a directory', 'require', './maindir', main, '/p/src/maindir/lib/index.js'],
  ['cjs bad main and no index', 'require', './badmain', main, code('MODULE_NOT_FOUND', "Cannot find module '/p/src/badmain/nowhere.js'. Please verify that the package.json has a valid \"main\" entry")],
  ['cjs bad main rescued by index (Node warns)', 'require', './badmain-index', main, U],
  ['cjs absolute path', 'require', '/p/src/file', main, '/p/src/file.js'],
  ['cjs parent-relative', 'require', '../package.json', main, '/p/package.json'],
  ['cjs node_modules: nearest first', 'require', 'near', '/p/sub/x.js', '/p/sub/node_modules/near/index.js'],
  ['cjs node_modules: walks up', 'require', 'near', main, '/p/node_modules/near/index.js'],
  ['cjs node_modules segments are skipped', 'require', 'deep', '/p/node_modules/nest/node_modules/x.js', code('MODULE_NOT_FOUND')],
  ['cjs package without package.json', 'require', 'nopkg', main, '/p/node_modules/nopkg/index.js'],
  ['cjs file directly in node_modules', 'require', 'file', main, '/p/node_modules/file.js'],
  ['cjs legacy main', 'require', 'legacy', main, '/p/node_modules/legacy/lib/main.js'],
  ['cjs legacy subpath probing', 'require', 'legacy/lib/util', main, '/p/node_modules/legacy/lib/util.js'],
  ['cjs legacy subpath directory', 'require', 'legacy/lib/sub', main, '/p/node_modules/legacy/lib/sub/index.js'],
  ['cjs NODE_PATH', 'require', 'fromnodepath', main, '/extra/lib/fromnodepath.js'],
  ['cjs symlink realpath', 'require', 'linked', main, '/p/node_modules/real/index.js'],
  ['cjs not found anywhere', 'require', 'ghost', main, code('MODULE_NOT_FOUND', "Cannot find module 'ghost'\nRequire stack:\n- /p/src/main.js")],
  ['cjs relative without parent uses the cwd', 'require', './x', undefined, U],

  ['exports require condition', 'require', 'exp', main, '/p/node_modules/exp/cjs.cjs'],
  ['exports import condition', 'import', 'exp', main, '/p/node_modules/exp/esm.mjs'],
  ['exports nested conditions', 'import', 'exp/cond', main, '/p/node_modules/exp/node-import.mjs'],
  ['exports nested default', 'require', 'exp/cond', main, '/p/node_modules/exp/node-default.js'],
  ['exports condition order is the object order', 'import', 'exp/order', main, '/p/node_modules/exp/default.js'],
  ['exports user condition does not reorder', 'import', 'exp/cond', main, '/p/node_modules/exp/node-import.mjs', ['custom', ...IMPORT]],
  ['exports without node condition', 'import', 'exp/cond', main, '/p/node_modules/exp/default.js', ['import']],
  ['exports pattern', 'import', 'exp/pat/a', main, '/p/node_modules/exp/lib/a.js'],
  ['exports pattern spans slashes', 'import', 'exp/pat/b/c', main, '/p/node_modules/exp/lib/b/c.js'],
  ['exports longest prefix wins', 'import', 'exp/pat/deep/d', main, '/p/node_modules/exp/deep/d.js'],
  ['exports pattern with a trailer', 'import', 'exp/pat/s.css', main, '/p/node_modules/exp/styles/s.css'],
  ['exports null pattern excludes', 'import', 'exp/pat/excluded/e', main, code('ERR_PACKAGE_PATH_NOT_EXPORTED', "Package subpath './pat/excluded/e' is not defined by \"exports\" in /p/node_modules/exp/package.json imported from /p/src/main.js")],
  ['exports array: first valid target (no file check)', 'import', 'exp/arr', main, code('ERR_MODULE_NOT_FOUND', "Cannot find module '/p/node_modules/exp/missing.js' imported from /p/src/main.js")],
  ['exports array skips invalid targets', 'import', 'exp/arr-invalid', main, '/p/node_modules/exp/default.js'],
  ['exports array skips null', 'import', 'exp/arr-null', main, '/p/node_modules/exp/default.js'],
  ['exports empty array', 'import', 'exp/arr-empty', main, code('ERR_PACKAGE_PATH_NOT_EXPORTED')],
  ['exports invalid target', 'import', 'exp/invalid', main, code('ERR_INVALID_PACKAGE_TARGET', 'Invalid "exports" target "default.js" defined for \'./invalid\' in the package config /p/node_modules/exp/package.json imported from /p/src/main.js; targets must start with "./"')],
  ['exports target escaping the package', 'import', 'exp/escape', main, U],
  ['exports no matching condition', 'import', 'exp/nomatch', main, code('ERR_PACKAGE_PATH_NOT_EXPORTED')],
  ['exports not exported subpath', 'require', 'exp/lib/a.js', main, code('ERR_PACKAGE_PATH_NOT_EXPORTED', "Package subpath './lib/a.js' is not defined by \"exports\" in /p/node_modules/exp/package.json")],
  ['exports target missing under require', 'require', 'exp/gone', main, code('MODULE_NOT_FOUND', "Cannot find module '/p/node_modules/exp/gone.js'\nRequire stack:\n- /p/src/main.js")],
  ['exports target missing under import', 'import', 'exp/gone', main, code('ERR_MODULE_NOT_FOUND')],
  ['exports string sugar', 'import', 'sugar', main, '/p/node_modules/sugar/main.js'],
  ['exports string sugar has no subpaths', 'import', 'sugar/main.js', main, code('ERR_PACKAGE_PATH_NOT_EXPORTED')],
  ['exports conditional sugar', 'require', 'csugar', main, '/p/node_modules/csugar/r.js'],
  ['exports scoped package', 'import', '@scope/pkg/x', main, '/p/node_modules/@scope/pkg/x.js'],
  ['exports scoped package has no main', 'import', '@scope/pkg', main, code('ERR_PACKAGE_PATH_NOT_EXPORTED', 'No "exports" main defined in /p/node_modules/@scope/pkg/package.json imported from /p/src/main.js')],
  ['exports mixing keys is left to Node', 'import', 'mixed', main, U],

  ['imports exact', 'import', '#cfg', main, '/p/src/config.js'],
  ['imports exact under require', 'require', '#cfg', main, '/p/src/config.js'],
  ['imports to a package', 'import', '#dep', main, '/p/node_modules/exp/esm.mjs'],
  ['imports to a package under require', 'require', '#dep', main, '/p/node_modules/exp/cjs.cjs'],
  ['imports pattern', 'import', '#lib/a', main, '/p/src/lib/a.js'],
  ['imports null pattern', 'import', '#lib/private/b', main, code('ERR_PACKAGE_IMPORT_NOT_DEFINED', 'Package import specifier "#lib/private/b" is not defined in package /p/package.json imported from /p/src/main.js')],
  ['imports undefined', 'require', '#nope', main, code('ERR_PACKAGE_IMPORT_NOT_DEFINED')],
  ['imports bare-looking target is a package name', 'import', '#bad', main, code('ERR_MODULE_NOT_FOUND', "Cannot find package 'src' imported from /p/package.json")],
  ['imports URL target is left to Node', 'import', '#url', main, U],
  ['imports outside the package', 'import', '#up', main, code('ERR_INVALID_PACKAGE_TARGET')],
  ['imports outside any scope', 'import', '#x', '/q/x.js', code('ERR_PACKAGE_IMPORT_NOT_DEFINED', 'Package import specifier "#x" is not defined imported from /q/x.js')],
  ['imports invalid name', 'import', '#', main, U],

  ['self-reference by name', 'import', 'app', main, '/p/src/main.js'],
  ['self-reference subpath', 'require', 'app/feature', main, '/p/src/feature.js'],
  ['self-reference not exported', 'import', 'app/src/file.js', main, code('ERR_PACKAGE_PATH_NOT_EXPORTED')],
  ['no self-reference from node_modules', 'require', 'app', '/p/node_modules/near/index.js', code('MODULE_NOT_FOUND')],

  ['esm exact relative', 'import', './file.js', main, '/p/src/file.js'],
  ['esm no extension probing', 'import', './file', main, code('ERR_MODULE_NOT_FOUND', "Cannot find module '/p/src/file' imported from /p/src/main.js")],
  ['esm no directory index', 'import', './dir', main, code('ERR_UNSUPPORTED_DIR_IMPORT', "Directory import '/p/src/dir' is not supported resolving ES modules imported from /p/src/main.js")],
  ['esm trailing slash is a directory import', 'import', './file.js/', main, code('ERR_UNSUPPORTED_DIR_IMPORT')],
  ['esm file: URL', 'import', 'file:///p/src/file.js', main, '/p/src/file.js'],
  ['esm absolute path', 'import', '/p/src/file.js', main, '/p/src/file.js'],
  ['esm percent-encoding decodes', 'import', './fil%65.js', main, '/p/src/file.js'],
  ['esm encoded slash is left to Node', 'import', './dir%2Findex.js', main, U],
  ['esm query is left to Node', 'import', './file.js?x=1', main, U],
  ['esm legacy main probes extensions', 'import', 'legacy', main, '/p/node_modules/legacy/lib/main.js'],
  ['esm legacy subpath does not probe', 'import', 'legacy/lib/util', main, code('ERR_MODULE_NOT_FOUND')],
  ['esm legacy main falls back to index.js', 'import', 'nopkg', main, '/p/node_modules/nopkg/index.js'],
  ['esm package without any main', 'import', 'noindex', main, code('ERR_MODULE_NOT_FOUND', "Cannot find package '/p/node_modules/noindex/' imported from /p/src/main.js")],
  ['esm package not found', 'import', 'ghost', main, code('ERR_MODULE_NOT_FOUND', "Cannot find package 'ghost' imported from /p/src/main.js")],
  ['esm walks node_modules segments too', 'import', 'deep', '/p/node_modules/nest/node_modules/x.js', '/p/node_modules/nest/node_modules/node_modules/deep/index.js'],
  ['nested node_modules of a package', 'require', 'inner', '/p/node_modules/scoped-only/x.js', '/p/node_modules/scoped-only/node_modules/inner/index.js'],
  ['esm no NODE_PATH', 'import', 'fromnodepath', main, code('ERR_MODULE_NOT_FOUND')],
  ['esm invalid package name', 'import', '@scope', main, U],
  ['esm symlink realpath', 'import', 'linked', main, '/p/node_modules/real/index.js'],

  ['unknown directory', 'require', './unknowndir/x', main, U],
  ['unknown package', 'import', 'mystery', main, U],
  ['malformed package.json', 'require', 'bad-json', main, U],
];

test('resolver table: paths, builtins, errors and give-ups equal what Node does', () => {
  const failures = [];
  for (const [name, mode, specifier, parentPath, expected, conditions] of table) {
    const got = resolve(view, { specifier, parentPath, mode, conditions: conditions ?? (mode === 'require' ? REQUIRE : IMPORT) });
    let ok;
    if (typeof expected === 'string') ok = got.kind === 'file' && got.path === expected;
    else if (expected.builtin) ok = got.kind === 'builtin' && got.id === expected.builtin;
    else if (expected.unknown) ok = got.kind === 'unknown';
    else ok = got.kind === 'not-found' && got.code === expected.code && (expected.message === undefined || got.message === expected.message);
    if (!ok) failures.push(`${name}: ${mode} ${specifier}\n    expected ${JSON.stringify(expected)}\n    got      ${JSON.stringify(got)}`);
  }
  assert.equal(failures.length, 0, `${failures.length} of ${table.length} cases differ:\n${failures.join('\n')}`);
});

test('format: by extension, .js by the package scope "type", TypeScript left to Node', () => {
  const formats = [
    ['./esm.mjs', 'module'], ['./cjs.cjs', 'commonjs'], ['./data.json', 'json'], ['./only.node', 'addon'],
    ['./mod/x.js', 'module'], ['./mod/y.cjs', 'commonjs'], ['./file.js', undefined], ['./script.ts', undefined],
  ];
  for (const [specifier, format] of formats) {
    const got = resolve(view, { specifier, parentPath: main, mode: 'require', conditions: REQUIRE });
    assert.equal(got.kind, 'file', specifier);
    assert.equal(got.format, format, specifier);
  }
  // The scope stops at node_modules: a package without "type" is not governed by the project's.
  const scoped = createMemoryView({ files: { '/r/package.json': { type: 'module' }, '/r/node_modules/a/index.js': '', '/r/a.js': '' } });
  assert.equal(resolve(scoped, { specifier: 'a', parentPath: '/r/a.js', mode: 'import', conditions: IMPORT }).format, undefined);
  assert.equal(resolve(scoped, { specifier: './a.js', parentPath: '/r/a.js', mode: 'import', conditions: IMPORT }).format, 'module');
});

test('a view that throws never breaks resolution: the answer is unknown', () => {
  const broken = { ...view, isFile() { throw new Error('boom'); } };
  const got = resolve(broken, { specifier: './file', parentPath: main, mode: 'require', conditions: REQUIRE });
  assert.equal(got.kind, 'unknown');
  assert.match(got.reason, /boom/);
});

test('require.extensions order is honoured when passed', () => {
  const got = resolve(view, { specifier: './file', parentPath: main, mode: 'require', conditions: REQUIRE, extensions: ['.json', '.js'] });
  assert.equal(got.path, '/p/src/file.json');
});
