/**
 * Per-event ranking metrics over items already resolved to entries of the event's item table
 * (scratch.ts) or to categories. Each takes the served top-k as `servedEntries[0..m)` or
 * `cats[0..m)` and reusable scratch, and allocates nothing per call.
 */

import type { EventItems } from './scratch.js';

/**
 * Binary-gain discounts 1/log2(i+1) and ideal DCG prefix sums for positions 1..k, computed as far as
 * slates have needed (ensure): a k far above any slate's length (k = 10^9 in a manifest) costs
 * nothing, where tables of k entries took gigabytes and most of a minute.
 */
export class DiscountTable {
  /** discount[i] for 0-based position i = 1/log2(i + 2), for i below the length ensured so far. */
  discount = new Float64Array(0);
  /** ideal[m] = Σ_{i=1..m} 1/log2(i+1): the IDCG of m relevant items. */
  ideal = new Float64Array(1);

  constructor(readonly k: number) {
    this.ensure(Math.min(k, 64));
  }

  /** Makes positions 1..n available (n ≤ k); each entry is computed once, in order, so values never depend on growth. */
  ensure(n: number): void {
    const have = this.discount.length;
    if (n <= have) return;
    const size = Math.min(this.k, Math.max(n, 2 * have));
    const discount = new Float64Array(size);
    const ideal = new Float64Array(size + 1);
    discount.set(this.discount);
    ideal.set(this.ideal);
    for (let i = have; i < size; i++) {
      discount[i] = 1 / Math.log2(i + 2);
      ideal[i + 1] = ideal[i]! + discount[i]!;
    }
    this.discount = discount;
    this.ideal = ideal;
  }
}

/** Relevance scores of one event with at least one relevant item. */
export interface RelevanceScores {
  hit: number;
  rr: number;
  ndcg: number;
}

/**
 * HR, reciprocal rank and NDCG of the served items `servedEntries[0..m)` against the relevant
 * entries of `items` (`nRelevant` > 0 distinct), written to `out` (reused, so an event allocates
 * nothing here). An item repeated in the slate earns gain once, so NDCG never exceeds 1.
 */
export function relevanceScores(
  servedEntries: Int32Array,
  m: number,
  items: EventItems,
  nRelevant: number,
  table: DiscountTable,
  out: RelevanceScores,
): void {
  const ideal = Math.min(nRelevant, table.k);
  table.ensure(Math.max(m, ideal));
  const discount = table.discount;
  let rr = 0;
  let dcg = 0;
  for (let i = 0; i < m; i++) {
    const e = servedEntries[i]!;
    if (!items.firstForRelevance(e) || !items.isRelevant(e)) continue;
    if (rr === 0) rr = 1 / (i + 1);
    dcg += discount[i]!;
  }
  const idcg = table.ideal[ideal]!;
  out.hit = rr > 0 ? 1 : 0;
  out.rr = rr;
  out.ndcg = dcg / idcg;
}

/** Slates up to this size have their pairs compared one by one (see intraListDiversity). */
const ILD_PAIRWISE_UP_TO = 64;

/** Fraction of unordered pairs of the served items whose categories (`cats[0..m)`) differ; null when m < 2. */
export function intraListDiversity(cats: Int32Array, m: number): number | null {
  if (m < 2) return null;
  const pairs = (m * (m - 1)) / 2;
  if (m > ILD_PAIRWISE_UP_TO) {
    // The pairs of one category, from how many items each has: a slate of 200,000 (a feed event
    // replayed with its own k) took ~2e10 comparisons, minutes for one event. The same integers.
    const counts = new Map<number, number>();
    for (let i = 0; i < m; i++) counts.set(cats[i]!, (counts.get(cats[i]!) ?? 0) + 1);
    let same = 0;
    for (const c of counts.values()) same += (c * (c - 1)) / 2;
    return (pairs - same) / pairs;
  }
  // O(k²) pairs on a slate of k items is cheaper than any hashing at k ≈ 10.
  let differ = 0;
  for (let i = 0; i < m; i++) {
    const ci = cats[i]!;
    for (let j = i + 1; j < m; j++) if (cats[j]! !== ci) differ++;
  }
  return differ / pairs;
}

