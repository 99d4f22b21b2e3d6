import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../src/core/errors';
import { Slice } from '../../src/core/slice/reader';
import { writeSlice } from '../../src/core/slice/writer';
import { tmp } from '../helpers';

const one = (name: string) => ({ manifest: { name, description: 'd', source: { kind: 'synthetic' as const, generator: 'test' }, seed: 1 }, events: [{ id: 'e1', t: '2025-07-21T09:00:00Z', user: 'u1', candidates: [{ item: 'a' }], served: ['a'] }], items: [{ id: 'a' }] });
const AT = { frozenAt: '2025-08-01T00:00:00Z' };
const nameOf = (dir: string) => (JSON.parse(readFileSync(join(dir, 'slice.json'), 'utf8')) as { name: string }).name;

/** A slice named "old" at base/x.slice, then an overwrite with "new" killed (kill -9) at `phase`. */
function crashed(phase: 'aside' | 'install' | 'done'): { base: string; dir: string } {
  const base = tmp();
  const dir = join(base, 'x.slice');
  writeSlice(dir, one('old'), AT);
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(__dirname, 'crashChild.ts'), dir, 'new', phase], { encoding: 'utf8' });
  assert.equal(r.signal, 'SIGKILL', `the freeze was killed at ${phase}: ${r.stdout}${r.stderr}`);
  return { base, dir };
}

for (const phase of ['aside', 'install'] as const) {
  test(`a freeze killed while replacing a slice (${phase === 'aside' ? 'after moving the old one aside' : 'just before renaming the new one in'}): the next freeze puts the old slice back and says so`, () => {
    const { base, dir } = crashed(phase);
    assert.ok(readdirSync(base).some((n) => n.endsWith('-old')), 'the old slice waits aside');
    assert.throws(
      () => writeSlice(dir, one('next'), AT),
      (e: unknown) => e instanceof UserError && e.code === 'E_EXISTS' && /already exists \(.*x\.slice was put back from .*x\.slice\.tmp-[0-9a-f]+-old, where a freeze \(process \d+\) that died while replacing it had moved it\)/.test(e.message),
    );
    assert.equal(nameOf(dir), 'old');
    assert.equal(Slice.verifyFolder(dir).ok, true);
    assert.deepEqual(readdirSync(base), ['x.slice'], 'the dead freeze\'s new slice and its mark are gone');
  });
}

test('a freeze killed after its new slice was in place: the next freeze removes the old one it had moved aside', () => {
  const { base, dir } = crashed('done');
  assert.equal(nameOf(dir), 'new');
  assert.equal(readdirSync(base).length, 2);
  const { warnings } = writeSlice(dir, one('next'), { ...AT, overwrite: true });
  assert.deepEqual(warnings, []);
  assert.equal(nameOf(dir), 'next');
  assert.deepEqual(readdirSync(base), ['x.slice']);
});

test('an old slice a dead freeze moved aside is never removed while its path holds something else: each freeze to that path reports it', () => {
  const { base, dir } = crashed('aside');
  const aside = join(base, readdirSync(base).find((n) => n.endsWith('-old')) as string);
  const reported = /x\.slice\.tmp-[0-9a-f]+-old holds the slice that was at .*x\.slice before a freeze \(process \d+\) that died while replacing it; .*x\.slice now holds something else, so it was left where it is/;
  // A folder of the user's at the path: refused as before, with the old slice named.
  mkdirSync(dir);
  writeFileSync(join(dir, 'notes.txt'), 'mine');
  assert.throws(() => writeSlice(dir, one('next'), AT), (e: unknown) => e instanceof UserError && e.code === 'E_EXISTS' && reported.test(e.message));
  assert.equal(readFileSync(join(dir, 'notes.txt'), 'utf8'), 'mine');
  assert.equal(nameOf(aside), 'old');
  // Another slice at the path, replaced: the freeze succeeds and warns, the old slice stays.
  rmSync(dir, { recursive: true });
  const elsewhere = join(tmp(), 'other.slice');
  writeSlice(elsewhere, one('other'), AT);
  renameSync(elsewhere, dir);
  const { warnings } = writeSlice(dir, one('next'), { ...AT, overwrite: true });
  assert.equal(warnings.length, 1);
  assert.match(warnings[0] as string, reported);
  assert.equal(nameOf(dir), 'next');
  assert.equal(nameOf(aside), 'old');
});
