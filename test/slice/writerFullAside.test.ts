// An overwrite moves the old slice aside and marks it before the new one goes in. On a disk with no
// room left, that mark (a few bytes) cannot be written: the old slice must go back to its path, and
// the error say nothing was written there — it stayed aside, unmarked, with its path empty.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { UserError } from '../../src/core/errors';
import { Slice } from '../../src/core/slice/reader';
import { writeSlice } from '../../src/core/slice/writer';
import { OWNER_FILE } from '../../src/core/slice/deadFreezes';
import { tmp } from '../helpers';

// The object the core's `import { writeFileSync } from 'node:fs'` reads its functions from at each call.
const fs = createRequire(__filename)('node:fs') as typeof import('node:fs');

const one = (name: string) => ({ manifest: { name, description: 'd', source: { kind: 'synthetic' as const, generator: 'test' }, seed: 1 }, events: [{ id: 'e1', t: '2025-07-21T09:00:00Z', user: 'u1', candidates: [{ item: 'a' }], served: ['a'] }], items: [{ id: 'a' }] });
const full = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });

for (const mkdirToo of [false, true]) {
  test(`an overwrite whose mark on the old slice finds the disk full puts the old slice back${mkdirToo ? ', even where the disk has no room for a new folder either (ext4)' : ' (tmpfs)'}`, (t) => {
    const base = tmp();
    const dir = join(base, 'x.slice');
    const cacheDir = join(base, 'cache');
    writeSlice(dir, one('old'), { frozenAt: '2025-08-01T00:00:00Z', cacheDir });
    const { writeFileSync, mkdirSync } = fs;
    // As a full disk does: the mark's file is made (an inode), its bytes refused.
    t.mock.method(fs, 'writeFileSync', (p: unknown, ...rest: unknown[]) => {
      if (typeof p === 'string' && /-old\d*$/.test(join(p, '..')) && basename(p) === OWNER_FILE) {
        writeFileSync(p, '');
        throw full();
      }
      return (writeFileSync as (...a: unknown[]) => void)(p, ...rest);
    });
    // On ext4 a new folder takes a block: the mkdir that would put the old slice back is refused too.
    t.mock.method(fs, 'mkdirSync', (p: unknown, ...rest: unknown[]) => {
      if (mkdirToo && p === dir) throw full();
      return (mkdirSync as (...a: unknown[]) => unknown)(p, ...rest);
    });
    assert.throws(
      () => writeSlice(dir, one('new'), { frozenAt: '2025-08-01T00:00:00Z', cacheDir, overwrite: true }),
      (e: unknown) => e instanceof UserError && /^cannot write the slice .*x\.slice: the disk is full$/.test(e.message) && /nothing was written there/.test(e.hint ?? ''),
    );
    t.mock.restoreAll();
    assert.deepEqual(readdirSync(base).filter((n) => n !== 'cache'), ['x.slice'], 'the old slice at its path, nothing aside, no temp folder');
    assert.equal((JSON.parse(readFileSync(join(dir, 'slice.json'), 'utf8')) as { name: string }).name, 'old');
    assert.equal(Slice.verifyFolder(dir).ok, true, 'intact');
    assert.ok(!readdirSync(dir).includes(OWNER_FILE), 'no mark left in it');
  });
}
