// The caches' checksum: the WebAssembly function and its JavaScript twin agree, and any change
// of one byte, or of the length, changes the result.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { core } from '../helpers.mjs';

const { checksum, checksumInJavaScript } = await import(core('locations/checksum'));

function bytes(n, seed) {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) out[i] = (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 24;
  return out;
}

test('WebAssembly and JavaScript give the same checksum, at any offset and length', () => {
  for (let i = 0; i < 300; i++) {
    const b = bytes(1 + ((i * 37) % 9000), i);
    const start = i % 7;
    const end = Math.max(start, b.length - (i % 5));
    assert.equal(checksum(b, start, end), checksumInJavaScript(b, start, end), `case ${i}`);
  }
  // Memory grows for a large input, and later small ones still agree.
  const big = bytes(300_000, 7);
  assert.equal(checksum(big), checksumInJavaScript(big));
  assert.equal(checksum(big, 3, 10), checksumInJavaScript(big, 3, 10));
});

test('one changed byte, or a zero byte more, changes the checksum', () => {
  const b = bytes(4096, 1);
  const sum = checksum(b);
  for (const at of [0, 1, 2, 3, 1000, 4093, 4095]) {
    const changed = Uint8Array.from(b);
    changed[at] ^= 0x01;
    assert.notEqual(checksum(changed), sum, `byte ${at}`);
  }
  const longer = new Uint8Array(4097);
  longer.set(b);
  assert.notEqual(checksum(longer), sum);
  assert.notEqual(checksum(b, 0, 4095), checksum(b));
});
