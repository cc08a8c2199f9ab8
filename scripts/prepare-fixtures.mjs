// Installs the registry trees the tests run against (the demo CLI, the benchmark programs, the
// real-tree fixture) so that `npm ci && npm test` on a fresh clone needs no other step.
// A tree is installed again only when its package-lock.json changed since the last install.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const fixtureDir = join(root, 'test', 'fixtures');
const trees = [
  join(root, 'examples', 'demo'),
  join(root, 'bench'),
  ...readdirSync(fixtureDir)
    .map((name) => join(fixtureDir, name))
    .filter((dir) => existsSync(join(dir, 'package-lock.json'))),
];

// npm records the lock it installed from here; a different hash means the tree is out of date.
const STAMP = '.coldstart-fixture-lock';

let failed = false;
for (const dir of trees) {
  const lock = join(dir, 'package-lock.json');
  if (!existsSync(lock)) continue;
  const hash = createHash('sha256').update(readFileSync(lock)).digest('hex');
  const stampFile = join(dir, 'node_modules', STAMP);
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === hash) continue;
  const name = relative(root, dir);
  process.stderr.write(`installing ${name} (npm ci)\n`);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = spawnSync(npm, ['ci', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'], {
    cwd: dir,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (result.status !== 0) {
    process.stderr.write(`could not install ${name}: npm ci exited ${result.status ?? result.signal}\n`);
    failed = true;
    continue;
  }
  writeFileSync(stampFile, hash);
}
process.exit(failed ? 1 : 0);
