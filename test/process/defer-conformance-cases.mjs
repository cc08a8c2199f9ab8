// The import-defer conformance cases, written from the TC39 proposal's text (evaluation
// triggers of the deferred namespace's internal methods, its shape, errors, top-level await),
// shared by the run-time suite (coldstart/register, native Node) and the build-time one (the
// output of the bundler plugins and of build-defer). Every case runs in one generated program,
// each on its own dependency file.
import { join } from 'node:path';
import { writeTree } from '../helpers.mjs';

const plainDep = (n) => `globalThis.evaluations.push(${n});\nexport const exported = 1;\nexport let counter = 0;\nexport function inc() { counter++; }\nexport function self() { return this; }\n`;

// [name, expression over `ns` (may use `await`; N is the case's number), expected value, expected
// evaluation, dep source?, more import lines for main.mjs?]
// Expectations are the proposal's; `ours` overrides where coldstart knowingly differs, `atBuild`
// where only the build-time lowering does (docs/defer.md).
export const cases = [
  { name: 'toStringTag is "Deferred Module"', code: 'ns[Symbol.toStringTag]', value: 'Deferred Module', evaluated: false },
  { name: 'Object.prototype.toString', code: 'Object.prototype.toString.call(ns)', value: '[object Deferred Module]', evaluated: false },
  { name: 'get of another symbol', code: 'ns[Symbol.iterator]', value: undefined, evaluated: false },
  { name: 'get "then"', code: 'ns.then', value: undefined, evaluated: false },
  { name: '"then" in ns', code: '"then" in ns', value: false, evaluated: false },
  { name: 'getOwnPropertyDescriptor "then"', code: 'Object.getOwnPropertyDescriptor(ns, "then")', value: undefined, evaluated: false },
  { name: 'has toStringTag', code: 'Symbol.toStringTag in ns', value: true, evaluated: false },
  { name: 'getPrototypeOf', code: 'Object.getPrototypeOf(ns)', value: null, evaluated: false },
  { name: 'setPrototypeOf null', code: 'Reflect.setPrototypeOf(ns, null)', value: true, evaluated: false },
  { name: 'setPrototypeOf object', code: 'Reflect.setPrototypeOf(ns, {})', value: false, evaluated: false },
  { name: 'typeof', code: 'typeof ns', value: 'object', evaluated: false },
  { name: 'set of an export', code: 'Reflect.set(ns, "exported", 2)', value: false, evaluated: false },
  { name: 'set of a non-export', code: 'Reflect.set(ns, "notExported", 2)', value: false, evaluated: false },
  { name: 'assignment throws in strict code', code: '(() => { try { ns.exported = 2; return "no"; } catch (e) { return e.constructor.name; } })()', value: 'TypeError', evaluated: false },
  { name: 'delete "then"', code: 'Reflect.deleteProperty(ns, "then")', value: true, evaluated: false },
  { name: 'delete toStringTag', code: 'Reflect.deleteProperty(ns, Symbol.toStringTag)', value: false, evaluated: false },
  { name: 'defineProperty of a symbol', code: 'Reflect.defineProperty(ns, Symbol.iterator, { value: 1 })', value: false, evaluated: false },
  { name: 'defineProperty "then"', code: 'Reflect.defineProperty(ns, "then", { value: 1 })', value: false, evaluated: false },
  { name: 'awaiting the namespace', code: '(await Promise.resolve(ns)) === ns', value: true, evaluated: false },
  { name: 'private name check', code: '(class { static #x = 1; static has(o) { return #x in o; } }).has(ns)', value: false, evaluated: false },
  { name: 'isExtensible before evaluation', code: 'Object.isExtensible(ns)', value: false, evaluated: false, atBuild: { value: true } },
  { name: 'preventExtensions', code: 'Reflect.preventExtensions(ns)', value: true, evaluated: false, atBuild: { evaluated: true } },
  { name: 'get of an export', code: 'ns.exported', value: 1, evaluated: true },
  { name: 'get of a non-export', code: 'ns.notExported', value: undefined, evaluated: true },
  { name: 'has of an export', code: '"exported" in ns', value: true, evaluated: true },
  { name: 'has of a non-export', code: '"notExported" in ns', value: false, evaluated: true },
  { name: 'getOwnPropertyDescriptor of an export', code: 'Object.getOwnPropertyDescriptor(ns, "exported")', value: { value: 1, writable: true, enumerable: true, configurable: false }, evaluated: true },
  { name: 'Object.keys', code: 'Object.keys(ns)', value: ['counter', 'exported', 'inc', 'self'], evaluated: true },
  { name: 'ownKeys', code: 'Reflect.ownKeys(ns).map(String)', value: ['counter', 'exported', 'inc', 'self', 'Symbol(Symbol.toStringTag)'], evaluated: true },
  { name: 'getOwnPropertySymbols', code: 'Object.getOwnPropertySymbols(ns).length', value: 1, evaluated: true },
  { name: 'delete of an export', code: 'Reflect.deleteProperty(ns, "exported")', value: false, evaluated: true },
  { name: 'delete of a non-export', code: 'Reflect.deleteProperty(ns, "notExported")', value: true, evaluated: true },
  { name: 'defineProperty of an export, same value', code: 'Reflect.defineProperty(ns, "exported", { value: 1 })', value: true, evaluated: true },
  { name: 'get through the prototype chain', code: 'Object.create(ns).exported', value: 1, evaluated: true },
  { name: 'has through the prototype chain', code: '"exported" in Object.create(ns)', value: true, evaluated: true },
  { name: 'isExtensible after evaluation', code: '(ns.exported, Object.isExtensible(ns))', value: false, evaluated: true },
  { name: 'live bindings', code: '(ns.inc(), ns.inc(), ns.counter)', value: 2, evaluated: true },
  { name: 'this of a called export is the namespace', code: 'ns.self() === ns', value: true, evaluated: true },
  { name: 'an exported "then" stays hidden', code: '[ns.then, Object.keys(ns)]', value: [undefined, ['x']], evaluated: true,
    nativeDiffers: 'V8 in Node 26 returns the exported then and lists it in the keys',
    dep: (n) => `globalThis.evaluations.push(${n});\nexport const x = 1;\nexport function then() {}\n` },
  { name: 'evaluation error is rethrown at every use', code: '(() => { const out = []; for (let i = 0; i < 2; i++) { try { ns.x; out.push("no"); } catch (e) { out.push(String(e.message).includes("boom")); } } return out; })()',
    value: [true, true], evaluated: true, dep: (n) => `globalThis.evaluations.push(${n});\nexport const x = 1;\nthrow new Error("boom");\n` },
  { name: 'evaluation error is the module\'s own, the same object at every use', code: '(() => { const out = []; for (let i = 0; i < 2; i++) { try { ns.x; } catch (e) { out.push(e); } } return [out[0] === out[1], out[0].code, out[0].message]; })()',
    value: [true, 'E_BOOM', 'boom'], evaluated: true, dep: (n) => `globalThis.evaluations.push(${n});\nexport const x = 1;\nthrow Object.assign(new Error("boom"), { code: "E_BOOM" });\n` },
  { name: 'the same module gives the same deferred namespace at every import', code: 'againN === ns0', value: true, evaluated: false,
    atBuild: { value: false }, imports: (n) => `import defer * as again${n} from './dep-0.mjs';` },
  { name: 'keys of a module with a default export are its exports only', code: 'Object.keys(ns)', value: ['a', 'default'], evaluated: true,
    dep: (n) => `globalThis.evaluations.push(${n});\nexport const a = 1;\nexport default "x";\n` },
  { name: 'a module that re-exports with export *: never extensible, keys through the re-export', code: '[Object.isExtensible(ns), Object.keys(ns)]', value: [false, ['counter', 'exported', 'inc', 'own', 'self']], evaluated: true,
    atBuild: { value: [true, ['counter', 'exported', 'inc', 'own', 'self']] }, dep: (n) => `globalThis.evaluations.push(${n});\nexport * from './dep-0.mjs';\nexport const own = 1;\n` },
  { name: 'top-level await module is evaluated before the importer body', code: 'globalThis.evaluatedBeforeBody.includes(N)', value: true, evaluated: true,
    dep: (n) => `globalThis.evaluations.push(${n});\nawait 0;\nexport const x = 1;\n` },
];

