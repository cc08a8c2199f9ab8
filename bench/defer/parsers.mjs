// Compares the two parser candidates of the defer transform on mid-size real files: load time
// of the parser itself, then mean parse time per file (20 runs after one warm-up).
// Usage: node bench/defer/parsers.mjs <file...>
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
const req = createRequire(new URL('../../package.json', import.meta.url));
const t0 = performance.now();
const acorn = req('acorn');
const { default: phases } = { default: req('acorn-import-phases') };
const t1 = performance.now();
const oxc = req('oxc-parser');
const t2 = performance.now();
console.log(`load: acorn+phases ${(t1-t0).toFixed(1)} ms, oxc ${(t2-t1).toFixed(1)} ms`);
const files = process.argv.slice(2);
const P = acorn.Parser.extend(phases());
for (const f of files) {
  const src = readFileSync(f, 'utf8');
  const sourceType = /\bimport\b[^(]|\bexport\b/.test(src) && !f.endsWith('.cjs') ? 'module' : 'script';
  const run = (fn) => { fn(); const n = 20; const s = performance.now(); for (let i = 0; i < n; i++) fn(); return (performance.now() - s) / n; };
  const a = run(() => P.parse(src, { ecmaVersion: 'latest', sourceType, allowHashBang: true, allowReturnOutsideFunction: true }));
  const o = run(() => oxc.parseSync(f.replace(/\.c?js$/, '.js'), src, { sourceType }));
  console.log(`${f.split('/').slice(-2).join('/')} ${(src.length/1024).toFixed(0)} KB: acorn ${a.toFixed(2)} ms, oxc ${o.toFixed(2)} ms`);
}
