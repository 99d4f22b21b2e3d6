import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, closeSync, existsSync, openSync, readFileSync, readdirSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { Slice } from '../../src/core/slice/reader';
import { writeSlice } from '../../src/core/slice/writer';
import { IntegrityError } from '../../src/core/errors';
import { BASE_MANIFEST, caught, eventLine, fixture, makeSlice, rawSlice, tmp } from '../helpers';

/** Overwrites one byte of `file` in place (same size). */
function poke(file: string, at: number, byte: string): void {
  const fd = openSync(file, 'r+');
  try {
    writeSync(fd, Buffer.from(byte), 0, 1, at);
  } finally {
    closeSync(fd);
  }
}

const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

test('a same-size edit whose modification time is set back (touch -r, cp -p, rsync -t) stops a replay of a slice checked whole at open', () => {
  const dir = makeSlice(300, { chunkSize: 1024 });
  const cache = tmp();
  const events = join(dir, 'events.jsonl');
  const text = readFileSync(events);
  // No cached index: open reads and checks the whole file, so every chunk counts as checked.
  const s = Slice.open(dir, { cacheDir: cache });
  try {
    const it = s.events();
    for (let i = 0; i < 10; i++) it.next();
    const before = statSync(events);
    const ref = join(tmp(), 'ref');
    writeFileSync(ref, '');
    execFileSync('touch', ['-m', '-r', events, ref]);
    // (The file system's clock ticks coarsely: the edit must come on a later tick than the freeze.)
    sleep(30);
    const at = text.indexOf('"queueDepth":', text.length / 2) + 13;
    poke(events, at, String((((text[at] as number) - 48 + 1) % 10) as number));
    execFileSync('touch', ['-m', '-r', ref, events]);
    assert.equal(statSync(events).mtimeMs, before.mtimeMs);
    assert.throws(
      () => {
        for (let r = it.next(); !r.done; r = it.next());
      },
      (e: unknown) => e instanceof IntegrityError && e.modified.includes('events.jsonl') && /sha256/.test(e.message),
    );
  } finally {
    s.close();
  }
});

test('the same edit is found by a lone read (the editor showing an event) once the ctime moved, and a rename alone stops nothing', () => {
  const dir = makeSlice(300, { chunkSize: 1024 });
  const events = join(dir, 'events.jsonl');
  const text = readFileSync(events);
  const s = Slice.open(dir, { cacheDir: tmp() });
  try {
    assert.equal(s.eventsVerified, true);
    const ref = join(tmp(), 'ref');
    writeFileSync(ref, '');
    execFileSync('touch', ['-m', '-r', events, ref]);
    sleep(30);
    // A new link moves the ctime and changes no byte: reads go on.
    execFileSync('ln', [events, join(tmp(), 'link')]);
    assert.equal(s.readEvent(200).id, 'e200');
    sleep(30);
    const at = text.indexOf('"id":"e250"') + 8;
    poke(events, at, '9');
    execFileSync('touch', ['-m', '-r', ref, events]);
    assert.throws(() => s.readEvent(250), (e: unknown) => e instanceof IntegrityError && e.modified.includes('events.jsonl'));
  } finally {
    s.close();
  }
});

test('verify and open count records: a manifest whose records do not match the file is reported (verify) and refused (open)', () => {
  const dir = makeSlice(30);
  const manifestPath = join(dir, 'slice.json');
  const original = readFileSync(manifestPath, 'utf8');
  const edit = (name: string, records: number) => {
    const m = JSON.parse(original) as { files: { path: string; records?: number }[] };
    (m.files.find((f) => f.path === name) as { records?: number }).records = records;
    writeFileSync(manifestPath, JSON.stringify(m));
  };
  edit('events.jsonl', 29);
  assert.throws(() => Slice.open(dir, { cacheDir: tmp() }), (e: unknown) => e instanceof IntegrityError && e.message.includes('events.jsonl (the manifest says 29 records, the file holds 30)'));
  let r = Slice.verifyFolder(dir);
  assert.equal(r.ok, false);
  assert.deepEqual(r.modified, ['events.jsonl']);
  assert.equal(r.reasons['events.jsonl'], 'the manifest says 29 records, the file holds 30');
  for (const [name, n] of [['items.jsonl', 999], ['users.jsonl', 0]] as const) {
    edit(name, n);
    r = Slice.verifyFolder(dir);
    assert.deepEqual(r.modified, [name]);
    assert.match(r.reasons[name] as string, new RegExp(`the manifest says ${n} records, the file holds \\d+`));
    // Modified, as verify says (exit 4, and --force replays it), naming the file and why.
    assert.throws(() => Slice.open(dir, { cacheDir: tmp() }), (e: unknown) => e instanceof IntegrityError && e.modified.includes(name) && e.message.includes(`${name} (the manifest says ${n} records`));
    const forced = Slice.open(dir, { cacheDir: tmp(), force: true });
    assert.deepEqual([...forced.modified], [name], 'with force it is replayed as it stands, reported modified');
    forced.close();
  }
  writeFileSync(manifestPath, original);
  assert.equal(Slice.verifyFolder(dir).ok, true);
});

