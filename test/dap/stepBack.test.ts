// Step back is undone by stepping forward: it stops only where stepping forward stops, so going
// back N steps and forward N steps passes the same positions and returns to where it began.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { client, COLD, launch, moveAndStop, where } from './helpers';

const T = { threadId: 1 };

async function at(dc: DebugClient): Promise<string> {
  const w = await where(dc);
  return `${w.line}:${w.stage}`;
}

/** Stops at event n with s stages done, the way stepping forward gets there. */
async function reach(dc: DebugClient, n: number, s: number): Promise<void> {
  if (n > 1) await moveAndStop(dc, () => dc.gotoRequest({ ...T, targetId: n - 1 }));
  else await moveAndStop(dc, async () => dc.restartFrameRequest({ frameId: (await where(dc)).frames[2]?.id as number }));
  for (let i = 0; i < s; i++) await moveAndStop(dc, () => dc.stepInRequest(T));
}

// Event 15 = 1 + 2 × 7 starts a checkpoint interval (checkpointEvery 7 below); 1 is the slice's start.
const STARTS: { n: number; s: number; steps: number[] }[] = [
  { n: 1, s: 3, steps: [1, 3] },
  { n: 2, s: 1, steps: [1, 2, 5] },
  { n: 5, s: 3, steps: [2, 3, 4, 9] },
  { n: 15, s: 1, steps: [1, 4] },
  { n: 16, s: 6, steps: [1, 3, 8] },
];

for (const granularity of [undefined, 'statement', 'line', 'instruction'] as const) {
  // At instruction granularity every step back is one stage, undone by a step in. At the others a
  // step back from a completed event goes to the end of the one before, which is a step over's undoing.
  const undo = granularity === 'instruction' ? () => 'stepIn' : (from: string) => (from.endsWith(':outcome') ? 'next' : 'stepIn');
  test(`step back N then forward N (${granularity ?? 'default'} granularity) returns through the same positions to the same event and stage`, async () => {
    const dc = await client();
    try {
      await launch(dc, { ...COLD, stopOnEntry: true, checkpointEvery: 7 });
      for (const { n, s, steps } of STARTS) {
        for (const count of steps) {
          await reach(dc, n, s);
          const trail = [await at(dc)];
          // Nothing is before the start of the slice: fewer steps back when it is reached.
          while (trail.length <= count && trail.at(-1) !== '1:before retrieve') {
            await moveAndStop(dc, () => dc.stepBackRequest({ ...T, ...(granularity ? { granularity } : {}) }));
            trail.push(await at(dc));
          }
          const label = `from ${trail[0]}, ${count} back: ${trail.join(' → ')}`;
          // Stepping forward never stops before retrieve, except at the entry stop of event 1.
          for (const p of trail.slice(1)) assert.ok(!p.endsWith(':before retrieve') || p === '1:before retrieve', label);
          assert.equal(new Set(trail).size, trail.length, `${label}: every step moved back`);
          for (let i = trail.length - 1; i > 0; i--) {
            const command = undo(trail[i - 1] as string);
            const args: DebugProtocol.NextArguments = { ...T, ...(granularity ? { granularity } : {}) };
            await moveAndStop(dc, () => (command === 'next' ? dc.nextRequest(args) : dc.stepInRequest(args)));
            assert.equal(await at(dc), trail[i - 1], `${label}; ${command} from ${trail[i]}`);
          }
        }
      }
    } finally {
      await dc.stop();
    }
  });
}

test('step back from the first stage of a later event goes to the end of the event before, at every granularity', async () => {
  const dc = await client();
  try {
    await launch(dc, { ...COLD, stopOnEntry: true });
    for (const granularity of [undefined, 'statement', 'line', 'instruction'] as const) {
      await reach(dc, 8, 1);
      assert.equal(await at(dc), '8:retrieve');
      await moveAndStop(dc, () => dc.stepBackRequest({ ...T, ...(granularity ? { granularity } : {}) }));
      assert.equal(await at(dc), '7:outcome', granularity ?? 'default');
    }
    // Event 1 keeps its entry stop: the one place before retrieve that stepping forward starts from.
    await reach(dc, 1, 1);
    await moveAndStop(dc, () => dc.stepBackRequest(T));
    assert.equal(await at(dc), '1:before retrieve');
  } finally {
    await dc.stop();
  }
});

test('step back over a whole event stops where a step over of it stops: at the last breakpoint inside it (a function breakpoint on its score stage), so it undoes the step over; an event with none inside is stepped over whole', async () => {
  const dc = await client();
  try {
    // Event 15 starts a checkpoint interval: the search for event 15's stages starts there, event 9's at 8.
    await launch(dc, { ...COLD, stopOnEntry: true, checkpointEvery: 7 });
    await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'score', condition: 'event.id == "e00009" || event.id == "e00015"' }, { name: 'rerank', condition: 'event.id == "e00009"' }] });
    for (const n of [9, 15]) {
      await moveAndStop(dc, () => dc.gotoRequest({ ...T, targetId: n - 1 }));
      // Forward: a step over event n stops at its breakpoints, then at its end.
      const forward = [];
      for (let i = 0; i < (n === 9 ? 3 : 2); i++) {
        const stop = await moveAndStop(dc, () => dc.nextRequest(T));
        forward.push(`${await at(dc)} ${stop.body.reason}`);
      }
      assert.deepEqual(forward, n === 9 ? ['9:score function breakpoint', '9:rerank function breakpoint', '9:outcome step'] : ['15:score function breakpoint', '15:outcome step']);
      // Back from its end: the last breakpoint inside it, as the step over met it.
      const back = await moveAndStop(dc, () => dc.stepBackRequest(T));
      assert.equal(`${await at(dc)} ${back.body.reason}`, n === 9 ? '9:rerank function breakpoint' : '15:score function breakpoint');
      assert.deepEqual(back.body.hitBreakpointIds?.length, 1);
      // And the step over from there returns to the event's end.
      await moveAndStop(dc, () => dc.nextRequest(T));
      assert.equal(await at(dc), `${n}:outcome`);
    }
    // Event 10 has none inside: a step back from its end is the end of event 9.
    await moveAndStop(dc, () => dc.gotoRequest({ ...T, targetId: 10 }));
    const whole = await moveAndStop(dc, () => dc.stepBackRequest(T));
    assert.equal(`${await at(dc)} ${whole.body.reason}`, '9:outcome step');
  } finally {
    await dc.stop();
  }
});
