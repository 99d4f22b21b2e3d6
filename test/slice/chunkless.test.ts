// A manifest without chunk hashes for events.jsonl (valid: "chunks" is optional). Its file was
// hashed whole, synchronously, at every open — seconds at a million events, on the editor's thread.
// Now it is checked whole once, a block per step, and the chunk hashes worked out on the way are
// kept (sealed, in the index cache) for the next opens, which check it chunk by chunk as it is read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, existsSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { Slice } from '../../src/core/slice/reader';
import { ChunkHasher, DEFAULT_CHUNK_SIZE, checkFileSteps } from '../../src/core/slice/hashing';
import { cacheDir, loadDerivedChunks } from '../../src/core/slice/offsetIndex';
import { IntegrityError } from '../../src/core/errors';
import { runSteps } from '../../src/core/steps';
import { needsIndex, warmIndex } from '../../src/extension/slices/sliceStore';
import type { SliceManifest } from '../../src/core/slice/types';
import { makeSlice, tmp } from '../helpers';

const sha = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');

/** A slice whose manifest has no chunk hashes, and its manifest's sha256 (the cache's key). */
function chunkless(events = 40): { dir: string; manifestSha: string } {
  const dir = makeSlice(events);
  const m = JSON.parse(readFileSync(join(dir, 'slice.json'), 'utf8')) as SliceManifest;
  for (const f of m.files) delete f.chunks;
  const text = JSON.stringify(m, null, 2);
  writeFileSync(join(dir, 'slice.json'), text);
  return { dir, manifestSha: sha(text) };
}

/** Changes one byte of events.jsonl, keeping its size (a digit of a score). */
function flipDigit(dir: string): void {
  const p = join(dir, 'events.jsonl');
  const b = readFileSync(p);
  const at = b.indexOf('"score":0.') + 10;
  b[at] = b[at] === 0x31 ? 0x32 : 0x31;
  writeFileSync(p, b);
}

test('checkFileSteps checks a file whole a block at a time and works out its chunk hashes', () => {
  const p = join(tmp(), 'big.bin');
  const data = Buffer.alloc(2 * DEFAULT_CHUNK_SIZE + 12345);
  for (let i = 0; i < data.length; i += 4096) data[i] = i & 0xff;
  writeFileSync(p, data);
  const fd = openSync(p, 'r');
  try {
    const blocks = new ChunkHasher();
    const steps = checkFileSteps(fd, { sha256: sha(data), bytes: data.length }, (buf) => blocks.update(buf));
    let yields = 0;
    let r = steps.next();
    for (; !r.done; r = steps.next()) yields++;
    assert.equal(yields, 2, 'a yield between each of the three blocks');
    assert.equal(r.value, undefined);
    const pieces = [0, 1, 2].map((c) => sha(data.subarray(c * DEFAULT_CHUNK_SIZE, (c + 1) * DEFAULT_CHUNK_SIZE)));
    assert.deepEqual(blocks.finish(), { size: DEFAULT_CHUNK_SIZE, sha256: pieces });
    // Fed in other pieces, the chunk hasher gives the same.
    const h = new ChunkHasher();
    for (let o = 0; o < data.length; o += 3_000_001) h.update(data.subarray(o, o + 3_000_001));
    assert.deepEqual(h.finish().sha256, pieces);
    assert.equal(runSteps(checkFileSteps(fd, { sha256: sha('other'), bytes: data.length })), 'sha256');
  } finally {
    closeSync(fd);
  }
});

