import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { createHash } from 'node:crypto';
import { cacheDir } from '../../src/core/slice/offsetIndex';
import fc from 'fast-check';
import { Slice } from '../../src/core/slice/reader';
import { writeSlice } from '../../src/core/slice/writer';
import { IntegrityError, UserError } from '../../src/core/errors';
import { BASE_MANIFEST, eventLine, fixture, makeSlice, rawSlice, readIndexFile, tmp, writeIndexFile } from '../helpers';

/** The doubles of a file read whole (its Buffer may be a view into a shared pool). */

test('round trip: every event read back through the index equals what was written', () => {
  const f = fixture(40);
  const dir = join(tmp(), 'rt.slice');
  const { manifest } = writeSlice(dir, { manifest: BASE_MANIFEST, ...f }, { frozenAt: '2025-01-02T00:00:00.000Z', chunkSize: 4096 });
  const s = Slice.open(dir);
  assert.equal(s.eventCount, 40);
  assert.deepEqual(s.readEvent(17), f.events[16]);
  assert.deepEqual([...s.events()], f.events);
  assert.deepEqual([...s.events(38)], f.events.slice(37));
  assert.deepEqual([...s.events(5, 7)], f.events.slice(4, 7));
  assert.equal(s.items.length, 30);
  assert.equal(manifest.files.find((x) => x.path === 'events.jsonl')?.records, 40);
  assert.ok((manifest.files[0]?.chunks?.sha256.length ?? 0) > 1, 'small chunk size gives several chunks');
  assert.deepEqual(manifest.schema.candidate, { ctr: 'number', fresh: 'number' });
  assert.equal(manifest.clock.start, f.events[0]?.t);
  assert.equal(manifest.versions.code?.name, 'recreplay');
  s.close();
});

test('property: writer/reader round trip for arbitrary events and chunk sizes', () => {
  const eventArb = fc.record({
    user: fc.string({ minLength: 1, maxLength: 6 }),
    candidates: fc.array(fc.record({ item: fc.string({ minLength: 1, maxLength: 5 }), features: fc.dictionary(fc.string({ minLength: 1, maxLength: 4 }), fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.string(), fc.boolean(), fc.constant(null))) }), { maxLength: 5 }),
    note: fc.string(),
  });
  fc.assert(
    fc.property(fc.array(eventArb, { minLength: 1, maxLength: 30 }), fc.integer({ min: 1024, max: 4096 }), (raw, chunk) => {
      const events = raw.map((r, i) => ({ id: `e${i}`, t: new Date(Date.UTC(2025, 0, 1) + i * 1000).toISOString(), user: r.user, candidates: r.candidates, served: r.candidates.map((c) => c.item).slice(0, 2), note: r.note }));
      const dir = join(tmp(), 'p.slice');
      writeSlice(dir, { manifest: BASE_MANIFEST, events }, { frozenAt: '2025-01-02T00:00:00.000Z', chunkSize: chunk });
      const s = Slice.open(dir);
      const back = [...s.events()];
      const n = 1 + (events.length >> 1);
      const one = s.readEvent(n);
      s.close();
      rmSync(dirname(dir), { recursive: true, force: true });
      // JSON does not keep -0; compare through JSON.
      assert.deepEqual(JSON.parse(JSON.stringify(back)), JSON.parse(JSON.stringify(events)));
      assert.deepEqual(JSON.parse(JSON.stringify(one)), JSON.parse(JSON.stringify(events[n - 1])));
    }),
    { numRuns: 40 },
  );
});

test('the offset index is cached at freeze: a second open does not rebuild it', () => {
  const dir = makeSlice(20);
  const cache = process.env['RECREPLAY_CACHE_DIR'] as string;
  const before = readdirSync(cache).filter((f) => f.startsWith('index-')).length;
  assert.ok(before >= 1);
  Slice.open(dir).close();
  assert.equal(readdirSync(cache).filter((f) => f.startsWith('index-')).length, before);
});

