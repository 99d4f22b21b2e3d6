// Reverse continue and hit conditions: going back stops where the forward run stopped (a hit's
// number is the one it had going forward), and a continue from where it lands stops where the
// forward run stopped next.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import { client, COLD, launch, moveAndStop, where } from './helpers';
import { makeSlice } from '../helpers';

const T = { threadId: 1 };

async function stops(dc: DebugClient, send: () => Promise<unknown>, until: string): Promise<string[]> {
  const out: string[] = [];
  for (;;) {
    const stop = await moveAndStop(dc, send);
    const w = await where(dc);
    if (stop.body.reason === until) return out;
    out.push(`${w.line}:${w.stage}`);
  }
}

test('reverse continue applies hit conditions: it stops at the hits a forward run stopped at, and continue from there stops where that run did', async () => {
  // A function breakpoint on a stage is hit once per event, so hit h is event h.
  const slice = makeSlice(12);
  const dc = await client();
  try {
    await launch(dc, { slice, ranker: 'recorded', stopOnEntry: true, checkpointEvery: 4 }, () =>
      dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'rerank', hitCondition: '%3' }, { name: 'serve', hitCondition: '>=11' }] }),
    );
    const forward = await stops(dc, () => dc.continueRequest(T), 'end');
    assert.deepEqual(forward, ['3:rerank', '6:rerank', '9:rerank', '11:serve', '12:rerank', '12:serve']);
    const back = await stops(dc, () => dc.reverseContinueRequest(T), 'entry');
    assert.deepEqual(back, ['12:serve', '12:rerank', '11:serve', '9:rerank', '6:rerank', '3:rerank'], 'the same stops, backwards');
    // At the start again: counts are as they were there (none), so forward repeats the first run.
    assert.deepEqual(await stops(dc, () => dc.continueRequest(T), 'end'), forward);

    // Back to a stop in the middle: continuing stops where the forward run stopped after it.
    await moveAndStop(dc, () => dc.reverseContinueRequest(T));
    await moveAndStop(dc, () => dc.reverseContinueRequest(T));
    await moveAndStop(dc, () => dc.reverseContinueRequest(T));
    assert.equal(`${(await where(dc)).line}:${(await where(dc)).stage}`, '11:serve');
    assert.deepEqual(await stops(dc, () => dc.continueRequest(T), 'end'), ['12:rerank', '12:serve']);
  } finally {
    await dc.stop();
  }
});

test('reverse continue does not stop at a line breakpoint whose hit condition the session never met there, and does where a later pass met it', async () => {
  const slice = makeSlice(12);
  const events = join(slice, 'events.jsonl');
  const dc = await client();
  try {
    await launch(dc, { slice, ranker: 'recorded', stopOnEntry: true, checkpointEvery: 4 }, () => dc.setBreakpointsRequest({ source: { path: events }, breakpoints: [{ line: 5, hitCondition: '2' }] }));
    assert.equal((await moveAndStop(dc, () => dc.continueRequest(T))).body.reason, 'end', 'the first pass over line 5 is hit 1');
    const first = await moveAndStop(dc, () => dc.reverseContinueRequest(T));
    assert.equal(first.body.reason, 'entry', 'hit 1 does not meet "2": nothing to stop at going back');
    // Back at the start the count is as it was there: forward, event 5 is hit 1 again.
    assert.equal((await moveAndStop(dc, () => dc.continueRequest(T))).body.reason, 'end');
    // A goto back does not take hits back: passing event 5 again is hit 2, a stop forward and back.
    await moveAndStop(dc, () => dc.gotoRequest({ ...T, targetId: 4 }));
    const again = await moveAndStop(dc, () => dc.continueRequest(T));
    assert.equal(again.body.reason, 'breakpoint');
    assert.equal((await where(dc)).line, 5);
    assert.equal((await moveAndStop(dc, () => dc.continueRequest(T))).body.reason, 'end');
    const back = await moveAndStop(dc, () => dc.reverseContinueRequest(T));
    assert.equal(back.body.reason, 'breakpoint');
    assert.equal((await where(dc)).line, 5);
  } finally {
    await dc.stop();
  }
});

