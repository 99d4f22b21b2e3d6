import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { Controller, type RunResult } from '../../src/debugAdapter/controller';
import { openLanes, discardLanes, type RankerLoader } from '../../src/debugAdapter/lanes';
import { loadRanker } from '../../src/core/rankers';
import { parseLaunchArguments } from '../../src/debugAdapter/launchConfig';
import { lineLogger } from '../../src/debugAdapter/logger';
import { Triggers } from '../../src/debugAdapter/triggers';
import { client, COLD, evalAt, launch, moveAndStop, scopeVars, where } from './helpers';
import { faultSlice, replayEach } from './slices';
import { UserError } from '../../src/core/errors';

const BASELINE = 2;
const CANDIDATE = 3;

/** The replayed orders of events 1..n under a ranker (index 0 = event 1), from a straight in-process replay. */
async function ordersTo(n: number, ranker: string): Promise<string[][]> {
  const out: string[][] = [];
  await replayEach(COLD.slice, ranker, (ex) => {
    out.push(ex.ranked.slice());
    return ex.n >= n;
  });
  return out;
}

async function orderAt(n: number, ranker: string): Promise<string[]> {
  return (await ordersTo(n, ranker))[n - 1] as string[];
}

test('compare mode: threads baseline and candidate step in lockstep, each with its own ranker', async () => {
  const dc = await client();
  try {
    const stop = await launch(dc, { slice: COLD.slice, ranker: COLD.ranker, baseline: 'recorded', stopOnEntry: true });
    assert.equal(stop.body.threadId, CANDIDATE);
    assert.equal(stop.body.allThreadsStopped, true);
    assert.deepEqual((await dc.threadsRequest()).body.threads, [{ id: BASELINE, name: 'baseline' }, { id: CANDIDATE, name: 'candidate' }]);
    await moveAndStop(dc, () => dc.gotoRequest({ threadId: CANDIDATE, targetId: 40 }));
    await moveAndStop(dc, () => dc.stepInRequest({ threadId: BASELINE }));
    await moveAndStop(dc, () => dc.stepInRequest({ threadId: CANDIDATE }));
    const [b, c] = [await where(dc, BASELINE), await where(dc, CANDIDATE)];
    assert.deepEqual([b.line, b.stage], [41, 'features']);
    assert.deepEqual([c.line, c.stage], [41, 'features'], 'a step on either thread moves both');
    assert.match(b.frames[2]?.name ?? '', /· recorded · seed 42$/);
    assert.match(c.frames[2]?.name ?? '', /· linear:.*cold-start-linear\.json · seed 42$/);
    await moveAndStop(dc, () => dc.stepBackRequest({ threadId: CANDIDATE }));
    assert.equal((await where(dc, BASELINE)).stage, 'retrieve', 'step back is lockstep too');
    await moveAndStop(dc, () => dc.nextRequest({ threadId: CANDIDATE }));
    const [top3b, top3c] = [(await evalAt(dc, 'topk(3)', BASELINE, 'clipboard')).body.result, (await evalAt(dc, 'topk(3)', CANDIDATE, 'clipboard')).body.result];
    assert.equal(top3b, JSON.stringify((await orderAt(41, 'recorded')).slice(0, 3)).replace(/,/g, ', '));
    assert.equal(top3c, JSON.stringify((await orderAt(41, COLD.ranker)).slice(0, 3)).replace(/,/g, ', '));
  } finally {
    await dc.stop();
  }
});

test('compare mode: Diff vs baseline shows where the two rankings part', async () => {
  let n = 0;
  let first = 0;
  let cand: string[] = [];
  let base: string[] = [];
  // Find an event where the rankers disagree inside the top 10.
  const [cands, bases] = [await ordersTo(60, COLD.ranker), await ordersTo(60, 'recorded')];
  for (let e = 1; e <= 60 && first === 0; e++) {
    cand = cands[e - 1] as string[];
    base = bases[e - 1] as string[];
    const i = cand.slice(0, 10).findIndex((x, j) => x !== base[j]);
    if (i >= 0) {
      n = e;
      first = i + 1;
    }
  }
  assert.ok(n > 0, 'the two rankers disagree somewhere early');
  const dc = await client();
  try {
    await launch(dc, { slice: COLD.slice, ranker: COLD.ranker, baseline: 'recorded', stopOnEntry: true });
    await moveAndStop(dc, () => dc.gotoRequest({ threadId: CANDIDATE, targetId: n }));
    const diff = await scopeVars(dc, 'Diff vs baseline', CANDIDATE);
    const firstDiff = diff.find((v) => v.name === 'first difference') as DebugProtocol.Variable;
    assert.equal(firstDiff.value, `#${first}: candidate ${cand[first - 1]}, baseline ${base[first - 1]}`);
    const fromBaseline = await scopeVars(dc, 'Diff vs candidate', BASELINE);
    assert.equal(fromBaseline.find((v) => v.name === 'first difference')?.value, firstDiff.value, 'the same diff from either thread');
  } finally {
    await dc.stop();
  }
});

