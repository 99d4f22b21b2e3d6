import './setup';
import { mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs, { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Slice } from '../../src/core/slice/reader';
import { IndexingCancelled, needsIndex, readEntry, verifyAsync, type SliceEntry } from '../../src/extension/slices/sliceStore';
import { UserError } from '../../src/core/errors';
import { cacheDir } from '../../src/core/slice/offsetIndex';
import { SlicesTreeProvider, type TreeOptions } from '../../src/extension/views/slicesTree';
import { changedSliceDir } from '../../src/extension/slices/workspaceSlices';
import { sliceWorkProgress } from '../../src/extension/extension';
import { treeItemOf, type SliceNode } from '../../src/extension/views/sliceNodes';
import { UserTable } from '../../src/core/slice/userTable';
import { EventEmitter, FakeLog, TreeItemCollapsibleState, CancellationTokenSource, ProgressLocation } from './vscodeFake';
import { BASE_MANIFEST, fixture, makeSlice, openOn, tmp, turnCounter } from '../helpers';
import { writeSlice } from '../../src/core/slice/writer';
import { RECORDS_PER_STEP } from '../../src/core/steps';

function tree(entries: SliceEntry[], opts: Partial<TreeOptions> = {}): SlicesTreeProvider {
  const emitter = new EventEmitter<void>();
  return new SlicesTreeProvider(
    { list: async () => entries, onDidChange: emitter.event },
    {
      pageSize: () => 100,
      groupEventsBy: () => 'time',
      withProgress: (_title, task) => {
        const cts = new CancellationTokenSource();
        return task(() => {}, cts.token);
      },
      log: new FakeLog(),
      ...opts,
    },
  );
}

const find = async (t: SlicesTreeProvider, parent: SliceNode | undefined, label: RegExp) => {
  const kids = await t.getChildren(parent);
  const hit = kids.find((k) => label.test(String(t.getTreeItem(k).label)));
  assert.ok(hit, `no child matching ${label} among ${kids.map((k) => t.getTreeItem(k).label).join(', ')}`);
  return hit;
};

test('a large slice opens through its index: pages of pages, and only the shown events are read', async () => {
  const dir = makeSlice(12_000);
  const t = tree([readEntry(dir)]);
  const reads = { n: 0 };
  const orig = Slice.prototype.readEventText;
  Slice.prototype.readEventText = function (this: Slice, n: number) {
    reads.n++;
    return orig.call(this, n);
  };
  try {
    const [root] = await t.getChildren();
    assert.ok(root);
    const item = t.getTreeItem(root);
    assert.equal(item.label, 'test');
    assert.match(String(item.description), /12,000 events/);
    const sections = await t.getChildren(root);
    assert.deepEqual(sections.map((s) => t.getTreeItem(s).label), ['Manifest', 'Versions', 'Integrity', 'Users', 'Items', 'Events (by time)']);
    assert.match(String(t.getTreeItem(root).description), /intact/, 'status is known once opened');
    const events = await find(t, root, /^Events/);
    reads.n = 0;
    const top = await t.getChildren(events);
    // 12,000 events in pages of 100: 120 pages do not fit in one level of 100, so ranges of 10,000.
    assert.deepEqual(top.map((r) => t.getTreeItem(r).label), ['1–10,000', '10,001–12,000']);
    assert.equal(reads.n, 4, 'two reads per range label (its time window)');
    assert.match(String(t.getTreeItem(top[0] as SliceNode).description), /2025-01-01 00:00:01 – 02:46:40/);
    reads.n = 0;
    const pages = await t.getChildren(top[1]);
    assert.equal(pages.length, 20);
    const last = pages.at(-1) as SliceNode;
    assert.equal(t.getTreeItem(last).label, '11,901–12,000');
    reads.n = 0;
    const leaves = await t.getChildren(last);
    assert.equal(leaves.length, 100);
    assert.equal(reads.n, 100, 'a page reads its own events and nothing else');
    const ev = t.getTreeItem(leaves[0] as SliceNode);
    assert.equal(ev.label, '#11901  e11901');
    assert.equal(ev.collapsibleState, TreeItemCollapsibleState.None);
    assert.deepEqual(ev.command?.arguments, [{ sliceDir: dir, event: 11901 }]);
    assert.equal(ev.command?.command, 'recreplay.revealEvent');
  } finally {
    Slice.prototype.readEventText = orig;
  }
});

test('manifest, versions, users and items are summarised', async () => {
  const dir = makeSlice(30);
  const t = tree([readEntry(dir)]);
  const [root] = await t.getChildren();
  const manifest = await find(t, root, /^Manifest$/);
  const fields = (await t.getChildren(manifest)).map((n) => `${t.getTreeItem(n).label}=${t.getTreeItem(n).description}`);
  assert.ok(fields.includes('seed=7'));
  assert.ok(fields.some((f) => f.startsWith('pipeline=k 4')));
  const users = await find(t, root, /^Users$/);
  assert.equal(t.getTreeItem(users).description, '5');
  const features = await find(t, users, /Feature summary/);
  const age = (await t.getChildren(features)).map((n) => t.getTreeItem(n)).find((i) => i.label === 'age');
  assert.equal(age?.description, 'min 20 · mean 22 · max 24');
  const segments = await find(t, users, /Segments/);
  assert.deepEqual((await t.getChildren(segments)).map((n) => `${t.getTreeItem(n).label} ${t.getTreeItem(n).description}`), ['returning 3 users', 'new 2 users']);
  const items = await find(t, root, /^Items$/);
  const kids = await t.getChildren(items);
  assert.equal(kids.length, 2 + 30, 'summaries then the 30 items (one page)');
});

test('a modified slice is shown as modified, naming the file, and still browsable', async () => {
  const dir = makeSlice(20);
  const p = join(dir, 'users.jsonl');
  writeFileSync(p, readFileSync(p, 'utf8').replace('"u1"', '"u9"'));
  const t = tree([readEntry(dir)]);
  const [root] = await t.getChildren();
  await t.getChildren(root);
  const item = t.getTreeItem(root as SliceNode);
  assert.match(String(item.description), /modified: users\.jsonl/);
  assert.equal(item.contextValue, 'slice.modified');
  const integrity = await find(t, root, /^Integrity$/);
  const files = (await t.getChildren(integrity)).map((n) => `${t.getTreeItem(n).label} ${t.getTreeItem(n).description}`);
  assert.ok(files.some((f) => /^users\.jsonl MODIFIED/.test(f)), files.join('\n'));
});

test('a broken manifest gives one node that says what is wrong', async () => {
  const dir = makeSlice(5);
  writeFileSync(join(dir, 'slice.json'), '{"format": "recreplay.slice/1"}');
  const t = tree([readEntry(dir)]);
  const [root] = await t.getChildren();
  const kids = await t.getChildren(root);
  assert.equal(kids.length, 1);
  const msg = t.getTreeItem(kids[0] as SliceNode);
  assert.match(String(msg.label), /manifest is invalid/);
  assert.match(String(t.getTreeItem(root as SliceNode).description), /cannot be read/);
});

test('grouping by session lists sessions in order of first appearance, each paging its events', async () => {
  const dir = makeSlice(10);
  // The fixture has no sessions: give events 1, 4, 7, 10 session "a" and the rest "b".
  const ev = join(dir, 'events.jsonl');
  const lines = readFileSync(ev, 'utf8').trimEnd().split('\n').map((l, i) => JSON.stringify({ ...JSON.parse(l), session: i % 3 === 0 ? 'a' : 'b' }));
  writeFileSync(ev, lines.join('\n') + '\n');
  const t = tree([readEntry(dir)], { groupEventsBy: () => 'session' });
  const [root] = await t.getChildren();
  const sessions = await find(t, root, /by session/);
  const list = await t.getChildren(sessions);
  assert.deepEqual(list.map((s) => `${t.getTreeItem(s).label}: ${t.getTreeItem(s).description}`), ['a: 4 events · from #1', 'b: 6 events · from #2']);
  const a = await t.getChildren(list[0]);
  assert.deepEqual(a.map((e) => (e as { n: number }).n), [1, 4, 7, 10]);
});

test('grouping by session pages both the sessions and the events of a large session, each page naming the right events', async () => {
  const dir = makeSlice(600);
  // Events 1–250 are session "big"; the others fall in 175 sessions by their number.
  const ev = join(dir, 'events.jsonl');
  const lines = readFileSync(ev, 'utf8').trimEnd().split('\n').map((l, i) => JSON.stringify({ ...JSON.parse(l), session: i < 250 ? 'big' : `s${(i + 1) % 175}` }));
  writeFileSync(ev, lines.join('\n') + '\n');
  const t = tree([readEntry(dir)], { groupEventsBy: () => 'session' });
  const [root] = await t.getChildren();
  const sessions = await find(t, root, /by session/);
  // 176 sessions in pages of 100.
  const pages = await t.getChildren(sessions);
  assert.deepEqual(pages.map((p) => t.getTreeItem(p).label), ['1–100', '101–176']);
  const first = await t.getChildren(pages[0]);
  assert.equal(t.getTreeItem(first[0] as SliceNode).description, '250 events · from #1');
  // The big session's events in pages: the third holds its events 201–250, which are events 201–250.
  const big = await t.getChildren(first[0]);
  assert.deepEqual(big.map((p) => t.getTreeItem(p).label), ['1–100', '101–200', '201–250']);
  const third = await t.getChildren(big[2]);
  assert.deepEqual([(third[0] as { n: number }).n, (third[49] as { n: number }).n, third.length], [201, 250, 50]);
  // The last session, first met at event 600 ((600) % 175 = 75, met first at 425): its events in order.
  const last = await t.getChildren(pages[1]);
  const s75 = last.find((n) => t.getTreeItem(n).label === 's75') as SliceNode;
  assert.deepEqual((await t.getChildren(s75)).map((e) => (e as { n: number }).n), [425, 600]);
});

/** Forgets the cached offset index of a slice (the writer caches one at freeze). */
function dropCachedIndex(dir: string): void {
  const sha = createHash('sha256').update(readFileSync(join(dir, 'slice.json'))).digest('hex');
  rmSync(join(cacheDir(), `index-${sha}.f64`), { force: true });
}

test('indexing cancelled while a slice opens: no synchronous open afterwards, no error, expanding again opens it', async () => {
  const dir = makeSlice(300);
  dropCachedIndex(dir);
  assert.equal(needsIndex(dir), true);
  const entry = readEntry(dir);
  const opened = Slice.openAsync;
  let opens = 0;
  Slice.openAsync = (...args: Parameters<typeof Slice.openAsync>) => {
    opens++;
    return opened.apply(Slice, args);
  };
  try {
    const cancelling = tree([entry], {
      withProgress: (_title, task) => {
        const cts = new CancellationTokenSource();
        cts.cancel();
        return task(() => {}, cts.token);
      },
    });
    const [root] = await cancelling.getChildren();
    assert.ok(root);
    // VS Code asks for a node's children once: the cancelled slice shows a node that starts over when clicked.
    const [retry] = await cancelling.getChildren(root);
    const item = cancelling.getTreeItem(retry as SliceNode);
    assert.equal(item.label, 'Indexing was cancelled: click to try again');
    assert.equal(item.command?.command, 'recreplay.refreshSlices');
    assert.equal(opens, 0, 'the slice was not opened (unindexed, that would read events.jsonl whole on the editor thread)');
    assert.notEqual(entry.status.kind, 'error');
    assert.equal(needsIndex(dir), true);
    const t = tree([entry]);
    const [again] = await t.getChildren();
    assert.ok(again);
    assert.equal((await t.getChildren(again)).length, 6);
    assert.equal(opens, 1);
    assert.equal(needsIndex(dir), false, 'the streamed index is cached');
  } finally {
    Slice.openAsync = opened;
  }
});

test('page labels and a page of events read chunks the tree checked asynchronously first, never hashing on the spot', async () => {
  const dir = makeSlice(3000, { chunkSize: 4096 });
  const t = tree([readEntry(dir)], { pageSize: () => 10 } as Partial<TreeOptions>);
  type Internals = { verifiedChunks: Uint8Array; eventsEntry: { chunks: { size: number } }; ensureVerified(start: number, end: number): boolean };
  const proto = Slice.prototype as unknown as Internals;
  const orig = proto.ensureVerified;
  let hashedOnTheSpot = 0;
  proto.ensureVerified = function (this: Internals, start: number, end: number) {
    const size = this.eventsEntry.chunks.size;
    for (let c = Math.floor(start / size); c <= Math.floor(Math.max(start, end - 1) / size); c++) if (!this.verifiedChunks[c]) hashedOnTheSpot++;
    return orig.call(this, start, end);
  };
  try {
    const [root] = await t.getChildren();
    assert.ok(root);
    const events = await find(t, root, /^Events/);
    const top = await t.getChildren(events);
    assert.equal(top.length, 3, '3,000 events in pages of 10: ranges of 1,000');
    assert.ok(top.every((r) => /\d/.test(String(t.getTreeItem(r).description))), 'every range has its time window');
    const second = await t.getChildren(top[1]);
    const page = await t.getChildren(second[4]);
    assert.equal(page.length, 10);
    assert.equal(hashedOnTheSpot, 0);
  } finally {
    proto.ensureVerified = orig;
  }
});

test('a modified slice is indexed once, streamed: opening it (forced) afterwards reads nothing more', async () => {
  const dir = makeSlice(300);
  const p = join(dir, 'events.jsonl');
  writeFileSync(p, readFileSync(p, 'utf8').replace('"user":"u1"', '"user":"u1","note":"longer"'));
  // The frozen file's index is cached (from the freeze), but it does not describe this file.
  assert.equal(needsIndex(dir), true);
  const entry = readEntry(dir);
  const s = await entry.open();
  assert.ok(s.modified.has('events.jsonl'));
  assert.equal(s.readEvent(300).id, 'e300');
  assert.equal(needsIndex(dir), false, "the modified file's index is cached: F5 (force) will not index it again");
});

test('the slice list reads a manifest as opening does: a byte-order mark is fine, a manifest without events.jsonl is not', () => {
  const dir = makeSlice(20);
  const mPath = join(dir, 'slice.json');
  const text = readFileSync(mPath, 'utf8');
  writeFileSync(mPath, `\uFEFF${text}`);
  const entry = readEntry(dir);
  assert.equal(entry.manifestError, undefined, entry.manifestError);
  assert.equal(entry.manifest?.name, JSON.parse(text).name);
  assert.equal(Slice.open(dir).eventCount, 20, 'and it opens');
  const m = JSON.parse(text);
  m.files = m.files.filter((f: { path: string }) => f.path !== 'events.jsonl');
  writeFileSync(mPath, JSON.stringify(m));
  assert.match(readEntry(dir).manifestError ?? '', /manifest lists no events\.jsonl/);
});

test('verifyAsync reports a users.jsonl the manifest does not list, as recreplay verify does and as opening refuses it', async () => {
  const dir = makeSlice(20);
  const mPath = join(dir, 'slice.json');
  const m = JSON.parse(readFileSync(mPath, 'utf8'));
  m.files = m.files.filter((f: { path: string }) => f.path !== 'users.jsonl');
  writeFileSync(mPath, JSON.stringify(m, null, 2));
  const entry = readEntry(dir);
  const expected = { ok: false, modified: ['users.jsonl'], missing: [], reasons: { 'users.jsonl': 'not listed in the manifest' } };
  assert.deepEqual(await verifyAsync(dir, entry.manifest as NonNullable<typeof entry.manifest>), expected);
  assert.deepEqual(Slice.verifyFolder(dir), expected, 'the CLI says the same');
  assert.throws(() => Slice.open(dir), (e: unknown) => e instanceof UserError && /users\.jsonl is in the slice folder but not in the manifest/.test(e.message));
});

test('verifyAsync reports a folder where a file should be as missing, like recreplay verify, and names a file it cannot read', async () => {
  const dir = makeSlice(20);
  rmSync(join(dir, 'users.jsonl'));
  mkdirSync(join(dir, 'users.jsonl'));
  const entry = readEntry(dir);
  const manifest = entry.manifest as NonNullable<typeof entry.manifest>;
  assert.deepEqual(await verifyAsync(dir, manifest), { ok: false, modified: [], missing: ['users.jsonl'], reasons: { 'users.jsonl': 'a folder' } });
  assert.deepEqual(Slice.verifyFolder(dir), { ok: false, modified: [], missing: ['users.jsonl'], reasons: { 'users.jsonl': 'a folder' } }, 'the CLI says the same');
  // A file that fails while it is read (as root too, who reads any file whatever its mode): the
  // stream of items.jsonl reads a folder instead, which fails with EISDIR once it has opened.
  const items = join(dir, 'items.jsonl');
  const realStream = fs.createReadStream;
  const reading = mock.method(fs, 'createReadStream', (path: fs.PathLike, options?: Parameters<typeof fs.createReadStream>[1]) => realStream(path === items ? dir : path, options));
  try {
    await assert.rejects(verifyAsync(dir, manifest), (e: unknown) => e instanceof UserError && e.where.file === items && /cannot read items\.jsonl: EISDIR/.test(e.message));
    assert.ok(reading.mock.calls.some((c) => c.arguments[0] === items), 'verifyAsync streamed items.jsonl');
  } finally {
    reading.mock.restore();
  }
  // A file without read permission, for real, where the permission bits apply (not to root).
  if (process.getuid?.() !== 0) {
    chmodSync(items, 0);
    await assert.rejects(verifyAsync(dir, manifest), (e: unknown) => e instanceof UserError && e.where.file === items && /cannot read items\.jsonl: EACCES/.test(e.message));
  }
});

test('events.jsonl edited in place after the slice was indexed: reading a page finds it modified and the slice says so', async () => {
  const dir = makeSlice(60, { chunkSize: 1024 });
  // Index it once (the cached index keeps serving a file of the same size).
  const first = readEntry(dir);
  await first.open();
  first.close();
  // Change one character of event 3, keeping every byte count: only the chunk hashes can tell.
  const p = join(dir, 'events.jsonl');
  const lines = readFileSync(p, 'utf8').split('\n');
  const edited = (lines[2] as string).replace('"id":"e3"', '"id":"e9"');
  assert.notEqual(edited, lines[2]);
  lines[2] = edited;
  writeFileSync(p, lines.join('\n'));
  const entry = readEntry(dir);
  const t = tree([entry]);
  const fired: (SliceNode | undefined)[] = [];
  t.onDidChangeTreeData((n) => fired.push(n));
  const [root] = await t.getChildren();
  assert.ok(root);
  await t.getChildren(root);
  assert.match(String(t.getTreeItem(root).description), /intact/, 'nothing read yet of events.jsonl: intact so far');
  fired.length = 0;
  const events = await find(t, root, /^Events/);
  const leaves = await t.getChildren(events);
  assert.equal(leaves.length, 60);
  assert.deepEqual([...(entry.slice?.modified ?? [])], ['events.jsonl'], 'the core saw the chunk mismatch');
  assert.deepEqual(entry.status, { kind: 'modified', files: ['events.jsonl'], missing: [] });
  assert.ok(fired.includes(root), "the slice's node is redrawn");
  assert.match(String(t.getTreeItem(root).description), /^60 events · modified: events\.jsonl/);
  assert.equal(t.getTreeItem(root).contextValue, 'slice.modified');
  const integrity = await find(t, root, /^Integrity$/);
  const files = (await t.getChildren(integrity)).map((n) => `${t.getTreeItem(n).label} ${t.getTreeItem(n).description}`);
  assert.ok(files.some((f) => /^events\.jsonl MODIFIED/.test(f)), files.join('\n'));
});

test('a manifest with an invalid field: the message names slice.json once, with the field', async () => {
  const dir = makeSlice(5);
  const file = join(dir, 'slice.json');
  writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), seed: 'x' }));
  const entry = readEntry(dir);
  const t = tree([entry]);
  const [root] = await t.getChildren();
  const kids = await t.getChildren(root);
  assert.equal(kids.length, 1);
  const label = String(t.getTreeItem(kids[0] as SliceNode).label);
  assert.equal(label, `${file}: manifest is invalid — seed: must be integer (field seed)`);
  assert.equal(entry.status.kind, 'error');
  const message = entry.status.kind === 'error' ? entry.status.message : '';
  assert.equal(message.split(file).length - 1, 1, `the file is named once: ${message}`);
  assert.match(message, /\n {2}Fix the field in slice\.json/, 'with the hint');
});

