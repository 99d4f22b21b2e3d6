import { ItemCatalog } from '../slice/itemCatalog';
import type { ItemRecord } from '../slice/types';
import { runSteps } from '../steps';
import { hasId, idsFor } from './idLookup';

/**
 * Growable per-item columns; typed so checkpoints copy memory instead of walking values. Counts,
 * ranks and event numbers fit Int32 (half the bytes of a checkpoint); times need Float64.
 */
const COLUMNS = ['impressions', 'clicks', 'updatedAt', 'prevRank', 'prevStamp', 'loggedClicks', 'loggedExamination'] as const;
type Column = (typeof COLUMNS)[number];
const INT_COLUMNS: readonly Column[] = ['impressions', 'clicks', 'prevRank', 'prevStamp', 'loggedClicks'];
const column = (c: Column, n: number) => (INT_COLUMNS.includes(c) ? new Int32Array(n) : new Float64Array(n));

/**
 * Replay state that outcomes feed back into: per-item impression and click counters (the
 * popularity the `popularity` ranker and fallback read, and the exposure counts), and the
 * online feature store (online.impressions / online.clicks / online.ctr per item, each with
 * the time it was last updated, so staleness is known). Items are addressed by a dense
 * slot so state is a few flat typed arrays: cheap to update, cheap to checkpoint.
 */
/** The catalogue's id → slot index, built once per item list and shared by every restored state. */
export interface CatalogIndex {
  ids: readonly string[];
  // A prototype-less object beats Map for string keys here (measured ~2× on 20k-item catalogues).
  slots: Readonly<Record<string, number>>;
  /** The record of each slot: an id's first record, as Slice.itemById holds it. */
  records: readonly ItemRecord[];
}
const catalogIndexes = new WeakMap<readonly ItemRecord[], CatalogIndex>();

/** The catalogue index of an item list, built on first use (an opened slice's is adopted: see Replayer.prepareSteps). */
export function catalogIndex(items: readonly ItemRecord[]): CatalogIndex {
  return catalogIndexes.get(items) ?? adoptCatalogIndex(items, runSteps(ItemCatalog.build(items)));
}

/** Makes a catalogue (see ItemCatalog) the index of its item list: one index, not two. */
export function adoptCatalogIndex(items: readonly ItemRecord[], catalog: ItemCatalog): CatalogIndex {
  const known = catalogIndexes.get(items);
  if (known) return known;
  const c = { ids: catalog.records.map((r) => r.id), slots: catalog.slots, records: catalog.records };
  catalogIndexes.set(items, c);
  return c;
}

export class ReplayState {
  readonly ids: string[];
  private readonly catalogSize: number;
  private readonly catalogSlots: Readonly<Record<string, number>>;
  /** Slots of items met in events but missing from the catalogue. */
  private readonly extraSlots: Record<string, number> = Object.create(null) as Record<string, number>;
  impressions: Int32Array;
  clicks: Int32Array;
  /** Epoch ms of the last update of each item's online features; -1 = never. */
  updatedAt: Float64Array;
  /** Replayed rank of each item at the event in prevStamp (for prevRank). */
  prevRank: Int32Array;
  /** Event number at which prevRank was written, per item; 0 = never. */
  prevStamp: Int32Array;
  /**
   * The recording's clicks on each item where it served it, and the examination it had there:
   * the sum of 1/log2(p+1) over the positions p it was served at. The click model's per-item
   * attractiveness (see attractiveness).
   */
  loggedClicks: Int32Array;
  loggedExamination: Float64Array;
  /** Epoch ms of the last event replayed (time-order check). */
  lastEventT = -Infinity;
  eventsDone = 0;
  /** The per-item logged clicks and examination summed over every item: the recording's attractiveness as a whole. */
  loggedClicksAll = 0;
  loggedExaminationAll = 0;

  constructor(items: readonly ItemRecord[]) {
    const cat = catalogIndex(items);
    this.ids = cat.ids.slice();
    this.catalogSlots = cat.slots;
    this.catalogSize = this.ids.length;
    const cap = Math.max(16, this.ids.length * 2);
    this.impressions = new Int32Array(cap);
    this.clicks = new Int32Array(cap);
    // NaN: never updated (-1 was a real time too: an event at 1969-12-31T23:59:59.999Z).
    this.updatedAt = new Float64Array(cap).fill(Number.NaN);
    this.prevRank = new Int32Array(cap);
    this.prevStamp = new Int32Array(cap);
    this.loggedClicks = new Int32Array(cap);
    this.loggedExamination = new Float64Array(cap);
  }

  /** Dense index of an item; items missing from the catalogue get one on first sight. */
  slot(id: string): number {
    const i = this.catalogSlots[id];
    return i !== undefined ? i : (this.extraSlots[id] ?? this.add(id));
  }

  private add(id: string): number {
    const i = this.ids.length;
    this.ids.push(id);
    this.extraSlots[id] = i;
    if (i >= this.impressions.length) {
      // One capacity for every column, read before any is replaced (read per column, it doubled
      // again with each: every column but the first grew to twice the size it needed).
      const cap = this.impressions.length * 2;
      for (const c of COLUMNS) {
        const grown = column(c, cap);
        if (c === 'updatedAt') grown.fill(Number.NaN);
        grown.set(this[c]);
        (this as Record<Column, Int32Array | Float64Array>)[c] = grown;
      }
    }
    return i;
  }

