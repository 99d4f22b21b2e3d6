import type { DigestTables } from './digest';
import type { CandidateRecord, EventRecord, FeatureMap } from './types';

/** Rebuilds events from one digest message on the engine thread; raw lines come back as their byte range. */
export class DigestReader {
  private nums: Float64Array = new Float64Array(0);
  private text = '';
  private pos = 0;
  /** Byte range of the line when next() returned 'raw'. */
  rawStart = 0;
  rawEnd = 0;

  private tables: DigestTables = { strs: [], keys: [] };

  /** Starts reading a piece's digest (the strings it names are in the tables already: see BlockPrefetcher). */
  load(nums: Float64Array, text: string, tables: DigestTables): void {
    this.tables = tables;
    this.nums = nums;
    this.text = text;
    this.pos = 0;
  }

  /** The next event, 'raw' for a line the engine thread must parse (see rawStart/rawEnd), or undefined at the end. */
  next(): EventRecord | 'raw' | undefined {
    const nums = this.nums;
    let o = this.pos;
    if (o >= nums.length) return undefined;
    if (nums[o] === 0) {
      this.rawStart = nums[o + 1] as number;
      this.rawEnd = nums[o + 2] as number;
      this.pos = o + 3;
      return 'raw';
    }
    const strs = this.tables.strs;
    const keys = this.tables.keys;
    const n = nums[o + 5] as number;
    let e: EventRecord;
    try {
      e = JSON.parse(this.text.slice(nums[o + 1], nums[o + 2])) as EventRecord;
    } catch {
      // The reader thread only delimits what it does not read: a rest that does not parse is a line
      // that does not, and parsing it whole gives JSON.parse's own error for it.
      this.rawStart = nums[o + 3] as number;
      this.rawEnd = nums[o + 4] as number;
      o += 6;
      for (let i = 0; i < n; i++) o += nums[o + 1] as number < 0 ? 3 : 3 + (keys[nums[o + 1] as number] as string[]).length;
      const ns = nums[o++] as number;
      this.pos = o + Math.max(0, ns);
      return 'raw';
    }
    o += 6;
    const cands: CandidateRecord[] = [];
    for (let i = 0; i < n; i++) {
      const item = strs[nums[o] as number] as string;
      const ki = nums[o + 1] as number;
      const score = nums[o + 2] as number;
      o += 3;
      if (ki < 0) {
        cands.push(score === score ? { item, score } : { item });
        continue;
      }
      const names = keys[ki] as string[];
      const features: FeatureMap = {};
      for (let j = 0; j < names.length; j++) features[names[j] as string] = nums[o + j] as number;
      o += names.length;
      cands.push(score === score ? { item, features, score } : { item, features });
    }
    e.candidates = cands;
    const ns = nums[o++] as number;
    if (ns >= 0) {
      // Pushed, not preallocated: a packed array, as JSON.parse makes (a holey one would be another hidden class).
      const served: string[] = [];
      for (let i = 0; i < ns; i++) served.push(strs[nums[o + i] as number] as string);
      e.served = served;
      o += ns;
    }
    this.pos = o;
    return e;
  }
}