test('a slice.json with a byte-order mark still gets its index warmed off the editor thread (needsIndex reads it as opening does)', () => {
  const dir = makeSlice(50);
  const mPath = join(dir, 'slice.json');
  writeFileSync(mPath, `\uFEFF${readFileSync(mPath, 'utf8')}`);
  dropCachedIndex(dir);
  assert.equal(needsIndex(dir), true, 'no index cached for this manifest: warm it first, not in Slice.open');
});

test('a broken manifest is an error from the start, not "not checked yet"', () => {
  const dir = makeSlice(5);
  writeFileSync(join(dir, 'slice.json'), '{"format": "recreplay.slice/1"');
  const entry = readEntry(dir);
  assert.equal(entry.status.kind, 'error');
  assert.match(entry.status.kind === 'error' ? entry.status.message : '', /malformed JSON/);
});

test('an entry dropped (closed) while it is still indexing closes the slice it opens instead of keeping it open', async () => {
  const dir = makeSlice(300);
  dropCachedIndex(dir);
  const entry = readEntry(dir);
  const opened = Slice.openAsync;
  const closes: number[] = [];
  Slice.openAsync = async (...args: Parameters<typeof Slice.openAsync>) => {
    const s = await opened.apply(Slice, args);
    const i = closes.push(0) - 1;
    const close = s.close.bind(s);
    s.close = () => {
      closes[i] = (closes[i] ?? 0) + 1;
      close();
    };
    return s;
  };
  try {
    const opening = entry.open();
    entry.close();
    await assert.rejects(opening, (e: unknown) => e instanceof IndexingCancelled);
    assert.equal(entry.slice, undefined);
    assert.deepEqual(closes, [1], 'the slice opened after the entry was dropped is closed at once');
    // Opening the entry again later works (and keeps that one open).
    const again = await entry.open();
    assert.equal(again.eventCount, 300);
    assert.deepEqual(closes, [1, 0]);
  } finally {
    Slice.openAsync = opened;
    entry.close();
  }
});

