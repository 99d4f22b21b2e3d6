import type { LaneName, MetricBucket, MetricPoint, MetricSeriesName, MetricsEventBody } from '../../shared/dap';
import { laneDelta, type LaneDelta } from '../../shared/laneDelta';
import { absences, type HostMessage, type LaneData, type Marker, type SeriesData, type TimelineMode, type WebviewMessage } from '../../shared/webview';
import type { ReplaySession, ReplaySessions } from '../debug/sessions';
import { errorText } from '../log';
import type { TimelineSource } from './panel';
import { FAULT_MASK_KINDS, SNAPSHOT_KEYS } from './traceMetrics';

/** Timeline series drawn from the adapter's per-event series (recreplay/metricSeries). */
export const FROM_DAP: Partial<Record<string, MetricSeriesName>> = {
  hit_rate: 'hit',
  mrr: 'rr',
  ndcg: 'ndcg',
  diversity: 'ild',
  novelty: 'novelty',
  overlap: 'overlap',
  kendall_tau: 'kendallTau',
  fallback_rate: 'fallback',
};

/** Series that per event come from the adapter's per-event store, cumulatively from snapshots (the latest queue depth, the running hit rate). */
const PER_EVENT_SYSTEM: Record<string, MetricSeriesName> = { queue_depth: 'queueDepth', cache_hit_rate: 'cacheHitRate' };
/** Series only known from snapshots (sampled at each metrics event) when cumulative. */
const SAMPLED_CUMULATIVE = ['queue_depth', 'cache_hit_rate', 'coverage', 'gini_exposure', 'latency.total', 'latency.retrieve', 'latency.features', 'latency.score', 'latency.rerank', 'latency.serve', 'latency.outcome'];

/** A snapshot value of a timeline series, or null. */
export function snapshotValue(snap: Record<string, number>, series: string): number | null {
  const key = SNAPSHOT_KEYS[series];
  if (key === undefined) return null;
  const v = key.endsWith('@') ? Object.entries(snap).find(([k]) => k.startsWith(key) && !k.includes('.'))?.[1] : snap[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** Per-event values of a metric point as timeline series (the tail drawn while a run goes on). */
export function pointValues(p: MetricPoint): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const [id, name] of Object.entries(FROM_DAP)) out[id] = p.values[name as MetricSeriesName];
  const c = p.values.clicks;
  const i = p.values.impressions;
  out['ctr'] = c !== null && i ? c / i : null;
  out['latency.total'] = p.values.latencyTotalMs;
  for (const [id, name] of Object.entries(PER_EVENT_SYSTEM)) out[id] = p.values[name];
  return out;
}

/**
 * The fault ticks of a lane from buckets the adapter answered with `faults` (checked on receipt: a
 * mask of bits `kinds` names, a first and last faulted event inside its bucket), the mask's bits
 * re-numbered from the adapter's `kinds` to FAULT_MASK_KINDS (the trace timeline's, which the
 * webview is given): undefined when the answer does not hold them so.
 */
export function faultTicks(buckets: readonly MetricBucket[], kinds: unknown): { faultMask: number[]; faultFrom: number[]; faultTo: number[] } | undefined {
  if (!Array.isArray(kinds) || kinds.length > 16 || !kinds.every((k) => typeof k === 'string')) return undefined;
  const other = FAULT_MASK_KINDS.length - 1;
  const bit = kinds.map((k: string) => {
    const i = FAULT_MASK_KINDS.indexOf(k);
    return 1 << (i < 0 ? other : i);
  });
  const out = { faultMask: [] as number[], faultFrom: [] as number[], faultTo: [] as number[] };
  const int = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0;
  for (const b of buckets) {
    const { faultMask: m, faultFrom: from, faultTo: to } = b;
    if (!int(m) || m >= 2 ** kinds.length || !int(from) || !int(to)) return undefined;
    if (m === 0 ? from !== 0 || to !== 0 : !(b.from <= from && from <= to && to <= b.to)) return undefined;
    let mask = 0;
    for (let i = 0; i < kinds.length; i++) if (m & (1 << i)) mask |= bit[i] as number;
    out.faultMask.push(mask);
    out.faultFrom.push(from);
    out.faultTo.push(to);
  }
  return out;
}

/**
 * Markers at the first event of each fault kind, labelled as a trace's timeline labels them, from an
 * answer's `firstFaults` (checked on receipt: a kind, an event in 1..through and a count ≥ 1 each; a
 * malformed entry is left out).
 */