test('a modified events.jsonl is reported with its name and not replayed unless forced', () => {
  const dir = makeSlice(30, { chunkSize: 2048 });
  const p = join(dir, 'events.jsonl');
  const text = readFileSync(p, 'utf8');
  // Same length, one digit changed deep in the file: only a chunk hash can notice.
  const at = text.lastIndexOf('"ctr":0.');
  const changed = text.slice(0, at + 8) + (text[at + 8] === '1' ? '2' : '1') + text.slice(at + 9);
  writeFileSync(p, changed);
  const s = Slice.open(dir); // lazy: the open does not wait for a full read
  assert.throws(() => [...s.events()], (e: unknown) => e instanceof IntegrityError && e.modified.includes('events.jsonl'));
  assert.deepEqual(s.verify().modified, ['events.jsonl']);
  const forced = Slice.open(dir, { force: true });
  assert.equal([...forced.events()].length, 30);
  assert.ok(forced.modified.has('events.jsonl'));
});

test('verifyEventsAsync checks the chunks of the events named: a changed one is an IntegrityError, or recorded when forced', async () => {
  const dir = makeSlice(30, { chunkSize: 2048 });
  const p = join(dir, 'events.jsonl');
  const text = readFileSync(p, 'utf8');
  const at = text.lastIndexOf('"ctr":0.');
  writeFileSync(p, text.slice(0, at + 8) + (text[at + 8] === '1' ? '2' : '1') + text.slice(at + 9));
  const s = Slice.open(dir);
  await s.verifyEventsAsync([1]);
  assert.equal(s.modified.size, 0, 'the first chunk is intact');
  await assert.rejects(s.verifyEventsAsync([1, 30]), (e: unknown) => e instanceof IntegrityError && e.modified.includes('events.jsonl'));
  const forced = Slice.open(dir, { force: true });
  await forced.verifyEventsAsync([30, 0, 31, 1.5]);
  assert.ok(forced.modified.has('events.jsonl'));
  // Checked once: reading the event now does not hash its chunk again.
  assert.equal(forced.readEvent(30).id, 'e30');
});

test('a modified events.jsonl of another size replayed with force gets its own index (not the frozen file\'s), cached for the next open', () => {
  const dir = makeSlice(30, { chunkSize: 2048 });
  const p = join(dir, 'events.jsonl');
  const original = readFileSync(p, 'utf8');
  const lines = original.split('\n');
  lines[2] = (lines[2] as string).replace('"user":"u3"', '"user":"u3","note":"a longer line now"');
  writeFileSync(p, lines.join('\n'));
  // (Other tests' slices of the same manifest may have modified indexes cached too: this one's is the new one.)
  const before = new Set(readdirSync(cacheDir()));
  const first = Slice.open(dir, { force: true });
  assert.ok(first.modified.has('events.jsonl'));
  // Read alone through the index: the frozen file's offsets would cut these lines in the wrong places.
  for (const n of [1, 3, 4, 17, 30]) assert.equal(first.readEvent(n).id, `e${n}`);
  first.close();
  const cached = readdirSync(cacheDir()).filter((f) => f.includes('-modified-') && !before.has(f));
  assert.equal(cached.length > 0, true, 'the modified file\'s index is cached');
  // The next open uses it without reading the file again: a cached index sealed as a run seals it
  // (one line break dropped, still a well-formed index of the file) shows through...
  const sha = createHash('sha256').update(readFileSync(join(dir, 'slice.json'))).digest('hex');
  const mine = join(cacheDir(), cached.find((f) => f.startsWith(`index-${sha}-modified-`)) as string);
  const offsets = readIndexFile(mine);
  const frozenSeal = readFileSync(mine).subarray(-32);
  writeIndexFile(mine, offsets.filter((_, i) => i !== 2));
  const second = Slice.open(dir, { force: true });
  assert.equal(second.eventCount, 29);
  assert.ok(second.modified.has('events.jsonl'));
  second.close();
  // ...and the same edit by hand (its seal not made anew) is not trusted: the file is counted again.
  writeFileSync(mine, Buffer.concat([Buffer.from(offsets.filter((_, i) => i !== 2).buffer), frozenSeal]));
  const third = Slice.open(dir, { force: true });
  assert.equal(third.eventCount, 30);
  third.close();
  // Without force it is refused at once; restored, the slice is intact again.
  assert.throws(() => Slice.open(dir), (e: unknown) => e instanceof IntegrityError && e.modified.includes('events.jsonl'));
  writeFileSync(p, original);
  const restored = Slice.open(dir);
  assert.equal(restored.eventCount, 30);
  assert.equal([...restored.events()].length, 30);
  assert.equal(restored.modified.size, 0);
  restored.close();
});