test('a watcher event names the slice folder it is about: a file in it, or the folder itself (deleted or renamed)', () => {
  assert.equal(changedSliceDir('/w/a.slice/events.jsonl'), '/w/a.slice');
  assert.equal(changedSliceDir('/w/a.slice'), '/w/a.slice');
  assert.equal(changedSliceDir('/w/a.slice/'), '/w/a.slice');
  assert.equal(changedSliceDir('/w/notes/readme.md'), undefined);
});

test('indexing and grouping in the Slices view show their progress where VS Code gives a Cancel button (a notification)', () => {
  assert.deepEqual(sliceWorkProgress('Indexing x'), { location: ProgressLocation.Notification, title: 'Indexing x', cancellable: true });
});

test('the Manifest section shows fields of slice.json the format does not know as warnings', async () => {
  const dir = makeSlice(10);
  const mPath = join(dir, 'slice.json');
  const m = JSON.parse(readFileSync(mPath, 'utf8'));
  m.source.windw = { from: '2025-01-01T00:00:00Z', to: '2025-01-02T00:00:00Z' };
  writeFileSync(mPath, JSON.stringify(m, null, 2));
  const t = tree([readEntry(dir)]);
  const [root] = await t.getChildren();
  const manifest = await find(t, root, /^Manifest$/);
  const warnings = (await t.getChildren(manifest)).filter((n) => n.kind === 'message');
  assert.deepEqual(warnings.map((n) => t.getTreeItem(n).label), ['"source.windw" is not a field of "source", so it is ignored; did you mean "window"?']);
});

