import { test } from 'node:test';
import assert from 'node:assert/strict';
import { downsampleMinMax, extent, minMaxDownsample } from '../../src/shared/downsample';
import { StreamBuckets } from '../../src/extension/timeline/buckets';
import { chartSeries, fitWindow } from '../../media/timelineData';

test('1,000,000 points become about 2×width points and keep the extremes', () => {
  const n = 1_000_000;
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = i + 1;
    y[i] = Math.sin(i / 5000) + ((i * 7919) % 101) / 1000;
  }
  // Single spikes anywhere must survive.
  y[123_457] = 50;
  y[876_543] = -40;
  const width = 800;
  const d = minMaxDownsample(x, y, width);
  // Two per bucket, and the last bucket's last value.
  assert.ok(d.x.length <= 2 * width + 1 && d.x.length >= 2 * width - 2, `got ${d.x.length} points`);
  assert.ok(d.y.includes(50) && d.y.includes(-40), 'spike and dip survive');
  assert.deepEqual(extent(d.y), [-40, 50]);
  for (let i = 1; i < d.x.length; i++) assert.ok((d.x[i] as number) >= (d.x[i - 1] as number), 'x stays ascending');
  // Every bucket's true min and max are among the output.
  const bucketW = (n - 1) / width;
  for (const b of [0, 137, 512, width - 1]) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < n; i++) {
      const bi = Math.min(width - 1, Math.floor(((x[i] as number) - 1) / bucketW));
      if (bi !== b) continue;
      lo = Math.min(lo, y[i] as number);
      hi = Math.max(hi, y[i] as number);
    }
    assert.ok(d.y.includes(lo) && d.y.includes(hi), `bucket ${b} keeps ${lo}..${hi}`);
  }
  assert.equal(d.y.at(-1), y[n - 1], 'the line ends at the last value');
  assert.equal(d.x.at(-1), n);
});

test('extremes keep their order within a bucket, and gaps stay gaps', () => {
  const x = [1, 2, 3, 4, 5, 6, 7, 8];
  const y = [5, 9, 1, 3, null, null, null, null];
  const d = downsampleMinMax(x, [{ lo: y, hi: y }], 2);
  assert.deepEqual(d.x, [1, 4, 5, 7, 8]);
  // Bucket 1: max 9 (at 2) comes before min 1 (at 3); the last bucket is a gap, to its last point.
  assert.deepEqual(d.y[0], [9, 1, null, null, null]);
});

test('a running metric drawn at any width ends at its final value, not at the last bucket\'s extreme', () => {
  // A cumulative series that rises, then settles lower in the last events (queue depth 5 → 3).
  const n = 650;
  const x = Array.from({ length: n }, (_, i) => i + 1);
  const y = x.map((i) => (i < 640 ? 1 + i / 640 : i < 645 ? 5 : 3));
  for (const width of [200, 300, 324]) {
    const d = downsampleMinMax(x, [{ lo: y, hi: y }], width);
    assert.equal(d.x.at(-1), n, `width ${width}`);
    assert.equal(d.y[0]?.at(-1), 3, `width ${width}: the line ends at the final value`);
    assert.ok(d.y[0]?.includes(5), `width ${width}: the last bucket's peak is kept`);
  }
});

test('short input is returned as it is; lo/hi ranges collapse to their middle', () => {
  const d = downsampleMinMax([1, 2, 3], [{ lo: [0, 1, null], hi: [2, 1, 4] }], 10);
  assert.deepEqual(d.x, [1, 2, 3]);
  assert.deepEqual(d.y[0], [1, 1, 4]);
});

test('aligned series are downsampled on one shared x', () => {
  const n = 10_000;
  const x = Array.from({ length: n }, (_, i) => i + 1);
  const a = x.map((v) => v % 100);
  const b = x.map((v) => -v);
  const d = downsampleMinMax(x, [{ lo: a, hi: a }, { lo: b, hi: b }], 50);
  assert.equal(d.y[0]?.length, d.x.length);
  assert.equal(d.y[1]?.length, d.x.length);
  assert.deepEqual(extent(d.y[0] as number[]), [0, 99]);
  assert.deepEqual(extent(d.y[1] as number[]), [-n, -1]);
});

