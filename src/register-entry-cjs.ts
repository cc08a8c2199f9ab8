// dist/register.cjs, what `node --require coldstart/register` runs: the shared loader, pointed at
// the core beside it.
import { runCore } from './loader/core-loader.js';

runCore(__dirname);
