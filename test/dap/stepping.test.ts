import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { POSITION_EVENT, type PositionEventBody } from '../../src/shared/dap';
import { makeSlice } from '../helpers';
import { client, COLD, evalAt, failure, launch, moveAndStop, waitFor, where } from './helpers';
import { replayEach } from './slices';

const T = { threadId: 1 };
const EVENTS = join(COLD.slice, 'events.jsonl');

async function at(dc: DebugClient): Promise<string> {
  const w = await where(dc);
  return `${w.line}:${w.stage}`;
}

async function step(dc: DebugClient, send: () => Promise<unknown>): Promise<{ reason: string; at: string }> {
  const stop = await moveAndStop(dc, send);
  return { reason: stop.body.reason, at: await at(dc) };
}

test('next finishes the event (or the next one), stepIn runs one stage, stepOut finishes the event', async () => {
  const dc = await client();
  try {
    await launch(dc, { ...COLD, stopOnEntry: true });
    assert.equal(await at(dc), '1:before retrieve');
    assert.deepEqual(await step(dc, () => dc.nextRequest(T)), { reason: 'step', at: '1:outcome' });
    assert.deepEqual(await step(dc, () => dc.nextRequest(T)), { reason: 'step', at: '2:outcome' });
    assert.deepEqual(await step(dc, () => dc.stepInRequest(T)), { reason: 'step', at: '3:retrieve' }, 'from a completed event into the next one');
    assert.deepEqual(await step(dc, () => dc.stepInRequest(T)), { reason: 'step', at: '3:features' });
    assert.deepEqual(await step(dc, () => dc.nextRequest({ ...T, granularity: 'instruction' })), { reason: 'step', at: '3:score' }, 'instruction granularity is one stage');
    assert.deepEqual(await step(dc, () => dc.nextRequest(T)), { reason: 'step', at: '3:outcome' }, 'next mid-event finishes it');
    assert.deepEqual(await step(dc, () => dc.stepInRequest(T)), { reason: 'step', at: '4:retrieve' });
    assert.deepEqual(await step(dc, () => dc.stepOutRequest(T)), { reason: 'step', at: '4:outcome' });
    assert.deepEqual(await step(dc, () => dc.stepOutRequest(T)), { reason: 'step', at: '5:outcome' }, 'stepOut of a completed event finishes the next');
  } finally {
    await dc.stop();
  }
});

