// The session timeline (series from the adapter's metric store) against the engine's final metrics
// and the trace timeline of the same run; and mode switches while a refresh is in flight.
import './setup';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { SERIES, type HostMessage, type LaneData, type Marker, type TimelineMode } from '../../src/shared/webview';
import { SessionTimelineSource, faultTicks, firstFaultMarkers, snapshotValue } from '../../src/extension/timeline/sessionSource';
import { FAULT_MASK_KINDS } from '../../src/extension/timeline/traceMetrics';
import { faultNames, findFaults } from '../../media/timelineData';
import { TraceTimelineSource } from '../../src/extension/timeline/traceSource';
import { MetricStore } from '../../src/debugAdapter/metricStore';
import { eventLine, rawSlice, tmp } from '../helpers';
import { InlineDap, track } from './inlineDap';
import { dataStates } from './timelineFold';

const ROOT = resolve(__dirname, '../..');
const COLD = { type: 'recreplay', request: 'launch', name: 'cold start', slice: join(ROOT, 'examples/slices/cold-start.slice'), ranker: 'linear:examples/rankers/cold-start-linear.json', stopOnEntry: true, cwd: ROOT };

/** initialize → launch → (breakpoint) → configurationDone → continue, resolving at the second stop. */
async function runTo(dap: InlineDap, config: Record<string, unknown>, line?: number): Promise<void> {
  await dap.request('initialize', { adapterID: 'recreplay', linesStartAt1: true, columnsStartAt1: true, supportsProgressReporting: false });
  const initialized = dap.next('initialized');
  await dap.request('launch', config);
  await initialized;
  if (line !== undefined) await dap.request('setBreakpoints', { source: { path: join(config['slice'] as string, 'events.jsonl') }, breakpoints: [{ line }] });
  let stopped = dap.next('stopped');
  await dap.request('configurationDone');
  await stopped;
  stopped = dap.next('stopped');
  await dap.request('continue', { threadId: 1 });
  await stopped;
}

async function lanesOf(src: { replay(post: (m: HostMessage) => void): Promise<void>; dispose(): void }): Promise<LaneData[]> {
  const posted: HostMessage[] = [];
  await src.replay((m) => posted.push(m));
  src.dispose();
  const data = dataStates(posted).at(-1);
  assert.ok(data, 'data posted');
  return data.lanes;
}

async function laneOf(src: { replay(post: (m: HostMessage) => void): Promise<void>; dispose(): void }): Promise<LaneData> {
  const lanes = await lanesOf(src);
  assert.equal(lanes.length, 1);
  return lanes[0] as LaneData;
}

// Drawn from the adapter's per-event store (the others are sampled from snapshots in both timelines).
const STORED = ['hit_rate', 'mrr', 'ndcg', 'ctr', 'diversity', 'novelty', 'overlap', 'kendall_tau', 'fallback_rate'];
// Per-event values of these are exact in the store's Float32 (0/1, counts); the others are rounded to ~1e-7.
// (Per-event CTR is stored as the event's own Float32 ratio: not exact.)
const EXACT = new Set(['hit_rate', 'fallback_rate']);
const close = (id: string, got: number | null | undefined, want: number | null | undefined, what: string) => {
  assert.ok(typeof got === 'number' && typeof want === 'number', `${id} ${what}: ${got} vs ${want}`);
  const tol = EXACT.has(id) ? 1e-12 : 1e-6 * Math.max(1, Math.abs(want));
  assert.ok(Math.abs(got - want) <= tol, `${id} ${what}: session ${got} vs ${want}`);
};

