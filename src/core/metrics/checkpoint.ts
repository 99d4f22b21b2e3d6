/** The saved (checkpoint) form of the accumulator state and its validation on restore. */

import { STAGES } from '../slice/types.js';
import { MAX_ITEM_EXPOSURES } from './exposure.js';
import { BUCKETS } from './latency.js';

/** Format tag of a saved state; bump it when the shape changes. */
export const METRICS_STATE_FORMAT = 'recreplay.metrics/2';

/** Running sums and counts behind every cumulative metric. */
export const TOTAL_KEYS = [
  'events',
  'relevantEvents',
  'hits',
  'rr',
  'ndcg',
  'clicks',
  'impressions',
  'ildEvents',
  'ild',
  'noveltyItems',
  'novelty',
  'overflowExposures',
  'fallbacks',
  'cacheHits',
  'cacheLookups',
  'queueEvents',
  'queueSum',
  'queueCurrent',
  'overlap',
  'kendallTau',
  'tauEvents',
] as const;
export type Totals = Record<(typeof TOTAL_KEYS)[number], number>;

/**
 * Totals that add up recorded system figures. They are summed scaled by 2^-64 (FIGURE_SCALE in
 * accumulator.ts), so the figures of any real run keep them finite; a caller of the accumulator
 * may still pass ±Infinity or ±1e308 by the 2^64, and a checkpoint restores whatever the straight
 * run holds: ±Infinity for these, and NaN for the lookups (hits + misses of opposite infinities).
 * Every other total is a count or a sum of bounded per-event values, and stays finite.
 */
const UNBOUNDED_TOTALS: ReadonlyMap<(typeof TOTAL_KEYS)[number], { nan: boolean }> = new Map([
  ['queueSum', { nan: false }],
  ['cacheHits', { nan: false }],
  ['cacheLookups', { nan: true }],
]);

/** Histogram names: one per stage, then the total. */
export const LATENCY_SERIES = [...STAGES, 'total'] as const;

/** A checkpoint: plain JSON, with sparse [index, count, ...] lists for the large arrays. */
export interface SavedMetrics {
  format: typeof METRICS_STATE_FORMAT;
  k: number;
  /** Fingerprint of the catalogue the state was built against. */
  catalog: string;
  totals: Totals;
  /** [slot, count, ...]: a plain list, or an Int32Array in the engine's own checkpoints. */
  exposures: number[] | Int32Array;
  latency: Record<(typeof LATENCY_SERIES)[number], number[]>;
}

/** Zeroed totals. */
export function emptyTotals(): Totals {
  const t = {} as Totals;
  for (const key of TOTAL_KEYS) t[key] = 0;
  return t;
}

/** Checks that `saved` is a checkpoint for this catalogue and k; throws a message saying what is wrong. */
export function parseSaved(saved: unknown, k: number, catalog: string, catalogSize: number): SavedMetrics {
  const fail = (why: string): never => {
    throw new Error(`Cannot restore metrics checkpoint: ${why}.`);
  };
  if (typeof saved !== 'object' || saved === null) return fail('it is not an object');
  const s = saved as Partial<SavedMetrics>;
  if (s.format !== METRICS_STATE_FORMAT) fail(`format is ${String(s.format)}, expected ${METRICS_STATE_FORMAT}`);
  if (s.k !== k) fail(`it was saved with k=${String(s.k)}, not k=${k}`);
  if (s.catalog !== catalog) fail('it was saved against a different catalogue');
  const totals = s.totals ?? fail('totals are missing');
  for (const key of TOTAL_KEYS) {
    const v: unknown = totals[key];
    if (Number.isFinite(v)) continue;
    const unbounded = UNBOUNDED_TOTALS.get(key);
    if (!unbounded) fail(`totals.${key} is not a finite number`);
    else if (typeof v !== 'number' || (Number.isNaN(v) && !unbounded.nan)) fail(`totals.${key} is neither a finite number nor ±Infinity`);
  }
  checkPairs(s.exposures, catalogSize, MAX_ITEM_EXPOSURES, 'exposures', fail);
  const latency = s.latency ?? fail('latency is missing');
  for (const series of LATENCY_SERIES) checkPairs(latency[series], BUCKETS, Number.MAX_SAFE_INTEGER, `latency.${series}`, fail);
  return s as SavedMetrics;
}

/** A flat [index, count, ...] list: increasing integer indices below `limit`, integer counts in [1, maxCount]. */
function checkPairs(list: unknown, limit: number, maxCount: number, what: string, fail: (why: string) => never): void {
  if (!(Array.isArray(list) || list instanceof Int32Array) || list.length % 2 !== 0) fail(`${what} is not a list of index/count pairs`);
  const a = list as ArrayLike<unknown>;
  let previous = -1;
  for (let i = 0; i < a.length; i += 2) {
    const index = a[i];
    const count = a[i + 1];
    const okIndex = Number.isInteger(index) && (index as number) > previous && (index as number) < limit;
    if (!okIndex || !Number.isInteger(count) || (count as number) <= 0 || (count as number) > maxCount) fail(`${what} has a bad pair at ${i}`);
    previous = index as number;
  }
}