test('a movement or pause request for a thread that does not exist is refused and moves nothing', async () => {
  const dc = await client();
  try {
    await launch(dc, { ...COLD, stopOnEntry: true });
    const bad = { threadId: 99 };
    const requests: [string, () => Promise<unknown>][] = [
      ['next', () => dc.nextRequest(bad)],
      ['stepIn', () => dc.stepInRequest(bad)],
      ['stepOut', () => dc.stepOutRequest(bad)],
      ['continue', () => dc.continueRequest(bad)],
      ['stepBack', () => dc.stepBackRequest(bad)],
      ['reverseContinue', () => dc.reverseContinueRequest(bad)],
      ['goto', () => dc.gotoRequest({ threadId: 99, targetId: 5 })],
      ['pause', () => dc.pauseRequest(bad)],
    ];
    for (const [name, send] of requests) assert.match(await failure(send()), /there is no thread 99: the threads are 1 \(/, name);
    assert.equal(await at(dc), '1:before retrieve', 'still where it stopped');
  } finally {
    await dc.stop();
  }
});

test('stepBack: previous stage when mid-event, previous completed event otherwise (also from the first stage); instruction granularity always one stage', async () => {
  const dc = await client();
  try {
    await launch(dc, { ...COLD, stopOnEntry: true, checkpointEvery: 7 });
    const first = await step(dc, () => dc.stepBackRequest(T));
    assert.equal(first.at, '1:before retrieve', 'nothing before the first event');
    for (let i = 0; i < 20; i++) await moveAndStop(dc, () => dc.nextRequest(T));
    assert.equal(await at(dc), '20:outcome');
    assert.deepEqual(await step(dc, () => dc.stepBackRequest(T)), { reason: 'step', at: '19:outcome' });
    assert.deepEqual(await step(dc, () => dc.stepBackRequest({ ...T, granularity: 'instruction' })), { reason: 'step', at: '19:serve' });
    assert.deepEqual(await step(dc, () => dc.stepBackRequest(T)), { reason: 'step', at: '19:rerank' });
    assert.deepEqual(await step(dc, () => dc.stepBackRequest(T)), { reason: 'step', at: '19:score' });
    assert.deepEqual(await step(dc, () => dc.stepBackRequest(T)), { reason: 'step', at: '19:features' });
    assert.deepEqual(await step(dc, () => dc.stepBackRequest(T)), { reason: 'step', at: '19:retrieve' });
    assert.deepEqual(await step(dc, () => dc.stepBackRequest(T)), { reason: 'step', at: '18:outcome' }, 'no stop before retrieve of a later event: stepping forward has none');
    // Forward again from a restored checkpoint gives the same replay as the first time.
    assert.deepEqual(await step(dc, () => dc.nextRequest(T)), { reason: 'step', at: '19:outcome' });
  } finally {
    await dc.stop();
  }
});

test('goto lands on the end of any event line, forward and back, with exactly the state of a straight replay', async () => {
  const reference = new Map<number, { ctr: number; ranked: string }>();
  await replayEach(COLD.slice, COLD.ranker, (ex, r) => {
    if (ex.n === 300 || ex.n === 20 || ex.n === 600) reference.set(ex.n, { ctr: r.metrics.value('ctr') as number, ranked: ex.ranked.slice(0, 5).join(',') });
  });
  const dc = await client();
  try {
    await launch(dc, { ...COLD, stopOnEntry: true, checkpointEvery: 50 });
    const targets = await dc.gotoTargetsRequest({ source: { path: EVENTS }, line: 300 });
    assert.deepEqual(targets.body.targets, [{ id: 300, label: 'event 300 (e00300)', line: 300 }]);
    assert.deepEqual((await dc.gotoTargetsRequest({ source: { path: '/elsewhere/x.ts' }, line: 3 })).body.targets, []);
    for (const n of [300, 600, 20, 300]) {
      const stop = await moveAndStop(dc, () => dc.gotoRequest({ ...T, targetId: n }));
      assert.equal(stop.body.reason, 'goto');
      assert.equal(await at(dc), `${n}:outcome`);
      const ref = reference.get(n);
      assert.equal((await evalAt(dc, 'metrics.ctr')).body.result, String(Number((ref?.ctr as number).toFixed(4))), `ctr at ${n}`);
      assert.equal((await evalAt(dc, 'topk(5)', 1, 'clipboard')).body.result, JSON.stringify(ref?.ranked.split(',')).replace(/,/g, ', '), `top 5 at ${n}`);
    }
    assert.match(await failure(dc.gotoRequest({ ...T, targetId: 651 })), /line 651 is not an event: events.jsonl has events on lines 1 to 650/);
  } finally {
    await dc.stop();
  }
});

test('restartFrame re-runs the current event from its start (event frame) or the session from event 1 (session frame)', async () => {
  const dc = await client();
  try {
    await launch(dc, { ...COLD, stopOnEntry: true });
    await moveAndStop(dc, () => dc.gotoRequest({ ...T, targetId: 40 }));
    const frames = (await where(dc)).frames;
    const r1 = await moveAndStop(dc, () => dc.restartFrameRequest({ frameId: frames[1]?.id as number }));
    assert.equal(r1.body.reason, 'restart');
    assert.equal(await at(dc), '40:before retrieve');
    assert.deepEqual(await step(dc, () => dc.nextRequest(T)), { reason: 'step', at: '40:outcome' });
    const r2 = await moveAndStop(dc, () => dc.restartFrameRequest({ frameId: frames[2]?.id as number }));
    assert.equal(r2.body.reason, 'restart');
    assert.equal(await at(dc), '1:before retrieve');
  } finally {
    await dc.stop();
  }
});

test('at the end of the slice continue and next stop again with reason "end" and the session stays usable', async () => {
  const dc = await client();
  try {
    const stop = await launch(dc, { ...COLD });
    assert.equal(stop.body.reason, 'end');
    assert.match(stop.body.text ?? '', /all 650 events replayed/);
    assert.deepEqual(await step(dc, () => dc.nextRequest(T)), { reason: 'end', at: '650:outcome' });
    assert.deepEqual(await step(dc, () => dc.continueRequest(T)), { reason: 'end', at: '650:outcome' });
    assert.deepEqual(await step(dc, () => dc.stepBackRequest(T)), { reason: 'step', at: '649:outcome' });
  } finally {
    await dc.stop();
  }
});

test('pause stops a long continue where it is, and inspection is refused while the replay runs', async () => {
  const dir = makeSlice(30_000);
  const dc = await client();
  try {
    await launch(dc, { slice: dir, stopOnEntry: true });
    await dc.continueRequest(T);
    // The spec's short form in `message` (a client may retry once stopped), the sentence in body.error.
    const raw = await new Promise<DebugProtocol.Response>((resolve) => (dc as unknown as { doSend(c: string, a: unknown, cb: (r: DebugProtocol.Response) => void): void }).doSend('stackTrace', T, resolve));
    assert.equal(raw.success, false);
    assert.equal(raw.message, 'notStopped');
    assert.match((raw.body as { error: DebugProtocol.Message }).error.format, /the replay is running: pause it first/);
    const stop = await moveAndStop(dc, () => dc.pauseRequest(T));
    assert.equal(stop.body.reason, 'pause');
    const w = await where(dc);
    assert.ok(w.line > 1 && w.line < 30_000, `paused mid-way, at ${w.line}`);
  } finally {
    await dc.stop();
  }
});

test('reverse continue from an event that starts a checkpoint interval goes back, never forward or nowhere', async () => {
  const dc = await client();
  try {
    // Default interval (500): event 501 starts a segment.
    await launch(dc, { ...COLD, stopOnEntry: true }, () => dc.setBreakpointsRequest({ source: { path: EVENTS }, breakpoints: [{ line: 400 }, { line: 501 }] }));
    assert.deepEqual(await step(dc, () => dc.continueRequest(T)), { reason: 'breakpoint', at: '400:outcome' });
    assert.deepEqual(await step(dc, () => dc.continueRequest(T)), { reason: 'breakpoint', at: '501:outcome' });
    assert.deepEqual(await step(dc, () => dc.reverseContinueRequest(T)), { reason: 'breakpoint', at: '400:outcome' }, 'not the breakpoint it started from');
    // Mid-way through a segment's first event: the hit before is in the previous event, not later in this one.
    await dc.setBreakpointsRequest({ source: { path: EVENTS }, breakpoints: [] });
    await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'rerank' }] });
    await moveAndStop(dc, () => dc.gotoRequest({ ...T, targetId: 500 }));
    await moveAndStop(dc, () => dc.stepInRequest(T));
    assert.deepEqual(await step(dc, () => dc.stepInRequest(T)), { reason: 'step', at: '501:features' });
    assert.deepEqual(await step(dc, () => dc.reverseContinueRequest(T)), { reason: 'function breakpoint', at: '500:rerank' }, 'behind where it started');
  } finally {
    await dc.stop();
  }
});

