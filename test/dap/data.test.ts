import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { client, COLD, launch, moveAndStop, scopeVars, where } from './helpers';
import { replayEach } from './slices';
import { makeSlice } from '../helpers';

const T = { threadId: 1 };

/** Events n (with n - 1) where the item's replayed rank differs from the event before, both having it. */
async function rankChanges(item: string): Promise<{ n: number; from: number; to: number }[]> {
  const out: { n: number; from: number; to: number }[] = [];
  let prev: { n: number; rank: number } | undefined;
  await replayEach(COLD.slice, COLD.ranker, (ex) => {
    const row = ex.rows.find((r) => r.item === item);
    if (row && prev && prev.n === ex.n - 1 && prev.rank !== row.rank) out.push({ n: ex.n, from: prev.rank, to: row.rank });
    prev = row ? { n: ex.n, rank: row.rank } : undefined;
  });
  return out;
}

test('dataBreakpointInfo offers rank, score, feature and metric targets from the variables the user sees', async () => {
  const dc = await client();
  try {
    await launch(dc, { ...COLD, stopOnEntry: true });
    await moveAndStop(dc, () => dc.nextRequest(T));
    const rows = await scopeVars(dc, 'Ranking');
    const first = rows[0] as DebugProtocol.Variable;
    const item = /^(\S+)/.exec(first.value)?.[1] as string;
    const st = await dc.stackTraceRequest(T);
    const scopes = await dc.scopesRequest({ frameId: st.body.stackFrames[0]?.id as number });
    const ranking = scopes.body.scopes.find((s) => s.name === 'Ranking') as DebugProtocol.Scope;
    const info = await dc.dataBreakpointInfoRequest({ variablesReference: ranking.variablesReference, name: first.name });
    assert.equal(info.body.dataId, `rank:${item}`);
    assert.equal(info.body.description, `rank of ${item}`);
    assert.deepEqual(info.body.accessTypes, ['write']);
    const kids = (await dc.variablesRequest({ variablesReference: first.variablesReference })).body.variables;
    assert.equal((await dc.dataBreakpointInfoRequest({ variablesReference: first.variablesReference, name: 'score' })).body.dataId, `score:${item}`);
    const features = kids.find((k) => k.name === 'features') as DebugProtocol.Variable;
    const f = (await dc.variablesRequest({ variablesReference: features.variablesReference })).body.variables.find((v) => v.name === 'ctr_7d') as DebugProtocol.Variable;
    assert.equal((await dc.dataBreakpointInfoRequest({ variablesReference: features.variablesReference, name: f.name })).body.dataId, `feature:${item}.ctr_7d`);
    const metrics = scopes.body.scopes.find((s) => s.name === 'Metrics') as DebugProtocol.Scope;
    assert.equal((await dc.dataBreakpointInfoRequest({ variablesReference: metrics.variablesReference, name: 'ctr' })).body.dataId, 'metric:ctr');
    assert.equal((await dc.dataBreakpointInfoRequest({ name: 'score("i_054")' })).body.dataId, 'score:i_054');
    assert.equal((await dc.dataBreakpointInfoRequest({ name: 'metrics["hit_rate@10"]' })).body.dataId, 'metric:hit_rate@10');
    const none = await dc.dataBreakpointInfoRequest({ name: 'metric:hit_rate@1' });
    assert.equal(none.body.dataId, null);
    assert.match(none.body.description, /unknown metric "hit_rate@1"/);
    const bad = await dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: 'rank:' }, { dataId: 'weight:i_054' }, { dataId: 'feature:i_054' }] });
    assert.deepEqual(bad.body.breakpoints.map((b) => b.verified), [false, false, false]);
    assert.match(bad.body.breakpoints[1]?.message ?? '', /"weight" is not a kind of data breakpoint/);
  } finally {
    await dc.stop();
  }
});

