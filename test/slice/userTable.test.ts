import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Slice } from '../../src/core/slice/reader';
import { runHeadless } from '../../src/core/engine/run';
import { cacheDir } from '../../src/core/slice/offsetIndex';
import { UserTable, lazyUsers, storeUsersIndex } from '../../src/core/slice/userTable';
import { recordDecoding } from '../../src/core/slice/events';
import type { SliceManifest } from '../../src/core/slice/types';
import { BASE_MANIFEST, caught, fixture, makeSlice, tmp } from '../helpers';
import { writeSlice } from '../../src/core/slice/writer';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const marks = () => readdirSync(cacheDir()).filter((f) => f.startsWith('users-') && f.endsWith('.idx'));
const HOST = { now: () => '2025-01-01T00:00:00Z', user: 'u', host: 'h', cwd: process.cwd() };

/** Rewrites users.jsonl and seals the manifest again (its hash and count), as a producer would. */
function withUsers(dir: string, text: string): string {
  writeFileSync(join(dir, 'users.jsonl'), text);
  const mPath = join(dir, 'slice.json');
  const m = JSON.parse(readFileSync(mPath, 'utf8')) as SliceManifest;
  const f = m.files.find((x) => x.path === 'users.jsonl') as SliceManifest['files'][number];
  f.sha256 = sha(text);
  f.bytes = Buffer.byteLength(text);
  f.records = text.split('\n').filter((l) => l !== '').length;
  writeFileSync(mPath, JSON.stringify(m, null, 2));
  return f.sha256;
}

/**
 * Keeps an index for the users.jsonl of `dir` as it is now (this sha256), as an earlier open of a
 * valid file would have: a planted one, for a file that is not.
 */
function markAs(fileSha: string, dir: string): void {
  const types = (JSON.parse(readFileSync(join(dir, 'slice.json'), 'utf8')) as SliceManifest).schema.user;
  const table = UserTable.lazy(readFileSync(join(dir, 'users.jsonl')), 'users.jsonl', types);
  assert.ok(table, 'lines the index reads');
  storeUsersIndex(cacheDir(), fileSha, types, table);
  assert.ok(marks().some((m) => m.includes(fileSha)));
}

test('users checked whole once are read by id after: a record is parsed (and checked) when first asked for', () => {
  const dir = makeSlice(20);
  // The writer checked the users it wrote: their file is marked, so the first open reads by id.
  const before = marks().length;
  assert.ok(before >= 1);
  // A record damaged under a mark (a hand edit, the mark planted) shows that nothing was parsed at open:
  // the bad line is refused only when reached, with its line and field.
  const text = readFileSync(join(dir, 'users.jsonl'), 'utf8').replace('{"id":"u3","segment":"new"', '{"id":"u3","segment":3');
  markAs(withUsers(dir, text), dir);
  const s = Slice.open(dir);
  try {
    assert.equal(s.userCount, 5);
    assert.equal(s.userById.get('u1')?.segment, 'new');
    assert.equal(s.userById.get('nobody'), undefined);
    const e = caught(() => s.userById.get('u3'));
    assert.ok(e.where.file?.endsWith('users.jsonl'));
    assert.equal(e.where.line, 4);
    assert.equal(e.where.field, 'segment');
  } finally {
    s.close();
  }
});

test('a users.jsonl opened the first time is parsed whole (a bad record refused at open) and, valid, marked for the next open', () => {
  const dir = makeSlice(20);
  const good = readFileSync(join(dir, 'users.jsonl'), 'utf8');
  // No mark for this text: parsed whole, and a bad record stops the open.
  // (Another damage than the test above plants a mark for.)
  withUsers(dir, good.replace('{"id":"u3","segment":"new"', '{"id":"u3","segment":4'));
  const e = caught(() => Slice.open(dir));
  assert.equal(e.where.line, 4);
  // Valid, and new to the cache: parsed whole, then marked.
  const fresh = good.replace('"age":21', '"age":99');
  const fileSha = withUsers(dir, fresh);
  assert.ok(!marks().some((m) => m.includes(fileSha)));
  const s = Slice.open(dir);
  assert.equal(s.userById.get('u1')?.features?.['age'], 99);
  s.close();
  assert.ok(marks().some((m) => m.includes(fileSha)), 'marked after a whole check');
});

test('lines the index cannot read by their first key — another key first, a repeated "id" key — are parsed whole every time, never marked', () => {
  const dir = makeSlice(20);
  for (const text of ['{"features":{"age":1},"id":"u1"}\n{"id":"u2"}\n', '{"id":"u1","features":{"age":1},"id":"u9"}\n{"id":"u2"}\n']) {
    const fileSha = withUsers(dir, text);
    for (let i = 0; i < 2; i++) {
      const s = Slice.open(dir);
      assert.deepEqual([...s.userById.values()].map((u) => u.id), [text.includes('u9') ? 'u9' : 'u1', 'u2']);
      s.close();
    }
    assert.ok(!marks().some((m) => m.includes(fileSha)));
  }
  // A mark planted for a line with a repeated "id" key: the record is refused when reached, not read as another user.
  const fileSha = withUsers(dir, '{"id":"u1","features":{"age":1},"id":"u9"}\n{"id":"u2"}\n');
  markAs(fileSha, dir);
  const s = Slice.open(dir);
  const e = caught(() => s.userById.get('u1'));
  assert.match(e.message, /first "id" \("u1"\) is not the one it holds \("u9"\): a repeated "id" key/);
  s.close();
});

