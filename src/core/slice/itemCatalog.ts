import { RECORDS_PER_STEP, type Steps } from '../steps';
import type { ItemRecord } from './types';

/**
 * The catalogue by id, built once per opened slice and shared by everything that looks items up:
 * each distinct id has a dense slot (catalogue order, a repeated id keeping its first record), the
 * replay state and the metrics index items by that slot. One index, where three (a Map here, the
 * state's and the metrics') had each taken ~0.5 s over a million items. Reads as a ReadonlyMap.
 */
export class ItemCatalog implements ReadonlyMap<string, ItemRecord> {
  /** The ids as a set (for the expression checker: unknown-item warnings, suggestions). */
  readonly ids: ReadonlySet<string>;

  private constructor(
    /**
     * id → slot. A prototype-less object rather than a Map: V8 compares internalized string keys
     * (as ids parsed from JSON usually are) by pointer, which measured about twice as fast.
     */
    readonly slots: Readonly<Record<string, number>>,
    /** The record of each slot. */
    readonly records: readonly ItemRecord[],
  ) {
    this.ids = new IdSet(this);
  }

  /** Indexes `items` in slices (see steps.ts). */
  static *build(items: readonly ItemRecord[]): Steps<ItemCatalog> {
    const slots = Object.create(null) as Record<string, number>;
    const records: ItemRecord[] = [];
    for (let i = 0; i < items.length; i++) {
      if (i % RECORDS_PER_STEP === RECORDS_PER_STEP - 1) yield;
      const it = items[i] as ItemRecord;
      if (slots[it.id] === undefined) {
        slots[it.id] = records.length;
        records.push(it);
      }
    }
    return new ItemCatalog(slots, records);
  }

  get size(): number {
    return this.records.length;
  }

  /** The slot of an id, or undefined outside the catalogue. */
  slotOf(id: string): number | undefined {
    return this.slots[id];
  }

  get(id: string): ItemRecord | undefined {
    const s = this.slots[id];
    return s === undefined ? undefined : this.records[s];
  }

  has(id: string): boolean {
    return this.slots[id] !== undefined;
  }

  *keys(): IterableIterator<string> {
    for (const r of this.records) yield r.id;
  }

  values(): IterableIterator<ItemRecord> {
    return this.records.values();
  }

  *entries(): IterableIterator<[string, ItemRecord]> {
    for (const r of this.records) yield [r.id, r];
  }

  [Symbol.iterator](): IterableIterator<[string, ItemRecord]> {
    return this.entries();
  }

  forEach(fn: (value: ItemRecord, key: string, map: ReadonlyMap<string, ItemRecord>) => void, thisArg?: unknown): void {
    for (const r of this.records) fn.call(thisArg, r, r.id, this);
  }
}

/** The ids of a catalogue as a ReadonlySet, without copying them. */
class IdSet implements ReadonlySet<string> {
  constructor(private readonly c: ItemCatalog) {}

  get size(): number {
    return this.c.size;
  }

  has(id: string): boolean {
    return this.c.has(id);
  }

  keys(): IterableIterator<string> {
    return this.c.keys();
  }

  values(): IterableIterator<string> {
    return this.c.keys();
  }

  *entries(): IterableIterator<[string, string]> {
    for (const id of this.c.keys()) yield [id, id];
  }

  [Symbol.iterator](): IterableIterator<string> {
    return this.c.keys();
  }

  forEach(fn: (value: string, key: string, set: ReadonlySet<string>) => void, thisArg?: unknown): void {
    for (const id of this.c.keys()) fn.call(thisArg, id, id, this);
  }
}
