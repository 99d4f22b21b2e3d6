import type { EventMetrics } from '../core/metrics';
import type { EventRecord } from '../core/slice/types';
import { METRIC_SERIES, type MetricBucket, type MetricPoint, type MetricSeriesName } from '../shared/dap';

const CHUNK = 1 << 16;

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
 * Float32 in 64k-event chunks (NaN = undefined for that event), so a million events cost ~58 MB
 * (with novelty's weights) and memory grows only with what was replayed. Filled once per event, in
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
  /** Events 1..through are stored. */
  through = 0;

  /**
   * Stores the values of the next event (events arrive in order; others are ignored); `k` is the
   * pipeline's, `system` what the event recorded (its queue depth and cache figures).
   */
  record(m: EventMetrics, k: number, system?: EventRecord['system']): void {
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
    this.through = m.index;
  }

  /** The value of a series at event n, or null when undefined there or not replayed yet. */
  value(series: MetricSeriesName, n: number): number | null {
    if (n < 1 || n > this.through) return null;
    const v = (this.chunks.get(series) as Float32Array[])[Math.floor((n - 1) / CHUNK)]?.[(n - 1) % CHUNK];
    return v === undefined || Number.isNaN(v) ? null : v;
  }

  /** Every series at event n. */
  point(n: number): MetricPoint {
    const values = {} as MetricPoint['values'];
    for (const s of METRIC_SERIES) values[s] = this.value(s, n);
    return { event: n, values };
  }

  /**
   * How much event n counts in a mean of the series, as in the engine's metric: its served items for
   * novelty (a mean over items), its impressions for CTR and its cache lookups for the cache hit rate
   * (ratios of totals: a mean of the events' own ratios weighed so reads total clicks over total
   * impressions), else 1.
   */
  weight(series: MetricSeriesName, n: number): number {
    const c = Math.floor((n - 1) / CHUNK);
    const at = (n - 1) % CHUNK;
    if (series === 'novelty') return this.noveltyItems[c]?.[at] ?? 0;
    if (series === 'ctr') return this.value('impressions', n) ?? 0;
    if (series === 'cacheHitRate') return this.cacheLookups[c]?.[at] ?? 0;
    return 1;
  }

  /** Mean of the defined values over events [from, to] (weighted as the engine's metric is), how many events there were, and their total weight. */
  mean(series: MetricSeriesName, from: number, to: number): { mean: number | null; count: number; weight: number } {
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
    return { mean: weights ? sum / weights : null, count, weight: weights };
  }

  /**
   * Buckets of events [from, to], at most maxPoints of them. Per event, a bucket's `mean` is the mean
   * of its events' values; `cumulative` gives running means from event 1 instead (weighted: see
   * weight()): a bucket's `mean` is then the running value at its last event (so the last bucket
   * ends at the engine's cumulative metric, for the series the engine reports as a mean or a
   * ratio), and min/max the range of the running value within the bucket.
   */
  buckets(series: MetricSeriesName, from: number, to: number, maxPoints: number, cumulative: boolean): { bucketSize: number; buckets: MetricBucket[] } {
    const lo = Math.max(1, from);
    const hi = Math.min(to, this.through);
    if (hi < lo) return { bucketSize: 1, buckets: [] };
    const bucketSize = Math.max(1, Math.ceil((hi - lo + 1) / Math.max(1, maxPoints)));
    // Running means weigh events as the engine's cumulative metric does (see weight()).
    let runSum = 0;
    let runCount = 0;
    if (cumulative) {
      for (let n = 1; n < lo; n++) {
        const v = this.value(series, n);
        if (v !== null) {
          const w = this.weight(series, n);
          runSum += w * v;
          runCount += w;
        }
      }
    }
    const buckets: MetricBucket[] = [];
    for (let start = lo; start <= hi; start += bucketSize) {
      const end = Math.min(hi, start + bucketSize - 1);
      let sum = 0;
      let count = 0;
      let last: number | null = null;
      let min = Infinity;
      let max = -Infinity;
      for (let n = start; n <= end; n++) {
        let v = this.value(series, n);
        if (cumulative) {
          if (v !== null) {
            const w = this.weight(series, n);
            runSum += w * v;
            runCount += w;
          }
          v = runCount ? runSum / runCount : null;
        }
        if (v === null) continue;
        sum += v;
        count++;
        last = v;
        if (v < min) min = v;
        if (v > max) max = v;
      }
      // Once defined, a running value stays defined: `last` is the running value at `end`.
      const mean = cumulative ? last : count ? sum / count : null;
      buckets.push(count ? { from: start, to: end, mean, min, max } : { from: start, to: end, mean: null, min: null, max: null });
    }
    return { bucketSize, buckets };
  }
}
