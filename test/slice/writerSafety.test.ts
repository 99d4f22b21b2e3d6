import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MACHINE } from '../../src/core/dirs';
import { UserError } from '../../src/core/errors';
import { Slice } from '../../src/core/slice/reader';
import { writeSlice } from '../../src/core/slice/writer';
import type { EventRecord } from '../../src/core/slice/types';
import { BASE_MANIFEST, fixture, tmp } from '../helpers';

const AT = { frozenAt: '2025-01-02T00:00:00.000Z' };
const write = (dir: string, extra: Partial<Parameters<typeof writeSlice>[1]> = {}, opts: Partial<Parameters<typeof writeSlice>[2]> = {}) => writeSlice(dir, { manifest: BASE_MANIFEST, ...fixture(5), ...extra }, { ...AT, ...opts });
const refused = (fn: () => unknown, message: RegExp, field?: string) =>
  assert.throws(fn, (e: unknown) => e instanceof UserError && message.test(e.message) && (field === undefined || e.where.field === field || e.where.file === field));

test('overwrite replaces an old slice or an empty folder, never a folder of something else, nor a file', () => {
  const base = tmp();
  const thesis = join(base, 'thesis');
  mkdirSync(thesis);
  writeFileSync(join(thesis, 'thesis.tex'), 'years of work');
  refused(() => write(thesis, {}, { overwrite: true }), /is not a slice folder: overwrite replaces only a slice/);
  assert.equal(readFileSync(join(thesis, 'thesis.tex'), 'utf8'), 'years of work');
  writeFileSync(join(base, 'notes.txt'), 'keep');
  refused(() => write(join(base, 'notes.txt'), {}, { overwrite: true }), /is not a slice folder/);
  assert.equal(readFileSync(join(base, 'notes.txt'), 'utf8'), 'keep');
  // An old slice and an empty folder are replaced.
  const old = join(base, 'old.slice');
  write(old);
  write(old, { events: fixture(7).events }, { overwrite: true });
  assert.equal(Slice.open(old).eventCount, 7);
  mkdirSync(join(base, 'empty'));
  write(join(base, 'empty'), {}, { overwrite: true });
  assert.ok(existsSync(join(base, 'empty', 'slice.json')));
});

test('a slice is never written inside another slice', () => {
  const old = join(tmp(), 'old.slice');
  write(old);
  refused(() => write(join(old, 'inner.slice')), /is inside the slice/);
  refused(() => write(join(old, 'items.jsonl'), {}, { overwrite: true }), /is inside the slice/);
  assert.deepEqual(readdirSync(old).sort(), ['events.jsonl', 'items.jsonl', 'slice.json', 'users.jsonl']);
  assert.equal(Slice.verifyFolder(old).ok, true);
});

test('what is checked is what is written: a getter or toJSON that writes something else is refused, not written into a slice that will not open', () => {
  const f = fixture(3);
  class Ev {
    constructor(private readonly e: EventRecord) {}
    get t() {
      return this.e.t;
    }
    toJSON() {
      const { t, ...rest } = this.e;
      return { ...rest, tsMs: Date.parse(t) };
    }
  }
  const events = f.events.map((e) => new Ev(e)) as unknown as EventRecord[];
  refused(() => writeSlice(join(tmp(), 'a.slice'), { manifest: BASE_MANIFEST, ...f, events }, AT), /"t" must be an RFC 3339 timestamp/);
  // BigInt, a cycle, an async iterable, items that are not an array: a message naming the record, no stack.
  const big = fixture(2);
  (big.events[1] as unknown as Record<string, unknown>)['extra'] = 10n;
  refused(() => writeSlice(join(tmp(), 'b.slice'), { manifest: BASE_MANIFEST, ...big }, AT), /events record 2 cannot be written as JSON/);
  const cyc = fixture(2);
  const loop: Record<string, unknown> = {};
  loop['self'] = loop;
  (cyc.events[0] as unknown as Record<string, unknown>)['extra'] = loop;
  refused(() => writeSlice(join(tmp(), 'c.slice'), { manifest: BASE_MANIFEST, ...cyc }, AT), /events record 1 cannot be written as JSON/);
  async function* later() {
    yield* fixture(2).events;
  }
  refused(() => writeSlice(join(tmp(), 'd.slice'), { manifest: BASE_MANIFEST, ...fixture(2), events: later() as unknown as Iterable<EventRecord> }, AT), /events must be an iterable of event records/);
  refused(() => writeSlice(join(tmp(), 'e.slice'), { manifest: BASE_MANIFEST, ...fixture(2), items: new Set(fixture(2).items) as unknown as [] }, AT), /items must be an array of records/);
});

test('clock: the start defaults to the first event even when only the timezone is given; a start after the first event is refused', () => {
  const dir = join(tmp(), 'tz.slice');
  const { manifest } = writeSlice(dir, { manifest: { ...BASE_MANIFEST, clock: { timezone: 'Europe/Paris' } }, ...fixture(3) }, AT);
  assert.deepEqual(manifest.clock, { start: fixture(3).events[0]?.t, timezone: 'Europe/Paris' });
  refused(() => writeSlice(join(tmp(), 'late.slice'), { manifest: { ...BASE_MANIFEST, clock: { start: '2030-01-01T00:00:00Z', timezone: 'UTC' } }, ...fixture(3) }, AT), /clock.start 2030-01-01T00:00:00Z is after the first event/);
});

