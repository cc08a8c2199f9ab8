// dist/register.js, what `node --import coldstart/register` runs: the same loader as the
// `--require` entry, so one copy of the activation code runs either way, compiled as a script
// from V8's code cache. It imports nothing: see loader/core-loader.ts.
import { runCore } from './loader/core-loader.js';
import { packSeen, registerStepsAside } from './step-aside.js';
import { defaultPackPath, FORMAT_VERSION, MAGIC } from './pack/format.js';
import { defaultIndexPath } from './locations/store.js';

const here = process.getBuiltinModule('node:url').fileURLToPath(import.meta.url);
const dir = here.slice(0, Math.max(here.lastIndexOf('/'), here.lastIndexOf('\\')));
runCore(dir, undefined, () => registerStepsAside(dir, MAGIC, FORMAT_VERSION, defaultPackPath, defaultIndexPath), packSeen);
