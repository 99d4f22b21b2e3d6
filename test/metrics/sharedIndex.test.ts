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
