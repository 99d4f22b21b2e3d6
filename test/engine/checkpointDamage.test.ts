import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, openSync, readFileSync, readdirSync, statSync, truncateSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointStore, spillParentName } from '../../src/core/engine/checkpoints';
import { Replayer } from '../../src/core/engine/replay';
import { UserError } from '../../src/core/errors';
import { MetricsAccumulator } from '../../src/core/metrics';
import { PopularityRanker, RecordedRanker } from '../../src/core/rankers/builtin';
import type { Ranker } from '../../src/core/rankers/types';
import { Slice } from '../../src/core/slice/reader';
import { makeSlice, tmp } from '../helpers';

/** Everything a seek must restore, as comparable text (typed arrays as plain arrays, non-finite numbers kept). */
function fingerprint(r: Replayer): string {
  return JSON.stringify({ state: r.state.save(false), metrics: r.metrics.snapshot() }, (_k, v: unknown) => {
    if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number>, String);
    if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
    return v;
  });
}

/** The fingerprint after each event of a straight run (no seek), index = event number. */
async function straightRun(dir: string, ranker: Ranker): Promise<string[]> {
  const out: string[] = [];
  const r: Replayer = new Replayer(Slice.open(dir), { ranker, checkpointEvery: 1_000_000, spillDir: tmp(), onEventComplete: (ex) => void (out[ex.n] = fingerprint(r)) });
  await r.runToEnd();
  r.dispose();
  return out;
}

function spillFileOf(spill: string): string {
  const parent = join(spill, spillParentName());
  const d = readdirSync(parent).find((x) => x.startsWith(`${process.pid}-`));
  assert.ok(d, 'a spill folder exists');
  return join(parent, d, 'checkpoints.bin');
}

/** A replayer with a checkpoint before events 1, 6, 11, … that has completed events 1..upTo. */
async function replayedTo(dir: string, upTo: number, ranker: Ranker = new RecordedRanker()): Promise<{ r: Replayer; file: string }> {
  const spill = tmp();
  const r = new Replayer(Slice.open(dir), { ranker, checkpointEvery: 5, spillDir: spill });
  await r.seek(upTo, 6);
  return { r, file: spillFileOf(spill) };
}

/** What a failed seek must leave as it was. */
function where(r: Replayer) {
  return { position: r.position, current: r.current, state: r.state, metrics: r.metrics, fingerprint: fingerprint(r), eventsDone: r.state.eventsDone };
}

const damagedIn = (file: string, n: number) => (e: unknown) => {
  assert.ok(e instanceof UserError, `a UserError, not ${String(e)}`);
  assert.ok(e.message.includes(file), `names the spill file: ${e.message}`);
  assert.match(e.message, new RegExp(`checkpoint before event ${n} in .* is damaged`));
  assert.match(e.describe(), /step forward instead, or restart the session/);
  return true;
};

test('a spill file cut inside a checkpoint and then written past the cut fails the seek that needs it, naming the file, instead of restoring zeros', async () => {
  const dir = makeSlice(40);
  const straight = await straightRun(dir, new PopularityRanker());
  const { r, file } = await replayedTo(dir, 12, new PopularityRanker());
  // Keep checkpoint 1's header, lose its arrays: the store's next write lands past the cut and the gap reads back as zeros.
  truncateSync(file, 4 + readFileSync(file).readUInt32LE(0) + 8);
  await r.seek(30, 6);
  const held = where(r);
  await assert.rejects(r.seek(3, 6), damagedIn(file, 1));
  assert.deepEqual(where(r), held, 'the failed seek left the replayer where it was');
  // Checkpoints written after the cut are intact and restore exactly.
  await r.seek(27, 6);
  assert.equal(fingerprint(r), straight[27]);
  r.dispose();
});

test('a checkpoint whose bytes were changed in place (same size) is caught by its digest', async () => {
  const dir = makeSlice(20);
  const { r, file } = await replayedTo(dir, 12);
  const size = statSync(file).size;
  const fd = openSync(file, 'r+');
  writeSync(fd, Buffer.from([0xff, 0xfe]), 0, 2, size - 2);
  closeSync(fd);
  await assert.rejects(r.seek(11, 6), (e: unknown) => damagedIn(file, 11)(e) && /bytes differ/.test((e as Error).message));
  r.dispose();
});

