import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs, { cpSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { Slice } from '../../src/core/slice/reader';
import { UserError } from '../../src/core/errors';
import { MACHINE } from '../../src/core/dirs';
import { OWNER_FILE } from '../../src/core/slice/deadFreezes';
import { BASE_MANIFEST, fixture, makeSlice, tmp } from '../helpers';
import { writeSlice } from '../../src/core/slice/writer';

test('a slice whose freeze was interrupted after it moved the old slice aside: opening the empty path says where the slice is and what to do; while that freeze runs, it says to wait', () => {
  const parent = tmp();
  const dir = join(parent, 'home.slice');
  const aside = join(parent, 'home.slice.tmp-ab12-old');
  cpSync(makeSlice(10), aside, { recursive: true });
  for (const [pid, live] of [[999_999_999, false], [process.ppid, true]] as const) {
    writeFileSync(join(aside, OWNER_FILE), JSON.stringify({ host: MACHINE, uid: process.getuid?.() ?? -1, pid, target: 'home.slice' }));
    for (const present of [false, true]) {
      // Nothing at the path, or the empty folder a freeze makes before its rename.
      if (present) mkdirSync(dir);
      assert.throws(
        () => Slice.open(dir),
        (e: unknown) =>
          e instanceof UserError &&
          e.code === 'E_NOT_A_SLICE' &&
          e.message.includes(aside) &&
          (live ? /a freeze to this path \(process \d+\) is replacing the slice/.test(e.message) && /again when that freeze has ended/.test(e.hint ?? '') : /was interrupted after it moved the slice that was here/.test(e.message) && /Freeze to this path again/.test(e.hint ?? '')),
        `live=${live} present=${present}`,
      );
      rmSync(dir, { recursive: true, force: true });
    }
  }
  // Another machine's (or user's) freeze: its pid says nothing here, whatever runs under that number.
  writeFileSync(join(aside, OWNER_FILE), JSON.stringify({ host: 'another-machine', uid: process.getuid?.() ?? -1, pid: process.ppid, target: 'home.slice' }));
  assert.throws(() => Slice.open(dir), (e: unknown) => e instanceof UserError && /moved aside by a freeze to this path \(still running, or interrupted\)/.test(e.message) && !/process \d+/.test(e.message));
  // Without such a folder beside it, the plain message.
  rmSync(aside, { recursive: true });
  assert.throws(() => Slice.open(dir), (e: unknown) => e instanceof UserError && /^no slice\.json in .*: the folder does not exist$/.test(e.message));
});

test('verify and open while another process overwrites the slice again and again: the old slice or the new one, or "replaced while it was being read" — never an intact slice called modified', { skip: process.platform === 'win32' }, async () => {
  const parent = tmp();
  const dir = join(parent, 'busy.slice');
  // Two versions of one slice, written in turn at one path by another thread.
  const versions = [makeSlice(400, { seed: 1, chunkSize: 4096 }), makeSlice(400, { seed: 2, chunkSize: 4096 })];
  cpSync(versions[0] as string, dir, { recursive: true });
  const writer = new Worker(
    `const { cpSync, renameSync, rmSync } = require('node:fs');
     const [dir, a, b] = ${JSON.stringify([dir, ...versions])};
     for (let i = 0; ; i++) {
       const tmp = dir + '.tmp-' + i; const old = tmp + '-old';
       cpSync(i % 2 ? a : b, tmp, { recursive: true });
       renameSync(dir, old); renameSync(tmp, dir); rmSync(old, { recursive: true, force: true });
     }`,
    { eval: true },
  );
  const seen: Record<string, number> = {};
  try {
    const until = Date.now() + 2000;
    while (Date.now() < until) {
      for (const what of ['verify', 'open'] as const) {
        let key: string;
        try {
          if (what === 'verify') {
            const r = Slice.verifyFolder(dir);
            key = r.ok ? 'intact' : `MODIFIED ${JSON.stringify(r.reasons)}`;
          } else {
            Slice.open(dir).close();
            key = 'opened';
          }
        } catch (e) {
          if (!(e instanceof UserError)) throw e;
          key = e.code ?? 'user error';
          if (e.code === 'E_MODIFIED' || /was modified/.test(e.message)) key = `MODIFIED ${e.message}`;
        }
        seen[`${what} ${key}`] = (seen[`${what} ${key}`] ?? 0) + 1;
      }
    }
  } finally {
    await writer.terminate();
  }
  assert.ok(!Object.keys(seen).some((k) => k.includes("MODIFIED")), JSON.stringify(seen));
  assert.ok((seen['verify intact'] ?? 0) + (seen['open opened'] ?? 0) > 0, JSON.stringify(seen));
});

test('a slice replaced just before its events.jsonl is opened, by one whose events.jsonl has the same size, is said as changed while read, not opened to be called modified later', { skip: process.platform === 'win32' }, () => {
  const parent = tmp();
  const dir = join(parent, 'same.slice');
  cpSync(makeSlice(40, { seed: 1 }), dir, { recursive: true });
  // The same slice with one digit of one feature changed: the same sizes, another manifest.
  const other = join(parent, 'other.slice');
  const f = fixture(40, { seed: 1 });
  // A value of three decimals whose last digit moves up by one: the same number of characters.
  const feats = f.events.flatMap((e) => e.candidates.map((c) => c.features as Record<string, number>)).find((x) => /^0\.\d\d[1-8]$/.test(String(x['ctr']))) as Record<string, number>;
  feats['ctr'] = Math.round((feats['ctr'] as number) * 1000 + 1) / 1000;
  writeSlice(other, { manifest: BASE_MANIFEST, ...f }, { frozenAt: '2025-01-02T00:00:00.000Z' });

  const open = fs.openSync;
  let swapped = false;
  fs.openSync = ((p: import('node:fs').PathLike, ...rest: unknown[]) => {
    if (!swapped && String(p).endsWith(join('same.slice', 'events.jsonl'))) {
      swapped = true;
      fs.renameSync(dir, join(parent, 'same.slice.tmp-x-old'));
      fs.renameSync(other, dir);
    }
    return (open as (...a: unknown[]) => number)(p, ...rest);
  }) as typeof fs.openSync;
  try {
    assert.throws(() => Slice.open(dir), (e: unknown) => e instanceof UserError && e.code === 'E_REPLACED');
  } finally {
    fs.openSync = open;
  }
  assert.ok(swapped);
  assert.equal(statSync(join(dir, 'events.jsonl')).size, statSync(join(parent, 'same.slice.tmp-x-old', 'events.jsonl')).size, 'the same size');
});