test('streaming buckets: fixed memory, the bucket size doubles, sums and extremes are kept', () => {
  const sb = new StreamBuckets(['a'], 8);
  let sum = 0;
  for (let e = 1; e <= 1000; e++) {
    sb.add(e, [e], [e * 2], e === 777 ? 4 : 0);
    sum += e;
  }
  assert.equal(sb.bucketSize, 128);
  const lane = sb.toLane('event', { id: 'l', label: 'l', dashed: false });
  assert.ok(lane.x.length <= 8);
  assert.equal(lane.x.at(-1), 1000);
  const s = lane.series['a'];
  assert.ok(s);
  assert.equal(s.lo[0], 1);
  assert.equal(s.hi.at(-1), 1000);
  // Weighted means over the buckets give the overall mean back.
  const counts = lane.x.map((x, i) => x - (i ? (lane.x[i - 1] as number) : 0));
  const total = (s.v as number[]).reduce((acc, v, i) => acc + v * (counts[i] as number), 0);
  assert.equal(total, sum);
  const bucketOf777 = lane.x.findIndex((x) => x >= 777);
  assert.equal(lane.faultMask[bucketOf777], 4);
  assert.equal(lane.faultMask.filter((m) => m !== 0).length, 1);
  const cum = sb.toLane('cumulative', { id: 'l', label: 'l', dashed: false }).series['a'];
  assert.equal(cum?.v.at(-1), 2000, 'running value is the last one of the bucket');
});

test('streaming buckets refuse events out of order', () => {
  const sb = new StreamBuckets(['a'], 4);
  sb.add(3, [1], [1]);
  assert.throws(() => sb.add(3, [1], [1]), /in order/);
});

test('a gap (null / NaN) is not a zero', () => {
  const sb = new StreamBuckets(['a', 'b'], 4, 2);
  sb.add(1, [null, 1], [null, 1]);
  sb.add(2, [Number.NaN, 3], [null, 2]);
  sb.add(3, [4, 5], [4, 3]);
  const lane = sb.toLane('event', { id: 'l', label: 'l', dashed: false });
  assert.deepEqual(lane.series['a']?.v, [null, 4]);
  assert.deepEqual(lane.series['b']?.v, [2, 5]);
});

test('a band\'s edges never cross: each slot holds the whole bucket\'s range, at any zoom', () => {
  // Per-event buckets as the host sends them: a mean with its min and max, which wander
  // independently (a bucket's max can come first while its min comes last).
  const n = 20_000;
  const x = Array.from({ length: n }, (_, i) => i + 1);
  let seed = 7;
  const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  const lo: number[] = [];
  const hi: number[] = [];
  const v: number[] = [];
  for (let i = 0; i < n; i++) {
    const a = rnd() * 10;
    const b = rnd() * 10;
    lo.push(a);
    hi.push(a + b);
    v.push(a + b / 2);
  }
  const series = chartSeries([{ v, lo, hi }], true);
  for (const [from, to] of [[1, n], [5_000, 9_000], [10_000, 10_600]] as const) {
    const d = fitWindow(x, series, from, to, 300);
    const [line, lower, upper] = d.y as (number | null)[][];
    assert.ok(line && lower && upper);
    const crossed = d.x.filter((_x, i) => (lower[i] as number) > (upper[i] as number)).length;
    assert.equal(crossed, 0, `window ${from}–${to}: the edges cross at ${crossed} of ${d.x.length} points`);
    for (let i = 0; i < d.x.length; i++) assert.ok((lower[i] as number) <= (line[i] as number) && (line[i] as number) <= (upper[i] as number), `window ${from}–${to}: the line leaves its band at x=${d.x[i]}`);
    // Every bucket's slots cover its whole range (the window and, coarsely, the rest of the run).
    assert.equal(Math.min(...(lower as number[])), Math.min(...lo));
    assert.equal(Math.max(...(upper as number[])), Math.max(...hi));
  }
  // Short input (no downsampling) keeps each point's own bounds.
  const short = downsampleMinMax([1, 2], [{ lo: [1, 2], hi: [3, 4], edge: 'lower' }, { lo: [1, 2], hi: [3, 4], edge: 'upper' }], 10);
  assert.deepEqual(short.y, [[1, 2], [3, 4]]);
});
