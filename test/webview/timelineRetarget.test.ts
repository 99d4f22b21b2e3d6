/**
 * The session timeline panel is reused for the next debug session. In a real headless Chromium
 * (Debian's `chromium`): the zoom saved with the webview state stays when the panel is shown again
 * on the same session, and goes when the panel is given another session — whose events the last
 * one's zoom need not cover (its charts were left empty until Reset zoom). Skips, saying so, where
 * no chromium is installed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HARNESS_HEAD, chromiumSkip, runHarness } from './chromium';

const skip = chromiumSkip;

const HARNESS = `${HARNESS_HEAD}
<script>
  const posted = [];
  const result = { posted, states: [] };
  const flush = () => (document.getElementById('result').textContent = JSON.stringify(result));
  // The panel was zoomed on events 500,000–510,000 of session A when it was hidden.
  window.acquireVsCodeApi = () => ({ postMessage: (m) => { posted.push(m); flush(); }, getState: () => ({ mode: 'cumulative', zoom: [500000, 510000], view: 'session:A' }), setState: (s) => { result.state = s; flush(); } });
  const send = (m) => window.dispatchEvent(new MessageEvent('message', { data: m }));
  const init = (view, events) => send({ type: 'init', title: 'Timeline: ' + view, source: 'session', view, eventCount: events, live: true, faultKinds: [], mode: 'cumulative', restore: null });
  function data(events) {
    const x = [], v = [];
    for (let e = 100; e <= events; e += 100) { x.push(e); v.push(0.5); }
    send({ type: 'data', mode: 'cumulative', lanes: [{ id: 'replay', label: 'replay', dashed: false, x, bucketSize: 100, faultMask: x.map(() => 0), series: { hit_rate: { v, lo: v, hi: v } } }], eventCount: events });
  }
  const snap = (label) => result.states.push({ label, zoom: result.state ? result.state.zoom : undefined, view: result.state ? result.state.view : undefined });
</script>
<script src="timeline.js"></script>
<script>
  init('session:A', 1000000); data(1000000); snap('shown again on session A');
  // The next debug session: 2,000 events, all before the zoom's range.
  init('session:B', 2000); data(2000); snap('given session B');
  flush();
</script>
</body></html>`;

test('the session timeline keeps its zoom when shown again on the same session, and drops it when given the next session', { skip, timeout: 120_000 }, () => {
  const res = runHarness<{ posted: { type: string }[]; states: { label: string; zoom: unknown; view: unknown }[] }>(HARNESS, 'recreplay-webview-retarget-');
  assert.ok(!res.posted.some((m) => m.type === 'error'), JSON.stringify(res.posted.filter((m) => m.type === 'error')));
  assert.deepEqual(res.states, [
    { label: 'shown again on session A', zoom: [500000, 510000], view: 'session:A' },
    { label: 'given session B', zoom: null, view: 'session:B' },
  ]);
});
