import type { CandidateRecord, EventRecord, FeatureValue, ItemRecord, UserRecord } from '../slice/types';
import type { ReplayState } from './state';

/** One candidate as it moves through the stages of an event. */
export interface CandidateRow {
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
  if (scope === 'user') return (_r, c) => c.user?.features?.[key] ?? (c.user?.[key] as FeatureValue | undefined);
  if (scope === 'context') return (_r, c) => c.event.context?.[key];
  if (scope === 'online') return (r, c) => c.state.online(r.item, key);
  return (r) => {
    const v = r.rec.features?.[name];
    return v !== undefined ? v : r.itemRec?.features?.[name];
  };
}

/** A feature of a candidate by name (see featureReader). */
export function featureValue(row: CandidateRow, name: string, ctx: FeatureContext): FeatureValue | undefined {
  return featureReader(name)(row, ctx);
}

/** Every feature of a candidate, resolved, for display (stops, stop reports); not for the hot path. */
export function allFeatures(row: CandidateRow, ctx: FeatureContext): Record<string, FeatureValue> {
  const out: Record<string, FeatureValue> = {};
  for (const [k, v] of Object.entries(row.itemRec?.features ?? {})) out[k] = v;
  for (const [k, v] of Object.entries(row.rec.features ?? {})) out[k] = v;
  for (const k of ['impressions', 'clicks', 'ctr']) {
    const v = ctx.state.online(row.item, k);
    if (v !== undefined) out[`online.${k}`] = v;
  }
  return out;
}

/** The recorded ranking and each item's 1-based place in it. */
export interface RecordedRanking {
  order: string[];
  rankOf: Map<string, number>;
  /** Whether an item appears more than once among the candidates. */
  duplicates: boolean;
}

function recordedScore(c: CandidateRecord): number {
  return typeof c.score === 'number' ? c.score : -Infinity;
}

/**
 * Recorded ranking: what was served, in served order, then the other candidates by recorded
 * score (highest first), then in candidate order (Array#sort is stable).
 */
export function recordedRanking(event: EventRecord): RecordedRanking {
  const rankOf = new Map<string, number>();
  const order: string[] = [];
  for (const id of event.served) {
    if (rankOf.has(id)) continue;
    order.push(id);
    rankOf.set(id, order.length);
  }
  const rest: CandidateRecord[] = [];
  let duplicates = false;
  // Marks while scanning: > 0 served and not yet seen as a candidate, < 0 served and seen, 0 candidate only.
  for (const c of event.candidates) {
    const v = rankOf.get(c.item);
    if (v === undefined) {
      rankOf.set(c.item, 0);
      rest.push(c);
    } else if (v > 0) rankOf.set(c.item, -v);
    else duplicates = true;
  }
  for (const id of order) {
    const v = rankOf.get(id) as number;
    if (v < 0) rankOf.set(id, -v);
  }
  rest.sort((a, b) => recordedScore(b) - recordedScore(a));
  for (const c of rest) {
    order.push(c.item);
    rankOf.set(c.item, order.length);
  }
  return { order, rankOf, duplicates };
}
