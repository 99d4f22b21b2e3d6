import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Slice } from '../../src/core/slice/reader';
import { MAX_WHOLE_FILE, readWhole } from '../../src/core/slice/hashing';
import { UserError } from '../../src/core/errors';
import { eventLine, rawSlice } from '../helpers';

// A file the manifest lists, other than events.jsonl, is read whole when the slice opens: one over
// 2 GiB made readFileSync fail with ERR_FS_FILE_TOO_LARGE, an internal error (exit 70). Now a
// UserError names it. The 3 GiB files here are sparse (truncate writes nothing), and removed.

const GIB = 2 ** 30;

function tooLarge(e: unknown, file: string): boolean {
  assert.ok(e instanceof UserError, String(e));
  assert.equal(e.code, 'E_TOO_LARGE');
  assert.equal(e.where.file, file);
  assert.match(e.message, /is too large to read \(3\.0 GiB\): recreplay reads this file whole, which it can for files under 2 GiB/);
  assert.match(e.hint ?? '', /must be under 2 GiB/);
  return true;
}

test('readWhole refuses a file over 2 GiB with a UserError naming it, before reading it', () => {
  assert.equal(MAX_WHOLE_FILE, 2 ** 31 - 1);
  const dir = rawSlice('');
  const p = join(dir, 'big.bin');
  writeFileSync(p, '');
  try {
    truncateSync(p, 3 * GIB);
    assert.throws(() => readWhole(p), (e: unknown) => tooLarge(e, p));
  } finally {
    rmSync(p, { force: true });
  }
});

test('opening a slice whose artifacts/ file is 3 GiB gives a UserError naming the file', () => {
  const dir = rawSlice(`${eventLine('e1', '2025-01-01T00:00:00Z')}\n`, (m) => {
    m.files.push({ path: 'artifacts/model.bin', sha256: '0'.repeat(64), bytes: 3 * GIB });
  });
  const p = join(dir, 'artifacts', 'model.bin');
  mkdirSync(join(dir, 'artifacts'));
  writeFileSync(p, '');
  try {
    truncateSync(p, 3 * GIB);
    assert.throws(() => Slice.open(dir), (e: unknown) => tooLarge(e, p));
  } finally {
    rmSync(p, { force: true });
  }
});

test('slice.json over 2 GiB is refused naming it', () => {
  const dir = rawSlice(`${eventLine('e1', '2025-01-01T00:00:00Z')}\n`);
  const p = join(dir, 'slice.json');
  try {
    truncateSync(p, 3 * GIB);
    // Refused by its size before any read: a manifest holds 16 MiB at most.
    assert.throws(() => Slice.open(dir), (e: unknown) => e instanceof UserError && e.code === 'E_TOO_LARGE' && e.where.file === p && /^slice\.json is 3072\.0 MiB, more than a manifest holds \(16 MiB at most\)$/.test(e.message));
  } finally {
    rmSync(p, { force: true });
  }
});
