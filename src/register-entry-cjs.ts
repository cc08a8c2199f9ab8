// dist/register.cjs, what `node --require coldstart/register` runs: the shared loader, pointed at
// the core beside it.
import { runCore } from './register-loader.js';

runCore(__dirname);
