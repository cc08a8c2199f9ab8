// dist/register.cjs, what `node --require coldstart/register` runs: the shared loader, pointed at
// the core beside it, with the CommonJS loader's Module (what `node:module` exports) at hand.
import { runCore } from './loader/core-loader.js';
import { packSeen, registerStepsAside } from './step-aside.js';
import { defaultPackPath, FORMAT_VERSION, MAGIC } from './pack/format.js';
import { defaultIndexPath } from './locations/store.js';

runCore(__dirname, module.constructor, () => registerStepsAside(__dirname, MAGIC, FORMAT_VERSION, defaultPackPath, defaultIndexPath), packSeen);
