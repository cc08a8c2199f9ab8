// Prefetch on slow filesystems. On a network or FUSE mount every file require() reads costs
// round trips to the server (a lookup per path component, open, read, close) while the CPU
// idles, and require() reads one file at a time. The files a program loads are known from its
// earlier runs (the learned answers), so a worker thread reads them, several at once, into
// shared memory while the main thread compiles and runs what it has; the source handler then
// takes a file's text from there instead of the disk.
//
// Same guarantee as reading the file at require() time: the text is read during this start,
// from the path require() resolved; a file the worker has not read yet is read by the main
// thread itself (it never waits on one the worker has not started). Only where it pays: the
// filesystem of the project is a network or FUSE one (statfs), or COLDSTART_PREFETCH=1.
import { debug } from '../debug.js';

export { slowFilesystem } from '../step-aside.js';

/** Slot states in the shared control array. */
const EMPTY = 0;
const READING = 1;
const READY = 2;
const FAILED = 3;
const TAKEN = 4;

// The worker's code, evaluated from this string so that starting it reads no file. It reads up
// to `parallel` files at a time with the thread pool and copies each into the shared buffer.
const workerCode = `
const { workerData } = require('node:worker_threads');
const { open } = require('node:fs/promises');
const { files, control, data, parallel } = workerData;
const state = new Int32Array(control, 0, files.length);
const where = new Int32Array(control, files.length * 4, files.length * 2);
const bytes = new Uint8Array(data);
let next = 0;
let used = 0;
async function one(i) {
  if (Atomics.compareExchange(state, i, ${EMPTY}, ${READING}) !== ${EMPTY}) return;
  let ok = false;
  try {
    const handle = await open(files[i], 'r');
    try {
      const size = (await handle.stat()).size;
      if (size > 0 && used + size <= bytes.length) {
        const at = used;
        used += size;
        let got = 0;
        while (got < size) {
          const { bytesRead } = await handle.read(bytes, at + got, size - got, got);
          if (bytesRead === 0) break;
          got += bytesRead;
        }
        if (got === size) { where[2 * i] = at; where[2 * i + 1] = size; ok = true; }
      }
    } finally { await handle.close(); }
  } catch {}
  Atomics.store(state, i, ok ? ${READY} : ${FAILED});
  Atomics.notify(state, i);
}
async function lane() { while (next < files.length) await one(next++); }
Promise.all(Array.from({ length: parallel }, lane));
`;

export interface Prefetcher {
  /** The file's text if the worker has it (or is reading it: then waits for it); else undefined. */
  take(file: string): string | undefined;
  readonly stats: { taken: number; missed: number };
}


/**
 * Starts the worker on `files` (absolute paths, in the order the program is expected to load
 * them) and returns the handle the source handler asks; undefined when no worker can start.
 */
export function startPrefetch(files: readonly string[]): Prefetcher | undefined {
  if (files.length === 0) return undefined;
  let control: SharedArrayBuffer;
  let data: SharedArrayBuffer;
  try {
    // Fetched here, not imported at the top: worker_threads is paid for only when prefetching.
    const { Worker, isMainThread } = process.getBuiltinModule('node:worker_threads') as typeof import('node:worker_threads');
    // A worker of the program has its own preloads: one reader per process is enough.
    if (!isMainThread) return undefined;
    control = new SharedArrayBuffer(files.length * 12);
    // Pages of shared memory the worker never writes cost nothing: a generous ceiling.
    data = new SharedArrayBuffer(128 * 1024 * 1024);
    const worker = new Worker(workerCode, {
      eval: true,
      workerData: { files, control, data, parallel: 8 },
      // None of the parent's preloads (coldstart/register among them) run in the worker.
      execArgv: [],
      env: {},
      stdout: true,
      stderr: true,
      resourceLimits: { maxOldGenerationSizeMb: 32 },
    });
    worker.unref();
    worker.on('error', (error) => debug('prefetch', `worker failed: ${error.message}`));
  } catch (error) {
    debug('prefetch', `not started: ${(error as Error).message}`);
    return undefined;
  }
  const slots = new Map<string, number>();
  files.forEach((file, i) => slots.set(file, i));
  const state = new Int32Array(control, 0, files.length);
  const where = new Int32Array(control, files.length * 4, files.length * 2);
  const stats = { taken: 0, missed: 0 };
  return {
    stats,
    take(file) {
      const i = slots.get(file);
      if (i === undefined) return undefined;
      // Not started by the worker yet: the main thread reads it itself, now.
      let s = Atomics.compareExchange(state, i, EMPTY, TAKEN);
      if (s === EMPTY) {
        stats.missed++;
        return undefined;
      }
      if (s === READING) {
        try {
          Atomics.wait(state, i, READING, 2000);
        } catch {
          // A host that forbids blocking this thread (not Node itself): read the file here.
          stats.missed++;
          return undefined;
        }
        s = Atomics.load(state, i);
      }
      if (s !== READY) {
        stats.missed++;
        return undefined;
      }
      Atomics.store(state, i, TAKEN);
      stats.taken++;
      return Buffer.from(data, where[2 * i]!, where[2 * i + 1]!).toString('utf8');
    },
  };
}
