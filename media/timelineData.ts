/**
 * Pure data shaping of the timeline webview (no DOM): aligning lanes and the live tail on one x
 * axis, what a chart downsamples for an x window, and the CSV export. Unit-tested from test/extension.
 */
import { downsampleMinMax, type Downsampled, type RangeSeries } from '../src/shared/downsample';
import { SERIES_BY_ID, type LaneData, type SeriesData, type TimelineMode } from '../src/shared/webview';

/** Points pushed while a run goes on, after the lane's last bucket. */
export interface Tail {
  x: number[];
  series: Map<string, (number | null)[]>;
  /** Events of the tail that raised faults, ascending, with their masks (bits of the init message's faultKinds). */
  faults?: { event: number; mask: number }[];
}

/**
 * Points a live tail keeps. It only previews the run between stops (a stop brings the whole run,
 * bucketed); unbounded, a run that never stops would grow it by ~2,000 points a second and make
 * every redraw slower (1M points: 1.6 s per render, 320 MB).
 */
export const MAX_TAIL_POINTS = 20_000;

/** Drops a tail's oldest points beyond `max` (down to three quarters of it, so trimming is rare). */
export function capTail(t: Tail, max = MAX_TAIL_POINTS): void {
  // Faulted events are as many as points at most in per-event mode, but cumulatively a point stands for a metrics event of up to 200 events.
  if (t.faults && t.faults.length > max) t.faults.splice(0, t.faults.length - Math.floor((3 * max) / 4));
  if (t.x.length <= max) return;
  const drop = t.x.length - Math.floor((3 * max) / 4);
  // The faults up to the last point dropped go with the points.
  const cut = t.x[drop - 1] as number;
  t.x.splice(0, drop);
  for (const arr of t.series.values()) arr.splice(0, drop);
  if (t.faults) t.faults = t.faults.filter((f) => f.event > cut);
}

/**
 * The tails that go on beyond new lane data: each keeps its points after its lane's last bucket
 * (a tail without a lane is kept whole). A stop's data can arrive after the run went on (the
 * replay was continued while its series were fetched): the points pushed since are newer than it
 * and are not sent again until the next stop; dropping every tail lost them from the chart.
 */
export function tailsBeyond(tails: ReadonlyMap<string, Tail>, lanes: readonly LaneData[]): Map<string, Tail> {
  const out = new Map<string, Tail>();
  for (const [id, t] of tails) {
    const last = lanes.find((l) => l.id === id)?.x.at(-1) ?? 0;
    let from = 0;
    while (from < t.x.length && (t.x[from] as number) <= last) from++;
    const faults = t.faults?.filter((f) => f.event > last);
    if (from === t.x.length && !faults?.length) continue;
    const series = new Map<string, (number | null)[]>();
    for (const [sid, vals] of t.series) series.set(sid, vals.slice(from));
    out.set(id, { x: t.x.slice(from), series, ...(faults?.length ? { faults } : {}) });
  }
  return out;
}

/** Every x of every lane and tail, ascending, without duplicates. */
export function unionX(lanes: readonly LaneData[], tails: ReadonlyMap<string, Tail>): number[] {
  // The common case (one lane, or lanes bucketed alike, and no tail) needs no merging: a million
  // events must not go through a Set and a sort.
  const first = lanes[0];
  if (first && [...tails.values()].every((t) => t.x.length === 0) && lanes.every((l) => sameX(l.x, first.x))) return first.x;
  const set = new Set<number>();
  for (const l of lanes) for (const x of l.x) set.add(x);
  for (const t of tails.values()) for (const x of t.x) set.add(x);
  return [...set].sort((a, b) => a - b);
}

