import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, readdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { Slice } from '../../src/core/slice/reader';
import { ItemCatalog } from '../../src/core/slice/itemCatalog';
import { writeSlice } from '../../src/core/slice/writer';
import { ItemIndex } from '../../src/core/metrics/catalog';
import { Replayer } from '../../src/core/engine/replay';
import { loadRanker } from '../../src/core/rankers';
import { CHARS_PER_STEP, RECORDS_PER_STEP, StepsCancelled, runSteps } from '../../src/core/steps';
import { readWholeSteps } from '../../src/core/slice/hashing';
import { parseRecordsSteps } from '../../src/core/slice/events';
import { UserError } from '../../src/core/errors';
import { BASE_MANIFEST, fixture, openOn, tmp } from '../helpers';
import type { ItemRecord } from '../../src/core/slice/types';

const ITEMS = 3 * RECORDS_PER_STEP + 100;

/** A slice whose catalogue takes several slices of work to parse and index. */
function bigCatalogue(): string {
  const dir = join(tmp(), 'big.slice');
  const f = fixture(20, { items: ITEMS });
  // A repeated id: the first record stays the item's (as Slice.open has always kept it).
  f.items.push({ id: 'i7', category: 'late', features: { pop: 99 } });
  writeSlice(dir, { manifest: BASE_MANIFEST, ...f }, { frozenAt: '2025-01-02T00:00:00.000Z' });
  return dir;
}

test('openAsync opens the same slice as open, pausing between slices of its work (parsing and indexing the catalogue)', async () => {
  const dir = bigCatalogue();
  let pauses = 0;
  const a = await Slice.openAsync(dir, {}, { pause: async () => void pauses++ });
  const b = Slice.open(dir);
  try {
    assert.ok(pauses >= 4, `${pauses} pauses: the catalogue is parsed ~1 MB of text and indexed ${RECORDS_PER_STEP} records at a time`);
    assert.deepEqual(a.items, b.items);
    assert.equal(a.items.length, ITEMS + 1);
    assert.equal(a.itemById.size, ITEMS);
    assert.equal(a.itemById.get('i7')?.category, b.itemById.get('i7')?.category);
    assert.notEqual(a.itemById.get('i7')?.category, 'late', 'a repeated id keeps its first record');
    assert.deepEqual(a.users, b.users);
    assert.equal(a.eventCount, b.eventCount);
    assert.deepEqual(a.readEvent(20), b.readEvent(20));
  } finally {
    a.close();
    b.close();
  }
});

test('openAsync refuses bad input as open does: the file, the line and the reason', async () => {
  const dir = bigCatalogue();
  const file = join(dir, 'items.jsonl');
  const lines = readFileSync(file, 'utf8').split('\n');
  lines[RECORDS_PER_STEP + 5] = '{"id": "i5000", "features": {"pop": NaN}}';
  writeFileSync(file, lines.join('\n'));
  const sync = (() => {
    try {
      Slice.open(dir, { force: true });
    } catch (e) {
      return e as UserError;
    }
    throw new Error('open accepted a malformed item');
  })();
  await assert.rejects(Slice.openAsync(dir, { force: true }), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.equal(e.describe(), sync.describe());
    assert.equal(e.where.line, RECORDS_PER_STEP + 6);
    assert.match(e.where.file ?? '', /items\.jsonl$/);
    return true;
  });
});

test('a cancelled openAsync rejects with StepsCancelled and keeps events.jsonl open nowhere', async () => {
  const dir = bigCatalogue();
  const events = join(dir, 'events.jsonl');
  const before = openOn(events);
  let pauses = 0;
  await assert.rejects(Slice.openAsync(dir, {}, { pause: async () => void pauses++, cancelled: () => pauses >= 3 }), StepsCancelled);
  assert.equal(openOn(events), before, 'the descriptor opened for events.jsonl was closed');
});