test('a same-size change that moved line breaks, replayed with force, is read as it stands; one made while the slice is open is named as such', () => {
  const dir = makeSlice(30, { chunkSize: 2048 });
  const p = join(dir, 'events.jsonl');
  const text = readFileSync(p, 'utf8');
  // Line 2's closing brace moves after the line break: same size, line 2 and 3 cut elsewhere.
  const nl = text.indexOf('\n', text.indexOf('\n') + 1);
  writeFileSync(p, text.slice(0, nl - 1) + '\n}' + text.slice(nl + 1));
  // With force the file is read whole at open, not through the frozen file's offsets (which this
  // test's cache holds: the writer stored them): each line is what it now is.
  const s = Slice.open(dir, { force: true });
  assert.ok(s.modified.has('events.jsonl'));
  assert.equal(s.readEvent(1).id, 'e1');
  assert.throws(() => s.readEvent(2), (e: unknown) => e instanceof UserError && e.where.line === 2 && /malformed JSON/.test(e.message));
  assert.throws(() => s.readEvent(3), (e: unknown) => e instanceof UserError && e.where.line === 3 && /malformed JSON/.test(e.message));
  assert.equal(s.readEvent(30).id, 'e30');
  // Changed again while open, the file no longer matches the index made at open: a sequential read
  // (a seek) that would start where no line starts any more says so.
  const nl3 = text.indexOf('\n', nl + 1);
  writeFileSync(p, text.slice(0, nl + 1) + text.slice(nl + 2, nl3) + '\n ' + text.slice(nl3 + 1));
  assert.throws(() => [...s.events(4, 6)], (e: unknown) => e instanceof UserError && e.where.line === 4 && /lines moved/.test(e.message));
  assert.equal([...s.events(5, 6)][0]?.id, 'e5', 'a read from a line in place still reads');
  s.close();
});

test('a modified items.jsonl or a changed file size is caught at open', () => {
  const dir = makeSlice(10);
  writeFileSync(join(dir, 'items.jsonl'), readFileSync(join(dir, 'items.jsonl'), 'utf8').replace('"i1"', '"i9"'));
  assert.throws(() => Slice.open(dir), (e: unknown) => e instanceof IntegrityError && /items\.jsonl/.test(e.message));
  const dir2 = makeSlice(10);
  writeFileSync(join(dir2, 'events.jsonl'), readFileSync(join(dir2, 'events.jsonl'), 'utf8') + '\n');
  assert.throws(() => Slice.open(dir2), (e: unknown) => e instanceof IntegrityError && /events\.jsonl/.test(e.message));
});

test('a missing file is named', () => {
  const dir = makeSlice(5);
  rmSync(join(dir, 'users.jsonl'));
  assert.throws(() => Slice.open(dir), /missing or not files: users\.jsonl/);
});

