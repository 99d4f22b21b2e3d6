import type { FeatureValue } from '../slice/types';

/** One candidate of the current event as expressions see it. */
export interface ExprCandidate {
  item: string;
  /** The replayed score, null until the score stage has run (NaN would compare false with everything, even itself). */
  score: number | null;
  /**
   * 1-based position in the replayed order, null until the rerank stage has run (a 0 would make
   * `rank(id) <= 3` hold for every candidate before the ranking exists).
   */
  rank: number | null;
  /** 1-based position in the recorded (production) order. */
  recordedRank: number;
  /** Rank at the previous stage, or null before the first ranking. */
  prevRank: number | null;
  features: Record<string, FeatureValue>;
  meta: Record<string, unknown>;
}

/**
 * What the engine provides at a stop. Helper lookups (`score(id)`, `topk(k)`) are indexed per
 * `candidates` array: scores and ranks may change in place, but a candidate set that gains,
 * loses or replaces elements must be a new array.
 */
export interface ExprScope {
  event: Record<string, unknown>;
  user: Record<string, unknown>;
  context: Record<string, unknown>;
  candidates: readonly ExprCandidate[];
  served: readonly string[];
  outcome: Record<string, unknown>;
  system: Record<string, unknown>;
  stage: string;
  metrics: Record<string, number>;
  /** Age in seconds of a feature value at this event, or null when unknown. */
  featureAge(name: string, item?: string): number | null;
  /**
   * An `online.NAME` feature of an item (the engine's online store: impressions, clicks, ctr), or
   * null when the item has none yet. Engines without an online store leave it out.
   */
  onlineFeature?(name: string, item: string): number | null;
}

/** A value an expression can produce: JSON-like data. Maps are plain objects with string keys. */
export type Value = null | boolean | number | string | readonly Value[] | ValueMap;
export interface ValueMap {
  readonly [key: string]: Value;
}

/** The names an expression can refer to at a stop, in the order completions list them. */
export const BINDINGS = ['event', 'user', 'context', 'candidates', 'served', 'outcome', 'system', 'stage', 'metrics'] as const;
export type BindingName = (typeof BINDINGS)[number];
