/**
 * Fault ticks of the timeline: a trace's buckets carry the events with faults, and a tick marks
 * only events that were traced — never the untraced stretch of a trace that skips events or
 * starts late.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runHeadless } from '../../src/core/engine/run';
import { readTraceTimeline } from '../../src/extension/timeline/traceReader';
import { StreamBuckets } from '../../src/extension/timeline/buckets';
import { parseHostMessage, type LaneData } from '../../src/shared/webview';
import { findFaults, type FaultSpan } from '../../media/timelineData';
import { makeSlice, tmp } from '../helpers';

const host = { now: () => '2025-01-01T00:00:00.000Z', user: 'test', host: 'test', cwd: process.cwd() };

/** A trace of 500 events cut to the events `keep` holds, with faults at `faulted` (as a goto-skipping writer or another tool leaves it). */
async function cutTrace(keep: (n: number) => boolean, faulted: readonly number[]): Promise<string> {
  const dir = tmp();
  await runHeadless({ slice: makeSlice(500), ranker: 'popularity', traceDir: dir }, host);
  rmSync(join(dir, 'run.json'));
  const [header, ...lines] = readFileSync(join(dir, 'trace.jsonl'), 'utf8').trimEnd().split('\n');
  const kept = lines
    .map((l) => JSON.parse(l) as { n: number; faults: string[] })
    .filter((l) => keep(l.n))
    .map((l) => JSON.stringify({ ...l, faults: faulted.includes(l.n) ? ['nan_score'] : [] }));
  writeFileSync(join(dir, 'trace.jsonl'), [header, ...kept].join('\n') + '\n');
  return dir;
}

const covers = (spans: readonly FaultSpan[], n: number) => spans.some((s) => s.from <= n && n <= s.to);

test('a fault tick never spans the events a trace skipped', async () => {
  // Events 1–50 and 400–500 traced; faults at 400 and 410.
  const dir = await cutTrace((n) => n <= 50 || n >= 400, [400, 410]);
  for (const capacity of [1000, 16]) {
    const t = await readTraceTimeline(dir, { capacity });
    const lane = t.buckets.toLane('event', { id: 'run', label: 'run', dashed: false });
    const spans = findFaults([lane]);
    assert.ok(covers(spans, 400) && covers(spans, 410), `capacity ${capacity}: the faults are marked: ${JSON.stringify(spans)}`);
    const untraced = [51, 200, 399].filter((n) => covers(spans, n));
    assert.deepEqual(untraced, [], `capacity ${capacity} (buckets of ${lane.bucketSize}): ticks over untraced events ${untraced.join(', ')}: ${JSON.stringify(spans)}`);
    // The readout at the bucket's point still names its faults.
    assert.ok(spans.every((s) => s.bucketFrom <= s.from && s.to <= s.bucketTo && lane.x.includes(s.bucketTo)));
  }
});

test('a fault tick of a trace that starts late does not reach back to event 1', async () => {
  const dir = await cutTrace((n) => n >= 300, [300]);
  const t = await readTraceTimeline(dir, { capacity: 1000 });
  const spans = findFaults([t.buckets.toLane('cumulative', { id: 'run', label: 'run', dashed: false })]);
  assert.deepEqual(spans.map((s) => [s.from, s.to]), [[300, 300]]);
});

test('buckets keep the first and last faulted event through compaction, and the webview accepts them', () => {
  const sb = new StreamBuckets(['a'], 4);
  for (let e = 1; e <= 64; e++) sb.add(e, [1], [1], e === 21 || e === 27 ? 1 : 0);
  // Buckets of 16: events 21 and 27 lie in the second (17–32).
  const lane = sb.toLane('event', { id: 'l', label: 'l', dashed: false });
  assert.equal(lane.bucketSize, 16);
  assert.deepEqual(lane.faultFrom, [0, 21, 0, 0]);
  assert.deepEqual(lane.faultTo, [0, 27, 0, 0]);
  assert.deepEqual(findFaults([lane]).map((s) => [s.from, s.to, s.bucketFrom, s.bucketTo]), [[21, 27, 17, 32]]);
  assert.ok(parseHostMessage({ type: 'data', mode: 'event', lanes: [lane], eventCount: 64 }), 'a lane with fault events passes the webview\'s check');
  assert.equal(parseHostMessage({ type: 'data', mode: 'event', lanes: [{ ...lane, faultFrom: [1] }], eventCount: 64 }), undefined, 'fault events not one per bucket are refused');
});

test('without fault events from the host, a tick spans its bucket\'s own events, not the gap before it', () => {
  // Buckets of 10: events 1–10, then (after a skip) 71–80 with a fault.
  const lane: LaneData = { id: 'l', label: 'l', dashed: false, x: [10, 80], bucketSize: 10, series: {}, faultMask: [0, 1] };
  assert.deepEqual(findFaults([lane]).map((s) => [s.from, s.to]), [[71, 80]]);
});
