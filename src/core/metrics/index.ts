/** Recommender metrics for the replay engine: pinned definitions in docs/metrics.md. */

export type { CatalogEntry, EventMetrics, EventObservation, EventSlots, MetricsSnapshot, SlotList } from './types.js';
export { MetricsAccumulator } from './accumulator.js';
export { UNKNOWN_CATEGORY } from './catalog.js';
export { METRICS_STATE_FORMAT } from './checkpoint.js';
export { ExposureCounts, giniNaive } from './gini.js';
export { bucketOf, bucketValue, LatencyHistogram, nearestRank, quantise } from './latency.js';