test('cumulative session timeline: each point is the running value at its bucket\'s end, ending at the final metrics and matching the trace timeline', async () => {
  const traceDir = tmp();
  const config = { ...COLD, trace: traceDir };
  const dap = new InlineDap(ROOT);
  const { rs, sessions } = track(dap, config);
  const session: Partial<Record<TimelineMode, LaneData>> = {};
  let final: Record<string, number> = {};
  try {
    await runTo(dap, config);
    assert.equal(rs.position?.event, 650, 'ran to the end');
    for (const mode of ['cumulative', 'event'] as const) session[mode] = await laneOf(new SessionTimelineSource(rs, sessions, 100, mode));
    final = [...(rs.snapshots.get('replay')?.values() ?? [])].at(-1) ?? {};
    assert.equal(final['events'], 650);
    await dap.request('disconnect', {});
  } finally {
    await dap.dispose();
  }
  const s = session.cumulative as LaneData;
  assert.ok(s.bucketSize > 1, 'buckets of several events');
  for (const id of STORED) close(id, s.series[id]?.v.at(-1), snapshotValue(final, id), 'last point vs final metric');

  for (const mode of ['cumulative', 'event'] as const) {
    const t = await laneOf(new TraceTimelineSource([traceDir], 100, mode));
    const own = session[mode] as LaneData;
    assert.deepEqual(own.x, t.x, `${mode}: same bucket ends`);
    for (const id of STORED) {
      const sv = own.series[id]?.v ?? [];
      const tv = t.series[id]?.v ?? [];
      assert.equal(sv.length, tv.length, `${mode} ${id}`);
      for (let i = 0; i < tv.length; i++) {
        if (tv[i] === null) assert.equal(sv[i], null, `${mode} ${id} at ${t.x[i]}`);
        else close(id, sv[i], tv[i], `${mode} at event ${t.x[i]} vs trace`);
        if (mode === 'cumulative' && sv[i] !== null) {
          const lo = own.series[id]?.lo[i] as number;
          const hi = own.series[id]?.hi[i] as number;
          assert.ok(lo <= (sv[i] as number) && (sv[i] as number) <= hi, `${id}: the point lies in the bucket's range`);
        }
      }
    }
  }
});

test('per event, the session timeline\'s queue depth and cache hit rate are each event\'s own, as the trace timeline has them (not running values sampled at stops)', async () => {
  const traceDir = tmp();
  const config = { ...COLD, name: 'latency cascade', slice: join(ROOT, 'examples/slices/latency-cascade.slice'), ranker: 'linear:examples/rankers/search-linear.json', trace: traceDir };
  const dap = new InlineDap(ROOT);
  const { rs, sessions } = track(dap, config);
  let own: LaneData;
  try {
    await runTo(dap, config);
    own = await laneOf(new SessionTimelineSource(rs, sessions, 100, 'event'));
    await dap.request('disconnect', {});
  } finally {
    await dap.dispose();
  }
  const t = await laneOf(new TraceTimelineSource([traceDir], 100, 'event'));
  assert.deepEqual(own.x, t.x);
  for (const id of ['queue_depth', 'cache_hit_rate']) {
    const sv = own.series[id];
    const tv = t.series[id];
    assert.ok(sv && tv, `${id} drawn in both`);
    for (let i = 0; i < tv.v.length; i++) {
      for (const k of ['v', 'lo', 'hi'] as const) {
        if (tv[k][i] === null) assert.equal(sv[k][i], null);
        else close(id, sv[k][i], tv[k][i], `${k} at event ${t.x[i]} vs trace`);
      }
    }
    // A bucket of several events has a range: per-event values, not one sampled running value.
    assert.ok(sv.v.some((_, i) => (sv.hi[i] as number) > (sv.lo[i] as number)), `${id} varies within buckets`);
  }
});

