import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runHeadless } from '../../src/core/engine/run';
import { writeSlice } from '../../src/core/slice/writer';
import type { EventRecord, ItemRecord } from '../../src/core/slice/types';
import { breakOption } from '../../src/cli/breakReport';
import { BASE_MANIFEST, scanned, tmp } from '../helpers';

const HOST = { now: () => '2025-01-01T00:00:00.000Z', user: 't', host: 't', cwd: process.cwd() };

/** What `fn` prints through console.log (the CLI's say). */
async function printed(fn: () => unknown): Promise<string> {
  const out: string[] = [];
  const log = console.log;
  console.log = (s: string) => out.push(s);
  try {
    await fn();
  } finally {
    console.log = log;
  }
  return out.join('\n');
}

test('run --break at an event of 150,000 candidates replayed with k=150,000 prints its report (the table crashed with a stack overflow, exit 70) and its --json in linear work', async () => {
  const N = 150_000;
  const items: ItemRecord[] = Array.from({ length: N }, (_, i) => ({ id: `i${i}` }));
  const events: EventRecord[] = [1, 2].map((e) => {
    const n = e === 2 ? N : 3;
    const candidates = Array.from({ length: n }, (_, k) => ({ item: `i${k}`, score: 1 - k / n }));
    return { id: `e${e}`, t: `2025-01-01T00:00:0${e}Z`, user: 'u1', candidates, served: candidates.map((c) => c.item), outcome: { clicks: ['i0', 'i2'] } };
  });
  const dir = join(tmp(), 'wide.slice');
  writeSlice(dir, { manifest: { ...BASE_MANIFEST, pipeline: { k: N, budgetMs: 1e9 } }, events, items }, { frozenAt: '2025-01-02T00:00:00.000Z' });
  const brk = breakOption("event.id == 'e2'");
  const res = await runHeadless({ slice: dir, ranker: 'recorded', stopWhen: brk.stopWhen, stopCondition: "event.id == 'e2'" }, HOST);
  const text = await printed(() => assert.equal(brk.report(res, undefined), 0));
  assert.match(text, /^ranking \(replayed, 150000 candidates\)$/m);
  assert.match(text, /^ {2}#150000 {2}i149999 {2}/m);
  // Served and clicked are looked up per row: 150,000 rows by a scan of 150,000 served ids did not end.
  const { result: json } = await scanned(20 * N, () => printed(() => brk.report(res, {})));
  const ranking = (JSON.parse(json) as { ranking: { item: string; served: boolean; clicked: boolean }[] }).ranking;
  assert.equal(ranking.length, N);
  assert.deepEqual(ranking.slice(0, 3).map((r) => [r.item, r.served, r.clicked]), [['i0', true, true], ['i1', true, false], ['i2', true, true]]);
});
