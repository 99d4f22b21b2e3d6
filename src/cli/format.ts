import type { FaultSummary } from '../core/engine/run';

/** Formats a number for a summary table: integers as-is, others to 4 significant digits. */
export function fmt(v: number | undefined): string {
  if (v === undefined || Number.isNaN(v)) return '—';
  if (Number.isInteger(v)) return String(v);
  return Number(v.toPrecision(4)).toString();
}

/** Left-aligned two-column table. */
export function table(rows: [string, string][]): string {
  const w = Math.max(0, ...rows.map(([a]) => a.length));
  return rows.map(([a, b]) => `  ${a.padEnd(w)}  ${b}`).join('\n');
}

/** A progress bar on one line, redrawn with \r (only on a TTY). */
export function progressBar(done: number, total: number, width = 30): string {
  const f = total ? Math.min(1, done / total) : 1;
  const full = Math.round(f * width);
  return `[${'#'.repeat(full)}${'-'.repeat(width - full)}] ${(f * 100).toFixed(0).padStart(3)}% ${done}/${total} events`;
}

/** "fault × count (first at event n): example". */
export function faultLines(faults: Record<string, FaultSummary | undefined>): string[] {
  return Object.entries(faults)
    .filter((e): e is [string, FaultSummary] => e[1] !== undefined)
    .map(([k, s]) => `  ${k} × ${s.count} (first at event ${s.firstEvent}, ${s.firstId}): ${s.example}`);
}