test('switching mode while a refresh is in flight posts the new mode\'s data', async () => {
  const config = { ...COLD, ranker: 'recorded' };
  const dap = new InlineDap(ROOT);
  const { rs, sessions } = track(dap, config);
  try {
    await runTo(dap, config, 300);
    assert.equal(rs.position?.event, 300);
    const src = new SessionTimelineSource(rs, sessions, 4000, 'cumulative');
    const posted: HostMessage[] = [];
    const post = (m: HostMessage) => posted.push(m);
    // The webview is ready (a refresh in cumulative mode starts), then restores its saved mode.
    const ready = src.replay(post);
    const switched = src.handle({ type: 'setMode', mode: 'event' }, post);
    await switched;
    const data = () => dataStates(posted);
    assert.equal(data().at(-1)?.mode, 'event', `data posted by mode: ${data().map((m) => m.mode).join(', ')}`);
    await ready;
    assert.equal(data().at(-1)?.mode, 'event', 'the last data is the current mode\'s');
    assert.ok(data().at(-1)?.lanes[0]?.series['hit_rate'], 'with its series');
    // Back and forth while in flight: the last data is the last mode chosen.
    const a = src.handle({ type: 'setMode', mode: 'cumulative' }, post);
    const b = src.handle({ type: 'setMode', mode: 'event' }, post);
    const c = src.handle({ type: 'setMode', mode: 'cumulative' }, post);
    await Promise.all([a, b, c]);
    assert.equal(data().at(-1)?.mode, 'cumulative');
    src.dispose();
    await dap.request('disconnect', {});
  } finally {
    await dap.dispose();
  }
});

test('a refresh while the replay runs on draws every series up to the same event: a series fetched before the replay went further is not dropped', async () => {
  // The adapter's store gains an event between the refresh's requests (a continue right after a
  // stop), as a replay running on the adapter's thread does.
  const store = new MetricStore();
  const add = () => {
    const n = store.through + 1;
    store.record({ index: n, hit: n % 3 === 0 ? null : n % 2, rr: 0.5, ndcg: 0.4, ild: 0.3, novelty: 5, overlap: 0.9, kendallTau: 0.8, fallback: 0, clicks: 1, impressions: 10, latencyTotalMs: 70 }, 10);
  };
  for (let i = 0; i < 40; i++) add();
  const noop = { dispose() {} };
  const rs = {
    position: { event: 40, state: 'stopped' as const, eventCount: 1000 },
    through: new Map([['replay', 40]]),
    snapshotsTaken: 0,
    snapshots: new Map(),
    lanes: ['replay' as const],
    config: { ranker: 'recorded' },
    session: { name: 's', id: 's1' },
    markers: [],
    metricSeries(a: { metric: string; from?: number; to?: number; maxPoints?: number; cumulative?: boolean; known?: { bucketSize: number; buckets: number } }) {
      const to = Math.min(store.through, a.to ?? store.through);
      const r = store.buckets(a.metric as never, a.from ?? 1, to, a.maxPoints ?? 1000, a.cumulative ?? false, a.known);
      add();
      return Promise.resolve({ metric: a.metric, lane: 'replay', from: a.from ?? 1, to, ...r });
    },
  };
  const sessions = { onPosition: () => noop, onMetrics: () => noop, onEnd: () => noop };
  for (const mode of ['cumulative', 'event'] as const) {
    const src = new SessionTimelineSource(rs as never, sessions as never, 1000, mode);
    const posted: HostMessage[] = [];
    await src.replay((m) => posted.push(m));
    src.dispose();
    const lane = dataStates(posted).at(-1)?.lanes[0];
    assert.ok(lane);
    assert.equal(lane.x.at(-1), 40, `${mode}: the lane ends at the event the refresh started at`);
    for (const id of ['hit_rate', 'mrr', 'ndcg', 'ctr', 'diversity', 'novelty', 'overlap', 'kendall_tau', 'fallback_rate', 'latency.total']) {
      if (mode === 'cumulative' && id === 'latency.total') continue;
      assert.equal(lane.series[id]?.v.length, 40, `${mode}: ${id} drawn at every bucket (${lane.series[id]?.v.length ?? 'missing'})`);
    }
  }
});

