import { test } from 'node:test';
import { createRequire } from 'node:module';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { Slice } from '../../src/core/slice/reader';
import { IntegrityError, UserError } from '../../src/core/errors';
import { makeSlice, readIndexFile, tmp, writeIndexFile } from '../helpers';

const indexFile = (dir: string, cache: string) => join(cache, `index-${createHash('sha256').update(readFileSync(join(dir, 'slice.json'))).digest('hex')}.f64`);
const changed = (e: unknown) => e instanceof IntegrityError && /events\.jsonl changed since it was opened: .*; reopen the slice/.test(e.message);
const linesMoved = (line: number) => (e: unknown) => e instanceof UserError && /its lines moved/.test(e.message) && e.where.line === line;

/** A slice of 200 events in 4 KiB chunks, with its own index cache; `cached`: opened once before, so the index comes from the cache. */
function slice200(cached: boolean): { dir: string; cache: string; events: string; text: string } {
  const dir = makeSlice(200, { chunkSize: 4096 });
  const cache = tmp();
  if (cached) Slice.open(dir, { cacheDir: cache }).close();
  const events = join(dir, 'events.jsonl');
  return { dir, cache, events, text: readFileSync(events, 'utf8') };
}

test('events.jsonl truncated while the slice is open: reads say it changed since it was opened, and events() never ends early', () => {
  for (const cached of [false, true]) {
    const { dir, cache, events, text } = slice200(cached);
    const s = Slice.open(dir, { cacheDir: cache });
    try {
      assert.equal(s.readEvent(5).id, JSON.parse(text.split('\n')[4] as string).id);
      truncateSync(events, text.split('\n').slice(0, 100).join('\n').length + 1);
      assert.throws(() => s.readEvent(150), changed);
      assert.throws(() => s.readEvent(3), changed);
      assert.throws(() => [...s.events()], changed, `cached=${cached}`);
    } finally {
      s.close();
    }
  }
});

test('with force, a file truncated while open still fails a read past its end and a sequential read that runs short, and never returns uninitialised memory', () => {
  const { dir, cache, events, text } = slice200(false);
  const s = Slice.open(dir, { cacheDir: cache, force: true });
  try {
    s.readEvent(5);
    truncateSync(events, text.split('\n').slice(0, 100).join('\n').length + 1);
    assert.throws(() => s.readEventText(150), changed);
    assert.throws(() => [...s.events()], changed);
    assert.ok(s.modified.has('events.jsonl'));
  } finally {
    s.close();
  }
});

test('a same-size edit while the slice is open is refused at the next read, whether the index was built at this open or cached', () => {
  for (const cached of [false, true]) {
    const { dir, cache, events, text } = slice200(cached);
    const s = Slice.open(dir, { cacheDir: cache });
    try {
      s.readEvent(5);
      const lines = text.split('\n');
      lines[149] = (lines[149] as string).replace(/"id":"([^"]*)"/, (_m, id: string) => `"id":"${'Z'.repeat(id.length)}"`);
      writeFileSync(events, lines.join('\n'));
      assert.throws(() => s.readEvent(150), changed, `cached=${cached}`);
      assert.throws(() => [...s.events()], changed, `cached=${cached}`);
      assert.throws(() => [...s.events(140, 160)], changed, `cached=${cached}`);
    } finally {
      s.close();
    }
  }
});

test('a cached index that cannot be read (a folder in its place) is rebuilt, not a crash', () => {
  const dir = makeSlice(50, { chunkSize: 4096 });
  const cache = tmp();
  mkdirSync(indexFile(dir, cache), { recursive: true });
  const s = Slice.open(dir, { cacheDir: cache });
  try {
    assert.equal(s.eventCount, 50);
    assert.ok(s.readEvent(10).id);
  } finally {
    s.close();
  }
});

test('a cached index with a plausible but wrong offset is found stale at the first read it misleads, removed, and rebuilt at the next open', () => {
  const dir = makeSlice(50, { chunkSize: 4096 });
  const cache = tmp();
  Slice.open(dir, { cacheDir: cache }).close();
  const p = indexFile(dir, cache);
  const offsets = readIndexFile(p);
  offsets[10] = (offsets[10] as number) + 5;
  writeIndexFile(p, offsets);
  const s = Slice.open(dir, { cacheDir: cache });
  try {
    assert.equal(s.readEvent(5).id, s.readEventText(5).match(/"id":"([^"]*)"/)?.[1]);
    assert.throws(() => s.readEvent(10), (e: unknown) => e instanceof UserError && e.code === 'E_STALE_INDEX' && /stale/.test(e.message));
  } finally {
    s.close();
  }
  assert.equal(existsSync(p), false);
  const again = Slice.open(dir, { cacheDir: cache });
  try {
    const text = readFileSync(join(dir, 'events.jsonl'), 'utf8').split('\n');
    assert.equal(again.readEventText(10), text[9]);
    assert.equal(again.readEventText(11), text[10]);
  } finally {
    again.close();
  }
});

