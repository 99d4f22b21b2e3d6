import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, renameSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Slice } from '../../src/core/slice/reader';
import { IntegrityError } from '../../src/core/errors';
import { makeSlice, tmp, withPrefetchAfter } from '../helpers';

/**
 * events.jsonl replaced after the slice opened, by a file of the same size and modification time
 * (a symbolic link to a file outside the folder, or a file renamed over it): never read as the
 * file that was checked. Reads go through the descriptor opened with the slice; a reader thread,
 * which opens the path anew, checks that it got the same file (device and inode).
 */

// Symbolic links need privileges on Windows; the inode check is skipped where the system reports none.
const skip = process.platform === 'win32' ? 'symbolic links and inodes' : false;

const replaced = (e: unknown) => e instanceof IntegrityError && /events\.jsonl changed since it was opened: another file is at its path now \(it was replaced\); reopen the slice/.test(e.message);

/** A second-resolution time both files get, so their modification times are equal to the nanosecond. */
const T = 1_700_000_000;

/**
 * A slice of 200 events in 1 KiB chunks, opened (its index built now, so every chunk counts as
 * verified and none is hashed again), then its events.jsonl replaced by `how` with a file of the
 * same size and modification time in which every user is "XX".
 */
function openThenReplace(how: 'link' | 'rename', opts: { force?: boolean } = {}): { s: Slice; users: string[] } {
  const dir = makeSlice(200, { chunkSize: 1024 });
  const events = join(dir, 'events.jsonl');
  utimesSync(events, T, T);
  const text = readFileSync(events, 'utf8');
  const users = text
    .split('\n')
    .filter((l) => l)
    .map((l) => (JSON.parse(l) as { user: string }).user);
  const s = Slice.open(dir, { cacheDir: tmp(), ...opts });
  assert.equal(s.eventsVerified, true);
  const other = text.replace(/"user":"u\d"/g, '"user":"XX"');
  assert.equal(other.length, text.length);
  assert.notEqual(other, text);
  const otherPath = how === 'link' ? join(tmp(), 'events.jsonl') : join(dir, 'events.new');
  writeFileSync(otherPath, other);
  utimesSync(otherPath, T, T);
  if (how === 'link') {
    renameSync(events, join(dir, 'events.orig'));
    symlinkSync(otherPath, events);
  } else {
    renameSync(otherPath, events);
  }
  return { s, users };
}

test('events.jsonl replaced by a link to another file of the same size and mtime after open: events read one by one are the file that was opened and checked', { skip }, () => {
  const { s, users } = openThenReplace('link');
  try {
    assert.equal(s.readEvent(1).user, users[0]);
    assert.equal(s.readEvent(150).user, users[149]);
    assert.deepEqual([...s.modified], []);
    // Read on this thread alone, a whole read is that file too.
    assert.deepEqual(
      withPrefetchAfter(Infinity, () => [...s.events()].map((e) => e.user)),
      users,
    );
  } finally {
    s.close();
  }
});

test('a reader thread that finds another file at the path (same size and mtime) reads none of it: the file changed since it was opened', { skip }, () => {
  for (const how of ['link', 'rename'] as const) {
    const { s, users } = openThenReplace(how);
    try {
      const seen: string[] = [];
      withPrefetchAfter(1, () =>
        assert.throws(() => {
          for (const e of s.events()) seen.push(e.user);
        }, replaced),
      );
      assert.ok(!seen.includes('XX'), `${how}: no event of the other file was read`);
      assert.deepEqual(seen, users.slice(0, seen.length));
    } finally {
      s.close();
    }
  }
});

test('with force, a reader thread that finds another file at the path records the change and the read goes on through the file that was opened', { skip }, () => {
  const { s, users } = openThenReplace('link', { force: true });
  try {
    const started = Slice.prefetchesStarted;
    assert.deepEqual(
      withPrefetchAfter(1, () => [...s.events()].map((e) => e.user)),
      users,
    );
    assert.equal(Slice.prefetchesStarted, started + 1, 'one reader thread was tried, none again after it found another file');
    assert.deepEqual([...s.modified], ['events.jsonl']);
  } finally {
    s.close();
  }
});

test('a read that opens the path anew (verifyEventsAsync, a read after close) finds another file there a change, not chunks to hash in its stead', { skip }, async () => {
  for (const force of [false, true]) {
    const dir = makeSlice(200, { chunkSize: 1024 });
    const events = join(dir, 'events.jsonl');
    const cache = tmp();
    // Opened once before, so the index is cached and the chunks are not verified at open.
    Slice.open(dir, { cacheDir: cache }).close();
    utimesSync(events, T, T);
    const s = Slice.open(dir, { cacheDir: cache, force });
    try {
      const text = readFileSync(events, 'utf8');
      const user150 = (JSON.parse(text.split('\n')[149] as string) as { user: string }).user;
      const other = join(dir, 'events.new');
      writeFileSync(other, text.replace(/"user":"u\d"/g, '"user":"XX"'));
      utimesSync(other, T, T);
      renameSync(other, events);
      if (!force) {
        await assert.rejects(s.verifyEventsAsync([150]), replaced);
        s.close();
        assert.throws(() => s.readEvent(1), replaced);
        continue;
      }
      // With force the file was read whole (and found intact) at open: the file now at the path is
      // never read, and the events come from the one that was opened.
      await s.verifyEventsAsync([150]);
      assert.equal(s.readEvent(150).user, user150);
      assert.deepEqual([...s.events(149, 150)].map((e) => e.user)[1], user150);
    } finally {
      s.close();
    }
  }
});

test('a slice folder moved while a replay reads it: the reader thread finds no file at the path, and the read goes on through the file the slice opened', { skip }, () => {
  const dir = makeSlice(400, { chunkSize: 1024 });
  const want = readFileSync(join(dir, 'events.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l)
    .map((l) => (JSON.parse(l) as { id: string }).id);
  withPrefetchAfter(2, () => {
    const s = Slice.open(dir, { cacheDir: tmp() });
    const it = s.events();
    const ids = [it.next().value?.id];
    // Moved before the read starts its reader thread (a freeze moving the old slice aside, a rename in a file browser).
    renameSync(dir, `${dir}-moved`);
    for (let r = it.next(); !r.done; r = it.next()) ids.push(r.value.id);
    assert.deepEqual(ids, want);
    assert.equal(s.modified.size, 0, 'the bytes read are the ones opened and checked: not a modified file');
    s.close();
  });
});
