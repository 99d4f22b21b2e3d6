import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { FAULT_KINDS, type FaultKind } from '../../src/core/engine/faults';
import { loadRanker, type Ranker } from '../../src/core/rankers';
import { lineLogger } from '../../src/debugAdapter/logger';
import { ReplayDebugSession } from '../../src/debugAdapter/session';
import { buildFilters } from '../../src/debugAdapter/exceptionFilters';
import { eventLine, rawSlice } from '../helpers';
import { client, launch, moveAndStop, scopeVars, waitFor, where } from './helpers';
import { FAULT_EVENT, faultSlice } from './slices';

/** Launches the fault slice with only `filter` enabled and returns the first stop. */
async function firstFault(dc: DebugClient, kind: FaultKind, args: { slice: string; ranker: string }, condition?: string): Promise<DebugProtocol.StoppedEvent> {
  return launch(dc, args, async () => {
    const r = await dc.setExceptionBreakpointsRequest({ filters: [], filterOptions: [{ filterId: kind, ...(condition ? { condition } : {}) }] });
    assert.deepEqual(r.body?.breakpoints?.map((b) => b.verified), [true]);
  });
}

const STAGE_OF: Record<FaultKind, string> = {
  nan_score: 'score',
  empty_slate: 'serve',
  over_budget: 'serve',
  stage_over_budget: 'features',
  stale_feature: 'features',
  divergence: 'outcome',
  metric_drop: 'outcome',
  ranker_error: 'score',
};

const MESSAGES: Record<FaultKind, RegExp> = {
  nan_score: /score of c2 is Infinity/,
  empty_slate: /nothing was served/,
  over_budget: /pipeline took 516\.5 ms, over the 100 ms budget: fallback ranking served/,
  stage_over_budget: /features took 80 ms, over its 30 ms budget/,
  stale_feature: /x older than 3600 s/,
  divergence: /top-4 overlap with the recorded ranking is 0\.00/,
  metric_drop: /mean hit of the last 100 events fell to 0\.740, 26% below the 100 events before \(1\.000\)/,
  ranker_error: /ranker failed: model server refused the request/,
};

for (const kind of FAULT_KINDS.filter((k) => k !== 'ranker_error')) {
  test(`exception filter ${kind} stops at the stage and event where the fault happens, with exceptionInfo`, async () => {
    const c = faultSlice(kind);
    const dc = await client();
    try {
      // The console line follows the stopped event.
      const said = waitFor(dc, 'output', (e) => (e as DebugProtocol.OutputEvent).body.category === 'stderr');
      const stop = await firstFault(dc, kind, c, c.condition);
      assert.equal(stop.body.reason, 'exception');
      assert.equal(((await said) as DebugProtocol.OutputEvent).body.output, `${stop.body.description ?? ''}\n`, 'the fault message once in the console, not "X: X"');
      const w = await where(dc);
      assert.deepEqual([w.line, w.stage], [c.event, STAGE_OF[kind]]);
      const info = await dc.exceptionInfoRequest({ threadId: 1 });
      assert.equal(info.body.exceptionId, kind);
      assert.equal(info.body.breakMode, 'always');
      assert.match(info.body.description ?? '', MESSAGES[kind]);
      assert.match(info.body.details?.stackTrace ?? '', new RegExp(`at ${STAGE_OF[kind]} \\(event ${c.event}, e${c.event}, line ${c.event} of events.jsonl\\)`));
      // The fault fires once: continuing does not stop on the same fault again.
      const after = await moveAndStop(dc, () => dc.continueRequest({ threadId: 1 }));
      assert.equal(after.body.reason, 'end', `${kind} fires only at the planted event`);
    } finally {
      await dc.stop();
    }
  });
}

test('metric_drop with its default condition (hit 25% over 200 events) fires where the 200-event means part', async () => {
  const c = faultSlice('metric_drop_default');
  const dc = await client();
  try {
    await firstFault(dc, 'metric_drop', c);
    assert.equal((await where(dc)).line, 451);
  } finally {
    await dc.stop();
  }
});

