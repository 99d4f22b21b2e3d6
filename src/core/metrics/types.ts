/** Public shapes of the metrics layer (definitions: docs/metrics.md). */

import type { StageName } from '../slice/types.js';

/** One catalogue item, as far as metrics care. */
export interface CatalogEntry {
  id: string;
  /** Category for intra-list diversity; absent counts as "?". */
  category?: string;
  /** Group for exposure parity; defaults to the category, then "?". */
  group?: string;
}

/** Item slots of one id list, in the same order: a typed array or a plain array of int32 values. */
export type SlotList = Int32Array | readonly number[];

/**
 * The id lists of an observation already resolved to item slots, as ReplayState.slot() numbers
 * them: catalogue items are 0..catalogSize−1 in catalogue order (first entry wins for a duplicate
 * id); any other non-negative int32 is an item outside the catalogue, where within one event the
 * same item must have the same number and different items different ones (persistent numbers,
 * as the engine's, work as well as per-event ones). Every list has the length of its id list.
 */
export interface EventSlots {
  ranked: SlotList;
  served: SlotList;
  recorded: SlotList;
  relevant: SlotList;
  clicks: SlotList;
}

/** What the replay engine reports once per replayed event. */
export interface EventObservation {
  /** 1-based event number (line of events.jsonl). */
  index: number;
  /** Replayed ranking after rerank: all candidates, best first. */
  ranked: readonly string[];
  /** Slate actually served (may be the fallback ranking), length <= k. */
  served: readonly string[];
  /** Recorded ranking: served items first in served order, then the rest. */
  recorded: readonly string[];
  /**
   * How many of `recorded`'s first items the recording ranked (what it served, and candidates it
   * logged a score for); the rest are in candidate order, no ranking, and Kendall tau leaves them
   * out. Default: all of them.
   */
  recordedRanked?: number;
  /**
   * Optional, one entry per `recorded` item: the position of the first item the recording could not
   * tell it from (the same logged score), its own position when it has no tie. Kendall tau leaves
   * the pairs it did not order out. Default: no ties.
   */
  recordedTies?: readonly number[];
  /** Ground truth: the recorded clicks of this event. */
  relevant: readonly string[];
  /** Clicks in the replay (recorded, or simulated by the click model). */
  clicks: readonly string[];
  fallback: boolean;
  /**
   * No candidate got a finite score (the ranker failed, or gave NaN for every one): `ranked` is then
   * the recorded order by the tie rule, no model's, and Kendall tau is null (a ranker down for the
   * whole run read as perfect agreement with the recording).
   */
  unscored?: boolean;
  /** Simulated per-stage latency in ms. */
  latencyMs: Readonly<Record<StageName, number>>;
  queueDepth?: number;
  cache?: { hits: number; misses: number };
  /**
   * Optional fast path: the id lists as slots. When present, update() reads items only through
   * these and never looks an id up; the ids stay the source of truth for anything named. The
   * results are identical to those of the ids alone.
   */
  slots?: EventSlots;
}

/**
 * Per-event values for the timeline. `null` marks "not defined for this event" (a gap in the
 * plot), never zero, so a chart does not show a relevance drop on an event without clicks.
 */
export interface EventMetrics {
  index: number;
  /** 1/0 whether a relevant item is in served[0..k); null when the event has no relevant items. */
  hit: number | null;
  /** Reciprocal rank of the first relevant served item (0 if none); null without relevant items. */
  rr: number | null;
  /** DCG/IDCG with binary gain; null without relevant items. */
  ndcg: number | null;
  /** Intra-list diversity of served[0..k); null when fewer than two items were served. */
  ild: number | null;
  /** Mean novelty of the served items; null when nothing was served. */
  novelty: number | null;
  /** |served[0..k) ∩ recorded[0..k)| / k. */
  overlap: number;
  /** Kendall tau of ranked vs recorded over the pairs of common items the recording ordered (tau-a without ties); null with no such pair. */
  kendallTau: number | null;
  /** 1 when the fallback ranking was served, else 0. */
  fallback: number;
  /** Replay clicks of this event. */
  clicks: number;
  /** Served slots of this event. */
  impressions: number;
  /** Sum of the stage latencies, ms. */
  latencyTotalMs: number;
}

/** Cumulative values after the last update; keys are listed by MetricsAccumulator.names(k). */
export type MetricsSnapshot = Record<string, number>;
