import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseHitCondition } from '../../src/debugAdapter/breakpoints';

const holds = (text: string, hits: number[]) => {
  const h = parseHitCondition(text);
  assert.ok(typeof h !== 'string', `${text}: ${String(h)}`);
  return hits.filter((n) => h.test(n));
};

test('hit conditions: each form, with spaces around and between, holds on the hits it names', () => {
  const hits = [1, 2, 3, 4, 5, 6];
  assert.deepEqual(holds('3', hits), [3]);
  assert.deepEqual(holds('  == 3 ', hits), [3]);
  assert.deepEqual(holds('>=5', hits), [5, 6]);
  assert.deepEqual(holds('> 5', hits), [6]);
  assert.deepEqual(holds('<2', hits), [1]);
  assert.deepEqual(holds('<= 2', hits), [1, 2]);
  assert.deepEqual(holds('\t% 2\n', hits), [2, 4, 6]);
  assert.equal(parseHitCondition('%0'), 'hit condition "%0" never holds: use %1 or more');
  for (const bad of ['', 'x', '>=2x', '= 2', '2 2', '-1', '%']) assert.match(parseHitCondition(bad) as string, /is not understood/, bad);
});

test('a hit condition of 200,000 spaces then a letter is refused at once, quoting only its start (its pattern took quadratic time: 30 s on the editor\'s thread)', () => {
  for (const text of [' '.repeat(200_000) + 'x', '==' + ' '.repeat(200_000) + 'x', '5' + ' '.repeat(200_000) + 'x']) {
    const r = parseHitCondition(text);
    assert.equal(typeof r, 'string');
    assert.ok((r as string).length < 200, 'the message quotes the start only');
  }
});

test('a hit condition that can never hold (hits count from 1) or a count past 2^53 is refused with why: they came back verified and never fired', () => {
  for (const never of ['0', '==0', '<=0', '<1', '<0', ' < 1 ']) assert.match(parseHitCondition(never) as string, /never holds: hits are counted from 1 \(the first hit is 1\)/, never);
  assert.match(parseHitCondition('99999999999999999999999') as string, /^hit condition "99999999999999999999999": 23 digits is more than a hit count can be: use a number up to 9007199254740991$/);
  // The edges that can hold still do.
  assert.deepEqual(holds('<2', [1, 2]), [1]);
  assert.deepEqual(holds('>=0', [1, 2]), [1, 2]);
  assert.deepEqual(holds('>0', [1]), [1]);
  assert.deepEqual(holds('9007199254740991', [1]), []);
});
