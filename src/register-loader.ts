// dist/register.cjs: runs dist/register-core.cjs (the bundled activation code) through V8's code
// cache. Compiling the 90 KB core, and lazily compiling the functions a start-up calls, was
// most of coldstart's own start-up cost; with the cache, V8 deserialises both. Measured with
// valgrind instruction counts, `node -r coldstart/register -e 0` over an empty preload: Node 20
// 29 M -> 10 M instructions, Node 24 25 M -> 6 M (about 2 ms a start).
//
// The cache sits beside the core (dist/register-core.<hash>.<node>-<arch>.v8cache): whoever can
// write there can already change the code itself, so it adds nothing to trust. The name carries
// a hash of the core's content, fixed at build time (V8 itself only checks the source length),
// and V8 rejects a cache from another V8 version or flag set; a rejected, unreadable or missing
// cache means compiling as Node would, and a fresh cache is written (temp file, rename) at exit.
// A read-only installation simply runs without one. COLDSTART_CODE_CACHE=0 turns it off.
//
// Kept free of imports of coldstart's own modules: this file must stay tiny.
import { readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Script, constants as vmConstants } from 'node:vm';

declare const CORE_HASH: string;

function run(): void {
  const core = join(__dirname, 'register-core.cjs');
  const source = readFileSync(core, 'utf8');
  const setting = process.env['COLDSTART_CODE_CACHE'];
  const useCache = setting !== '0' && setting !== 'off' && setting !== 'false';
  const cacheFile = join(__dirname, `register-core.${CORE_HASH}.${process.version}-${process.arch}.v8cache`);
  let cachedData: Buffer | undefined;
  if (useCache) {
    try {
      cachedData = readFileSync(cacheFile);
    } catch {
      // no cache yet, or not readable: compile
    }
  }
  // The CommonJS wrapper, on the first line so the core's line numbers stay as they are.
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: core,
    ...(cachedData === undefined ? {} : { cachedData }),
    // Node 20.20+ has it; the core has no import(), but a stray one should behave as in Node.
    ...(vmConstants?.USE_MAIN_CONTEXT_DEFAULT_LOADER === undefined ? {} : { importModuleDynamically: vmConstants.USE_MAIN_CONTEXT_DEFAULT_LOADER }),
  });
  const wrapper = script.runInThisContext() as (e: object, r: NodeJS.Require, m: object, f: string, d: string) => void;
  const module = { exports: {}, filename: core, id: core };
  wrapper.call(module.exports, module.exports, createRequire(core), module, core, dirname(core));
  const debug = process.env['COLDSTART_DEBUG'];
  if (debug !== undefined && debug !== '' && debug !== '0') {
    const state = !useCache ? 'off' : cachedData === undefined ? 'none yet' : script.cachedDataRejected === true ? 'rejected by V8' : 'used';
    process.stderr.write(`coldstart: register: code cache ${state} (${cacheFile})\n`);
  }
  if (useCache && (cachedData === undefined || script.cachedDataRejected === true)) {
    // At exit, so the functions this run compiled are in the cache too.
    process.once('exit', () => {
      const temp = `${cacheFile}.${process.pid}.tmp`;
      try {
        writeFileSync(temp, script.createCachedData(), { mode: 0o644 });
        renameSync(temp, cacheFile);
      } catch {
        // A read-only installation runs without a cache; never a reason to fail.
        try {
          unlinkSync(temp);
        } catch {
          // nothing was written
        }
      }
    });
  }
}

run();