test('a metric the run never defines is said to have no values, alike in a live session and its trace (the session drew cache hit rate and queue depth at 0)', async () => {
  // 30 events without cache figures; a queue depth from event 10 on.
  const lines = Array.from({ length: 30 }, (_, i) => eventLine(`e${i + 1}`, `2025-01-01T00:00:${String(i).padStart(2, '0')}Z`, i >= 9 ? { system: { queueDepth: i } } : {}));
  const slice = rawSlice(lines.join('\n') + '\n');
  const traceDir = tmp();
  const config = { ...COLD, name: 'no cache', slice, ranker: 'recorded', trace: traceDir };
  const dap = new InlineDap(ROOT);
  const { rs, sessions } = track(dap, config);
  const session: Partial<Record<TimelineMode, LaneData>> = {};
  try {
    // A stop at event 5 (a snapshot before any queue depth), then on to the end.
    await runTo(dap, config, 5);
    assert.equal(rs.position?.event, 5);
    const stopped = dap.next('stopped');
    await dap.request('continue', { threadId: 1 });
    await stopped;
    assert.equal(rs.position?.event, 30, 'ran to the end');
    for (const mode of ['cumulative', 'event'] as const) session[mode] = await laneOf(new SessionTimelineSource(rs, sessions, 100, mode));
    await dap.request('disconnect', {});
  } finally {
    await dap.dispose();
  }
  for (const mode of ['cumulative', 'event'] as const) {
    const own = session[mode] as LaneData;
    const t = await laneOf(new TraceTimelineSource([traceDir], 100, mode));
    assert.deepEqual(own.x, t.x, `${mode}: same buckets`);
    assert.equal(own.series['cache_hit_rate'], undefined, `${mode}: no cache hit rate drawn in the session: ${JSON.stringify(own.series['cache_hit_rate']?.v)}`);
    assert.equal(t.series['cache_hit_rate'], undefined, `${mode}: nor in the trace`);
    const why = { kind: 'undefined', why: 'no replayed event recorded cache hits and misses (system.cache)' };
    assert.deepEqual(own.absent?.['cache_hit_rate'], why, `${mode}: the session says why`);
    assert.deepEqual(t.absent?.['cache_hit_rate'], why, `${mode}: the trace says the same`);
    // Queue depth: undefined before event 10 in both (the session's snapshot at event 4 read 0), then
    // as in the trace (cumulatively the session has it only where it took a snapshot).
    const q = own.series['queue_depth']?.v ?? [];
    assert.deepEqual(q.slice(0, 9), new Array(9).fill(null), `${mode}: no queue depth before event 10: ${JSON.stringify(q)}`);
    q.forEach((v, i) => v !== null && assert.equal(v, t.series['queue_depth']?.v[i], `${mode}: queue depth at ${own.x[i]} as in the trace`));
    assert.equal(q.at(-1), 29);
    // Every series drawn in one is drawn in the other, or both say why not (per event, a session keeps no stage latencies).
    for (const id of SERIES.map((s) => s.id)) {
      if (mode === 'event' && id.startsWith('latency.') && id !== 'latency.total') {
        assert.equal(own.absent?.[id]?.kind, 'unavailable', `${id}: the session says it keeps no per-event stage latency`);
        continue;
      }
      assert.equal(own.series[id] === undefined, t.series[id] === undefined, `${mode} ${id}: drawn in one timeline only`);
      assert.deepEqual(own.absent?.[id], t.absent?.[id], `${mode} ${id}: the same reason`);
    }
  }
});

