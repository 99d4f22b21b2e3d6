import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../src/core/errors';
import { Slice } from '../../src/core/slice/reader';
import { writeSlice, type SliceInput } from '../../src/core/slice/writer';
import type { EventRecord } from '../../src/core/slice/types';
import { BASE_MANIFEST, fixture, tmp } from '../helpers';

const AT = { frozenAt: '2025-01-02T00:00:00.000Z' };
const nameOf = (dir: string) => (JSON.parse(readFileSync(join(dir, 'slice.json'), 'utf8')) as { name: string }).name;

/** The fixture's events, calling `meanwhile` once halfway through (while the writer streams them). */
function input(name: string, meanwhile: () => void = () => {}): SliceInput {
  const f = fixture(6);
  function* events(): Generator<EventRecord> {
    for (const [i, e] of f.events.entries()) {
      if (i === 3) meanwhile();
      yield e;
    }
  }
  return { manifest: { ...BASE_MANIFEST, name }, ...f, events: events() };
}

const exists = (dir: string, message: RegExp) => (e: unknown) => e instanceof UserError && e.code === 'E_EXISTS' && e.where.file === dir && message.test(e.message);

test('a folder made at the target while the slice is written is neither deleted nor replaced: E_EXISTS, and nothing of the freeze is left', () => {
  const base = tmp();
  const dir = join(base, 'x.slice');
  const mine = () => {
    mkdirSync(dir);
    writeFileSync(join(dir, 'notes.txt'), 'mine');
  };
  assert.throws(() => writeSlice(dir, input('new', mine), AT), exists(dir, /x\.slice appeared while the slice was being written/));
  assert.equal(readFileSync(join(dir, 'notes.txt'), 'utf8'), 'mine');
  assert.deepEqual(readdirSync(base), ['x.slice']);
  // With overwrite, only what the start would have allowed is replaced: not a folder of something else.
  const other = join(base, 'y.slice');
  assert.throws(() => writeSlice(other, input('new', () => (mkdirSync(other), writeFileSync(join(other, 'notes.txt'), 'mine'))), { ...AT, overwrite: true }), exists(other, /is not a slice folder \(it changed while the slice was being written\)/));
  assert.equal(readFileSync(join(other, 'notes.txt'), 'utf8'), 'mine');
  assert.deepEqual(readdirSync(base).sort(), ['x.slice', 'y.slice']);
});

test('even an empty folder made at the target meanwhile is refused without overwrite (the final rename cannot replace it)', () => {
  const base = tmp();
  const dir = join(base, 'x.slice');
  assert.throws(() => writeSlice(dir, input('new', () => mkdirSync(dir)), AT), exists(dir, /appeared while the slice was being written/));
  assert.deepEqual(readdirSync(dir), []);
  assert.deepEqual(readdirSync(base), ['x.slice']);
});

test('two freezes to one path at once: without overwrite the second to finish fails and the first slice stays; with overwrite the last one wins', () => {
  const base = tmp();
  const dir = join(base, 'x.slice');
  // B runs from start to end while A streams its events.
  assert.throws(() => writeSlice(dir, input('A', () => writeSlice(dir, input('B'), AT)), AT), exists(dir, /appeared while the slice was being written/));
  assert.equal(nameOf(dir), 'B');
  assert.equal(Slice.verifyFolder(dir).ok, true);
  assert.deepEqual(readdirSync(base), ['x.slice']);
  // With overwrite a slice is what the start would have allowed to be replaced.
  writeSlice(dir, input('C', () => writeSlice(dir, input('D'), { ...AT, overwrite: true })), { ...AT, overwrite: true });
  assert.equal(nameOf(dir), 'C');
  assert.equal(Slice.verifyFolder(dir).ok, true);
  assert.deepEqual(readdirSync(base), ['x.slice']);
});

test('overwrite still refuses what became a folder of something else while the slice was written, and leaves it as it is', () => {
  const base = tmp();
  const dir = join(base, 'x.slice');
  writeSlice(dir, input('old'), AT);
  const addNotes = () => writeFileSync(join(dir, 'my-notes.txt'), 'keep');
  assert.throws(() => writeSlice(dir, input('new', addNotes), { ...AT, overwrite: true }), exists(dir, /is a slice folder, but it also holds my-notes\.txt, which its manifest does not list \(it changed while the slice was being written\)/));
  assert.equal(nameOf(dir), 'old');
  assert.equal(readFileSync(join(dir, 'my-notes.txt'), 'utf8'), 'keep');
  assert.deepEqual(readdirSync(base), ['x.slice']);
});
