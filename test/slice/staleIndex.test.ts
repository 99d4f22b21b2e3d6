import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { Slice } from '../../src/core/slice/reader';
import { UserError } from '../../src/core/errors';
import { EXIT } from '../../src/cli/exitCodes';
import { eventLine, makeSlice, rawSlice, readIndexFile, tmp, withPrefetchAfter, writeIndexFile } from '../helpers';

/**
 * A cached offset index passes loadCachedIndex's checks (starts at 0, rises, ends at the file's
 * end) yet is wrong: reads by offset (a sequential read from any event, with or without its reader
 * thread) must find it out, remove it and say so, never replay other events or fewer of them.
 */

const indexFile = (dir: string, cache: string) => join(cache, `index-${createHash('sha256').update(readFileSync(join(dir, 'slice.json'))).digest('hex')}.f64`);

const readIndex = readIndexFile;
const writeIndex = writeIndexFile;

/** The error a stale index gives: E_STALE_INDEX, naming events.jsonl and the line. */
const stale = (line: number) => (e: unknown) =>
  e instanceof UserError && e.code === 'E_STALE_INDEX' && /stale and has been removed/.test(e.message) && e.where.file?.endsWith('events.jsonl') === true && e.where.line === line;

/** A slice of `n` events whose manifest does not say how many lines events.jsonl holds. */
function sliceWithoutRecords(n: number): string {
  const lines = Array.from({ length: n }, (_, i) => eventLine(`e${i + 1}`, `2025-01-01T00:00:0${i}Z`));
  return rawSlice(lines.join('\n') + '\n', (m) => {
    const entry = m.files.find((f) => f.path === 'events.jsonl');
    if (entry) delete entry.records;
  });
}

test('no "records" in the manifest: a cached index of fewer lines than the file, ending at its end, is found stale by the sequential read, removed, and the next open counts every line', () => {
  const dir = sliceWithoutRecords(5);
  const cache = tmp();
  Slice.open(dir, { cacheDir: cache }).close();
  const p = indexFile(dir, cache);
  const good = readIndex(p);
  assert.equal(good.length, 6);
  // Two "lines": the first, and the rest of the file as if it were one.
  writeIndex(p, [0, good[1] as number, good[5] as number]);
  const s = Slice.open(dir, { cacheDir: cache });
  try {
    assert.equal(s.eventCount, 2, 'the index passed the checks at open');
    assert.throws(() => [...s.events()], stale(2));
  } finally {
    s.close();
  }
  assert.equal(existsSync(p), false, 'the stale index was removed');
  const again = Slice.open(dir, { cacheDir: cache });
  try {
    assert.equal(again.eventCount, 5);
    assert.deepEqual([...again.events()].map((e) => e.id), ['e1', 'e2', 'e3', 'e4', 'e5']);
  } finally {
    again.close();
  }
});

test('recreplay run with such an index fails (exit 3) naming events.jsonl and the line, and the run after it replays every event', () => {
  const dir = sliceWithoutRecords(5);
  const cache = tmp();
  Slice.open(dir, { cacheDir: cache }).close();
  const p = indexFile(dir, cache);
  const good = readIndex(p);
  writeIndex(p, [0, good[1] as number, good[5] as number]);
  const root = resolve(__dirname, '../..');
  const run = () => spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), 'run', dir, '--json'], { encoding: 'utf8', cwd: root, env: { ...process.env, RECREPLAY_CACHE_DIR: cache }, timeout: 60_000 });
  const first = run();
  assert.equal(first.status, EXIT.INPUT, first.stdout + first.stderr);
  assert.match(first.stderr, /events\.jsonl:2: the cached offset index of events\.jsonl does not match the file .*stale and has been removed/);
  assert.match(first.stderr, /Run again/);
  const second = run();
  assert.equal(second.status, EXIT.OK, second.stderr);
  assert.match(second.stdout, /"events": ?5\b/);
});

test('events(from, to) through a cached index with shifted offsets is stale at the first wrong one, never other events (the file counts as intact)', () => {
  const dir = makeSlice(50, { chunkSize: 4096 });
  const cache = tmp();
  Slice.open(dir, { cacheDir: cache }).close();
  const p = indexFile(dir, cache);
  const good = readIndex(p);
  // Event 5 "starts" at line 6, event 6 ten bytes into it: still rising, same count, same end.
  const bad = Float64Array.from(good);
  bad[4] = good[5] as number;
  bad[5] = (good[5] as number) + 10;
  writeIndex(p, bad);
  const s = Slice.open(dir, { cacheDir: cache });
  try {
    assert.throws(() => [...s.events(5, 7)], stale(5));
    assert.deepEqual([...s.modified], []);
  } finally {
    s.close();
  }
  assert.equal(existsSync(p), false);
  const again = Slice.open(dir, { cacheDir: cache });
  try {
    assert.deepEqual([...again.events(5, 7)].map((e) => e.id), ['e5', 'e6', 'e7']);
  } finally {
    again.close();
  }
});

