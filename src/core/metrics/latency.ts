/**
 * Latency quantiles in bounded memory: a log-linear (HDR-style) histogram that keeps every value
 * to 3 significant decimal digits, so integers below 1000 ms are exact and other values are off
 * by at most half a unit in the third digit (0.5%). A Fenwick tree over the buckets answers a
 * rank query in O(log buckets), which keeps a per-event snapshot cheap with seven histograms.
 */

/** Smallest tracked decade: 10^-3 ms (1 µs); smaller positive values count as 0. */
const MIN_DECADE = -3;
/** Largest tracked decade, [10^8, 10^9) ms; larger values land in its top bucket, 9.99e8 ms (11.6 days). */
const MAX_DECADE = 8;
/** Mantissas 100..999: three significant digits per decade. */
const PER_DECADE = 900;
/** Bucket 0 holds 0 (and anything non-positive or not a number). */
export const BUCKETS = 1 + (MAX_DECADE - MIN_DECADE + 1) * PER_DECADE;
/** Exact powers of ten; scaling by them (never by 10^-n) keeps integer inputs exact. */
const POW10 = Array.from({ length: 16 }, (_, i) => 10 ** i);

/** Nearest-rank position ceil(p/100 · n) for an integer percent, exact (0.95·n is not). */
export function nearestRank(percent: number, n: number): number {
  return Math.max(1, Math.ceil((percent * n) / 100));
}

/** Mantissa of v at decade e: v scaled into [100, 1000), rounded to an integer. */
function mantissa(v: number, e: number): number {
  return Math.round(e <= 2 ? v * POW10[2 - e]! : v / POW10[e - 2]!);
}

/** First bucket of the decade [1, 10) ms. */
const ONES = 1 - MIN_DECADE * PER_DECADE;

/** The bucket of a latency value (3 significant digits, rounded to nearest). */
export function bucketOf(v: number): number {
  // Whole milliseconds below 1000, the usual latency, scale exactly: no logarithm needed.
  if (v >= 1 && v < 1000 && Math.floor(v) === v) {
    if (v >= 100) return ONES + 2 * PER_DECADE + (v - 100);
    if (v >= 10) return ONES + PER_DECADE + (v * 10 - 100);
    return ONES + (v * 100 - 100);
  }
  if (!(v >= 10 ** MIN_DECADE)) return 0;
  let e = Math.min(MAX_DECADE, Math.floor(Math.log10(v)));
  let m = mantissa(v, e);
  // log10 can land one decade off near powers of ten, and rounding can carry to 1000.
  if (m < 100 && e > MIN_DECADE) m = mantissa(v, --e);
  if (m >= 1000) {
    if (e === MAX_DECADE) return BUCKETS - 1;
    m = mantissa(v, ++e);
  }
  return 1 + (e - MIN_DECADE) * PER_DECADE + (m - 100);
}

/** The value a bucket stands for (the closest double to its 3-digit decimal). */
export function bucketValue(b: number): number {
  if (b <= 0) return 0;
  const e = MIN_DECADE + Math.floor((b - 1) / PER_DECADE);
  const m = 100 + ((b - 1) % PER_DECADE);
  return e <= 2 ? m / POW10[2 - e]! : m * POW10[e - 2]!;
}

/** A latency value as the histogram reports it. */
export function quantise(v: number): number {
  return bucketValue(bucketOf(v));
}

/** Largest power of two <= BUCKETS, the first step of a Fenwick rank search. */
const TOP_STEP = 2 ** Math.floor(Math.log2(BUCKETS));

/** Counts of quantised latencies with nearest-rank quantile queries. */
export class LatencyHistogram {
  private readonly counts = new Float64Array(BUCKETS);
  /** Fenwick tree over `counts`, 1-based: tree[i] covers buckets (i − lowbit(i), i]. */
  private readonly tree = new Float64Array(BUCKETS + 1);
  private n = 0;
  /** The last value recorded and its bucket: stage latencies repeat, and bucketOf takes a log. */
  private lastValue = Number.NaN;
  private lastBucket = 0;
  /**
   * Records of `lastBucket` not yet in the tree. A run of equal buckets (a stage with a fixed
   * latency records the same one every event) costs one tree update when the run ends or a
   * quantile is asked, instead of one per record.
   */
  private pending = 0;

  /** Number of recorded values. */
  get count(): number {
    return this.n;
  }

  /** Records one value (ms). */
  record(v: number): void {
    if (v !== this.lastValue) {
      const b = bucketOf(v);
      this.lastValue = v;
      if (b !== this.lastBucket) {
        this.flush();
        this.lastBucket = b;
      }
    }
    this.counts[this.lastBucket]!++;
    this.n++;
    this.pending++;
  }

  /** Nearest-rank quantile: the ceil(p/100·N)-th smallest value, quantised; 0 when empty. */
  quantile(percent: number): number {
    if (this.n === 0) return 0;
    this.flush();
    const rank = Math.min(this.n, nearestRank(percent, this.n));
    // Largest 1-based prefix whose total is < rank; the bucket after it holds the rank-th value.
    let i = 0;
    let below = 0;
    for (let step = TOP_STEP; step > 0; step >>= 1) {
      const next = i + step;
      if (next <= BUCKETS && below + this.tree[next]! < rank) {
        i = next;
        below += this.tree[next]!;
      }
    }
    return bucketValue(i); // 1-based prefix i ends at bucket i − 1, so bucket i is next.
  }

  /** Non-empty buckets as a flat [bucket, count, ...] list. */
  save(): number[] {
    const out: number[] = [];
    for (let b = 0; b < BUCKETS; b++) if (this.counts[b]! > 0) out.push(b, this.counts[b]!);
    return out;
  }

  /** A histogram from a `save()` list. */
  static restore(sparse: readonly number[]): LatencyHistogram {
    const h = new LatencyHistogram();
    for (let i = 0; i + 1 < sparse.length; i += 2) h.add(sparse[i]!, sparse[i + 1]!);
    return h;
  }

  private add(bucket: number, c: number): void {
    this.counts[bucket]! += c;
    this.n += c;
    this.addToTree(bucket, c);
  }

  /** Puts the pending records of lastBucket into the tree. */
  private flush(): void {
    if (this.pending === 0) return;
    this.addToTree(this.lastBucket, this.pending);
    this.pending = 0;
  }

  private addToTree(bucket: number, c: number): void {
    for (let i = bucket + 1; i <= BUCKETS; i += i & -i) this.tree[i]! += c;
  }
}