test('read by id or parsed whole, a repeated id keeps its first record, the count keeps every record, and the views list them all', () => {
  const dir = makeSlice(20);
  const text = '{"id":"u1","segment":"first"}\n{"id":"u2"}\n{"id":"u1","segment":"second"}\n';
  const fileSha = withUsers(dir, text);
  for (const lazy of [false, true]) {
    const s = Slice.open(dir);
    assert.equal(s.userById.get('u1')?.segment, 'first');
    assert.equal(s.userCount, 3);
    assert.equal(s.userById.size, 2);
    assert.deepEqual([...s.userById.values()].map((u) => u.segment ?? '-'), ['first', '-']);
    assert.deepEqual(s.users.map((u) => u.segment ?? '-'), ['first', '-', 'second']);
    s.close();
    assert.equal(marks().some((m) => m.includes(fileSha)), true, `marked after open ${lazy ? 2 : 1}`);
  }
});

test('bytes that are not UTF-8 under a mark are refused at open all the same', () => {
  const dir = makeSlice(20);
  const b = Buffer.from(readFileSync(join(dir, 'users.jsonl'), 'utf8'));
  b[b.indexOf('"u2"') + 1] = 0xe9;
  writeFileSync(join(dir, 'users.jsonl'), b);
  const mPath = join(dir, 'slice.json');
  const m = JSON.parse(readFileSync(mPath, 'utf8')) as SliceManifest;
  const f = m.files.find((x) => x.path === 'users.jsonl') as SliceManifest['files'][number];
  f.sha256 = sha(b);
  writeFileSync(mPath, JSON.stringify(m, null, 2));
  markAs(f.sha256, dir);
  const e = caught(() => Slice.open(dir));
  assert.equal(e.where.line, 3);
  assert.match(e.message, /not valid UTF-8/);
});

test('a replay reading users by id writes the trace a replay parsing them whole writes', async () => {
  const dir = makeSlice(300);
  const fileSha = sha(readFileSync(join(dir, 'users.jsonl')));
  const traced = async (name: string) => {
    const out = join(tmp(), name);
    const r = await runHeadless({ slice: dir, ranker: 'popularity', traceDir: out }, HOST);
    r.replayer.dispose();
    return r.traceSha256;
  };
  const lazy = await traced('lazy');
  // Without its mark, the file is parsed whole.
  const mark = marks().find((m) => m.includes(fileSha)) as string;
  renameSync(join(cacheDir(), mark), join(cacheDir(), `${mark}.away`));
  try {
    const parsed = await traced('parsed');
    assert.equal(parsed, lazy);
  } finally {
    rmSync(join(cacheDir(), `${mark}.away`), { force: true });
  }
});

test('a users.jsonl past the lazy limit (one string holds ~512 MiB) is parsed a line at a time and never marked, by the reader or the writer', () => {
  const f = fixture(20);
  // Users of their own (a file no earlier test marked).
  const users = [{ id: 'u1', segment: `big-${process.pid}-${Math.random()}` }, { id: 'u2' }];
  const dir = join(tmp(), 'big.slice');
  const was = lazyUsers.below;
  lazyUsers.below = 16;
  let fileSha: string;
  try {
    writeSlice(dir, { manifest: BASE_MANIFEST, ...f, users }, { frozenAt: '2025-01-02T00:00:00.000Z' });
    fileSha = sha(readFileSync(join(dir, 'users.jsonl')));
    assert.ok(!marks().some((m) => m.includes(fileSha)), 'the writer marked nothing');
    const s = Slice.open(dir);
    assert.equal(s.userById.get('u1')?.segment, users[0]?.segment);
    assert.equal(s.userCount, 2);
    s.close();
    assert.ok(!marks().some((m) => m.includes(fileSha)), 'nor did the first open');
  } finally {
    lazyUsers.below = was;
  }
  // Under the limit, the same file is marked at its first open.
  Slice.open(dir).close();
  assert.ok(marks().some((m) => m.includes(fileSha)));
});

test('users read by id are decoded a window at a time, a step each: the same records across window edges, multi-byte text included', () => {
  const users = Array.from({ length: 60 }, (_, i) => ({ id: `u${i}-ü€😀`, segment: `ség-${'ß'.repeat(i % 7)}`, features: { n: i } }));
  const buf = Buffer.from(users.map((u) => JSON.stringify(u) + '\n').join(''));
  const whole = UserTable.lazy(buf, 'users.jsonl') as UserTable;
  const was = recordDecoding.window;
  try {
    for (const window of [1, 7, 40, 1000]) {
      recordDecoding.window = window;
      const steps = UserTable.lazySteps(buf, 'users.jsonl');
      let yields = 0;
      let r = steps.next();
      for (; !r.done; r = steps.next()) yields++;
      const t = r.value as UserTable;
      assert.deepEqual(t.all(), users, `window ${window}`);
      assert.deepEqual(t.all(), whole.all());
      assert.equal(t.get('u59-ü€😀')?.features?.['n'], 59);
      // Each window after the first is a step of its own.
      const windows = Math.ceil(buf.length / (window + 1));
      assert.ok(window >= buf.length || yields >= Math.min(windows, users.length) - 1, `window ${window}: ${yields} steps`);
    }
    // A last line without its newline is not the writer's shape, in any window.
    recordDecoding.window = 7;
    assert.equal(UserTable.lazy(buf.subarray(0, buf.length - 1), 'users.jsonl'), undefined);
  } finally {
    recordDecoding.window = was;
  }
});