test('while a session runs, its cumulative tail has no cache hit rate or queue depth until an event recorded one (the snapshots read 0 before)', () => {
  const noop = { dispose() {} };
  let onMetrics: ((e: { s: unknown; body: unknown }) => void) | undefined;
  const rs = { position: { event: 1, state: 'running' as const, eventCount: 100 }, through: new Map(), snapshotsTaken: 0, snapshots: new Map(), lanes: ['replay' as const], config: {}, session: { name: 's', id: 's1' }, markers: [] };
  const sessions = { onPosition: () => noop, onMetrics: (f: typeof onMetrics) => ((onMetrics = f), noop), onEnd: () => noop };
  const src = new SessionTimelineSource(rs as never, sessions as never, 100, 'cumulative');
  const posted: HostMessage[] = [];
  (src as unknown as { post: (m: HostMessage) => void }).post = (m) => posted.push(m);
  const point = (event: number, queueDepth: number | null) => ({ event, values: { hit: null, rr: null, ndcg: null, ild: null, novelty: null, overlap: 1, kendallTau: null, fallback: 0, clicks: 0, impressions: 2, ctr: 0, latencyTotalMs: 10, queueDepth, cacheHitRate: null } });
  const send = (through: number, q: number | null) => onMetrics?.({ s: rs, body: { lane: 'replay', through, points: [point(through, q)], skipped: 0, cumulative: { cache_hit_rate: 0, queue_depth: through >= 2 ? 7 : 0, 'overlap@2': 1 } } });
  send(1, null);
  send(2, 7);
  send(3, null);
  const tails = posted.filter((m): m is HostMessage & { type: 'tail' } => m.type === 'tail').map((m) => m.points[0]?.values);
  assert.deepEqual(tails.map((v) => v?.['cache_hit_rate']), [null, null, null], 'no event recorded cache figures');
  assert.deepEqual(tails.map((v) => v?.['queue_depth']), [null, 7, 7], 'the latest queue depth, from the first event that recorded one');
  assert.deepEqual(tails.map((v) => v?.['overlap']), [1, 1, 1]);
  src.dispose();
});

