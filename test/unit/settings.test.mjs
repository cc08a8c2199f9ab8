// The one on/off rule every COLDSTART_* switch follows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { dist } from '../helpers.mjs';

const { settingOff, settingOn } = await import(join(dist, 'settings.js'));

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