test('a freeze killed midway leaves its marked temp folder, which the next freeze to the same place removes; nothing unmarked, live or another user\'s is touched', () => {
  const base = tmp();
  const dir = join(base, 'mine.slice');
  // A process that has exited: its pid is free.
  const gone = Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
  const mark = (name: string, owner: Record<string, unknown>) => {
    mkdirSync(join(base, name));
    writeFileSync(join(base, name, 'events.jsonl'), 'half');
    writeFileSync(join(base, name, '.recreplay-freeze'), JSON.stringify(owner));
  };
  const me = { host: MACHINE, uid: process.getuid?.() ?? -1 };
  mark('mine.slice.tmp-dead', { ...me, pid: gone });
  mark('mine.slice.tmp-live', { ...me, pid: process.ppid });
  mark('mine.slice.tmp-elsewhere', { ...me, host: 'another-host', pid: gone });
  mark('mine.slice.tmp-otheruser', { ...me, uid: me.uid + 1, pid: gone });
  // Folders of the same shape that are not a freeze's: no owner file.
  mkdirSync(join(base, 'mine.slice.tmp-2023'));
  writeFileSync(join(base, 'mine.slice.tmp-2023', 'thesis.tex'), 'years of work');
  mkdirSync(join(base, 'mine.slice.old-99999'));
  write(dir);
  assert.deepEqual(readdirSync(base).sort(), ['mine.slice', 'mine.slice.old-99999', 'mine.slice.tmp-2023', 'mine.slice.tmp-elsewhere', 'mine.slice.tmp-live', 'mine.slice.tmp-otheruser']);
  assert.equal(readFileSync(join(base, 'mine.slice.tmp-2023', 'thesis.tex'), 'utf8'), 'years of work');
  // The owner file never ends up in the slice (which lists every file it holds).
  assert.deepEqual(readdirSync(dir).sort(), ['events.jsonl', 'items.jsonl', 'slice.json', 'users.jsonl']);
  assert.equal(Slice.verifyFolder(dir).ok, true);
});

test('only a RecReplay slice counts as one: another tool\'s slice.json neither blocks a freeze below it nor lets overwrite replace its folder', () => {
  const proj = tmp();
  writeFileSync(join(proj, 'slice.json'), '{"tool":"something else"}');
  writeFileSync(join(proj, 'notes.md'), 'keep');
  write(join(proj, 'week1.slice'));
  assert.ok(existsSync(join(proj, 'week1.slice', 'slice.json')));
  const other = join(tmp(), 'other');
  mkdirSync(other);
  writeFileSync(join(other, 'slice.json'), '{}');
  writeFileSync(join(other, 'thesis.tex'), 'years of work');
  refused(() => write(other, {}, { overwrite: true }), /is not a slice folder/);
  // A slice with a file its manifest does not list is not replaced either.
  const old = join(tmp(), 'old.slice');
  write(old);
  writeFileSync(join(old, 'my-notes.txt'), 'keep');
  refused(() => write(old, {}, { overwrite: true }), /old\.slice is a slice folder, but it also holds my-notes\.txt, which its manifest does not list/);
  assert.equal(readFileSync(join(old, 'my-notes.txt'), 'utf8'), 'keep');
});

test('a NaN that a toJSON writes is refused, as one in the record itself is', () => {
  const f = fixture(2);
  (f.events[1] as unknown as Record<string, unknown>)['extra'] = { toJSON: () => ({ ctr: Number.NaN }) };
  refused(() => writeSlice(join(tmp(), 'nan.slice'), { manifest: BASE_MANIFEST, ...f }, AT), /ctr is not finite in events record 2 as its toJSON writes it/);
});

test('overwrite refuses a slice whose subfolder holds a file the manifest does not list (artifacts/notes.docx went with the old slice)', () => {
  const base = tmp();
  const dir = join(base, 'a.slice');
  write(dir, { artifacts: { 'model.json': '{}' } });
  mkdirSync(join(dir, 'artifacts', 'my-notebooks'));
  writeFileSync(join(dir, 'artifacts', 'my-notebooks', 'important.ipynb'), 'x');
  writeFileSync(join(dir, 'artifacts', 'thesis.docx'), 'x');
  // (The first file not listed is named: the walk goes down the first subfolder first.)
  refused(() => write(dir, {}, { overwrite: true }), /a\.slice is a slice folder, but it also holds artifacts\/(my-notebooks\/important\.ipynb|thesis\.docx), which its manifest does not list/);
  assert.equal(readFileSync(join(dir, 'artifacts', 'thesis.docx'), 'utf8'), 'x');
  assert.ok(existsSync(join(dir, 'artifacts', 'my-notebooks', 'important.ipynb')));
  // Holding only what it lists, it is replaced, subfolders included.
  const clean = join(base, 'b.slice');
  write(clean, { artifacts: { 'model.json': '{}' } });
  write(clean, {}, { overwrite: true });
  assert.ok(!existsSync(join(clean, 'artifacts')));
});

