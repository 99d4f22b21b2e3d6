import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, cpSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { Slice, UNLISTED } from '../../src/core/slice/reader';
import { runHeadless } from '../../src/core/engine/run';
import { cacheDir } from '../../src/core/slice/offsetIndex';
import { IntegrityError, UserError } from '../../src/core/errors';
import type { SliceManifest } from '../../src/core/slice/types';
import { eventLine, makeSlice, rawSlice, readIndexFile, tmp } from '../helpers';

const sha = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');
const manifestOf = (dir: string) => JSON.parse(readFileSync(join(dir, 'slice.json'), 'utf8')) as SliceManifest;
const writeManifest = (dir: string, m: SliceManifest) => writeFileSync(join(dir, 'slice.json'), JSON.stringify(m, null, 2));
const userError = (re: RegExp, field?: string) => (e: unknown) => e instanceof UserError && re.test(e.message) && (field === undefined || e.where.field === field);

/** Moves a slice file out of the folder and leaves a symlink to it in its place. */
function linkOut(dir: string, name: string): string {
  const outside = join(tmp(), `outside-${name}`);
  renameSync(join(dir, name), outside);
  symlinkSync(outside, join(dir, name));
  return outside;
}

/** The doubles of a file read whole (its Buffer may be a view into a shared pool). */

test('a slice file that is a symlink to outside the folder is never read: open refuses it, verify reports it', () => {
  for (const name of ['events.jsonl', 'items.jsonl', 'users.jsonl']) {
    const dir = makeSlice(20);
    linkOut(dir, name);
    assert.throws(() => Slice.open(dir, { force: true }), userError(new RegExp(`${name.replace('.', '\\.')} \\(a link to outside the slice folder`)));
    const report = Slice.verifyFolder(dir);
    assert.equal(report.ok, false);
    assert.deepEqual(report.missing, [name]);
    assert.equal(report.reasons[name], 'a link to outside the slice folder');
  }
});

