/**
 * Zooming the timeline in a real headless Chromium (Debian's `chromium`): a zoomed chart is
 * downsampled over the visible x range, not the whole run, so it draws every bucket the host sent
 * there (up to two points per pixel column) — when the zoom is restored with the webview state
 * and when the user drags to zoom. The drawn points are counted through the cursor readout: a
 * sweep of the mouse over every pixel column lists the events of the points the chart holds.
 * Skips, saying so, where no chromium is installed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HARNESS_HEAD, chromiumSkip, runHarness } from './chromium';

const skip = chromiumSkip;

/** A million-event trace as the host sends it: 4000 buckets of 250 events. */
const BUCKETS = 4000;
const STEP = 250;
const hostX = (from: number, to: number) => Array.from({ length: BUCKETS }, (_, i) => (i + 1) * STEP).filter((x) => x >= from && x <= to);

const HARNESS = `${HARNESS_HEAD}
<script>
  const posted = [];
  const result = { posted };
  const flush = () => (document.getElementById('result').textContent = JSON.stringify(result));
  // A panel shown again: its zoom comes back with the webview state.
  window.acquireVsCodeApi = () => ({ postMessage: (m) => { posted.push(m); flush(); }, getState: () => ({ mode: 'cumulative', zoom: [500000, 510000] }), setState: (s) => { result.state = s; flush(); } });
  function lane() {
    const x = [], v = [], lat = [];
    for (let i = 0; i < ${BUCKETS}; i++) { x.push((i + 1) * ${STEP}); v.push(0.5 + 0.3 * Math.sin(i / 3)); lat.push(40 + (i % 97)); }
    return { id: 'run', label: 'run', dashed: false, x, bucketSize: ${STEP}, faultMask: new Array(${BUCKETS}).fill(0), series: { hit_rate: { v, lo: v, hi: v }, 'latency.total': { v: lat, lo: lat, hi: lat } } };
  }
  const send = (m) => window.dispatchEvent(new MessageEvent('message', { data: m }));
  /** The events of the points a chart holds in view: the cursor readout at every pixel column. */
  function sweep(group) {
    const over = document.querySelector('[data-testid=plot-' + group + ']');
    const readout = document.querySelector('[data-testid=readout-' + group + ']');
    const r = over.getBoundingClientRect();
    const seen = new Set();
    for (let px = 0; px < r.width; px++) {
      over.dispatchEvent(new MouseEvent('mousemove', { bubbles: true, clientX: r.left + px + 0.5, clientY: r.top + r.height / 2, movementX: 1 }));
      const m = /event ≈ ([\\d,]+)/.exec(readout.textContent);
      if (m) seen.add(Number(m[1].replace(/,/g, '')));
    }
    return { width: Math.round(r.width), events: [...seen].sort((a, b) => a - b) };
  }
</script>
<script src="timeline.js"></script>
<script>
  send({ type: 'init', title: 'Timeline: zoom', source: 'trace', view: 'trace:zoom', eventCount: 1000000, live: false, faultKinds: [], mode: 'cumulative', restore: null });
  send({ type: 'data', mode: 'cumulative', lanes: [lane()], eventCount: 1000000 });
</script>
<script>
  result.restored = sweep('relevance');
  document.querySelector('[data-testid=reset-zoom]').click();
</script>
<script>
  result.full = sweep('relevance');
  // Drag across a hundredth of the chart: uPlot zooms this chart, the timeline syncs the others.
  const over = document.querySelector('[data-testid=plot-relevance]');
  const r = over.getBoundingClientRect();
  const at = (f, extra) => ({ bubbles: true, cancelable: true, clientX: r.left + r.width * f, clientY: r.top + r.height / 2, button: 0, ...extra });
  over.dispatchEvent(new MouseEvent('mousemove', at(0.5, { movementX: 1 })));
  over.dispatchEvent(new MouseEvent('mousedown', at(0.5)));
  over.dispatchEvent(new MouseEvent('mousemove', at(0.51, { movementX: 5 })));
  over.dispatchEvent(new MouseEvent('mouseup', at(0.51)));
</script>
<script>
  result.zoom = result.state && result.state.zoom;
  result.dragged = sweep('relevance');
  result.synced = sweep('latency');
  flush();
</script>
</body></html>`;

interface Sweep {
  width: number;
  events: number[];
}
interface Result {
  posted: { type: string; message?: string }[];
  restored?: Sweep;
  full?: Sweep;
  dragged?: Sweep;
  synced?: Sweep;
  zoom?: [number, number] | null;
}

test('a zoomed timeline draws every bucket the host sent in the visible range (two points per pixel column at any zoom)', { skip, timeout: 120_000 }, () => {
  const res = runHarness<Result>(HARNESS, 'recreplay-webview-zoom-');
  assert.ok(!res.posted.some((m) => m.type === 'error'), JSON.stringify(res.posted.filter((m) => m.type === 'error')));
  const { restored, full, dragged, synced, zoom } = res;
  assert.ok(restored && full && dragged && synced, `the harness got to the end: ${JSON.stringify(res).slice(0, 500)}`);
  const inView = (s: Sweep, from: number, to: number) => s.events.filter((e) => e >= from && e <= to);
  console.log(`# widths ${full.width} px; whole run: ${full.events.length} points; zoom ${JSON.stringify(zoom)}: ${synced.events.length} points in the synced chart`);

  // Restored zoom 500,000–510,000: the host sent 41 buckets there; all of them are drawn.
  assert.deepEqual(inView(restored, 500_000, 510_000), hostX(500_000, 510_000), `restored zoom: ${inView(restored, 500_000, 510_000).length} of ${hostX(500_000, 510_000).length} buckets drawn`);

  // The whole run: downsampled to the chart width, never more than two points per pixel column.
  assert.ok(full.events.length > full.width / 2, `the whole run shows detail: ${full.events.length} points over ${full.width} px`);
  assert.ok(full.events.length <= 2 * full.width);

  // A drag zoom: saved, and every chart (the dragged one and the synced ones) redrawn with all the host's buckets in view.
  assert.ok(zoom, 'the drag zoomed');
  const [from, to] = zoom;
  assert.ok(to - from < 50_000 && to - from > 2_000, `zoomed to ${from}–${to}`);
  const expected = hostX(from, to);
  assert.ok(expected.length <= dragged.width, 'the window holds fewer buckets than pixel columns');
  assert.deepEqual(inView(dragged, from, to), expected, `dragged chart: ${inView(dragged, from, to).length} of ${expected.length} buckets drawn`);
  assert.deepEqual(inView(synced, from, to), expected, `synced chart: ${inView(synced, from, to).length} of ${expected.length} buckets drawn`);
});
