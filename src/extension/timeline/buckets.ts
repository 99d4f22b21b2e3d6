import type { LaneData, SeriesData, TimelineMode } from '../../shared/webview';

/**
 * Streaming downsampler of the extension host: events arrive in order, one call each, and are
 * folded into at most `capacity` buckets of equal event count. When the next event would need
 * one bucket too many, neighbouring buckets are merged pairwise and the bucket size doubles — so
 * a trace of any length is summarised in fixed memory while it is read, never held whole.
 *
 * Per bucket and series it keeps two aggregates: the per-event values (sum, count, min, max:
 * drawn as the mean with its range) and the running value (its last value and its range).
 */
export class StreamBuckets {
  private size: number;
  private used = 0;
  /** Last event added to each bucket. */
  private readonly lastEvent: Float64Array;
  private readonly faults: Int32Array;
  /** First and last event with a fault in each bucket (0: none): a tick marks those, not the bucket's untraced events. */
  private readonly faultFirst: Float64Array;
  private readonly faultLast: Float64Array;
  // Per-series field arrays, series-major: index = s * capacity + b.
  private readonly sum: Float64Array;
  private readonly cnt: Float64Array;
  private readonly min: Float64Array;
  private readonly max: Float64Array;
  private readonly last: Float64Array;
  private readonly cmin: Float64Array;
  private readonly cmax: Float64Array;
  /** Highest event added. */
  through = 0;

  constructor(
    readonly ids: readonly string[],
    readonly capacity: number,
    initialSize = 1,
  ) {
    if (capacity < 2) throw new RangeError('a timeline needs at least two buckets');
    this.size = Math.max(1, Math.floor(initialSize));
    const cells = ids.length * capacity;
    this.lastEvent = new Float64Array(capacity);
    this.faults = new Int32Array(capacity);
    this.faultFirst = new Float64Array(capacity);
    this.faultLast = new Float64Array(capacity);
    this.sum = new Float64Array(cells);
    this.cnt = new Float64Array(cells);
    this.min = new Float64Array(cells).fill(Infinity);
    this.max = new Float64Array(cells).fill(-Infinity);
    this.last = new Float64Array(cells).fill(Number.NaN);
    this.cmin = new Float64Array(cells).fill(Infinity);
    this.cmax = new Float64Array(cells).fill(-Infinity);
  }

  /** Events per bucket now. */
  get bucketSize(): number {
    return this.size;
  }

  /** A bucket size that keeps `events` within `capacity` buckets: used to align two lanes. */
  static sizeFor(events: number, capacity: number): number {
    return Math.max(1, Math.ceil(events / capacity));
  }

  /**
   * Adds event `event` (> every event added before). `perEvent[s]` and `running[s]` are the values
   * of series s (null or NaN = undefined at this event: a gap, not a zero); `faultMask` flags
   * fault kinds seen at the event.
   */
  add(event: number, perEvent: ArrayLike<number | null>, running: ArrayLike<number | null>, faultMask = 0): void {
    if (event <= this.through) throw new RangeError(`events must arrive in order: ${event} after ${this.through}`);
    let b = Math.floor((event - 1) / this.size);
    while (b >= this.capacity) {
      this.compact();
      b = Math.floor((event - 1) / this.size);
    }
    if (b >= this.used) this.used = b + 1;
    this.through = event;
    this.lastEvent[b] = event;
    this.faults[b]! |= faultMask;
    if (faultMask !== 0) {
      if (this.faultFirst[b] === 0) this.faultFirst[b] = event;
      this.faultLast[b] = event;
    }
    const cap = this.capacity;
    for (let s = 0; s < this.ids.length; s++) {
      const i = s * cap + b;
      const v = perEvent[s];
      if (v !== null && v !== undefined && !Number.isNaN(v)) {
        this.sum[i]! += v;
        this.cnt[i]!++;
        if (v < this.min[i]!) this.min[i] = v;
        if (v > this.max[i]!) this.max[i] = v;
      }
      const c = running[s];
      if (c !== null && c !== undefined && !Number.isNaN(c)) {
        this.last[i] = c;
        if (c < this.cmin[i]!) this.cmin[i] = c;
        if (c > this.cmax[i]!) this.cmax[i] = c;
      }
    }
  }

