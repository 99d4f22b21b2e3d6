import { mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runHeadless } from '../../src/core/engine/run';
import { loadRanker, loadRankerAsync, loadRankerSteps } from '../../src/core/rankers';
import { Slice } from '../../src/core/slice/reader';
import { UserTable } from '../../src/core/slice/userTable';
import { writeSlice } from '../../src/core/slice/writer';
import { RECORDS_PER_STEP } from '../../src/core/steps';
import { UserError } from '../../src/core/errors';
import { packArtifact } from '../../src/core/rankers/embeddingThread';
import { artifactThreads } from '../../src/core/rankers/artifacts';
import { BASE_MANIFEST, caught, fixture, tmp, turnCounter } from '../helpers';

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

test('an embedding ranker reads the users\' vectors from the slice without keeping the users parsed (a million stayed in the adapter for the session)', () => {
  const f = fixture(5);
  const extra = Array.from({ length: 2000 }, (_, i) => ({ id: `x${i}`, segment: 'new', features: { age: 30 } }));
  f.users.push(...extra);
  f.users.forEach((u, i) => (u.embedding = [1, i % 7, -1, 2]));
  const dir = join(tmp(), 'emb.slice');
  writeSlice(dir, { manifest: BASE_MANIFEST, ...f }, { frozenAt: '2025-01-02T00:00:00.000Z' });
  const artifact = join(tmp(), 'emb.json');
  writeFileSync(artifact, JSON.stringify({ dim: 4, items: Object.fromEntries(f.items.map((it, i) => [it.id, [i, 1, 0, 0]])) }));
  // Opened twice: the second open indexes users.jsonl and parses a user when asked (the first checked it whole).
  Slice.open(dir).close();
  const slice = Slice.open(dir);
  const kept = mock.method(UserTable.prototype, 'at');
  try {
    const ranker = loadRanker(`embedding:${artifact}`, { slice });
    assert.equal(kept.mock.callCount(), 0, 'no user kept parsed by loading the ranker');
    const event = f.events[0]!;
    const rows = event.candidates.map((c) => ({ item: c.item }));
    const user = f.users.find((u) => u.id === event.user)!.embedding as number[];
    const want = rows.map((row) => Number(row.item.slice(1)) * (user[0] as number) + (user[1] as number));
    assert.deepEqual([...(ranker.score({ event, rows } as never) as Float64Array)], want);
  } finally {
    kept.mock.restore();
    slice.close();
  }
});

test('an embedding artifact whose "dim" no vector has is refused naming the vector, whatever its size', () => {
  const artifact = join(tmp(), 'huge.json');
  writeFileSync(artifact, JSON.stringify({ dim: 100_000_000, users: { u1: [1, 2, 3] }, items: {} }));
  assert.throws(() => loadRanker(`embedding:${artifact}`), (e: unknown) => e instanceof UserError && /vector must hold 100000000 finite numbers/.test(e.message) && e.where.field === 'users.u1');
});

test('loadRankerAsync reads an embedding artifact on a thread of its own: the caller\'s event loop turns meanwhile, and the ranker is the one loadRanker makes', async () => {
  const n = 20_000;
  const f = fixture(5, { items: n });
  f.users.forEach((u, i) => (u.embedding = [i, 1, -1, 0.25]));
  f.items.forEach((it, i) => i % 3 === 0 && (it.embedding = [1, 2, 3, i % 5]));
  const dir = join(tmp(), 'emb.slice');
  writeSlice(dir, { manifest: BASE_MANIFEST, ...f }, { frozenAt: '2025-01-02T00:00:00.000Z' });
  const artifact = join(tmp(), 'emb.json');
  const items = Object.fromEntries(f.items.flatMap((it, i) => (i % 3 === 0 ? [] : [[it.id, [Math.sin(i), Math.cos(i), i % 7, -0.5]]])));
  writeFileSync(artifact, JSON.stringify({ dim: 4, users: { __proto__x: [1, 1, 1, 1] }, items, model: 'two-tower' }));
  const slice = Slice.open(dir);
  try {
    const counter = turnCounter();
    const ranker = await loadRankerAsync(`embedding:${artifact}`, { slice });
    counter.stop();
    assert.ok(counter.turns >= 3, `the event loop turned ${counter.turns} times while the artifact loaded`);
    const sync = loadRanker(`embedding:${artifact}`, { slice });
    assert.deepEqual(ranker.info, sync.info);
    assert.deepEqual(ranker.warnings, sync.warnings);
    assert.match((ranker.warnings ?? []).join(' '), /"model" is not one the embedding ranker reads/);
    for (const event of f.events) {
      const rows = event.candidates.map((c) => ({ item: c.item }));
      assert.deepEqual(ranker.score({ event, rows } as never), sync.score({ event, rows } as never));
    }
  } finally {
    slice.close();
  }
});

