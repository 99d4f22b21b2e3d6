import './setup';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import type { HostMessage } from '../../src/shared/webview';
import { RankingTreeProvider } from '../../src/extension/views/rankingTree';
import { SessionTimelineSource } from '../../src/extension/timeline/sessionSource';
import { FakeLog } from './vscodeFake';
import { InlineDap, track } from './inlineDap';
import { dataStates, isData } from './timelineFold';

const ROOT = resolve(__dirname, '../..');
const CONFIG = { type: 'recreplay', request: 'launch', name: 'cold start', slice: join(ROOT, 'examples/slices/cold-start.slice'), ranker: 'linear:examples/rankers/cold-start-linear.json', stopOnEntry: true, cwd: ROOT };

async function start(dap: InlineDap): Promise<void> {
  await dap.request('initialize', { adapterID: 'recreplay', linesStartAt1: true, columnsStartAt1: true, supportsProgressReporting: false });
  const initialized = dap.next('initialized');
  await dap.request('launch', CONFIG);
  await initialized;
  await dap.request('setBreakpoints', { source: { path: join(CONFIG.slice, 'events.jsonl') }, breakpoints: [{ line: 60 }] });
  const stopped = dap.next('stopped');
  await dap.request('configurationDone');
  await stopped;
}

test('the Ranking view reads the current event from the adapter: replayed order, recorded ranks, served and clicked', async () => {
  const dap = new InlineDap(ROOT);
  const { rs, sessions } = track(dap, CONFIG);
  const ranking = new RankingTreeProvider(sessions, new FakeLog() as never);
  try {
    await start(dap);
    const stopped = dap.next('stopped');
    await dap.request('next', { threadId: 1 });
    await stopped;
    assert.equal(rs.position?.event, 1);
    assert.equal(rs.position?.stagesDone, 6);
    await ranking.load(rs);
    const c = ranking.candidates;
    assert.ok(c.length >= 10, `candidates: ${c.length}`);
    assert.deepEqual(c.map((x) => x.rank), c.map((_x, i) => i + 1), 'replayed order');
    for (const x of c) {
      assert.equal(x.delta, (x.recordedRank as number) - (x.rank as number));
      assert.ok(x.featuresRef > 0);
    }
    const scores = c.map((x) => x.score as number);
    assert.deepEqual([...scores].sort((a, b) => b - a), scores, 'scores descend (no category rule in this slice)');
    const served = c.filter((x) => typeof x.served === 'number').map((x) => x.served);
    assert.deepEqual([...served].sort((a, b) => (a as number) - (b as number)), Array.from({ length: served.length }, (_, i) => i + 1));
    assert.ok(c.every((x) => typeof x.clicked === 'boolean'));
    const [first] = await ranking.getChildren();
    const features = await ranking.getChildren(first);
    assert.ok(features.some((f) => f.kind === 'feature' && f.name === 'pop_30d'), 'expanding a candidate shows its features');
  } finally {
    ranking.dispose();
    await dap.dispose();
  }
});

