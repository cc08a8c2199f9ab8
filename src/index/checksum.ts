// A 32-bit checksum of bytes, for the caches coldstart trusts to steer resolution (the index's
// header and sections, the learned answers, the pack's header): a change that keeps a file's
// shape (an edited name of the same length) must make it ignored, never believed.
// Plain JavaScript over 32-bit words: loading node:zlib for its crc32 costs more, at start-up,
// than hashing the bytes a run reads (docs/decisions/cache-checksums.md).

/** FNV-1a over little-endian 32-bit words (zero-padded), seeded with the length. */
export function checksum(bytes: Uint8Array, start = 0, end = bytes.length): number {
  const length = end - start;
  const words = length >>> 2;
  let view: Int32Array;
  const at = bytes.byteOffset + start;
  if ((at & 3) === 0) view = new Int32Array(bytes.buffer, at, words);
  else {
    const copy = new Uint8Array(words * 4);
    copy.set(bytes.subarray(start, start + words * 4));
    view = new Int32Array(copy.buffer, 0, words);
  }
  let h = 0x811c9dc5 ^ length;
  for (let i = 0; i < words; i++) h = Math.imul(h ^ view[i]!, 0x01000193);
  // The last 0-3 bytes, one at a time: a multiplication by an odd number is a bijection, so a
  // change to any single word or byte always changes the result.
  for (let i = start + words * 4; i < end; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return h >>> 0;
}