test('a data breakpoint on a rank stops where the rank changes between consecutive events, with from → to', async () => {
  const item = 'i_054';
  const changes = await rankChanges(item);
  assert.ok(changes.length >= 3, 'the example slice moves this item around');
  const dc = await client();
  try {
    const stop = await launch(dc, { ...COLD }, async () => {
      const r = await dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: `rank:${item}` }] });
      assert.equal(r.body.breakpoints[0]?.verified, true);
    });
    assert.equal(stop.body.reason, 'data breakpoint');
    const c0 = changes[0] as { n: number; from: number; to: number };
    assert.equal((await where(dc)).line, c0.n);
    assert.equal(stop.body.description, `rank of ${item} changed from ${c0.from} to ${c0.to}`);
    const second = await moveAndStop(dc, () => dc.continueRequest(T));
    assert.equal(second.body.reason, 'data breakpoint');
    assert.equal((await where(dc)).line, changes[1]?.n);
    // Back: reverse continue lands on the previous change, evaluated from the restored checkpoint.
    await moveAndStop(dc, () => dc.gotoRequest({ ...T, targetId: (changes[2]?.n as number) + 1 }));
    await moveAndStop(dc, () => dc.reverseContinueRequest(T));
    assert.equal((await where(dc)).line, changes[2]?.n);
  } finally {
    await dc.stop();
  }
});

test('a data breakpoint on a metric honours its hit condition and its condition', async () => {
  const ctrChanges: number[] = [];
  const lateRankChanges = (await rankChanges('i_054')).map((c) => c.n).filter((n) => n > 300);
  let prev: number | undefined;
  await replayEach(COLD.slice, COLD.ranker, (ex, r) => {
    const v = r.metrics.value('ctr') as number;
    if (prev !== undefined && v !== prev) ctrChanges.push(ex.n);
    prev = v;
  });
  const dc = await client();
  try {
    let ids: number[] = [];
    const stop = await launch(dc, { ...COLD }, async () => {
      const r = await dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: 'metric:ctr', hitCondition: '3' }, { dataId: 'rank:i_054', condition: 'event.index > 300' }] });
      ids = r.body.breakpoints.map((b) => b.id as number);
    });
    assert.equal(stop.body.reason, 'data breakpoint');
    assert.deepEqual(stop.body.hitBreakpointIds, [ids[0]]);
    assert.equal((await where(dc)).line, ctrChanges[2], 'the third change of ctr');
    assert.match(stop.body.description ?? '', /^metric ctr changed from 0\.\d+ to 0\.\d+$/);
    const next = await moveAndStop(dc, () => dc.continueRequest(T));
    assert.deepEqual(next.body.hitBreakpointIds, [ids[1]]);
    assert.equal((await where(dc)).line, lateRankChanges[0], 'the rank breakpoint only fires after event 300');
    const bad = await dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: 'metric:ctr', condition: 'nope(' }] });
    assert.equal(bad.body.breakpoints[0]?.verified, false);
    assert.match(bad.body.breakpoints[0]?.message ?? '', /condition: column 6/);
  } finally {
    await dc.stop();
  }
});

test('a data breakpoint keeps its hit count when the client resends the data breakpoints', async () => {
  const ctrChanges: number[] = [];
  let prev: number | undefined;
  await replayEach(COLD.slice, COLD.ranker, (ex, r) => {
    const v = r.metrics.value('ctr') as number;
    if (prev !== undefined && v !== prev) ctrChanges.push(ex.n);
    prev = v;
  });
  assert.ok(ctrChanges.length >= 3);
  const dc = await client();
  try {
    const stop = await launch(dc, { ...COLD }, async () => {
      await dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: 'metric:ctr', hitCondition: '2' }] });
      await dc.setBreakpointsRequest({ source: { path: `${COLD.slice}/events.jsonl` }, breakpoints: [{ line: ctrChanges[0] as number }] });
    });
    assert.equal(stop.body.reason, 'breakpoint', 'the first change of ctr is hit 1 of the data breakpoint: the line breakpoint stops');
    assert.equal((await where(dc)).line, ctrChanges[0]);
    // VS Code resends every data breakpoint when one is added.
    await dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: 'metric:ctr', hitCondition: '2' }, { dataId: 'rank:i_054', condition: 'false' }] });
    const next = await moveAndStop(dc, () => dc.continueRequest(T));
    assert.equal(next.body.reason, 'data breakpoint');
    assert.equal((await where(dc)).line, ctrChanges[1], 'the second change of ctr is hit 2');
  } finally {
    await dc.stop();
  }
});

