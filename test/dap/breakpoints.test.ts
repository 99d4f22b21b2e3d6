import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { exprScope } from '../../src/core/engine/exprScope';
import { compileExpr } from '../../src/core/expr';
import { client, COLD, evalAt, launch, moveAndStop, waitFor, where } from './helpers';
import { replayEach } from './slices';
import { makeSlice } from '../helpers';

const T = { threadId: 1 };
const EVENTS = join(COLD.slice, 'events.jsonl');

/** Events of the cold-start slice where `condition` holds after the event, from a straight in-process replay. */
async function holdsAt(condition: string): Promise<number[]> {
  const c = compileExpr(condition);
  const out: number[] = [];
  await replayEach(COLD.slice, COLD.ranker, (ex, r) => {
    if (c.evaluate(exprScope(ex, r)) === true) out.push(ex.n);
  });
  return out;
}

async function cont(dc: DebugClient): Promise<{ reason: string; line: number; stage: string; body: DebugProtocol.StoppedEvent['body'] }> {
  const stop = await moveAndStop(dc, () => dc.continueRequest(T));
  const w = await where(dc);
  return { reason: stop.body.reason, line: w.line, stage: w.stage, body: stop.body };
}

test('line breakpoints stop when their event has completed, each reporting its id', async () => {
  const dc = await client();
  try {
    let ids: number[] = [];
    const stop = await launch(dc, { ...COLD }, async () => {
      const r = await dc.setBreakpointsRequest({ source: { path: EVENTS }, breakpoints: [{ line: 10 }, { line: 25 }, { line: 9999 }] });
      ids = r.body.breakpoints.map((b) => b.id as number);
      assert.deepEqual(r.body.breakpoints.map((b) => b.verified), [true, true, false]);
      assert.match(r.body.breakpoints[2]?.message ?? '', /line 9999 is not an event: events\.jsonl has events on lines 1 to 650/);
    });
    assert.equal(stop.body.reason, 'breakpoint');
    assert.deepEqual(stop.body.hitBreakpointIds, [ids[0]]);
    assert.deepEqual(await where(dc).then((w) => [w.line, w.stage]), [10, 'outcome']);
    const second = await cont(dc);
    assert.deepEqual([second.reason, second.line, second.body.hitBreakpointIds], ['breakpoint', 25, [ids[1]]]);
    assert.equal((await cont(dc)).reason, 'end');
  } finally {
    await dc.stop();
  }
});

test("a conditional breakpoint on an item's score stops at the first event where it holds, and says what the condition read", async () => {
  const condition = 'score("i_119") > 0.6';
  const expected = await holdsAt(condition);
  assert.ok(expected.length > 1 && (expected[0] as number) > 20, `the slice has a first hit well inside it (${expected[0]})`);
  const dc = await client();
  try {
    const stop = await launch(dc, { ...COLD }, async () => {
      const r = await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'outcome', condition }] });
      assert.equal(r.body.breakpoints[0]?.verified, true);
    });
    assert.equal(stop.body.reason, 'function breakpoint');
    assert.equal((await where(dc)).line, expected[0]);
    assert.match(stop.body.text ?? '', /score\("i_119"\) = 0\.\d+/);
    assert.equal((await evalAt(dc, condition)).body.result, 'true');
    const next = await cont(dc);
    assert.equal(next.line, expected[1], 'continue goes to the next event where it holds');
  } finally {
    await dc.stop();
  }
});

test('a conditional line breakpoint stops only when its condition holds at its event', async () => {
  const holds = new Set(await holdsAt('rank("i_054") <= 5'));
  const lines = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20].filter((n) => !holds.has(n)).slice(0, 3);
  const hit = [...holds].find((n) => n > 30) as number;
  assert.ok(lines.length === 3 && hit !== undefined);
  const dc = await client();
  try {
    const stop = await launch(dc, { ...COLD }, () => dc.setBreakpointsRequest({ source: { path: EVENTS }, breakpoints: [...lines, hit].map((line) => ({ line, condition: 'rank("i_054") <= 5' })) }));
    assert.equal(stop.body.reason, 'breakpoint');
    assert.equal((await where(dc)).line, hit);
  } finally {
    await dc.stop();
  }
});

