// A 32-bit checksum of bytes, for the caches coldstart trusts to steer resolution (the index's
// header and sections, the learned answers, the pack's header): a change that keeps a file's
// shape (an edited name of the same length) must make it ignored, never believed.
// The loop runs as a 111-byte WebAssembly function: the same loop in JavaScript made V8 compile
// it at every start, which cost more than the rest of a warm run's index work, and loading
// node:zlib for its crc32 costs more still (docs/decisions/cache-checksums.md).

/**
 * (func (param $at i32) (param $n i32) (result i32)): FNV-1a over the little-endian 32-bit words
 * of memory[$at, $at + $n), seeded with 0x811c9dc5 ^ $n; exports `hash` and `memory`.
 */
const wasm =
  'AGFzbQEAAAABBwFgAn9/AX8DAgEABQMBAAEHEQIEaGFzaAAABm1lbW9yeQIACkABPgECfyABIABqIQNBxbvyiHggAXMhAgJAA0AgACADTw0BIAIgACgCAHNBk4OACGwhAiAAQQRqIQAMAAsLIAIL';

interface Hasher {
  hash(at: number, n: number): number;
  memory: { readonly buffer: ArrayBuffer; grow(pages: number): number };
}

// The two constructors used, typed here: the compiler's ES2023 library has no WebAssembly.
declare const WebAssembly: { Module: new (bytes: Uint8Array) => object; Instance: new (module: object) => { readonly exports: unknown } };

let hasher: Hasher | null | undefined;

function instance(): Hasher | null {
  if (hasher !== undefined) return hasher;
  try {
    hasher = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(wasm, 'base64'))).exports as unknown as Hasher;
  } catch {
    // No WebAssembly (node --jitless): the same function in JavaScript.
    hasher = null;
  }
  return hasher;
}

/** The checksum of bytes[start, end): the words hashed zero-padded, then the exact length mixed in. */
export function checksum(bytes: Uint8Array, start = 0, end = bytes.length): number {
  const length = end - start;
  const padded = (length + 3) & ~3;
  const h = instance();
  let sum: number;
  if (h !== null) {
    const have = h.memory.buffer.byteLength;
    if (padded > have) h.memory.grow(Math.ceil((padded - have) / 65536));
    const memory = new Uint8Array(h.memory.buffer, 0, padded);
    memory.set(bytes.subarray(start, end));
    memory.fill(0, length, padded);
    sum = h.hash(0, padded);
  } else return checksumInJavaScript(bytes, start, end);
  return (sum ^ Math.imul(length, 0x9e3779b1)) >>> 0;
}

/** The same checksum computed in JavaScript, for a Node without WebAssembly (and for tests). */
export function checksumInJavaScript(bytes: Uint8Array, start = 0, end = bytes.length): number {
  const length = end - start;
  const padded = (length + 3) & ~3;
  const copy = new Uint8Array(padded);
  copy.set(bytes.subarray(start, end));
  const words = new Int32Array(copy.buffer, 0, padded >>> 2);
  let h = 0x811c9dc5 ^ padded;
  // A multiplication by an odd number is a bijection: a change to any one word changes the result.
  for (let i = 0; i < words.length; i++) h = Math.imul(h ^ words[i]!, 0x01000193);
  return (h ^ Math.imul(length, 0x9e3779b1)) >>> 0;
}
