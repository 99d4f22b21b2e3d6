import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { writeFileSync } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { join } from 'node:path';
import { makeDigester } from '../../src/core/slice/digest';
import { BlockPrefetcher } from '../../src/core/slice/prefetch';
import { tmp } from '../helpers';

/**
 * The reader thread's tables must not keep the lines they came from alive: run the digester as the
 * reader thread does (its own source, in a worker with a small heap) over 24,000 events of ~2 KB,
 * each bringing a new 16-character item id. Kept as views of their lines, the ids held ~48 MB.
 */
test('interned ids do not keep their lines alive: a small-heap thread digests 24,000 events with new long ids', async () => {
  const source = `
    var __name = (f) => f;
    const { parentPort } = require('node:worker_threads');
    const digest = (${makeDigester.toString()})(require('node:buffer').isUtf8);
    const strIndex = new Map(), keyIndex = new Map(), scratch = { nums: new Float64Array(1 << 16) };
    const pad = 'x'.repeat(1900);
    let digested = 0;
    for (let b = 0; b < 80; b++) {
      let text = '';
      for (let i = 0; i < 300; i++) {
        const n = b * 300 + i;
        text += JSON.stringify({ id: 'e' + n, t: '2025-01-01T00:00:00Z', user: 'u', candidates: [{ item: 'item_' + String(n).padStart(11, '0'), features: { f: 1 }, score: 0.5 }], served: [], pad }) + '\\n';
      }
      const block = Buffer.from(text);
      const d = digest(block, 0, block.length, strIndex, keyIndex, 1 << 17, scratch);
      digested += d.newStrs.length;
    }
    parentPort.postMessage(digested);
  `;
  const worker = new Worker(source, { eval: true, resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 16 } });
  const digested = await new Promise<number>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  assert.equal(digested, 24_000);
  await worker.terminate();
});

test('a line over 1 MiB is handed over raw, undecoded (as a string it did not fit the reader thread\'s heap)', () => {
  const digest = makeDigester(isUtf8);
  const small = JSON.stringify({ id: 'e1', t: '2025-01-01T00:00:00Z', user: 'u', candidates: [{ item: 'i1', features: { f: 1 }, score: 0.5 }] });
  const big = JSON.stringify({ id: 'e2', t: '2025-01-01T00:00:00Z', user: 'ü'.repeat(600_000), candidates: [{ item: 'i1', features: { f: 1 }, score: 0.5 }] });
  const block = Buffer.from(`${small}\n${big}\n`);
  const d = digest(block, 0, block.length, new Map(), new Map(), 1 << 17, { nums: new Float64Array(64) });
  // The first line digested (1, …), the second raw: 0, its start, its end.
  assert.equal(d.nums[0], 1);
  const start = Buffer.byteLength(small) + 1;
  assert.deepEqual([...d.nums.subarray(d.nums.length - 3)], [0, start, block.length - 1]);
});

test('the digests of 20 candidates × 8 features all fit the shared output: the engine thread parses none of them again', () => {
  const dir = tmp();
  const file = join(dir, 'events.jsonl');
  const f = (i: number, c: number, k: number) => Math.round(Math.sin(i * 31 + c * 7 + k) * 10_000) / 10_000;
  let text = '';
  for (let i = 0; i < 900; i++) {
    const candidates = Array.from({ length: 20 }, (_, c) => ({ item: `i${(i * 20 + c) % 5000}`, features: Object.fromEntries(Array.from({ length: 8 }, (_, k) => [`f${k}`, f(i, c, k)])), score: f(i, c, 9) }));
    text += JSON.stringify({ id: `e${i}`, t: '2025-07-01T00:00:00.000Z', user: `u${i}`, candidates, served: candidates.slice(0, 10).map((c) => c.item), outcome: { clicks: [] } }) + '\n';
  }
  writeFileSync(file, text);
  const blockSize = 1 << 20;
  const blocks = Math.ceil(text.length / blockSize);
  const p = new BlockPrefetcher(file, { blockSize, from: 0, end: text.length, hashes: new Array<null>(blocks).fill(null), digest: true, pieceSize: 256 * 1024 });
  let digests = 0;
  let unfit = 0;
  try {
    for (let b = p.next(); b; b = p.next()) {
      // Time for the reader thread to take every piece of the block (it digests from the end).
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
      for (let k = 0; k * p.pieceSize < b.data.length; k++) {
        const m = p.piece(k);
        if (!m) continue;
        digests++;
        if (!p.digestOf(m)) unfit++;
      }
    }
  } finally {
    p.close();
  }
  assert.ok(digests >= 4, `the reader thread digested ${digests} pieces`);
  assert.equal(unfit, 0);
});