test('hit conditions count the hits of a breakpoint; every %N and the Nth hit', async () => {
  const dc = await client();
  try {
    await launch(dc, { ...COLD }, () => dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'score', hitCondition: '%100' }, { name: 'rerank', hitCondition: '>=2x' }] }).then((r) => {
      assert.equal(r.body.breakpoints[1]?.verified, false);
      assert.match(r.body.breakpoints[1]?.message ?? '', /hit condition ">=2x" is not understood/);
    }));
    assert.deepEqual(await where(dc).then((w) => [w.line, w.stage]), [100, 'score']);
    assert.deepEqual(await cont(dc).then((s) => [s.line, s.stage]), [200, 'score']);
    await dc.setFunctionBreakpointsRequest({ breakpoints: [] });
    await dc.setBreakpointsRequest({ source: { path: EVENTS }, breakpoints: [{ line: 210, hitCondition: '2' }] });
    assert.equal((await cont(dc)).reason, 'end', 'the first pass over line 210 is hit 1: no stop');
    await moveAndStop(dc, () => dc.gotoRequest({ ...T, targetId: 205 }));
    assert.deepEqual(await cont(dc).then((s) => [s.reason, s.line]), ['breakpoint', 210], 'the second pass is hit 2');
  } finally {
    await dc.stop();
  }
});

test('log points print their interpolated message without stopping', async () => {
  const expected: string[] = [];
  await replayEach(COLD.slice, COLD.ranker, (ex) => {
    if (ex.n === 12) expected.push(`i_054 is #${ex.rows.find((r) => r.item === 'i_054')?.rank ?? 'null'} at e00012`);
  });
  const dc = await client();
  try {
    const out = waitFor(dc, 'output', (e) => /at e00012/.test(e.body.output));
    const stop = await launch(dc, { ...COLD }, () => dc.setBreakpointsRequest({ source: { path: EVENTS }, breakpoints: [{ line: 12, logMessage: 'i_054 is #{rank("i_054")} at {event.id}' }] }));
    assert.equal(stop.body.reason, 'end', 'a log point never stops');
    const e = await out;
    assert.equal(e.body.output.trim(), expected[0]?.replace('#null', '#null'));
    assert.equal(e.body.line, 12);
  } finally {
    await dc.stop();
  }
});

test('function breakpoints take stage names; bad names and bad conditions are reported on the breakpoint with the column', async () => {
  const dc = await client();
  try {
    const stop = await launch(dc, { ...COLD }, async () => {
      const r = await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'rerank' }, { name: 'scoring' }, { name: 'score', condition: 'candidates.exists(c, c.features.ctr_7 > 0.1)' }] });
      const [ok, badName, badCond] = r.body.breakpoints;
      assert.equal(ok?.verified, true);
      assert.equal(badName?.verified, false);
      assert.match(badName?.message ?? '', /"scoring" is not a stage: .*retrieve, features, score, rerank, serve, outcome/);
      assert.equal(badCond?.verified, false);
      assert.match(badCond?.message ?? '', /column 33: unknown feature 'ctr_7'; did you mean 'ctr_7d'\?/);
    });
    assert.equal(stop.body.reason, 'function breakpoint');
    assert.deepEqual(await where(dc).then((w) => [w.line, w.stage]), [1, 'rerank']);
  } finally {
    await dc.stop();
  }
});

test('breakpoints outside events.jsonl are unverified and leave those in events.jsonl alone; breakpointLocations lists event lines', async () => {
  const dc = await client();
  try {
    await launch(dc, { ...COLD, stopOnEntry: true });
    const mine = await dc.setBreakpointsRequest({ source: { path: EVENTS }, breakpoints: [{ line: 5 }] });
    assert.equal(mine.body.breakpoints[0]?.verified, true);
    // VS Code then sends another file's breakpoints in a request of their own.
    const r = await dc.setBreakpointsRequest({ source: { path: join(COLD.slice, 'items.jsonl') }, breakpoints: [{ line: 3 }] });
    assert.equal(r.body.breakpoints[0]?.verified, false);
    assert.match(r.body.breakpoints[0]?.message ?? '', /breakpoints go on lines of .*events\.jsonl/);
    const locs = await dc.send('breakpointLocations', { source: { path: EVENTS }, line: 648, endLine: 700 });
    assert.deepEqual(locs.body.breakpoints, [{ line: 648 }, { line: 649 }, { line: 650 }]);

    // The breakpoint on event 5 still holds.
    const stopped = dc.waitForEvent('stopped');
    await dc.continueRequest(T);
    assert.equal((await stopped).body.reason, 'breakpoint');
    assert.equal((await where(dc)).line, 5);
  } finally {
    await dc.stop();
  }
});

