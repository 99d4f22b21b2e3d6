/**
 * Per-event ranking metrics over items already resolved to slots (see catalog.ts). Each takes
 * the served top-k as `served[0..m)` and reusable scratch, and allocates nothing per call.
 */

import type { ItemIndex } from './catalog.js';
import type { SlotMap, StampSet } from './scratch.js';

/** Binary-gain discounts 1/log2(i+1) and ideal DCG prefix sums for positions 1..k. */
export class DiscountTable {
  /** discount[i] for 0-based position i = 1/log2(i + 2). */
  readonly discount: Float64Array;
  /** ideal[m] = Σ_{i=1..m} 1/log2(i+1): the IDCG of m relevant items. */
  readonly ideal: Float64Array;

  constructor(k: number) {
    this.discount = new Float64Array(k);
    this.ideal = new Float64Array(k + 1);
    for (let i = 0; i < k; i++) {
      this.discount[i] = 1 / Math.log2(i + 2);
      this.ideal[i + 1] = this.ideal[i]! + this.discount[i]!;
    }
  }
}

/** Relevance scores of one event with at least one relevant item. */
export interface RelevanceScores {
  hit: number;
  rr: number;
  ndcg: number;
}

/**
 * HR, reciprocal rank and NDCG of `served[0..m)` against the `relevant` slots (`nRelevant` > 0
 * distinct). An item repeated in the slate earns gain once, so NDCG never exceeds 1.
 */
export function relevanceScores(
  served: Int32Array,
  m: number,
  relevant: StampSet,
  nRelevant: number,
  table: DiscountTable,
  seen: StampSet,
): RelevanceScores {
  seen.clear();
  let rr = 0;
  let dcg = 0;
  for (let i = 0; i < m; i++) {
    const slot = served[i]!;
    if (!seen.add(slot) || !relevant.has(slot)) continue;
    if (rr === 0) rr = 1 / (i + 1);
    dcg += table.discount[i]!;
  }
  const idcg = table.ideal[Math.min(nRelevant, table.discount.length)]!;
  return { hit: rr > 0 ? 1 : 0, rr, ndcg: dcg / idcg };
}

/** Fraction of unordered pairs in `served[0..m)` whose categories differ; null when m < 2. */
export function intraListDiversity(served: Int32Array, m: number, index: ItemIndex): number | null {
  if (m < 2) return null;
  // O(k²) pairs on a slate of k items is cheaper than any hashing at k ≈ 10.
  let differ = 0;
  for (let i = 0; i < m; i++) {
    const ci = index.categoryOf(served[i]!);
    for (let j = i + 1; j < m; j++) if (index.categoryOf(served[j]!) !== ci) differ++;
  }
  return differ / ((m * (m - 1)) / 2);
}

/** |served[0..m) ∩ recorded[0..k)| / k, with `recordedPos` giving each slot's first recorded position. */
export function overlapAtK(served: Int32Array, m: number, k: number, recordedPos: SlotMap, seen: StampSet): number {
  seen.clear();
  let common = 0;
  for (let i = 0; i < m; i++) {
    const slot = served[i]!;
    if (!seen.add(slot)) continue;
    const p = recordedPos.get(slot);
    if (p >= 0 && p < k) common++;
  }
  return common / k;
}

/**
 * Kendall tau-a from `seq[0..n)`: the recorded positions of the common items, in replayed order.
 * A discordant pair is an inversion of seq, counted by merge sort in O(n log n) (candidate lists
 * run to hundreds, where O(n²) pair checks would dominate the event). Sorts `seq` in place;
 * `buf` must hold n values. 1 when n < 2.
 */
export function kendallTauA(seq: Int32Array, n: number, buf: Int32Array): number {
  if (n < 2) return 1;
  // A replay that agrees with the recording (the common case) needs one scan, not a sort.
  let sorted = true;
  for (let i = 1; i < n && sorted; i++) sorted = seq[i - 1]! < seq[i]!;
  if (sorted) return 1;
  let discordant = 0;
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
  const pairs = (n * (n - 1)) / 2;
  return (pairs - 2 * discordant) / pairs;
}
