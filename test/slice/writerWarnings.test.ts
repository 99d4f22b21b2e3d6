import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeSlice } from '../../src/core/slice/writer';
import { Slice } from '../../src/core/slice/reader';
import { UserError } from '../../src/core/errors';
import type { EventRecord, ItemRecord, UserRecord } from '../../src/core/slice/types';
import { BASE_MANIFEST, fixture, tmp } from '../helpers';

const AT = { frozenAt: '2025-01-02T00:00:00.000Z' };
const write = (f: { events: EventRecord[]; items: ItemRecord[]; users: UserRecord[] }) => writeSlice(join(tmp(), 'w.slice'), { manifest: BASE_MANIFEST, ...f }, AT);
const ev = (f: { events: EventRecord[] }, n: number) => f.events[n - 1] as EventRecord;

test('a consistent log freezes without warnings', () => {
  assert.deepEqual(write(fixture(20)).warnings, []);
});

test('inconsistent logs are accepted, and each kind of inconsistency is one returned warning that counts the records and names the first', () => {
  const f = fixture(30);
  // Repeated event ids: events 5, 9 and 12 take event 2's.
  for (const n of [5, 9, 12]) ev(f, n).id = 'e2';
  // Served items that are not candidates (events 7 and 20), one not in the catalogue either.
  ev(f, 7).served = [...ev(f, 7).served, 'i_gone'];
  const notCandidate = f.items.map((i) => i.id).find((id) => !ev(f, 20).candidates.some((c) => c.item === id)) as string;
  ev(f, 20).served = [notCandidate];
  // Clicks on items not served (event 3).
  ev(f, 3).outcome = { clicks: [ev(f, 3).served[0] as string, 'i_elsewhere'] };
  // Repeated item and user ids.
  f.items.push({ id: 'i4', category: 'z' }, { id: 'i5' });
  f.users.push({ id: 'u1', segment: 'other' });
  const { dir, warnings } = write(f);
  assert.deepEqual(warnings, [
    '2 item records repeat the id of an earlier one; first: items:31 repeats "i4" of items:5 — a replay and its metrics use the first record of an id and ignore the later ones',
    '1 user record repeats the id of an earlier one; first: users:6 repeats "u1" of users:2 — a replay uses the first record of an id and ignores the later ones',
    '3 events repeat the id of an earlier event; first: events:5 repeats "e2" of events:2 — a replay draws the model clicks of events with one id from one random stream (it is keyed by the id), so they are not independent, and the id no longer names one event',
    `2 events serve items that are not among their candidates; first: events:7 served[4] "i_gone" — a replay serves only candidates, so it can never serve these items, and the recorded ranking starts with items no ranker can rank`,
    '1 event records a click on an item it did not serve; first: events:3 outcome.clicks[1] "i_elsewhere" — such a click counts as a relevant item in the ranking metrics, and a replay that serves the item clicks it wherever the user examines it (a clicked item\'s certain attractiveness in the click model)',
    '2 events name items that are not in the catalogue (items); first: events:3 outcome.clicks[1] "i_elsewhere" — a replay knows no category, item features or availability windows for them (always available, capped by no maxPerCategory), and they count towards no catalogue metric (coverage, Gini, parity)',
    // (Event 20 now serves one item of eight, where the slice's k is 4.)
    '1 event served fewer items than the slate size k = 4; first: events:20 served 1 of its 8 candidates — a replay serves up to k items, and the slots the recording did not show get clicks from the click model, so CTR and the relevance metrics describe a longer slate than the one logged; give pipeline.k the slate size the system served',
  ]);
  // Written as given: the slice opens with every event.
  const s = Slice.open(dir);
  assert.equal(s.eventCount, 30);
  s.close();
});

test('a repeated event id is found among thousands, with both record numbers', () => {
  const f = fixture(3000, { items: 10, cands: 4 });
  ev(f, 2999).id = 'e1234';
  const { warnings } = write(f);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0] as string, /^1 event repeats the id of an earlier event; first: events:2999 repeats "e1234" of events:1234 — /);
});

test('two different event ids with the same hash are not a repeat (a hash match is confirmed against the earlier event)', () => {
  // These two share the writer's 32-bit id hash (FNV-1a with a murmur3 finaliser), found by a
  // birthday search; whatever the hash, only the real repeat (event 3) may be reported.
  const f = fixture(3);
  ev(f, 1).id = 'e522789';
  ev(f, 2).id = 'e739192';
  ev(f, 3).id = 'e522789';
  const { warnings } = write(f);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0] as string, /^1 event repeats the id of an earlier event; first: events:3 repeats "e522789" of events:1 — /);
});

test('without a catalogue, the warning says so once rather than listing every event', () => {
  const f = fixture(12);
  const { warnings } = writeSlice(join(tmp(), 'w.slice'), { manifest: BASE_MANIFEST, events: f.events }, AT);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0] as string, /^no items were given \(the catalogue is empty\): 12 events name items that are not in the catalogue \(items\); first: events:1 candidates\[0\]\.item "i\d+" — /);
});

