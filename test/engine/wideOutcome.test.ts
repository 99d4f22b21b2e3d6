import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runHeadless } from '../../src/core/engine/run';
import { writeSlice } from '../../src/core/slice/writer';
import type { EventRecord, ItemRecord } from '../../src/core/slice/types';
import { BASE_MANIFEST, scanned, tmp } from '../helpers';

const HOST = { now: () => '2025-01-01T00:00:00.000Z', user: 't', host: 't', cwd: process.cwd() };

// One event of a feed: 20,000 candidates, all served, every other one clicked.
const N = 20_000;
const items: ItemRecord[] = Array.from({ length: N }, (_, i) => ({ id: `i${i}` }));
const events: EventRecord[] = [1, 2, 3].map((e) => {
  const n = e === 2 ? N : 10;
  const candidates = Array.from({ length: n }, (_, k) => ({ item: `i${(k * 7 + e) % N}`, score: 1 - k / n }));
  const served = candidates.map((c) => c.item);
  return { id: `e${e}`, t: `2025-01-01T00:00:0${e}Z`, user: 'u1', candidates, served, outcome: { clicks: served.filter((_, i) => i % 2 === 0) } };
});

test('an event serving 20,000 items with 10,000 clicks is written and replayed in work linear in them, not their product (a 200,000-item event took minutes)', async () => {
  const dir = join(tmp(), 'wide.slice');
  const written = await scanned(50 * N, () => writeSlice(dir, { manifest: { ...BASE_MANIFEST, pipeline: { k: N, budgetMs: 1e9 } }, events, items }, { frozenAt: '2025-01-02T00:00:00.000Z' }));
  // Without the fix: each click looked up in the served list, 10,000 × 20,000.
  assert.ok(written.elements < 50 * N, `the writer scanned ${written.elements} list elements`);
  const traceDir = join(tmp(), 'trace');
  const run = await scanned(50 * N, () => runHeadless({ slice: dir, ranker: 'recorded', traceDir }, HOST));
  assert.ok(run.elements < 50 * N, `the replay scanned ${run.elements} list elements`);
  // The replay served the recording and kept its clicks: the figures come out as the recording says.
  assert.equal(run.result.events, 3);
  assert.equal(run.result.metrics['ctr'], (5 + N / 2 + 5) / (10 + N + 10));
  // Another order: the click model decides for the items moved, each looked up among the recording's.
  const other = await scanned(50 * N, () => runHeadless({ slice: dir, ranker: 'popularity' }, HOST));
  assert.ok(other.elements < 50 * N, `the replay with another order scanned ${other.elements} list elements`);
  assert.equal(other.result.events, 3);
});
