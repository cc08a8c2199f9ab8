// Child process of the resolver conformance test: Node's own answers for a batch of
// [mode, specifier, parentPath] cases read from stdin, written to stdout as JSON.
// Run with --experimental-import-meta-resolve (import.meta.resolve with a parent URL).
// import.meta.resolve hands back the URL where import itself would fail with
// ERR_MODULE_NOT_FOUND or ERR_UNSUPPORTED_DIR_IMPORT; for those we ask import() for the error.
import { statSync } from 'node:fs';
import Module, { createRequire, isBuiltin } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const cases = JSON.parse(Buffer.concat(chunks).toString('utf8'));

const requires = new Map();
function requireFrom(parent) {
  let req = requires.get(parent);
  if (!req) requires.set(parent, (req = createRequire(parent)));
  return req;
}

async function importAnswer(specifier, parent) {
  const url = import.meta.resolve(specifier, pathToFileURL(parent).href);
  if (!url.startsWith('file:')) return { builtin: url };
  const path = fileURLToPath(url);
  if (statSync(path, { throwIfNoEntry: false })?.isFile() && !path.endsWith('/')) return { path };
  // Not a file: import() of that URL throws Node's real error before any code runs.
  try {
    await import(url);
    return { code: 'IMPORTED' };
  } catch (error) {
    return { code: error?.code ?? 'THROWN', message: String(error?.message).split('\n')[0] };
  }
}

const answers = [];
for (const [mode, specifier, parent] of cases) answers.push(await answer(mode, specifier, parent));

async function answer(mode, specifier, parent) {
  try {
    if (mode === 'import') return await importAnswer(specifier, parent);
    const resolved = requireFrom(parent).resolve(specifier);
    return isBuiltin(resolved) && !resolved.startsWith('/') ? { builtin: resolved } : { path: resolved };
  } catch (error) {
    return { code: error?.code ?? 'THROWN', message: String(error?.message).split('\n')[0] };
  }
}
process.stdout.write(JSON.stringify({
  globalPaths: Module.globalPaths,
  conditions: {
    // The condition sets this Node uses by default (module-sync comes with require(esm)).
    import: ['node', 'import', ...(process.features.require_module ? ['module-sync'] : []), 'node-addons'],
    require: ['node', 'require', ...(process.features.require_module ? ['module-sync'] : []), 'node-addons'],
  },
  answers,
}));
