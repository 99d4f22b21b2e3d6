/**
 * A live session's timeline data sent as what changed: at a stop the lanes differ from those of the
 * last stop only in their last buckets (a step adds an event to the last one), while a million-event
 * session holds 4,000 buckets of some twenty series — ~4 MB of JSON posted, and parsed twice on its
 * way to the webview, at every stop. The host sends each lane from its first changed bucket on
 * (`dataFrom`); the webview splices that onto what it holds. Both ends use these functions.
 */
import type { LaneData, SeriesData } from './webview';

/** A lane whose arrays (x, every series, the fault arrays) hold its buckets from `from` on; the rest is as in LaneData. */
export type LaneDelta = LaneData & { from: number };

const ARRAYS = ['x', 'faultMask', 'faultFrom', 'faultTo'] as const;
const PARTS = ['v', 'lo', 'hi'] as const;

/** Index of the first element where a and b differ (their common length when one is a prefix of the other). */
function firstDiff(a: readonly (number | null)[], b: readonly (number | null)[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (!Object.is(a[i], b[i])) return i;
  return n;
}

/**
 * The series of `lane` when its buckets line up with `prev`'s (the same lane, bucket size, series
 * and fault arrays), so one can be spliced onto the other; undefined when they do not.
 */
function sameShape(prev: LaneData, lane: LaneData): string[] | undefined {
  if (prev.id !== lane.id || prev.bucketSize !== lane.bucketSize) return undefined;
  const keys = Object.keys(lane.series);
  if (keys.length !== Object.keys(prev.series).length || !keys.every((k) => Object.hasOwn(prev.series, k))) return undefined;
  for (const a of ARRAYS) if ((prev[a] === undefined) !== (lane[a] === undefined)) return undefined;
  return keys;
}

/**
 * `next` as a delta on `prev`, or undefined when it is not one (another bucket size, another set of
 * series or of fault arrays: the whole lane is sent). Series values that changed in place (a
 * sample filled in at an earlier bucket) start the delta there.
 */
export function laneDelta(prev: LaneData, next: LaneData): LaneDelta | undefined {
  const keys = sameShape(prev, next);
  if (!keys) return undefined;
  // A lane that lost buckets (never from the adapter's store, which only grows) is sent whole.
  if (next.x.length < prev.x.length) return undefined;
  let from = next.x.length;
  for (const a of ARRAYS) {
    const p = prev[a];
    const q = next[a];
    if (p && q) from = Math.min(from, firstDiff(p, q));
  }
  for (const k of keys) {
    const p = prev.series[k] as SeriesData;
    const q = next.series[k] as SeriesData;
    for (const part of PARTS) from = Math.min(from, firstDiff(p[part], q[part]));
  }
  const tail = <T>(arr: readonly T[]): T[] => arr.slice(from);
  const series: Record<string, SeriesData> = {};
  for (const k of keys) {
    const q = next.series[k] as SeriesData;
    series[k] = { v: tail(q.v), lo: tail(q.lo), hi: tail(q.hi) };
  }
  return {
    ...next,
    from,
    x: tail(next.x),
    faultMask: tail(next.faultMask),
    ...(next.faultFrom ? { faultFrom: tail(next.faultFrom) } : {}),
    ...(next.faultTo ? { faultTo: tail(next.faultTo) } : {}),
    series,
  };
}

/** The lane `d` describes, spliced onto `prev`; undefined when it does not fit (other series, buckets `prev` does not have). */
export function applyLaneDelta(prev: LaneData, d: LaneDelta): LaneData | undefined {
  const keys = sameShape(prev, d);
  if (!keys || !Number.isInteger(d.from) || d.from < 0 || d.from > prev.x.length) return undefined;
  const join = <T>(head: readonly T[], rest: readonly T[]): T[] => head.slice(0, d.from).concat(rest);
  const series: Record<string, SeriesData> = {};
  for (const k of keys) {
    const p = prev.series[k] as SeriesData;
    const q = d.series[k] as SeriesData;
    series[k] = { v: join(p.v, q.v), lo: join(p.lo, q.lo), hi: join(p.hi, q.hi) };
  }
  const { from: _from, ...rest } = d;
  return {
    ...rest,
    x: join(prev.x, d.x),
    faultMask: join(prev.faultMask, d.faultMask),
    // (Both have them or neither: sameShape.)
    ...(d.faultFrom && prev.faultFrom ? { faultFrom: join(prev.faultFrom, d.faultFrom) } : {}),
    ...(d.faultTo && prev.faultTo ? { faultTo: join(prev.faultTo, d.faultTo) } : {}),
    series,
  };
}

/** What the webview holds of a live session's data: the lanes, and the number of the message they came with. */
export interface HeldData {
  seq: number;
  lanes: LaneData[];
}

/**
 * The lanes after a `dataFrom` message based on message `base`: undefined when the webview does not
 * hold that one (a message it dropped, posted while it was hidden or in another mode) — it then asks
 * for the whole data again.
 */
export function applyDataFrom(held: HeldData | undefined, base: number, lanes: readonly LaneDelta[]): LaneData[] | undefined {
  if (!held || held.seq !== base || held.lanes.length !== lanes.length) return undefined;
  const out: LaneData[] = [];
  for (let i = 0; i < lanes.length; i++) {
    const merged = applyLaneDelta(held.lanes[i] as LaneData, lanes[i] as LaneDelta);
    if (!merged) return undefined;
    out.push(merged);
  }
  return out;
}
