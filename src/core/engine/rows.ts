import type { CandidateRecord, EventRecord, FeatureValue, ItemRecord, UserRecord } from '../slice/types';
import type { ReplayState } from './state';

/**
 * One candidate as it moves through the stages of an event.
 *
 * Made by its constructor, never written as an object literal: V8 tracks how many objects of each
 * literal survive a garbage collection ("allocation-site pretenuring"), and when the rows of the
 * first events happened to be alive at an early collection — in about half the runs — it made that
 * literal allocate every later row straight into the old generation, where the rows of all events
 * piled up between full collections (peak RSS ~70 MB higher). Objects made by `new` have no
 * allocation site. (Rankers and tests may still pass plain objects of this shape.)
 */
export class CandidateRow {
  item: string;
  /** Dense index of the item in replay state (catalogue order, then unknown items). */
  slot: number;
  rec: CandidateRecord;
  itemRec: ItemRecord | undefined;
  /** 1-based position in the recorded ranking. */
  recordedRank: number;
  /** Replayed score (NaN until the score stage ran). */
  score: number;
  /** 1-based replayed rank (0 until the rerank stage ran). */
  rank: number;
  /** Replayed rank of the item at the previous event, or null. */
  prevRank: number | null;

  constructor(item: string, slot: number, rec: CandidateRecord, itemRec: ItemRecord | undefined, recordedRank: number, prevRank: number | null) {
    this.item = item;
    this.slot = slot;
    this.rec = rec;
    this.itemRec = itemRec;
    this.recordedRank = recordedRank;
    this.score = Number.NaN;
    this.rank = 0;
    this.prevRank = prevRank;
  }
}

/** What a feature lookup can see at one event. */
export interface FeatureContext {
  event: EventRecord;
  user: UserRecord | undefined;
  state: ReplayState;
}

/** Reads one feature of a candidate at an event. */
export type FeatureReader = (row: CandidateRow, ctx: FeatureContext) => FeatureValue | undefined;

/**
 * The reader of a feature name, resolved once: `user.NAME` (user features, then user fields),
 * `context.NAME` (request context), `online.NAME` (the replay's online store: impressions, clicks,
 * ctr), otherwise the candidate's recorded features, then the item's (a value the candidate
 * records, even null, wins). Rankers build these once per weight; the debugger per lookup.
 */
export function featureReader(name: string): FeatureReader {
  const dot = name.indexOf('.');
  const scope = dot > 0 ? name.slice(0, dot) : '';
  const key = name.slice(dot + 1);
  // A name every object inherits (constructor, toString, __proto__): read own fields only, else
  // `features.constructor` is Object and hides the item's value. Other names take the fast path.
  if (key in Object.prototype || name in Object.prototype) return protoSafeReader(scope, key, name);
  if (scope === 'user') return (_r, c) => userValue(c.user, key);
  if (scope === 'context') return (_r, c) => c.event.context?.[key];
  if (scope === 'online') return (r, c) => c.state.online(r.item, key);
  return (r) => {
    const v = r.rec.features?.[name];
    return v !== undefined ? v : r.itemRec?.features?.[name];
  };
}

/**
 * `user.NAME` for a model: the user's feature, else the record's field of that name (`user.segment`,
 * `user.id`). A feature written as null is missing, and stays so: it fell through to a record field
 * of its name (`??`), so a user whose `age` feature was unknown was scored on another number.
 */
function userValue(user: UserRecord | undefined, key: string): FeatureValue | undefined {
  if (user === undefined) return undefined;
  const f = user.features?.[key];
  return f !== undefined ? f : ((user as unknown as Record<string, FeatureValue | undefined>)[key]);
}

/** An own field of a record, or undefined (never an inherited one). */
function own<T>(o: Record<string, T> | undefined, k: string): T | undefined {
  return o !== undefined && o !== null && Object.hasOwn(o, k) ? o[k] : undefined;
}