  /** Merges buckets pairwise: bucket size doubles, half the buckets are in use. */
  private compact(): void {
    const cap = this.capacity;
    const half = Math.ceil(this.used / 2);
    for (let d = 0; d < half; d++) {
      const a = 2 * d;
      const b = a + 1;
      const hasB = b < this.used;
      this.lastEvent[d] = hasB && this.lastEvent[b]! > 0 ? this.lastEvent[b]! : this.lastEvent[a]!;
      this.faults[d] = this.faults[a]! | (hasB ? this.faults[b]! : 0);
      this.faultFirst[d] = this.faultFirst[a]! > 0 ? this.faultFirst[a]! : hasB ? this.faultFirst[b]! : 0;
      this.faultLast[d] = hasB && this.faultLast[b]! > 0 ? this.faultLast[b]! : this.faultLast[a]!;
      for (let s = 0; s < this.ids.length; s++) {
        const o = s * cap;
        const ia = o + a;
        const ib = o + b;
        const id = o + d;
        const sum = this.sum[ia]! + (hasB ? this.sum[ib]! : 0);
        const cnt = this.cnt[ia]! + (hasB ? this.cnt[ib]! : 0);
        const min = Math.min(this.min[ia]!, hasB ? this.min[ib]! : Infinity);
        const max = Math.max(this.max[ia]!, hasB ? this.max[ib]! : -Infinity);
        const last = hasB && !Number.isNaN(this.last[ib]!) ? this.last[ib]! : this.last[ia]!;
        const cmin = Math.min(this.cmin[ia]!, hasB ? this.cmin[ib]! : Infinity);
        const cmax = Math.max(this.cmax[ia]!, hasB ? this.cmax[ib]! : -Infinity);
        this.sum[id] = sum;
        this.cnt[id] = cnt;
        this.min[id] = min;
        this.max[id] = max;
        this.last[id] = last;
        this.cmin[id] = cmin;
        this.cmax[id] = cmax;
      }
    }
    for (let d = half; d < this.used; d++) this.clear(d);
    this.used = half;
    this.size *= 2;
  }

  private clear(b: number): void {
    this.lastEvent[b] = 0;
    this.faults[b] = 0;
    this.faultFirst[b] = 0;
    this.faultLast[b] = 0;
    for (let s = 0; s < this.ids.length; s++) {
      const i = s * this.capacity + b;
      this.sum[i] = 0;
      this.cnt[i] = 0;
      this.min[i] = Infinity;
      this.max[i] = -Infinity;
      this.last[i] = Number.NaN;
      this.cmin[i] = Infinity;
      this.cmax[i] = -Infinity;
    }
  }

  /** The buckets in use as timeline lane data for one mode (empty buckets are left out). */
  toLane(mode: TimelineMode, meta: { id: string; label: string; dashed: boolean }, skip: ReadonlySet<string> = new Set()): LaneData {
    const cap = this.capacity;
    const keep: number[] = [];
    for (let b = 0; b < this.used; b++) if (this.lastEvent[b]! > 0) keep.push(b);
    const series: Record<string, SeriesData> = {};
    this.ids.forEach((id, s) => {
      if (skip.has(id)) return;
      const v: (number | null)[] = [];
      const lo: (number | null)[] = [];
      const hi: (number | null)[] = [];
      let any = false;
      for (const b of keep) {
        const i = s * cap + b;
        if (mode === 'event') {
          const c = this.cnt[i]!;
          v.push(c > 0 ? this.sum[i]! / c : null);
          lo.push(c > 0 ? this.min[i]! : null);
          hi.push(c > 0 ? this.max[i]! : null);
          if (c > 0) any = true;
        } else {
          const l = this.last[i]!;
          const ok = !Number.isNaN(l);
          v.push(ok ? l : null);
          lo.push(ok ? this.cmin[i]! : null);
          hi.push(ok ? this.cmax[i]! : null);
          if (ok) any = true;
        }
      }
      if (any) series[id] = { v, lo, hi };
    });
    return {
      ...meta,
      x: keep.map((b) => this.lastEvent[b]!),
      bucketSize: this.size,
      series,
      faultMask: keep.map((b) => this.faults[b]!),
      faultFrom: keep.map((b) => this.faultFirst[b]!),
      faultTo: keep.map((b) => this.faultLast[b]!),
    };
  }
}
