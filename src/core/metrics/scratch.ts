/**
 * Reusable per-event scratch structures. The accumulator runs once per replayed event at tens of
 * thousands of events per second, so membership tests use stamped typed arrays that empty in
 * O(1) instead of a fresh Set per event.
 */

/** Stamp value reached before the arrays are wiped; keeps stamps inside Int32 range. */
const EPOCH_LIMIT = 0x7fff_fff0;

/** A set of small integer slots that empties in O(1): a slot is present when its stamp is the current epoch. */
export class StampSet {
  private stamps: Int32Array;
  private epoch = 1;

  constructor(capacity: number) {
    this.stamps = new Int32Array(Math.max(capacity, 16));
  }

  /** Empties the set. */
  clear(): void {
    this.epoch++;
    if (this.epoch >= EPOCH_LIMIT) {
      this.stamps.fill(0);
      this.epoch = 1;
    }
  }

  /** Adds a slot; returns false when it was already present. */
  add(slot: number): boolean {
    if (slot >= this.stamps.length) this.stamps = grown(this.stamps, slot);
    if (this.stamps[slot] === this.epoch) return false;
    this.stamps[slot] = this.epoch;
    return true;
  }

  /** Whether the slot is present. */
  has(slot: number): boolean {
    return slot < this.stamps.length && this.stamps[slot] === this.epoch;
  }
}

/** A map from small integer slots to non-negative integers that empties in O(1). */
export class SlotMap {
  private readonly keys: StampSet;
  private values: Int32Array;

  constructor(capacity: number) {
    this.keys = new StampSet(capacity);
    this.values = new Int32Array(Math.max(capacity, 16));
  }

  /** Empties the map. */
  clear(): void {
    this.keys.clear();
  }

  /** Sets the value unless the slot already has one (keeps first occurrences). */
  setIfAbsent(slot: number, value: number): void {
    if (!this.keys.add(slot)) return;
    if (slot >= this.values.length) this.values = grown(this.values, slot);
    this.values[slot] = value;
  }

  /** The value of a slot, or -1 when absent. */
  get(slot: number): number {
    return this.keys.has(slot) ? this.values[slot]! : -1;
  }
}

/** A copy of `a` large enough to index `slot`; doubling keeps growth amortised O(1). */
export function grown(a: Int32Array, slot: number): Int32Array {
  const b = new Int32Array(Math.max(slot + 1, a.length * 2));
  b.set(a);
  return b;
}