test('the Ranking view at the entry stop (event 1, before any stage) lists each candidate by item, with distinct tree ids', async () => {
  const dap = new InlineDap(ROOT);
  const { rs, sessions } = track(dap, CONFIG);
  const ranking = new RankingTreeProvider(sessions, new FakeLog() as never);
  try {
    await start(dap);
    assert.equal(rs.position?.event, 1);
    assert.equal(rs.position?.stagesDone, 0, 'stopped on entry, before the retrieve stage');
    await ranking.load(rs);
    const c = ranking.candidates;
    assert.ok(c.length >= 10, `candidates: ${c.length}`);
    // The adapter's rows at this stop: `rec #N` = `ITEM (not retrieved yet)`, without children.
    const stack = await dap.request<{ stackFrames: { id: number }[] }>('stackTrace', { threadId: 1, startFrame: 0, levels: 1 });
    const scopes = await dap.request<{ scopes: { name: string; variablesReference: number }[] }>('scopes', { frameId: stack.stackFrames[0]?.id });
    const rows = await dap.request<{ variables: { name: string; value: string; variablesReference: number }[] }>('variables', { variablesReference: scopes.scopes.find((x) => x.name === 'Ranking')?.variablesReference, start: 0, count: c.length });
    assert.deepEqual(c.map((x) => x.item), rows.variables.map((v) => v.value.replace(/ \(not retrieved yet\)$/, '')), 'each candidate shows its item');
    assert.ok(c.every((x) => x.item !== '?'));
    assert.equal(new Set(c.map((x) => x.item)).size, c.length);
    assert.deepEqual(c.map((x) => (x.recordedRank === null ? '?' : String(x.recordedRank))), rows.variables.map((v) => v.name.replace(/^rec #/, '')), 'the recorded rank from the row name');
    const items = (await ranking.getChildren()).filter((n) => n.kind === 'candidate').map((n) => ranking.getTreeItem(n));
    assert.equal(items.length, c.length);
    const ids = items.map((it) => it.id);
    assert.ok(ids.every((id) => typeof id === 'string'));
    assert.equal(new Set(ids).size, ids.length, `tree ids must be unique (VS Code refuses duplicates): ${ids.slice(0, 3).join(', ')}`);
    assert.equal(items[0]?.label, `#1  ${c[0]?.item}`);
    // After the retrieve stage the rows have children: still one distinct id per candidate.
    const stopped = dap.next('stopped');
    await dap.request('stepIn', { threadId: 1 });
    await stopped;
    await ranking.load(rs);
    const after = (await ranking.getChildren()).filter((n) => n.kind === 'candidate').map((n) => ranking.getTreeItem(n));
    assert.ok(after.length >= 10);
    assert.equal(new Set(after.map((it) => it.id)).size, after.length);
    assert.ok(ranking.candidates.every((x) => x.item !== '?' && x.featuresRef > 0));
  } finally {
    ranking.dispose();
    await dap.dispose();
  }
});

test('the timeline of a session: series from recreplay/metricSeries, cursor from recreplay/position, goto and breakpoint markers', async () => {
  const dap = new InlineDap(ROOT);
  const { rs, sessions } = track(dap, CONFIG);
  const source = new SessionTimelineSource(rs, sessions, 4000, 'cumulative');
  const posted: HostMessage[] = [];
  try {
    await start(dap);
    // Continue to the breakpoint on event 60.
    let stopped = dap.next('stopped');
    await dap.request('continue', { threadId: 1 });
    const stop = await stopped;
    assert.equal(stop.body.reason, 'breakpoint');
    assert.equal(rs.markers.length, 1);
    assert.equal(rs.markers[0]?.event, 60);
    assert.equal(rs.markers[0]?.kind, 'breakpoint');
    await source.replay((m) => posted.push(m));
    const data = dataStates(posted)[0];
    assert.ok(data, 'data posted');
    const lane = data.lanes[0];
    assert.ok(lane);
    assert.equal(lane.id, 'replay');
    assert.equal(lane.x.at(-1), 60);
    assert.equal(lane.x.length, 60, 'one bucket per event below the capacity');
    // The running hit rate at event 60 is the accumulator's own value, which the metrics event carried.
    const snap = [...(rs.snapshots.get('replay')?.values() ?? [])].at(-1) ?? {};
    const hitKey = Object.keys(snap).find((k) => k.startsWith('hit_rate@')) as string;
    assert.ok(Math.abs((lane.series['hit_rate']?.v.at(-1) as number) - (snap[hitKey] as number)) < 1e-6);
    assert.ok(lane.series['coverage'], 'coverage is sampled from the cumulative snapshots');
    assert.deepEqual(posted.find((m) => m.type === 'position'), { type: 'position', event: 60, state: 'stopped', eventCount: 650 });
    // Clicking the chart at event 25 moves the debugger there.
    stopped = dap.next('stopped');
    await source.handle({ type: 'goto', event: 25 }, (m) => posted.push(m));
    await stopped;
    assert.equal(rs.position?.event, 25);
    assert.ok(posted.some((m) => m.type === 'position' && m.event === 25), 'the cursor follows');
    // Going back does not refetch (nothing new was replayed); a per-event refresh gives ranges.
    const before = posted.filter(isData).length;
    await source.handle({ type: 'setMode', mode: 'event' }, (m) => posted.push(m));
    const ev = dataStates(posted);
    assert.equal(ev.length, before + 1);
    const hit = ev.at(-1)?.lanes[0]?.series['hit_rate'];
    assert.ok(hit && hit.v.every((v, i) => v === null || ((hit.lo[i] as number) <= v && v <= (hit.hi[i] as number))));
    assert.equal(ev.at(-1)?.lanes[0]?.series['coverage'], undefined, 'coverage is cumulative only');
  } finally {
    source.dispose();
    await dap.dispose();
  }
});

test('a ranking still loading when its session ends leaves the Ranking view empty (its welcome), not a stale ranking or an error', async () => {
  const dap = new InlineDap(ROOT);
  const { rs, sessions, end } = track(dap, CONFIG);
  const ranking = new RankingTreeProvider(sessions, new FakeLog() as never);
  try {
    await start(dap);
    const loading = ranking.load(rs);
    end();
    await loading;
    assert.deepEqual(await ranking.getChildren(), []);
    assert.deepEqual(ranking.candidates, []);
  } finally {
    ranking.dispose();
    await dap.dispose();
  }
});

test('the timeline of a session draws a stop after a step back (a snapshot below the furthest event), not only stops further on', async () => {
  const dap = new InlineDap(ROOT);
  const { rs, sessions } = track(dap, CONFIG);
  const source = new SessionTimelineSource(rs, sessions, 4000, 'cumulative');
  const posted: HostMessage[] = [];
  try {
    await start(dap);
    let stopped = dap.next('stopped');
    await dap.request('continue', { threadId: 1 });
    await stopped;
    await source.replay((m) => posted.push(m));
    // Back to 25: the stop there stores a snapshot; the chart must get it (coverage is sampled from snapshots).
    stopped = dap.next('stopped');
    await source.handle({ type: 'goto', event: 25 }, (m) => posted.push(m));
    await stopped;
    await new Promise((r) => setTimeout(r, 200));
    const last = dataStates(posted).at(-1);
    const lane = last?.lanes[0];
    assert.ok(lane);
    const at = lane.x.indexOf(25);
    assert.ok(at >= 0);
    assert.notEqual(lane.series['coverage']?.v[at] ?? null, null, 'coverage at event 25, from the stop there');
  } finally {
    source.dispose();
    await dap.dispose();
  }
});

test('the timeline of a session fetches only the buckets from the last one it holds at a later stop, and draws what a fresh fetch would', async () => {
  const dap = new InlineDap(ROOT);
  const { rs, sessions } = track(dap, CONFIG);
  // 25 buckets: events 60 to 75 go in buckets of 3 (the first stop fills 20 of them).
  const source = new SessionTimelineSource(rs, sessions, 25, 'cumulative');
  const posted: HostMessage[] = [];
  const asked: { metric: string; known?: { bucketSize: number; buckets: number } }[] = [];
  const fetch = rs.metricSeries.bind(rs);
  rs.metricSeries = (args) => {
    asked.push(args);
    return fetch(args);
  };
  const lastData = () => dataStates(posted).at(-1);
  try {
    await start(dap);
    let stopped = dap.next('stopped');
    await dap.request('continue', { threadId: 1 });
    await stopped;
    await source.replay((m) => posted.push(m));
    assert.ok(asked.length > 0 && asked.every((a) => a.known === undefined), 'the first fetch holds nothing');
    assert.equal(lastData()?.lanes[0]?.bucketSize, 3);
    // Events 61, 62, 63: a bucket of 3 fills, then a new one starts.
    for (const event of [61, 62, 63]) {
      asked.length = 0;
      const refreshed = new Promise<void>((resolve) => {
        const n = posted.length;
        const timer = setInterval(() => posted.slice(n).some(isData) && (clearInterval(timer), resolve()), 5);
      });
      stopped = dap.next('stopped');
      await dap.request('next', { threadId: 1 });
      await stopped;
      assert.equal(rs.position?.event, event);
      await refreshed;
      // Let a second fetch of the stop (below) land before drawing a fresh one beside it.
      await new Promise((r) => setTimeout(r, 200));
      // (A stop may be fetched twice: at the stop, and again when its metrics event brings a snapshot.)
      assert.ok(asked.length > 0 && asked.every((a) => a.known?.bucketSize === 3 && a.known.buckets >= 20), `held buckets were offered: ${JSON.stringify(asked)}`);
      const fresh: HostMessage[] = [];
      const other = new SessionTimelineSource(rs, sessions, 25, 'cumulative');
      try {
        await other.replay((m) => fresh.push(m));
      } finally {
        other.dispose();
      }
      const want = dataStates(fresh)[0];
      assert.deepEqual(lastData()?.lanes, want?.lanes, `event ${event}: what was put together from held buckets is what a fresh fetch draws`);
      // And posted to the webview as what changed: the lane from its last bucket or two, not all 20-odd.
      let at = -1;
      posted.forEach((m, i) => m.type === 'position' && m.state === 'stopped' && m.event === event && (at = i));
      const sent = posted.slice(at).filter(isData);
      assert.ok(sent.length > 0 && sent.every((m) => m.type === 'dataFrom'), `event ${event}: ${sent.map((m) => m.type).join(', ')}`);
      for (const m of sent) if (m.type === 'dataFrom') assert.ok(m.lanes.every((l) => l.from >= 19 && l.x.length <= 2), `event ${event}: from ${m.lanes.map((l) => l.from).join(', ')}`);
    }
    // A webview that missed a message (it asks again): the next data is whole, and as a fresh fetch draws it.
    const n = posted.length;
    await source.handle({ type: 'resync' }, (m) => posted.push(m));
    const again = posted.slice(n).filter(isData);
    assert.deepEqual(again.map((m) => m.type), ['data']);
    assert.deepEqual(dataStates(again)[0]?.lanes, lastData()?.lanes);
  } finally {
    source.dispose();
    await dap.dispose();
  }
});
