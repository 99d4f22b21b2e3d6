import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StepsCancelled, pacer, runSteps, runStepsAsync, type Steps } from '../src/core/steps';

/** Three slices of work; `log` records what ran, and whether its cleanup ran. */
function* work(log: string[]): Steps<number> {
  try {
    log.push('a');
    yield;
    log.push('b');
    yield;
    log.push('c');
    return 42;
  } catch (e) {
    log.push(`caught ${(e as Error).name}`);
    throw e;
  } finally {
    log.push('cleanup');
  }
}

test('runSteps runs every slice at once and returns the result', () => {
  const log: string[] = [];
  assert.equal(runSteps(work(log)), 42);
  assert.deepEqual(log, ['a', 'b', 'c', 'cleanup']);
});

test('runStepsAsync pauses between slices (others run in between) and returns the same result', async () => {
  const log: string[] = [];
  const result = await runStepsAsync(work(log), { pause: async () => void log.push('pause') });
  assert.equal(result, 42);
  assert.deepEqual(log, ['a', 'pause', 'b', 'pause', 'c', 'cleanup']);
});

test('runStepsAsync yields to the event loop by default: an immediate queued as it starts runs before its last slice', async () => {
  const log: string[] = [];
  const p = runStepsAsync(work(log));
  setImmediate(() => log.push('other'));
  await p;
  assert.ok(log.indexOf('other') > 0 && log.indexOf('other') < log.indexOf('c'), log.join(' '));
});

test('a cancelled run throws StepsCancelled into the work, whose catch and finally release what it holds', async () => {
  const log: string[] = [];
  let pauses = 0;
  await assert.rejects(runStepsAsync(work(log), { pause: async () => void pauses++, cancelled: () => pauses >= 2 }), StepsCancelled);
  assert.deepEqual(log, ['a', 'b', 'caught StepsCancelled', 'cleanup']);
});

test('a pacer gives a turn of the event loop each time its limit of work has added up, and nothing to await in between', async () => {
  const pace = pacer(10);
  assert.equal(pace.add(4), undefined);
  assert.equal(pace.add(5), undefined);
  let other = false;
  setImmediate(() => (other = true));
  const turn = pace.add(1);
  assert.ok(turn instanceof Promise, 'the limit is reached: a turn');
  await turn;
  assert.equal(other, true, 'the turn let an immediate queued before it run');
  assert.equal(pace.add(9), undefined, 'counted afresh after a turn');
  assert.ok(pace.add(25) instanceof Promise);
});
