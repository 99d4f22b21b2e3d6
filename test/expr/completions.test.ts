import { test } from 'node:test';
import assert from 'node:assert/strict';
import { completions } from '../../src/core/expr/index';
import { MAX_ITEM_COMPLETIONS } from '../../src/core/expr/completions';
import { env } from './fixtures';

/** Labels offered with the cursor at `|`, plus the replaced range. */
function at(textWithCursor: string): { labels: string[]; from: number; to: number } {
  const offset = textWithCursor.indexOf('|');
  const text = textWithCursor.replace('|', '');
  const r = completions(text, offset, env);
  return { labels: r.items.map((i) => i.label), from: r.from, to: r.to };
}

test('at the start: bindings, helpers and keywords', () => {
  const { labels } = at('|');
  for (const name of ['event', 'candidates', 'metrics', 'score', 'rankDelta', 'topk', 'has', 'true']) assert.ok(labels.includes(name), name);
});

test('a partial name filters by prefix and replaces the whole word', () => {
  assert.deepEqual(at('ra|'), { labels: ['rank', 'rankDelta'], from: 0, to: 2 });
  assert.deepEqual(at('x && cand|idates'), { labels: ['candidates'], from: 5, to: 15 });
  assert.deepEqual(at('RA|').labels, ['rank', 'rankDelta'], 'case-insensitive');
});

test('after a dot: the fields of the receiver type', () => {
  assert.deepEqual(at('user.|').labels, ['age', 'country', 'id', 'segment', 'features', 'embedding']);
  assert.deepEqual(at('context.d|').labels, ['device']);
  assert.deepEqual(at('system.latencyMs.|').labels, ['retrieve', 'features', 'score', 'rerank', 'serve', 'outcome']);
  assert.deepEqual(at('candidates[0].features.ctr|').labels, ['ctr_7d', 'ctr_30d']);
  assert.deepEqual(at('event.system.cache.|').labels, ['hits', 'misses']);
});

test('metric names that are not identifiers are inserted as an index replacing the dot', () => {
  const r = completions('metrics.hit', 11, env);
  assert.deepEqual(r.items, [{ label: 'hit_rate@10', kind: 'metric', detail: 'number', insertText: '["hit_rate@10"]', from: 7 }]);
  assert.deepEqual(at('metrics.c|').labels, ['ctr']);
});

test('methods and macros for strings, lists and maps', () => {
  assert.deepEqual(at('stage.|').labels, ['size', 'startsWith', 'endsWith', 'contains']);
  assert.deepEqual(at('served.|').labels, ['size', 'exists', 'all', 'exists_one', 'filter', 'map']);
  assert.deepEqual(at('outcome.dwellMs.e|').labels, ['exists', 'exists_one']);
});

test('macro variables are in scope inside the macro and typed by its range', () => {
  assert.ok(at('candidates.exists(c, |').labels.includes('c'));
  assert.deepEqual(at('candidates.exists(c, c.|').labels, ['item', 'score', 'rank', 'recordedRank', 'prevRank', 'features', 'meta']);
  assert.deepEqual(at('candidates.exists(c, c.features.a|').labels, ['age_days']);
  assert.deepEqual(at('candidates.exists(c, served.exists(s, s.st|').labels, ['startsWith']);
  assert.ok(!at('candidates.exists(c, true) && |').labels.includes('c'), 'out of scope after the macro closes');
  assert.deepEqual(at('topk(3).filter(id, score(id) > 0.5 && id.e|').labels, ['endsWith']);
});

test('inside string arguments: item ids, feature names and metric keys', () => {
  assert.deepEqual(at('score("i_4|').labels, ['i_42']);
  assert.deepEqual(at("rank('|").labels, ['i_7', 'i_42', 'i_99', 'i_100']);
  assert.deepEqual(at('feature("i_7", "ctr|').labels, ['ctr_7d', 'ctr_30d']);
  assert.deepEqual(at('feature("i_7|').labels, ['i_7']);
  assert.deepEqual(at('age("co|').labels, ['country']);
  assert.deepEqual(at('metrics["nd|').labels, ['ndcg@10']);
  assert.deepEqual(at('"abc|').labels, [], 'a free string offers nothing');
  const r = completions('score("i_4', 10, env);
  assert.deepEqual([r.from, r.to], [7, 10]);
});

test('never throws on broken input', () => {
  for (const text of ['(((', 'a..b', ')])}', '"\\', 'x.exists(', 'f(,', '#', '1e', 'candidates.exists(c, c.features.ctr_7d > 0.1 && c.']) {
    for (let i = 0; i <= text.length; i++) assert.doesNotThrow(() => completions(text, i, env), `${text} @ ${i}`);
  }
});

test('item ids offered inside a string are those starting with what is typed, at most MAX_ITEM_COMPLETIONS of a huge catalogue', () => {
  const itemIds = new Set(Array.from({ length: 50_000 }, (_, i) => `item${i}`));
  const big = { ...env, itemIds };
  const all = completions('score("', 7, big).items;
  assert.equal(all.length, MAX_ITEM_COMPLETIONS);
  assert.deepEqual(all.slice(0, 3).map((i) => i.label), ['item0', 'item1', 'item2'], 'in catalogue order');
  assert.deepEqual(
    completions('rank("ITEM4999', 14, big).items.map((i) => i.label),
    ['item4999', 'item49990', 'item49991', 'item49992', 'item49993', 'item49994', 'item49995', 'item49996', 'item49997', 'item49998', 'item49999'],
  );
});

test('an r or R just before the cursor is a name being typed, even with a quote after the cursor: the range never ends before it starts', () => {
  // The lexer read `r|"i_4"` as a raw string opening past the cursor: from 8, to 7, so the debug
  // console got a completion of length -1, offering item ids where a helper name was being typed.
  assert.deepEqual(at('score(r|"i_4")').labels, ['rank', 'recordedRank', 'rankDelta']);
  assert.equal(at('score(r|"i_4")').from, 6);
  for (const text of ['score(r"i_4")', "x + R'ab", 'r"', 'rb"x"', 'b\'x\'', 'score(r"""a""")']) {
    for (let o = 0; o <= text.length; o++) {
      const r = completions(text, o, env);
      assert.ok(r.from <= r.to && r.to <= text.length, `${text} at ${o}: ${r.from}..${r.to}`);
      for (const it of r.items) assert.ok((it.from ?? r.from) <= r.to, `${text} at ${o}: ${it.label}`);
    }
  }
});
