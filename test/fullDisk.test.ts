// A disk that fills up while RecReplay writes: a small tmpfs, mounted for the test (root only; the
// tests say why they skip elsewhere). Nothing half-written may be kept, and the error names what
// could not be written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readdirSync, rmSync, rmdirSync, statSync, writeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { after } from 'node:test';
import { BASE_MANIFEST, fixture, tmp } from './helpers';
import { writeSlice } from '../src/core/slice/writer';
import { Slice } from '../src/core/slice/reader';
import { writeAll } from '../src/core/dirs';
import { UserError } from '../src/core/errors';
import { EXIT } from '../src/cli/exitCodes';

const ROOT = resolve(__dirname, '..');
const CLI = join(ROOT, 'dist/cli.js');
const COLD = { slice: join(ROOT, 'examples/slices/cold-start.slice'), ranker: 'linear:examples/rankers/cold-start-linear.json' };
const mounts: string[] = [];
after(() => {
  for (const m of mounts) {
    spawnSync('umount', [m]);
    try {
      rmdirSync(m);
    } catch {
      // Left for the OS's temp cleaning.
    }
  }
});

/** A fresh tmpfs of `kb` KiB, or why there cannot be one here (not root, no mount). */
function smallDisk(kb: number): string | { skip: string } {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return { skip: 'mounting a small tmpfs needs root on Linux' };
  const dir = tmp('recreplay-full-');
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${kb}k`, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) return { skip: `cannot mount a tmpfs here: ${(r.stderr || r.error?.message || '').trim()}` };
  mounts.push(dir);
  return dir;
}

const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: ROOT, timeout: 60_000 });

test('writeAll writes a whole buffer or fails with ENOSPC: writeSync alone took part of it without an error', (t) => {
  const disk = smallDisk(64);
  if (typeof disk !== 'string') return t.skip(disk.skip);
  const big = Buffer.alloc(200 * 1024, 0x61);
  // What went wrong: one writeSync on a filling disk returns a short count and no error.
  const fd = openSync(join(disk, 'plain'), 'w');
  let n: number;
  try {
    n = writeSync(fd, big);
  } finally {
    closeSync(fd);
  }
  assert.ok(n > 0 && n < big.length, `a short write (${n} of ${big.length} bytes) is what the disk gives`);
  // The same write through writeAll: the short write is followed by the rest, which the full disk refuses.
  rmSync(join(disk, 'plain'));
  const fd2 = openSync(join(disk, 'all'), 'w');
  try {
    assert.throws(() => writeAll(fd2, big), (e: NodeJS.ErrnoException) => e.code === 'ENOSPC');
  } finally {
    closeSync(fd2);
  }
  assert.ok(statSync(join(disk, 'all')).size > 0, 'it wrote what fitted before it failed');
});

test('run --trace on a disk that fills up: exit 3 naming the trace, the folder it made taken away, an old trace and run record kept byte for byte', (t) => {
  const disk = smallDisk(1024);
  if (typeof disk !== 'string') return t.skip(disk.skip);
  // The cold-start trace (~600 KB) fits on the 1 MiB disk once; a second run's cannot fit beside it.
  const out = join(disk, 'out');
  const first = cli('run', COLD.slice, '--ranker', COLD.ranker, '--trace', out);
  assert.equal(first.status, EXIT.OK, first.stderr);
  const before = { trace: sha(join(out, 'trace.jsonl')), record: sha(join(out, 'run.json')) };
  const second = cli('run', COLD.slice, '--ranker', 'popularity', '--trace', out);
  assert.equal(second.status, EXIT.INPUT, second.stderr);
  assert.match(second.stderr, /cannot write the trace .*trace\.jsonl: the disk is full/);
  assert.match(second.stderr, /Free space on that disk, or write the trace to a folder on another one/);
  assert.doesNotMatch(second.stderr, /run record|\n\s+at /, 'the trace is named, not the run record; no stack');
  assert.deepEqual(readdirSync(out).sort(), ['run.json', 'trace.jsonl'], 'no temp file left');
  assert.deepEqual({ trace: sha(join(out, 'trace.jsonl')), record: sha(join(out, 'run.json')) }, before, 'the old pair as it was');
  // A folder the run made itself goes with the failure.
  const fresh = join(disk, 'fresh', 'deeper');
  const third = cli('run', COLD.slice, '--ranker', 'popularity', '--trace', fresh);
  assert.equal(third.status, EXIT.INPUT, third.stderr);
  assert.deepEqual(readdirSync(disk).sort(), ['out'], 'the folders the run made are gone');
});

test('freezing onto a disk that fills up: an error naming the slice and what to do, no temp folder, an old slice kept', (t) => {
  const disk = smallDisk(384);
  if (typeof disk !== 'string') return t.skip(disk.skip);
  const dir = join(disk, 'x.slice');
  const small = fixture(20);
  writeSlice(dir, { manifest: BASE_MANIFEST, ...small }, { frozenAt: '2025-01-02T00:00:00Z' });
  const kept = Object.fromEntries(readdirSync(dir).map((f) => [f, sha(join(dir, f))]));
  const big = fixture(4000, { cands: 8 });
  assert.ok(JSON.stringify(big.events).length > 400 * 1024, 'the events cannot fit');
  for (const overwrite of [true, false]) {
    const target = overwrite ? dir : join(disk, 'y.slice');
    assert.throws(
      () => writeSlice(target, { manifest: BASE_MANIFEST, ...big }, { frozenAt: '2025-01-02T00:00:00Z', overwrite }),
      (e: unknown) => e instanceof UserError && /^cannot write the slice .*\.slice: the disk is full$/.test(e.message) && /^Free space on that disk, or freeze to a folder on another one; nothing was written there\.$/.test(e.hint ?? ''),
    );
  }
  assert.deepEqual(readdirSync(disk).sort(), ['x.slice'], 'no temp folder, no half slice');
  assert.deepEqual(Object.fromEntries(readdirSync(dir).map((f) => [f, sha(join(dir, f))])), kept, 'the old slice as it was');
});

test('a freeze whose new slice is in place but whose old one cannot be removed succeeds, and says where the old one is left', (t) => {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return t.skip('mounting a tmpfs needs root on Linux');
  const base = tmp();
  const dir = join(base, 'busy.slice');
  const small = fixture(5);
  writeSlice(dir, { manifest: BASE_MANIFEST, ...small, artifacts: { 'm/x.json': '{}' } }, { frozenAt: '2025-01-02T00:00:00Z' });
  // A mount point inside the old slice: its folder cannot be removed (EBUSY), whoever asks.
  const busy = join(dir, 'artifacts', 'm');
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', busy], { encoding: 'utf8' });
  if (r.status !== 0) return t.skip(`cannot mount a tmpfs here: ${(r.stderr || '').trim()}`);
  try {
    const res = writeSlice(dir, { manifest: BASE_MANIFEST, ...fixture(8) }, { frozenAt: '2025-01-02T00:00:00Z', overwrite: true });
    const w = res.warnings.find((x) => /could not be removed from/.test(x));
    assert.ok(w, `a warning: ${res.warnings.join(' | ')}`);
    const moved = /removed from (\S+) \(/.exec(w)?.[1];
    assert.ok(moved && existsSync(moved), 'the old slice left where the warning says');
    assert.equal(Slice.open(dir).eventCount, 8, 'the new slice is in place and opens');
    // What is left keeps its mark, saying a finished freeze replaced it (it was emptied around the mark).
    assert.equal(JSON.parse(readFileSync(join(moved, '.recreplay-freeze'), 'utf8')).replaced, true);
    assert.ok(!existsSync(join(moved, 'slice.json')), 'the rest of it went');
    // The next freeze to that path says what it is (it was taken for the old slice of a freeze that
    // died while replacing it, to be moved back), and leaves it while it cannot be removed…
    const next = writeSlice(dir, { manifest: BASE_MANIFEST, ...fixture(6) }, { frozenAt: '2025-01-02T00:00:00Z', overwrite: true });
    const said = next.warnings.filter((x) => x.includes(moved));
    assert.equal(said.length, 1, next.warnings.join(' | '));
    assert.match(said[0] as string, /holds what is left of the old slice that a finished freeze replaced at .*busy\.slice; it still cannot be removed \(EBUSY\): remove it by hand/);
    assert.doesNotMatch(next.warnings.join(' | '), /interrupted freeze|died while replacing|move it back/);
    // …and once it can be, removes it without a word.
    for (const line of readFileSync('/proc/mounts', 'utf8').split('\n')) {
      const at = line.split(' ')[1];
      if (at?.startsWith(base)) spawnSync('umount', [at]);
    }
    const last = writeSlice(dir, { manifest: BASE_MANIFEST, ...fixture(7) }, { frozenAt: '2025-01-02T00:00:00Z', overwrite: true });
    assert.deepEqual(last.warnings.filter((x) => x.includes(moved)), []);
    assert.ok(!existsSync(moved), 'removed');
    assert.deepEqual(readdirSync(base), ['busy.slice']);
  } finally {
    // Wherever the mount went with its folder (moved aside, or not), it is taken away.
    for (const line of readFileSync('/proc/mounts', 'utf8').split('\n')) {
      const at = line.split(' ')[1];
      if (at?.startsWith(base)) spawnSync('umount', [at]);
    }
  }
});

test('run --trace on a read-only file system: exit 3 before the replay, saying the file system is read-only (it said only "EROFS"), the old trace kept', (t) => {
  const disk = smallDisk(1024);
  if (typeof disk !== 'string') return t.skip(disk.skip);
  const out = join(disk, 'out');
  assert.equal(cli('run', COLD.slice, '--trace', out).status, EXIT.OK);
  const before = { trace: sha(join(out, 'trace.jsonl')), record: sha(join(out, 'run.json')) };
  const ro = spawnSync('mount', ['-o', 'remount,ro', disk], { encoding: 'utf8' });
  if (ro.status !== 0) return t.skip(`cannot remount the tmpfs read-only: ${ro.stderr.trim()}`);
  try {
    for (const [target, said] of [
      [out, /cannot write the trace in .*out: the file system is read-only \(EROFS\)\n {2}Choose a --trace folder you can write to\./],
      [join(out, 'new'), /cannot create the trace folder .*new: the file system is read-only \(EROFS\)\n {2}Choose a folder you can write to\./],
    ] as const) {
      const r = cli('run', COLD.slice, '--ranker', 'popularity', '--trace', target);
      assert.equal(r.status, EXIT.INPUT, r.stderr);
      assert.match(r.stderr, said);
      assert.doesNotMatch(r.stderr, /replayed|\n\s+at /, 'refused before the replay, with no stack');
    }
  } finally {
    spawnSync('mount', ['-o', 'remount,rw', disk]);
  }
  assert.deepEqual({ trace: sha(join(out, 'trace.jsonl')), record: sha(join(out, 'run.json')) }, before);
  assert.deepEqual(readdirSync(out).sort(), ['run.json', 'trace.jsonl']);
});