test('every damaged read is the same clear error naming the file: a cut header (was a bare JSON SyntaxError), a cut file, a bad metrics pair', async () => {
  const dir = makeSlice(30);
  for (const cut of [20, 0]) {
    const { r, file } = await replayedTo(dir, 12);
    truncateSync(file, cut);
    // Steps on, so the checkpoint before 16 is written past the cut and the file is long enough again.
    await r.seek(17, 6);
    await assert.rejects(r.seek(3, 6), damagedIn(file, 1));
    r.dispose();
  }
  // Cut right after checkpoint 6's header: its arrays become a hole (the metrics restore said "bad pair").
  const { r, file } = await replayedTo(dir, 12);
  const buf = readFileSync(file);
  const at6 = firstCheckpointBytes(buf);
  truncateSync(file, at6 + 4 + buf.readUInt32LE(at6));
  await assert.rejects(r.seek(8, 6), damagedIn(file, 6));
  await r.seek(26, 6);
  await assert.rejects(r.seek(8, 6), damagedIn(file, 6));
  r.dispose();
});

/** The byte length of the first checkpoint in a spill file: its header, then its arrays. */
function firstCheckpointBytes(buf: Buffer): number {
  const len = buf.readUInt32LE(0);
  let bytes = 4 + len;
  const size: Record<string, number> = { Int32Array: 4, Float64Array: 8, Uint32Array: 4, Uint8Array: 1, Float32Array: 4, Int8Array: 1, Int16Array: 2, Uint16Array: 2 };
  JSON.parse(buf.toString('utf8', 4, 4 + len), (_k, v: { $ta?: string; n?: number }) => {
    if (v && typeof v === 'object' && typeof v.$ta === 'string') bytes += (v.n as number) * (size[v.$ta] as number);
    return v;
  });
  return bytes;
}

test('CheckpointStore: a cut spill file is named in the error, later checkpoints written past the cut read back intact', () => {
  const store = new CheckpointStore(tmp());
  store.put(1, { a: Float64Array.of(1, 2, 3), updatedAt: -1 });
  const file = store.file as string;
  truncateSync(file, 10);
  store.put(11, { a: Float64Array.of(4), updatedAt: 5 });
  assert.throws(() => store.nearest(5), (e: unknown) => damagedIn(file, 1)(e));
  assert.deepStrictEqual(store.nearest(12), { n: 11, data: { a: Float64Array.of(4), updatedAt: 5 } });
  assert.equal(store.nearestAt(10), 1, 'the event number is known without reading the damaged data');
  store.dispose();
});

test('a seek whose restore fails leaves state, metrics, current and position exactly as they were, and stepping on matches a straight run', async () => {
  const dir = makeSlice(40);
  const straight = await straightRun(dir, new RecordedRanker());
  const { r } = await replayedTo(dir, 26);
  const held = where(r);
  const restore = MetricsAccumulator.restore;
  // Fails after the state was restored: the old seek had already put that state in place.
  MetricsAccumulator.restore = () => {
    throw new Error('metrics restore failed (injected)');
  };
  try {
    await assert.rejects(r.seek(8, 6), /checkpoint before event 6 .*cannot be restored: metrics restore failed/);
  } finally {
    MetricsAccumulator.restore = restore;
  }
  assert.deepEqual(where(r), held);
  assert.equal(r.state.eventsDone, 26);
  assert.equal(r.advance(), true);
  r.finishEvent();
  assert.equal(fingerprint(r), straight[27], 'event 27 ran on the state of event 26');
  r.dispose();
});

test('a seek that fails while it re-executes from a restored checkpoint puts the old state, metrics and event back', async () => {
  const dir = makeSlice(40);
  const straight = await straightRun(dir, new RecordedRanker());
  const { r } = await replayedTo(dir, 26);
  const held = where(r);
  const restore = MetricsAccumulator.restore;
  // The restored accumulator fails at its second event: the seek has by then loaded and run events on the checkpoint's state.
  MetricsAccumulator.restore = (...args: Parameters<typeof restore>) => {
    const acc = restore(...args);
    const update = acc.update.bind(acc);
    let calls = 0;
    acc.update = (obs) => {
      if (++calls === 2) throw new Error('update failed (injected)');
      return update(obs);
    };
    return acc;
  };
  try {
    await assert.rejects(r.seek(9, 6), /update failed/);
  } finally {
    MetricsAccumulator.restore = restore;
  }
  assert.deepEqual(where(r), held);
  assert.equal(r.advance(), true);
  r.finishEvent();
  assert.equal(fingerprint(r), straight[27]);
  r.dispose();
});