/** A lane (plus its tail) re-indexed onto `xs`: null where the lane has no bucket at that x. */
function sameX(a: readonly number[], b: readonly number[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function mergeTail(lane: LaneData | undefined, tail: Tail | undefined, xs: readonly number[], id = lane?.id ?? 'lane'): LaneData {
  if (lane && (!tail || tail.x.length === 0) && sameX(lane.x, xs)) return lane;
  const pos = new Map<number, number>();
  xs.forEach((x, i) => pos.set(x, i));
  const series: Record<string, SeriesData> = {};
  const get = (sid: string): SeriesData => (series[sid] ??= { v: new Array(xs.length).fill(null), lo: new Array(xs.length).fill(null), hi: new Array(xs.length).fill(null) });
  if (lane) {
    for (const [sid, s] of Object.entries(lane.series)) {
      const out = get(sid);
      lane.x.forEach((x, i) => {
        const j = pos.get(x);
        if (j === undefined) return;
        out.v[j] = s.v[i] ?? null;
        out.lo[j] = s.lo[i] ?? null;
        out.hi[j] = s.hi[i] ?? null;
      });
    }
  }
  if (tail) {
    for (const [sid, vals] of tail.series) {
      const out = get(sid);
      tail.x.forEach((x, i) => {
        const j = pos.get(x);
        if (j === undefined) return;
        const v = vals[i] ?? null;
        out.v[j] = v;
        out.lo[j] = v;
        out.hi[j] = v;
      });
    }
  }
  const faultMask = new Array<number>(xs.length).fill(0);
  lane?.x.forEach((x, i) => {
    const j = pos.get(x);
    if (j !== undefined) faultMask[j] = lane.faultMask[i] ?? 0;
  });
  return { id, label: lane?.label ?? id, dashed: lane?.dashed ?? false, x: [...xs], bucketSize: lane?.bucketSize ?? 1, series, faultMask };
}

/** First index of ascending `xs` whose value is ≥ v (`strict`: > v). */
export function lowerBound(xs: readonly number[], v: number, strict = false): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const m = (lo + hi) >>> 1;
    if ((xs[m] as number) < v || (strict && (xs[m] as number) === v)) lo = m + 1;
    else hi = m;
  }
  return lo;
}

/**
 * The points a chart draws for the x window [min, max]: inside it min/max-downsampled to
 * `buckets` (two points per pixel column, every bucket's extremes kept), the nearest point on
 * each side as is (so the lines run on to the edges), and the rest of the run coarsely (so the
 * data still spans the whole run: uPlot's reset to the data range shows everything).
 */
export function fitWindow(xs: readonly number[], series: readonly RangeSeries[], min: number, max: number, buckets: number): Downsampled {
  const n = xs.length;
  const a = lowerBound(xs, min);
  const b = lowerBound(xs, max, true);
  if (a === 0 && b === n) return downsampleMinMax(xs, series, buckets);
  const coarse = Math.max(1, Math.ceil(buckets / 8));
  const pieces: [number, number, number][] = [
    [0, Math.max(0, a - 1), coarse],
    [Math.max(0, a - 1), a, 1],
    [a, b, buckets],
    [b, Math.min(n, b + 1), 1],
    [Math.min(n, b + 1), n, coarse],
  ];
  const out: Downsampled = { x: [], y: series.map(() => []) };
  for (const [from, to, nb] of pieces) {
    if (to <= from) continue;
    const part = downsampleMinMax(
      xs.slice(from, to),
      series.map((s) => {
        const lo = Array.prototype.slice.call(s.lo, from, to) as (number | null)[];
        return { lo, hi: s.hi === s.lo ? lo : (Array.prototype.slice.call(s.hi, from, to) as (number | null)[]), ...(s.edge ? { edge: s.edge } : {}) };
      }),
      nb,
    );
    for (const x of part.x) out.x.push(x);
    part.y.forEach((ys, k) => {
      const o = out.y[k] as (number | null)[];
      for (const y of ys) o.push(y);
    });
  }
  return out;
}

/**
 * What a chart downsamples for its lines: each line's drawn value, then (with `bands`) the lower
 * and upper edge of each line's range, in that order (the uPlot series and bands follow it).
 */
export function chartSeries(lines: readonly SeriesData[], bands: boolean): RangeSeries[] {
  const values: RangeSeries[] = lines.map((s) => ({ lo: s.v, hi: s.v }));
  if (!bands) return values;
  return [...values, ...lines.flatMap((s): RangeSeries[] => [{ lo: s.lo, hi: s.hi, edge: 'lower' }, { lo: s.lo, hi: s.hi, edge: 'upper' }])];
}

export interface FaultSpan {
  lane: number;
  /** The faulted events the tick spans. */
  from: number;
  to: number;
  /** The bucket's own events (its first to its last, the lane's x): what the readout at its point names. */
  bucketFrom: number;
  bucketTo: number;
  /** Bit i set: fault kind i of the init message's faultKinds. */
  mask: number;
}