test('a compare session\'s timeline marks the same fault ticks as the traces of its two lanes (it marked none: faultMask was all 0)', async () => {
  const traceDir = tmp();
  const config = { ...COLD, name: 'latency cascade', slice: join(ROOT, 'examples/slices/latency-cascade.slice'), ranker: 'linear:examples/rankers/search-linear.json', baseline: 'recorded', trace: traceDir };
  const dap = new InlineDap(ROOT);
  const { rs, sessions } = track(dap, config);
  const session: Partial<Record<TimelineMode, LaneData[]>> = {};
  let liveMarkers: Marker[] = [];
  try {
    await dap.request('initialize', { adapterID: 'recreplay', linesStartAt1: true, columnsStartAt1: true, supportsProgressReporting: false });
    const initialized = dap.next('initialized');
    await dap.request('launch', config);
    await initialized;
    let stopped = dap.next('stopped');
    await dap.request('configurationDone');
    await stopped;
    // To event 340 first (a refresh there), then to the end: the second refresh brings only the buckets from the last held one.
    await dap.request('setBreakpoints', { source: { path: join(config.slice, 'events.jsonl') }, breakpoints: [{ line: 340 }] });
    stopped = dap.next('stopped');
    await dap.request('continue', { threadId: 3 });
    await stopped;
    assert.equal(rs.position?.event, 340);
    const live = new SessionTimelineSource(rs, sessions, 100, 'event');
    const posted: HostMessage[] = [];
    await live.replay((m) => posted.push(m));
    await dap.request('setBreakpoints', { source: { path: join(config.slice, 'events.jsonl') }, breakpoints: [] });
    stopped = dap.next('stopped');
    await dap.request('continue', { threadId: 3 });
    await stopped;
    const end = rs.position?.eventCount as number;
    assert.equal(rs.position?.event, end, 'ran to the end');
    // The stop's refresh: settled once its data is posted.
    for (let i = 0; i < 200 && !dataStates(posted).some((d) => d.lanes[0]?.x.at(-1) === end); i++) await new Promise((r) => setImmediate(r));
    live.dispose();
    const incremental = dataStates(posted).at(-1)?.lanes ?? [];
    liveMarkers = posted.filter((m): m is HostMessage & { type: 'markers' } => m.type === 'markers').at(-1)?.markers ?? [];
    assert.equal(incremental[0]?.x.at(-1), end, 'the refresh at the end was posted');
    for (const mode of ['cumulative', 'event'] as const) session[mode] = await lanesOf(new SessionTimelineSource(rs, sessions, 100, mode));
    session.event = session.event as LaneData[];
    assert.deepEqual(incremental.map((l) => [l.faultMask, l.faultFrom, l.faultTo]), session.event.map((l) => [l.faultMask, l.faultFrom, l.faultTo]), 'faults fetched in two steps are those fetched at once');
    await dap.request('disconnect', {});
  } finally {
    await dap.dispose();
  }
  for (const mode of ['cumulative', 'event'] as const) {
    const own = session[mode] as LaneData[];
    assert.deepEqual(own.map((l) => l.id), ['baseline', 'candidate']);
    for (const l of own) {
      const t = await laneOf(new TraceTimelineSource([join(traceDir, l.id)], 100, mode));
      assert.deepEqual(l.x, t.x, `${mode} ${l.id}: same buckets`);
      assert.deepEqual(l.faultMask, t.faultMask, `${mode} ${l.id}: same fault kinds per bucket`);
      assert.deepEqual(l.faultFrom, t.faultFrom, `${mode} ${l.id}: same first faulted events`);
      assert.deepEqual(l.faultTo, t.faultTo, `${mode} ${l.id}: same last faulted events`);
      // The ticks the webview draws.
      const ticks = findFaults([l]);
      assert.deepEqual(ticks, findFaults([t]), `${mode} ${l.id}: the same ticks`);
      // The first tick of a kind is in the bucket of the kind's first event (a tick spans its bucket's faults of any kind).
      const first = (kind: string, n: number) => {
        const f = ticks.find((x) => faultNames(x.mask, FAULT_MASK_KINDS).includes(kind));
        assert.ok(f && f.bucketFrom <= n && n <= f.bucketTo && f.from <= n && n <= f.to, `${mode} ${l.id}: first ${kind} tick at ${n}: ${JSON.stringify(f)}`);
      };
      first('over_budget', 363);
      if (l.id === 'candidate') first('stage_over_budget', 313);
    }
  }
  // The first event of each fault kind, with its count, is marked as the trace timeline marks it (the session marked none).
  for (const lane of ['baseline', 'candidate']) {
    const posted: HostMessage[] = [];
    const src = new TraceTimelineSource([join(traceDir, lane)], 100, 'event');
    await src.replay((m) => posted.push(m));
    src.dispose();
    const fromTrace = (posted.filter((m): m is HostMessage & { type: 'markers' } => m.type === 'markers').at(-1)?.markers ?? []).map((m) => [m.event, m.label.replace(/ in .*$/, '')]);
    const live = liveMarkers.filter((m) => m.kind === 'fault' && m.label.endsWith(` in ${lane}`)).map((m) => [m.event, m.label.replace(/ in .*$/, '')]);
    assert.ok(fromTrace.length >= 2, JSON.stringify(fromTrace));
    assert.deepEqual(live.sort(), fromTrace.sort(), lane);
  }
  assert.ok(liveMarkers.some((m) => m.event === 363 && /^first over_budget \(\d+×\) in candidate$/.test(m.label)), JSON.stringify(liveMarkers));
});

test('first-fault markers from the adapter are checked on receipt', () => {
  assert.deepEqual(firstFaultMarkers([{ kind: 'over_budget', event: 363, count: 535 }], 'replay', 900), [{ event: 363, kind: 'fault', label: 'first over_budget (535×) in replay' }]);
  for (const bad of [{ kind: 'x', event: 0, count: 1 }, { kind: 'x', event: 901, count: 1 }, { kind: '', event: 3, count: 1 }, { kind: 'x', event: 3, count: 0 }, { kind: 'x', event: 1.5, count: 1 }, null, 'x']) {
    assert.deepEqual(firstFaultMarkers([bad], 'replay', 900), [], JSON.stringify(bad));
  }
  assert.deepEqual(firstFaultMarkers(undefined, 'replay', 900), [], 'an adapter that sends none');
});