test('a manifest without chunk hashes: checked whole at the first open, chunk by chunk as read at the next (a changed byte found when its chunk is read)', () => {
  const { dir, manifestSha } = chunkless();
  const first = Slice.open(dir);
  const ids = [...first.events()].map((e) => e.id);
  first.close();
  assert.ok(loadDerivedChunks(manifestSha, readFileSync(join(dir, 'events.jsonl')).length), 'chunk hashes kept for the next open');
  flipDigit(dir);
  // The next open does not read the file whole: it opens, and the changed chunk stops the read.
  const again = Slice.open(dir);
  try {
    // (Said as the file's sha256: the manifest has no chunk hashes to speak of.)
    assert.throws(() => [...again.events()], (e: unknown) => e instanceof IntegrityError && /events\.jsonl \(its sha256 differs\)/.test(e.message));
  } finally {
    again.close();
  }
  // verify reads it all, whatever was kept.
  assert.deepEqual(Slice.verifyFolder(dir).modified, ['events.jsonl']);
  // Without the kept hashes (another machine, a cleared cache), the open itself refuses it, as before.
  const other = tmp('recreplay-other-cache-');
  assert.throws(() => Slice.open(dir, { cacheDir: other }), (e: unknown) => e instanceof IntegrityError && /events\.jsonl \(its sha256 differs\)/.test(e.message));
  assert.equal(ids.length, 40);
});

test('kept chunk hashes are trusted only as this user\'s runs sealed them for this manifest: edited, they are worked out again', () => {
  const { dir, manifestSha } = chunkless();
  Slice.open(dir).close();
  const p = join(cacheDir(), `chunks-${manifestSha}.json`);
  assert.ok(existsSync(p));
  const kept = readFileSync(p);
  const body = kept.subarray(0, kept.length - 32).toString('utf8');
  // Hashes of a changed file, written in by hand under the old seal: refused.
  flipDigit(dir);
  const forged = JSON.stringify({ size: DEFAULT_CHUNK_SIZE, sha256: [sha(readFileSync(join(dir, 'events.jsonl')))] });
  writeFileSync(p, Buffer.concat([Buffer.from(forged), kept.subarray(kept.length - 32)]));
  assert.equal(loadDerivedChunks(manifestSha, readFileSync(join(dir, 'events.jsonl')).length), undefined);
  assert.throws(() => Slice.open(dir), (e: unknown) => e instanceof IntegrityError && /its sha256 differs/.test(e.message), 'checked whole again: the change is found at open');
  assert.notEqual(body, forged);
});

test('the editor works the chunk hashes out while it indexes (streamed), so opening in the editor reads nothing whole on its thread', async () => {
  const { dir, manifestSha } = chunkless(30);
  // Index cached, chunk hashes not (kept by an older version, or removed): still something to read first.
  Slice.open(dir).close();
  rmSync(join(cacheDir(), `chunks-${manifestSha}.json`));
  assert.ok(readdirSync(cacheDir()).some((f) => f.startsWith(`index-${manifestSha}`)), 'the index is cached');
  assert.equal(needsIndex(dir), true);
  await warmIndex(dir);
  assert.equal(needsIndex(dir), false);
  assert.ok(loadDerivedChunks(manifestSha, readFileSync(join(dir, 'events.jsonl')).length));
  const s = await Slice.openAsync(dir);
  try {
    assert.equal([...s.events()].length, 30);
    assert.ok(readdirSync(cacheDir()).some((f) => f === `chunks-${manifestSha}.json`));
  } finally {
    s.close();
  }
});

test('a forced open of a changed slice without chunk hashes reads events.jsonl once (indexed by the offsets of its whole check), and says it modified', (t) => {
  if (process.platform !== 'linux') return t.skip('counts bytes read in /proc/self/io');
  const { dir } = chunkless(1500);
  flipDigit(dir);
  const size = readFileSync(join(dir, 'events.jsonl')).length;
  const rchar = () => Number(/rchar: (\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))?.[1]);
  const before = rchar();
  const s = Slice.open(dir, { force: true, cacheDir: tmp('recreplay-forced-cache-') });
  const read = rchar() - before;
  try {
    assert.deepEqual([...s.modified], ['events.jsonl']);
    assert.equal([...s.events()].length, 1500);
  } finally {
    s.close();
  }
  assert.ok(size > 500_000 && read < 1.5 * size, `${read} bytes read for a file of ${size} (twice before)`);
});
