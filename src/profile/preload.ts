// Loaded into every Node process of a profiled command through NODE_OPTIONS=--import: records
// module loads (CommonJS patch, ES module hooks, optional coverage) and writes them at exit to
// COLDSTART_PROFILE_DIR/<pid>.json. Any failure leaves the program running unprofiled.
import { isOn, pathSetting } from '../settings.js';
import { writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { has, inWorkerThread } from '../node-features.js';
import { entryRealPath } from '../loader/entry.js';
import { registeredExtensions, type LoadResult } from '../loader/node.js';
import { pipeline } from '../loader/pipeline.js';
import { sharedState } from '../shared-state.js';
import { observeCommonJs } from './cjs-observer.js';
import { lazyCoverage } from './coverage.js';
import { makeHooks } from './esm-hooks.js';
import { installOnFirstModule } from './esm-start.js';
import { GLOBAL_KEY } from './inject.js';
import { Recorder, keyOf, now } from './recorder.js';
import type { AsyncLoadInfo } from './esm-hooks-async.js';
import type { ProcessProfile } from './schema.js';

const ownDir = fileURLToPath(new URL('..', import.meta.url));

/** The main script's real path (as the register features find it), else the path as given. */
function mainPath(): string | undefined {
  const main = process.argv[1];
  return main === undefined ? undefined : (entryRealPath() ?? main);
}

function install(dir: string): void {
  const recorder = new Recorder(mainPath());
  const holder = globalThis as unknown as Record<symbol, unknown>;
  const frames = new Map<string, ReturnType<Recorder['enter']>[]>();
  let beforeCompile: ((content: unknown, format: unknown) => void) | undefined;
  const commonJs = observeCommonJs(recorder, registeredExtensions(), ownDir, (content, format) => beforeCompile?.(content, format));
  // coldstart/register's pack names each file it serves (pack/server.ts).
  const shared = sharedState();
  shared.profiler = {
    packServed(path: string, size: number) {
      recorder.fromPack.add(path);
      commonJs.servedFromPack(path, size);
    },
  };
  // Markers injected into ES module sources call these (inject.ts).
  holder[Symbol.for(GLOBAL_KEY)] = {
    s(url: string, info?: AsyncLoadInfo) {
      if (info !== undefined) applyAsyncInfo(recorder, info);
      const list = frames.get(url) ?? [];
      list.push(recorder.enter());
      frames.set(url, list);
    },
    e(url: string) {
      const frame = frames.get(url)?.pop();
      if (frame === undefined) return;
      const duration = recorder.leave(frame);
      const entry = recorder.modules.get(keyOf(url));
      if (entry === undefined || entry.startMs !== null) return;
      entry.startMs = frame.start;
      entry.durMs = duration;
      entry.evalMs = duration - frame.childMs;
      recorder.finished(entry);
    },
  };

  let esmHooks: ProcessProfile['esmHooks'] = 'none';
  if (has('registerHooks')) {
    // A program that starts in the CommonJS loader gets the hooks at its first ES module
    // (esm-start.ts): known before it starts when `coldstart profile` runs it in its own
    // process; else (an --import preload makes Node start every program in the ES module
    // loader) the hooks go in at once and come out when the main script loads as CommonJS.
    const channels = process.getBuiltinModule('node:diagnostics_channel');
    let leave: (() => void) | undefined;
    let watchMain = recorder.mainPath !== undefined;
    const waitForFirstModule = (): void => {
      beforeCompile = installOnFirstModule(register, channels);
    };
    const register = (): void => {
      const hooks = makeHooks(recorder, ownDir);
      leave = pipeline().join('profiler', { hooks: {
        resolve: hooks.resolve,
        load(url, context, next): LoadResult {
          const result = hooks.load(url, context, next);
          if (watchMain && keyOf(url) === recorder.mainPath) {
            watchMain = false;
            if (typeof result.format === 'string' && result.format.startsWith('commonjs')) {
              leave?.();
              leave = undefined;
              recorder.esmHooksFromMs = null;
              waitForFirstModule();
            }
          }
          return result;
        },
      } });
      recorder.esmHooksFromMs = now();
    };
    const inProcessCommonJs = shared.profileInProcessCommonJs === true;
    shared.profileInProcessCommonJs = undefined;
    if (inProcessCommonJs) {
      watchMain = false;
      waitForFirstModule();
    } else {
      register();
    }
    esmHooks = 'registerHooks';
  } else if (has('asyncRegister')) {
    pipeline().registerOffThread(new URL('./esm-hooks-async.js', import.meta.url), undefined, { skipPrefix: ownDir });
    recorder.esmHooksFromMs = now();
    esmHooks = 'register';
  }
  pipeline().join('profiler', commonJs.steps);

  if (isOn('COLDSTART_PROFILE_COVERAGE')) {
    const coverage = lazyCoverage(ownDir);
    recorder.coverage = coverage.snapshots;
    recorder.onBoundary = (id) => coverage.snapshot(id);
    process.once('exit', () => {
      recorder.flushBoundary();
      coverage.snapshot(null);
      // No inspector (a build without it, or one already attached): no defer candidates.
      if (!coverage.available) recorder.coverage = null;
    });
  }

  // Registered after coverage's own exit listener so the final snapshot is in the file.
  process.once('exit', () => {
    try {
      commonJs.closeOpen();
      const file = join(dir, `${process.pid}.json`);
      writeFileSync(file + '.tmp', JSON.stringify(recorder.toProfile(esmHooks)));
      renameSync(file + '.tmp', file);
    } catch {
      // A profile that cannot be written must never change how the program exits.
    }
  });
}

function applyAsyncInfo(recorder: Recorder, info: AsyncLoadInfo): void {
  for (const [key, specifier, parentKey, format, resolveMs, readMs, size] of info.m) {
    const entry = recorder.module(key, specifier, parentKey === '' ? undefined : parentKey, format as any);
    entry.resolveMs = resolveMs;
    entry.readMs = readMs;
    entry.size = size < 0 ? null : size;
  }
  for (const [from, to] of info.e) recorder.edge(from, to);
  // These CommonJS modules were loaded (and recorded without importer) before this news came.
  for (const [key, specifier, parentKey] of info.h) {
    const entry = recorder.modules.get(key);
    if (entry === undefined || parentKey === '') continue;
    if (entry.specifier === key) entry.specifier = specifier;
    if (entry.parentKey === undefined) entry.parentKey = parentKey;
  }
}

const dir = pathSetting('COLDSTART_PROFILE_DIR');
if (dir !== undefined && dir !== '' && !inWorkerThread()) {
  try {
    install(dir);
  } catch (error) {
    if (isOn('COLDSTART_DEBUG')) process.stderr.write(`coldstart: profile: recording off: ${(error as Error).message}\n`);
  }
}
