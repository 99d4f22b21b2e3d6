import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HitLog, momentOf } from '../../src/debugAdapter/breakpoints';

test('a hit log keeps each hit\'s number past its first growth, finds the count at any moment, and drops what a rewind or a jump goes back over', () => {
  const log = new HitLog();
  // A hit at stage 3 of every event 1..1000, numbered 1..1000.
  for (let n = 1; n <= 1000; n++) log.record(momentOf(n, 3), n);
  assert.equal(log.size, 1000);
  assert.equal(log.numberAt(momentOf(700, 3)), 700);
  assert.equal(log.hasHitAt(momentOf(700, 3)), true);
  assert.equal(log.hasHitAt(momentOf(700, 2)), false);
  // A moment never hit gets one after the count before it.
  assert.equal(log.numberAt(momentOf(700, 5)), 701);
  // Back to event 500 before its stage 3: the count there is 499, and the later hits are gone.
  assert.equal(log.rewind(momentOf(500, 2)), 499);
  assert.equal(log.size, 499);
  assert.equal(log.hasHitAt(momentOf(700, 3)), false);
  // A second pass re-records from there; a hit recorded again at a moment replaces the earlier pass's.
  log.record(momentOf(500, 3), 499 + 1);
  log.record(momentOf(500, 3), 7);
  assert.equal(log.numberAt(momentOf(500, 3)), 7);
  assert.equal(log.size, 500);
  // A jump that keeps a count different from the last notes it as a mark, not a hit.
  log.keep(momentOf(600, 0), 42);
  assert.equal(log.hasHitAt(momentOf(600, 0)), false);
  assert.equal(log.numberAt(momentOf(650, 3)), 43);
  assert.equal(log.rewind(momentOf(599, 0)), 7);
  // A count past 2^16 and moments past 2^31 (event 300 million) are kept exactly.
  const big = new HitLog();
  big.record(momentOf(300_000_000, 6), 70_000);
  assert.equal(big.numberAt(momentOf(300_000_000, 6)), 70_000);
  assert.equal(big.numberAt(momentOf(300_000_001, 0)), 70_001);
});
