import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeSlice, type SliceInput } from '../../src/core/slice/writer';
import { Slice } from '../../src/core/slice/reader';
import { validateManifest } from '../../src/core/slice/manifest';
import { UserError } from '../../src/core/errors';
import type { EventRecord, SliceManifest } from '../../src/core/slice/types';
import { BASE_MANIFEST, fixture, tmp } from '../helpers';

const FROZEN = { frozenAt: '2025-01-02T00:00:00.000Z' };

test('a chunk size a reader could not read back (2 GiB and more) is refused by the writer and by the manifest schema', () => {
  const { events, items, users } = fixture(3);
  const dir = join(tmp(), 'big.slice');
  for (const chunkSize of [2 ** 31, 2 ** 40, 100, 1536.5]) {
    assert.throws(() => writeSlice(dir, { manifest: BASE_MANIFEST, events, items, users }, { ...FROZEN, chunkSize }), (e: unknown) => e instanceof UserError && /chunk size .* is not a whole number of bytes from 1024 to 1073741824/.test(e.message), String(chunkSize));
    assert.equal(existsSync(dir), false, 'nothing written');
  }
  const ok = writeSlice(join(tmp(), 'ok.slice'), { manifest: BASE_MANIFEST, events, items, users }, { ...FROZEN, chunkSize: 1024 });
  const m = JSON.parse(readFileSync(join(ok.dir, 'slice.json'), 'utf8')) as SliceManifest;
  const entry = m.files.find((f) => f.path === 'events.jsonl') as NonNullable<SliceManifest['files'][number]>;
  (entry.chunks as { size: number }).size = 2 ** 31;
  assert.throws(() => validateManifest(m, 'slice.json'), (e: unknown) => e instanceof UserError && /chunks\.size/.test(e.message));
});

test('the schema the writer infers keeps features named like built-in object properties', () => {
  const { items, users } = fixture(1);
  const features = { constructor: 1, toString: 2, valueOf: 3, ['__proto__']: 4, ok: 5 };
  const ev: EventRecord = { id: 'e1', t: '2025-01-01T00:00:00.000Z', user: 'u1', context: { hasOwnProperty: 'x' }, candidates: [{ item: 'i0', features: JSON.parse(JSON.stringify({ ...features, ['__proto__']: undefined })) }], served: ['i0'] };
  // JSON.parse makes "__proto__" an own field, as a line of events.jsonl would.
  (ev.candidates[0] as { features: Record<string, unknown> }).features = JSON.parse('{"constructor": 1, "toString": 2, "valueOf": 3, "__proto__": 4, "ok": 5}');
  const { manifest } = writeSlice(join(tmp(), 'names.slice'), { manifest: BASE_MANIFEST, events: [ev], items, users }, FROZEN);
  assert.deepEqual(Object.keys(manifest.schema.candidate).sort(), ['__proto__', 'constructor', 'ok', 'toString', 'valueOf']);
  assert.equal(Object.hasOwn(manifest.schema.context, 'hasOwnProperty'), true);
  assert.equal(manifest.schema.context['hasOwnProperty'], 'string');
});

test('a write that fails midway closes its events file (no descriptor left open per failure)', { skip: !existsSync('/proc/self/fd') && 'needs /proc/self/fd' }, () => {
  const { items, users, events } = fixture(5);
  const open = () => readdirSync('/proc/self/fd').length;
  const before = open();
  for (let i = 0; i < 5; i++) {
    function* failing(): Generator<EventRecord> {
      yield events[0] as EventRecord;
      throw new Error('the source went away');
    }
    assert.throws(() => writeSlice(join(tmp(), `fail${i}.slice`), { manifest: BASE_MANIFEST, events: failing(), items, users }, FROZEN), /the source went away/);
  }
  assert.equal(open(), before);
});

