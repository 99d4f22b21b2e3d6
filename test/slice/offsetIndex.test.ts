import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { chmodSync, copyFileSync, cpSync, lstatSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OffsetCollector, OffsetIndex, loadCachedIndex, storeIndex } from '../../src/core/slice/offsetIndex';
import { Slice } from '../../src/core/slice/reader';
import { makeSlice, tmp } from '../helpers';
import { MACHINE, cacheTemp } from '../../src/core/dirs';
import { spawnSync } from 'node:child_process';

/** Reference: byte offsets of line starts computed the obvious way. */
function reference(lines: string[], trailingNewline: boolean): number[] {
  const out = [0];
  let pos = 0;
  lines.forEach((l, i) => {
    pos += Buffer.byteLength(l) + (i < lines.length - 1 || trailingNewline ? 1 : 0);
    out.push(i < lines.length - 1 || trailingNewline ? pos : pos + 1);
  });
  return out;
}

test('property: the offset index matches a reference however the file is split into buffers', () => {
  fc.assert(
    fc.property(
      fc.array(fc.string({ unit: 'grapheme', maxLength: 20 }).filter((s) => !s.includes('\n')), { minLength: 1, maxLength: 40 }),
      fc.boolean(),
      fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 10 }),
      (lines, trailing, cuts) => {
        // Without a trailing newline an empty last line is no line at all.
        if (!trailing && lines[lines.length - 1] === '') lines[lines.length - 1] = 'x';
        const text = lines.join('\n') + (trailing ? '\n' : '');
        const buf = Buffer.from(text, 'utf8');
        const c = new OffsetCollector();
        let pos = 0;
        let i = 0;
        while (pos < buf.length) {
          const n = cuts[i++ % cuts.length] as number;
          c.feed(buf.subarray(pos, pos + n), pos);
          pos += n;
        }
        const idx = c.finish();
        assert.deepEqual(Array.from(idx.offsets), reference(lines, trailing));
        assert.equal(idx.count, lines.length);
        for (let n = 1; n <= lines.length; n++) {
          const [s, e] = idx.range(n);
          assert.equal(buf.subarray(s, e).toString('utf8'), lines[n - 1]);
        }
      },
    ),
    { numRuns: 200 },
  );
});

test('range() outside the index is a RangeError', () => {
  const c = new OffsetCollector();
  c.feed(Buffer.from('a\nb\n'), 0);
  const idx = c.finish();
  assert.equal(idx.count, 2);
  assert.throws(() => idx.range(3), RangeError);
  assert.throws(() => idx.range(0), RangeError);
});

test('a slice replayed modified (force) keeps one cached index of its file: an edit replaces it instead of adding one', () => {
  const dir = makeSlice(40);
  const cache = tmp();
  const events = join(dir, 'events.jsonl');
  const lines = readFileSync(events, 'utf8').split('\n').filter((l) => l !== '');
  const modifiedIndexes = () => readdirSync(cache).filter((f) => f.includes('-modified-'));
  for (let n = 30; n < 36; n++) {
    // Each edit leaves another size: another state of the file, another index key.
    writeFileSync(events, lines.slice(0, n).join('\n') + '\n');
    const s = Slice.open(dir, { force: true, cacheDir: cache });
    assert.equal(s.eventCount, n);
    s.close();
    assert.equal(modifiedIndexes().length, 1, modifiedIndexes().join(', '));
  }
  // The index of the frozen manifest itself is not touched by them.
  writeFileSync(events, lines.join('\n') + '\n');
  Slice.open(dir, { cacheDir: cache }).close();
  assert.equal(readdirSync(cache).filter((f) => f.startsWith('index-') && !f.includes('-modified-')).length, 1);
});

test('two copies of a slice, both modified, keep an index each: opening one does not evict the other\'s', () => {
  const a = makeSlice(40);
  const b = join(tmp(), 'copy.slice');
  cpSync(a, b, { recursive: true });
  const cache = tmp();
  for (const [dir, n] of [[a, 30], [b, 33]] as const) {
    const events = join(dir, 'events.jsonl');
    writeFileSync(events, readFileSync(events, 'utf8').split('\n').slice(0, n).join('\n') + '\n');
  }
  for (let round = 0; round < 3; round++) {
    for (const dir of [a, b]) Slice.open(dir, { force: true, cacheDir: cache }).close();
    assert.equal(readdirSync(cache).filter((f) => f.includes('-modified-')).length, 2);
  }
});

test('an index that cannot be stored leaves no part-written temp file in the cache', () => {
  const dir = tmp();
  const key = 'a'.repeat(64);
  // A folder where the index should go: the rename fails after the temp file was written.
  mkdirSync(join(dir, `index-${key}.f64`));
  storeIndex(key, new OffsetIndex(Float64Array.of(0, 10, 20)), dir);
  assert.deepEqual(readdirSync(dir).sort(), [`index-${key}.f64`, 'index.key'], 'the sealing key stays; no temp file');
});