test('an entry dropped while its large catalogue is being parsed stops parsing at the next slice of work: no slice is ever made', async () => {
  const dir = join(tmp(), 'catalogue.slice');
  writeSlice(dir, { manifest: BASE_MANIFEST, ...fixture(10, { items: 3 * RECORDS_PER_STEP }) }, { frozenAt: '2025-01-02T00:00:00.000Z' });
  // Indexed already: the opening goes straight to the catalogue.
  await readEntry(dir).open().then((s) => s.close());
  const entry = readEntry(dir);
  const opened = Slice.openAsync;
  let made = 0;
  Slice.openAsync = async (...args: Parameters<typeof Slice.openAsync>) => {
    const s = await opened.apply(Slice, args);
    made++;
    return s;
  };
  try {
    const opening = entry.open();
    entry.close();
    await assert.rejects(opening, (e: unknown) => e instanceof IndexingCancelled);
    assert.equal(made, 0, 'the opening stopped before the slice was made');
    assert.equal(entry.slice, undefined);
  } finally {
    Slice.openAsync = opened;
  }
});

test('a page of users in the Slices view parses the users it shows, not every user of the slice', async () => {
  const dir = join(tmp(), 'users.slice');
  const users = Array.from({ length: 5000 }, (_, i) => ({ id: `u${i}`, segment: i % 2 ? 'new' : 'returning', features: { age: i % 90 } }));
  writeSlice(dir, { manifest: BASE_MANIFEST, ...fixture(10), users }, { frozenAt: '2025-01-02T00:00:00.000Z' });
  const entry = readEntry(dir);
  await entry.open();
  const parsedAll = mock.method(UserTable.prototype, 'allSteps');
  try {
    const item = treeItemOf({ kind: 'record', entry, what: 'user', index: 4321 });
    assert.equal(item.label, 'u4321');
    assert.match(String(item.description), /^new · age=/);
    assert.equal(parsedAll.mock.callCount(), 0);
  } finally {
    parsedAll.mock.restore();
    entry.close();
  }
});