test('a condition that fails at an event stops there and says why', async () => {
  const dc = await client();
  try {
    const stop = await launch(dc, { ...COLD }, () => dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'outcome', condition: '10 / (event.index - 50) > 100' }] }));
    assert.equal((await where(dc)).line, 50);
    assert.match(stop.body.text ?? '', /condition "10 \/ \(event\.index - 50\) > 100" failed: column \d+: division by zero/);
  } finally {
    await dc.stop();
  }
});

test('reverse continue goes back to the previous breakpoint hit across checkpoint segments, then to the start', async () => {
  const condition = 'rank("i_054") <= 3';
  const holds = await holdsAt(condition);
  const dc = await client();
  try {
    await launch(dc, { ...COLD, checkpointEvery: 64 }, () => dc.setBreakpointsRequest({ source: { path: EVENTS }, breakpoints: [{ line: 100 }, { line: 400 }] }));
    await moveAndStop(dc, () => dc.gotoRequest({ ...T, targetId: 500 }));
    const back1 = await moveAndStop(dc, () => dc.reverseContinueRequest(T));
    assert.equal(back1.body.reason, 'breakpoint');
    assert.equal((await where(dc)).line, 400);
    await moveAndStop(dc, () => dc.reverseContinueRequest(T));
    assert.equal((await where(dc)).line, 100);
    const start = await moveAndStop(dc, () => dc.reverseContinueRequest(T));
    assert.equal(start.body.reason, 'entry');
    assert.equal((await where(dc)).stage, 'before retrieve');

    // A condition evaluated at every event: reverse continue from the end lands on its last hit before.
    await dc.setBreakpointsRequest({ source: { path: EVENTS }, breakpoints: [] });
    await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'outcome', condition }] });
    await moveAndStop(dc, () => dc.gotoRequest({ ...T, targetId: 650 }));
    const lastTwo = holds.filter((n) => n < 650).slice(-2);
    assert.equal(lastTwo.length, 2);
    await moveAndStop(dc, () => dc.reverseContinueRequest(T));
    assert.equal((await where(dc)).line, lastTwo[1]);
    await moveAndStop(dc, () => dc.reverseContinueRequest(T));
    assert.equal((await where(dc)).line, lastTwo[0]);
    assert.equal((await evalAt(dc, condition)).body.result, 'true');
  } finally {
    await dc.stop();
  }
});

test('hit conditions >=N, >N, <N, <=N: each breakpoint stops on the hits its operator admits, and only on those', async () => {
  // A function breakpoint on a stage is hit once per event, so hit h is event h. One operator per stage.
  const dir = makeSlice(7);
  const ops: Record<string, string> = { retrieve: '>=3', features: '>3', score: '<3', rerank: '<=3' };
  const dc = await client();
  try {
    const stops: [number, string][] = [];
    let stop = await launch(dc, { slice: dir, ranker: 'recorded' }, async () => {
      const r = await dc.setFunctionBreakpointsRequest({ breakpoints: Object.entries(ops).map(([name, hitCondition]) => ({ name, hitCondition })) });
      assert.deepEqual(r.body.breakpoints.map((b) => b.verified), [true, true, true, true]);
    });
    while (stop.body.reason === 'function breakpoint') {
      const w = await where(dc);
      stops.push([w.line, w.stage]);
      stop = await moveAndStop(dc, () => dc.continueRequest(T));
    }
    assert.equal(stop.body.reason, 'end');
    const linesOf = (stage: string) => stops.filter(([, s]) => s === stage).map(([line]) => line);
    assert.deepEqual(linesOf('retrieve'), [3, 4, 5, 6, 7], '>=3: from the 3rd hit on');
    assert.deepEqual(linesOf('features'), [4, 5, 6, 7], '>3: from the 4th hit on');
    assert.deepEqual(linesOf('score'), [1, 2], '<3: the 1st and 2nd hits');
    assert.deepEqual(linesOf('rerank'), [1, 2, 3], '<=3: the first three hits');
    assert.equal(stops.length, 14);
  } finally {
    await dc.stop();
  }
});