test('a read that starts inside a line (its offset shifted into it) is a stale index, not malformed JSON', () => {
  const dir = makeSlice(50, { chunkSize: 4096 });
  const cache = tmp();
  Slice.open(dir, { cacheDir: cache }).close();
  const p = indexFile(dir, cache);
  const bad = readIndex(p);
  bad[4] = (bad[4] as number) + 10;
  writeIndex(p, bad);
  const s = Slice.open(dir, { cacheDir: cache });
  try {
    assert.throws(() => [...s.events(5, 7)], stale(5));
  } finally {
    s.close();
  }
});

test('a read that starts at the first byte of a block is checked to start where a line does (the byte before is in the block before)', () => {
  const dir = makeSlice(50, { chunkSize: 4096 });
  const cache = tmp();
  Slice.open(dir, { cacheDir: cache }).close();
  const p = indexFile(dir, cache);
  const good = readIndex(p);
  // A block boundary inside a line: b = 4096 k, with good[j - 1] < b < good[j].
  let b = 4096;
  while (good.includes(b)) b += 4096;
  const j = good.findIndex((o) => o > b);
  assert.ok(j > 1 && j < 45);
  // An index with a line start at b (the tail of line j read as event j + 1) and, to keep the count, the last two lines made one:
  // every line end after b is right, so only the byte before b tells.
  const bad = [...good.subarray(0, j), b, ...good.subarray(j, good.length - 2), good[good.length - 1] as number];
  assert.equal(bad.length, good.length);
  writeIndex(p, bad);
  const s = Slice.open(dir, { cacheDir: cache });
  try {
    assert.equal(s.eventCount, 50);
    assert.throws(() => [...s.events(j + 1, j + 3)], stale(j + 1));
  } finally {
    s.close();
  }
});

test('a whole read finds a wrong offset in the middle, on this thread and through the reader thread, and stops there', () => {
  const dir = makeSlice(200, { chunkSize: 1024 });
  const cache = tmp();
  Slice.open(dir, { cacheDir: cache }).close();
  const p = indexFile(dir, cache);
  const bad = readIndex(p);
  bad[150] = (bad[150] as number) - 3;
  for (const after of [Infinity, 1, 0]) {
    writeIndex(p, bad);
    withPrefetchAfter(after, () => {
      const s = Slice.open(dir, { cacheDir: cache });
      try {
        const seen: string[] = [];
        assert.throws(() => {
          for (const e of s.events()) seen.push(e.id);
        }, stale(150));
        assert.ok(seen.length < 150, `prefetch after ${after}: no event past the wrong offset (${seen.length} read)`);
      } finally {
        s.close();
      }
    });
    assert.equal(existsSync(p), false);
  }
});

test('a right index never trips the checks: every range read equals the events read one by one, also from a line that starts a block', () => {
  // A slice whose chunk size is where one of its lines starts, so a read from that event starts at a block's first byte.
  const probe = makeSlice(60, { chunkSize: 4096, seed: 3 });
  const text = readFileSync(join(probe, 'events.jsonl'), 'utf8');
  let at = 0;
  let k = 0;
  while (at < 1024) {
    at = text.indexOf('\n', at) + 1;
    k++;
  }
  const dir = makeSlice(60, { chunkSize: at, seed: 3 });
  assert.equal(readFileSync(join(dir, 'events.jsonl'), 'utf8'), text);
  const cache = tmp();
  Slice.open(dir, { cacheDir: cache }).close();
  for (const after of [Infinity, 1]) {
    withPrefetchAfter(after, () => {
      const s = Slice.open(dir, { cacheDir: cache });
      try {
        const one = Array.from({ length: 60 }, (_, i) => s.readEvent(i + 1).id);
        assert.deepEqual([...s.events()].map((e) => e.id), one);
        for (const [from, to] of [[k + 1, k + 3], [k, k + 1], [k + 1, 60], [1, 1], [60, 60], [2, 59]] as const) {
          assert.deepEqual([...s.events(from, to)].map((e) => e.id), one.slice(from - 1, to), `events(${from}, ${to})`);
        }
      } finally {
        s.close();
      }
    });
  }
});

test('a cached index edited by hand — a fake offset early, a real one dropped later, so count, order and end still fit — is not trusted: a seek reads the right event', () => {
  const dir = makeSlice(10);
  const cache = tmp();
  Slice.open(dir, { cacheDir: cache }).close();
  const p = indexFile(dir, cache);
  const real = readIndexFile(p);
  const seal = readFileSync(p).subarray(-32);
  const forged = Float64Array.from([0, 5, ...real.slice(1, 7), ...real.slice(8)]);
  // Written as an editor would: the offsets changed, the seal as it was.
  writeFileSync(p, Buffer.concat([Buffer.from(forged.buffer), seal]));
  const s = Slice.open(dir, { cacheDir: cache });
  try {
    assert.equal(s.readEvent(3).id, 'e3');
    assert.deepEqual([...s.events(3, 6)].map((e) => e.id), ['e3', 'e4', 'e5', 'e6']);
  } finally {
    s.close();
  }
  // Rebuilt and sealed again.
  assert.deepEqual(readIndexFile(p), real);
});
