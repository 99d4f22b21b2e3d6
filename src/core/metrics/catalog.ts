/** The catalogue as dense integer slots, built once so per-event work is array indexing. */

import { createHash } from 'node:crypto';
import { RECORDS_PER_STEP, runSteps, type Steps } from '../steps.js';
import type { CatalogEntry } from './types.js';

/** Category (and group) name used for items that have none. */
export const UNKNOWN_CATEGORY = '?';

/**
 * Maps item ids to slots. Catalogue items get slots 0..size-1 (first entry wins on a duplicate
 * id). Ids outside the catalogue get temporary slots >= size that live for one event only, so a
 * ranker that serves unknown items never grows memory or crashes the metrics.
 */
export class ItemIndex {
  /** Distinct catalogue items. */
  readonly size: number;
  /** Category id per catalogue slot. */
  readonly category: Int32Array;
  /** Group id per catalogue slot. */
  readonly group: Int32Array;
  /** Catalogue items per group id. */
  readonly groupSizes: Int32Array;
  /** Category id of "?", which is also the category of items outside the catalogue. */
  readonly unknownCategory: number;
  /** Hash of ids, categories and groups, so a checkpoint is never restored against another catalogue. */
  readonly fingerprint: string;
  /**
   * id → slot. A prototype-less object rather than a Map: V8 compares internalized string keys
   * (as ids parsed from JSON usually are) by pointer, which measured about twice as fast on 10k items.
   */
  private readonly ids: Readonly<Record<string, number>>;
  private readonly extra = new Map<string, number>();

  constructor(catalog: readonly CatalogEntry[]) {
    const shared = ItemIndex.sharedOf(catalog);
    this.ids = shared.ids;
    this.size = shared.size;
    this.category = shared.category;
    this.group = shared.group;
    this.groupSizes = shared.groupSizes;
    this.unknownCategory = 0;
    this.fingerprint = shared.fingerprint;
  }

  /**
   * What every index over one catalogue array shares, built once: a restored checkpoint (each
   * step back or goto) made a new index and hashed every id again (~4 ms a seek at 20k items).
   * A catalogue array is not changed once an index has been made over it.
   */
  private static readonly shared = new WeakMap<readonly CatalogEntry[], SharedIndex>();

  private static sharedOf(catalog: readonly CatalogEntry[]): SharedIndex {
    return runSteps(ItemIndex.sharedSteps(catalog));
  }

  /**
   * Builds (once) what every index over this catalogue array shares, in slices (see steps.ts): new
   * ItemIndex(catalog) then finds it built. `slots`, when given, is the id → slot index of exactly
   * these entries (first occurrence, in order), made already: it is taken instead of another.
   */
  static *sharedSteps(catalog: readonly CatalogEntry[], slots?: Readonly<Record<string, number>>): Steps<SharedIndex> {
    const known = ItemIndex.shared.get(catalog);
    if (known && known.length === catalog.length) return known;
    const ids = (slots ?? Object.create(null)) as Record<string, number>;
    const categories = new Map<string, number>([[UNKNOWN_CATEGORY, 0]]);
    const groups = new Map<string, number>();
    const cat: number[] = [];
    const grp: number[] = [];
    // The fingerprint hashes the indexed entries as JSON texts of 4,096 at a time, natively: hashed a
    // character at a time in JavaScript, 20k items took ~20 ms of a replay's start (cold code).
    const hash = createHash('sha256');
    let part: string[] = [];
    for (let i = 0; i < catalog.length; i++) {
      if (i % RECORDS_PER_STEP === RECORDS_PER_STEP - 1) yield;
      const entry = catalog[i] as CatalogEntry;
      // Given slots, an entry is an id's first when its slot is the next one; a repeat has an earlier one.
      if (slots ? ids[entry.id] !== cat.length : ids[entry.id] !== undefined) continue;
      if (!slots) ids[entry.id] = cat.length;
      // No category — left out, null or "" (docs/metrics.md) — is "?"; a group falls back to it.
      const category = entry.category === undefined || entry.category === null || entry.category === '' ? UNKNOWN_CATEGORY : entry.category;
      cat.push(intern(categories, category));
      grp.push(intern(groups, entry.group === undefined || entry.group === null || entry.group === '' ? category : entry.group));
      part.push(entry.id, entry.category ?? '', entry.group ?? '');
      // Cut by entries indexed, not by entries read: a repeated id changes no part.
      if (part.length === 3 * RECORDS_PER_STEP) {
        hash.update(JSON.stringify(part));
        part = [];
      }
    }
    hash.update(JSON.stringify(part));
    const groupSizes = new Int32Array(groups.size);
    for (const g of grp) groupSizes[g]!++;
    const shared: SharedIndex = {
      length: catalog.length,
      ids,
      size: cat.length,
      category: Int32Array.from(cat),
      group: Int32Array.from(grp),
      groupSizes,
      fingerprint: `${cat.length}:${hash.digest('hex').slice(0, 16)}`,
    };
    ItemIndex.shared.set(catalog, shared);
    return shared;
  }

  /** Forgets the temporary slots of the previous event. */
  beginEvent(): void {
    if (this.extra.size > 0) this.extra.clear();
  }

  /** The slot of an id: its catalogue slot, or a temporary one (>= size) for this event. */
  slot(id: string): number {
    const known = this.ids[id];
    if (known !== undefined) return known;
    let temp = this.extra.get(id);
    if (temp === undefined) {
      temp = this.size + this.extra.size;
      this.extra.set(id, temp);
    }
    return temp;
  }
}

/** The read-only part of an ItemIndex, shared by every index over one catalogue array (see ItemIndex.sharedOf). */
export interface SharedIndex {
  /** The catalogue's length when it was built: a longer or shorter array is indexed again. */
  length: number;
  ids: Readonly<Record<string, number>>;
  size: number;
  category: Int32Array;
  group: Int32Array;
  groupSizes: Int32Array;
  fingerprint: string;
}

/** The id of `name` in `table`, adding it when new. */
function intern(table: Map<string, number>, name: string): number {
  let id = table.get(name);
  if (id === undefined) {
    id = table.size;
    table.set(name, id);
  }
  return id;
}
