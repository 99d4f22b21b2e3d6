/**
 * A live session's data sent as deltas (src/shared/laneDelta.ts), in a real headless Chromium: the
 * webview splices a `dataFrom` onto the data it builds on and draws the whole lane; one that builds
 * on a message it never got (posted while it showed the other mode) is not drawn, and the webview
 * asks for the whole data once (`resync`). Read through the CSV export, which lists the chart's rows.
 * Skips, saying so, where no chromium is installed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HARNESS_HEAD, chromiumSkip, runHarness } from './chromium';

const HARNESS = `${HARNESS_HEAD}
<script>
  const posted = [];
  const result = { posted, csv: {} };
  const flush = () => (document.getElementById('result').textContent = JSON.stringify(result));
  window.acquireVsCodeApi = () => ({ postMessage: (m) => { posted.push(m); flush(); }, getState: () => ({ mode: 'event' }), setState: () => {} });
  const send = (m) => window.dispatchEvent(new MessageEvent('message', { data: m }));
  const csv = () => {
    document.querySelector('[data-testid=export-csv]').click();
    const m = posted.filter((p) => p.type === 'export' && p.format === 'csv').at(-1);
    return m.text.trimEnd().split('\\n').slice(1).map((r) => r.split(',').slice(0, 2).join(':'));
  };
  // Buckets of 10 events up to \`to\`, hit rate i/10 in bucket i, from bucket \`from\` on.
  function lane(to, from = 0) {
    const x = [], v = [];
    for (let i = from + 1; i * 10 <= to; i++) { x.push(i * 10); v.push(i / 10); }
    return { id: 'replay', label: 'replay', dashed: false, x, bucketSize: 10, faultMask: x.map(() => 0), series: { hit_rate: { v, lo: v, hi: v } }, ...(from ? { from } : {}) };
  }
</script>
<script src="timeline.js"></script>
<script>
  send({ type: 'init', title: 'Timeline: s', source: 'session', view: 'session:1', eventCount: 100, live: true, faultKinds: [], mode: 'event', restore: null });
  send({ type: 'data', mode: 'event', lanes: [lane(50)], eventCount: 100, seq: 1 });
  // The next stop: buckets 6 and 7 come as what changed, the last bucket (5) with them.
  send({ type: 'dataFrom', mode: 'event', lanes: [lane(70, 4)], eventCount: 100, seq: 2, base: 1 });
  result.csv.spliced = csv();
  // One built on message 3, which never came: not drawn, and the whole data is asked for (once).
  send({ type: 'dataFrom', mode: 'event', lanes: [lane(90, 6)], eventCount: 100, seq: 4, base: 3 });
  send({ type: 'dataFrom', mode: 'event', lanes: [lane(100, 9)], eventCount: 100, seq: 5, base: 4 });
  result.csv.missed = csv();
  result.resyncs = posted.filter((p) => p.type === 'resync').length;
  send({ type: 'data', mode: 'event', lanes: [lane(100)], eventCount: 100, seq: 6 });
  send({ type: 'dataFrom', mode: 'event', lanes: [lane(100, 9)], eventCount: 100, seq: 7, base: 6 });
  result.csv.resynced = csv();
  flush();
</script>
</body></html>`;

interface Result {
  posted: { type: string }[];
  csv: { spliced?: string[]; missed?: string[]; resynced?: string[] };
  resyncs?: number;
}

const rows = (to: number) => Array.from({ length: to / 10 }, (_, i) => `${(i + 1) * 10}:${(i + 1) / 10}`);

test('the webview splices a live session\'s delta onto the data it builds on, and asks once for the whole data when it missed that one', { skip: chromiumSkip, timeout: 120_000 }, () => {
  const res = runHarness<Result>(HARNESS, 'recreplay-webview-delta-');
  assert.ok(!res.posted.some((m) => m.type === 'error'), JSON.stringify(res.posted.filter((m) => m.type === 'error')));
  assert.deepEqual(res.csv.spliced, rows(70), 'buckets 1-4 held, 5-7 from the delta');
  assert.deepEqual(res.csv.missed, rows(70), 'a delta on a message the webview never got is not drawn');
  assert.equal(res.resyncs, 1);
  assert.deepEqual(res.csv.resynced, rows(100));
});
