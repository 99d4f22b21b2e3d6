import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ItemIndex } from '../../src/core/metrics/catalog';

test('indexes over one catalogue array share their tables; an array that grew is indexed again', () => {
  const catalog = [{ id: 'a', category: 'x' }, { id: 'b', category: 'y' }, { id: 'a', category: 'z' }];
  const one = new ItemIndex(catalog);
  const two = new ItemIndex(catalog);
  assert.equal(one.category, two.category);
  assert.equal(one.size, 2);
  assert.equal(two.slot('b'), 1);
  // Temporary slots stay each index's own.
  assert.equal(one.slot('new'), 2);
  assert.equal(two.slot('other'), 2);
  catalog.push({ id: 'c', category: 'x' });
  const three = new ItemIndex(catalog);
  assert.equal(three.size, 3);
  assert.equal(three.slot('c'), 2);
  assert.notEqual(three.fingerprint, one.fingerprint);
});

test("the fingerprint names the catalogue's ids, categories and groups, and nothing else", () => {
  const many = (n: number, at = -1, change: Partial<{ id: string; category: string; group: string }> = {}) =>
    Array.from({ length: n }, (_, i) => ({ id: `i${i}`, category: `c${i % 7}`, group: `g${i % 3}`, ...(i === at ? change : {}) }));
  // Past one part of 4,096 entries, so a change in the second part counts too.
  const base = new ItemIndex(many(5000)).fingerprint;
  assert.equal(new ItemIndex(many(5000)).fingerprint, base, 'another array of the same entries');
  for (const change of [{ id: 'x' }, { category: 'other' }, { group: 'other' }]) {
    assert.notEqual(new ItemIndex(many(5000, 4500, change)).fingerprint, base, JSON.stringify(change));
    assert.notEqual(new ItemIndex(many(5000, 10, change)).fingerprint, base, JSON.stringify(change));
  }
  // A repeated id is not indexed: the same index, the same fingerprint, wherever it stands.
  const repeated = many(5000);
  repeated.splice(100, 0, { id: 'i7', category: 'elsewhere', group: 'elsewhere' });
  const idx = new ItemIndex(repeated);
  assert.equal(idx.size, 5000);
  assert.equal(idx.fingerprint, base);
  // Names that would run together as plain text stay apart.
  assert.notEqual(new ItemIndex([{ id: 'ab', category: 'c' }]).fingerprint, new ItemIndex([{ id: 'a', category: 'bc' }]).fingerprint);
});