test('Segments and Feature summary of Users read every user once and keep none parsed (a million stayed in memory, +128 MB)', async () => {
  const dir = join(tmp(), 'users.slice');
  const users = Array.from({ length: 5000 }, (_, i) => ({ id: `u${i}`, segment: ['new', 'returning', 'power'][i % 3] as string, features: { age: i % 90, country: ['fr', 'de'][i % 2] as string } }));
  writeSlice(dir, { manifest: BASE_MANIFEST, ...fixture(10), users }, { frozenAt: '2025-01-02T00:00:00.000Z' });
  const entry = readEntry(dir);
  const t = tree([entry]);
  const [root] = await t.getChildren();
  const section = await find(t, root, /^Users/);
  const segments = await find(t, section, /^Segments/);
  const summary = await find(t, section, /^Feature summary/);
  // `at` keeps what it parses (the replay's users); `peek` does not.
  const kept = mock.method(UserTable.prototype, 'at');
  const peeked = mock.method(UserTable.prototype, 'peek');
  try {
    const seg = (await t.getChildren(segments)).map((n) => `${String(t.getTreeItem(n).label)}: ${String(t.getTreeItem(n).description)}`);
    assert.deepEqual(seg, ['new: 1667 users', 'returning: 1667 users', 'power: 1666 users']);
    assert.equal(peeked.mock.callCount(), 5000, 'each user read once');
    const features = (await t.getChildren(summary)).map((n) => `${String(t.getTreeItem(n).label)}: ${String(t.getTreeItem(n).description)}`);
    assert.deepEqual(features, ['age: min 0 · mean 44.3 · max 89', 'country: 2 values: de (2500), fr (2500)']);
    assert.ok(peeked.mock.callCount() <= 10_000 + 1000, `${peeked.mock.callCount()} reads for two passes over 5,000 users`);
    assert.equal(kept.mock.callCount(), 0, 'no user kept parsed by the summaries');
  } finally {
    kept.mock.restore();
    peeked.mock.restore();
    entry.close();
  }
});

