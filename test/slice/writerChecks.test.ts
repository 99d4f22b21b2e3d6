import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeSlice, type SliceInput } from '../../src/core/slice/writer';
import { Slice } from '../../src/core/slice/reader';
import { UserError } from '../../src/core/errors';
import type { EventRecord, ItemRecord, UserRecord } from '../../src/core/slice/types';
import { BASE_MANIFEST, fixture, makeSlice, tmp } from '../helpers';

const OPTS = { frozenAt: '2025-01-02T00:00:00.000Z' };

/** Writes a fixture with one change into a fresh folder; expects a UserError at file:record:field and nothing left behind. */
function refused(change: (f: { events: EventRecord[]; items: ItemRecord[]; users: UserRecord[] }) => void, where: { file: string; line: number; field: string }, message: RegExp): void {
  const f = fixture(6);
  change(f);
  const parent = tmp();
  const dir = join(parent, 'new', 'bad.slice');
  assert.throws(
    () => writeSlice(dir, { manifest: BASE_MANIFEST, ...f }, OPTS),
    (e: unknown) => {
      assert.ok(e instanceof UserError, String(e));
      assert.deepEqual({ file: e.where.file, line: e.where.line, field: e.where.field }, where);
      assert.match(e.message, message);
      assert.ok(e.hint, 'the error says what to do');
      return true;
    },
  );
  assert.deepEqual(readdirSync(parent), [], 'no slice, temp folder or parent folder left behind');
}

test('writer refuses an item without a string id (the reader would refuse the slice) with items:record:id', () => {
  refused((f) => ((f.items[2] as { id: unknown }).id = 5), { file: 'items', line: 3, field: 'id' }, /string "id"/);
  refused((f) => ((f.users[0] as { id: unknown }).id = null), { file: 'users', line: 1, field: 'id' }, /string "id"/);
});

test('writer refuses NaN and Infinity in item and user features instead of writing null', () => {
  refused((f) => ((f.items[4] as ItemRecord).features = { pop: Number.NaN }), { file: 'items', line: 5, field: 'features.pop' }, /NaN/);
  refused((f) => ((f.users[1] as UserRecord).features = { age: Number.POSITIVE_INFINITY }), { file: 'users', line: 2, field: 'features.age' }, /Infinity/);
});

test('writer refuses a non-finite number anywhere in a record, naming its path', () => {
  refused((f) => ((f.events[3] as EventRecord).system = { latencyMs: { retrieve: 5, score: Number.NaN } }), { file: 'events', line: 4, field: 'system.latencyMs.score' }, /NaN/);
  refused((f) => ((f.events[0] as EventRecord).outcome = { clicks: [], dwellMs: { i1: Number.NEGATIVE_INFINITY } }), { file: 'events', line: 1, field: 'outcome.dwellMs.i1' }, /-Infinity/);
  refused((f) => ((f.events[1] as EventRecord)['extra'] = { list: [1, Number.NaN] }), { file: 'events', line: 2, field: 'extra.list[1]' }, /NaN/);
  refused((f) => ((f.items[0] as ItemRecord).embedding = [0.5, Number.NaN]), { file: 'items', line: 1, field: 'embedding[1]' }, /NaN/);
  refused((f) => ((f.users[3] as UserRecord)['meta'] = { score: Number.NaN }), { file: 'users', line: 4, field: 'meta.score' }, /NaN/);
});

test('writer applies the reader\'s item checks: availability windows need a timezone', () => {
  refused((f) => ((f.items[1] as ItemRecord).available = [{ from: '2025-01-01T00:00:00' }]), { file: 'items', line: 2, field: 'available[0].from' }, /timezone/);
});

test('a failed overwrite leaves the existing slice as it was', () => {
  const dir = makeSlice(5);
  const before = readFileSync(join(dir, 'slice.json'), 'utf8');
  const f = fixture(5);
  (f.items[0] as { id: unknown }).id = 5;
  const input: SliceInput = { manifest: BASE_MANIFEST, ...f };
  assert.throws(() => writeSlice(dir, input, { ...OPTS, overwrite: true }), UserError);
  assert.equal(readFileSync(join(dir, 'slice.json'), 'utf8'), before);
  assert.deepEqual(readdirSync(join(dir, '..')), ['test.slice']);
  Slice.open(dir).close();
});

test('an artifact name that is not a plain path inside artifacts/ is refused before anything is written', () => {
  for (const name of ['../events.jsonl', '../../x', '/etc/x', 'a/../../b', './a', '', 'a//b']) {
    const parent = tmp();
    const dir = join(parent, 'art.slice');
    assert.throws(
      () => writeSlice(dir, { manifest: BASE_MANIFEST, ...fixture(4), artifacts: { [name]: 'x' } }, OPTS),
      (e: unknown) => e instanceof UserError && /is not a plain relative path inside artifacts\//.test(e.message) && e.where.field === `artifacts.${name}`,
      name,
    );
    assert.deepEqual(readdirSync(parent), [], `${JSON.stringify(name)}: nothing left behind`);
  }
  // Subfolders are fine.
  const dir = join(tmp(), 'ok.slice');
  writeSlice(dir, { manifest: BASE_MANIFEST, ...fixture(4), artifacts: { 'v2/model.json': '{}' } }, OPTS);
  assert.equal(readFileSync(join(dir, 'artifacts/v2/model.json'), 'utf8'), '{}');
  Slice.open(dir).close();
});

test('an overwrite replaces the slice whole and leaves no old copy beside it', () => {
  const dir = makeSlice(5);
  writeSlice(dir, { manifest: { ...BASE_MANIFEST, name: 'second' }, ...fixture(7) }, { ...OPTS, overwrite: true });
  assert.deepEqual(readdirSync(join(dir, '..')), ['test.slice']);
  const s = Slice.open(dir);
  assert.equal(s.manifest.name, 'second');
  assert.equal(s.eventCount, 7);
  s.close();
});
