/**
 * Lookups in an event's lists of ids (served, clicks) from a loop over another of its lists. A scan
 * per element costs the product of the two lengths: nothing for a slate of 10 and a click or two,
 * but a feed event of 200,000 served items and 100,000 clicks replayed for minutes. So a list is
 * scanned while the product is small (no allocation on the usual event) and indexed past that.
 */

/** The ids as a list to scan or a set, for `asks` membership tests. */
export type Ids = readonly string[] | ReadonlySet<string>;

/** `ids` ready for `asks` calls of hasId (a list of up to 16 is scanned: a few clicks against any slate allocate nothing). */
export function idsFor(ids: readonly string[], asks: number): Ids {
  return ids.length <= 16 || ids.length * asks <= 1024 ? ids : new Set(ids);
}

/** Whether `id` is among the ids. */
export function hasId(ids: Ids, id: string): boolean {
  return ids instanceof Set ? ids.has(id) : (ids as readonly string[]).includes(id);
}

/** The ids as a list to scan or a map of each id's first index, for `asks` calls of indexOfId. */
export type Positions = readonly string[] | ReadonlyMap<string, number>;

/** `ids` ready for `asks` calls of indexOfId. */
export function positionsFor(ids: readonly string[], asks: number): Positions {
  if (ids.length * asks <= 1024) return ids;
  const at = new Map<string, number>();
  for (let i = 0; i < ids.length; i++) if (!at.has(ids[i] as string)) at.set(ids[i] as string, i);
  return at;
}

/** The first index of `id` among the ids (as indexOf), or -1. */
export function indexOfId(ids: Positions, id: string): number {
  return ids instanceof Map ? (ids.get(id) ?? -1) : (ids as readonly string[]).indexOf(id);
}