/** featureReader for names that objects inherit: the same resolution, reading own fields only. */
function protoSafeReader(scope: string, key: string, name: string): FeatureReader {
  if (scope === 'user') return (_r, c) => {
    const f = own(c.user?.features, key);
    return f !== undefined ? f : (own(c.user as Record<string, unknown> | undefined, key) as FeatureValue | undefined);
  };
  if (scope === 'context') return (_r, c) => own(c.event.context, key);
  if (scope === 'online') return (r, c) => c.state.online(r.item, key);
  return (r) => {
    const v = own(r.rec.features, name);
    return v !== undefined ? v : own(r.itemRec?.features, name);
  };
}

/** A feature of a candidate by name (see featureReader). */
export function featureValue(row: CandidateRow, name: string, ctx: FeatureContext): FeatureValue | undefined {
  return featureReader(name)(row, ctx);
}

/** The online store's per-item features, read as `online.NAME`. */
export const ONLINE_FEATURES = ['impressions', 'clicks', 'ctr'] as const;

/** Every feature of a candidate, resolved, for display (stops, stop reports); not for the hot path. */
export function allFeatures(row: CandidateRow, ctx: FeatureContext): Record<string, FeatureValue> {
  const out: Record<string, FeatureValue> = {};
  // defineProperty: a feature named "__proto__" (an own field after JSON.parse) stays a field.
  const put = (k: string, v: FeatureValue) => Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  for (const [k, v] of Object.entries(row.itemRec?.features ?? {})) put(k, v);
  for (const [k, v] of Object.entries(row.rec.features ?? {})) put(k, v);
  for (const k of ONLINE_FEATURES) {
    const v = ctx.state.online(row.item, k);
    if (v !== undefined) out[`online.${k}`] = v;
  }
  return out;
}

/** The recorded ranking of an event, resolved to state slots. */
export interface RecordedRanking {
  /** Item ids in recorded order. */
  order: string[];
  /** The same, as state slots. */
  orderSlots: number[];
  /** State slot of each candidate, in candidate order. */
  candidateSlots: number[];
  /** 1-based recorded rank of each candidate (a duplicate gets its first occurrence's). */
  candidateRanks: number[];
  /** Whether an item appears more than once among the candidates. */
  duplicates: boolean;
  /**
   * How many of `order`'s first items the recording ranked: what it served, and the candidates it
   * logged a score for. The rest follow in candidate order, which is no ranking of the recording's.
   */
  ranked: number;
  /**
   * Present when candidates the recording did not serve were logged with the same score: for each
   * position of `order`, the position of the first item with its score (its own when untied). Their
   * order among themselves is candidate order, no ranking of the recording's (see MetricsAccumulator
   * recordedTies).
   */
  ties?: number[];
}

/** Per-slot marks reused from event to event, so ranking an event allocates no map. */
export class RankScratch {
  private mark = new Int32Array(1024);
  private val = new Int32Array(1024);
  private gen = 0;

  /** Starts an event whose slots are all below `slots`. */
  begin(slots: number): void {
    if (slots > this.mark.length) {
      const n = Math.max(slots, this.mark.length * 2);
      this.mark = new Int32Array(n);
      this.val = new Int32Array(n);
      this.gen = 0;
    }
    if (++this.gen === 0x3fffffff) {
      this.mark.fill(0);
      this.gen = 1;
    }
  }

  has(slot: number): boolean {
    return this.mark[slot] === this.gen;
  }

  get(slot: number): number {
    return this.val[slot] as number;
  }

  set(slot: number, v: number): void {
    this.mark[slot] = this.gen;
    this.val[slot] = v;
  }
}

function recordedScore(c: CandidateRecord): number {
  return typeof c.score === 'number' ? c.score : -Infinity;
}

/** Where recordedRanking resolves ids (the replay state: unknown ids get a slot on first sight). */
export interface SlotResolver {
  slot(id: string): number;
  readonly ids: readonly string[];
}

/**
 * Recorded ranking: what was served, in served order, then the other candidates by recorded
 * score (highest first), then in candidate order (a stable sort). Served ids are resolved to
 * slots first, then candidates.
 */
