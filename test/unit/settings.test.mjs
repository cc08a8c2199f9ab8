// The one on/off rule every COLDSTART_* switch follows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readdirSync, readFileSync } from 'node:fs';
import { root, core } from '../helpers.mjs';

const { settingOff, settingOn } = await import(core('settings'));

test('0, off, false and no (any case) are off; unset and empty are neither; anything else is on', () => {
  const cases = [
    [undefined, false, false],
    ['', false, false],
    [' ', false, false],
    ['0', true, false],
    ['off', true, false],
    ['OFF', true, false],
    ['false', true, false],
    ['no', true, false],
    ['1', false, true],
    ['on', false, true],
    ['true', false, true],
    ['/some/dir', false, true],
  ];
  for (const [value, off, on] of cases) {
    assert.equal(settingOff(value), off, `off ${JSON.stringify(value)}`);
    assert.equal(settingOn(value), on, `on ${JSON.stringify(value)}`);
  }
});

test("the README's table lists exactly the documented settings, as settings.ts words them", async () => {
  const { settings } = await import(core('settings'));
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const rows = readme.split('\n').filter((line) => line.startsWith('| `COLDSTART_'));
  const want = Object.values(settings).filter((s) => !s.internal).map((s) => `| ${s.usage} | ${s.effect} |`);
  assert.deepEqual(rows, want);
});

test('COLDSTART_* is read only in src/settings.ts', () => {
  const offenders = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (path.endsWith('.ts') && !path.endsWith(join('src', 'settings.ts'))) {
        const text = readFileSync(path, 'utf8');
        // A read: env['COLDSTART_X'] or env.COLDSTART_X not followed by an assignment.
        for (const match of text.matchAll(/env(?:\[['"](COLDSTART_\w+)['"]\]|\.(COLDSTART_\w+))(?!\s*=[^=])/g)) offenders.push(`${path.slice(root.length + 1)}: ${match[1] ?? match[2]}`);
      }
    }
  };
  walk(join(root, 'src'));
  assert.deepEqual(offenders, []);
});

test('every COLDSTART_* name in the sources is declared in settings.ts', async () => {
  const { settings } = await import(core('settings'));
  const seen = new Set();
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (path.endsWith('.ts')) for (const match of readFileSync(path, 'utf8').matchAll(/['"](COLDSTART_[A-Z_]+)['"]/g)) seen.add(match[1]);
    }
  };
  walk(join(root, 'src'));
  const undeclared = [...seen].filter((name) => !(name in settings));
  assert.deepEqual(undeclared, []);
});