test('repeated reverse continue walks back hit by hit across segment starts (checkpointEvery 7)', async () => {
  const dc = await client();
  try {
    await launch(dc, { ...COLD, stopOnEntry: true, checkpointEvery: 7 });
    await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'score' }] });
    await moveAndStop(dc, () => dc.gotoRequest({ ...T, targetId: 626 }));
    const seen: string[] = [];
    for (let i = 0; i < 5; i++) seen.push((await step(dc, () => dc.reverseContinueRequest(T))).at);
    // 624 = 1 + 89 × 7 starts a segment.
    assert.deepEqual(seen, ['626:score', '625:score', '624:score', '623:score', '622:score']);
  } finally {
    await dc.stop();
  }
});

test('reverse continue: a data breakpoint at the first event of a segment is the latest hit there', async () => {
  // With checkpointEvery 64, event 449 = 1 + 7 × 64 starts a segment, and rank of i_054 changes
  // there (from its rank at 448): the scan of that segment alone has no value at 448 to compare with.
  let changed: { from: number; to: number } | undefined;
  let prev: number | undefined;
  await replayEach(COLD.slice, COLD.ranker, (ex) => {
    const rank = ex.ranked.indexOf('i_054') + 1;
    if (ex.n === 449) changed = { from: prev as number, to: rank };
    prev = rank;
    return ex.n >= 449;
  });
  assert.ok(changed && changed.from > 0 && changed.to > 0 && changed.from !== changed.to, 'rank of i_054 changes at 449');
  const dc = await client();
  try {
    await launch(dc, { ...COLD, stopOnEntry: true, checkpointEvery: 64 });
    await moveAndStop(dc, () => dc.gotoRequest({ ...T, targetId: 451 }));
    await dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: 'rank:i_054' }] });
    await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'score', condition: 'event.index == 449' }] });
    const stop = await moveAndStop(dc, () => dc.reverseContinueRequest(T));
    assert.equal(stop.body.reason, 'data breakpoint', stop.body.description);
    assert.equal(stop.body.description, `rank of i_054 changed from ${changed.from} to ${changed.to}`);
    assert.equal(await at(dc), '449:outcome', 'after the function breakpoint at 449:score');
    assert.deepEqual(await step(dc, () => dc.reverseContinueRequest(T)), { reason: 'function breakpoint', at: '449:score' });
  } finally {
    await dc.stop();
  }
});

test('pause stops a long reverse continue over many small checkpoint segments, which reports progress as it goes', async () => {
  const dir = makeSlice(20_000);
  const dc = await client();
  try {
    const end = await launch(dc, { slice: dir, checkpointEvery: 5 });
    assert.equal(end.body.reason, 'end');
    // Never fires: the scan goes through every segment back to event 1 unless paused.
    await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'score', condition: 'event.index < 0' }] });
    const stopped = dc.waitForEvent('stopped', 60_000);
    // Position events with state "running" are the progress a run sends (at most every 100 ms).
    const running = waitFor(dc, POSITION_EVENT, (e) => (e.body as PositionEventBody).state === 'running', 10_000);
    await dc.reverseContinueRequest(T);
    const progress = (await running).body as PositionEventBody;
    assert.ok(progress.event < 20_000, `scanning back, at ${progress.event}`);
    await dc.pauseRequest(T);
    const stop = (await stopped) as DebugProtocol.StoppedEvent;
    assert.equal(stop.body.reason, 'pause', `${stop.body.reason}: ${stop.body.text ?? ''}`);
    const w = await where(dc);
    assert.ok(w.line > 1 && w.line < 20_000, `paused mid-way, at ${w.line}`);
  } finally {
    await dc.stop();
  }
});
