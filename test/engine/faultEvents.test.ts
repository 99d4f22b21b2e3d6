// A run record's fault counts are per fault: a ranker that scores NaN raises one nan_score per
// candidate, so `faults` alone said 40 where 5 events were at fault. `faultEvents` says how many
// events raised each kind, as `run --json` already did.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runHeadless } from '../../src/core/engine/run';
import type { Ranker } from '../../src/core/rankers/types';
import { makeSlice, tmp } from '../helpers';

const HOST = { now: () => '2025-01-01T00:00:00.000Z', user: 'u', host: 'h', cwd: process.cwd() };

test('run.json counts the events that raised each fault kind beside the faults themselves', async () => {
  const slice = makeSlice(5);
  const nan: Ranker = { info: { kind: 'code:nan' }, score: (req) => req.rows.map(() => Number.NaN) };
  const traceDir = join(tmp(), 'run');
  const r = await runHeadless({ slice, ranker: nan, traceDir }, HOST);
  r.replayer.dispose();
  const record = JSON.parse(readFileSync(join(traceDir, 'run.json'), 'utf8'));
  const candidates = readFileSync(join(slice, 'events.jsonl'), 'utf8').trim().split('\n').reduce((n, l) => n + (JSON.parse(l) as { candidates: unknown[] }).candidates.length, 0);
  assert.ok(candidates > 5);
  assert.equal(record.faults.nan_score, candidates);
  assert.equal(record.faultEvents.nan_score, 5);
  // Key for key as the faults, and as run --json says them.
  assert.deepEqual(Object.keys(record.faultEvents), Object.keys(record.faults));
  for (const [kind, s] of Object.entries(r.faults)) assert.equal(record.faultEvents[kind], s?.events, kind);
});