/** |served[0..m) ∩ recorded[0..k)| / k, from the first recorded position of each served entry. */
export function overlapAtK(servedEntries: Int32Array, m: number, k: number, items: EventItems): number {
  const recordedPos = items.recordedPos;
  let common = 0;
  for (let i = 0; i < m; i++) {
    const e = servedEntries[i]!;
    if (!items.firstForOverlap(e)) continue;
    const p = recordedPos[e]!;
    if (p >= 0 && p < k) common++;
  }
  return common / k;
}

/** Up to this many common items, inversions are counted by insertion sort (O(n + inversions)). */
const INSERTION_LIMIT = 32;

/**
 * Kendall tau from `seq[0..n)`: the recorded keys of the common items in replayed order, where a key
 * is the item's recorded position, or with `ties` the position of the first item the recording did
 * not tell it from (the same logged score). A discordant pair is a strict inversion of seq; a pair
 * of equal keys is one the recording did not order, and counts neither way nor in the denominator:
 * (concordant − discordant) / (pairs the recording ordered), which is tau-a when nothing ties. null
 * when there is no such pair (n < 2, or every pair tied).
 *
 * Short lists (the usual 20-50 candidates, mostly in order) count inversions by insertion sort,
 * which costs one pass plus one step per inversion; longer ones by merge sort in O(n log n)
 * (candidate lists run to hundreds, where O(n²) would dominate the event). Sorts `seq` in place;
 * `buf` must hold n values.
 */
export function kendallTau(seq: Int32Array, n: number, buf: Int32Array, ties: boolean): number | null {
  if (n < 2) return null;
  const pairs = (n * (n - 1)) / 2;
  let discordant = 0;
  let sorted: Int32Array = seq;
  if (n <= INSERTION_LIMIT) {
    for (let i = 1; i < n; i++) {
      const v = seq[i]!;
      let j = i - 1;
      if (seq[j]! <= v) continue;
      do seq[j + 1] = seq[j]!;
      while (--j >= 0 && seq[j]! > v);
      seq[j + 1] = v;
      discordant += i - 1 - j;
    }
  } else {
    // A replay that agrees with the recording (the common case) needs one scan, not a sort.
    let inOrder = true;
    for (let i = 1; i < n && inOrder; i++) inOrder = seq[i - 1]! <= seq[i]!;
    if (!inOrder) {
      let src = seq;
      let dst = buf;
      for (let width = 1; width < n; width *= 2) {
        for (let lo = 0; lo < n; lo += 2 * width) {
          const mid = Math.min(lo + width, n);
          const hi = Math.min(lo + 2 * width, n);
          let a = lo;
          let b = mid;
          let o = lo;
          while (a < mid && b < hi) {
            if (src[b]! < src[a]!) {
              discordant += mid - a; // src[b] precedes every remaining item of the left run
              dst[o++] = src[b++]!;
            } else dst[o++] = src[a++]!;
          }
          while (a < mid) dst[o++] = src[a++]!;
          while (b < hi) dst[o++] = src[b++]!;
        }
        const t = src;
        src = dst;
        dst = t;
      }
      sorted = src;
    }
  }
  // Tied pairs: runs of equal keys in the sorted sequence.
  let tied = 0;
  if (ties) {
    let run = 1;
    for (let i = 1; i <= n; i++) {
      if (i < n && sorted[i] === sorted[i - 1]) run++;
      else {
        tied += (run * (run - 1)) / 2;
        run = 1;
      }
    }
  }
  const ordered = pairs - tied;
  if (ordered === 0) return null;
  return discordant === 0 ? 1 : (ordered - 2 * discordant) / ordered;
}
