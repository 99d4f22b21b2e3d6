import type { SummaryRow } from '../../shared/webview';
import { SERIES_IDS, SNAPSHOT_KEYS } from './traceMetrics';
import type { TraceTimeline } from './traceReader';

/**
 * The series of the trace timeline whose running value is the run record's metric `key`
 * (`hit_rate@10` is hit_rate's), or undefined (a metric the timeline does not draw).
 */
function seriesOfMetric(key: string): number {
  return SERIES_IDS.findIndex((id) => {
    const k = SNAPSHOT_KEYS[id];
    return k !== undefined && (k.endsWith('@') ? key.startsWith(k) && !key.includes('.') : key === k);
  });
}

/**
 * Final metrics of two runs side by side, from their run.json; a run without one (a trace copied
 * without it, or written by another tool) has them worked out from its trace, as its timeline is
 * (a metric the timeline does not draw shows "—"). Then faults and events from the traces.
 */
export function summaryRows(runs: TraceTimeline[]): SummaryRow[] {
  const keys = new Set<string>();
  for (const r of runs) for (const k of Object.keys(r.run?.metrics ?? {})) keys.add(k);
  // No run record at all: the timeline's own series, by name.
  if (keys.size === 0) for (const id of SERIES_IDS) if (runs.some((r) => r.final[SERIES_IDS.indexOf(id)] != null)) keys.add(id);
  const valueOf = (r: TraceTimeline, k: string): number | null => {
    if (r.run?.metrics) return r.run.metrics[k] ?? null;
    const i = SERIES_IDS.includes(k) ? SERIES_IDS.indexOf(k) : seriesOfMetric(k);
    return i >= 0 ? (r.final[i] ?? null) : null;
  };
  const rows: SummaryRow[] = [...keys].map((k) => ({ metric: k, values: runs.map((r) => valueOf(r, k)) }));
  const faults = new Set<string>();
  for (const r of runs) for (const k of r.faults.keys()) faults.add(k);
  for (const f of [...faults].sort()) rows.push({ metric: `faults: ${f}`, values: runs.map((r) => r.faults.get(f)?.count ?? 0) });
  rows.push({ metric: 'events replayed', values: runs.map((r) => r.events) });
  return rows;
}