test('manifest: a missing field or a wrong type names the field', () => {
  const noName = rawSlice(eventLine('e1', '2025-01-01T00:00:00Z') + '\n', (m) => delete (m as Partial<typeof m>).name);
  assert.throws(() => Slice.open(noName), (e: unknown) => e instanceof UserError && e.where.field === 'name' && /slice\.json/.test(e.describe()));
  const badSeed = rawSlice(eventLine('e1', '2025-01-01T00:00:00Z') + '\n', (m) => ((m as unknown as Record<string, unknown>)['seed'] = 'forty-two'));
  assert.throws(() => Slice.open(badSeed), (e: unknown) => e instanceof UserError && e.where.field === 'seed' && /must be integer/.test(e.message));
  const notJson = rawSlice('x\n');
  writeFileSync(join(notJson, 'slice.json'), '{"format": ');
  assert.throws(() => Slice.open(notJson), (e: unknown) => e instanceof UserError && /slice\.json:1:12: malformed JSON/.test(e.describe()));
});

test('manifest paths never escape the slice folder', () => {
  for (const bad of ['../outside.jsonl', '/etc/passwd', 'artifacts/../../x']) {
    const dir = rawSlice(eventLine('e1', '2025-01-01T00:00:00Z') + '\n', (m) => m.files.push({ path: bad, sha256: 'a'.repeat(64), bytes: 1 }));
    assert.throws(() => Slice.open(dir), (e: unknown) => e instanceof UserError && /escapes the slice folder/.test(e.message), bad);
  }
  // Refused too, each with its own reason (all were said to escape, "." to be a link to outside).
  for (const [bad, why] of [['.', /names the slice folder itself, not a file in it/], ['./', /names the slice folder itself/], ['a/..', /names the slice folder itself/], ['items.jsonl\0x', /holds a NUL character/], ['sub\\..\\items.jsonl', /holds a backslash: a manifest path separates folders with "\/"/],
    // A colon or a device name: harmless names here, but on Windows a drive-relative path out of the slice, a hidden stream, a device.
    ['C:outside.jsonl', /holds a colon: on Windows "C:name" is a file outside the slice folder/], ['events.jsonl:hidden', /holds a colon/],
    ['artifacts/con.json', /has a part, "con\.json", that Windows keeps for a device/], ['NUL', /keeps for a device/], ['a/COM1 ', /keeps for a device/]] as const) {
    const dir = rawSlice(eventLine('e1', '2025-01-01T00:00:00Z') + '\n', (m) => m.files.push({ path: bad, sha256: 'a'.repeat(64), bytes: 1 }));
    assert.throws(() => Slice.open(dir), (e: unknown) => e instanceof UserError && why.test(e.message) && e.where.field === `files[${m1(dir)}].path`, bad);
  }
});

/** Index of the last entry of a raw slice's files (the one a test pushed). */
function m1(dir: string): number {
  return (JSON.parse(readFileSync(join(dir, 'slice.json'), 'utf8')) as { files: unknown[] }).files.length - 1;
}

test('malformed JSON line: the error names file:line and the reason', () => {
  const dir = rawSlice([eventLine('e1', '2025-01-01T00:00:00Z'), '{"id": "e2", "t": ', eventLine('e3', '2025-01-01T00:00:02Z')].join('\n') + '\n');
  const s = Slice.open(dir);
  assert.throws(
    () => [...s.events()],
    (e: unknown) => e instanceof UserError && e.where.line === 2 && /events\.jsonl:2: malformed JSON/.test(e.describe()),
  );
  assert.throws(() => s.readEvent(2), (e: unknown) => e instanceof UserError && e.where.line === 2);
  assert.equal(s.readEvent(3).id, 'e3');
});

test('NaN and Infinity feature values are rejected with a hint', () => {
  const nan = rawSlice(eventLine('e1', '2025-01-01T00:00:00Z').replace('"x":1', '"x":NaN') + '\n');
  assert.throws(() => Slice.open(nan).readEvent(1), (e: unknown) => e instanceof UserError && /NaN and Infinity are not valid JSON/.test(e.describe()));
  const inf = rawSlice(eventLine('e1', '2025-01-01T00:00:00Z').replace('"x":1', '"x":1e999') + '\n');
  assert.throws(() => Slice.open(inf).readEvent(1), (e: unknown) => e instanceof UserError && e.where.field === 'candidates[0].features.x' && /Infinity/.test(e.message));
});

