// Preload for the demo runner: counts the module files a run loads (CommonJS from require.cache,
// ES modules through a load hook) and appends the list to $DEMO_MODULES_FILE at exit.
import { appendFileSync } from 'node:fs';
import * as nodeModule from 'node:module';
import { fileURLToPath } from 'node:url';

const out = process.env.DEMO_MODULES_FILE;
const esm = new Set();

if (out && typeof nodeModule.registerHooks === 'function') {
  nodeModule.registerHooks({
    load(url, context, nextLoad) {
      if (url.startsWith('file:')) esm.add(fileURLToPath(url));
      return nextLoad(url, context);
    },
  });
} else if (out) {
  // Node 20: the asynchronous hooks run on another thread, which writes its own lines.
  nodeModule.register('./count-modules-hooks.mjs', import.meta.url, { data: { out } });
}

if (out) {
  const require = nodeModule.createRequire(import.meta.url);
  process.once('exit', () => {
    const files = new Set([...esm, ...Object.keys(require.cache)]);
    if (files.size > 0) appendFileSync(out, [...files].join('\n') + '\n');
  });
}