test('step back takes hits back: after a step back from a hit-condition stop, stepping forward stops there again', async () => {
  const slice = makeSlice(12);
  const events = join(slice, 'events.jsonl');
  const dc = await client();
  try {
    await launch(dc, { slice, ranker: 'recorded', stopOnEntry: true, checkpointEvery: 4 }, async () => {
      await dc.setBreakpointsRequest({ source: { path: events }, breakpoints: [{ line: 5, hitCondition: '1' }] });
      await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'outcome', hitCondition: '%2' }] });
    });
    const first = await moveAndStop(dc, () => dc.continueRequest(T));
    assert.deepEqual([first.body.reason, (await where(dc)).line], ['function breakpoint', 2]);
    await moveAndStop(dc, () => dc.stepBackRequest(T));
    const again = await moveAndStop(dc, () => dc.nextRequest(T));
    assert.deepEqual([again.body.reason, (await where(dc)).line], ['function breakpoint', 2], 'event 2 is hit 2 again, not hit 3');

    await moveAndStop(dc, () => dc.continueRequest(T));
    const five = await moveAndStop(dc, () => dc.continueRequest(T));
    assert.deepEqual([five.body.reason, (await where(dc)).line, five.body.hitBreakpointIds?.length], ['breakpoint', 5, 1], 'line 5 on its first hit (outcome: hit 5, odd)');
    await moveAndStop(dc, () => dc.stepBackRequest(T));
    await moveAndStop(dc, () => dc.stepBackRequest(T));
    await moveAndStop(dc, () => dc.nextRequest(T));
    const back = await moveAndStop(dc, () => dc.nextRequest(T));
    assert.deepEqual([back.body.reason, (await where(dc)).line], ['breakpoint', 5], 'line 5 is its first hit again');
  } finally {
    await dc.stop();
  }
});

test('a jump back keeps the counts, and a step in and step back after it change nothing', async () => {
  const slice = makeSlice(12);
  const dc = await client();
  try {
    await launch(dc, { slice, ranker: 'recorded', stopOnEntry: true, checkpointEvery: 4 }, () => dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'outcome', hitCondition: '>=4' }] }));
    await moveAndStop(dc, () => dc.continueRequest(T));
    assert.equal((await where(dc)).line, 4);
    // The goto keeps hit 4: event 3 is hit 5 when passed again.
    await moveAndStop(dc, () => dc.gotoRequest({ ...T, targetId: 2 }));
    await moveAndStop(dc, () => dc.stepInRequest(T));
    await moveAndStop(dc, () => dc.stepBackRequest(T));
    assert.equal((await where(dc)).line, 2);
    const stop = await moveAndStop(dc, () => dc.nextRequest(T));
    assert.deepEqual([stop.body.reason, (await where(dc)).line], ['function breakpoint', 3], 'back at event 2 the count is the one the goto kept (4), not that of the first pass (2)');
  } finally {
    await dc.stop();
  }
});

test('forward, back and forward again stop at the same places, for data, line and function breakpoints with conditions, hit conditions, log points and a condition that fails at one event', async () => {
  const dc = await client();
  try {
    await launch(dc, { ...COLD, stopOnEntry: true, checkpointEvery: 64 }, async () => {
      await dc.setBreakpointsRequest({
        source: { path: join(COLD.slice, 'events.jsonl') },
        breakpoints: [
          { line: 40, condition: '10 / (event.index - 40) > 0' },
          { line: 120, logMessage: 'at {event.id}', hitCondition: '%2' },
          { line: 300, condition: 'event.index > 0', hitCondition: '>=1' },
        ],
      });
      await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'score', condition: 'event.index % 50 == 0', hitCondition: '%3' }, { name: 'outcome', condition: 'rank("i_054") <= 3', hitCondition: '%4' }] });
      await dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: 'rank:i_054', hitCondition: '%2' }] });
    });
    const label = async (s: { body: { reason: string; hitBreakpointIds?: number[] } }) => {
      const w = await where(dc);
      return `${s.body.reason}@${w.line}:${w.stage}`;
    };
    const run = async (send: () => Promise<unknown>, until: string) => {
      const out: string[] = [];
      for (;;) {
        const s = await moveAndStop(dc, send);
        if (s.body.reason === until) return out;
        out.push(await label(s));
      }
    };
    const forward = await run(() => dc.continueRequest(T), 'end');
    assert.ok(forward.length >= 8, forward.join(' '));
    for (const kind of ['breakpoint', 'function breakpoint', 'data breakpoint']) assert.ok(forward.some((f) => f.startsWith(`${kind}@`)), `${kind} in ${forward.join(' ')}`);
    assert.deepEqual(await run(() => dc.reverseContinueRequest(T), 'entry'), [...forward].reverse());
    assert.deepEqual(await run(() => dc.continueRequest(T), 'end'), forward);
  } finally {
    await dc.stop();
  }
});