test('an event without candidates or with a bad timestamp names the field', () => {
  const dir = rawSlice(JSON.stringify({ id: 'e1', t: 'yesterday', user: 'u', candidates: [], served: [] }) + '\n' + JSON.stringify({ id: 'e2', t: '2025-01-01T00:00:00Z', user: 'u', served: [] }) + '\n');
  const s = Slice.open(dir);
  assert.throws(() => s.readEvent(1), (e: unknown) => e instanceof UserError && e.where.field === 't');
  assert.throws(() => s.readEvent(2), (e: unknown) => e instanceof UserError && e.where.field === 'candidates');
});

test('an empty slice is refused at open and at freeze', () => {
  assert.throws(() => Slice.open(rawSlice('')), (e: unknown) => e instanceof UserError && /no events/.test(e.message));
  const out = join(tmp(), 'empty.slice');
  assert.throws(() => writeSlice(out, { manifest: BASE_MANIFEST, events: [] }, { frozenAt: '2025-01-02T00:00:00.000Z' }), /no events to freeze/);
  assert.equal(existsSync(out), false);
});

test('writer: events out of time order are refused and nothing is left half-written', () => {
  const f = fixture(10);
  const swapped = [...f.events];
  [swapped[3], swapped[6]] = [swapped[6] as (typeof swapped)[number], swapped[3] as (typeof swapped)[number]];
  const parent = tmp();
  const out = join(parent, 'bad.slice');
  assert.throws(() => writeSlice(out, { manifest: BASE_MANIFEST, ...f, events: swapped }, { frozenAt: '2025-01-02T00:00:00.000Z' }), (e: unknown) => e instanceof UserError && e.where.line === 5 && /out of time order/.test(e.message));
  assert.deepEqual(readdirSync(parent), []);
});

test('writer refuses to overwrite unless asked, and replaces atomically when asked', () => {
  const dir = makeSlice(5);
  const f = fixture(7);
  assert.throws(() => writeSlice(dir, { manifest: BASE_MANIFEST, ...f }, { frozenAt: '2025-01-02T00:00:00.000Z' }), /already exists/);
  writeSlice(dir, { manifest: BASE_MANIFEST, ...f }, { frozenAt: '2025-01-02T00:00:00.000Z', overwrite: true });
  assert.equal(Slice.open(dir).eventCount, 7);
  assert.deepEqual(readdirSync(dirname(dir)), ['test.slice']);
});

test('writer rejects an invalid manifest before anything lands', () => {
  const parent = tmp();
  const out = join(parent, 'x.slice');
  assert.throws(() => writeSlice(out, { manifest: { ...BASE_MANIFEST, seed: -1 }, ...fixture(3) }, { frozenAt: '2025-01-02T00:00:00.000Z' }), (e: unknown) => e instanceof UserError && e.where.field === 'manifest.seed');
  assert.deepEqual(readdirSync(parent), []);
});

test('artifacts are written under artifacts/ and hashed', () => {
  const dir = join(tmp(), 'a.slice');
  const { manifest } = writeSlice(dir, { manifest: BASE_MANIFEST, ...fixture(3), artifacts: { 'model.json': '{"weights":{}}' } }, { frozenAt: '2025-01-02T00:00:00.000Z' });
  assert.ok(manifest.files.some((f) => f.path === 'artifacts/model.json'));
  assert.equal(Slice.open(dir).verify().ok, true);
  assert.throws(() => writeSlice(join(tmp(), 'b.slice'), { manifest: BASE_MANIFEST, ...fixture(3), artifacts: { '../../evil': 'x' } }, { frozenAt: '2025-01-02T00:00:00.000Z' }), /artifact name "\.\.\/\.\.\/evil" is not a plain relative path inside artifacts\//);
});
