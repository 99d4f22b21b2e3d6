import { METRIC_SERIES, type MetricSeriesName } from '../shared/dap';
import type { MetricStore } from './metricStore';

/** A metric-drop detector's settings: which per-event series, how big a drop, over how many events. */
export interface DropSpec {
  series: MetricSeriesName;
  /** Relative drop, 0..1: 0.25 = the recent mean is at least 25% below the one before. */
  drop: number;
  window: number;
}

const DEFAULT: DropSpec = { series: 'hit', drop: 0.25, window: 200 };

/** Parses "SERIES DROP [window N]" (each part optional): `ndcg 20% window 200`, `hit 0.3`. */
export function parseMetricDrop(text: string): DropSpec {
  const spec = { ...DEFAULT };
  const words = text.trim().split(/\s+/).filter((w) => w !== '');
  for (let i = 0; i < words.length; i++) {
    const w = words[i] as string;
    if ((METRIC_SERIES as readonly string[]).includes(w)) spec.series = w as MetricSeriesName;
    else if (w === 'window') {
      const n = Number(words[++i]);
      if (!Number.isInteger(n) || n < 2) throw new Error(`window must be a whole number of events >= 2, got "${words[i] ?? ''}"`);
      spec.window = n;
    } else if (/^\d+(\.\d+)?%$/.test(w)) spec.drop = Number(w.slice(0, -1)) / 100;
    else if (/^0?\.\d+$|^[01]$/.test(w)) spec.drop = Number(w);
    else throw new Error(`"${w}" is not a series (${METRIC_SERIES.join(', ')}), a drop (20% or 0.2) or "window N"`);
  }
  if (!(spec.drop > 0 && spec.drop <= 1)) throw new Error(`the drop must be between 0% and 100%, got ${spec.drop * 100}%`);
  return spec;
}

/** A window's weighted sum of values, their total weight, and how many events had a value. */
interface WindowSums {
  sum: number;
  weight: number;
  count: number;
}

const empty = (): WindowSums => ({ sum: 0, weight: 0, count: 0 });

/**
 * Fires when the mean of a series over the last `window` events falls `drop` below its mean over
 * the `window` events before, on the first event where that becomes true (it re-arms once the
 * drop is over). Means weigh events as the engine's metric does (MetricStore.weight: CTR is total
 * clicks over total impressions, novelty a mean over served items). Windows need half their events
 * defined (hit is undefined without clicks). Sums slide in O(1) while events come in order and
 * are rebuilt after a jump.
 */
export class MetricDropDetector {
  private lastN = -1;
  private lastFiring = false;
  private recent = empty();
  private before = empty();

  constructor(readonly spec: DropSpec) {}

  /** Checks completed event n against the stored series; a hit describes the drop. */
  check(store: MetricStore, n: number): { message: string; value: number } | undefined {
    if (n !== this.lastN + 1) {
      this.rebuild(store, n - 1);
      this.lastFiring = this.firing(n - 1);
    }
    this.slide(store, n);
    this.lastN = n;
    const was = this.lastFiring;
    this.lastFiring = this.firing(n);
    if (!this.lastFiring || was) return undefined;
    const { series, window } = this.spec;
    const r = this.recent.sum / this.recent.weight;
    const b = this.before.sum / this.before.weight;
    const pct = Math.round((1 - r / b) * 100);
    return { message: `mean ${series} of the last ${window} events fell to ${r.toFixed(3)}, ${pct}% below the ${window} events before (${b.toFixed(3)})`, value: r };
  }

  private add(acc: WindowSums, store: MetricStore, n: number, sign: 1 | -1): void {
    const v = store.value(this.spec.series, n);
    if (v === null) return;
    const w = store.weight(this.spec.series, n);
    acc.sum += sign * w * v;
    acc.weight += sign * w;
    acc.count += sign;
  }

  private slide(store: MetricStore, n: number): void {
    const w = this.spec.window;
    this.add(this.recent, store, n, 1);
    this.add(this.recent, store, n - w, -1);
    this.add(this.before, store, n - w, 1);
    this.add(this.before, store, n - 2 * w, -1);
  }

  /**
   * Sums for the windows ending at event n, from scratch: the weighted values added up as the
   * sliding sums add them, so both hold the same number. (Taken back from the mean, mean × weight,
   * 15 hits in 26 events read 14.999999999999998, and the sums slid on from there: after a goto or
   * a step back the detector fired where a straight run did not, or the other way round.) The
   * store's values are float32 and the weights whole numbers, so for any figures short of extreme
   * magnitudes these sums are exact, and any order of adding gives the same double.
   */
  private rebuild(store: MetricStore, n: number): void {
    const { series, window: w } = this.spec;
    const sums = (m: { count: number; weight: number; sum: number }): WindowSums => ({ sum: m.sum, weight: m.weight, count: m.count });
    this.recent = sums(store.mean(series, n - w + 1, n));
    this.before = sums(store.mean(series, n - 2 * w + 1, n - w));
  }

  private firing(n: number): boolean {
    const { window: w, drop } = this.spec;
    const half = Math.ceil(w / 2);
    if (n < 2 * w || this.recent.count < half || this.before.count < half || !(this.recent.weight > 0) || !(this.before.weight > 0)) return false;
    const before = this.before.sum / this.before.weight;
    return before > 0 && this.recent.sum / this.recent.weight < (1 - drop) * before;
  }
}
