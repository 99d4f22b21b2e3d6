/**
 * Series without a value in a real headless Chromium (Debian's `chromium`): a series the run never
 * defines (cache hit rate on a slice without cache figures) or that the source cannot give (coverage
 * without the trace's slice) says so in the series list and under its chart, with the host's
 * reason, instead of drawing nothing as a gap would; and a live tail whose points hold only nulls
 * for a series does not make it look drawn. Skips, saying so, where no chromium is installed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HARNESS_HEAD, chromiumSkip, runHarness } from './chromium';

const skip = chromiumSkip;

const HARNESS = `${HARNESS_HEAD}
<script>
  const posted = [];
  const result = { posted };
  const flush = () => (document.getElementById('result').textContent = JSON.stringify(result));
  // Cache hit rate shown by the user (it starts hidden).
  window.acquireVsCodeApi = () => ({ postMessage: (m) => { posted.push(m); flush(); }, getState: () => ({ mode: 'cumulative', shown: ['cache_hit_rate'] }), setState: () => {} });
  const send = (m) => window.dispatchEvent(new MessageEvent('message', { data: m }));
  function lane() {
    const x = [], v = [];
    for (let i = 1; i <= 20; i++) { x.push(i); v.push(0.5); }
    const s = { v, lo: v, hi: v };
    return { id: 'replay', label: 'replay', dashed: false, x, bucketSize: 1, faultMask: new Array(20).fill(0),
      series: { hit_rate: s, fallback_rate: s, diversity: s },
      absent: {
        cache_hit_rate: { kind: 'undefined', why: 'no replayed event recorded cache hits and misses (system.cache)' },
        coverage: { kind: 'unavailable', why: 'no run.json beside the trace: cache hit rate, queue depth, coverage and Gini need the slice it names' },
        gini_exposure: { kind: 'unavailable', why: 'no run.json beside the trace: cache hit rate, queue depth, coverage and Gini need the slice it names' },
        queue_depth: { kind: 'undefined', why: 'no replayed event recorded a queue depth (system.queueDepth)' },
      } };
  }
  const text = (id) => document.querySelector('[data-testid=' + id + ']')?.textContent ?? null;
  const within = (chart, id) => document.querySelector('[data-testid=' + chart + '] [data-testid=' + id + ']')?.textContent ?? null;
</script>
<script src="timeline.js"></script>
<script>
  send({ type: 'init', title: 'Timeline: s', source: 'session', view: 'session:1', eventCount: 100, live: true, faultKinds: [], mode: 'cumulative', restore: null });
  send({ type: 'data', mode: 'cumulative', lanes: [lane()], eventCount: 100 });
  result.list = { cache: text('why-cache_hit_rate'), coverage: text('why-coverage'), queue: text('why-queue_depth'), hit: text('why-hit_rate') };
  result.notes = { cache: within('chart-system', 'absent-cache_hit_rate'), coverage: within('chart-diversity', 'absent-coverage'), queue: text('absent-queue_depth') };
  result.cacheTitle = document.querySelector('[data-testid=toggle-cache_hit_rate]').closest('label').title;
  // The replay runs on: its points name queue depth with no value.
  send({ type: 'tail', lane: 'replay', mode: 'cumulative', points: [{ event: 21, values: { hit_rate: 0.5, queue_depth: null } }] });
  document.querySelector('[data-testid=toggle-mrr]').click();
  result.afterTail = { queue: text('why-queue_depth'), queueGreyed: document.querySelector('[data-testid=toggle-queue_depth]').closest('label').classList.contains('empty') };
  flush();
</script>
</body></html>`;

interface Result {
  posted: { type: string; message?: string }[];
  list?: Record<string, string | null>;
  notes?: Record<string, string | null>;
  cacheTitle?: string;
  afterTail?: { queue: string | null; queueGreyed: boolean };
}

test('a series with no value says why, in the series list and under its chart, and a tail of nulls does not make it look drawn', { skip, timeout: 120_000 }, () => {
  const res = runHarness<Result>(HARNESS, 'recreplay-webview-absent-');
  assert.ok(!res.posted.some((m) => m.type === 'error'), JSON.stringify(res.posted.filter((m) => m.type === 'error')));
  assert.deepEqual(res.list, { cache: 'no values in this run', coverage: 'not available', queue: 'no values in this run', hit: null });
  assert.equal(res.notes?.cache, 'Cache hit rate: no values in this run — no replayed event recorded cache hits and misses (system.cache)', 'a shown series says why under its chart');
  assert.match(res.notes?.coverage ?? '', /^Coverage@k: not available — no run\.json beside the trace/);
  assert.equal(res.notes?.queue, null, 'a hidden series is not noted under a chart');
  assert.match(res.cacheTitle ?? '', /no values in this run: no replayed event recorded cache hits/);
  assert.deepEqual(res.afterTail, { queue: 'no values in this run', queueGreyed: true });
});
