// Which packed CommonJS keeps a V8 code cache: no module that calls import() or a direct eval
// (Node 20 would warn at such an import() from a vm-compiled module), decided from the syntax.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSync } from 'oxc-parser';
import { core } from '../helpers.mjs';
const { callsImportOrEval, mentionsImportOrEval } = await import(core('pack/cache-check'));

test('the quick test never misses a call, and may name one that is not', () => {
  for (const source of ["import('x')", 'import (x)', 'import\n(x)', 'import /* c */ ("x")', 'eval("1")', 'eval (s)']) {
    assert.equal(mentionsImportOrEval(source), true, source);
  }
  for (const source of ['const a = 1;', 'importer.run()', "require('import')", 'evaluate(x)', 'x.important']) {
    assert.equal(mentionsImportOrEval(source), false, source);
  }
  assert.equal(mentionsImportOrEval("/** @type {import('x').T} */"), true, 'a JSDoc type is a maybe');
  assert.equal(mentionsImportOrEval('retrieval(x)'), true, 'so is a word that ends in eval');
});

test('the parser decides: comments, strings and member calls are not calls; a hashbang and a top-level return parse', () => {
  const cases = [
    ["exports.load = () => import('x');", true],
    ['module.exports = function (s) { return eval(s); };', true],
    ["/** @type {import('x').T} */\nexports.a = 1;", false],
    ["const s = \"import('x')\"; exports.s = s;", false],
    ['exports.e = (o) => o.eval("1");', false],
    ['#!/usr/bin/env node\n/** @param {import("y")} y */\nexports.y = 1;', false],
    ["if (process.env.X) return;\n/* import('z') */\nexports.z = 1;", false],
    ["exports.broken = (; /* import('x') */", true], // mentioned, and no tree to clear it
  ];
  for (const [source, expected] of cases) assert.equal(callsImportOrEval(source, parseSync), expected, source);
});
