// Small programs for the profiler's process tests, written into a temp dir per test (a committed
// node_modules/ would be git-ignored). Each has a package loaded but never used, one that is
// used after its load, local files, JSON and builtins.
import { join } from 'node:path';
import { writeTree } from '../helpers.mjs';

/** CommonJS only. Prints `hello`, exits 7, and with CACHE_OUT=file writes require.cache's keys. */
export function writeCjsApp(dir) {
  writeTree(dir, {
    'package.json': { name: 'cjs-app', private: true },
    'main.cjs': [
      "const unused = require('unused-pkg');",
      "const used = require('used-pkg');",
      "const local = require('./local.cjs');",
      "const data = require('./data.json');",
      "const path = require('node:path');",
      "process.stdout.write('hello ' + used.greet(local.name) + data.n + path.sep + '\\n');",
      "process.stderr.write('to stderr\\n');",
      "if (process.env.CACHE_OUT) require('node:fs').writeFileSync(process.env.CACHE_OUT, JSON.stringify(Object.keys(require.cache)));",
      'process.exitCode = 7;',
      '',
    ].join('\n'),
    'local.cjs': "module.exports = { name: 'local' };\n",
    'data.json': { n: 1 },
    'node_modules/unused-pkg/package.json': { name: 'unused-pkg', main: 'index.js' },
    // Calls its own helper while it evaluates: that is part of loading, not use.
    'node_modules/unused-pkg/index.js': "const lib = require('./lib.js');\nconst table = lib.build();\nmodule.exports = { table, run() { return lib.build(); } };\n",
    'node_modules/unused-pkg/lib.js': 'exports.build = function build() { let x = 0; for (let i = 0; i < 3e7; i++) x += i; return x; };\n',
    'node_modules/used-pkg/package.json': { name: 'used-pkg', main: 'index.js' },
    // Slow enough to get a coverage snapshot, and calls greet() while it loads: that the program
    // calls the same function again afterwards must still count as use.
    'node_modules/used-pkg/index.js': "function greet(name) { return '[' + name + ']'; }\nlet x = 0;\nfor (let i = 0; i < 3e7; i++) x += i;\ngreet('at load');\nexports.greet = greet;\n",
  });
  return { main: 'main.cjs' };
}

/** ES modules only: the same shape with import statements. */
export function writeEsmApp(dir) {
  writeTree(dir, {
    'package.json': { name: 'esm-app', private: true, type: 'module' },
    'main.mjs': [
      "import { build } from 'esm-unused';",
      "import * as used from 'esm-used';",
      "import { name } from './local.mjs';",
      "import { sep } from 'node:path';",
      "console.log('hello ' + used.greet(name) + sep);",
      '',
    ].join('\n'),
    'local.mjs': "export const name = 'local';\n",
    'node_modules/esm-unused/package.json': { name: 'esm-unused', type: 'module', exports: './index.js' },
    'node_modules/esm-unused/index.js': "import { helper } from './helper.js';\nexport const table = helper();\nexport function build() { return helper(); }\n",
    'node_modules/esm-unused/helper.js': 'export function helper() { let x = 0; for (let i = 0; i < 3e7; i++) x += i; return x; }\n',
    'node_modules/esm-used/package.json': { name: 'esm-used', type: 'module', exports: './index.js' },
    'node_modules/esm-used/index.js': "export function greet(name) { return '[' + name + ']'; }\nlet x = 0;\nfor (let i = 0; i < 3e7; i++) x += i;\ngreet('at load');\n",
  });
  return {
    main: 'main.mjs',
    files: ['main.mjs', 'local.mjs', 'node_modules/esm-unused/index.js', 'node_modules/esm-unused/helper.js', 'node_modules/esm-used/index.js'],
  };
}

/** A parent that starts a child Node process: both must be recorded. */
export function writeParentChild(dir) {
  writeTree(dir, {
    'package.json': { name: 'pc', private: true, scripts: { start: 'node parent.cjs' } },
    'parent.cjs': "const { execFileSync } = require('node:child_process');\nexecFileSync(process.execPath, [require('node:path').join(__dirname, 'child.mjs')], { stdio: 'inherit' });\n",
    'child.mjs': "import './child-dep.mjs';\nconsole.log('child ran');\n",
    'child-dep.mjs': 'export const x = 1;\n',
  });
}

/**
 * CommonJS programs that reach ES modules only later, one way each: import(), require() of a
 * .mjs file, of a "type": "module" package, and of a file in a package without "type" that
 * Node runs as an ES module for its syntax. Each ES module imports another statically.
 * Returns { way: { dir, main, esm } }, `esm` the ES module files that program loads.
 */
export function writeLateEsmApps(dir) {
  const pair = (a, b) => ({ [a]: "import { n } from './b" + b.slice(b.lastIndexOf('.')) + "';\nexport const value = n + 1;\n", [b]: 'export const n = 1;\n' });
  const apps = {
    'dynamic-import': { load: "import('./dyn/a.mjs').then((m) => console.log('value', m.value));", files: pair('dyn/a.mjs', 'dyn/b.mjs') },
    'require-mjs': { load: "console.log('value', require('./mjs/a.mjs').value);", files: pair('mjs/a.mjs', 'mjs/b.mjs') },
    'require-type-module': { load: "console.log('value', require('./typed/a.js').value);", files: { 'typed/package.json': '{"type":"module"}', ...pair('typed/a.js', 'typed/b.js') } },
    'require-detected': { load: "console.log('value', require('./loose/a.js').value);", files: pair('loose/a.js', 'loose/b.js') },
  };
  const out = {};
  for (const [way, { load, files }] of Object.entries(apps)) {
    writeTree(join(dir, way), {
      'package.json': { name: way, private: true },
      'plain.cjs': 'module.exports = 1;\n',
      'main.cjs': `require('./plain.cjs');\n${load}\n`,
      ...files,
    });
    out[way] = { dir: join(dir, way), main: 'main.cjs', esm: Object.keys(files).filter((f) => !f.endsWith('package.json')) };
  }
  return out;
}
