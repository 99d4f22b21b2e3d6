import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runHeadless } from '../../src/core/engine/run';
import { writeSlice } from '../../src/core/slice/writer';
import { BASE_MANIFEST, fixture, tmp } from '../helpers';
import { client, launch, moveAndStop } from './helpers';

const host = { now: () => '', user: 'u', host: 'h', cwd: process.cwd() };

/**
 * A slice where a quarter of the items are missing from items.jsonl (the replay state interns them
 * as they appear), and the last 20 events each bring one more: ids first seen in the trace's last batch.
 */
function sliceWithUnknownItems(n: number, chunkSize?: number): string {
  const f = fixture(n, { items: 40 });
  for (const e of f.events.slice(-20)) {
    const late = `late-${e.id}`;
    // Scored first, so the recorded ranker serves it and its id is in the trace.
    Object.assign(e.candidates[0] as object, { item: late, score: 2 });
    e.served[0] = late;
  }
  const dir = join(tmp(), 'unknown.slice');
  writeSlice(dir, { manifest: BASE_MANIFEST, ...f, items: f.items.filter((_, i) => i % 4 !== 3) }, { frozenAt: '2025-01-02T00:00:00.000Z', ...(chunkSize ? { chunkSize } : {}) });
  return dir;
}

async function headlessTrace(slice: string, ranker: string): Promise<string> {
  const out = tmp();
  const r = await runHeadless({ slice, ranker, traceDir: out }, host);
  r.replayer.dispose();
  return readFileSync(join(out, 'trace.jsonl'), 'utf8');
}

/** The session writes its traces after the disconnect: wait for the run record, written last. */
async function written(dir: string): Promise<string> {
  for (let i = 0; i < 200 && !existsSync(join(dir, 'run.json')); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(existsSync(join(dir, 'run.json')), `no trace in ${dir}`);
  return readFileSync(join(dir, 'trace.jsonl'), 'utf8');
}

test('a session that ends after stepping back writes the trace a straight run writes, items missing from the catalogue included', async () => {
  const slice = sliceWithUnknownItems(300);
  const out = tmp();
  const dc = await client();
  try {
    await launch(dc, { slice, ranker: 'recorded', trace: out, stopOnEntry: true });
    assert.equal((await moveAndStop(dc, () => dc.continueRequest({ threadId: 1 }))).body.reason, 'end');
    // Back to the start: the state the session holds when it ends knows none of the later ids.
    await moveAndStop(dc, () => dc.reverseContinueRequest({ threadId: 1 }));
  } finally {
    await dc.stop();
  }
  const trace = await written(out);
  assert.ok(trace.includes('"late-e300"'));
  // The recorded system figures too (trace format /2).
  assert.ok(trace.includes(',"system":{"queueDepth":8,"cache":{"hits":9,"misses":1}},'));
  assert.equal(trace, await headlessTrace(slice, 'recorded'));
});

test('compare mode: after a step back both lanes write their traces (one lane finishing no longer closes the slice the other still reads)', async () => {
  // Small chunks: the candidate lane's seek back to its last traced event reads blocks through a reader thread.
  const slice = sliceWithUnknownItems(1000, 4096);
  const out = tmp();
  const dc = await client();
  try {
    await launch(dc, { slice, ranker: 'popularity', baseline: 'recorded', trace: out, stopOnEntry: true, checkpointEvery: 500 });
    assert.equal((await moveAndStop(dc, () => dc.continueRequest({ threadId: 3 }))).body.reason, 'end');
    for (let i = 0; i < 7; i++) await moveAndStop(dc, () => dc.stepBackRequest({ threadId: 3 }));
  } finally {
    await dc.stop();
  }
  assert.equal(await written(join(out, 'baseline')), await headlessTrace(slice, 'recorded'));
  assert.equal(await written(join(out, 'candidate')), await headlessTrace(slice, 'popularity'));
});