test('compare mode: breakpoint conditions read the candidate; data breakpoints can watch the baseline lane', async () => {
  const dc = await client();
  try {
    await launch(dc, { slice: COLD.slice, ranker: COLD.ranker, baseline: 'recorded', stopOnEntry: true });
    await moveAndStop(dc, () => dc.nextRequest({ threadId: CANDIDATE }));
    const st = await dc.stackTraceRequest({ threadId: BASELINE });
    const scopes = await dc.scopesRequest({ frameId: st.body.stackFrames[0]?.id as number });
    const ranking = scopes.body.scopes.find((s) => s.name === 'Ranking') as DebugProtocol.Scope;
    const row = (await dc.variablesRequest({ variablesReference: ranking.variablesReference })).body.variables[0] as DebugProtocol.Variable;
    const info = await dc.dataBreakpointInfoRequest({ variablesReference: ranking.variablesReference, name: row.name });
    assert.match(info.body.dataId ?? '', /^rank:i_\d+@baseline$/);
    assert.match(info.body.description, /\(baseline\)$/);
    await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'outcome', condition: 'score("i_119") > 0.6' }] });
    const stop = await moveAndStop(dc, () => dc.continueRequest({ threadId: CANDIDATE }));
    assert.equal(stop.body.threadId, CANDIDATE);
    assert.equal((await where(dc, CANDIDATE)).line, 97, 'the linear ranker (candidate) first scores i_119 over 0.6 at event 97');
  } finally {
    await dc.stop();
  }
});

test('compare mode: a data breakpoint on a baseline value reads the baseline in its condition', async () => {
  const dc = await client();
  try {
    await launch(dc, { slice: COLD.slice, ranker: COLD.ranker, baseline: 'popularity', stopOnEntry: true });
    // The popularity ranker parts from the recorded order (kendall_tau ~0.8 after 20 events); the
    // linear ranker (candidate) stays near it (~0.99). The condition holds only when read on the baseline.
    const set = await dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: 'metric:ctr@baseline', accessType: 'write', condition: 'metrics.kendall_tau < 0.9 && metrics.events > 20' }] });
    assert.equal(set.body.breakpoints[0]?.verified, true, set.body.breakpoints[0]?.message);
    const stop = await moveAndStop(dc, () => dc.continueRequest({ threadId: CANDIDATE }));
    assert.equal(stop.body.reason, 'data breakpoint');
    assert.ok((await where(dc, CANDIDATE)).line > 20);
    assert.equal((await evalAt(dc, 'metrics.kendall_tau < 0.9', BASELINE)).body.result, 'true');
    assert.equal((await evalAt(dc, 'metrics.kendall_tau < 0.9', CANDIDATE)).body.result, 'false');
  } finally {
    await dc.stop();
  }
});

test('compare mode: a data breakpoint stops on the thread whose value changed, whichever thread continued', async () => {
  const dc = await client();
  try {
    await launch(dc, { slice: COLD.slice, ranker: COLD.ranker, baseline: 'recorded', stopOnEntry: true });
    await dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: 'rank:i_054@baseline' }] });
    const onBaseline = await moveAndStop(dc, () => dc.continueRequest({ threadId: CANDIDATE }));
    assert.equal(onBaseline.body.reason, 'data breakpoint');
    assert.match(onBaseline.body.description ?? '', /^baseline: rank of i_054 changed from \d+ to \d+$/);
    assert.equal(onBaseline.body.threadId, BASELINE, 'the baseline value changed');
    const back = await moveAndStop(dc, () => dc.reverseContinueRequest({ threadId: CANDIDATE }));
    assert.equal(back.body.threadId, back.body.reason === 'data breakpoint' ? BASELINE : CANDIDATE, 'reverse continue too');
    await dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: 'rank:i_054' }] });
    const onCandidate = await moveAndStop(dc, () => dc.continueRequest({ threadId: BASELINE }));
    assert.equal(onCandidate.body.reason, 'data breakpoint');
    assert.equal(onCandidate.body.threadId, CANDIDATE, 'the candidate value changed');
    assert.match(onCandidate.body.description ?? '', /^candidate: rank of i_054 changed from \d+ to \d+$/);
  } finally {
    await dc.stop();
  }
});

