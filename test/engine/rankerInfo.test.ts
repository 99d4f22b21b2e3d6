// A ranker of the caller's own (examples/custom-ranker.ts) names itself in `info`, which the trace
// header and the run record hold. An info JSON cannot hold is refused before the replay: a BigInt or
// a cycle failed with a bare TypeError only when run.json was written, after every event.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runHeadless } from '../../src/core/engine/run';
import { UserError } from '../../src/core/errors';
import type { Ranker } from '../../src/core/rankers/types';
import { makeSlice, openOn, tmp } from '../helpers';

const HOST = { now: () => '2025-01-01T00:00:00.000Z', user: 'u', host: 'h', cwd: process.cwd() };

function ranker(info: unknown, scored: { n: number }): Ranker {
  return { info: info as Ranker['info'], score: (req) => ((scored.n += 1), req.rows.map(() => 0.5)) };
}

test('a ranker whose info JSON cannot hold is refused before any event is scored, naming the field; nothing is written and the slice is closed', async () => {
  const slice = makeSlice(5);
  const cyclic: Record<string, unknown> = { kind: 'code:cyclic' };
  cyclic['self'] = cyclic;
  const cases: [unknown, RegExp][] = [
    [{ kind: 'code:big', params: { seed: 12n } }, /^the ranker's info\.params\.seed is a BigInt \(12n\), which JSON cannot hold/],
    [{ kind: 'code:inf', threshold: Infinity }, /^the ranker's info\.threshold is Infinity, which JSON cannot hold: the run record would read null/],
    [cyclic, /^the ranker's info cannot be written as JSON: Converting circular structure to JSON/],
    [{ version: '1' }, /^the ranker's info must be an object with a non-empty string "kind"/],
    [undefined, /^the ranker's info must be an object with a non-empty string "kind", but it is undefined/],
  ];
  for (const [info, message] of cases) {
    const scored = { n: 0 };
    const traceDir = join(tmp(), 'run');
    await assert.rejects(
      runHeadless({ slice, ranker: ranker(info, scored), traceDir }, HOST),
      (e: unknown) => e instanceof UserError && message.test(e.message) && /plain JSON values/.test(e.hint ?? ''),
    );
    assert.equal(scored.n, 0, 'no event was scored');
    assert.ok(!existsSync(traceDir), 'no trace folder');
    assert.equal(openOn(join(slice, 'events.jsonl')), 0, 'events.jsonl is not left open');
  }
  // A plain info goes into the run record as it is.
  const traceDir = join(tmp(), 'ok');
  const r = await runHeadless({ slice, ranker: ranker({ kind: 'code:ok', version: '2', params: { alpha: 0.5 } }, { n: 0 }), traceDir }, HOST);
  r.replayer.dispose();
  const record = JSON.parse(readFileSync(join(traceDir, 'run.json'), 'utf8')) as { config: { ranker: unknown } };
  assert.deepEqual(record.config.ranker, { kind: 'code:ok', version: '2', params: { alpha: 0.5 } });
});