test('hit counts survive the client resending its breakpoints: unchanged ones keep counting, changed ones start again', async () => {
  // VS Code resends every breakpoint of a file (and all function breakpoints) whenever one changes.
  const dc = await client();
  try {
    await launch(dc, { ...COLD, stopOnEntry: true }, () => dc.setBreakpointsRequest({ source: { path: EVENTS }, breakpoints: [{ line: 5, hitCondition: '2' }, { line: 300 }] }));
    assert.deepEqual(await cont(dc).then((s) => [s.reason, s.line]), ['breakpoint', 300], 'event 5 completed once: hit 1, no stop');
    // The user adds a breakpoint on line 600; line 5 comes again, unchanged.
    const r = await dc.setBreakpointsRequest({ source: { path: EVENTS }, breakpoints: [{ line: 5, hitCondition: '2' }, { line: 300 }, { line: 600 }] });
    assert.deepEqual(r.body.breakpoints.map((b) => b.verified), [true, true, true]);
    await moveAndStop(dc, () => dc.gotoRequest({ ...T, targetId: 4 }));
    assert.deepEqual(await cont(dc).then((s) => [s.reason, s.line]), ['breakpoint', 5], 'the second completion of event 5 is hit 2');

    // A changed hit condition is a new breakpoint: its count starts from 0.
    await dc.setBreakpointsRequest({ source: { path: EVENTS }, breakpoints: [{ line: 5, hitCondition: '>=2' }, { line: 300 }] });
    await moveAndStop(dc, () => dc.gotoRequest({ ...T, targetId: 4 }));
    assert.deepEqual(await cont(dc).then((s) => [s.reason, s.line]), ['breakpoint', 300], 'hit 1 of the changed breakpoint: no stop at 5');

    // Function breakpoints: VS Code resends all of them.
    await dc.setBreakpointsRequest({ source: { path: EVENTS }, breakpoints: [{ line: 302 }] });
    await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'rerank', hitCondition: '3' }] });
    assert.deepEqual(await cont(dc).then((s) => [s.reason, s.line, s.stage]), ['breakpoint', 302, 'outcome'], 'events 301 and 302: hits 1 and 2');
    await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'rerank', hitCondition: '3' }, { name: 'serve', condition: 'false' }] });
    assert.deepEqual(await cont(dc).then((s) => [s.reason, s.line, s.stage]), ['function breakpoint', 303, 'rerank'], 'event 303 is hit 3');
  } finally {
    await dc.stop();
  }
});

test('breakpointLocations lists a range up to 10,000 lines from its first (a million-line range was one answer of a million objects)', async () => {
  const slice = makeSlice(10_050, { chunkSize: 1 << 20 });
  const dc = await client();
  try {
    await launch(dc, { slice, ranker: 'recorded', stopOnEntry: true });
    const events = join(slice, 'events.jsonl');
    const all = (await dc.send('breakpointLocations', { source: { path: events }, line: 1, endLine: 10_050 })).body.breakpoints as { line: number }[];
    assert.equal(all.length, 10_000);
    assert.deepEqual([all[0], all[9_999]], [{ line: 1 }, { line: 10_000 }]);
    const tail = (await dc.send('breakpointLocations', { source: { path: events }, line: 10_040, endLine: 20_000 })).body.breakpoints as { line: number }[];
    assert.deepEqual(tail.map((b) => b.line), Array.from({ length: 11 }, (_, i) => 10_040 + i));
  } finally {
    await dc.stop();
  }
});

test('a line breakpoint and a function breakpoint firing at one event: the description is that of the reason reported', async () => {
  const dc = await client();
  try {
    let lineId = 0;
    const stop = await launch(dc, { ...COLD }, async () => {
      const r = await dc.setBreakpointsRequest({ source: { path: EVENTS }, breakpoints: [{ line: 30 }] });
      lineId = r.body.breakpoints[0]?.id as number;
      await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'outcome', condition: 'event.index == 30' }] });
    });
    assert.equal((await where(dc)).line, 30);
    assert.equal(stop.body.reason, 'breakpoint');
    assert.equal(stop.body.hitBreakpointIds?.length, 2);
    assert.ok(stop.body.hitBreakpointIds?.includes(lineId));
    assert.equal(stop.body.description, 'event 30');
    assert.match(stop.body.text ?? '', /after stage outcome: event\.index = 30/);
  } finally {
    await dc.stop();
  }
});