test('overwrite refuses a symbolic link to a slice, and writes nothing into the slice it links to', () => {
  const base = tmp();
  const v3 = join(base, 'v3.slice');
  write(v3);
  const before = readdirSync(v3).sort();
  const link = join(base, 'current.slice');
  symlinkSync(v3, link);
  refused(() => write(link, {}, { overwrite: true }), /current\.slice is a symbolic link: overwrite replaces a slice folder, not a link to one/);
  assert.deepEqual(readdirSync(v3).sort(), before);
  assert.ok(lstatSync(link).isSymbolicLink());
  // The slice it links to is still one overwrite replaces.
  write(v3, {}, { overwrite: true });
});

test('the tidying before a freeze leaves alone what a dead freeze to a longer name that starts the same left (a.slice.tmp-backup.slice.tmp-…-old is not a.slice\'s)', () => {
  const base = tmp();
  const other = join(base, 'a.slice.tmp-backup.slice');
  write(other, { events: fixture(3).events.map((e) => ({ ...e, id: `other-${e.id}` })) });
  const aside = join(base, 'a.slice.tmp-backup.slice.tmp-0123456789ab-old');
  renameSync(other, aside);
  const gone = spawnSync('true').pid as number;
  writeFileSync(join(aside, '.recreplay-freeze'), JSON.stringify({ host: MACHINE, uid: process.getuid?.() ?? -1, pid: gone, target: 'a.slice.tmp-backup.slice', installed: '0'.repeat(64) }));
  const mine = join(base, 'a.slice');
  write(mine);
  assert.ok(!readFileSync(join(mine, 'events.jsonl'), 'utf8').includes('other-'));
  assert.ok(existsSync(aside), 'the other freeze\'s old slice is left for a freeze to its own name');
});

test('the marks of dead freezes beside a slice are read and written as plain files only: a mark that is a link (to a pipe or /dev/zero, or one that leads nowhere) hung the freeze and the open of a missing slice, or had the mark written where it led', { skip: process.platform === 'win32' }, () => {
  const base = tmp();
  const outside = tmp();
  const dir = join(base, 'mine.slice');
  const gone = Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
  const me = { host: MACHINE, uid: process.getuid?.() ?? -1 };
  // A folder the old slice went to, its mark a link to a pipe (standing for /dev/zero): a read that never ends.
  const pipe = join(outside, 'pipe');
  assert.equal(spawnSync('mkfifo', [pipe]).status, 0);
  mkdirSync(join(base, 'mine.slice.tmp-a-old'));
  writeFileSync(join(base, 'mine.slice.tmp-a-old', 'slice.json'), JSON.stringify({ format: 'recreplay.slice/1', files: [] }));
  symlinkSync(pipe, join(base, 'mine.slice.tmp-a-old', '.recreplay-freeze'));
  const reader = join(__dirname, '../../src/core/slice/reader.ts');
  const deadFreezes = join(__dirname, '../../src/core/slice/deadFreezes.ts');
  const run = (code: string) => spawnSync(process.execPath, ['--import', 'tsx', '-e', code, dir], { timeout: 20_000, killSignal: 'SIGKILL', encoding: 'utf8' });
  // Opening the missing slice looks for where it went; a freeze to it tidies first.
  const open = run(`const { Slice } = require(${JSON.stringify(reader)}); try { Slice.open(process.argv[1]); } catch (e) { console.log(e.message); }`);
  assert.equal(open.signal, null, `the open hung (killed after 20 s): ${open.stderr}`);
  assert.match(open.stdout, /mine\.slice/);
  const tidy = run(`require(${JSON.stringify(deadFreezes)}).tidyDeadFreezes(process.argv[1]);`);
  assert.equal(tidy.signal, null, `the tidying hung (killed after 20 s): ${tidy.stderr}`);
  assert.equal(tidy.status, 0, tidy.stderr);
  // A dead freeze's temp folder, and the old slice it moved aside, unmarked, whose mark is a link that leads nowhere.
  mkdirSync(join(base, 'b'));
  const other = join(base, 'b', 'mine.slice');
  mkdirSync(other);
  writeFileSync(join(other, 'notes.txt'), 'something else is at the target now');
  mkdirSync(`${other}.tmp-b`);
  writeFileSync(join(`${other}.tmp-b`, '.recreplay-freeze'), JSON.stringify({ ...me, pid: gone, payload: 'what the mark says' }));
  mkdirSync(`${other}.tmp-b-old`);
  const target = join(outside, 'created.json');
  symlinkSync(target, join(`${other}.tmp-b-old`, '.recreplay-freeze'));
  const notes = run(`console.log(JSON.stringify(require(${JSON.stringify(deadFreezes)}).tidyDeadFreezes(${JSON.stringify(other)})));`);
  assert.equal(notes.status, 0, notes.stderr);
  assert.ok(!existsSync(target), 'nothing was written where the link led');
});
