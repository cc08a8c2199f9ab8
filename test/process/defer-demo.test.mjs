// The demo CLI written with ordinary imports (examples/demo/autodefer/main.mjs, the eager program
// plus a "coldstart.defer" entry) against the eager one: the same output and exit code in every
// subcommand, and a --help that loads none of the three deferred packages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { dist, installedTree, root, runCli, runNode, tempDir } from '../helpers.mjs';

const demo = join(root, 'examples/demo');
const register = pathToFileURL(join(dist, 'register.js')).href;

const commands = [
  ['--help'],
  ['versions'],
  ['transpile', 'samples/greet.ts'],
  ['lint', 'samples/bad.js'],
  ['s3-request', 'bucket', 'key.txt'],
  ['no-such-command'],
];

test('auto-defer demo: every subcommand prints what the eager program prints', (t) => {
  installedTree('examples/demo/node_modules/typescript/package.json');
  const env = { COLDSTART_DEFER_CACHE: tempDir(t, 'coldstart-defer-demo-'), COLDSTART_DEFER_STATS: '1' };
  let parsed = 0;
  for (const args of commands) {
    const eager = runNode(['eager.mjs', ...args], { cwd: demo });
    if (args[0] === 'lint') assert.equal(eager.code, 1, 'the lint sample has findings: a failing exit is compared too');
    const auto = runNode(['--import', register, 'autodefer/main.mjs', ...args], { cwd: demo, env });
    assert.equal(auto.code, eager.code, `${args.join(' ')}: ${auto.stderr}`);
    assert.equal(auto.stdout, eager.stdout, args.join(' '));
    assert.equal(auto.stderr.replace(/^coldstart-defer-stats: .*\n/gm, ''), eager.stderr, args.join(' '));
    // The first command transforms main.mjs; every later one reads it from the cache.
    parsed += (auto.stderr.match(/^coldstart-defer-stats: parse .*main\.mjs$/gm) ?? []).length;
    assert.match(auto.stderr, /coldstart-defer-stats: (parse|cache-hit) .*autodefer\/main\.mjs/, args.join(' '));
  }
  assert.equal(parsed, 1, 'main.mjs was parsed once, then served from the transform cache');
});

test('auto-defer demo: --help loads none of the deferred packages; versions loads them', (t) => {
  installedTree('examples/demo/node_modules/typescript/package.json');
  const env = { COLDSTART_DEFER_CACHE: tempDir(t, 'coldstart-defer-demo-') };
  const forbid = ['typescript', '@aws-sdk/client-s3', 'eslint'].flatMap((name) => ['--forbid', name]);
  const help = runCli(['check', ...forbid, '--', process.execPath, '--import', register, 'autodefer/main.mjs', '--help'], { cwd: demo, env });
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /Usage: demo-cli/);
  const versions = runCli(['check', '--forbid', 'typescript', '--', process.execPath, '--import', register, 'autodefer/main.mjs', 'versions'], { cwd: demo, env });
  assert.notEqual(versions.code, 0, 'versions uses typescript, so the check must fail');
  assert.match(versions.stderr, /typescript/);
});
