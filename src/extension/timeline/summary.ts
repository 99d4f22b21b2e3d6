import type { SummaryRow } from '../../shared/webview';
import { SERIES_IDS, SNAPSHOT_KEYS } from './traceMetrics';
import type { TraceTimeline } from './traceReader';

/**
 * The run-record names of the metrics a trace's running values stand for (SERIES_IDS order;
 * undefined for a series no metric of the run record is): `hit_rate@` with the trace's own k, so a
 * run of another slate size is never shown under this one's name.
 */
function metricNames(r: TraceTimeline): (string | undefined)[] {
  return SERIES_IDS.map((id) => {
    const key = SNAPSHOT_KEYS[id];
    return key === undefined ? undefined : key.endsWith('@') ? `${key}${r.header.k}` : key;
  });
}

/**
 * Final metrics of two runs side by side, from their run.json; a run without one (a trace copied
 * without it, or written by another tool) has the ones its timeline draws worked out from its
 * trace (others show "—"). Then faults and events from the traces.
 */
export function summaryRows(runs: TraceTimeline[]): SummaryRow[] {
  const keys = new Set<string>();
  const names = runs.map(metricNames);
  runs.forEach((r, j) => {
    if (r.run?.metrics) for (const k of Object.keys(r.run.metrics)) keys.add(k);
    else names[j]?.forEach((k, i) => k !== undefined && r.final[i] != null && keys.add(k));
  });
  const valueOf = (r: TraceTimeline, j: number, k: string): number | null => {
    if (r.run?.metrics) return r.run.metrics[k] ?? null;
    if (k === 'events') return r.events;
    const i = names[j]?.indexOf(k) ?? -1;
    return i >= 0 ? (r.final[i] ?? null) : null;
  };
  const rows: SummaryRow[] = [...keys].map((k) => ({ metric: k, values: runs.map((r, j) => valueOf(r, j, k)) }));
  const faults = new Set<string>();
  for (const r of runs) for (const k of r.faults.keys()) faults.add(k);
  for (const f of [...faults].sort()) rows.push({ metric: `faults: ${f}`, values: runs.map((r) => r.faults.get(f)?.count ?? 0) });
  rows.push({ metric: 'events replayed', values: runs.map((r) => r.events) });
  return rows;
}