test('fault ticks from the adapter are checked on receipt and renumbered to the timeline\'s fault kinds', () => {
  const b = (from: number, to: number, faultMask?: unknown, faultFrom?: unknown, faultTo?: unknown) => ({ from, to, mean: null, min: null, max: null, faultMask, faultFrom, faultTo }) as never;
  // The adapter's kinds in another order, with one the timeline does not know: it goes to 'other'.
  const kinds = ['over_budget', 'brand_new', 'nan_score'];
  const bit = (k: string) => 1 << FAULT_MASK_KINDS.indexOf(k);
  assert.deepEqual(faultTicks([b(1, 10, 0, 0, 0), b(11, 20, 0b101, 12, 19), b(21, 30, 0b010, 25, 25)], kinds), {
    faultMask: [0, bit('over_budget') | bit('nan_score'), bit('other')],
    faultFrom: [0, 12, 25],
    faultTo: [0, 19, 25],
  });
  for (const bad of [b(1, 10), b(1, 10, 1, 0, 0), b(1, 10, 1, 11, 11), b(1, 10, 1, 5, 3), b(1, 10, 0, 3, 3), b(1, 10, 8, 2, 2), b(1, 10, '1', 2, 2), b(1, 10, -1, 2, 2)]) {
    assert.equal(faultTicks([bad], kinds), undefined, JSON.stringify(bad));
  }
  assert.equal(faultTicks([b(1, 10, 0, 0, 0)], undefined), undefined, 'no kinds: an adapter that does not know `faults`');
  assert.equal(faultTicks([b(1, 10, 0, 0, 0)], [1, 2]), undefined);
});

test('while a session runs, its tail carries the faulted events of the pushed points, in either mode (the tail marked no fault)', () => {
  for (const mode of ['event', 'cumulative'] as const) {
    const noop = { dispose() {} };
    let onMetrics: ((e: { s: unknown; body: unknown }) => void) | undefined;
    const rs = { position: { event: 1, state: 'running' as const, eventCount: 100 }, through: new Map(), snapshotsTaken: 0, snapshots: new Map(), lanes: ['replay' as const], config: {}, session: { name: 's', id: 's1' }, markers: [] };
    const sessions = { onPosition: () => noop, onMetrics: (f: typeof onMetrics) => ((onMetrics = f), noop), onEnd: () => noop };
    const src = new SessionTimelineSource(rs as never, sessions as never, 100, mode);
    const posted: HostMessage[] = [];
    (src as unknown as { post: (m: HostMessage) => void }).post = (m) => posted.push(m);
    const point = (event: number, faults?: unknown) => ({ event, values: { hit: null, rr: null, ndcg: null, ild: null, novelty: null, overlap: 1, kendallTau: null, fallback: 0, clicks: 0, impressions: 2, ctr: 0, latencyTotalMs: 10, queueDepth: null, cacheHitRate: null }, ...(faults === undefined ? {} : { faults }) });
    onMetrics?.({ s: rs, body: { lane: 'replay', through: 4, points: [point(1), point(2, ['stage_over_budget']), point(3, ['stage_over_budget', 'over_budget', 'new_kind']), point(4, 'over_budget')], skipped: 0, cumulative: { 'overlap@2': 1 } } });
    onMetrics?.({ s: rs, body: { lane: 'replay', through: 5, points: [point(5)], skipped: 0, cumulative: { 'overlap@2': 1 } } });
    const tails = posted.filter((m): m is HostMessage & { type: 'tail' } => m.type === 'tail');
    const bit = (k: string) => 1 << FAULT_MASK_KINDS.indexOf(k);
    assert.deepEqual(tails[0]?.faults, [{ event: 2, mask: bit('stage_over_budget') }, { event: 3, mask: bit('stage_over_budget') | bit('over_budget') | bit('other') }], `${mode}: the faulted events (a 'faults' that is no list is left out)`);
    assert.equal(tails[1]?.faults, undefined, `${mode}: none when no point faulted`);
    src.dispose();
  }
});