test('ItemCatalog: dense slots in catalogue order, a repeated id keeping its first record; reads as a map and its ids as a set', () => {
  const items: ItemRecord[] = [{ id: 'b' }, { id: '__proto__', category: 'x' }, { id: 'a', category: 'first' }, { id: 'a', category: 'second' }, { id: 'constructor' }];
  const c = runSteps(ItemCatalog.build(items));
  assert.equal(c.size, 4);
  assert.deepEqual([...c.keys()], ['b', '__proto__', 'a', 'constructor']);
  assert.deepEqual([c.slotOf('b'), c.slotOf('__proto__'), c.slotOf('a'), c.slotOf('constructor'), c.slotOf('toString')], [0, 1, 2, 3, undefined]);
  assert.equal(c.get('a')?.category, 'first');
  assert.equal(c.get('__proto__')?.category, 'x');
  assert.equal(c.has('hasOwnProperty'), false);
  assert.deepEqual([...c.values()].map((r) => r.id), ['b', '__proto__', 'a', 'constructor']);
  assert.deepEqual(new Map(c), new Map([['b', items[0]], ['__proto__', items[1]], ['a', items[2]], ['constructor', items[4]]]));
  assert.equal(c.ids.size, 4);
  assert.ok(c.ids.has('constructor') && !c.ids.has('valueOf'));
  assert.deepEqual([...c.ids], ['b', '__proto__', 'a', 'constructor']);
});

test('the metrics index over a slice catalogue is the one it builds alone (property: ids with repeats, categories, groups)', () => {
  const entry = fc.record({ id: fc.constantFrom('a', 'b', 'c', 'd', 'e', '__proto__', 'x1', 'x2'), category: fc.option(fc.constantFrom('k', 'l', ''), { nil: undefined }), group: fc.option(fc.constantFrom('g', 'h'), { nil: undefined }) });
  fc.assert(
    fc.property(fc.array(entry, { maxLength: 30 }), (raw) => {
      const catalog = raw.map((e) => ({ id: e.id, ...(e.category ? { category: e.category } : {}), ...(e.group ? { group: e.group } : {}) }));
      const slots = runSteps(ItemCatalog.build(raw.map((e) => ({ id: e.id })))).slots;
      const given = runSteps(ItemIndex.sharedSteps(catalog, slots));
      const alone = runSteps(ItemIndex.sharedSteps(catalog.map((e) => ({ ...e }))));
      assert.deepEqual({ ...given, ids: { ...given.ids } }, { ...alone, ids: { ...alone.ids } });
    }),
  );
});

test('replayers of one slice share its catalogue and indexes; a replay after prepareSteps ran in slices is the replay without', async () => {
  const dir = bigCatalogue();
  const s = await Slice.openAsync(dir);
  try {
    const prepared = [...Replayer.prepareSteps(s)].length;
    assert.ok(prepared >= 3, `${prepared} slices of catalogue indexing`);
    const one = new Replayer(s, { ranker: loadRanker('popularity', { slice: s }) });
    const two = new Replayer(s, { ranker: loadRanker('popularity', { slice: s }) });
    assert.equal(one.catalog, two.catalog);
    assert.equal(one.itemBySlot, two.itemBySlot);
    assert.equal(one.itemBySlot[7], s.itemById.get('i7'));
    const fresh = Slice.open(dir);
    const three = new Replayer(fresh, { ranker: loadRanker('popularity', { slice: fresh }) });
    const run = async (r: Replayer) => {
      const out: unknown[] = [];
      while (r.advance()) {
        await r.finishEvent();
        out.push(r.current?.metrics, r.current?.rows.map((x) => [x.item, x.rank]));
      }
      return out;
    };
    assert.deepEqual(await run(one), await run(three));
    for (const r of [one, two, three]) r.dispose();
    fresh.close();
  } finally {
    s.close();
  }
});