test('a symlink that stays inside the slice folder is followed; a linked subfolder that leads outside is not', () => {
  const dir = makeSlice(20);
  renameSync(join(dir, 'items.jsonl'), join(dir, 'items-real.jsonl'));
  symlinkSync('items-real.jsonl', join(dir, 'items.jsonl'));
  const s = Slice.open(dir);
  assert.ok(s.items.length > 0);
  s.close();
  assert.equal(Slice.verifyFolder(dir).ok, true);
  // A manifest path through a folder that is a link to elsewhere.
  const out = join(tmp(), 'elsewhere');
  mkdirSync(out);
  renameSync(join(dir, 'users.jsonl'), join(out, 'users.jsonl'));
  symlinkSync(out, join(dir, 'sub'));
  const m = manifestOf(dir);
  (m.files.find((f) => f.path === 'users.jsonl') as { path: string }).path = 'sub/users.jsonl';
  writeManifest(dir, m);
  assert.throws(() => Slice.open(dir, { force: true }), userError(/sub\/users\.jsonl \(a link to outside the slice folder/));
});

test('"./items.jsonl" in the manifest is items.jsonl: the catalogue is read, not silently dropped', () => {
  const dir = makeSlice(20);
  const m = manifestOf(dir);
  for (const f of m.files) f.path = `./${f.path}`;
  writeManifest(dir, m);
  const s = Slice.open(dir);
  assert.ok(s.items.length > 0 && s.users.length > 0, 'items and users are read');
  assert.equal(s.eventCount, 20);
  s.close();
});

test('a manifest naming one file twice (after normalising) is refused with the field', () => {
  const dir = makeSlice(20);
  const m = manifestOf(dir);
  m.files.push({ ...(m.files.find((f) => f.path === 'items.jsonl') as SliceManifest['files'][number]), path: 'x/../items.jsonl' });
  writeManifest(dir, m);
  assert.throws(() => Slice.open(dir), userError(/names the same file as/, `files[${m.files.length - 1}].path`));
});

test('chunk hashes on a file other than events.jsonl are a manifest error naming the field (they were checked as if the file had changed: exit 4)', () => {
  const dir = makeSlice(20);
  const m = manifestOf(dir);
  const i = m.files.findIndex((f) => f.path === 'items.jsonl');
  (m.files[i] as SliceManifest['files'][number]).chunks = { size: 8388608, sha256: ['0'.repeat(64)] };
  writeManifest(dir, m);
  assert.throws(() => Slice.open(dir), userError(/files\[\d\]\.chunks: only events\.jsonl is hashed in chunks, not "items\.jsonl"/, `files[${i}].chunks`));
  assert.throws(() => Slice.verifyFolder(dir), userError(/only events\.jsonl is hashed in chunks/, `files[${i}].chunks`));
});

test('items.jsonl present but not listed in the manifest is refused, not left out of the replay', () => {
  const dir = makeSlice(20);
  const m = manifestOf(dir);
  m.files = m.files.filter((f) => f.path !== 'items.jsonl');
  writeManifest(dir, m);
  assert.throws(() => Slice.open(dir), userError(/items\.jsonl is in the slice folder but not in the manifest/, 'files'));
  rmSync(join(dir, 'items.jsonl'));
  const s = Slice.open(dir);
  assert.equal(s.items.length, 0);
  s.close();
});

test('chunk hashes must cover the file: too few or too many is an invalid manifest', () => {
  for (const edit of [(h: string[]) => h.slice(0, -1), (h: string[]) => [...h, h[0] as string], () => []]) {
    const dir = makeSlice(40, { chunkSize: 2048 });
    const m = manifestOf(dir);
    const ev = m.files.find((f) => f.path === 'events.jsonl') as SliceManifest['files'][number];
    assert.ok((ev.chunks?.sha256.length ?? 0) > 2);
    (ev.chunks as { sha256: string[] }).sha256 = edit(ev.chunks?.sha256 ?? []);
    writeManifest(dir, m);
    const i = m.files.indexOf(ev);
    assert.throws(() => Slice.open(dir, { force: true }), userError(/chunks\.sha256 has \d+ hashes, but \d+ bytes in chunks of 2048 need \d+/, `files[${i}].chunks.sha256`));
  }
});

test('a wrong chunk hash in the manifest makes the file modified, on every path: first open, cached open, verify', () => {
  const dir = makeSlice(40, { chunkSize: 2048 });
  const m = manifestOf(dir);
  const ev = m.files.find((f) => f.path === 'events.jsonl') as SliceManifest['files'][number];
  const hashes = ev.chunks?.sha256 as string[];
  hashes[1] = sha('not this chunk');
  writeManifest(dir, m);
  // First open builds the index, hashing the file whole and every chunk.
  assert.throws(() => Slice.open(dir), (e: unknown) => e instanceof IntegrityError && /events\.jsonl \(the sha256 of a chunk differs\)/.test(e.message));
  const report = Slice.verifyFolder(dir);
  assert.deepEqual(report.modified, ['events.jsonl']);
  assert.equal(report.reasons['events.jsonl'], 'the sha256 of a chunk differs');
  // With force the index is cached under the modified key; the next plain open still refuses.
  Slice.open(dir, { force: true }).close();
  assert.throws(() => Slice.open(dir), IntegrityError);
});

test('a manifest whose size is wrong: verify and open agree, and say it is the size', () => {
  const dir = makeSlice(20);
  const m = manifestOf(dir);
  const ev = m.files.find((f) => f.path === 'events.jsonl') as SliceManifest['files'][number];
  ev.bytes += 1;
  delete ev.chunks;
  writeManifest(dir, m);
  const report = Slice.verifyFolder(dir);
  assert.deepEqual(report.modified, ['events.jsonl']);
  assert.equal(report.reasons['events.jsonl'], 'its size differs');
  assert.throws(() => Slice.open(dir), (e: unknown) => e instanceof IntegrityError && /events\.jsonl \(its size differs\)/.test(e.message));
});

test('a damaged cached index is rebuilt, not trusted: zeros, cut short, or not ending where the file does', () => {
  const damage: ((o: Float64Array) => Float64Array)[] = [(o) => new Float64Array(o.length), (o) => o.map((x, i) => (i === o.length - 1 ? x + 100 : x)), (o) => o.map((x, i) => (i === 5 ? (o[4] as number) : x))];
  for (const hurt of damage) {
    const dir = makeSlice(30);
    const first = Slice.open(dir);
    const want = [...first.events()].map((e) => e.id);
    first.close();
    const p = join(cacheDir(), `index-${sha(readFileSync(join(dir, 'slice.json')))}.f64`);
    const offsets = readIndexFile(p);
    writeFileSync(p, Buffer.concat([Buffer.from(hurt(offsets).buffer), readFileSync(p).subarray(-32)]));
    const again = Slice.open(dir);
    assert.deepEqual([...again.events()].map((e) => e.id), want);
    assert.equal(again.readEvent(6).id, want[5]);
    again.close();
    // Rebuilt and stored again.
    assert.deepEqual(readIndexFile(p), offsets);
  }
});

test('a repeated item or user id keeps its first record (as the metrics\' catalogue does)', () => {
  const users = '{"id":"u1","features":{"a":1}}\n{"id":"u1","features":{"a":2}}\n';
  const dir = rawSlice(eventLine('e1', '2025-01-01T00:00:01Z') + '\n', (m) => {
    m.files.push({ path: 'users.jsonl', sha256: sha(users), bytes: Buffer.byteLength(users) });
  });
  const items = '{"id":"a","category":"x"}\n{"id":"a","category":"y"}\n{"id":"b"}\n';
  writeFileSync(join(dir, 'items.jsonl'), items);
  writeFileSync(join(dir, 'users.jsonl'), users);
  const m = manifestOf(dir);
  Object.assign(m.files.find((f) => f.path === 'items.jsonl') as object, { sha256: sha(items), bytes: Buffer.byteLength(items), records: 3 });
  writeManifest(dir, m);
  const s = Slice.open(dir);
  assert.equal(s.itemById.get('a')?.category, 'x');
  assert.equal(s.userById.get('u1')?.features?.['a'], 1);
  s.close();
});

test('a slice file that is a link to itself is reported as not a regular file, by open and by verify', () => {
  const dir = makeSlice(10);
  rmSync(join(dir, 'users.jsonl'));
  symlinkSync('users.jsonl', join(dir, 'users.jsonl'));
  assert.throws(() => Slice.open(dir, { force: true }), userError(/users\.jsonl \(not a regular file\)/));
  assert.equal(Slice.verifyFolder(dir).reasons['users.jsonl'], 'not a regular file');
});

test('verify reports an items.jsonl or users.jsonl that open refuses as unlisted: the two never disagree', () => {
  for (const name of ['items.jsonl', 'users.jsonl']) {
    const dir = makeSlice(20);
    const m = manifestOf(dir);
    m.files = m.files.filter((f) => f.path !== name);
    writeManifest(dir, m);
    assert.throws(() => Slice.open(dir), (e: unknown) => e instanceof UserError && e.code === 'E_UNLISTED');
    const report = Slice.verifyFolder(dir);
    assert.equal(report.ok, false, `${name}: verify must not say the slice is intact`);
    assert.deepEqual(report.modified, [name]);
    assert.deepEqual(report.missing, []);
    assert.equal(report.reasons[name], UNLISTED);
    rmSync(join(dir, name));
    assert.equal(Slice.verifyFolder(dir).ok, true);
    Slice.open(dir).close();
  }
});

test('a slice path that does not exist is said not to exist; a file is said to be a file', () => {
  const nowhere = join(tmp(), 'nowhere', 'x.slice');
  for (const fn of [() => Slice.open(nowhere), () => Slice.verifyFolder(nowhere)]) {
    assert.throws(fn, (e: unknown) => e instanceof UserError && e.code === 'E_NOT_A_SLICE' && e.message.includes(nowhere) && /the folder does not exist/.test(e.message));
  }
  const file = join(tmp(), 'a-file');
  writeFileSync(file, 'x');
  assert.throws(() => Slice.open(file), userError(/no slice\.json in .*a-file: it is a file/));
});

test('a slice file that cannot be read is a UserError naming it, from open and from verify', { skip: process.getuid?.() === 0 ? 'root can read anything' : false }, () => {
  const unreadable = (name: string) => (e: unknown) => e instanceof UserError && e.code === 'E_UNREADABLE' && (e.where.file ?? '').endsWith(name) && /cannot be read/.test(e.message) && /permissions/.test(e.hint ?? '');
  for (const name of ['slice.json', 'items.jsonl', 'events.jsonl']) {
    const dir = makeSlice(20);
    // events.jsonl is not read at open (its index was cached at freeze): open says so all the same.
    chmodSync(join(dir, name), 0o000);
    try {
      assert.throws(() => Slice.open(dir), unreadable(name), `open, ${name}`);
      assert.throws(() => Slice.verifyFolder(dir), unreadable(name), `verify, ${name}`);
    } finally {
      chmodSync(join(dir, name), 0o644);
    }
  }
});

test('a forced replay of a modified events.jsonl of the same size is the same on every machine, whatever indexes it has cached', async () => {
  const host = { now: () => '', user: 'u', host: 'h', cwd: process.cwd() };
  const intact = makeSlice(40, { chunkSize: 2048 });
  const modified = join(tmp(), 'modified.slice');
  cpSync(intact, modified, { recursive: true });
  // One digit less in line 1, one more in line 2: the same size, and line 2 starts a byte earlier.
  const p = join(modified, 'events.jsonl');
  const lines = readFileSync(p, 'utf8').split('\n');
  lines[0] = (lines[0] as string).replace(/"score":(\d\.\d\d+)/, (_m, x: string) => `"score":${x.slice(0, -1)}`);
  lines[1] = (lines[1] as string).replace(/"score":(\d\.\d+)/, (_m, x: string) => `"score":${x}1`);
  writeFileSync(p, lines.join('\n'));
  assert.equal(readFileSync(p).length, readFileSync(join(intact, 'events.jsonl')).length);
  const run = async (cache: string) => {
    process.env['RECREPLAY_CACHE_DIR'] = cache;
    const r = await runHeadless({ slice: modified, ranker: 'recorded', force: true }, host);
    r.replayer.dispose();
    return { sha: r.traceSha256, events: r.events, modified: r.modified };
  };
  const saved = process.env['RECREPLAY_CACHE_DIR'];
  try {
    const fresh = await run(tmp());
    // A machine that replayed the intact slice before has its index cached (the same manifest).
    const warm = tmp();
    process.env['RECREPLAY_CACHE_DIR'] = warm;
    Slice.open(intact).close();
    assert.deepEqual(await run(warm), fresh);
    assert.equal(fresh.events, 40);
    assert.deepEqual(fresh.modified, ['events.jsonl']);
  } finally {
    process.env['RECREPLAY_CACHE_DIR'] = saved;
  }
});
