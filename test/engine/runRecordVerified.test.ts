import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runHeadless } from '../../src/core/engine/run';
import { Slice } from '../../src/core/slice/reader';
import { makeSlice, tmp } from '../helpers';

const host = { now: () => '2025-01-01T00:00:00.000Z', user: 'u', host: 'h', cwd: process.cwd() };

test('the run record says whether every chunk of events.jsonl was checked: not when a stop ended the run early on a cached index', async () => {
  process.env['RECREPLAY_CACHE_DIR'] = tmp();
  const dir = makeSlice(300, { chunkSize: 1024 });
  // Opened once: the index is cached, so later opens check chunks as they are read.
  Slice.open(dir).close();
  const record = (traceDir: string) => JSON.parse(readFileSync(join(traceDir, 'run.json'), 'utf8')) as { slice: { modified: string[]; eventsVerified: boolean }; stoppedAt?: { event: number } };
  const early = join(tmp(), 'early');
  const r1 = await runHeadless({ slice: dir, ranker: 'recorded', traceDir: early, stopWhen: (ex) => ex.n === 5 }, host);
  r1.replayer.dispose();
  assert.equal(record(early).stoppedAt?.event, 5);
  assert.deepEqual(record(early).slice.modified, []);
  assert.equal(record(early).slice.eventsVerified, false);
  const full = join(tmp(), 'full');
  const r2 = await runHeadless({ slice: dir, ranker: 'recorded', traceDir: full }, host);
  r2.replayer.dispose();
  assert.equal(record(full).slice.eventsVerified, true);
});
