// The learned-answers table is searched as text before it is parsed: every lookup must give what
// parsing the same table gives, whatever the keys and paths contain.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, writeAnswerTable, core } from '../helpers.mjs';

const { AnswerTable, searchAnswer } = await import(core('locations/answers'));

const answers = {
  'import\nnode,import\n\nx': ['node_modules/x/index.js', null],
  'import\nnode,import\n\n"x"': ['node_modules/q"uote/a\\b.js', 'module'],
  'import\nnode,import\n/sub\nx': ['node_modules/x/sub.js', 'commonjs'],
  'require\nrequire\n\nx\\': ['node_modules/[id]/x,y].js', null],
  'require\nrequire\n\nlast': ['node_modules/last/é.js', null],
};

test('searching the text finds exactly what parsing finds', () => {
  const text = JSON.stringify({ format: 'coldstart-answers/2', index: 'id', answers });
  for (const [key, value] of Object.entries(answers)) assert.deepEqual(searchAnswer(text, key), value, JSON.stringify(key));
  // Parts of keys, keys of the wrong mode, and a value's text are not keys.
  for (const key of ['x', 'import\nnode,import\n\n', '\nx', 'node_modules/x/index.js', 'import\nnode,import\n\nx"', 'module']) {
    assert.equal(searchAnswer(text, key), undefined, JSON.stringify(key));
  }
  // A value cut short or of another shape is no answer.
  for (const cut of ['{"k":["x",nul', '{"k":["x\\"]}', '{"k":["x","y"', '{"k":["x"]}', '{"k":"x"}', '{"k":["x",1]}', '{"k":[' ]) {
    assert.equal(searchAnswer(cut, 'k'), undefined, cut);
  }
  assert.deepEqual(searchAnswer('{"k":["a\\\\",null]}', 'k'), ['a\\', null], 'an escaped backslash ends before the quote');
});

test('a table is searched for its first lookups, parsed after, and ignored when foreign or cut short', (t) => {
  const dir = tempDir(t, 'coldstart-answers-');
  mkdirSync(join(dir, 'node_modules/x'), { recursive: true });
  const file = join(dir, 'answers');
  const table = (id) => {
    const tab = new AnswerTable(dir, id);
    tab.load(file);
    return tab;
  };
  const keyOf = (tab, n) => tab.key('import', 'node,import', join(dir, 'main.js'), `p${n}`);
  const many = {};
  for (let n = 0; n < 20; n++) many[`import\nnode,import\n\np${n}`] = [`node_modules/p${n}/index.js`, n % 2 === 0 ? null : 'module'];
  writeAnswerTable(file, { format: 'coldstart-answers/2', index: 'id', answers: many });
  const tab = table('id');
  for (let n = 0; n < 20; n++) {
    assert.deepEqual(tab.get(keyOf(tab, n)), { path: join(dir, `node_modules/p${n}/index.js`), format: n % 2 === 0 ? undefined : 'module' }, `p${n}`);
  }
  assert.equal(tab.get(keyOf(tab, 99)), undefined);
  assert.equal(table('other').get(keyOf(tab, 1)), undefined, 'a table of another index is ignored');
  writeAnswerTable(file, JSON.stringify({ format: 'coldstart-answers/2', index: 'id', answers: many }).slice(0, -40));
  assert.equal(table('id').get(keyOf(tab, 1)), undefined, 'a table cut short is ignored');
});