test('a forward seek that continues from the current event does not read the checkpoint it passes (a damaged one does not fail it)', async () => {
  const dir = makeSlice(30);
  const straight = await straightRun(dir, new RecordedRanker());
  const { r, file } = await replayedTo(dir, 12);
  // The last checkpoint written is the one before event 11: cut its last byte.
  truncateSync(file, statSync(file).size - 1);
  await r.seek(14, 6);
  assert.equal(fingerprint(r), straight[14]);
  await assert.rejects(r.seek(11, 6), damagedIn(file, 11));
  assert.deepEqual(r.position, { event: 14, stage: 6 });
  r.dispose();
});

/** Scores the recorded scores one turn of the event loop later, like a process or HTTP ranker. */
const asyncRanker = (): Ranker => ({
  info: { kind: 'async-recorded' },
  score: (req) => new Promise((resolve) => setImmediate(() => resolve(req.rows.map((row) => row.rec.score ?? 0)))),
});

test('with an asynchronous ranker, a move while a seek is in progress is refused, not silently dropped', async () => {
  const dir = makeSlice(40);
  const straight = await straightRun(dir, asyncRanker());
  const { r } = await replayedTo(dir, 40, asyncRanker());
  const a = r.seek(30, 4);
  await assert.rejects(r.seek(12, 2), /Cannot seek: a seek is already in progress/);
  assert.throws(() => r.step(), /Cannot step: a seek is already in progress/);
  assert.throws(() => r.advance(), /Cannot advance: a seek is already in progress/);
  assert.throws(() => r.finishEvent(), /a seek is already in progress/);
  await assert.rejects(r.runToEnd(), /a seek is already in progress/);
  await a;
  assert.deepEqual(r.position, { event: 30, stage: 4 });
  await r.finishEvent();
  assert.equal(fingerprint(r), straight[30]);
  // A pending asynchronous step is a move in progress too; once it settles the replayer moves again.
  assert.equal(r.advance(), true);
  while (r.nextStage !== 'score') assert.equal(r.step(), undefined);
  const s = r.step();
  assert.ok(s instanceof Promise, 'the score stage waits for the ranker');
  assert.throws(() => r.step(), /a step is already in progress/);
  await s;
  await r.seek(12, 2);
  assert.deepEqual(r.position, { event: 12, stage: 2 });
  r.dispose();
});

test('checkpointEvery must be a finite number >= 1: NaN took no checkpoints at all', () => {
  const slice = Slice.open(makeSlice(5));
  for (const bad of [Number.NaN, Infinity, 0, -3, 0.5]) {
    assert.throws(() => new Replayer(slice, { ranker: new RecordedRanker(), checkpointEvery: bad }), (e: unknown) => e instanceof RangeError && /checkpointEvery must be a finite number of events >= 1, but it is/.test(e.message), String(bad));
  }
  const r = new Replayer(slice, { ranker: new RecordedRanker(), checkpointEvery: 2.5 });
  assert.equal(r.checkpointEvery, 2);
  r.dispose();
});

test('a seed from the API is a whole number from 0 to 4294967295, as in slice.json and the CLI', () => {
  const slice = Slice.open(makeSlice(5));
  try {
    for (const bad of [-1, 1.5, 2 ** 32, Number.NaN]) {
      assert.throws(() => new Replayer(slice, { ranker: new RecordedRanker(), seed: bad }), (e: unknown) => e instanceof RangeError && /seed must be a whole number from 0 to 4294967295, but it is/.test(e.message), String(bad));
    }
    new Replayer(slice, { ranker: new RecordedRanker(), seed: 0xffffffff }).dispose();
  } finally {
    slice.close();
  }
});
