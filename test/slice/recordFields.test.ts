import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Slice } from '../../src/core/slice/reader';
import { EventCursor } from '../../src/core/slice/cursor';
import { writeSlice } from '../../src/core/slice/writer';
import { UserError } from '../../src/core/errors';
import { parseEventLine, parseRecords } from '../../src/core/slice/events';
import type { CandidateRecord, EventRecord, SliceManifest } from '../../src/core/slice/types';
import { BASE_MANIFEST, eventLine, fixture, rawSlice, tmp } from '../helpers';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

/** A raw slice (no writer checks) of these event lines, items.jsonl and users.jsonl. */
function sliceWith(events: string[], records: { items?: string; users?: string } = {}, patch: (m: SliceManifest) => void = () => {}): string {
  const entry = (path: string, text: string) => ({ path, sha256: sha(text), bytes: Buffer.byteLength(text), records: text.split('\n').filter((l) => l !== '').length });
  const dir = rawSlice(events.map((l) => l + '\n').join(''), (m) => {
    m.files = [m.files[0] as SliceManifest['files'][number], entry('items.jsonl', records.items ?? ''), ...(records.users !== undefined ? [entry('users.jsonl', records.users)] : [])];
    patch(m);
  });
  writeFileSync(join(dir, 'items.jsonl'), records.items ?? '');
  if (records.users !== undefined) writeFileSync(join(dir, 'users.jsonl'), records.users);
  return dir;
}

/** fn throws a UserError at file:line and field, whose message matches and that says what to do. */
function rejects(fn: () => unknown, where: { file: string; line: number; field: string }, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof UserError, String(e));
    assert.ok(e.where.file?.endsWith(where.file), e.where.file);
    assert.equal(e.where.line, where.line);
    assert.equal(e.where.field, where.field);
    assert.match(e.message, message);
    assert.ok(e.hint, 'the error says what to do');
    return true;
  });
}

/** Reading all of `dir` (small pieces, the reader thread started at once) is refused at event 200's `field`. */
function refusedThroughReaderThread(dir: string, field: string, message: RegExp): void {
  const [piece, after] = [EventCursor.pieceSize, Slice.prefetchAfterBlocks];
  EventCursor.pieceSize = 700;
  Slice.prefetchAfterBlocks = 1;
  const s = Slice.open(dir);
  try {
    const started = Slice.prefetchesStarted;
    rejects(() => [...s.events()], { file: 'events.jsonl', line: 200, field }, message);
    assert.ok(Slice.prefetchesStarted > started, 'the reader thread ran');
  } finally {
    s.close();
    EventCursor.pieceSize = piece;
    Slice.prefetchAfterBlocks = after;
  }
}

const ev = (id: string, extra: Record<string, unknown> = {}) => eventLine(id, `2025-01-01T00:00:0${id.slice(1)}Z`, extra);

test('an item whose category or group is not a string, or whose embedding is not finite numbers, is refused at open with items.jsonl:line and the field', () => {
  const cases: [string, string, RegExp][] = [
    ['{"id":"a","category":5}', 'category', /"category" must be a string, got 5/],
    ['{"id":"a","category":"x","group":5}', 'group', /"group" must be a string, got 5/],
    ['{"id":"a","embedding":"oops"}', 'embedding', /must be an array of numbers, got "oops"/],
    ['{"id":"a","embedding":[0.1,"x"]}', 'embedding[1]', /must be a finite number, got "x"/],
    ['{"id":"a","embedding":[1e999]}', 'embedding[0]', /got Infinity/],
  ];
  for (const [line, field, message] of cases) {
    const dir = sliceWith([ev('e1')], { items: `{"id":"ok","category":"c","embedding":[1,2]}\n${line}\n` });
    rejects(() => Slice.open(dir), { file: 'items.jsonl', line: 2, field }, message);
  }
  // null is a label or vector left out (the embedding ranker's cold-start case).
  const s = Slice.open(sliceWith([ev('e1')], { items: '{"id":"a","category":null,"group":null,"embedding":null}\n' }));
  assert.equal(s.items.length, 1);
  s.close();
});

