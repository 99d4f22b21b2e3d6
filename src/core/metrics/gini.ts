/**
 * Counts below this keep `above` in a typed array indexed by the count (at most 4 MB, grown only
 * as far as the largest count so far); larger counts, reached only by an item shown in a huge
 * number of slates, keep it per count value present, in a Map of at most n entries.
 */
const DENSE_COUNTS = 1 << 20;

/** `above` and the number of items with that count, for a count value >= DENSE_COUNTS. */
interface LargeCount {
  above: number;
  items: number;
}

/**
 * The Gini coefficient of n non-negative integer counts, kept in O(1) per increment without
 * storing the counts themselves (the caller does, in whatever layout suits it).
 *
 * G = Σ_i (2i − n − 1)·x_(i) / (n·Σx) over the counts sorted ascending (1-based i). Raising an
 * item from x to x + 1 moves it to the end of the block of items with count x, then up by one,
 * which changes the numerator by exactly 2j − n − 1 with j = #{items with count ≤ x} (its
 * position at the end of that block). So only j is needed, not the sorted order: `above[c]` =
 * #{items with count > c} = n − j, and the move adds 1 to above[x] and changes no other entry.
 * An increment touches one `above` entry and never another item.
 */
export class CountGini {
  readonly n: number;
  /** above[c] = number of items with count > c, for c < DENSE_COUNTS; 0 past the end. */
  private above = new Int32Array(64);
  /** The same for count values >= DENSE_COUNTS that some item has. */
  private readonly large = new Map<number, LargeCount>();
  /** Σ (2i − n − 1)·x_(i); an integer, so it stays exact in a double. */
  private numerator = 0;
  private sum = 0;

  /**
   * All counts zero, or `initial` (a checkpoint: non-negative safe integers) in O(n + largest count)
   * by a histogram of the counts, not a sort: over a million items a step back sorted them (~0.1 s).
   * A block of m items with count c at sorted positions p+1..p+m adds c·m·(2p + m − n).
   */
  constructor(n: number, initial?: ArrayLike<number>) {
    this.n = n;
    if (!initial) return;
    let top = 0;
    for (let i = 0; i < n; i++) {
      const x = initial[i]!;
      if (!(x >= 0 && Number.isSafeInteger(x))) throw new RangeError(`Exposure count ${x} is not a non-negative integer.`);
      this.sum += x;
      if (x > top) top = x;
    }
    const denseTop = Math.min(top, DENSE_COUNTS - 1);
    const hist = new Int32Array(denseTop + 1);
    const big = new Map<number, number>();
    for (let i = 0; i < n; i++) {
      const x = initial[i]!;
      if (x <= denseTop) hist[x]!++;
      else big.set(x, (big.get(x) ?? 0) + 1);
    }
    this.above = new Int32Array(Math.max(64, denseTop + 1));
    // p: items with a smaller count so far; above[c] = n − #{counts <= c}.
    let p = 0;
    for (let c = 0; c <= denseTop; c++) {
      const m = hist[c]!;
      if (m > 0) {
        this.numerator += c * m * (2 * p + m - n);
        p += m;
      }
      this.above[c] = n - p;
    }
    for (const x of [...big.keys()].sort((a, b) => a - b)) {
      const m = big.get(x)!;
      this.numerator += x * m * (2 * p + m - n);
      p += m;
      this.large.set(x, { above: n - p, items: m });
    }
  }

  /** Total of the counts. */
  get total(): number {
    return this.sum;
  }

  /** One item's count goes from x to x + 1. */
  raise(x: number): void {
    let above: number;
    if (x < DENSE_COUNTS - 1) {
      if (x >= this.above.length) this.grow(x);
      above = this.above[x]!;
      this.above[x] = above + 1;
    } else above = this.raiseLarge(x);
    this.numerator += 2 * (this.n - above) - this.n - 1;
    this.sum += 1;
  }

  /** Gini coefficient of the counts; 0 when they are all 0. */
  gini(): number {
    return this.sum === 0 ? 0 : this.numerator / (this.n * this.sum);
  }

  /** Makes `above` long enough to index x (< DENSE_COUNTS), at least doubling it, never past DENSE_COUNTS. */
  private grow(x: number): void {
    const next = new Int32Array(Math.min(DENSE_COUNTS, Math.max(x + 1, 2 * this.above.length)));
    next.set(this.above);
    this.above = next;
  }

  /** raise(x) where x + 1 >= DENSE_COUNTS: returns above[x] from before, updating x and x + 1. */
  private raiseLarge(x: number): number {
    let above: number;
    if (x < DENSE_COUNTS) {
      if (x >= this.above.length) this.grow(x);
      above = this.above[x]!;
      this.above[x] = above + 1;
    } else {
      const from = this.large.get(x)!;
      above = from.above;
      from.above++;
      if (--from.items === 0) this.large.delete(x);
    }
    // Items above x + 1 are those above x but for the ones at x + 1 (none if it is a new value).
    const to = this.large.get(x + 1);
    if (to) to.items++;
    else this.large.set(x + 1, { above, items: 1 });
    return above;
  }
}

/** Exposure counts of n items with their Gini coefficient (CountGini), O(1) per exposure. */
export class ExposureCounts {
  readonly n: number;
  private readonly counts: Float64Array;
  private readonly state: CountGini;

  /** Starts from all-zero counts, or from `initial` (a checkpoint: non-negative integer counts) in O(n + largest count), see CountGini. */
  constructor(n: number, initial?: ArrayLike<number>) {
    this.n = n;
    this.counts = new Float64Array(n);
    if (initial) this.counts.set(initial);
    this.state = new CountGini(n, initial ? this.counts : undefined);
  }

  /** Exposures of one item. */
  count(item: number): number {
    return this.counts[item]!;
  }

  /** Total exposures over all items. */
  get total(): number {
    return this.state.total;
  }

  /** Adds one exposure to `item`; returns its count from before. */
  increment(item: number): number {
    const x = this.counts[item]!;
    this.state.raise(x);
    this.counts[item] = x + 1;
    return x;
  }

  /** Gini coefficient of the counts; 0 when there are no exposures. */
  gini(): number {
    return this.state.gini();
  }

  /** Non-zero counts as a flat [item, count, item, count, ...] list (checkpoints stay small). */
  sparse(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.n; i++) {
      const x = this.counts[i]!;
      if (x !== 0) out.push(i, x);
    }
    return out;
  }
}

/** Naive O(n log n) Gini of exposure, the reference the incremental one is tested against. */
export function giniNaive(counts: readonly number[]): number {
  const x = [...counts].sort((a, b) => a - b);
  const n = x.length;
  let num = 0;
  let sum = 0;
  x.forEach((v, i) => {
    num += (2 * (i + 1) - n - 1) * v;
    sum += v;
  });
  return sum === 0 ? 0 : num / (n * sum);
}