test('readWholeSteps reads a file a slice at a time, handing each slice on as read; a file that shrinks or grows meanwhile is read as it is', () => {
  const file = join(tmp(), 'data.bin');
  const bytes = Buffer.from(Array.from({ length: 10_000 }, (_, i) => i % 251));
  writeFileSync(file, bytes);
  const chunks: Buffer[] = [];
  const steps = readWholeSteps(file, (c) => chunks.push(Buffer.from(c)), 4096);
  let pauses = 0;
  let r = steps.next();
  for (; !r.done; r = steps.next()) pauses++;
  assert.deepEqual(r.value, bytes);
  assert.equal(pauses, 2);
  assert.deepEqual(chunks.map((c) => c.length), [4096, 4096, 1808]);
  assert.deepEqual(Buffer.concat(chunks), bytes);
  // Cut short after the first slice: what is there is the file.
  const shrunk = runSteps(readWholeSteps(file, (c) => c.length === 4096 && c[0] === 0 && truncateSync(file, 5000), 4096));
  assert.deepEqual(shrunk, bytes.subarray(0, 5000));
  // Grown after its size was read: the rest is read too.
  writeFileSync(file, bytes);
  let grew = false;
  const seen: number[] = [];
  const grown = runSteps(readWholeSteps(file, (c) => (seen.push(c.length), grew || ((grew = true), appendFileSync(file, 'tail'))), 4096));
  assert.deepEqual(grown, Buffer.concat([bytes, Buffer.from('tail')]));
  assert.equal(seen.reduce((a, b) => a + b, 0), 10_004, 'every byte handed on (hashed) once');
});

test('records with long lines yield more often: a slice of work is about CHARS_PER_STEP characters, not 4,096 records', () => {
  const line = JSON.stringify({ id: 'x', embedding: Array.from({ length: 2000 }, (_, i) => i / 7) });
  const text = Array.from({ length: 400 }, (_, i) => line.replace('"x"', `"i${i}"`)).join('\n');
  let pauses = 0;
  const steps = parseRecordsSteps(text, 'items.jsonl', 'item');
  let r = steps.next();
  for (; !r.done; r = steps.next()) pauses++;
  assert.equal(r.value.length, 400);
  assert.ok(pauses >= Math.floor(text.length / CHARS_PER_STEP), `${pauses} pauses over ${text.length} characters`);
  assert.ok(pauses >= 5);
});

test('a million users do not make one long step: users.jsonl is parsed, scanned and indexed a slice at a time at the first open; later ones read the index it kept', async () => {
  const dir = join(tmp(), 'users.slice');
  const f = fixture(10);
  const users = Array.from({ length: 3 * RECORDS_PER_STEP + 7 }, (_, i) => ({ id: `u${i}`, features: { age: i % 90 } }));
  writeSlice(dir, { manifest: BASE_MANIFEST, ...f, users }, { frozenAt: '2025-01-02T00:00:00.000Z' });
  // A cache of its own: the first open parses every user (and keeps their index), later ones read them by id.
  const cacheDir = tmp();
  let firstPauses = 0;
  for (const pass of ['first', 'later']) {
    let pauses = 0;
    const s = await Slice.openAsync(dir, { cacheDir }, { pause: async () => void pauses++ });
    try {
      if (pass === 'first') {
        assert.ok(pauses >= 3, `${pass} open: ${pauses} pauses`);
        firstPauses = pauses;
        assert.ok(readdirSync(cacheDir).some((f) => f.startsWith('users-') && f.endsWith('.idx')), 'the index kept');
      } else {
        // Reading the kept index is one short step (~28 bytes a user, read and its seal checked natively): no parse, no scan.
        assert.ok(pauses < firstPauses - 2, `${pass} open: ${pauses} pauses, against ${firstPauses}`);
      }
      assert.equal(s.userCount, users.length);
      assert.deepEqual(s.userById.at(12_000), users[12_000]);
      assert.deepEqual(s.userById.get('u4'), users[4]);
      assert.deepEqual(runSteps(s.userById.allSteps()), users);
    } finally {
      s.close();
    }
  }
});

