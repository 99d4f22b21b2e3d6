/** Exposure metrics over the catalogue: coverage, novelty, Gini and group parity. */

import type { ItemIndex } from './catalog.js';
import { SortedCounts } from './gini.js';

/** Catalogue exposure state; only catalogue slots (< index.size) are ever exposed here. */
export class ExposureTracker {
  private readonly counts: SortedCounts;
  private readonly groupExposures: Float64Array;
  private covered = 0;

  /** Starts empty, or from the flat [slot, count, ...] list of a checkpoint. */
  constructor(
    private readonly index: ItemIndex,
    sparse?: readonly number[],
  ) {
    this.groupExposures = new Float64Array(index.groupSizes.length);
    let initial: Float64Array | undefined;
    if (sparse) {
      initial = new Float64Array(index.size);
      for (let i = 0; i + 1 < sparse.length; i += 2) {
        const slot = sparse[i]!;
        const x = sparse[i + 1]!;
        initial[slot] = x;
        this.groupExposures[index.group[slot]!]! += x;
        if (x > 0) this.covered++;
      }
    }
    this.counts = new SortedCounts(index.size, initial);
  }

  /**
   * −log2 of the Laplace-smoothed exposure share (x + 1)/(X + N) with the counts as they are
   * now; slots outside the catalogue have x = 0. 0 for an empty catalogue with no exposures.
   */
  novelty(slot: number): number {
    const denominator = this.counts.total + this.index.size;
    if (denominator === 0) return 0;
    const x = slot < this.index.size ? this.counts.count(slot) : 0;
    return -Math.log2((x + 1) / denominator);
  }

  /** Records one exposure of a catalogue slot. */
  expose(slot: number): void {
    if (this.counts.count(slot) === 0) this.covered++;
    this.counts.increment(slot);
    this.groupExposures[this.index.group[slot]!]!++;
  }

  /** Distinct catalogue items exposed at least once / catalogue size (0 for an empty catalogue). */
  coverage(): number {
    return this.index.size === 0 ? 0 : this.covered / this.index.size;
  }

  /** Gini coefficient of exposure over the whole catalogue, zeros included. */
  gini(): number {
    return this.counts.gini();
  }

  /** min/max of per-group mean exposure per item; 1 with no exposures, in O(groups). */
  parity(): number {
    if (this.counts.total === 0) return 1;
    let min = Infinity;
    let max = 0;
    const sizes = this.index.groupSizes;
    for (let g = 0; g < sizes.length; g++) {
      const mean = this.groupExposures[g]! / sizes[g]!;
      if (mean < min) min = mean;
      if (mean > max) max = mean;
    }
    return min / max;
  }

  /** Non-zero exposure counts as a flat [slot, count, ...] list. */
  save(): number[] {
    return this.counts.sparse();
  }
}