test('thresholds: conditions move where the detectors fire; bad conditions are reported on the filter', async () => {
  const dc = await client();
  try {
    const c = faultSlice('over_budget');
    // An ordinary event of this slice takes 26.5 ms up to serve, so a 25 ms limit fires at event 1.
    const stop = await firstFault(dc, 'over_budget', c, '25');
    assert.equal(stop.body.reason, 'exception');
    assert.equal((await where(dc)).line, 1);
    assert.match((await dc.exceptionInfoRequest({ threadId: 1 })).body.description ?? '', /pipeline took 26\.5 ms, over 25 ms/);
    const r = await dc.setExceptionBreakpointsRequest({
      filters: [],
      filterOptions: [
        { filterId: 'divergence', condition: '1.5' },
        { filterId: 'stage_over_budget', condition: 'scoring:3' },
        { filterId: 'metric_drop', condition: 'ndcg 20% window 1' },
        { filterId: 'nan_score', condition: '3' },
        { filterId: 'not_a_fault' },
        { filterId: 'stage_over_budget', condition: 'score:5:6' },
        { filterId: 'stage_over_budget', condition: 'features:50 score:5' },
      ],
    });
    const [div, stage, drop, nan, unknown, twoLimits, ok] = r.body?.breakpoints ?? [];
    assert.match(div?.message ?? '', /the overlap threshold is between 0 and 1, got 1\.5/);
    assert.match(stage?.message ?? '', /"scoring:3" is not STAGE:MS/);
    assert.match(drop?.message ?? '', /window must be a whole number of events >= 2/);
    assert.match(nan?.message ?? '', /NaN\/Inf score takes no condition/);
    assert.match(unknown?.message ?? '', /unknown exception filter "not_a_fault"/);
    assert.equal(twoLimits?.verified, false, 'score:5:6 is not score:5');
    assert.match(twoLimits?.message ?? '', /"score:5:6" is not STAGE:MS/);
    assert.equal(ok?.verified, true);
    const next = await moveAndStop(dc, () => dc.continueRequest({ threadId: 1 }));
    assert.equal(next.body.reason, 'exception');
    // From the serve stage of event 1, the next score stage is event 2's: 10 ms, over the 5 ms asked for.
    assert.deepEqual(await where(dc).then((x) => [x.line, x.stage]), [2, 'score']);
  } finally {
    await dc.stop();
  }
});

test('divergence with a condition compares what the two slates could share: short slates identical to the recording never stop', async () => {
  // k = 10 but every event serves 2 items, exactly as recorded: overlap@10 is 0.2, yet nothing diverged.
  const lines = Array.from({ length: 5 }, (_, i) => eventLine(`e${i + 1}`, `2025-01-01T00:00:0${i + 1}Z`, { candidates: [{ item: 'a', score: 2 }, { item: 'b', score: 1 }], served: ['a', 'b'] }));
  const dir = rawSlice(lines.join('\n') + '\n', (m) => (m.pipeline = { k: 10, budgetMs: 1000 }));
  const dc = await client();
  try {
    const stop = await firstFault(dc, 'divergence', { slice: dir, ranker: 'recorded' }, '0.9');
    assert.equal(stop.body.reason, 'end', 'no divergence stop on identical short slates');
  } finally {
    await dc.stop();
  }
});

test('exception filters watch both lanes in compare mode and stop on the lane that faulted', async () => {
  const c = faultSlice('nan_score');
  const dc = await client();
  try {
    const stop = await launch(dc, { slice: c.slice, ranker: 'recorded', baseline: c.ranker }, () => dc.setExceptionBreakpointsRequest({ filters: ['nan_score'] }));
    assert.equal(stop.body.reason, 'exception');
    assert.equal(stop.body.threadId, 2, 'the baseline lane (thread 2) has the Infinity score');
    assert.equal((await where(dc, 2)).line, FAULT_EVENT);
    const info = await dc.exceptionInfoRequest({ threadId: 2 });
    assert.match(info.body.details?.stackTrace ?? '', /on thread baseline/);
  } finally {
    await dc.stop();
  }
});

