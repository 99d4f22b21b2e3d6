import type { ItemRecord } from '../slice/types';

/**
 * Replay state that outcomes feed back into: per-item impression and click counters (the
 * popularity the `popularity` ranker and fallback read, and the exposure counts), and the
 * online feature store (online.impressions / online.clicks / online.ctr per item, each with
 * the time it was last updated, so staleness is known). Items are addressed by a dense
 * index so state is a few flat arrays: cheap to update, cheap to checkpoint.
 */
export class ReplayState {
  readonly ids: string[];
  private readonly catalogSize: number;
  private readonly indexOf: Map<string, number>;
  impressions: number[];
  clicks: number[];
  /** Epoch ms of the last update of each item's online features; -1 = never. */
  updatedAt: number[];
  /** Replayed rank of each item at the previous event (for prevRank). */
  prevRanks = new Map<string, number>();
  /** Epoch ms of the last event replayed (time-order check). */
  lastEventT = -Infinity;
  eventsDone = 0;

  constructor(items: readonly ItemRecord[]) {
    this.ids = items.map((i) => i.id);
    this.catalogSize = this.ids.length;
    this.indexOf = new Map(this.ids.map((id, i) => [id, i]));
    this.impressions = new Array<number>(this.ids.length).fill(0);
    this.clicks = new Array<number>(this.ids.length).fill(0);
    this.updatedAt = new Array<number>(this.ids.length).fill(-1);
  }

  /** Dense index of an item; items missing from the catalogue get one on first sight. */
  slot(id: string): number {
    let i = this.indexOf.get(id);
    if (i === undefined) {
      i = this.ids.length;
      this.ids.push(id);
      this.indexOf.set(id, i);
      this.impressions.push(0);
      this.clicks.push(0);
      this.updatedAt.push(-1);
    }
    return i;
  }

  /** Known slot or -1, without adding one. */
  peek(id: string): number {
    return this.indexOf.get(id) ?? -1;
  }

  /** Value of an online feature for an item (undefined when the store has none). */
  online(id: string, name: string): number | undefined {
    const i = this.peek(id);
    if (i < 0 || this.updatedAt[i] === -1) return undefined;
    const imp = this.impressions[i] ?? 0;
    const clk = this.clicks[i] ?? 0;
    if (name === 'impressions') return imp;
    if (name === 'clicks') return clk;
    if (name === 'ctr') return (clk + 1) / (imp + 20);
    return undefined;
  }

  /** Applies one event's outcome: served items gain an impression, clicked items a click. */
  applyOutcome(served: readonly string[], clicks: readonly string[], t: number): void {
    for (const id of served) {
      const i = this.slot(id);
      this.impressions[i] = (this.impressions[i] ?? 0) + 1;
      this.updatedAt[i] = t;
    }
    for (const id of clicks) {
      const i = this.slot(id);
      this.clicks[i] = (this.clicks[i] ?? 0) + 1;
      this.updatedAt[i] = t;
    }
  }

  /** JSON-serialisable copy for checkpoints. */
  save(): SavedState {
    return {
      extraIds: this.ids.slice(this.catalogSize),
      impressions: this.impressions.slice(),
      clicks: this.clicks.slice(),
      updatedAt: this.updatedAt.slice(),
      prevRanks: [...this.prevRanks],
      lastEventT: this.lastEventT,
      eventsDone: this.eventsDone,
    };
  }

  /** Rebuilds state from a checkpoint on top of the same catalogue. */
  static restore(items: readonly ItemRecord[], saved: SavedState): ReplayState {
    const s = new ReplayState(items);
    for (const id of saved.extraIds) s.slot(id);
    s.impressions = saved.impressions.slice();
    s.clicks = saved.clicks.slice();
    s.updatedAt = saved.updatedAt.slice();
    s.prevRanks = new Map(saved.prevRanks);
    s.lastEventT = saved.lastEventT;
    s.eventsDone = saved.eventsDone;
    return s;
  }
}

export interface SavedState {
  /** Items seen in events but missing from the catalogue, in slot order. */
  extraIds: string[];
  impressions: number[];
  clicks: number[];
  updatedAt: number[];
  prevRanks: [string, number][];
  lastEventT: number;
  eventsDone: number;
}
