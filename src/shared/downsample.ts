/**
 * Min/max downsampling for the timeline: a series of any length becomes at most two points per
 * bucket of the x range — the lowest and the highest value in the order they occur — so a chart
 * `width` pixels wide draws ~2×width points and never loses a spike or a dip; the last bucket adds
 * the series' last value, so a line ends where the data does. One pass, no allocation per point.
 * Used by the webview (to fit the canvas) and by tests; pure.
 */

/** Values of one series at the shared x positions; `lo`/`hi` are the same array for raw data. */
export interface RangeSeries {
  lo: ArrayLike<number | null>;
  hi: ArrayLike<number | null>;
  /**
   * The lower or upper edge of a band: each bucket gives its lowest `lo` (or highest `hi`) in both
   * of its slots, not its two extremes in order. Downsampled in order, the two edges of a band
   * each put their own earlier extreme first, so a slot could pair a lower edge's maximum with the
   * upper edge's minimum, and the edges crossed.
   */
  edge?: 'lower' | 'upper';
}

export interface Downsampled {
  x: number[];
  /** One array per input series, aligned with x. */
  y: (number | null)[][];
}

/**
 * Downsamples series that share one ascending x array into `buckets` equal x ranges. Each bucket
 * gives two x slots (its first and last x); each series puts its earlier extreme in the first slot
 * and its later extreme in the second, so extremes keep their order. A bucket with one point
 * gives one slot. Input no longer than 2×buckets is returned as is (lo/hi averaged to one value
 * per point when they differ). A band's edges are passed as two series marked `edge`: each of
 * their buckets gives the range of the whole bucket, so the lower edge never rises above the upper.
 */
export function downsampleMinMax(x: ArrayLike<number>, series: readonly RangeSeries[], buckets: number): Downsampled {
  const n = x.length;
  const nb = Math.max(1, Math.floor(buckets));
  if (n <= 2 * nb) {
    return { x: Array.from(x), y: series.map((s) => Array.from({ length: n }, (_, i) => pointOf(s, i))) };
  }
  const x0 = x[0] as number;
  const span = (x[n - 1] as number) - x0;
  const width = span > 0 ? span / nb : 1;
  const outX: number[] = [];
  const outY: (number | null)[][] = series.map(() => []);
  const m = series.length;
  // Per series: index and value of the min and max in the current bucket.
  const minV = new Float64Array(m);
  const maxV = new Float64Array(m);
  const minI = new Int32Array(m);
  const maxI = new Int32Array(m);
  /** A band edge's value in the current bucket: its lowest lo or highest hi, null when it has none. */
  const edgeOf = (edge: 'lower' | 'upper', k: number): number | null => (edge === 'lower' ? (minI[k] === -1 ? null : (minV[k] as number)) : maxI[k] === -1 ? null : (maxV[k] as number));
  let start = 0;
  while (start < n) {
    const b = Math.min(nb - 1, Math.floor(((x[start] as number) - x0) / width));
    const limit = x0 + (b + 1) * width;
    let end = start + 1;
    while (end < n && (b === nb - 1 || (x[end] as number) < limit)) end++;
    minV.fill(Infinity);
    maxV.fill(-Infinity);
    minI.fill(-1);
    maxI.fill(-1);
    for (let k = 0; k < m; k++) {
      const s = series[k] as RangeSeries;
      const lo = s.lo;
      const hi = s.hi;
      for (let i = start; i < end; i++) {
        const a = lo[i];
        if (a !== null && a !== undefined && a < (minV[k] as number)) {
          minV[k] = a;
          minI[k] = i;
        }
        const c = hi[i];
        if (c !== null && c !== undefined && c > (maxV[k] as number)) {
          maxV[k] = c;
          maxI[k] = i;
        }
      }
    }
    if (end - start === 1) {
      outX.push(x[start] as number);
      for (let k = 0; k < m; k++) {
        const edge = (series[k] as RangeSeries).edge;
        (outY[k] as (number | null)[]).push(edge !== undefined ? edgeOf(edge, k) : minI[k] === -1 ? null : mid(minV[k] as number, maxV[k] as number));
      }
    } else if (end === n && end - start >= 3) {
      // The last bucket: its extremes, then the series' own last value at its own x, so a line
      // ends where the data does (a running metric at the run's final value), not at an extreme.
      outX.push(x[start] as number, x[end - 2] as number, x[end - 1] as number);
      for (let k = 0; k < m; k++) {
        const ys = outY[k] as (number | null)[];
        const s = series[k] as RangeSeries;
        const last = pointOf(s, end - 1);
        if (s.edge !== undefined) {
          const e = edgeOf(s.edge, k);
          ys.push(e, e, last);
        } else if (minI[k] === -1 && maxI[k] === -1) ys.push(null, null, last);
        else if (minI[k] === -1) ys.push(maxV[k] as number, maxV[k] as number, last);
        else if (maxI[k] === -1) ys.push(minV[k] as number, minV[k] as number, last);
        else if ((minI[k] as number) <= (maxI[k] as number)) ys.push(minV[k] as number, maxV[k] as number, last);
        else ys.push(maxV[k] as number, minV[k] as number, last);
      }
    } else {
      outX.push(x[start] as number, x[end - 1] as number);
      for (let k = 0; k < m; k++) {
        const ys = outY[k] as (number | null)[];
        const edge = (series[k] as RangeSeries).edge;
        if (edge !== undefined) {
          const e = edgeOf(edge, k);
          ys.push(e, e);
        } else if (minI[k] === -1 && maxI[k] === -1) ys.push(null, null);
        else if (minI[k] === -1) ys.push(maxV[k] as number, maxV[k] as number);
        else if (maxI[k] === -1) ys.push(minV[k] as number, minV[k] as number);
        else if ((minI[k] as number) <= (maxI[k] as number)) ys.push(minV[k] as number, maxV[k] as number);
        else ys.push(maxV[k] as number, minV[k] as number);
      }
    }
    start = end;
  }
  return { x: outX, y: outY };
}

/** A series' value at point i: a band edge's own bound, else the middle of the point's range. */
function pointOf(s: RangeSeries, i: number): number | null {
  if (s.edge === 'lower') return s.lo[i] ?? null;
  if (s.edge === 'upper') return s.hi[i] ?? null;
  return mid(s.lo[i] ?? null, s.hi[i] ?? null);
}

function mid(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return a === b ? a : (a + b) / 2;
}

/** One raw series (x, y) downsampled to ≤ 2×buckets points that keep every bucket's extremes. */
export function minMaxDownsample(x: ArrayLike<number>, y: ArrayLike<number | null>, buckets: number): { x: number[]; y: (number | null)[] } {
  const d = downsampleMinMax(x, [{ lo: y, hi: y }], buckets);
  return { x: d.x, y: d.y[0] as (number | null)[] };
}

/** The lowest and highest finite values of a series, or undefined when it has none (for the y axis). */
export function extent(values: ArrayLike<number | null>): [number, number] | undefined {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined || !Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo <= hi ? [lo, hi] : undefined;
}