test('a user whose segment is not a string or whose embedding is not numbers is refused at open with users.jsonl:line', () => {
  rejects(() => Slice.open(sliceWith([ev('e1')], { users: '{"id":"u1","segment":3}\n' })), { file: 'users.jsonl', line: 1, field: 'segment' }, /"segment" must be a string/);
  rejects(() => Slice.open(sliceWith([ev('e1')], { users: '{"id":"u0"}\n{"id":"u1","embedding":{"0":1}}\n' })), { file: 'users.jsonl', line: 2, field: 'embedding' }, /must be an array of numbers/);
});

test('the writer refuses an item the reader would refuse: a numeric category', () => {
  const f = fixture(3);
  (f.items[1] as { category: unknown }).category = 5;
  const out = join(tmp(), 'x.slice');
  assert.throws(() => writeSlice(out, { manifest: BASE_MANIFEST, ...f }, { frozenAt: '2025-01-02T00:00:00.000Z' }), (e: unknown) => e instanceof UserError && e.where.file === 'items' && e.where.line === 2 && e.where.field === 'category');
});

test('system figures must be numbers: queueDepth "7", a string latency or cache count is refused with the line and field', () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ queueDepth: '7' }, 'system.queueDepth'],
    [{ latencyMs: { score: '20' } }, 'system.latencyMs.score'],
    [{ cache: { hits: '9', misses: 1 } }, 'system.cache.hits'],
  ];
  for (const [system, field] of cases) {
    const s = Slice.open(sliceWith([ev('e1'), ev('e2', { system })]));
    rejects(() => [...s.events()], { file: 'events.jsonl', line: 2, field }, /must be a number, got "\d+"/);
    rejects(() => s.readEvent(2), { file: 'events.jsonl', line: 2, field }, /must be a number/);
    s.close();
  }
  // null is a figure not recorded, as leaving it out.
  const s = Slice.open(sliceWith([ev('e1', { system: { queueDepth: null, latencyMs: { score: null } } })]));
  assert.equal(s.readEvent(1).system?.queueDepth, null);
  s.close();
});

test('outcome.clicks must hold item ids: [5] is refused with the line and field', () => {
  const s = Slice.open(sliceWith([ev('e1'), ev('e2', { outcome: { clicks: [5] } })]));
  rejects(() => [...s.events()], { file: 'events.jsonl', line: 2, field: 'outcome.clicks' }, /must be an array of item ids \(strings\), got \[5\]/);
  assert.deepEqual(s.readEvent(1).outcome?.clicks, ['a']);
  s.close();
});

