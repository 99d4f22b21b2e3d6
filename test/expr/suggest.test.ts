import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { editDistance, editDistanceWithin, suggest } from '../../src/core/expr/suggest';
import { checkExpr } from '../../src/core/expr/index';
import { env } from './fixtures';

test('editDistanceWithin is the edit distance where it is at most the bound, and bound + 1 past it (property)', () => {
  const word = fc.string({ unit: fc.constantFrom('a', 'b', 'c', 'é', '_'), maxLength: 12 });
  fc.assert(
    fc.property(word, word, fc.integer({ min: 0, max: 6 }), (a, b, max) => {
      const full = editDistance(a, b);
      assert.equal(editDistanceWithin(a, b, max), full <= max ? full : max + 1, `${a} / ${b} within ${max}`);
    }),
    { numRuns: 3000 },
  );
  // Rows kept between calls: a long comparison first must not leave cells a short one reads.
  assert.equal(editDistanceWithin('abcdefghijklmnop', 'abcdefghijklmnoq', 3), 1);
  assert.equal(editDistanceWithin('ab', 'ba', 3), 1);
  assert.equal(editDistanceWithin('socre', 'score', 1), 1);
});

test('suggest over a catalogue of 100,000 ids gives what the full edit distance gives', () => {
  const ids = Array.from({ length: 100_000 }, (_, i) => `item${i}`);
  assert.equal(suggest('item12345x', ids), 'item12345');
  assert.equal(suggest('itme55', ids), 'item55');
  assert.equal(suggest('ITEM7', ids), 'item7');
  assert.equal(suggest('zzzzzzzz', ids), undefined);
});

test('an unknown item id in an expression is suggested once per catalogue: checking it again does not walk the catalogue again', () => {
  let walked = 0;
  const ids = new Set(Array.from({ length: 2000 }, (_, i) => `item${i}`));
  const counting: ReadonlySet<string> = {
    has: (id: string) => ids.has(id),
    size: ids.size,
    forEach: (fn) => ids.forEach((v) => fn(v, v, counting)),
    keys: () => ids.keys(),
    values: () => ids.values(),
    entries: () => ids.entries(),
    [Symbol.iterator]: () => {
      walked++;
      return ids[Symbol.iterator]();
    },
  };
  for (let i = 0; i < 3; i++) {
    const d = checkExpr('score("item12x") > 0.5', { ...env, itemIds: counting });
    assert.match(d.map((x) => x.message).join(' '), /unknown item 'item12x'.*did you mean 'item12'/);
  }
  assert.equal(walked, 1);
});
