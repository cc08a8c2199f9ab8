// Micro-benchmark: what an access costs after the first use, through each lazy shape, against
// direct access to the same module. Prints ns per access and the ratio to direct access.
// Run: npm run microbench   (or node bench/micro/lazy-access.mjs [iterations])
import { createRequire } from 'node:module';
import { lazy, lazyNamed, lazyModules } from '../../dist/index.js';

const require = createRequire(import.meta.url);
const N = Number(process.argv[2] ?? 5e6);
const ROUNDS = 7;

const direct = require('./target.cjs');
const proxied = lazy('./target.cjs', import.meta.url);
const { add: namedAdd } = lazyNamed('./target.cjs', import.meta.url, ['add']);
const ns = lazyModules(import.meta.url, { target: './target.cjs' });
const importLazy = (() => {
  try {
    return require('../../examples/demo/node_modules/import-lazy')(require)('./target.cjs');
  } catch {
    return undefined;
  }
})();
// First use of each, so only steady-state access is measured.
proxied.add(0, 0);
namedAdd(0, 0);
ns.target.add(0, 0);
importLazy?.add(0, 0);

const cases = {
  'direct module (baseline)': () => { let s = 0; for (let i = 0; i < N; i++) s += direct.add(i, 1); return s; },
  'lazyModules(): m.target.add()': () => { let s = 0; for (let i = 0; i < N; i++) s += ns.target.add(i, 1); return s; },
  'lazy(): mod.add()': () => { let s = 0; for (let i = 0; i < N; i++) s += proxied.add(i, 1); return s; },
  'lazyNamed(): add()': () => { let s = 0; for (let i = 0; i < N; i++) s += namedAdd(i, 1); return s; },
  ...(importLazy ? { 'import-lazy: mod.add()': () => { let s = 0; for (let i = 0; i < N; i++) s += importLazy.add(i, 1); return s; } } : {}),
};

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results = {};
for (const [name, fn] of Object.entries(cases)) {
  fn(); // warm-up: let the optimiser see the loop
  const samples = [];
  for (let r = 0; r < ROUNDS; r++) {
    const start = process.hrtime.bigint();
    const sum = fn();
    samples.push(Number(process.hrtime.bigint() - start) / N);
    if (sum !== (N * (N - 1)) / 2 + N) throw new Error(`${name}: wrong sum ${sum}`);
  }
  results[name] = median(samples);
}
const base = results['direct module (baseline)'];
console.log(`access after first use, node ${process.version}, ${N} calls x ${ROUNDS} rounds (median)\n`);
console.log('| shape | ns per call | vs direct |');
console.log('|---|---:|---:|');
for (const [name, ns] of Object.entries(results)) console.log(`| ${name} | ${ns.toFixed(2)} | ${(ns / base).toFixed(2)}x |`);
