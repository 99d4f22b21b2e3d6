/**
 * Exposure counts kept sorted so the Gini coefficient updates in O(1) per exposure.
 *
 * G = Σ_i (2i − n − 1)·x_i / (n·Σx) over counts sorted ascending (1-based i). Items with equal
 * counts form contiguous blocks; an increment swaps the item with the last member of its block
 * (the swap exchanges equal values, so the sum is unchanged) and then raises it by one, which
 * keeps the order sorted and changes the numerator by exactly (2j − n − 1), j its new position.
 */
export class SortedCounts {
  readonly n: number;
  private readonly counts: Float64Array;
  /** Items in ascending count order. */
  private readonly order: Int32Array;
  /** Position of each item in `order`. */
  private readonly pos: Int32Array;
  /** Count value → last position of its block (distinct values are at most n). */
  private readonly blockEnd = new Map<number, number>();
  /** Σ (2i − n − 1)·x_i; an integer, so it stays exact in a double. */
  private numerator = 0;
  private sum = 0;

  /** Starts from all-zero counts, or from `initial` (a checkpoint) in O(n log n). */
  constructor(n: number, initial?: ArrayLike<number>) {
    this.n = n;
    this.counts = new Float64Array(n);
    this.order = new Int32Array(n);
    this.pos = new Int32Array(n);
    for (let i = 0; i < n; i++) this.order[i] = i;
    if (initial) {
      this.counts.set(initial);
      // Ties by item index so a restored order is deterministic.
      this.order.sort((a, b) => this.counts[a]! - this.counts[b]! || a - b);
    }
    for (let p = 0; p < n; p++) {
      const item = this.order[p]!;
      const x = this.counts[item]!;
      this.pos[item] = p;
      this.blockEnd.set(x, p);
      this.numerator += (2 * (p + 1) - n - 1) * x;
      this.sum += x;
    }
  }

  /** Exposures of one item. */
  count(item: number): number {
    return this.counts[item]!;
  }

  /** Total exposures over all items. */
  get total(): number {
    return this.sum;
  }

  /** Adds one exposure to `item`. */
  increment(item: number): void {
    const p = this.pos[item]!;
    const x = this.counts[item]!;
    const end = this.blockEnd.get(x)!;
    const other = this.order[end]!;
    this.order[end] = item;
    this.order[p] = other;
    this.pos[other] = p;
    this.pos[item] = end;
    // The block of x loses its last slot; it vanishes if that was its only one.
    if (end > 0 && this.counts[this.order[end - 1]!] === x) this.blockEnd.set(x, end - 1);
    else this.blockEnd.delete(x);
    this.counts[item] = x + 1;
    // The item now opens the block of x + 1, whose end is unchanged if it already existed.
    if (!this.blockEnd.has(x + 1)) this.blockEnd.set(x + 1, end);
    this.numerator += 2 * (end + 1) - this.n - 1;
    this.sum += 1;
  }

  /** Gini coefficient of the counts; 0 when there are no exposures. */
  gini(): number {
    return this.sum === 0 ? 0 : this.numerator / (this.n * this.sum);
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
