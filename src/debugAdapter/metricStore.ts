import { FAULT_KINDS } from '../core/engine/faults';
import type { EventMetrics } from '../core/metrics';
import type { EventRecord } from '../core/slice/types';
import { METRIC_SERIES, type MetricBucket, type MetricPoint, type MetricSeriesName } from '../shared/dap';

const CHUNK_BITS = 16;
const CHUNK = 1 << CHUNK_BITS;
const CHUNK_MASK = CHUNK - 1;

/** The queue depth an event recorded, or null. */
function queueDepthOf(sys: EventRecord['system']): number | null {
  const q = sys?.queueDepth;
  return typeof q === 'number' ? q : null;
}

/** An event's own cache hit rate (hits / lookups), when it recorded both figures and looked something up. */
function cacheHitRateOf(sys: EventRecord['system']): number | null {
  const c = sys?.cache;
  if (!c || typeof c.hits !== 'number' || typeof c.misses !== 'number') return null;
  const lookups = c.hits + c.misses;
  return lookups > 0 ? c.hits / lookups : null;
}

/**
 * Per-event metric series of one lane, for the timeline and the metric-drop detector. Values are
 * Float32 in 64k-event chunks (NaN = undefined for that event), so a million events cost ~60 MB
 * (with novelty's weights and the fault masks) and memory grows only with what was replayed. Filled once per event, in
 * order, from the replayer's first completion of each event (the engine is deterministic, so re-executions after
 * a step back would store the same values).
 */
export class MetricStore {
  private readonly chunks = new Map<MetricSeriesName, Float32Array[]>(METRIC_SERIES.map((s) => [s, []]));
  /**
   * Items each event's novelty is a mean over: novelty@k is the mean over served items, not over
   * events, so running and window means of novelty weigh each event by these (as the engine does).
   */
  private readonly noveltyItems: Uint16Array[] = [];
  /**
   * Cache lookups (hits + misses) each event recorded: the engine's cache hit rate is total hits over
   * total lookups, so running and window means of the events' own rates weigh each by these (as
   * CTR's weigh each by its impressions).
   */
  private readonly cacheLookups: Float32Array[] = [];
  /**
   * The fault kinds each event raised: bit i = FAULT_KINDS[i] (2 bytes an event: a million events
   * cost 2 MB), for the timeline's fault ticks.
   */
  private readonly faultMasks: Uint16Array[] = [];
  /** Events 1..through are stored. */
  through = 0;

  /**
   * Stores the values of the next event (events arrive in order; others are ignored); `k` is the
   * pipeline's, `system` what the event recorded (its queue depth and cache figures), `faults` the
   * kinds of fault it raised (faultMaskOf).
   */
  record(m: EventMetrics, k: number, system?: EventRecord['system'], faults = 0): void {
    if (m.index !== this.through + 1) return;
    const c = Math.floor((m.index - 1) / CHUNK);
    const at = (m.index - 1) % CHUNK;
    for (const s of METRIC_SERIES) {
      const list = this.chunks.get(s) as Float32Array[];
      const arr = (list[c] ??= new Float32Array(CHUNK));
      // The event's own CTR, cache hit rate and queue depth, so a bucket's per-event value is a mean
      // of events' values with their range (as the trace timeline has it), not a ratio of means or a running value.
      const v = s === 'ctr' ? (m.impressions > 0 ? m.clicks / m.impressions : null) : s === 'queueDepth' ? queueDepthOf(system) : s === 'cacheHitRate' ? cacheHitRateOf(system) : m[s];
      arr[at] = v === null ? Number.NaN : v;
    }
    // The engine's novelty is a mean over served[0..k).
    (this.noveltyItems[c] ??= new Uint16Array(CHUNK))[at] = Math.min(0xffff, k, m.impressions);
    const cache = system?.cache;
    (this.cacheLookups[c] ??= new Float32Array(CHUNK))[at] = cache && typeof cache.hits === 'number' && typeof cache.misses === 'number' ? cache.hits + cache.misses : 0;
    (this.faultMasks[c] ??= new Uint16Array(CHUNK))[at] = faults;
    this.through = m.index;
  }

  /** The fault kinds event n raised (bit i = FAULT_KINDS[i]; 0 when none, or not replayed yet). */
  faultMask(n: number): number {
    if (n < 1 || n > this.through) return 0;
    return this.faultMasks[(n - 1) >>> CHUNK_BITS]?.[(n - 1) & CHUNK_MASK] ?? 0;
  }

