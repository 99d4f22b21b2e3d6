import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadRanker, loadRankerSteps } from '../../src/core/rankers';
import { Slice } from '../../src/core/slice/reader';
import { writeSlice } from '../../src/core/slice/writer';
import { RECORDS_PER_STEP } from '../../src/core/steps';
import { UserError } from '../../src/core/errors';
import { BASE_MANIFEST, fixture, tmp } from '../helpers';

test('an embedding ranker over a large catalogue loads a slice of work at a time, and scores as the dot products of its vectors', () => {
  const n = 3 * RECORDS_PER_STEP;
  const f = fixture(5, { items: n });
  // Half the items carry their vector in the slice, the other half in the artifact.
  const vec = (i: number) => [Math.sin(i), Math.cos(i), i % 3, 0.5];
  f.items.forEach((it, i) => i % 2 === 0 && (it.embedding = vec(i)));
  f.users.forEach((u, i) => (u.embedding = [1, i, -1, 2]));
  const dir = join(tmp(), 'emb.slice');
  writeSlice(dir, { manifest: BASE_MANIFEST, ...f }, { frozenAt: '2025-01-02T00:00:00.000Z' });
  const artifact = join(tmp(), 'emb.json');
  writeFileSync(artifact, JSON.stringify({ dim: 4, items: Object.fromEntries(f.items.flatMap((it, i) => (i % 2 === 1 ? [[it.id, vec(i)]] : []))) }));
  const slice = Slice.open(dir);
  try {
    const steps = loadRankerSteps(`embedding:${artifact}`, { slice });
    let pauses = 0;
    let r = steps.next();
    for (; !r.done; r = steps.next()) pauses++;
    assert.ok(pauses >= 5, `${pauses} pauses loading ${n} item vectors`);
    const ranker = r.value;
    const event = f.events[0]!;
    const rows = event.candidates.map((c) => ({ item: c.item }));
    const got = ranker.score({ event, rows } as never) as Float64Array;
    const user = f.users.find((u) => u.id === event.user)!.embedding as number[];
    const want = rows.map((row) => {
      const i = Number(row.item.slice(1));
      return vec(i).reduce((s, x, d) => s + (user[d] as number) * x, 0);
    });
    assert.deepEqual([...got], want);
    // Loaded at once, the same ranker.
    assert.deepEqual([...(loadRanker(`embedding:${artifact}`, { slice }).score({ event, rows } as never) as Float64Array)], want);
  } finally {
    slice.close();
  }
});

test('an embedding artifact whose "dim" no vector has is refused naming the vector, whatever its size', () => {
  const artifact = join(tmp(), 'huge.json');
  writeFileSync(artifact, JSON.stringify({ dim: 100_000_000, users: { u1: [1, 2, 3] }, items: {} }));
  assert.throws(() => loadRanker(`embedding:${artifact}`), (e: unknown) => e instanceof UserError && /vector must hold 100000000 finite numbers/.test(e.message) && e.where.field === 'users.u1');
});