test('compare mode (controller): a movement reports its stop on the lane it was asked for, triggers on the lane they belong to', async () => {
  const config = parseLaunchArguments({ slice: COLD.slice, ranker: COLD.ranker, baseline: 'recorded', checkpointEvery: 16 }, process.cwd());
  const lanes = await openLanes(config, lineLogger(() => {}));
  try {
    const triggers = new Triggers(lanes.lanes, lanes.primary, () => {});
    const c = new Controller(lanes, triggers, () => {});
    const [baseline, candidate] = lanes.lanes as [NonNullable<(typeof lanes.lanes)[0]>, NonNullable<(typeof lanes.lanes)[1]>];
    const on = (r: RunResult) => (typeof r === 'symbol' ? 'cancelled' : `${r.reason}@${r.lane.name} ${c.position.event}:${c.position.stagesDone}`);
    assert.equal(on(c.start()), 'entry@candidate 1:0');
    for (const lane of [baseline, candidate]) {
      assert.equal(on(await c.next(lane)), `step@${lane.name} 1:6`);
      assert.equal(on(await c.stepIn(lane)), `step@${lane.name} 2:1`);
      assert.equal(on(await c.stepOut(lane)), `step@${lane.name} 2:6`);
      assert.equal(on(await c.stepBack(false, lane)), `step@${lane.name} 1:6`);
      assert.equal(on(await c.goto(40, lane)), `goto@${lane.name} 40:6`);
      assert.equal(on(await c.restart(false, lane)), `restart@${lane.name} 40:0`);
      triggers.bps.setFunctions([{ name: 'rerank', condition: 'event.index == 45' }], lanes.env);
      triggers.refresh();
      assert.equal(on(await c.continue(lane)), `function breakpoint@${lane.name} 45:4`);
      assert.equal(on(await c.reverseContinue(lane)), `entry@${lane.name} 1:0`);
      triggers.bps.setFunctions([], lanes.env);
      triggers.refresh();
      assert.equal(on(await c.restart(true, lane)), `restart@${lane.name} 1:0`);
    }
    assert.equal(on(await c.next()), 'step@candidate 1:6', 'no lane named: the candidate');
  } finally {
    discardLanes(lanes);
  }
});

test('compare mode: a step, goto or restart on the baseline thread stops on the baseline thread', async () => {
  const dc = await client();
  try {
    await launch(dc, { slice: COLD.slice, ranker: COLD.ranker, baseline: 'recorded', stopOnEntry: true }, () =>
      dc.setBreakpointsRequest({ source: { path: join(COLD.slice, 'events.jsonl') }, breakpoints: [{ line: 45 }] }),
    );
    for (const threadId of [BASELINE, CANDIDATE, BASELINE]) {
      const stops = [
        await moveAndStop(dc, () => dc.nextRequest({ threadId })),
        await moveAndStop(dc, () => dc.stepInRequest({ threadId })),
        await moveAndStop(dc, () => dc.stepOutRequest({ threadId })),
        await moveAndStop(dc, () => dc.stepBackRequest({ threadId })),
        await moveAndStop(dc, () => dc.gotoRequest({ threadId, targetId: 30 })),
      ];
      const frames = (await where(dc, threadId)).frames;
      stops.push(await moveAndStop(dc, () => dc.restartFrameRequest({ frameId: frames[1]?.id as number })));
      stops.push(await moveAndStop(dc, () => dc.continueRequest({ threadId })));
      assert.equal((await where(dc, threadId)).line, 45);
      stops.push(await moveAndStop(dc, () => dc.reverseContinueRequest({ threadId })));
      stops.push(await moveAndStop(dc, () => dc.restartFrameRequest({ frameId: frames[2]?.id as number })));
      assert.deepEqual(
        stops.map((s) => `${s.body.reason}@${s.body.threadId}`),
        ['step', 'step', 'step', 'step', 'goto', 'restart', 'breakpoint', 'entry', 'restart'].map((r) => `${r}@${threadId}`),
      );
    }
  } finally {
    await dc.stop();
  }
});