  /**
   * The fault kinds raised by events [from, to] (stored ones), and the first and last event that
   * raised one (0 when none). Reads 2 bytes an event: the timeline asks for the buckets it lacks only.
   */
  faultsIn(from: number, to: number): { mask: number; from: number; to: number } {
    let mask = 0;
    let first = 0;
    let last = 0;
    const hi = Math.min(to, this.through);
    for (let n = Math.max(1, from); n <= hi; ) {
      const chunk = this.faultMasks[(n - 1) >>> CHUNK_BITS] as Uint16Array;
      const end = Math.min(hi, ((n - 1) | CHUNK_MASK) + 1);
      for (let i = (n - 1) & CHUNK_MASK; n <= end; n++, i++) {
        const f = chunk[i] as number;
        if (f === 0) continue;
        mask |= f;
        if (first === 0) first = n;
        last = n;
      }
    }
    return { mask, from: first, to: last };
  }

  /** The value of a series at event n, or null when undefined there or not replayed yet. */
  value(series: MetricSeriesName, n: number): number | null {
    if (n < 1 || n > this.through) return null;
    const v = (this.chunks.get(series) as Float32Array[])[Math.floor((n - 1) / CHUNK)]?.[(n - 1) % CHUNK];
    return v === undefined || Number.isNaN(v) ? null : v;
  }

  /** Every series at event n, with the kinds of fault it raised (when it raised any). */
  point(n: number): MetricPoint {
    const values = {} as MetricPoint['values'];
    for (const s of METRIC_SERIES) values[s] = this.value(s, n);
    const mask = this.faultMask(n);
    return mask === 0 ? { event: n, values } : { event: n, values, faults: faultKindsOf(mask) };
  }

  /**
   * How much event n counts in a mean of the series, as in the engine's metric: its served items for
   * novelty (a mean over items), its impressions for CTR and its cache lookups for the cache hit rate
   * (ratios of totals: a mean of the events' own ratios weighed so reads total clicks over total
   * impressions), else 1.
   */
  weight(series: MetricSeriesName, n: number): number {
    const weights = this.weightChunks(series);
    return weights === undefined ? 1 : chunkWeight(weights, n);
  }

  /**
   * Mean of the defined values over events [from, to] (weighted as the engine's metric is), how many
   * events there were, their total weight, and the weighted sum the mean divides (added in event order).
   */
  mean(series: MetricSeriesName, from: number, to: number): { mean: number | null; count: number; weight: number; sum: number } {
    let sum = 0;
    let weights = 0;
    let count = 0;
    for (let n = Math.max(1, from); n <= Math.min(to, this.through); n++) {
      const v = this.value(series, n);
      if (v !== null) {
        const w = this.weight(series, n);
        sum += w * v;
        weights += w;
        count++;
      }
    }
    return { mean: weights ? sum / weights : null, count, weight: weights, sum };
  }