test('openAsync reads an events.jsonl whose index is not cached (a first open, or forced) a chunk per step, and hears a cancel between chunks: the standalone debug adapter answered nothing for seconds', async () => {
  const dir = join(tmp(), 'chunks.slice');
  const cache = tmp();
  // 64 KiB chunks: the events file is a dozen of them and more.
  writeSlice(dir, { manifest: BASE_MANIFEST, ...fixture(3000) }, { frozenAt: '2025-01-02T00:00:00.000Z', chunkSize: 65_536, cacheDir: tmp() });
  const chunks = (JSON.parse(readFileSync(join(dir, 'slice.json'), 'utf8')) as { files: { path: string; chunks?: { sha256: string[] } }[] }).files.find((f) => f.path === 'events.jsonl')?.chunks?.sha256.length ?? 0;
  assert.ok(chunks >= 12, `${chunks} chunks`);
  const prev = process.env['RECREPLAY_CACHE_DIR'];
  process.env['RECREPLAY_CACHE_DIR'] = cache;
  try {
    for (const opts of [{}, { force: true }]) {
      // Forced, the cached index is not taken on trust (Slice.open trustCachedIndex): read whole again, a chunk per step too.
      let pauses = 0;
      const s = await Slice.openAsync(dir, opts, { pause: async () => void pauses++ });
      try {
        assert.equal(s.eventCount, 3000);
        assert.ok(pauses >= chunks - 1, `${pauses} pauses for ${chunks} chunks (${JSON.stringify(opts)})`);
      } finally {
        s.close();
      }
    }
    // Cancelled between chunks: rejected, nothing left open.
    const events = join(dir, 'events.jsonl');
    const before = openOn(events);
    let pauses = 0;
    await assert.rejects(Slice.openAsync(dir, { force: true }, { pause: async () => void pauses++, cancelled: () => pauses >= 5 }), StepsCancelled);
    assert.equal(openOn(events), before);
  } finally {
    if (prev === undefined) delete process.env['RECREPLAY_CACHE_DIR'];
    else process.env['RECREPLAY_CACHE_DIR'] = prev;
  }
});

test('catalogAsync reads the catalogue alone, as open indexes it, pausing as it works; events.jsonl and users.jsonl are never read', async () => {
  const dir = bigCatalogue();
  const full = Slice.open(dir);
  const manifestSha256 = full.manifestSha256;
  const ids = full.items.map((it) => it.id);
  const slots = ids.map((id) => full.itemById.slotOf(id));
  const size = full.itemById.size;
  full.close();
  // Neither file is there to be read: the catalogue alone is.
  writeFileSync(join(dir, 'events.jsonl'), 'not json\n');
  writeFileSync(join(dir, 'users.jsonl'), 'not json\n');
  let pauses = 0;
  const c = await Slice.catalogAsync(dir, { pause: async () => void pauses++ });
  assert.ok(pauses >= 4, `${pauses} pauses`);
  assert.equal(c.manifestSha256, manifestSha256);
  assert.equal(c.itemById.size, size);
  assert.deepEqual(ids.map((id) => c.itemById.slotOf(id)), slots);
  assert.notEqual(c.itemById.get('i7')?.category, 'late', 'a repeated id keeps its first record');
  await assert.rejects(Slice.catalogAsync(dir, { cancelled: () => true }), StepsCancelled);
  // A malformed item is said as open says it: file and line.
  const file = join(dir, 'items.jsonl');
  const lines = readFileSync(file, 'utf8').split('\n');
  lines[5] = '{"id": "i5", "features": {"pop": NaN}}';
  writeFileSync(file, lines.join('\n'));
  await assert.rejects(Slice.catalogAsync(dir), (e: unknown) => e instanceof UserError && e.where.line === 6 && /items\.jsonl$/.test(e.where.file ?? ''));
});
