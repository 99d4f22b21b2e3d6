import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeSlice } from '../../src/core/slice/writer';
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