export function firstFaultMarkers(firstFaults: unknown, lane: string, through: number): Marker[] {
  if (!Array.isArray(firstFaults)) return [];
  const out: Marker[] = [];
  for (const f of firstFaults as unknown[]) {
    const { kind, event, count } = (typeof f === 'object' && f !== null ? f : {}) as { kind?: unknown; event?: unknown; count?: unknown };
    if (typeof kind !== 'string' || kind === '' || !Number.isInteger(event) || (event as number) < 1 || (event as number) > through || !Number.isInteger(count) || (count as number) < 1) continue;
    out.push({ event: event as number, kind: 'fault', label: `first ${kind} (${count as number}×) in ${lane}` });
  }
  return out;
}

/** Whether two answers' fault kinds are the same list (held buckets' masks are read with the new answer's kinds). */
function sameKinds(a: unknown, b: unknown): boolean {
  return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((k, i) => k === b[i]);
}

/**
 * The faulted events among pushed points, with their masks in FAULT_MASK_KINDS bits (a kind the
 * timeline does not know is `other`); a `faults` that is not a list of kinds is left out.
 */
export function pointFaults(points: readonly MetricPoint[]): { event: number; mask: number }[] {
  const out: { event: number; mask: number }[] = [];
  const other = FAULT_MASK_KINDS.length - 1;
  for (const p of points) {
    const kinds: unknown = p.faults;
    if (!Array.isArray(kinds) || !Number.isInteger(p.event) || p.event < 1) continue;
    let mask = 0;
    for (const k of kinds) {
      if (typeof k !== 'string') continue;
      const i = FAULT_MASK_KINDS.indexOf(k);
      mask |= 1 << (i < 0 ? other : i);
    }
    if (mask) out.push({ event: p.event, mask });
  }
  return out;
}

/** A series from the adapter's buckets: per event the bucket mean, cumulatively the running value at the bucket's last event (see MetricStore.buckets). */
const stat = (buckets: MetricBucket[]): SeriesData => ({ v: buckets.map((b) => b.mean), lo: buckets.map((b) => b.min), hi: buckets.map((b) => b.max) });