  /**
   * Buckets of events [from, to], at most maxPoints of them. Per event, a bucket's `mean` is the mean
   * of its events' values; `cumulative` gives running means from event 1 instead (weighted: see
   * weight()): a bucket's `mean` is then the running value at its last event (so the last bucket
   * ends at the engine's cumulative metric, for the series the engine reports as a mean or a
   * ratio), and min/max the range of the running value within the bucket.
   *
   * `known`: the caller holds the first `buckets` buckets of an earlier answer for the same series,
   * mode and `from` with this bucket size; only the buckets from the last of those on are returned,
   * `first` being the index of the first one returned (0: all). A stored value never changes, so a
   * bucket that ended before the earlier answer's last event is the same now; the last may have been
   * partial and is sent again.
   *
   * Cost: the answer is kept per series, mode and `from` (as typed arrays, at most maxPoints
   * buckets); a later call with the same bucket size computes only the buckets from the last one
   * on, so a stop after one more event costs one bucket's events, not the whole replay (at a million
   * events a full pass over the 14 series took ~0.4 s on every stop). The bucket size changes once
   * per maxPoints × bucketSize events, and then the series is computed again in full.
   */
  buckets(series: MetricSeriesName, from: number, to: number, maxPoints: number, cumulative: boolean, known?: { bucketSize: number; buckets: number }, faults = false): { bucketSize: number; first: number; buckets: MetricBucket[] } {
    const lo = Math.max(1, from);
    const hi = Math.min(to, this.through);
    if (hi < lo) return { bucketSize: 1, first: 0, buckets: [] };
    const points = Math.max(1, maxPoints);
    const bucketSize = Math.max(1, Math.ceil((hi - lo + 1) / points));
    const needed = Math.ceil((hi - lo + 1) / bucketSize);
    const key = `${series}\u0000${cumulative ? 1 : 0}\u0000${lo}`;
    let c = this.bucketCache.get(key);
    if (!c || c.bucketSize !== bucketSize || c.hi > hi) {
      c = this.freshBuckets(series, lo, bucketSize, needed, cumulative);
      // An answer of more buckets than a timeline draws (a client asking for every event of a long
      // replay) is computed, not kept: kept, it would hold memory by the event.
      if (needed <= MAX_KEPT_BUCKETS) {
        if (this.bucketCache.size >= MAX_CACHED_SERIES) this.bucketCache.clear();
        this.bucketCache.set(key, c);
      } else this.bucketCache.delete(key);
    }
    this.extendBuckets(c, series, lo, hi, cumulative);
    const count = c.count;
    // The last bucket always comes again: it may have ended early in the held answer, or (an answer
    // to a lower `to`) later than this one.
    const first = known && known.bucketSize === bucketSize && known.buckets > 0 ? Math.max(0, Math.min(count, known.buckets) - 1) : 0;
    const buckets: MetricBucket[] = [];
    for (let b = first; b < count; b++) {
      const start = lo + b * bucketSize;
      const end = Math.min(hi, start + bucketSize - 1);
      const mean = c.mean[b] as number;
      const bucket: MetricBucket = c.defined[b] ? { from: start, to: end, mean: Number.isNaN(mean) ? null : mean, min: c.min[b] as number, max: c.max[b] as number } : { from: start, to: end, mean: null, min: null, max: null };
      if (faults) {
        const f = this.faultsIn(start, end);
        bucket.faultMask = f.mask;
        bucket.faultFrom = f.from;
        bucket.faultTo = f.to;
      }
      buckets.push(bucket);
    }
    return { bucketSize, first, buckets };
  }

  /** The chunks weight() reads for a series weighed by something other than 1 (see weight()), or undefined. */
  private weightChunks(series: MetricSeriesName): ArrayLike<number>[] | undefined {
    if (series === 'novelty') return this.noveltyItems;
    if (series === 'ctr') return this.chunks.get('impressions') as Float32Array[];
    if (series === 'cacheHitRate') return this.cacheLookups;
    return undefined;
  }

  /** Answers kept by buckets(): series, mode and first event. */
  private readonly bucketCache = new Map<string, BucketCache>();

  /** An empty answer for buckets of `bucketSize` from event `lo`, with the running sums of the events before it. */
  private freshBuckets(series: MetricSeriesName, lo: number, bucketSize: number, buckets: number, cumulative: boolean): BucketCache {
    // Room for the buckets of now (grown as events come: see extendBuckets), not for maxPoints.
    const room = Math.max(16, buckets);
    const c: BucketCache = { bucketSize, hi: lo - 1, count: 0, mean: new Float64Array(room), min: new Float64Array(room), max: new Float64Array(room), defined: new Uint8Array(room), runSum: 0, runWeight: 0 };
    if (cumulative) {
      const r = this.sums(series, 1, lo - 1);
      c.runSum = r.sum;
      c.runWeight = r.weight;
    }
    return c;
  }

  /** Weighted sum and weight of the defined values of events [a, b]. */
  private sums(series: MetricSeriesName, a: number, b: number): { sum: number; weight: number } {
    const values = this.chunks.get(series) as Float32Array[];
    const weights = this.weightChunks(series);
    let sum = 0;
    let weight = 0;
    for (let n = a; n <= b; n++) {
      const v = (values[(n - 1) >>> CHUNK_BITS] as Float32Array)[(n - 1) & CHUNK_MASK] as number;
      if (Number.isNaN(v)) continue;
      const w = weights === undefined ? 1 : chunkWeight(weights, n);
      sum += w * v;
      weight += w;
    }
    return { sum, weight };
  }