test('loadRankerAsync reads an embedding artifact under 64 KiB on the caller\'s thread, and gives the ranker a thread gives (and loadRanker)', async () => {
  const f = fixture(6, { items: 30 });
  const dir = join(tmp(), 'small-emb.slice');
  writeSlice(dir, { manifest: BASE_MANIFEST, ...f }, { frozenAt: '2025-01-02T00:00:00.000Z' });
  const artifact = join(tmp(), 'small-emb.json');
  const text = JSON.stringify({ dim: 3, users: Object.fromEntries(f.users.map((u, i) => [u.id, [i, 1, -1]])), items: Object.fromEntries(f.items.map((it, i) => [it.id, [Math.sin(i), 0.5, i % 4]])) });
  writeFileSync(artifact, text);
  assert.ok(text.length < artifactThreads.from);
  const slice = Slice.open(dir);
  const was = artifactThreads.from;
  try {
    const sync = loadRanker(`embedding:${artifact}`, { slice });
    for (const [threadFrom, parsedHere] of [[was, 1], [0, 0]] as const) {
      artifactThreads.from = threadFrom;
      const parse = mock.method(JSON, 'parse');
      let ranker;
      try {
        ranker = await loadRankerAsync(`embedding:${artifact}`, { slice });
        assert.equal(parse.mock.calls.filter((c) => c.arguments[0] === text).length, parsedHere, `threads from ${threadFrom} bytes`);
      } finally {
        parse.mock.restore();
      }
      assert.deepEqual(ranker.info, sync.info);
      assert.deepEqual(ranker.warnings, sync.warnings);
      for (const event of f.events) {
        const rows = event.candidates.map((c) => ({ item: c.item }));
        assert.deepEqual(ranker.score({ event, user: slice.userById.get(event.user), rows } as never), sync.score({ event, user: slice.userById.get(event.user), rows } as never));
      }
    }
  } finally {
    artifactThreads.from = was;
    slice.close();
  }
});

test('loadRankerAsync says what is wrong with an artifact exactly as loadRanker does (it reads a bad one itself)', async () => {
  const dir = tmp();
  const cases: Record<string, string | Buffer> = {
    'short vector': JSON.stringify({ dim: 3, items: { a: [1, 2] } }),
    'NaN in JSON': '{"dim": 2, "items": {"a": [1, NaN]}}',
    'not an object': '[1, 2]',
    'bad dim': JSON.stringify({ dim: 0 }),
    'users not an object': JSON.stringify({ dim: 2, users: [1] }),
    'Latin-1': Buffer.from('{"dim": 1, "items": {"caf\xe9": [1]}}', 'latin1'),
  };
  for (const [name, content] of Object.entries(cases)) {
    const file = join(dir, `${name}.json`);
    writeFileSync(file, content);
    const sync = caught(() => loadRanker(`embedding:${file}`));
    await assert.rejects(loadRankerAsync(`embedding:${file}`), (e: unknown) => e instanceof UserError && e.describe() === sync.describe(), name);
  }
  await assert.rejects(loadRankerAsync(`embedding:${join(dir, 'missing.json')}`), /embedding artifact not found/);
});

test('an embedding artifact\'s "version" goes into the ranker info, so the trace header and run record name it (as a linear artifact\'s does); it was left out', async () => {
  const dir = join(tmp(), 'ver.slice');
  writeSlice(dir, { manifest: BASE_MANIFEST, ...fixture(5) }, { frozenAt: '2025-01-02T00:00:00.000Z' });
  for (const [written, info] of [['"2025.07"', '2025.07'], ['12', '12'], ['null', undefined]] as const) {
    const artifact = join(tmp(), 'emb.json');
    writeFileSync(artifact, `{"name": "two-tower", "version": ${written}, "dim": 1, "users": {"u1": [1]}, "items": {"i1": [2]}}`);
    assert.equal(loadRanker(`embedding:${artifact}`).info.version, info);
    assert.equal((await loadRankerAsync(`embedding:${artifact}`)).info.version, info);
  }
  const artifact = join(tmp(), 'emb.json');
  writeFileSync(artifact, '{"version": "v3", "dim": 1, "users": {"u1": [1]}, "items": {"i1": [2]}}');
  const out = tmp();
  const r = await runHeadless({ slice: dir, ranker: `embedding:${artifact}`, traceDir: out }, { now: () => '2025-01-01T00:00:00.000Z', user: 'u', host: 'h', cwd: process.cwd() });
  r.replayer.dispose();
  const header = JSON.parse(readFileSync(join(out, 'trace.jsonl'), 'utf8').split('\n')[0] as string);
  assert.equal(header.ranker.version, 'v3');
  assert.equal(JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')).config.ranker.version, 'v3');
});

test('an embedding artifact that gives an id two vectors is warned about with the line of the second (JSON keeps it and drops the first without a word), on the thread as at once; arrays elsewhere are not mistaken for one', async () => {
  const artifact = join(tmp(), 'emb.json');
  writeFileSync(artifact, '{"dim": 2,\n "users": {"u1": [1, 0]},\n "items": {"i1": [2, 0],\n  "i2": [0, 1],\n  "i1": [3, 0]}}');
  const want = [`embedding ranker ${artifact}: line 5: "items.i1" is written twice in one object; JSON keeps the last one, so the first is ignored: remove one of them`];
  assert.deepEqual(loadRanker(`embedding:${artifact}`).warnings, want);
  assert.deepEqual((await loadRankerAsync(`embedding:${artifact}`)).warnings, want);
  // Found by the thread itself (not by the fallback that reads the file here).
  assert.deepEqual((await packArtifact(artifact))?.repeats, [{ field: 'items.i1', line: 5 }]);
  // Arrays that are no vectors (an unknown key's list) make the full scan run, and it finds no repeat.
  writeFileSync(artifact, '{"dim": 1, "tags": ["a", "b"], "users": {"u1": [1]}, "items": {"i[1]": [2]}}');
  const tagsOnly = [`embedding ranker ${artifact}: the artifact's key "tags" is not one the embedding ranker reads, and is ignored`];
  assert.deepEqual(loadRanker(`embedding:${artifact}`).warnings, tagsOnly);
  assert.deepEqual((await loadRankerAsync(`embedding:${artifact}`)).warnings, tagsOnly);
});
