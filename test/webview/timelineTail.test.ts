/**
 * The live tail of a session timeline in a real headless Chromium (Debian's `chromium`): the points
 * pushed while a replay runs on survive a stop's data that arrives late (the replay was continued
 * while the stop's series were fetched), and a tail of the other mode (posted before the host heard
 * of a mode switch) is not drawn; a tail before any data is exported as drawn. Read through the CSV export, which lists the chart's rows.
 * Skips, saying so, where no chromium is installed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HARNESS_HEAD, chromiumSkip, runHarness } from './chromium';

const skip = chromiumSkip;

const HARNESS = `${HARNESS_HEAD}
<script>
  const posted = [];
  const result = { posted, csv: {}, faults: {} };
  const ticks = () => Number(document.getElementById('app').dataset.faults);
  const flush = () => (document.getElementById('result').textContent = JSON.stringify(result));
  window.acquireVsCodeApi = () => ({ postMessage: (m) => { posted.push(m); flush(); }, getState: () => ({ mode: 'event' }), setState: (s) => { result.state = s; flush(); } });
  // The stop at event 100: buckets of 10 events.
  function lane() {
    const x = [], v = [];
    for (let i = 1; i <= 10; i++) { x.push(i * 10); v.push(0.5); }
    return { id: 'replay', label: 'replay', dashed: false, x, bucketSize: 10, faultMask: new Array(10).fill(0), series: { hit_rate: { v, lo: v, hi: v } } };
  }
  const send = (m) => window.dispatchEvent(new MessageEvent('message', { data: m }));
  const csvRows = () => {
    document.querySelector('[data-testid=export-csv]').click();
    const m = posted.filter((p) => p.type === 'export' && p.format === 'csv').at(-1);
    return m.text.trimEnd().split('\\n').slice(1).map((r) => r.split(','));
  };
  const tail = (mode, from, to, v) => send({ type: 'tail', lane: 'replay', mode, points: Array.from({ length: to - from + 1 }, (_, i) => ({ event: from + i, values: { hit_rate: v } })) });
</script>
<script src="timeline.js"></script>
<script>
  send({ type: 'init', title: 'Timeline: s', source: 'session', view: 'session:1', eventCount: 1000, live: true, faultKinds: [], mode: 'event', restore: null });
  // Opened while the replay runs: points pushed before the first data are drawn, and exported.
  tail('event', 1, 3, 0.25);
  result.csv.early = csvRows();
  send({ type: 'data', mode: 'event', lanes: [lane()], eventCount: 1000 });
  result.faults.data = ticks();
  // Continued at once: events 101..110 pushed, then the stop's data (through 100) arrives.
  tail('event', 101, 110, 1);
  // Faults at 103-104 and 108 come with the tail: two ticks, kept through the late data.
  send({ type: 'tail', lane: 'replay', mode: 'event', points: [], faults: [{ event: 103, mask: 1 }, { event: 104, mask: 2 }, { event: 108, mask: 1 }] });
  result.faults.tail = ticks();
  send({ type: 'data', mode: 'event', lanes: [lane()], eventCount: 1000 });
  result.faults.late = ticks();
  result.csv.late = csvRows();
  // The next stop's data holds those events, with its own ticks: the tail's go.
  const upTo110 = lane();
  upTo110.x.push(110);
  upTo110.series.hit_rate.v.push(1); // v, lo and hi are one array
  upTo110.faultMask.push(3);
  upTo110.faultFrom = [...new Array(10).fill(0), 103];
  upTo110.faultTo = [...new Array(10).fill(0), 108];
  send({ type: 'data', mode: 'event', lanes: [upTo110], eventCount: 1000 });
  result.faults.stop = ticks();
  send({ type: 'data', mode: 'event', lanes: [lane()], eventCount: 1000 });
  // Switched to cumulative: a tail pushed before the host heard of it holds per-event values, not running ones.
  document.querySelector('[data-testid=mode-cumulative]').click();
  tail('event', 111, 112, 0);
  result.csv.otherMode = csvRows();
  send({ type: 'data', mode: 'cumulative', lanes: [lane()], eventCount: 1000 });
  tail('cumulative', 112, 112, 0.75);
  result.csv.cumulative = csvRows();
  flush();
</script>
</body></html>`;

interface Result {
  posted: { type: string; message?: string }[];
  csv: { early?: string[][]; late?: string[][]; otherMode?: string[][]; cumulative?: string[][] };
  faults: { data?: number; tail?: number; late?: number; stop?: number };
}

test('a live tail survives a stop\'s data that comes after it, is exported before the first data, and a tail of the other mode is not drawn', { skip, timeout: 120_000 }, () => {
  const res = runHarness<Result>(HARNESS, 'recreplay-webview-tail-');
  assert.ok(!res.posted.some((m) => m.type === 'error'), JSON.stringify(res.posted.filter((m) => m.type === 'error')));
  const { early, late, otherMode, cumulative } = res.csv;
  assert.deepEqual(early?.map((row) => row.join(',')), ['1,0.25,0.25,0.25', '2,0.25,0.25,0.25', '3,0.25,0.25,0.25'], 'a tail before the first data is in the CSV as in the chart');
  assert.ok(late && otherMode && cumulative, 'the harness got to the end');
  // Ten buckets, then the ten events pushed since, each once.
  assert.deepEqual(late.map((row) => Number(row[0])), [10, 20, 30, 40, 50, 60, 70, 80, 90, 100, ...Array.from({ length: 10 }, (_, i) => 101 + i)], 'the points pushed after the stop are drawn');
  assert.deepEqual(late.slice(10).map((row) => row[1]), new Array(10).fill('1'));
  assert.deepEqual(otherMode, [], 'per-event values pushed before the switch are not drawn as running values');
  assert.deepEqual(res.faults, { data: 0, tail: 2, late: 2, stop: 1 }, 'the tail\'s faulted events are ticks until a stop\'s data holds them');
  assert.deepEqual(cumulative.map((row) => `${row[0]}:${row[1]}`), [10, 20, 30, 40, 50, 60, 70, 80, 90, 100].map((x) => `${x}:0.5`).concat('112:0.75'));
});
