import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CancelledError, runHeadless } from '../../src/core/engine/run';
import { makeSlice, tmp } from '../helpers';

// What `recreplay run` promises for Ctrl-C (docs/cli.md): a cancel anywhere in the replay writes
// no trace. The CLI's signal handler only sets the flag isCancelled reads, so these drive
// runHeadless as the CLI does; cli.test.ts sends real signals.

const host = { now: () => '2025-01-01T00:00:00.000Z', user: 'tester', host: 'ci', cwd: resolve(__dirname, '../..') };

test('a cancel during the last event of a slice under 1,000 events (no progress mark) writes no trace and no run record', async () => {
  const dir = makeSlice(650);
  const parent = tmp();
  let cancel = false;
  await assert.rejects(
    () =>
      runHeadless(
        {
          slice: dir,
          ranker: 'recorded',
          traceDir: join(parent, 'made'),
          isCancelled: () => cancel,
          // Flips as the last event completes: after every check the replay loop makes.
          stopWhen: (ex) => {
            if (ex.n === 650) cancel = true;
            return false;
          },
        },
        host,
      ),
    CancelledError,
  );
  assert.deepEqual(readdirSync(parent), [], 'no trace.jsonl, no run.json, no temp file, and the folder the run made is gone');
});

test('a cancel set from the event loop (as a signal handler sets it) while a small slice replays is not swallowed, with or without a trace', async () => {
  const dir = makeSlice(900);
  for (const withTrace of [true, false]) {
    const parent = tmp();
    let cancel = false;
    // Runs at the first turn of the event loop, which a synchronous ranker's replay of 900 events never gives.
    setImmediate(() => (cancel = true));
    await assert.rejects(
      () => runHeadless({ slice: dir, ranker: 'recorded', ...(withTrace ? { traceDir: join(parent, 'made') } : {}), isCancelled: () => cancel }, host),
      CancelledError,
      withTrace ? 'with --trace' : 'without --trace',
    );
    assert.deepEqual(readdirSync(parent), []);
  }
});