  /** Known slot or -1, without adding one. */
  peek(id: string): number {
    return this.catalogSlots[id] ?? this.extraSlots[id] ?? -1;
  }

  /** Value of an online feature for an item (undefined when the store has none). */
  online(id: string, name: string): number | undefined {
    const i = this.peek(id);
    if (i < 0 || Number.isNaN(this.updatedAt[i])) return undefined;
    const imp = this.impressions[i] as number;
    const clk = this.clicks[i] as number;
    if (name === 'impressions') return imp;
    if (name === 'clicks') return clk;
    if (name === 'ctr') return (clk + 1) / (imp + 20);
    return undefined;
  }

  /** Applies one event's outcome by id: served items gain an impression, clicked items a click. */
  applyOutcome(served: readonly string[], clicks: readonly string[], t: number): void {
    for (const id of served) this.impress(this.slot(id), false, t);
    for (const id of clicks) this.impress(this.slot(id), true, t, false);
  }

  /** One served (and possibly clicked) slot; the engine's path, with slots resolved at retrieve. */
  impress(slot: number, clicked: boolean, t: number, served = true): void {
    if (served) this.impressions[slot] = (this.impressions[slot] as number) + 1;
    if (clicked) this.clicks[slot] = (this.clicks[slot] as number) + 1;
    this.updatedAt[slot] = t;
  }

  /**
   * The click model's attractiveness of an item the user did not click in the recording: what the
   * recording so far shows of it — its clicks per unit of examination (position bias taken out) —
   * smoothed by 20 units towards the recording's as a whole, itself smoothed by 20 units towards
   * 1/20. Fitted to the log, never to the replay's own simulated clicks: those fed back into the
   * attractiveness they were drawn from (an urn — the same ranker read 0.3% or 9% CTR by the
   * seed), and a fixed 1/20 made a replay of logs with a 0.5% CTR click ten times as often.
   */
  attractiveness(slot: number): number {
    const prior = (this.loggedClicksAll + 1) / (this.loggedExaminationAll + 20);
    return ((this.loggedClicks[slot] as number) + 20 * prior) / ((this.loggedExamination[slot] as number) + 20);
  }

  /** Counts one event's recording into the click model: the items it served, in served order, and its clicks. */
  recordLogged(served: readonly string[], clicks: readonly string[]): void {
    const clicked = idsFor(clicks, served.length);
    for (let i = 0; i < served.length; i++) {
      // (Slots the recorded ranking already resolved.)
      const s = this.slot(served[i] as string);
      const exam = 1 / Math.log2(i + 2);
      this.loggedExamination[s] = (this.loggedExamination[s] as number) + exam;
      this.loggedExaminationAll += exam;
      if (hasId(clicked, served[i] as string)) {
        this.loggedClicks[s] = (this.loggedClicks[s] as number) + 1;
        this.loggedClicksAll++;
      }
    }
  }

  /** Replayed rank of an item at the previous event, or null if it was not a candidate there. */
  previousRank(slot: number): number | null {
    return this.eventsDone > 0 && this.prevStamp[slot] === this.eventsDone ? (this.prevRank[slot] as number) : null;
  }

  /** Records the ranks of event n, read back as prevRank by event n+1. */
  recordRanks(n: number, slots: ArrayLike<number>): void {
    for (let i = 0; i < slots.length; i++) {
      const s = slots[i] as number;
      this.prevRank[s] = i + 1;
      this.prevStamp[s] = n;
    }
  }

  /** The state for a checkpoint; `views`: the columns as views of the live arrays (to be copied out at once), not copies. */
  save(views = false): SavedState {
    const n = this.ids.length;
    const col = <T extends Int32Array | Float64Array>(a: T): T => (views ? a.subarray(0, n) : a.slice(0, n)) as T;
    return {
      extraIds: this.ids.slice(this.catalogSize),
      impressions: col(this.impressions),
      clicks: col(this.clicks),
      updatedAt: col(this.updatedAt),
      prevRank: col(this.prevRank),
      prevStamp: col(this.prevStamp),
      lastEventT: this.lastEventT,
      eventsDone: this.eventsDone,
      loggedClicks: col(this.loggedClicks),
      loggedExamination: col(this.loggedExamination),
      loggedClicksAll: this.loggedClicksAll,
      loggedExaminationAll: this.loggedExaminationAll,
    };
  }

  /** Rebuilds state from a checkpoint on top of the same catalogue. */
  static restore(items: readonly ItemRecord[], saved: SavedState): ReplayState {
    const s = new ReplayState(items);
    for (const id of saved.extraIds) s.slot(id);
    for (const c of COLUMNS) s[c].set(saved[c] as ArrayLike<number>);
    s.lastEventT = saved.lastEventT;
    s.eventsDone = saved.eventsDone;
    s.loggedClicksAll = saved.loggedClicksAll;
    s.loggedExaminationAll = saved.loggedExaminationAll;
    return s;
  }
}

export type SavedState = { extraIds: string[]; lastEventT: number; eventsDone: number; loggedClicksAll: number; loggedExaminationAll: number } & Record<Column, Int32Array | Float64Array>;