test('a changed newline just before a line that starts on a chunk boundary is a modified file, not a stale index (the cached index stays)', () => {
  const f = fixture(40);
  // Every line exactly 1,024 bytes, so each event starts a chunk of its own.
  for (const e of f.events) (e as unknown as { pad: string }).pad = 'x'.repeat(1024 - (Buffer.byteLength(JSON.stringify({ ...e, pad: '' })) + 1));
  const dir = join(tmp(), 'bnd.slice');
  writeSlice(dir, { manifest: { ...BASE_MANIFEST }, ...f }, { frozenAt: '2025-01-02T00:00:00.000Z', chunkSize: 1024 });
  const events = join(dir, 'events.jsonl');
  assert.equal(readFileSync(events).indexOf('{"id":"e2"'), 1024);
  for (const how of ['readEvent', 'events'] as const) {
    const cache = tmp();
    Slice.open(dir, { cacheDir: cache }).close();
    const cached = readdirSync(cache);
    poke(events, 1023, ' ');
    const s = Slice.open(dir, { cacheDir: cache });
    try {
      assert.throws(
        () => (how === 'readEvent' ? s.readEvent(2) : [...s.events(2, 5)]),
        (e: unknown) => e instanceof IntegrityError && e.modified.includes('events.jsonl'),
        how,
      );
    } finally {
      s.close();
      poke(events, 1023, '\n');
    }
    assert.deepEqual(readdirSync(cache), cached, `${how}: the index cached for the intact file is kept`);
  }
});

test('a file known modified from a forced run is refused with its reason, as the first time', () => {
  const dir = makeSlice(50, { chunkSize: 1024 });
  const cache = tmp();
  const events = join(dir, 'events.jsonl');
  const text = readFileSync(events);
  const at = text.indexOf('"queueDepth":') + 13;
  poke(events, at, String((((text[at] as number) - 48 + 1) % 10) as number));
  const reasonOf = () => {
    try {
      Slice.open(dir, { cacheDir: cache }).close();
    } catch (e) {
      assert.ok(e instanceof IntegrityError);
      return e.message;
    }
    assert.fail('opened a modified slice');
  };
  const first = reasonOf();
  assert.match(first, /sha256/);
  const s = Slice.open(dir, { cacheDir: cache, force: true });
  for (const e of s.events()) assert.ok(e.id);
  s.close();
  assert.ok(existsSync(cache));
  assert.equal(reasonOf(), first);
});

test('a file whose status keeps changing (chmod in a loop) still reads, checked, and stays counted as verified', () => {
  const dir = makeSlice(300, { chunkSize: 1024 });
  const events = join(dir, 'events.jsonl');
  const proto = Slice.prototype as unknown as { checkUnchanged: (...a: unknown[]) => boolean };
  const orig = proto.checkUnchanged;
  let bump = false;
  let mode = 0o644;
  proto.checkUnchanged = function (this: unknown, ...a: unknown[]) {
    if (bump) {
      sleep(10);
      mode = mode === 0o644 ? 0o664 : 0o644;
      chmodSync(events, mode);
    }
    return orig.apply(this, a);
  };
  try {
    for (const force of [false, true]) {
      const s = Slice.open(dir, { cacheDir: tmp(), force });
      try {
        assert.equal(s.eventsVerified, true);
        bump = true;
        assert.equal(s.readEvent(150).id, 'e150', `force=${force}`);
        assert.equal(s.readEvent(299).id, 'e299');
        bump = false;
        assert.deepEqual([...s.modified], []);
        assert.equal(s.eventsVerified, true, 'checks made before the status moved still count');
      } finally {
        bump = false;
        s.close();
      }
    }
  } finally {
    proto.checkUnchanged = orig;
    chmodSync(events, 0o644);
  }
});

test('a line of items.jsonl or users.jsonl holding only a no-break space or a byte-order mark is no blank line: verify and open never disagree about it', () => {
  const sha = (b: string) => createHash('sha256').update(b).digest('hex');
  for (const name of ['items.jsonl', 'users.jsonl'] as const) {
    for (const odd of ['\u00a0', '\ufeff', '\f']) {
      const text = `{"id":"a"}\n${odd}\n{"id":"b"}\n`;
      // The manifest counts the line as verify counts it (a line that holds more than JSON whitespace).
      const dir = rawSlice(eventLine('e1', '2025-01-01T00:00:00Z') + '\n', (m) => {
        m.files = m.files.filter((f) => f.path !== name);
        m.files.push({ path: name, sha256: sha(text), bytes: Buffer.byteLength(text), records: 3 });
      });
      writeFileSync(join(dir, name), text);
      assert.equal(Slice.verifyFolder(dir).ok, true, `${name} ${JSON.stringify(odd)}: its bytes and count match the manifest`);
      // Not "modified since it was frozen" (exit 4) for a file verify finds intact: the line is refused where it is.
      const e = caught(() => Slice.open(dir, { cacheDir: tmp() }));
      assert.ok(!(e instanceof IntegrityError), `${name} ${JSON.stringify(odd)}: ${e.message}`);
      assert.equal(e.where.file, join(dir, name));
      assert.equal(e.where.line, 2);
    }
  }
});
