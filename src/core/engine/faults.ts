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