test('a data breakpoint on a feature the slice does not have is refused with a suggestion, as in a condition', async () => {
  const dc = await client();
  try {
    await launch(dc, { ...COLD, stopOnEntry: true });
    const r = await dc.setDataBreakpointsRequest({
      breakpoints: [{ dataId: 'feature:i_054.ctr_7' }, { dataId: 'feature:i_054.pop30d' }, { dataId: 'feature:i_054.ctr_7d' }, { dataId: 'feature:i_054.online.ctr' }, { dataId: 'feature:i_054.zzzzzz' }],
    });
    assert.deepEqual(r.body.breakpoints.map((b) => b.verified), [false, false, true, true, false]);
    assert.match(r.body.breakpoints[0]?.message ?? '', /unknown feature "ctr_7".*did you mean "ctr_7d"\?/);
    assert.match(r.body.breakpoints[1]?.message ?? '', /unknown feature "pop30d".*did you mean "pop_30d"\?/);
    assert.equal(r.body.breakpoints[2]?.message, undefined);
    assert.match(r.body.breakpoints[4]?.message ?? '', /unknown feature "zzzzzz".*ctr_7d.*online\.ctr/);
    const info = await dc.dataBreakpointInfoRequest({ name: 'feature("i_054", "ctr_7")' });
    assert.equal(info.body.dataId, null);
    assert.match(info.body.description, /unknown feature "ctr_7".*did you mean "ctr_7d"\?/);
    // The refused ones never fire; the good one does.
    const stop = await moveAndStop(dc, () => dc.continueRequest(T));
    assert.equal(stop.body.reason, 'data breakpoint');
    assert.match(stop.body.description ?? '', /^feature (ctr_7d|online\.ctr) of i_054 changed/);
  } finally {
    await dc.stop();
  }
});

test('a pause that cuts a long goto short keeps data breakpoints measuring: the next change is reported', async () => {
  const slice = makeSlice(40_000);
  const dc = await client();
  try {
    await launch(dc, { slice, stopOnEntry: true });
    await dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: 'metric:ctr' }] });
    // The goto runs past every event replayed so far; a pause heard at once cuts it short.
    await dc.gotoRequest({ ...T, targetId: 39_000 });
    const paused = await moveAndStop(dc, () => dc.pauseRequest(T));
    assert.equal(paused.body.reason, 'pause');
    const at = await where(dc);
    assert.ok(at.line < 39_000, `paused on the way, at ${at.line}`);
    // The running CTR changes with every event of this slice: the first event completed after the pause is a change.
    const next = await moveAndStop(dc, () => dc.nextRequest(T));
    assert.equal(next.body.reason, 'data breakpoint', `${next.body.reason}: ${next.body.description ?? ''}`);
    const w = await where(dc);
    assert.equal(w.line, at.stage === 'outcome' ? at.line + 1 : at.line);
  } finally {
    await dc.stop();
  }
});

test('a data breakpoint set mid-way through an event measures that event from the one before: the change there is reported', async () => {
  const item = 'i_054';
  const c = (await rankChanges(item))[1] as { n: number; from: number; to: number };
  const dc = await client();
  try {
    await launch(dc, { ...COLD, stopOnEntry: true, checkpointEvery: 16 });
    await moveAndStop(dc, () => dc.gotoRequest({ ...T, targetId: c.n - 1 }));
    // Into event n: retrieve, then features, before its rank changes at rerank.
    await moveAndStop(dc, () => dc.stepInRequest(T));
    await moveAndStop(dc, () => dc.stepInRequest(T));
    assert.deepEqual([(await where(dc)).line, (await where(dc)).stage], [c.n, 'features']);
    const r = await dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: `rank:${item}` }] });
    assert.equal(r.body.breakpoints[0]?.verified, true);
    assert.deepEqual([(await where(dc)).line, (await where(dc)).stage], [c.n, 'features'], 'setting it does not move the replay');
    const stop = await moveAndStop(dc, () => dc.continueRequest(T));
    assert.equal(stop.body.reason, 'data breakpoint');
    assert.equal((await where(dc)).line, c.n);
    assert.equal(stop.body.description, `rank of ${item} changed from ${c.from} to ${c.to}`);
  } finally {
    await dc.stop();
  }
});