test('a string in a candidate feature the manifest types "number" is refused with the line and candidates[i].features.NAME', () => {
  const typed = (m: SliceManifest) => (m.schema.candidate = { x: 'number', tag: 'string' });
  const bad = ev('e2', { candidates: [{ item: 'a', features: { x: 1 } }, { item: 'b', features: { x: '2' } }] });
  const s = Slice.open(sliceWith([ev('e1'), bad], {}, typed));
  rejects(() => [...s.events()], { file: 'events.jsonl', line: 2, field: 'candidates[1].features.x' }, /feature "x" must be a number \(the manifest's schema types it "number"\), got "2"/);
  rejects(() => s.readEvent(2), { file: 'events.jsonl', line: 2, field: 'candidates[1].features.x' }, /must be a number/);
  s.close();
  // null (missing), a feature the schema does not type, and text where the schema says "string" are fine.
  const fine = ev('e1', { candidates: [{ item: 'a', features: { x: null, other: 'y', tag: 'z' } }] });
  const ok = Slice.open(sliceWith([fine], {}, typed));
  assert.deepEqual(ok.readEvent(1).candidates[0]?.features, { x: null, other: 'y', tag: 'z' });
  ok.close();
});

test('item, user and context features are held to the manifest schema too: a string where it says "number" is refused with file, line and field', () => {
  const typed = (m: SliceManifest) => {
    m.schema.item = { price: 'number', tag: 'string' };
    m.schema.user = { tenure: 'number' };
    m.schema.context = { hour: 'number', device: 'string' };
  };
  const items = '{"id":"a","features":{"price":3,"tag":"x"}}\n{"id":"b","features":{"price":"cheap"}}\n';
  rejects(() => Slice.open(sliceWith([ev('e1')], { items }, typed)), { file: 'items.jsonl', line: 2, field: 'features.price' }, /feature "price" must be a number \(the manifest's schema types it "number"\), got "cheap"/);
  const users = '{"id":"u1","features":{"tenure":"long"}}\n';
  rejects(() => Slice.open(sliceWith([ev('e1')], { items: '{"id":"a"}\n', users }, typed)), { file: 'users.jsonl', line: 1, field: 'features.tenure' }, /feature "tenure" must be a number/);
  const s = Slice.open(sliceWith([ev('e1', { context: { hour: 9, device: 'ios' } }), ev('e2', { context: { hour: 'nine', device: 'ios' } })], { items: '{"id":"a","features":{"price":null}}\n' }, typed));
  rejects(() => [...s.events()], { file: 'events.jsonl', line: 2, field: 'context.hour' }, /feature "hour" must be a number/);
  rejects(() => s.readEvent(2), { file: 'events.jsonl', line: 2, field: 'context.hour' }, /must be a number/);
  assert.deepEqual(s.readEvent(1).context, { hour: 9, device: 'ios' });
  s.close();
  // The writer checks a given schema the same way (and infers one that fits when none is given).
  const f = fixture(3);
  f.items[0] = { id: 'i0', features: { pop: 'lots' } } as never;
  assert.throws(
    () => writeSlice(join(tmp(), 'w.slice'), { manifest: { ...BASE_MANIFEST, schema: { user: {}, item: { pop: 'number' }, context: {}, candidate: {} } }, ...f }, { frozenAt: '2025-01-02T00:00:00.000Z' }),
    (e: unknown) => e instanceof UserError && e.where.file === 'items' && e.where.field === 'features.pop',
  );
});

test('a context feature typed "number" holding a string is refused on a replay the reader thread digests', () => {
  const f = fixture(300, { seed: 5 });
  for (const e of f.events) e.context = { hour: 9 };
  (f.events[199] as EventRecord).context = { hour: 'nine' };
  const dir = join(tmp(), 'ctx.slice');
  writeSlice(dir, { manifest: BASE_MANIFEST, ...f }, { frozenAt: '2025-01-02T00:00:00.000Z', chunkSize: 4096 });
  const m = JSON.parse(readFileSync(join(dir, 'slice.json'), 'utf8')) as SliceManifest;
  assert.equal(m.schema.context['hour'], 'string', 'the writer typed it by what it holds');
  m.schema.context['hour'] = 'number';
  writeFileSync(join(dir, 'slice.json'), JSON.stringify(m));
  refusedThroughReaderThread(dir, 'context.hour', /got "nine"/);
});

test('a string where the schema says "number" is refused on a replay the reader thread shares too', () => {
  const f = fixture(300, { seed: 3 });
  const e = f.events[199] as EventRecord;
  (e.candidates[2] as CandidateRecord).features = { ctr: 'high', fresh: 0 };
  const dir = join(tmp(), 'typed.slice');
  writeSlice(dir, { manifest: BASE_MANIFEST, ...f }, { frozenAt: '2025-01-02T00:00:00.000Z', chunkSize: 4096 });
  // The writer typed ctr "string" (it is not always a number); a manifest that says "number" is refused on replay.
  const m = JSON.parse(readFileSync(join(dir, 'slice.json'), 'utf8')) as SliceManifest;
  assert.equal(m.schema.candidate['ctr'], 'string');
  m.schema.candidate['ctr'] = 'number';
  writeFileSync(join(dir, 'slice.json'), JSON.stringify(m));
  refusedThroughReaderThread(dir, 'candidates[2].features.ctr', /got "high"/);
});

test('the writer types a feature "number" only when it always holds numbers (so what it writes opens), and checks a given schema', () => {
  const f = fixture(4);
  ((f.events[2] as EventRecord).candidates[0] as CandidateRecord).features = { ctr: 'n/a', fresh: 1 };
  const dir = join(tmp(), 'mixed.slice');
  const { manifest } = writeSlice(dir, { manifest: BASE_MANIFEST, ...f }, { frozenAt: '2025-01-02T00:00:00.000Z' });
  assert.deepEqual(manifest.schema.candidate, { ctr: 'string', fresh: 'number' });
  const s = Slice.open(dir);
  assert.equal([...s.events()].length, 4);
  s.close();
  const schema = { user: {}, item: {}, context: {}, candidate: { ctr: 'number', fresh: 'number' } } as const;
  const out = join(tmp(), 'typed.slice');
  assert.throws(
    () => writeSlice(out, { manifest: { ...BASE_MANIFEST, schema }, ...f }, { frozenAt: '2025-01-02T00:00:00.000Z' }),
    (e: unknown) => e instanceof UserError && e.where.file === 'events' && e.where.line === 3 && e.where.field === 'candidates[0].features.ctr',
  );
});

test('a line that starts with a UTF-8 byte-order mark is said to, in events, items and users (not an invisible "unexpected token")', () => {
  const bom = (e: unknown, line: number) => e instanceof UserError && e.where.line === line && /starts with a UTF-8 byte-order mark \(U\+FEFF\)/.test(e.message) && /without a byte-order mark/.test(e.hint ?? '');
  assert.throws(() => parseEventLine('\uFEFF{"id":"e1"}', 'events.jsonl', 1), (e: unknown) => bom(e, 1));
  assert.throws(() => parseRecords('\uFEFF{"id":"i1"}\n{"id":"i2"}\n', 'items.jsonl', 'item'), (e: unknown) => bom(e, 1));
});

test('an item or user with an empty id is refused at open (no event could name it), and by the writer', () => {
  rejects(() => Slice.open(sliceWith([ev('e1')], { items: '{"id":"a"}\n{"id":""}\n' })), { file: 'items.jsonl', line: 2, field: 'id' }, /"id" must be a non-empty string, got ""/);
  rejects(() => Slice.open(sliceWith([ev('e1')], { users: '{"id":""}\n' })), { file: 'users.jsonl', line: 1, field: 'id' }, /"id" must be a non-empty string/);
  const f = fixture(3);
  (f.users[0] as { id: string }).id = '';
  assert.throws(() => writeSlice(join(tmp(), 'x.slice'), { manifest: BASE_MANIFEST, ...f }, { frozenAt: '2025-01-02T00:00:00.000Z' }), (e: unknown) => e instanceof UserError && e.where.file === 'users' && e.where.line === 1 && e.where.field === 'id');
});

test('an availability window that ends before it starts is refused with the window; bounds that meet are an empty window', () => {
  const items = '{"id":"a","available":[{"from":"2025-01-01T00:00:00Z"},{"from":"2025-03-01T00:00:00Z","to":"2025-02-01T00:00:00+01:00"}]}\n';
  rejects(() => Slice.open(sliceWith([ev('e1')], { items })), { file: 'items.jsonl', line: 1, field: 'available[1]' }, /availability window ends before it starts: "from" "2025-03-01T00:00:00Z" is after "to" "2025-02-01T00:00:00\+01:00"/);
  // Compared as instants, not as text: 10:00+02:00 is 08:00Z, after 09:00Z.
  rejects(() => Slice.open(sliceWith([ev('e1')], { items: '{"id":"a","available":[{"from":"2025-01-01T09:00:00Z","to":"2025-01-01T10:00:00+02:00"}]}\n' })), { file: 'items.jsonl', line: 1, field: 'available[0]' }, /ends before it starts/);
  const s = Slice.open(sliceWith([ev('e1')], { items: '{"id":"a","available":[{"from":"2025-01-01T09:00:00Z","to":"2025-01-01T09:00:00Z"}]}\n' }));
  assert.equal(s.items.length, 1);
  s.close();
});

test('system.fallback must be a boolean: the string "false" is refused with the line and field', () => {
  const s = Slice.open(sliceWith([ev('e1', { system: { fallback: true } }), ev('e2', { system: { fallback: 'false' } }), ev('e3', { system: { fallback: null } })]));
  rejects(() => [...s.events()], { file: 'events.jsonl', line: 2, field: 'system.fallback' }, /"system\.fallback" must be true or false, got "false"/);
  assert.equal(s.readEvent(3).system?.fallback, null);
  s.close();
});
