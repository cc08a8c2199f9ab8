// Runs the test suites with Node's own test runner on the running node: unit tests of pure
// parts, then process-level tests that spawn real Node processes against the built dist/.
// Usage: node scripts/run-tests.mjs [unit|process ...]
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const suites = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['unit', 'process'];

function collect(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...collect(full));
    else if (name.endsWith('.test.mjs')) out.push(full);
  }
  return out;
}

const files = suites.flatMap((suite) => collect(join(root, 'test', suite)));
if (files.length === 0) {
  console.error(`no test files found for ${suites.join(', ')}`);
  process.exit(1);
}
console.log(`node ${process.version}: ${files.length} test files`);
// Unit tests take the pure cores from their TypeScript source through tsx (test/helpers.mjs
// core()), so they need no build; process tests run the built package.
const unit = files.filter((file) => file.includes(`${join('test', 'unit')}`));
const process_ = files.filter((file) => !unit.includes(file));
let status = 0;
for (const [group, args, env] of [
  [unit, ['--import', 'tsx'], { UNIT_FROM_SOURCE: '1' }],
  [process_, [], {}],
]) {
  if (group.length === 0) continue;
  const result = spawnSync(process.execPath, [...args, '--test', ...group], { stdio: 'inherit', cwd: root, env: { ...process.env, ...env } });
  if (result.status !== 0) status = result.status ?? 1;
}
process.exit(status);