test('a sealing key cut short (a crash) is replaced when an index is stored, so the cache works again; an index sealed under another key is rebuilt', () => {
  const dir = tmp();
  writeFileSync(join(dir, 'index.key'), 'short');
  const key = 'b'.repeat(64);
  storeIndex(key, new OffsetIndex(Float64Array.of(0, 10, 20)), dir);
  assert.equal(readFileSync(join(dir, 'index.key')).length, 32);
  assert.deepEqual([...(loadCachedIndex(key, 2, 20, dir)?.offsets ?? [])], [0, 10, 20]);
  // Copied to a cache with a key of its own: not trusted there.
  const other = tmp();
  storeIndex('c'.repeat(64), new OffsetIndex(Float64Array.of(0, 5)), other);
  copyFileSync(join(dir, `index-${key}.f64`), join(other, `index-${key}.f64`));
  assert.equal(loadCachedIndex(key, 2, 20, other), undefined);
});

test('the sealing key is replaced, never written through a link: a link planted at the temp name or at index.key leaves its target alone, and a key that is a link or readable by others is not trusted', { skip: process.platform === 'win32' }, () => {
  const dir = tmp();
  const victim = join(tmp(), 'victim-rc');
  writeFileSync(victim, 'export PATH=/usr/bin\n');
  // A key cut short, and a link where its temp file will be made (the security audit's case).
  writeFileSync(join(dir, 'index.key'), 'short');
  symlinkSync(victim, cacheTemp(join(dir, 'index.key')));
  const key = 'd'.repeat(64);
  storeIndex(key, new OffsetIndex(Float64Array.of(0, 10, 20)), dir);
  assert.equal(readFileSync(victim, 'utf8'), 'export PATH=/usr/bin\n', 'the link\'s target is untouched');
  const st = lstatSync(join(dir, 'index.key'));
  assert.ok(st.isFile() && st.size === 32 && (st.mode & 0o777) === 0o600, 'a regular file of 32 bytes, 0600');
  assert.deepEqual([...(loadCachedIndex(key, 2, 20, dir)?.offsets ?? [])], [0, 10, 20]);

  // index.key a link to 32 bytes someone else chose: not a key; replaced by a file of its own.
  const chosen = join(tmp(), 'chosen.key');
  writeFileSync(chosen, Buffer.alloc(32, 7), { mode: 0o600 });
  const linked = tmp();
  symlinkSync(chosen, join(linked, 'index.key'));
  storeIndex(key, new OffsetIndex(Float64Array.of(0, 10, 20)), linked);
  assert.ok(!lstatSync(join(linked, 'index.key')).isSymbolicLink());
  assert.deepEqual(readFileSync(chosen), Buffer.alloc(32, 7), 'the target is untouched');
  assert.notDeepEqual(readFileSync(join(linked, 'index.key')), Buffer.alloc(32, 7));

  // A key others can read (a reader could forge indexes with it): not a key; the next store replaces it.
  const open = tmp();
  writeFileSync(join(open, 'index.key'), Buffer.alloc(32, 9));
  chmodSync(join(open, 'index.key'), 0o644);
  storeIndex(key, new OffsetIndex(Float64Array.of(0, 10, 20)), open);
  assert.notDeepEqual(readFileSync(join(open, 'index.key')), Buffer.alloc(32, 9));
  assert.equal(lstatSync(join(open, 'index.key')).mode & 0o777, 0o600);
  assert.deepEqual([...(loadCachedIndex(key, 2, 20, open)?.offsets ?? [])], [0, 10, 20]);
});

test('temp files a killed process left in the index cache are swept when an index is stored; a live process\'s and another machine\'s are left alone', () => {
  const dir = tmp();
  const dead = spawnSync(process.execPath, ['-e', '0']).pid as number;
  const key = 'e'.repeat(64);
  const mine = (name: string, pid: number) => join(dir, `${name}.tmp-${pid}@${MACHINE}`);
  writeFileSync(mine(`index-${'f'.repeat(64)}.f64`, dead), Buffer.alloc(4096));
  writeFileSync(mine('users-abc.ok', dead), '');
  writeFileSync(mine('index.key', dead), 'x');
  // A run that is alive (this test's parent), and one of another machine sharing the cache.
  writeFileSync(mine(`index-${'a'.repeat(64)}.f64`, process.ppid), 'live');
  // (One whose name ends like this machine's: ci.vm beside vm.)
  const others = [`index-${'b'.repeat(64)}.f64.tmp-${dead}@other-host`, `index-${'c'.repeat(64)}.f64.tmp-${dead}@ci.${MACHINE}`];
  for (const o of others) writeFileSync(join(dir, o), 'elsewhere');
  storeIndex(key, new OffsetIndex(Float64Array.of(0, 10, 20)), dir);
  assert.deepEqual(readdirSync(dir).sort(), [`index-${'a'.repeat(64)}.f64.tmp-${process.ppid}@${MACHINE}`, ...others, `index-${key}.f64`, 'index.key'].sort());
});