test('compare mode: data breakpoints on the same value of both lanes name the lane in each note', async () => {
  const dc = await client();
  try {
    // The same ranker on both lanes: the two values change at the same event, to the same value.
    await launch(dc, { slice: COLD.slice, ranker: COLD.ranker, baseline: COLD.ranker, stopOnEntry: true });
    await dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: 'rank:i_054@baseline' }, { dataId: 'rank:i_054@candidate' }] });
    const stop = await moveAndStop(dc, () => dc.continueRequest({ threadId: CANDIDATE }));
    assert.equal(stop.body.reason, 'data breakpoint');
    const [first, second, ...rest] = (stop.body.text ?? '').split('\n');
    assert.match(first ?? '', /^baseline: rank of i_054 changed from \d+ to \d+$/);
    assert.equal(second, (first ?? '').replace(/^baseline/, 'candidate'));
    assert.deepEqual(rest, []);
  } finally {
    await dc.stop();
  }
});

test('compare mode: a launch whose candidate ranker cannot be loaded shuts down the baseline ranker it already loaded', async () => {
  const config = parseLaunchArguments({ slice: COLD.slice, ranker: 'linear:/no/such/model.json', baseline: 'recorded', checkpointEvery: 16 }, process.cwd());
  let disposed = 0;
  const load: RankerLoader = (spec, ctx) => {
    const r = loadRanker(spec, ctx);
    return { info: r.info, score: (req) => r.score(req), dispose: () => void disposed++ };
  };
  const errors: string[] = [];
  await assert.rejects(openLanes(config, lineLogger((t) => errors.push(t)), load), /linear artifact not found/);
  await new Promise((r) => setImmediate(r));
  assert.equal(disposed, 1, 'the baseline ranker was disposed');
  assert.deepEqual(errors, []);
});

test('compare mode: a fault both lanes hit stops on the thread asked for, and exceptionInfo answers on either thread', async () => {
  const c = faultSlice('stale_feature');
  const dc = await client();
  try {
    await launch(dc, { slice: c.slice, ranker: c.ranker, baseline: c.ranker, stopOnEntry: true }, () => dc.setExceptionBreakpointsRequest({ filters: ['stale_feature'] }));
    const stop = await moveAndStop(dc, () => dc.continueRequest({ threadId: 3 }));
    assert.equal(stop.body.reason, 'exception');
    assert.equal(stop.body.threadId, 3, 'the candidate was asked for, and faulted too');
    assert.match(stop.body.text ?? '', /baseline: .*\ncandidate: /);
    for (const threadId of [2, 3]) assert.equal((await dc.exceptionInfoRequest({ threadId })).body.exceptionId, 'stale_feature');
  } finally {
    await dc.stop();
  }
});

test('compare mode: when both lanes fault, the stop\'s description is the fault of the thread it is reported on', async () => {
  const c = faultSlice('stale_feature');
  const dc = await client();
  try {
    await launch(dc, { slice: c.slice, ranker: c.ranker, baseline: c.ranker, stopOnEntry: true }, () => dc.setExceptionBreakpointsRequest({ filters: ['stale_feature'] }));
    for (const [threadId, name] of [[3, 'candidate'], [2, 'baseline']] as const) {
      const stop = await moveAndStop(dc, () => dc.continueRequest({ threadId }));
      assert.equal(stop.body.threadId, threadId);
      assert.match(stop.body.description ?? '', new RegExp(`^${name}: `), `on thread ${name}: ${stop.body.description ?? ''}`);
      const frames = (await where(dc, threadId)).frames;
      await moveAndStop(dc, () => dc.restartFrameRequest({ frameId: frames[2]?.id as number }));
    }
  } finally {
    await dc.stop();
  }
});

test('compare mode: a bad baseline spec is said as the baseline\'s, not the ranker\'s', async () => {
  const config = parseLaunchArguments({ ...COLD, baseline: 'bogus:x' }, process.cwd());
  await assert.rejects(openLanes(config, lineLogger(() => {})), (e: unknown) => e instanceof UserError && /^baseline: unknown ranker "bogus:x"/.test(e.message) && e.where.field === 'baseline');
});