/** The fault kinds of a mask. */
export function faultNames(mask: number, kinds: readonly string[]): string[] {
  return kinds.filter((_k, i) => (mask & (1 << i)) !== 0);
}

/**
 * Buckets with faults, found once per data message (the draw hook runs on every cursor move). A
 * span covers the bucket's faulted events (faultFrom..faultTo) when the host sends them, else the
 * bucket's own events: never the events before it that no bucket holds (a trace that skipped
 * them, or started late), which a tick from the previous bucket's end covered as if traced.
 */
export function findFaults(ls: readonly LaneData[]): FaultSpan[] {
  const out: FaultSpan[] = [];
  ls.forEach((l, li) => {
    const m = l.faultMask;
    const size = Math.max(1, Math.floor(l.bucketSize));
    for (let i = 0; i < m.length; i++) {
      if (!m[i]) continue;
      const to = l.x[i] as number;
      const start = Math.max(i === 0 ? 1 : (l.x[i - 1] as number) + 1, Math.floor((to - 1) / size) * size + 1);
      const first = l.faultFrom?.[i] ?? 0;
      const last = l.faultTo?.[i] ?? 0;
      const ok = first >= start && last >= first && last <= to;
      out.push({ lane: li, from: ok ? first : start, to: ok ? last : to, bucketFrom: start, bucketTo: to, mask: m[i] as number });
    }
  });
  return out;
}

/**
 * Fault ticks of the live tails: a run of consecutive faulted events is one tick (its kinds OR-ed).
 * `lane` is the lane's index among the lanes drawn, a tail without lane data after them (as
 * mergedLanes orders them).
 */
export function tailFaults(tails: ReadonlyMap<string, Tail>, ls: readonly LaneData[]): FaultSpan[] {
  const out: FaultSpan[] = [];
  let extra = ls.length;
  for (const [id, t] of tails) {
    const at = ls.findIndex((l) => l.id === id);
    const lane = at >= 0 ? at : extra++;
    let span: FaultSpan | undefined;
    for (const f of t.faults ?? []) {
      if (span && f.event === span.to + 1) {
        span.to = span.bucketTo = f.event;
        span.mask |= f.mask;
        continue;
      }
      span = { lane, from: f.event, to: f.event, bucketFrom: f.event, bucketTo: f.event, mask: f.mask };
      out.push(span);
    }
  }
  return out;
}

function cell(v: number | null | undefined): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '' : String(v);
}

/**
 * A header cell. Its text names a lane, which quotes a trace's folder name: a carriage return split
 * the row in a spreadsheet, and a cell opening with = + - @ is a formula there (=HYPERLINK(…) sends
 * what the sheet holds away), so such a cell opens with an apostrophe, as spreadsheets write text.
 */
function quote(s: string): string {
  const t = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
  return /[",\r\n]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
}

/**
 * CSV of the visible series within the zoomed range: one row per bucket (its last event), one
 * column per lane and series; per-event mode adds each bucket's min and max.
 */
export function buildCsv(lanes: readonly LaneData[], xs: readonly number[], visible: readonly string[], zoom: [number, number] | null, mode: TimelineMode): string {
  const cols: { lane: LaneData; id: string; part: keyof SeriesData }[] = [];
  for (const lane of lanes) {
    for (const id of visible) {
      if (!lane.series[id]) continue;
      cols.push({ lane, id, part: 'v' });
      if (mode === 'event') cols.push({ lane, id, part: 'lo' }, { lane, id, part: 'hi' });
    }
  }
  const name = (c: (typeof cols)[number]) => {
    const info = SERIES_BY_ID.get(c.id);
    // A latency column says so, its unit, and that running values are p99 (its legend shows only "score").
    const label = info?.group === 'latency' ? `latency ${info.label}${mode === 'cumulative' ? ' p99' : ''} (ms)` : (info?.label ?? c.id);
    const suffix = c.part === 'lo' ? ' (min)' : c.part === 'hi' ? ' (max)' : '';
    return quote(`${lanes.length > 1 ? `${c.lane.label}: ` : ''}${label}${suffix}`);
  };
  const rows = [['event', ...cols.map(name)].join(',')];
  xs.forEach((x, i) => {
    if (zoom && (x < zoom[0] || x > zoom[1])) return;
    rows.push([String(x), ...cols.map((c) => cell(c.lane.series[c.id]?.[c.part][i]))].join(','));
  });
  return rows.join('\n') + '\n';
}
