/** Exposure metrics over the catalogue: coverage, novelty, Gini and group parity. */

import type { ItemIndex } from './catalog.js';
import { CountGini } from './gini.js';

/** Int32 cells per catalogue slot: exposure count, group, category, padding (16 bytes). */
const STRIDE = 4;
const GROUP = 1;
const CATEGORY = 2;

/** Largest exposure count of one item (the counts are int32). */
export const MAX_ITEM_EXPOSURES = 0x7fff_ffff;

/**
 * Catalogue exposure state; only catalogue slots (< index.size) are ever exposed here. What an
 * update reads per served item (exposure count, group, category) sits in one 16-byte cell per
 * slot, so a served item costs one cache line however large the catalogue.
 */
export class ExposureTracker {
  private readonly cells: Int32Array;
  private readonly giniState: CountGini;
  private readonly groupExposures: Float64Array;
  private readonly size: number;
  private covered = 0;
  /**
   * What parity() reads, kept as exposures come (it scanned every group at each read: with a
   * million one-item categories, a condition on exposure_parity cost 5 ms an event): groups not
   * yet exposed, the largest group mean, and the group with the smallest mean (-1: to find again).
   */
  private unexposedGroups: number;
  private maxMean = 0;
  private minGroup = -1;

  /** Starts empty, or from the flat [slot, count, ...] list of a checkpoint. */
  constructor(
    private readonly index: ItemIndex,
    sparse?: ArrayLike<number>,
  ) {
    const size = index.size;
    this.size = size;
    this.cells = new Int32Array(size * STRIDE);
    for (let slot = 0; slot < size; slot++) {
      this.cells[slot * STRIDE + GROUP] = index.group[slot]!;
      this.cells[slot * STRIDE + CATEGORY] = index.category[slot]!;
    }
    this.groupExposures = new Float64Array(index.groupSizes.length);
    this.unexposedGroups = index.groupSizes.length;
    if (!sparse) {
      this.giniState = new CountGini(size);
      return;
    }
    const initial = new Float64Array(size);
    for (let i = 0; i + 1 < sparse.length; i += 2) {
      const slot = sparse[i]!;
      const x = sparse[i + 1]!;
      if (!(x >= 0 && x <= MAX_ITEM_EXPOSURES)) throw new RangeError(`Exposure count ${x} is out of range.`);
      initial[slot] = x;
      this.cells[slot * STRIDE] = x;
      this.groupExposures[index.group[slot]!]! += x;
      if (x > 0) this.covered++;
    }
    this.giniState = new CountGini(size, initial);
    const sizes = index.groupSizes;
    for (let g = 0; g < sizes.length; g++) {
      const x = this.groupExposures[g]!;
      if (x === 0) continue;
      this.unexposedGroups--;
      const mean = x / sizes[g]!;
      if (mean > this.maxMean) this.maxMean = mean;
    }
  }

  /**
   * Novelty summed over `slots[0..m)`: per slot −log2 of the Laplace-smoothed exposure share
   * (x + 1)/(X + N) with the counts as they are now; slots outside the catalogue have x = 0.
   * 0 for an empty catalogue with no exposures. `scratch` holds m counts.
   */
  noveltySum(slots: Int32Array, m: number, scratch: Int32Array): number {
    const size = this.size;
    const denominator = this.giniState.total + size;
    if (denominator === 0) return 0;
    // Loads first, logarithms after: the slate's cache misses then overlap instead of queueing
    // behind each call.
    const cells = this.cells;
    for (let i = 0; i < m; i++) {
      const slot = slots[i]!;
      scratch[i] = slot < size ? cells[slot * STRIDE]! : 0;
    }
    let sum = 0;
    for (let i = 0; i < m; i++) sum += -Math.log2((scratch[i]! + 1) / denominator);
    return sum;
  }

  /** Category ids of `slots[0..m)` into `out` ("?" outside the catalogue). */
  categories(slots: Int32Array, m: number, out: Int32Array): void {
    const { size, cells } = this;
    const unknown = this.index.unknownCategory;
    for (let i = 0; i < m; i++) {
      const slot = slots[i]!;
      out[i] = slot < size ? cells[slot * STRIDE + CATEGORY]! : unknown;
    }
  }

  /** Records one exposure of each catalogue slot in `slots[0..m)`; returns how many were outside the catalogue. */
  exposeAll(slots: Int32Array, m: number): number {
    const { size, cells } = this;
    let outside = 0;
    for (let i = 0; i < m; i++) {
      const slot = slots[i]!;
      if (slot >= size) {
        outside++;
        continue;
      }
      const at = slot * STRIDE;
      const x = cells[at]!;
      if (x === MAX_ITEM_EXPOSURES) throw new RangeError(`Item slot ${slot} has ${x} exposures, the most metrics can count.`);
      if (x === 0) this.covered++;
      this.giniState.raise(x);
      cells[at] = x + 1;
      const g = cells[at + GROUP]!;
      const before = this.groupExposures[g]!;
      this.groupExposures[g] = before + 1;
      if (before === 0) this.unexposedGroups--;
      const mean = (before + 1) / this.index.groupSizes[g]!;
      if (mean > this.maxMean) this.maxMean = mean;
      if (g === this.minGroup) this.minGroup = -1;
    }
    return outside;
  }

  /** Distinct catalogue items exposed at least once / catalogue size (0 for an empty catalogue). */
  coverage(): number {
    return this.size === 0 ? 0 : this.covered / this.size;
  }

  /** Gini coefficient of exposure over the whole catalogue, zeros included. */
  gini(): number {
    return this.giniState.gini();
  }

  /**
   * min/max of per-group mean exposure per item; 1 with no exposures. 0 while a group has none;
   * after that the smallest mean is looked for again (O(groups)) only once its group was exposed.
   */
  parity(): number {
    if (this.giniState.total === 0) return 1;
    if (this.unexposedGroups > 0) return 0 / this.maxMean;
    const sizes = this.index.groupSizes;
    if (this.minGroup < 0) {
      let min = Infinity;
      for (let g = 0; g < sizes.length; g++) {
        const mean = this.groupExposures[g]! / sizes[g]!;
        if (mean < min) {
          min = mean;
          this.minGroup = g;
        }
      }
    }
    return this.groupExposures[this.minGroup]! / sizes[this.minGroup]! / this.maxMean;
  }

  /** save() as an Int32Array (see MetricsAccumulator.save). */
  saveTyped(): Int32Array {
    const out = new Int32Array(2 * this.covered);
    let o = 0;
    for (let slot = 0; slot < this.size; slot++) {
      const x = this.cells[slot * STRIDE]!;
      if (x !== 0) {
        out[o++] = slot;
        out[o++] = x;
      }
    }
    return out;
  }

  /** Non-zero exposure counts as a flat [slot, count, ...] list. */
  save(): number[] {
    return Array.from(this.saveTyped());
  }
}
