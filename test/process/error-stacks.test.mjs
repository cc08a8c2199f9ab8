// With coldstart serving a process, errors that pass through its loader steps keep the program's
// own frames and show none of coldstart's (Node keeps Error.stackTraceLimit frames, 10 by
// default, which coldstart's would otherwise fill).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { dist, runCli, runNode, tempDir, writeTree } from '../helpers.mjs';

const registerCjs = join(dist, 'register.cjs');
const frames = (stderr) => stderr.split('\n').filter((line) => /^\s+at /.test(line));

test("a missing module: the frames Node gives, none of coldstart's; a module that throws as it loads: its source line kept", (t) => {
  const dir = realpathSync(tempDir(t, 'coldstart-stacks-'));
  writeTree(dir, {
    'package.json': '{"name":"stacks","private":true}',
    'node_modules/loader-dep/package.json': '{"name":"loader-dep","version":"1.0.0"}',
    'node_modules/loader-dep/index.js': 'module.exports = (name) => require(name);\n',
    'node_modules/esm-dep/package.json': '{"name":"esm-dep","version":"1.0.0","type":"module"}',
    'node_modules/esm-dep/index.js': 'export const x = 1;\n',
    'missing.js': 'const load = require("loader-dep");\nif (process.argv[2] === "ok") import("esm-dep");\nelse load("not-installed-anywhere");\n',
    'caught.js': 'const load = require("loader-dep");\ntry { load("not-installed-anywhere"); } catch (error) { console.log(error.stack); }\n',
    'throws.js': 'require("loader-dep");\nrequire("./lib/thrower");\n',
    'lib/thrower.js': 'throw new Error("thrown at load");\n',
    'missing.mjs': 'import "loader-dep";\nimport "not-installed-anywhere";\n',
  });
  // The index's resolution step is in the way of every require (COLDSTART_STEP_ASIDE=0: these
  // small programs would otherwise get plain Node).
  const indexed = runCli(['index', dir], { cwd: dir });
  assert.equal(indexed.code, 0, indexed.stderr);
  // And a pack holding an ES module: its hooks (registerHooks) are in the way too, so an error
  // passes two of coldstart's steps, and Node's hooks machinery adds frames of its own.
  const packed = runCli(['pack', '--always', '--', process.execPath, 'missing.js', 'ok'], { cwd: dir });
  assert.equal(packed.code, 0, packed.stderr);
  const env = { COLDSTART_STEP_ASIDE: '0', COLDSTART_PACK: '', COLDSTART_INDEX: '' };
  // Node 22 names the receiver `Function`, Nodes 20, 24 and 26 `Module`.
  const nodeFirst = frames(runNode(['caught.js'], { cwd: dir }).stdout)[0].replace(/\s*\(.*\)$/, '');
  assert.match(nodeFirst, /at (Module|Function)\._resolveFilename$/);
  for (const [file, stream] of [['missing.js', 'stderr'], ['caught.js', 'stdout'], ['missing.mjs', 'stderr']]) {
    const served = runNode(['--require', registerCjs, file], { cwd: dir, env });
    const seen = frames(served[stream]);
    assert.ok(seen.length > 0, `${file}: ${served.stderr}`);
    assert.deepEqual(seen.filter((line) => line.includes(dist) || line.includes('customization_hooks') || /at defaultResolve \(node:internal\/modules\/cjs\//.test(line)), [], `${file}: no frame of coldstart's or of the hooks it registered\n${seen.join('\n')}`);
    if (file !== 'missing.mjs') {
      assert.ok(seen.some((line) => line.includes(join(dir, 'node_modules/loader-dep/index.js'))), `${file}: the program's own frame is kept\n${seen.join('\n')}`);
      assert.equal(seen[0].replace(/\s*\(.*\)$/, ''), nodeFirst, 'named as Node names it');
    }
  }
  // Uncaught, a missing module prints above the error what plain Node prints: Node's own
  // `throw err;` and its line (before, coldstart's one-line rethrow), whichever step it passed.
  const head = (stderr) => stderr.split('\n').slice(0, 4).join('\n');
  const plainMissing = runNode(['missing.js'], { cwd: dir });
  assert.match(plainMissing.stderr, /^node:internal\/modules\/cjs\/loader:\d+\n  throw err;\n  \^\n/);
  for (const setting of [env, { ...env, COLDSTART_PACK: 'off' }, { ...env, COLDSTART_PACK: 'off', COLDSTART_HOOKS: 'patch' }]) {
    const served = runNode(['--require', registerCjs, 'missing.js'], { cwd: dir, env: setting });
    assert.equal(head(served.stderr), head(plainMissing.stderr), JSON.stringify(setting));
  }
  // An error the module throws passes coldstart's steps untouched: Node prints its line above it.
  const thrown = runNode(['--require', registerCjs, 'throws.js'], { cwd: dir, env });
  assert.ok(thrown.stderr.startsWith(`${join(dir, 'lib/thrower.js')}:1\nthrow new Error("thrown at load");\n^`), thrown.stderr);
  assert.match(frames(thrown.stderr)[0], /lib\/thrower\.js:1:7/);
  // Its load stack names the functions plain Node's names, frame for frame: the step that serves
  // the module hands its source back to coldstart's `.js` handler, which compiles it (only that
  // frame's location is coldstart's).
  const plainThrown = runNode(['throws.js'], { cwd: dir, env: { ...env, COLDSTART_INDEX: 'off' } });
  // Node 20 names its own handler `Module._extensions..js`, a name V8 infers from its source.
  const names = (stderr) => frames(stderr).map((line) => line.replace(/\s*\(.*\)$/, '').replace('Module._extensions..js', 'Object..js'));
  assert.deepEqual(names(thrown.stderr), names(plainThrown.stderr), thrown.stderr);
  assert.equal(frames(thrown.stderr).filter((line) => line.includes(dist)).length, 1, thrown.stderr);
  // Only require()'s own "Cannot find module" gets Node's line, also after one was caught: a
  // package's exports refusing a subpath keeps coldstart's honest rethrow, not a wrong Node line.
  writeTree(dir, {
    'node_modules/exports-dep/package.json': '{"name":"exports-dep","version":"1.0.0","exports":{".":"./index.js"}}',
    'node_modules/exports-dep/index.js': 'module.exports = 1;\n',
    'subpath.js': 'try { require("not-installed-anywhere"); } catch {}\nrequire("exports-dep/sub");\n',
    // A formatter the program installs after catching the error still formats it.
    'formatter.js': 'let caught;\ntry { require("not-installed-anywhere"); } catch (error) { caught = error; }\nError.prepareStackTrace = (error, frames) => `custom: ${frames.length} frames`;\nconsole.log(caught.stack);\n',
  });
  const refused = runNode(['--require', registerCjs, 'subpath.js'], { cwd: dir, env });
  assert.match(refused.stderr, /ERR_PACKAGE_PATH_NOT_EXPORTED/);
  assert.doesNotMatch(head(refused.stderr), /throw err;/, refused.stderr);
  const plainFormatted = runNode(['formatter.js'], { cwd: dir });
  const formatted = runNode(['--require', registerCjs, 'formatter.js'], { cwd: dir, env });
  assert.equal(plainFormatted.stdout, 'custom: 10 frames\n');
  if (Number(process.versions.node.split('.')[0]) >= 22) assert.equal(formatted.stdout, plainFormatted.stdout);
});
