import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { Slice } from '../../src/core/slice/reader';
import { cacheDir } from '../../src/core/slice/offsetIndex';
import { UserTable, isText, loadUsersIndex, storeUsersIndex } from '../../src/core/slice/userTable';
import type { SliceManifest, UserRecord } from '../../src/core/slice/types';
import { makeSlice, tmp } from '../helpers';

/** users.jsonl as the writer writes it: a record a line, the id first. */
const fileOf = (users: readonly UserRecord[]) => Buffer.from(users.map((u) => JSON.stringify(u) + '\n').join(''));

/** What a table says of these ids, read through every door it has. */
function reading(t: UserTable, asked: readonly unknown[]) {
  return {
    count: t.count,
    size: t.size,
    indexOf: asked.map((id) => t.indexOf(id as string)),
    get: asked.map((id) => t.get(id as string) ?? null),
    values: [...t.values()],
    all: t.all(),
  };
}

test('read by id — scanned, or from the kept index — a table answers every question as one of the records parsed whole does', () => {
  // Ids (valid ones: not empty) that repeat, collide in the table's few places, and hold any character
  // a JSON string may hold unescaped (an escape or a control character makes the file not the index's).
  const id = fc.oneof(fc.constantFrom('u1', 'u2', 'u10', 'ü', 'ab', 'é', 'aé', 'éa', '😀', 'a😀', 'a b', '0'), fc.string({ unit: 'binary', minLength: 1, maxLength: 6 }).filter((s) => ![...s].some((c) => c === '\\' || c === '"' || c < ' ') && Buffer.from(s).toString() === s));
  fc.assert(
    fc.property(fc.array(fc.record({ id, segment: fc.constantFrom('a', 'b') }), { minLength: 1, maxLength: 60 }), fc.array(id, { maxLength: 10 }), (users, others) => {
      const buf = fileOf(users);
      const parsed = UserTable.of(users.map((u) => ({ ...u })));
      const asked = [...users.map((u) => u.id), ...others, undefined, null, 7];
      const expected = reading(parsed, asked);
      const scanned = UserTable.index(buf, users);
      assert.ok(scanned, 'the writer\'s shape is read by id');
      assert.deepEqual(reading(scanned, asked), expected);
      const kept = UserTable.fromIndex(Buffer.from(scanned.indexBody() as Uint8Array), buf, 'users.jsonl');
      assert.ok(kept, 'the kept index fits the bytes it was made of');
      assert.deepEqual(reading(kept, asked), expected);
    }),
    { numRuns: 300 },
  );
});

test('a kept index is read back only over the bytes it was made of, whatever the offset of the memory it is read into', () => {
  const users = Array.from({ length: 50 }, (_, i) => ({ id: `u${i}`, features: { n: i } }));
  const buf = fileOf(users);
  const body = Buffer.from((UserTable.index(buf, users) as UserTable).indexBody() as Uint8Array);
  // A body at an odd offset (a pooled buffer) is copied, not misread.
  const odd = Buffer.alloc(body.length + 1);
  body.copy(odd, 1);
  assert.equal(UserTable.fromIndex(odd.subarray(1), buf, 'users.jsonl')?.get('u49')?.features?.['n'], 49);
  // Another file's bytes: one user more, or the same length cut otherwise.
  const longer = fileOf([...users, { id: 'u50', features: { n: 50 } }]);
  assert.equal(UserTable.fromIndex(body, longer, 'users.jsonl'), undefined);
  // A body cut short, or another format.
  assert.equal(UserTable.fromIndex(body.subarray(0, body.length - 4), buf, 'users.jsonl'), undefined);
  const other = Buffer.from(body);
  other.write('recreplay.users-index/9', other.indexOf('recreplay.users-index/2'));
  assert.equal(UserTable.fromIndex(other, buf, 'users.jsonl'), undefined);
});

test('an open keeps the index of a users.jsonl it checked whole, and the next open reads it back: an edited index is not taken', () => {
  const dir = makeSlice(20);
  const m = JSON.parse(readFileSync(join(dir, 'slice.json'), 'utf8')) as SliceManifest;
  const entry = m.files.find((f) => f.path === 'users.jsonl') as SliceManifest['files'][number];
  const buf = readFileSync(join(dir, 'users.jsonl'));
  const name = readdirSync(cacheDir()).find((f) => f.startsWith(`users-${entry.sha256}-`) && f.endsWith('.idx'));
  assert.ok(name, 'the writer kept the index of the users it wrote');
  const kept = loadUsersIndex(cacheDir(), entry.sha256, m.schema.user, buf, join(dir, 'users.jsonl'));
  assert.ok(kept);
  assert.equal(kept.count, 5);
  // Another user's index (another cache folder's seal), or one edited in place, is not this one.
  const elsewhere = tmp();
  writeFileSync(join(elsewhere, name), readFileSync(join(cacheDir(), name)));
  assert.equal(loadUsersIndex(elsewhere, entry.sha256, m.schema.user, buf, 'users.jsonl'), undefined);
  const edited = readFileSync(join(cacheDir(), name));
  edited.writeUInt8((edited.readUInt8(edited.length - 40) ^ 1) & 0xff, edited.length - 40);
  writeFileSync(join(cacheDir(), name), edited);
  assert.equal(loadUsersIndex(cacheDir(), entry.sha256, m.schema.user, buf, 'users.jsonl'), undefined);
  // The open parses the file whole then, reads the same users, and keeps a good index again.
  const s = Slice.open(dir);
  assert.deepEqual([...s.userById.values()], [...kept.values()]);
  s.close();
  assert.ok(loadUsersIndex(cacheDir(), entry.sha256, m.schema.user, buf, 'users.jsonl'));
  // Under other feature types, the same file has an index of its own.
  assert.equal(loadUsersIndex(cacheDir(), entry.sha256, { age: 'string' }, buf, 'users.jsonl'), undefined);
  const other = UserTable.lazy(buf, 'users.jsonl', { age: 'string' }) as UserTable;
  storeUsersIndex(cacheDir(), entry.sha256, { age: 'string' }, other);
  assert.ok(loadUsersIndex(cacheDir(), entry.sha256, { age: 'string' }, buf, 'users.jsonl'));
});

test('an id is compared with the bytes of a line as their UTF-8 text, ASCII or not, at any place in the file', () => {
  const text = fc.oneof(fc.constantFrom('', 'ab', 'é', 'aé', 'éa', 'a😀', '😀a', 'ü'), fc.string({ unit: 'binary', maxLength: 5 }).filter((s) => Buffer.from(s).toString() === s));
  fc.assert(
    fc.property(text, text, fc.nat(3), (stored, asked, at) => {
      const buf = Buffer.concat([Buffer.alloc(at, 0x61), Buffer.from(stored), Buffer.from('"')]);
      assert.equal(isText(buf, at, buf.length - 1, asked), stored === asked);
      assert.equal(isText(buf, at, buf.length - 1, stored), true);
    }),
    { numRuns: 2000 },
  );
});