  /**
   * Brings a kept answer to event `hi`: the last bucket (which may have ended early) and every
   * bucket after it are computed from the running sums kept at the last bucket's start.
   */
  private extendBuckets(c: BucketCache, series: MetricSeriesName, lo: number, hi: number, cumulative: boolean): void {
    if (c.hi >= hi) return;
    const values = this.chunks.get(series) as Float32Array[];
    const weights = this.weightChunks(series);
    const size = c.bucketSize;
    let b = Math.max(0, c.count - 1);
    let runSum = c.runSum;
    let runWeight = c.runWeight;
    for (let start = lo + b * size; start <= hi; start += size, b++) {
      // The running sums at this bucket's start: the next call starts again here.
      c.runSum = runSum;
      c.runWeight = runWeight;
      const end = Math.min(hi, start + size - 1);
      if (b >= c.mean.length) grow(c, b + 1);
      let sum = 0;
      let count = 0;
      let last = Number.NaN;
      let min = Infinity;
      let max = -Infinity;
      for (let n = start; n <= end; n++) {
        let v = (values[(n - 1) >>> CHUNK_BITS] as Float32Array)[(n - 1) & CHUNK_MASK] as number;
        if (cumulative) {
          if (!Number.isNaN(v)) {
            const w = weights === undefined ? 1 : chunkWeight(weights, n);
            runSum += w * v;
            runWeight += w;
          }
          v = runWeight ? runSum / runWeight : Number.NaN;
        }
        if (Number.isNaN(v)) continue;
        sum += v;
        count++;
        last = v;
        if (v < min) min = v;
        if (v > max) max = v;
      }
      // Once defined, a running value stays defined: `last` is the running value at `end`.
      c.mean[b] = cumulative ? last : count ? sum / count : Number.NaN;
      c.min[b] = min;
      c.max[b] = max;
      c.defined[b] = count ? 1 : 0;
    }
    c.count = b;
    c.hi = hi;
  }
}

/** buckets()'s kept answer for one series, mode and first event. */
interface BucketCache {
  bucketSize: number;
  /** Last event the buckets include. */
  hi: number;
  /** Buckets computed (the last may end before a later call's `hi`). */
  count: number;
  mean: Float64Array;
  min: Float64Array;
  max: Float64Array;
  /** Whether the bucket had a defined value. */
  defined: Uint8Array;
  /** Running weighted sum and weight at the start of the last bucket (cumulative mode; for the events before `from` too). */
  runSum: number;
  runWeight: number;
}

// A mask per event is a Uint16: room for 16 fault kinds.
if (FAULT_KINDS.length > 16) throw new Error('MetricStore keeps fault kinds in 16 bits');

/** The bit of each kind in a fault mask of the store: its index in FAULT_KINDS. */
export function faultMaskOf(kinds: Iterable<string>): number {
  let mask = 0;
  for (const k of kinds) {
    const i = (FAULT_KINDS as readonly string[]).indexOf(k);
    if (i >= 0) mask |= 1 << i;
  }
  return mask;
}

/** The kinds of a fault mask of the store, in FAULT_KINDS order. */
export function faultKindsOf(mask: number): string[] {
  return FAULT_KINDS.filter((_k, i) => (mask & (1 << i)) !== 0);
}

/** weight() of event n read from its chunks: a missing or undefined (NaN) figure weighs 0. */
function chunkWeight(chunks: ArrayLike<number>[], n: number): number {
  const w = chunks[(n - 1) >>> CHUNK_BITS]?.[(n - 1) & CHUNK_MASK];
  return w === undefined || Number.isNaN(w) ? 0 : w;
}

/** Makes room for at least `n` buckets in a kept answer (doubling). */
function grow(c: BucketCache, n: number): void {
  const room = Math.max(n, 2 * c.mean.length);
  const more = <T extends Float64Array | Uint8Array>(a: T, make: (k: number) => T): T => {
    const b = make(room);
    b.set(a);
    return b;
  };
  c.mean = more(c.mean, (k) => new Float64Array(k));
  c.min = more(c.min, (k) => new Float64Array(k));
  c.max = more(c.max, (k) => new Float64Array(k));
  c.defined = more(c.defined, (k) => new Uint8Array(k));
}

/** Answers of more buckets than this are not kept (the timeline's setting allows at most 100,000). */
const MAX_KEPT_BUCKETS = 100_000;

/** Kept answers of buckets() at most (14 series × 2 modes for the timeline's `from` of 1; other `from`s come and go). */
const MAX_CACHED_SERIES = 64;