test('exception filter ranker_error stops where the ranker throws (a host-provided ranker, in-process adapter)', async () => {
  const c = faultSlice('ranker_error');
  // The built-in rankers cannot fail, so the host provides one the way the extension will provide process rankers.
  const failing = (spec: string, ctx: Parameters<typeof loadRanker>[1]): Ranker => {
    if (spec !== 'flaky') return loadRanker(spec, ctx);
    return {
      info: { kind: 'flaky' },
      score: (req) => {
        if (req.event.id === `e${FAULT_EVENT}`) throw new Error('model server refused the request');
        return new Float64Array(req.rows.length).fill(0.5);
      },
    };
  };
  const server = createServer((socket) => {
    const session = new ReplayDebugSession({ logger: lineLogger(() => {}), loadRanker: failing });
    session.setRunAsServer(true);
    session.start(socket, socket);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const dc = new DebugClient('node', '', 'recreplay');
  await dc.start((server.address() as AddressInfo).port);
  try {
    const stop = await firstFault(dc, 'ranker_error', { slice: c.slice, ranker: 'flaky' });
    assert.equal(stop.body.reason, 'exception');
    assert.deepEqual(await where(dc).then((w) => [w.line, w.stage]), [FAULT_EVENT, 'score']);
    assert.match((await dc.exceptionInfoRequest({ threadId: 1 })).body.description ?? '', MESSAGES.ranker_error);
    const stage = await scopeVars(dc, 'Stage');
    assert.match(stage.find((v) => v.name === 'faults')?.value ?? '', /ranker_error/);
  } finally {
    await dc.stop();
    server.close();
  }
});

test('bad slice data stops the replay at the last good event with exception slice_error, and the session stays usable', async () => {
  const lines = [1, 2, 3, 4].map((n) => eventLine(`e${n}`, `2025-01-01T00:00:0${n}Z`));
  const malformed = rawSlice([...lines, '{"id":"e5", "t": ', eventLine('e6', '2025-01-01T00:00:06Z')].join('\n') + '\n');
  const dc = await client();
  try {
    const said = waitFor(dc, 'output', (e) => (e as DebugProtocol.OutputEvent).body.category === 'stderr');
    const stop = await launch(dc, { slice: malformed });
    assert.equal(stop.body.reason, 'exception');
    assert.deepEqual(await where(dc).then((w) => [w.line, w.stage]), [4, 'outcome']);
    const info = await dc.exceptionInfoRequest({ threadId: 1 });
    assert.equal(info.body.exceptionId, 'slice_error');
    assert.match(info.body.description ?? '', /events\.jsonl:5: malformed JSON/);
    // Where the lane stands (event 4, e4) and the line it could not read (5), never one's number with the other's id.
    assert.match(info.body.details?.stackTrace ?? '', /^at outcome \(event 4, e4, line 4 of events\.jsonl\) on thread replay\n {2}the problem is on line 5 of events\.jsonl, after event 4$/);
    assert.equal(((await said) as DebugProtocol.OutputEvent).body.output, `exception: ${info.body.description ?? ''}\n`, 'the message once in the console');
    assert.equal((await moveAndStop(dc, () => dc.stepBackRequest({ threadId: 1 }))).body.reason, 'step');
    assert.equal((await where(dc)).line, 3);
  } finally {
    await dc.stop();
  }
  const unordered = rawSlice([lines[0], lines[2], lines[1]].join('\n') + '\n');
  const dc2 = await client();
  try {
    const stop = await launch(dc2, { slice: unordered });
    assert.equal(stop.body.reason, 'exception');
    assert.equal((await where(dc2)).line, 2);
    assert.match(stop.body.text ?? '', /event e2 is out of time order/);
  } finally {
    await dc2.stop();
  }
});

/** Launches `slice` with only `kind` enabled (with `condition`) and continues to the end: the events it stopped at, with the description of each stop. */
async function faultStops(kind: FaultKind, slice: string, condition: string): Promise<{ line: number; stage: string; description: string }[]> {
  const dc = await client();
  try {
    const out: { line: number; stage: string; description: string }[] = [];
    let stop = await firstFault(dc, kind, { slice, ranker: 'recorded' }, condition);
    while (stop.body.reason === 'exception') {
      const w = await where(dc);
      out.push({ line: w.line, stage: w.stage, description: (await dc.exceptionInfoRequest({ threadId: 1 })).body.description ?? '' });
      stop = await moveAndStop(dc, () => dc.continueRequest({ threadId: 1 }));
    }
    assert.equal(stop.body.reason, 'end');
    return out;
  } finally {
    await dc.stop();
  }
}

const at = (s: number, ms = 0) => new Date(Date.parse('2025-01-01T10:00:00Z') + s * 1000 + ms).toISOString();

test('stale_feature with a condition of N seconds fires where a feature is older than N, not where it is N or younger', async () => {
  // Feature ages 100, 200 (exactly N), 300 and 50 seconds; the slice's own staleAfterSec would flag none of them.
  const ages = [100, 200, 300, 50];
  const lines = ages.map((age, i) => eventLine(`e${i + 1}`, at(1000 + i), { featureTimes: { x: at(1000 + i - age) } }));
  const dir = rawSlice(lines.join('\n') + '\n', (m) => (m.pipeline = { k: 2, budgetMs: 1000, staleAfterSec: 86_400 }));
  const stops = await faultStops('stale_feature', dir, '200');
  assert.deepEqual(stops.map((s) => [s.line, s.stage]), [[3, 'features']]);
  assert.match(stops[0]?.description ?? '', /feature x is 300 s old, older than 200 s/);
  // A limit just under an age fires there too: the seconds are seconds, not milliseconds.
  assert.deepEqual((await faultStops('stale_feature', dir, '99.5')).map((s) => s.line), [1, 2, 3]);
});

test('empty_slate with a condition of N fires where fewer than N items are served: N = 3 stops at a 2-item slate, not at a 3-item one', async () => {
  const cands = (ids: string) => ids.split(' ').map((item, i) => ({ item, score: 1 - i / 10 }));
  const slates = ['a b c d', 'a b c', 'a b', 'a b c d'];
  const lines = slates.map((ids, i) => eventLine(`e${i + 1}`, at(i + 1), { candidates: cands(ids), served: ids.split(' '), outcome: { clicks: [] } }));
  const dir = rawSlice(lines.join('\n') + '\n', (m) => (m.pipeline = { k: 4, budgetMs: 1000 }));
  const stops = await faultStops('empty_slate', dir, '3');
  assert.deepEqual(stops.map((s) => [s.line, s.stage]), [[3, 'serve']]);
  assert.match(stops[0]?.description ?? '', /2 item\(s\) served, fewer than 3/);
  assert.deepEqual((await faultStops('empty_slate', dir, '4')).map((s) => s.line), [2, 3]);
});

test('divergence with a threshold fires where the overlap with the recorded ranking is below it, not where it is at or above', async () => {
  // The replay serves a b c d (recorded scores) every time; production served slates sharing 4, 3, 2 and 1 of them.
  const candidates = 'a b c d e f g h'.split(' ').map((item, i) => ({ item, score: 1 - i / 10 }));
  const recorded = [['a', 'b', 'c', 'd'], ['a', 'b', 'c', 'h'], ['a', 'b', 'g', 'h'], ['a', 'f', 'g', 'h']];
  const lines = recorded.map((served, i) => eventLine(`e${i + 1}`, at(i + 1), { candidates, served, outcome: { clicks: [] } }));
  const dir = rawSlice(lines.join('\n') + '\n', (m) => (m.pipeline = { k: 4, budgetMs: 1000 }));
  // Overlaps 1, 0.75, 0.5, 0.25.
  const below8 = await faultStops('divergence', dir, '0.8');
  assert.deepEqual(below8.map((s) => [s.line, s.stage]), [[2, 'outcome'], [3, 'outcome'], [4, 'outcome']]);
  assert.match(below8[0]?.description ?? '', /overlap with the recorded ranking is 0\.75, below 0\.8: 3 of 4 in common/);
  assert.deepEqual((await faultStops('divergence', dir, '0.5')).map((s) => s.line), [4], 'an overlap equal to the threshold is not below it');
  assert.deepEqual((await faultStops('divergence', dir, '0.3')).map((s) => s.line), [4]);
  assert.deepEqual(await faultStops('divergence', dir, '0.2'), []);
});

test('the over_budget filter with a limit judges a pipeline as the engine does: exactly at the limit (150.00000000000003 as a double sum) is not over it', () => {
  const { filters } = buildFilters({ filters: [], filterOptions: [{ filterId: 'over_budget', condition: '150' }] });
  const check = filters[0]?.check;
  assert.ok(check);
  const at = (score: number) => ({ latencyMs: { retrieve: 12.1, features: 48.7, score, rerank: 3.3, serve: 0.5, outcome: 0 } }) as unknown as Parameters<typeof check>[1];
  const lane = undefined as unknown as Parameters<typeof check>[0];
  assert.equal(check(lane, at(85.4), 5, 0), undefined);
  assert.deepEqual(check(lane, at(85.5), 5, 0)?.message, 'pipeline took 150.1 ms, over 150 ms');
});