test('a page of large events is read with turns of the event loop between its parts, and lists every event', async () => {
  const dir = join(tmp(), 'wide.slice');
  writeSlice(dir, { manifest: BASE_MANIFEST, ...fixture(60, { items: 700, cands: 600 }) }, { frozenAt: '2025-01-02T00:00:00.000Z' });
  const t = tree([readEntry(dir)]);
  const [root] = await t.getChildren();
  const events = await find(t, root, /^Events/);
  const counter = turnCounter();
  // How many events were read in each turn of the event loop.
  const readIn = new Map<number, number>();
  const original = Slice.prototype.readEvent;
  const read = mock.method(Slice.prototype, 'readEvent', function (this: Slice, n: number) {
    readIn.set(counter.turns, (readIn.get(counter.turns) ?? 0) + 1);
    return original.call(this, n);
  });
  try {
    const page = await t.getChildren(events);
    assert.deepEqual(page.map((n) => (n as { n?: number }).n), Array.from({ length: 60 }, (_, i) => i + 1));
  } finally {
    counter.stop();
    read.mock.restore();
  }
  const most = Math.max(...readIn.values());
  assert.ok(most <= 30, `${most} of 60 events of 600 candidates read in one turn`);
});

test('an entry dropped while a page of its large events is read: the page stops there and events.jsonl is not opened again', async () => {
  const dir = join(tmp(), 'wide.slice');
  writeSlice(dir, { manifest: BASE_MANIFEST, ...fixture(60, { items: 700, cands: 600 }) }, { frozenAt: '2025-01-02T00:00:00.000Z' });
  const entry = readEntry(dir);
  const t = tree([entry]);
  const [root] = await t.getChildren();
  const events = await find(t, root, /^Events/);
  const original = Slice.prototype.readEvent;
  let reads = 0;
  const read = mock.method(Slice.prototype, 'readEvent', function (this: Slice, n: number) {
    const e = original.call(this, n);
    // The list is refreshed (the entry closed) while the page is being read.
    if (++reads === 10) entry.close();
    return e;
  });
  try {
    const page = await t.getChildren(events);
    assert.ok(page.length < 60, `${page.length} events listed after the entry was dropped`);
  } finally {
    read.mock.restore();
  }
  assert.equal(openOn(join(dir, 'events.jsonl')), 0, 'events.jsonl is not open');
});