test('the manifest and the frozenAt option are checked before a single event is read, and errors speak of them, not of a slice.json not yet written', () => {
  const cases: [Partial<SliceInput['manifest']>, string, string, RegExp][] = [
    [{ seed: 1.5 }, FROZEN.frozenAt, 'manifest.seed', /^the manifest given to writeSlice is invalid — seed: must be integer/],
    [{ name: '' }, FROZEN.frozenAt, 'manifest.name', /^the manifest given to writeSlice is invalid — name: /],
    [{ clock: { start: '2025-01-01T00:00:00' } }, FROZEN.frozenAt, 'manifest.clock.start', /^the manifest given to writeSlice is invalid — clock\.start: must be an RFC 3339 timestamp with a timezone/],
    [{}, 'yesterday', 'frozenAt', /^the frozenAt option must be an RFC 3339 timestamp with a timezone \(Z or ±HH:MM\), got "yesterday"$/],
    [{}, '2025-02-30T00:00:00Z', 'frozenAt', /^the frozenAt option "2025-02-30T00:00:00Z" is not a valid date and time$/],
  ];
  for (const [change, frozenAt, field, message] of cases) {
    const parent = tmp();
    let read = 0;
    function* events(): Generator<EventRecord> {
      for (const e of fixture(50).events) {
        read++;
        yield e;
      }
    }
    assert.throws(
      () => writeSlice(join(parent, 'x.slice'), { manifest: { ...BASE_MANIFEST, ...change }, events: events() }, { frozenAt }),
      (e: unknown) => {
        assert.ok(e instanceof UserError, String(e));
        assert.equal(e.where.field, field);
        assert.equal(e.where.file, undefined, 'no file is named: none was written');
        assert.match(e.message, message);
        assert.ok(e.hint && !/slice\.json/.test(e.hint) && !/slice\.json/.test(e.message), e.hint);
        return true;
      },
      field,
    );
    assert.equal(read, 0, `${field}: no event was read`);
    assert.deepEqual(readdirSync(parent), [], `${field}: nothing was written`);
  }
});

test('a slice folder and its files get the permissions the umask gives, so other users can read a shared slice', { skip: process.platform === 'win32' && 'POSIX modes' }, () => {
  const was = process.umask(0o022);
  try {
    const { dir } = writeSlice(join(tmp(), 'shared.slice'), { manifest: BASE_MANIFEST, ...fixture(3), artifacts: { 'v2/model.json': '{}' } }, FROZEN);
    for (const p of [dir, join(dir, 'artifacts'), join(dir, 'artifacts', 'v2')]) assert.equal(statSync(p).mode & 0o777, 0o755, p);
    for (const p of ['slice.json', 'events.jsonl', 'items.jsonl', 'users.jsonl', 'artifacts/v2/model.json']) assert.equal(statSync(join(dir, p)).mode & 0o777, 0o644, p);
    process.umask(0o077);
    const { dir: own } = writeSlice(join(tmp(), 'private.slice'), { manifest: BASE_MANIFEST, ...fixture(3) }, FROZEN);
    assert.equal(statSync(own).mode & 0o777, 0o700);
    assert.equal(statSync(join(own, 'events.jsonl')).mode & 0o777, 0o600);
  } finally {
    process.umask(was);
  }
});

test('a first event whose t has a space for the T (as RFC 3339 allows) becomes the slice\'s clock.start, and the slice opens', () => {
  const f = fixture(40);
  (f.events[0] as EventRecord).t = '2025-01-01 00:00:01Z';
  const { dir, manifest } = writeSlice(join(tmp(), 'sp.slice'), { manifest: BASE_MANIFEST, ...f }, FROZEN);
  assert.equal(manifest.clock.start, '2025-01-01 00:00:01Z');
  const s = Slice.open(dir);
  assert.equal(s.manifest.clock.start, '2025-01-01 00:00:01Z');
  s.close();
});

test('an error the caller\'s events throw (a generator reading its own input) reaches the caller as it was, not as the slice folder\'s', () => {
  const f = fixture(3);
  const dir = join(tmp(), 'gen.slice');
  const missing = join(tmp(), 'no-such-dir', 'more-events.json');
  function* events(): Generator<EventRecord> {
    yield f.events[0] as EventRecord;
    yield JSON.parse(readFileSync(missing, 'utf8')) as EventRecord;
  }
  assert.throws(
    () => writeSlice(dir, { manifest: BASE_MANIFEST, events: events(), items: f.items, users: f.users }, { frozenAt: '2025-01-02T00:00:00Z' }),
    (e: unknown) => !(e instanceof UserError) && (e as NodeJS.ErrnoException).code === 'ENOENT' && (e as Error).message.includes('more-events.json'),
  );
  assert.equal(existsSync(dir), false);
  assert.deepEqual(readdirSync(join(dir, '..')), [], 'no temp folder either');
});