export function program(dir) {
  const files = { 'setup.mjs': 'globalThis.evaluations = [];\n' };
  const lines = ["import './setup.mjs';"];
  cases.forEach((c, n) => {
    files[`dep-${n}.mjs`] = (c.dep ?? plainDep)(n);
    lines.push(`import defer * as ns${n} from './dep-${n}.mjs';`);
    if (c.imports) lines.push(c.imports(n));
  });
  lines.push('globalThis.evaluatedBeforeBody = [...globalThis.evaluations];');
  lines.push('export const show = (v) => v === undefined ? "<undefined>" : typeof v === "symbol" ? String(v) : Array.isArray(v) ? v.map(show) : v;');
  lines.push('const results = [];');
  cases.forEach((c, n) => {
    lines.push(`{ const ns = ns${n}; let value, error; try { value = ${c.code.replaceAll('N', String(n))}; } catch (e) { error = e.constructor.name + ": " + e.message; }`);
    lines.push(`  results.push({ value: show(value), error, evaluated: globalThis.evaluations.includes(${n}) }); }`);
  });
  lines.push('console.log(JSON.stringify(results));');
  files['main.mjs'] = lines.join('\n') + '\n';
  writeTree(dir, files);
  return join(dir, 'main.mjs');
}

export const show = (v) => (v === undefined ? '<undefined>' : Array.isArray(v) ? v.map(show) : v);