test('with force, a same-size edit that split a line is read as it stands, through an index of the file as it is (not the frozen one\'s), by both reads', () => {
  const { dir, cache, events, text } = slice200(true);
  const lines = text.split('\n');
  const l100 = lines[99] as string;
  const { t } = JSON.parse(l100) as { t: string };
  const a = JSON.stringify({ id: 'a100', t, user: 'u1', candidates: [], served: [] });
  const head = JSON.stringify({ id: 'b100', t, user: 'u1', candidates: [], served: [], p: '' });
  const pad = l100.length - a.length - 1 - head.length;
  assert.ok(pad >= 0, 'line 100 is long enough to hold two events');
  lines.splice(99, 1, a, head.replace('"p":""', `"p":"${'y'.repeat(pad)}"`));
  const mod = lines.join('\n');
  assert.equal(mod.length, text.length);
  writeFileSync(events, mod);
  // (The cache holds the frozen file's index, whose offsets would cut line 100 in the wrong place.)
  const s = Slice.open(dir, { cacheDir: cache, force: true });
  try {
    assert.equal(s.eventCount, 201);
    assert.deepEqual([99, 100, 101, 102].map((n) => s.readEvent(n).id), [(JSON.parse(lines[98] as string) as { id: string }).id, 'a100', 'b100', (JSON.parse(lines[101] as string) as { id: string }).id]);
    const all = [...s.events()];
    assert.equal(all.length, 201);
    assert.deepEqual([all[99]?.id, all[100]?.id], ['a100', 'b100']);
    assert.deepEqual([...s.events(150, 152)].map((e) => e.id), [150, 151, 152].map((n) => s.readEvent(n).id));
    // Edited again while open, so that line 151 starts a byte earlier (the same size): the sequential
    // read stops where the lines moved, as reading the line alone does; lines before it still read.
    const now = readFileSync(events, 'utf8').split('\n');
    const l150 = now[149] as string;
    now[149] = l150.slice(0, l150.length - 2) + l150.slice(l150.length - 1);
    now[150] = ' ' + (now[150] as string);
    writeFileSync(events, now.join('\n'));
    // (The sequential read names line 150, whose end moved; reading 151 alone, the line that no longer starts where it did.)
    assert.throws(() => [...s.events()], linesMoved(150));
    assert.throws(() => s.readEvent(151), linesMoved(151));
    assert.equal(s.readEvent(120).id, all[119]?.id);
  } finally {
    s.close();
  }
});

test('events.jsonl cut at the end of the blocks read so far, in the middle of a line, while a sequential read is under way: said as changed since it was opened, not as a malformed last line of the slice (exit 3 for a file changed under the run)', () => {
  const { dir, cache, events, text } = slice200(false);
  // This thread reads every block (no reader thread): where it stands is known.
  const after = Slice.prefetchAfterBlocks;
  Slice.prefetchAfterBlocks = Number.POSITIVE_INFINITY;
  const s = Slice.open(dir, { cacheDir: cache, readAhead: false });
  try {
    const it = s.events();
    for (let i = 0; i < 50; i++) it.next();
    // The blocks (4 KiB) read so far end at the first boundary past line 50; the file is cut
    // there, inside a line: the next read finds nothing more, with part of a line in hand.
    const end50 = Buffer.byteLength(text.split('\n').slice(0, 50).join('\n')) + 1;
    const cut = Math.ceil(end50 / 4096) * 4096;
    assert.notEqual(text[cut - 1], '\n', 'the cut falls inside a line');
    truncateSync(events, cut);
    assert.throws(() => {
      for (let r = it.next(); !r.done; r = it.next());
    }, changed);
  } finally {
    s.close();
    Slice.prefetchAfterBlocks = after;
  }
});

for (const [what, change] of [
  ['cut short', (events: string) => truncateSync(events, 6000)],
  ['appended to', (events: string) => writeFileSync(events, readFileSync(events, 'utf8').split('\n')[0] + '\n', { flag: 'a' })],
] as const) {
  test(`events.jsonl ${what} while its index is built at open: the open fails as changed since it was opened, with force too, and no index of it is kept (info counted the lines read before the cut)`, (t) => {
    // The fs module the reader calls through: the change lands between two blocks of the index's read.
    const fs = createRequire(__filename)('node:fs') as typeof import('node:fs');
    const { readSync } = fs;
    for (const force of [false, true]) {
      const { dir, cache, events } = slice200(false);
      const ino = statSync(events).ino;
      let done = false;
      t.mock.method(fs, 'readSync', (fd: number, buf: NodeJS.ArrayBufferView, off: number, len: number, pos: number) => {
        const n = readSync(fd, buf, off, len, pos);
        if (!done && pos >= 8192 && fs.fstatSync(fd).ino === ino) {
          done = true;
          change(events);
        }
        return n;
      });
      try {
        assert.throws(() => Slice.open(dir, { cacheDir: cache, force }), (e: unknown) => changed(e) && /while it was being indexed/.test((e as Error).message), `force: ${force}`);
      } finally {
        t.mock.restoreAll();
      }
      assert.ok(done, 'the file changed during the read');
      assert.deepEqual(readdirSync(cache).filter((f) => f.endsWith('.f64')), [], 'no index kept');
    }
  });
}