/** Snapshot samples placed on a bucket grid: the last sample of each bucket, with the samples' range. */
export function sampleOnGrid(samples: ReadonlyMap<number, Record<string, number>>, grid: { from: number; to: number }[], series: string): SeriesData | undefined {
  const events = [...samples.keys()].sort((a, b) => a - b);
  const out: SeriesData = { v: [], lo: [], hi: [] };
  let j = 0;
  let any = false;
  for (const g of grid) {
    while (j < events.length && (events[j] as number) < g.from) j++;
    let last: number | null = null;
    let lo = Infinity;
    let hi = -Infinity;
    let k = j;
    for (; k < events.length && (events[k] as number) <= g.to; k++) {
      const v = snapshotValue(samples.get(events[k] as number) ?? {}, series);
      if (v === null) continue;
      last = v;
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    j = k;
    out.v.push(last);
    out.lo.push(last === null ? null : lo);
    out.hi.push(last === null ? null : hi);
    if (last !== null) any = true;
  }
  return any ? out : undefined;
}

/**
 * A live debug session on the timeline: the per-event series come from the adapter's store
 * (recreplay/metricSeries, bucketed by the adapter) at every stop; while a run goes on the points
 * pushed in recreplay/metrics are drawn as a tail; the cursor follows recreplay/position.
 */
export class SessionTimelineSource implements TimelineSource {
  private mode: TimelineMode;
  private refreshedThrough = -1;
  private refreshedMode: TimelineMode | undefined;
  private refreshedSnapshots = -1;
  private refreshing: Promise<void> | undefined;
  /** A refresh was asked for since the in-flight one read the mode and position. */
  private refreshWanted = false;
  private post: ((m: HostMessage) => void) | undefined;
  private readonly subs: { dispose(): void }[] = [];
  /** Per lane: the system figures (cache hit rate, queue depth) some event has recorded, for the cumulative tail. */
  private readonly recorded = new Map<string, Set<string>>();
  /** Buckets of each lane, mode and series from the last refresh (see laneData). */
  private readonly held = new Map<string, { bucketSize: number; buckets: MetricBucket[]; faultKinds?: unknown }>();
  /** Per lane, a marker at the first event of each fault kind it raised (as a trace's timeline has them). */
  private readonly faultMarkers = new Map<string, Marker[]>();
  /** Data messages are numbered; the last one posted is what the next is sent as a delta on (laneDelta.ts). */
  private dataSeq = 0;
  private lastData: { seq: number; mode: TimelineMode; lanes: LaneData[] } | undefined;

  constructor(
    readonly rs: ReplaySession,
    sessions: ReplaySessions,
    private readonly capacity: number,
    mode: TimelineMode,
  ) {
    this.mode = mode;
    this.subs.push(sessions.onPosition((s) => s === rs && this.position()));
    this.subs.push(sessions.onMetrics(({ s, body }) => s === rs && this.metrics(body)));
    this.subs.push(sessions.onEnd((s) => s === rs && this.post?.({ type: 'live', live: false })));
  }

  get title(): string {
    return `Timeline: ${this.rs.session.name}`;
  }

  async replay(post: (m: HostMessage) => void): Promise<void> {
    this.post = post;
    const p = this.rs.position;
    post({ type: 'init', title: this.title, source: 'session', view: `session:${this.rs.session.id}`, eventCount: p?.eventCount ?? 0, live: true, faultKinds: [...FAULT_MASK_KINDS], mode: this.mode, restore: null });
    this.refreshedThrough = -1;
    this.refreshedSnapshots = -1;
    // A webview (re)loaded holds no data: the next is sent whole.
    this.lastData = undefined;
    await this.refresh();
    if (p) post({ type: 'position', event: p.event, state: p.state, eventCount: p.eventCount });
    post({ type: 'markers', markers: this.markers() });
  }

  /** The session's stops, and the first event of each fault kind of each lane. */
  private markers(): Marker[] {
    return [...this.rs.markers, ...[...this.faultMarkers.values()].flat()];
  }

  private position(): void {
    const p = this.rs.position;
    if (!p || !this.post) return;
    this.post({ type: 'position', event: p.event, state: p.state, eventCount: p.eventCount });
    if (p.state === 'stopped') {
      this.post({ type: 'markers', markers: this.markers() });
      void this.refresh();
    }
  }

  private metrics(body: MetricsEventBody): void {
    if (!this.post) return;
    // Stopped: the metrics event brings the stop's snapshot (after a step back, below the furthest
    // event), which the refresh at the stop may have missed by coming first.
    if (this.rs.position?.state !== 'running') {
      void this.refresh();
      return;
    }
    const faults = pointFaults(body.points);
    const withFaults = faults.length ? { faults } : {};
    if (this.mode === 'event') {
      this.post({ type: 'tail', lane: body.lane, mode: 'event', points: body.points.map((p) => ({ event: p.event, values: pointValues(p) })), ...withFaults });
    } else {
      const values: Record<string, number | null> = {};
      for (const id of Object.keys(SNAPSHOT_KEYS)) values[id] = snapshotValue(body.cumulative, id);
      // A snapshot reads 0 for a cache hit rate or queue depth that no event has recorded yet: undefined, as in the lane data.
      let seen = this.recorded.get(body.lane);
      if (!seen) this.recorded.set(body.lane, (seen = new Set()));
      for (const p of body.points) for (const [id, name] of Object.entries(PER_EVENT_SYSTEM)) if (p.values[name] !== null) seen.add(id);
      for (const id of Object.keys(PER_EVENT_SYSTEM)) if (!seen.has(id)) values[id] = null;
      this.post({ type: 'tail', lane: body.lane, mode: 'cumulative', points: [{ event: body.through, values }], ...withFaults });
    }
  }

  /**
   * Fetches every lane's series again when replay went further or the mode changed. A call while a
   * fetch is in flight returns that fetch, which then runs once more if the mode or the position
   * changed meanwhile: what is posted last is always the current mode's data.
   */
  private refresh(): Promise<void> {
    this.refreshWanted = true;
    return (this.refreshing ??= this.fetchUntilCurrent());
  }

  private async fetchUntilCurrent(): Promise<void> {
    // Yield first, so `refreshing` is set before the finally below can clear it.
    await Promise.resolve();
    try {
      while (this.refreshWanted) {
        this.refreshWanted = false;
        const through = Math.max(0, ...this.rs.through.values());
        const mode = this.mode;
        const taken = this.rs.snapshotsTaken;
        if (through === this.refreshedThrough && mode === this.refreshedMode && taken === this.refreshedSnapshots) continue;
        const lanes: LaneData[] = [];
        for (const lane of this.rs.lanes) lanes.push(await this.laneData(lane, mode, this.rs.through.get(lane) ?? 0));
        this.refreshedThrough = through;
        this.refreshedMode = mode;
        this.refreshedSnapshots = taken;
        this.postData(mode, lanes, this.rs.position?.eventCount ?? through);
        // The first faults the refresh learnt of.
        this.post?.({ type: 'markers', markers: this.markers() });
      }
    } catch (e) {
      this.post?.({ type: 'status', text: `Could not fetch the metric series: ${errorText(e)}`, busy: false });
    } finally {
      this.refreshing = undefined;
    }
  }

  /**
   * The lanes as a delta on the last data posted (each from its first changed bucket) when they are
   * one, else whole: at a million events a stop's whole data is ~4 MB of JSON, a step's delta a few
   * hundred bytes.
   */
  private postData(mode: TimelineMode, lanes: LaneData[], eventCount: number): void {
    const last = this.lastData;
    const seq = ++this.dataSeq;
    let deltas: LaneDelta[] | undefined;
    if (last && last.mode === mode && last.lanes.length === lanes.length) {
      deltas = [];
      for (let i = 0; i < lanes.length && deltas; i++) {
        const d = laneDelta(last.lanes[i] as LaneData, lanes[i] as LaneData);
        if (d) deltas.push(d);
        else deltas = undefined;
      }
    }
    this.lastData = { seq, mode, lanes };
    this.post?.(last && deltas ? { type: 'dataFrom', mode, lanes: deltas, eventCount, seq, base: last.seq } : { type: 'data', mode, lanes, eventCount, seq });
  }

  /**
   * A lane's series through event `through` (the lane's furthest event when the refresh began): the
   * series are fetched one request at a time while a continued replay goes on, and a series that
   * ended a bucket short of the others (fetched before the replay went further) was not drawn.
   */
  private async laneData(lane: LaneName, mode: TimelineMode, through: number): Promise<LaneData> {
    const cumulative = mode === 'cumulative';
    const to = through >= 1 ? { to: through } : {};
    // The buckets held from the last refresh go with the request: the adapter sends only those from
    // the last held one on (at a million events, 4,000 buckets of 14 series were ~5 MB per stop).
    // `faults`: the buckets come with the faults of their events (asked with one series: they are the same for all).
    const fetch = async (metric: MetricSeriesName, faults = false): Promise<{ bucketSize: number; buckets: MetricBucket[]; faultKinds?: unknown; firstFaults?: unknown }> => {
      const key = `${lane}\u0000${mode}\u0000${metric}`;
      const had = this.held.get(key);
      const ask = { metric, lane, maxPoints: this.capacity, cumulative, ...to, ...(faults ? { faults } : {}) };
      let b = await this.rs.metricSeries({ ...ask, ...(had ? { known: { bucketSize: had.bucketSize, buckets: had.buckets.length } } : {}) });
      const fits = had !== undefined && had.bucketSize === b.bucketSize && b.first <= had.buckets.length && (!faults || sameKinds(had.faultKinds, b.faultKinds));
      // A tail that does not fit what is held (never from this adapter) is not drawn: everything is asked again.
      if (b.first > 0 && !fits) b = await this.rs.metricSeries(ask);
      const buckets = b.first > 0 && had ? [...had.buckets.slice(0, b.first), ...b.buckets] : b.buckets;
      const got = { bucketSize: b.bucketSize, buckets, ...(faults ? { faultKinds: b.faultKinds } : {}) };
      this.held.set(key, got);
      // (The first faults come whole with every answer: not held.)
      return faults ? { ...got, firstFaults: b.firstFaults } : got;
    };
    // The per-event system figures cumulatively too: their running means say from which bucket on
    // an event had recorded one, where the snapshots read 0 by definition (no lookups, no depth yet).
    const names = [...new Set([...Object.values(FROM_DAP), 'clicks', 'impressions', 'ctr', 'latencyTotalMs', ...Object.values(PER_EVENT_SYSTEM)])] as MetricSeriesName[];
    const bodies = new Map<MetricSeriesName, MetricBucket[]>();
    let grid: MetricBucket[] = [];
    let bucketSize = 1;
    let ticks: ReturnType<typeof faultTicks>;
    let ticked: MetricBucket[] = [];
    for (const name of names) {
      const b = await fetch(name, name === names[0]);
      if (name === names[0]) {
        ticks = faultTicks(b.buckets, b.faultKinds);
        ticked = b.buckets;
        this.faultMarkers.set(lane, firstFaultMarkers(b.firstFaults, lane, through));
      }
      bodies.set(name, b.buckets);
      if (b.buckets.length > grid.length) {
        grid = b.buckets;
        bucketSize = b.bucketSize;
      }
    }
    const series: Record<string, SeriesData> = {};
    for (const [id, name] of Object.entries(FROM_DAP)) {
      const b = bodies.get(name as MetricSeriesName);
      if (b && b.length === grid.length && b.some((x) => x.mean !== null)) series[id] = stat(b);
    }
    const clicks = bodies.get('clicks') ?? [];
    const impressions = bodies.get('impressions') ?? [];
    const perEventCtr = bodies.get('ctr');
    if (!cumulative && perEventCtr && perEventCtr.length === grid.length) {
      // Per event: the mean of the events' own CTRs, with their min–max range, as the trace timeline shows it.
      series['ctr'] = stat(perEventCtr);
    } else if (clicks.length === grid.length && impressions.length === grid.length) {
      // Means over the same events: their ratio is total clicks over total impressions.
      const v = clicks.map((c, i) => (c.mean !== null && impressions[i]?.mean ? c.mean / (impressions[i]?.mean as number) : null));
      series['ctr'] = { v, lo: v, hi: v };
    }
    const samples = this.rs.snapshots.get(lane) ?? new Map<number, Record<string, number>>();
    const sampled = cumulative ? SAMPLED_CUMULATIVE : [];
    if (!cumulative) {
      const lat = bodies.get('latencyTotalMs');
      if (lat && lat.length === grid.length) series['latency.total'] = stat(lat);
      for (const [id, name] of Object.entries(PER_EVENT_SYSTEM)) {
        const b = bodies.get(name);
        if (b && b.length === grid.length && b.some((x) => x.mean !== null)) series[id] = stat(b);
      }
    }
    for (const id of sampled) {
      const s = sampleOnGrid(samples, grid, id);
      const name = Object.hasOwn(PER_EVENT_SYSTEM, id) ? PER_EVENT_SYSTEM[id] : undefined;
      if (s && name !== undefined) {
        // Cache hit rate and queue depth are undefined until an event recorded them (as in a trace's timeline), not 0.
        const recorded = bodies.get(name);
        if (!recorded || recorded.length !== grid.length) continue;
        recorded.forEach((b, i) => {
          if (b.mean !== null) return;
          s.v[i] = null;
          s.lo[i] = null;
          s.hi[i] = null;
        });
        if (s.v.every((v) => v === null)) continue;
      }
      if (s) series[id] = s;
    }
    const seen = new Set<string>();
    for (const [id, name] of Object.entries(PER_EVENT_SYSTEM)) if (bodies.get(name)?.some((b) => b.mean !== null)) seen.add(id);
    this.recorded.set(lane, seen);
    const ranker = lane === 'baseline' ? this.rs.config['baseline'] : this.rs.config['ranker'];
    return {
      id: lane,
      label: `${lane} (${String(ranker ?? 'recorded')})`,
      dashed: lane === 'baseline',
      x: grid.map((b) => b.to),
      bucketSize,
      series,
      // The faults came with one series: on the grid when its buckets are the grid's (they all end at `through`).
      ...(ticks && ticked.length === grid.length ? ticks : { faultMask: grid.map(() => 0) }),
      absent: absences(series, mode, (id) => {
        if (!cumulative && id.startsWith('latency.') && id !== 'latency.total') return 'per event, a debug session keeps each event\'s total latency only: Cumulative shows each stage\'s p99 (or set "trace" in the launch configuration and open the run\'s timeline)';
        if (cumulative && sampled.includes(id) && samples.size === 0) return 'the debug adapter has sent no metrics snapshot of this lane yet';
        return undefined;
      }),
    };
  }

  async handle(m: WebviewMessage, post: (m: HostMessage) => void): Promise<void> {
    if (m.type === 'setMode') {
      this.mode = m.mode;
      await this.refresh();
    } else if (m.type === 'resync') {
      // The webview missed a message a delta built on: everything again, whole.
      this.lastData = undefined;
      this.refreshedThrough = -1;
      await this.refresh();
    } else if (m.type === 'goto') {
      if (this.rs.scope.isDisposed) {
        post({ type: 'status', text: 'The debug session has ended: start it again to go to an event.', busy: false });
        return;
      }
      try {
        await this.rs.goto(m.event);
      } catch (e) {
        post({ type: 'status', text: `Could not go to event ${m.event}: ${errorText(e)}`, busy: false });
      }
    }
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
    this.subs.length = 0;
    this.post = undefined;
  }
}
