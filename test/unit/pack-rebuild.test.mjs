// The rebuild a stale pack's messages give: the command the pack was made with, quoted for a
// POSIX shell so that pasting it runs the same recording, from the folder it was made in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { core } from '../helpers.mjs';

const { rebuildCommand, shellWord } = await import(core('pack/rebuild'));

test('each word comes back from the shell as it went in', () => {
  const words = ['plain', '--out=a b', "it's", '"quoted"', '$HOME', 'a;b', '`x`', 'tab\there', 'new\nline', '*', '', 'ü'];
  const echoed = execFileSync('/bin/sh', ['-c', `printf '%s\\0' ${words.map(shellWord).join(' ')}`], { encoding: 'utf8' });
  assert.deepEqual(echoed.split('\0').slice(0, -1), words);
  assert.equal(shellWord('node_modules/.bin/eslint'), 'node_modules/.bin/eslint');
});

test('a pack that kept its command is rebuilt with it, from the folder it was made in', () => {
  const header = { lazy: [['x.js', 0, 1, 0, []]], made: { args: ['--lazy', '--run', 'npm test', '--', 'node', 'bin/cli.js', '--help'], dir: 'packages/app' } };
  assert.equal(rebuildCommand(header, '/p/node_modules/.cache/coldstart/pack.v1', '/p', '/p/packages/app'), "coldstart pack --lazy --run 'npm test' -- node bin/cli.js --help");
  assert.equal(rebuildCommand(header, '/p/node_modules/.cache/coldstart/pack.v1', '/p', '/elsewhere'), "cd /p/packages/app && coldstart pack --lazy --run 'npm test' -- node bin/cli.js --help");
  assert.equal(rebuildCommand({ made: { args: ['--', 'node', 'a.js'], dir: '.' } }, '/p/x.pack', '/p', '/p'), 'coldstart pack -- node a.js');
});

test('a pack without it, or with a field that is not ours, gets the generic form', () => {
  const lazy = { lazy: [['x.js', 0, 1, 0, []]] };
  assert.equal(rebuildCommand(lazy, '/p/node_modules/.cache/coldstart/pack.v1', '/p', '/p'), 'coldstart pack --lazy -- <command>');
  assert.equal(rebuildCommand({}, '/p/my pack.v1', '/p', '/p'), "coldstart pack --out '/p/my pack.v1' -- <command>");
  assert.equal(rebuildCommand(undefined, '/p/x.v1', undefined), 'coldstart pack [--lazy] --out /p/x.v1 -- <command>');
  for (const made of [{ args: 'node a.js', dir: '.' }, { args: [1], dir: '.' }, { args: ['a'], dir: '../up' }, null]) {
    assert.equal(rebuildCommand({ made }, '/p/node_modules/.cache/coldstart/pack.v1', '/p', '/p'), 'coldstart pack -- <command>', JSON.stringify(made));
  }
});
