import type { StageName } from '../slice/types';

/** The fault detectors; the debugger exposes each as an exception breakpoint filter. */
export const FAULT_KINDS = ['nan_score', 'empty_slate', 'over_budget', 'stage_over_budget', 'stale_feature', 'divergence', 'metric_drop', 'ranker_error'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface Fault {
  kind: FaultKind;
  stage: StageName;
  message: string;
  item?: string;
  value?: number;
}

export const FAULT_LABELS: Record<FaultKind, string> = {
  nan_score: 'NaN/Inf score',
  empty_slate: 'Empty slate',
  over_budget: 'Latency over budget (fallback served)',
  stage_over_budget: 'Stage latency over its budget',
  stale_feature: 'Stale feature',
  divergence: 'Divergence from recorded ranking',
  metric_drop: 'Metric drop',
  ranker_error: 'Ranker error',
};

/**
 * Fault counts keyed in FAULT_KINDS order, kinds never seen left out: a run record's bytes do not
 * depend on which fault came first (the debugger's run.json listed them as first seen, the CLI's
 * in this order).
 */
export function countsByKind(count: (kind: FaultKind) => number | undefined): Partial<Record<FaultKind, number>> {
  const out: Partial<Record<FaultKind, number>> = {};
  for (const k of FAULT_KINDS) {
    const n = count(k);
    if (n) out[k] = n;
  }
  return out;
}