test('a slate size k larger than what the system served is warned about (Open Bandit serves 3 of 80 items: k = 10 would replay seven slots the log never showed)', () => {
  const f = fixture(6);
  for (const e of f.events) {
    e.served = e.served.slice(0, 1);
    e.outcome = { clicks: [] };
  }
  const small = writeSlice(join(tmp(), 'one.slice'), { manifest: { ...BASE_MANIFEST, pipeline: { k: 1, budgetMs: 100 } }, ...f }, AT);
  assert.deepEqual(small.warnings, [], 'k = 1, as served: nothing to say');
  const { warnings } = writeSlice(join(tmp(), 'ten.slice'), { manifest: { ...BASE_MANIFEST, pipeline: { k: 10, budgetMs: 100 } }, ...f }, AT);
  assert.deepEqual(warnings.map((w) => w.replace(/ — .*/, '')), ['6 events served fewer items than the slate size k = 10; first: events:1 served 1 of its 8 candidates']);
});

test('a known fault that names no event of the slice is a warning naming the fault; one that names an event is not', () => {
  const f = fixture(12);
  const faults = [
    { kind: 'cold_start', event: 'e7', note: 'new items never shown' },
    { kind: 'latency', event: 'e700' },
  ];
  const out = writeSlice(join(tmp(), 'w.slice'), { manifest: { ...BASE_MANIFEST, faults }, ...f }, AT);
  assert.deepEqual(out.warnings, ['faults[1].event "e700" is not the id of an event in the slice — the "latency" fault is listed, but no event has that id; give the id of the event where it shows']);
  const s = Slice.open(out.dir);
  assert.deepEqual(s.manifest.faults, faults, 'written as given');
  s.close();
});

test('events whose user is not in users.jsonl are one warning that counts them and names the first; a slice without users is not warned about', () => {
  const f = fixture(10);
  // Two events name a user the users file lacks (the Open Bandit sample, written with a user dropped).
  ev(f, 4).user = 'u_gone';
  ev(f, 9).user = 'u_gone';
  const { warnings } = write(f);
  assert.deepEqual(warnings, [
    '2 events name users who are not in users.jsonl; first: events:4 user "u_gone" — a replay knows no segment, features or embedding for them: their features read as missing (a linear weight on one adds nothing), an embedding ranker finds no vector for them, and in expressions user holds only their id',
  ]);
  // Users are optional: with none given, no event's user is looked for.
  const none = writeSlice(join(tmp(), 'nousers.slice'), { manifest: BASE_MANIFEST, events: f.events, items: f.items }, AT);
  assert.deepEqual(none.warnings, []);
});

test('many known faults that name no event are one warning with a count (5,000 were 5,000 warnings)', () => {
  const faults = Array.from({ length: 5000 }, (_, i) => ({ kind: 'latency', event: `x${i}` }));
  const out = writeSlice(join(tmp(), 'w.slice'), { manifest: { ...BASE_MANIFEST, faults }, ...fixture(4) }, AT);
  assert.deepEqual(out.warnings, ['faults[0].event "x0" is not the id of an event in the slice — the "latency" fault is listed, but no event has that id (and 4999 more faults name no event of the slice); give the id of the event where it shows']);
});

test('an item listed twice among an event\'s candidates or served items, and a session that is not a string, are warnings counting the events and naming the first', () => {
  const f = fixture(6);
  const e2 = f.events[1] as EventRecord;
  e2.candidates = [...e2.candidates, { ...(e2.candidates[0] as EventRecord['candidates'][0]) }];
  const e4 = f.events[3] as EventRecord;
  e4.served = [...e4.served, e4.served[0] as string];
  (f.events[2] as unknown as Record<string, unknown>)['session'] = 101;
  const out = writeSlice(join(tmp(), 'w.slice'), { manifest: BASE_MANIFEST, ...f }, AT);
  const said = out.warnings.map((w) => w.replace(/ — .*/, ''));
  assert.ok(said.includes(`2 events list an item twice among their candidates or their served items; first: events:2 candidates[${e2.candidates.length - 1}].item ${JSON.stringify(e2.candidates[0]?.item)}`), said.join('\n'));
  assert.ok(said.includes('1 event has a session that is not a string; first: events:3 session 101'), said.join('\n'));
});

test('a source window that ends before it starts is refused; events outside it are a warning; a leap second gets its own advice', () => {
  const f = fixture(4);
  const first = (f.events[0] as EventRecord).t;
  assert.throws(
    () => writeSlice(join(tmp(), 'w.slice'), { manifest: { ...BASE_MANIFEST, source: { kind: 'logs', window: { from: '2030-01-02T00:00:00Z', to: '2030-01-01T00:00:00Z' } } }, ...f }, AT),
    (e: unknown) => e instanceof UserError && /source\.window\.from "2030-01-02T00:00:00Z" is after source\.window\.to "2030-01-01T00:00:00Z"/.test(e.message) && e.where.field === 'manifest.source.window',
  );
  const out = writeSlice(join(tmp(), 'w.slice'), { manifest: { ...BASE_MANIFEST, source: { kind: 'logs', window: { from: '2030-01-01T00:00:00Z', to: '2031-01-01T00:00:00Z' } } }, ...f }, AT);
  assert.ok(out.warnings.some((w) => w.startsWith(`the events run from ${first} to `) && w.includes('outside source.window (2030-01-01T00:00:00Z to 2031-01-01T00:00:00Z)')), out.warnings.join('\n'));
  (f.events[0] as EventRecord).t = '2016-12-31T23:59:60Z';
  assert.throws(
    () => writeSlice(join(tmp(), 'w.slice'), { manifest: BASE_MANIFEST, ...f }, AT),
    (e: unknown) => e instanceof UserError && /A leap second \(:60\) is not supported/.test(e.hint ?? ''),
  );
});
