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
import { capTail, findFaults, tailFaults, tailsBeyond, type FaultSpan, type Tail } from '../../media/timelineData';
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

test('a live tail\'s faulted events are ticks after the lanes\' (a run of consecutive events is one), trimmed with the tail', () => {
  const lane: LaneData = { id: 'candidate', label: 'c', dashed: false, x: [10, 20], bucketSize: 10, series: {}, faultMask: [0, 1], faultFrom: [0, 15], faultTo: [0, 15] };
  const tails = new Map<string, Tail>([
    ['candidate', { x: [21, 22, 23, 24, 25], series: new Map(), faults: [{ event: 21, mask: 4 }, { event: 22, mask: 8 }, { event: 25, mask: 4 }] }],
    ['baseline', { x: [3], series: new Map(), faults: [{ event: 3, mask: 2 }] }],
  ]);
  const spans = tailFaults(tails, [lane]);
  assert.deepEqual(spans, [
    { lane: 0, from: 21, to: 22, bucketFrom: 21, bucketTo: 22, mask: 12 },
    { lane: 0, from: 25, to: 25, bucketFrom: 25, bucketTo: 25, mask: 4 },
    // A tail with no lane data yet is drawn after the lanes, as the charts order it.
    { lane: 1, from: 3, to: 3, bucketFrom: 3, bucketTo: 3, mask: 2 },
  ]);
  // A stop's data through event 22: the tail keeps the faults after it only.
  const later = tailsBeyond(tails, [{ ...lane, x: [10, 20, 22], faultMask: [0, 1, 12], faultFrom: [0, 15, 21], faultTo: [0, 15, 22] }]);
  assert.deepEqual(later.get('candidate')?.faults, [{ event: 25, mask: 4 }]);
  // A cumulative tail (one point per metrics event) whose faults came after its last point is kept for them.
  const cum = tailsBeyond(new Map([['replay', { x: [30], series: new Map(), faults: [{ event: 35, mask: 1 }] }]]), [{ ...lane, id: 'replay', x: [40] }]);
  assert.equal(cum.size, 0, 'faults the data covers go');
  const ahead = tailsBeyond(new Map([['replay', { x: [30], series: new Map(), faults: [{ event: 45, mask: 1 }] }]]), [{ ...lane, id: 'replay', x: [40] }]);
  assert.deepEqual(ahead.get('replay')?.faults, [{ event: 45, mask: 1 }], 'faults beyond the data stay');
  // Capped with the points: the faults up to the last point dropped go.
  const t: Tail = { x: Array.from({ length: 50 }, (_, i) => i + 1), series: new Map(), faults: [{ event: 5, mask: 1 }, { event: 45, mask: 1 }] };
  capTail(t, 40);
  assert.deepEqual(t.faults, [{ event: 45, mask: 1 }]);
  const many: Tail = { x: [1], series: new Map(), faults: Array.from({ length: 50 }, (_, i) => ({ event: i + 2, mask: 1 })) };
  capTail(many, 40);
  assert.equal(many.faults?.length, 30, 'the faults are bounded too');
  assert.equal(many.faults?.[0]?.event, 22);
  assert.ok(parseHostMessage({ type: 'tail', lane: 'replay', mode: 'event', points: [], faults: [{ event: 3, mask: 4 }] }), 'a tail with faults passes the webview\'s check');
  assert.equal(parseHostMessage({ type: 'tail', lane: 'replay', mode: 'event', points: [], faults: [{ event: 3, mask: 'x' }] }), undefined, 'a malformed fault is refused');
});
