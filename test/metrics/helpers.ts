/** Builders for metrics tests: an observation with neutral defaults, overridden per case. */

import { STAGES, type StageName } from '../../src/core/slice/types.js';
import type { EventObservation } from '../../src/core/metrics/index.js';

/** Per-stage latency with every stage at 0 ms unless given. */
export function latency(values: Partial<Record<StageName, number>> = {}): Record<StageName, number> {
  const out = {} as Record<StageName, number>;
  for (const s of STAGES) out[s] = values[s] ?? 0;
  return out;
}

let next = 1;

/** An observation: served defaults to [], recorded/ranked default to served. */
export function obs(over: Partial<EventObservation> = {}): EventObservation {
  const served = over.served ?? [];
  return {
    index: next++,
    ranked: served,
    served,
    recorded: served,
    relevant: [],
    clicks: [],
    fallback: false,
    latencyMs: latency(),
    ...over,
  };
}

/** Asserts |actual − expected| ≤ 1e-12, with a message naming the metric. */
export function near(actual: number | null | undefined, expected: number, what: string): void {
  if (actual === null || actual === undefined || Math.abs(actual - expected) > 1e-12) {
    throw new Error(`${what}: expected ${expected}, got ${String(actual)}`);
  }
}
