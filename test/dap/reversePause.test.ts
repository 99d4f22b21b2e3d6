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
async function session(checkpointEvery: number, pauseAt: number) {
  let armed = false;
  const cfg = parseLaunchArguments({ ...LATENCY, checkpointEvery }, process.cwd());
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