export function recordedRanking(event: EventRecord, slots: SlotResolver, scratch: RankScratch): RecordedRanking {
  const served = event.served;
  const cands = event.candidates;
  // Plain arrays: for the few dozen ids of an event they allocate faster than typed ones.
  const servedSlots: number[] = [];
  for (let i = 0; i < served.length; i++) servedSlots.push(slots.slot(served[i] as string));
  const candidateSlots: number[] = [];
  for (let i = 0; i < cands.length; i++) candidateSlots.push(slots.slot((cands[i] as CandidateRecord).item));
  scratch.begin(slots.ids.length);
  const order: string[] = [];
  const orderList: number[] = [];
  for (let i = 0; i < served.length; i++) {
    const s = servedSlots[i] as number;
    if (scratch.has(s)) continue;
    order.push(served[i] as string);
    orderList.push(s);
    scratch.set(s, order.length);
  }
  // Marks while scanning: > 0 served and not yet seen as a candidate, < 0 served and seen, 0 candidate only.
  let duplicates = false;
  const rest: number[] = [];
  for (let i = 0; i < cands.length; i++) {
    const s = candidateSlots[i] as number;
    if (!scratch.has(s)) {
      scratch.set(s, 0);
      rest.push(i);
    } else {
      const v = scratch.get(s);
      if (v > 0) scratch.set(s, -v);
      else duplicates = true;
    }
  }
  for (let i = 0; i < orderList.length; i++) {
    const s = orderList[i] as number;
    const v = scratch.get(s);
    if (v < 0) scratch.set(s, -v);
  }
  // By recorded score, highest first, stable: an insertion sort for the dozens a slate holds, a
  // sort past that (insertion is quadratic: 10,000 candidates took 92 ms an event).
  const key: number[] = [];
  for (let a = 0; a < rest.length; a++) key.push(recordedScore(cands[rest[a] as number] as CandidateRecord));
  if (rest.length > 64) {
    const byIndex = new Map<number, number>();
    for (let a = 0; a < rest.length; a++) byIndex.set(rest[a] as number, key[a] as number);
    rest.sort((x, y) => {
      const kx = byIndex.get(x) as number;
      const ky = byIndex.get(y) as number;
      return ky > kx ? 1 : ky < kx ? -1 : x - y;
    });
    key.length = 0;
  }
  for (let a = 1; a < key.length; a++) {
    const ri = rest[a] as number;
    const k = key[a] as number;
    let b = a - 1;
    while (b >= 0 && (key[b] as number) < k) {
      rest[b + 1] = rest[b] as number;
      key[b + 1] = key[b] as number;
      b--;
    }
    rest[b + 1] = ri;
    key[b + 1] = k;
  }
  const servedCount = order.length;
  let scored = 0;
  let ties: number[] | undefined;
  let previous = Number.NaN;
  for (let a = 0; a < rest.length; a++) {
    const i = rest[a] as number;
    const s = candidateSlots[i] as number;
    const score = (cands[i] as CandidateRecord).score;
    // (Sorted by score: the ones with a score come first.)
    if (typeof score === 'number') {
      // Equal to the one before: the recording did not order the two (ties start at the block's first).
      if (score === previous) {
        if (ties === undefined) {
          ties = [];
          for (let j = 0; j < order.length; j++) ties.push(j);
        }
        ties.push(ties[order.length - 1] as number);
      } else ties?.push(order.length);
      previous = score;
      scored++;
    } else ties?.push(order.length);
    order.push((cands[i] as CandidateRecord).item);
    orderList.push(s);
    scratch.set(s, order.length);
  }
  const candidateRanks: number[] = [];
  for (let i = 0; i < cands.length; i++) candidateRanks.push(scratch.get(candidateSlots[i] as number));
  const out: RecordedRanking = { order, orderSlots: orderList, candidateSlots, candidateRanks, duplicates, ranked: servedCount + scored };
  if (ties !== undefined) out.ties = ties;
  return out;
}

/** 1-based place of an item in an event's recorded ranking, or undefined (for display). */
export function recordedRankOf(recorded: readonly string[], item: string): number | undefined {
  const i = recorded.indexOf(item);
  return i < 0 ? undefined : i + 1;
}
