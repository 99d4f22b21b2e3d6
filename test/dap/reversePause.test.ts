// A pause during reverse continue must not skip hits: the scan replays each checkpoint segment
// forwards, so the forward position inside a segment is not a place everything after was checked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Controller, type RunResult } from '../../src/debugAdapter/controller';
import { discardLanes, openLanes, type RankerLoader } from '../../src/debugAdapter/lanes';
import { parseLaunchArguments } from '../../src/debugAdapter/launchConfig';
import { lineLogger } from '../../src/debugAdapter/logger';
import { Triggers } from '../../src/debugAdapter/triggers';
import { loadRanker } from '../../src/core/rankers';
import { LATENCY } from './helpers';

/**
 * An in-process session whose ranker asks for a pause when the replay scores event `pauseAt`
 * while armed. With yieldMs 0 the controller hears a pause within 16 stages (about 3 events),
 * whatever the speed of the machine: the pause is heard inside the segment being scanned.
 */
async function session(checkpointEvery: number, pauseAt: number, extra: { baseline?: string } = {}) {
  let armed = false;
  const cfg = parseLaunchArguments({ ...LATENCY, ...extra, checkpointEvery }, process.cwd());
  const load: RankerLoader = (spec, ctx) => {
    const inner = loadRanker(spec, ctx);
    return {
      info: inner.info,
      score: (req) => {
        if (armed && lanes.primary.replayer.current?.n === pauseAt) {
          armed = false;
          c.requestPause();
        }
        return inner.score(req);
      },
    };
  };
  const lanes = await openLanes(cfg, lineLogger(() => {}), load);
  const triggers = new Triggers(lanes.lanes, lanes.primary, () => {});
  // The ranker above reads `c` only when it scores, after this line has run.
  const c = new Controller(lanes, triggers, () => {}, { yieldMs: 0 });
  const on = (r: RunResult) => (typeof r === 'symbol' ? 'cancelled' : `${r.reason} ${c.position.event}:${c.position.stagesDone}`);
  const breakAt = (line: number) => {
    triggers.bps.setLines([{ line }], lanes.slice.eventCount, lanes.env, { path: join(LATENCY.slice, 'events.jsonl') });
    triggers.refresh();
  };
  return { c, lanes, on, breakAt, arm: () => (armed = true) };
}

test('a pause during reverse continue (one segment) lands where everything after was searched: the next reverse continue finds the breakpoint', async () => {
  const s = await session(1000, 500);
  try {
    s.c.start();
    assert.equal(s.on(await s.c.goto(900)), 'goto 900:6');
    s.breakAt(600);
    s.arm();
    const paused = s.on(await s.c.reverseContinue());
    assert.match(paused, /^pause /);
    const at = s.c.position.event;
    assert.ok(at > 600, `paused at ${paused}: not below the breakpoint the scan had not reached yet`);
    assert.equal(s.on(await s.c.reverseContinue()), 'breakpoint 600:6');
  } finally {
    discardLanes(s.lanes);
  }
});

test('a pause during reverse continue (many segments) lands at the start of the segments fully searched', async () => {
  // checkpointEvery 100: the scan goes 801–900, 701–801, 601–701; paused while scanning 620–663.
  const s = await session(100, 620);
  try {
    s.c.start();
    await s.c.goto(900);
    s.breakAt(690);
    s.arm();
    assert.equal(s.on(await s.c.reverseContinue()), 'pause 701:0', 'the start of the last segment searched to its end');
    assert.equal(s.on(await s.c.reverseContinue()), 'breakpoint 690:6');
  } finally {
    discardLanes(s.lanes);
  }
});

// A step back or goto restores the checkpoint before its target and re-executes up to it: with a
// large checkpoint interval that is a long run, which pause must stop as it stops a continue.
// (latency-cascade: 900 events of 16 candidates, so the seek gives the event loop a turn about
// every 680 events; one checkpoint, at event 1, when the interval is 1,000.)
test('a pause during a long step back stops the re-execution at the end of an event before the target', async () => {
  const s = await session(1000, 300);
  try {
    s.c.start();
    assert.equal(s.on(await s.c.goto(900)), 'goto 900:6');
    s.arm();
    const paused = s.on(await s.c.stepBack(false));
    const m = /^pause (\d+):6$/.exec(paused);
    assert.ok(m, `paused, at the end of an event: ${paused}`);
    const at = Number(m[1]);
    assert.ok(at > 300 && at < 899, `stopped on the way (after the pause was asked, before 899): ${paused}`);
    // The replay is where it says: the current event is that one, complete, and a step moves on from it.
    assert.equal(s.lanes.primary.replayer.current?.n, at);
    assert.equal(s.on(await s.c.stepIn()), `step ${at + 1}:1`);
    // Not paused again: the pause was for the movement it cut short.
    assert.equal(s.on(await s.c.goto(899)), 'goto 899:6');
  } finally {
    discardLanes(s.lanes);
  }
});

test('a pause during a long backward goto in compare mode leaves both lanes at the same event', async () => {
  const s = await session(1000, 300, { baseline: 'recorded' });
  try {
    s.c.start();
    await s.c.goto(900);
    s.arm();
    const paused = s.on(await s.c.goto(850));
    assert.match(paused, /^pause \d+:6$/);
    assert.equal(s.lanes.lanes.length, 2);
    const [a, b] = s.lanes.lanes.map((l) => l.replayer.current);
    assert.equal(a?.n, b?.n, 'the lanes stay in lockstep');
    assert.equal(a?.stagesDone, 6);
    assert.ok((a?.n ?? 0) < 850, `stopped before the target: ${paused}`);
  } finally {
    discardLanes(s.lanes);
  }
});

test('a step back that nobody pauses still reaches its target with a large checkpoint interval', async () => {
  const s = await session(1000, 300);
  try {
    s.c.start();
    await s.c.goto(900);
    assert.equal(s.on(await s.c.stepBack(false)), 'step 899:6');
  } finally {
    discardLanes(s.lanes);
  }
});
