/**
 * Reusable per-event scratch. The accumulator runs once per replayed event on the replay's hot
 * path, so an event's items live in a small stamped hash table that empties in O(1), instead of a
 * fresh Map or Set per event, or stamp arrays as long as the catalogue (whose random accesses
 * miss the cache on a large catalogue, while this table fits in L1).
 */

/** Stamp value reached before the stamps are wiped; keeps stamps inside Int32 range. */
const EPOCH_LIMIT = 0x7fff_fff0;

// Entry flags. Only this module reads them: an imported constant in a loop is a getter call per
// iteration when modules are compiled one by one (tsx), as the tests and benchmarks run.
/** The item is relevant (a recorded click). */
const RELEVANT = 1;
/** The item was met in served[0..k) by the relevance scan. */
const SEEN_BY_RELEVANCE = 2;
/** The item was met in served[0..k) by the overlap scan. */
const SEEN_BY_OVERLAP = 4;
/** The item's recorded position went into the Kendall sequence. */
const SEEN_BY_KENDALL = 8;

/**
 * The distinct items of one event: an open-addressing table from an item slot (any non-negative
 * int32; the same number is the same item) to an entry, with per-entry data in parallel arrays:
 * the item's first position in the recorded ranking and a few flags. An entry is live while its
 * stamp is the current epoch, so begin() empties the table in O(1).
 */
export class EventItems {
  /** Slot of each entry. */
  private keys = new Int32Array(64);
  private stamps = new Int32Array(64);
  /** First recorded position of each entry's item, or -1. */
  recordedPos = new Int32Array(64);
  /** Flags of each entry (RELEVANT, SEEN_BY_*). */
  private flags = new Int32Array(64);
  private epoch = 1;
  /** 32 − log2(table size), for Fibonacci hashing. */
  private shift = 26;
  private used = 0;
  private room = 32;

  /** Empties the table and makes room for up to `capacity` distinct items (at most half load). */
  begin(capacity: number): void {
    if (2 * capacity > this.keys.length) {
      let size = this.keys.length;
      while (size < 2 * capacity) size *= 2;
      this.keys = new Int32Array(size);
      this.stamps = new Int32Array(size);
      this.recordedPos = new Int32Array(size);
      this.flags = new Int32Array(size);
      this.shift = 32 - Math.log2(size);
      this.epoch = 0;
    }
    this.epoch++;
    if (this.epoch >= EPOCH_LIMIT) {
      this.stamps.fill(0);
      this.epoch = 1;
    }
    this.used = 0;
    this.room = capacity;
  }

  /** The entry of `slot`, added (not recorded, no flags) on first sight in this event. */
  entry(slot: number): number {
    const { keys, stamps, epoch } = this;
    const mask = keys.length - 1;
    let h = Math.imul(slot, 0x9e3779b1) >>> this.shift;
    while (stamps[h] === epoch) {
      if (keys[h] === slot) return h;
      h = (h + 1) & mask;
    }
    // begin() sized the table for `room` entries at half load, so the probe above always ends.
    if (this.used++ >= this.room) throw new RangeError('More distinct items than EventItems.begin() made room for.');
    stamps[h] = epoch;
    keys[h] = slot;
    this.recordedPos[h] = -1;
    this.flags[h] = 0;
    return h;
  }

  /** Marks an entry relevant; false if it already was. */
  markRelevant(e: number): boolean {
    return this.firstTime(e, RELEVANT);
  }

  /** Whether an entry is relevant. */
  isRelevant(e: number): boolean {
    return (this.flags[e]! & RELEVANT) !== 0;
  }

  /** True the first time the relevance scan meets an entry in this event. */
  firstForRelevance(e: number): boolean {
    return this.firstTime(e, SEEN_BY_RELEVANCE);
  }

  /** True the first time the overlap scan meets an entry in this event. */
  firstForOverlap(e: number): boolean {
    return this.firstTime(e, SEEN_BY_OVERLAP);
  }

  /** True the first time the Kendall scan meets an entry in this event. */
  firstForKendall(e: number): boolean {
    return this.firstTime(e, SEEN_BY_KENDALL);
  }

  /** Sets `flag` on an entry; false if it was set already. */
  private firstTime(e: number, flag: number): boolean {
    const f = this.flags[e]!;
    if (f & flag) return false;
    this.flags[e] = f | flag;
    return true;
  }
}
