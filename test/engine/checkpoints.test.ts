import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { CheckpointStore, packCheckpoint, sweepStaleSpills, unpackCheckpoint, spillParentName } from '../../src/core/engine/checkpoints';
import { spawnSync } from 'node:child_process';
import { tmp } from '../helpers';

const bytesOf = (v: unknown) => {
  const { header, arrays } = packCheckpoint(v);
  return Buffer.concat([header, ...arrays.map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength))]);
};

test('property: a packed checkpoint unpacks to the same value — typed arrays, ±Infinity, NaN and -0 included', () => {
  const num = fc.oneof(fc.double(), fc.constantFrom(-0, Infinity, -Infinity, Number.NaN), fc.integer());
  const typed = fc.oneof(
    fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })).map((a) => Int32Array.from(a)),
    fc.array(fc.double()).map((a) => Float64Array.from(a)),
    fc.uint8Array(),
  );
  const value = fc.letrec((tie) => ({
    node: fc.oneof({ depthSize: 'small' }, num, fc.string(), fc.boolean(), fc.constant(null), typed, fc.array(tie('node'), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 4 }), tie('node'), { maxKeys: 3 }).map((d) => Object.fromEntries(Object.entries(d)))),
  })).node;
  fc.assert(
    fc.property(value, (v) => {
      const back = unpackCheckpoint(bytesOf(v));
      // deepStrictEqual tells -0 from 0, NaN equals NaN, and typed arrays must match in type and contents.
      assert.deepStrictEqual(back, v);
    }),
    { numRuns: 500 },
  );
});

test('typed arrays given as views of larger arrays are written as just the view, and later changes to the live array do not reach a checkpoint', () => {
  const live = new Int32Array([1, 2, 3, 4, 5, 6]);
  const store = new CheckpointStore(tmp());
  store.put(1, { cols: live.subarray(0, 3), t: -Infinity });
  live[0] = 99;
  const got = store.nearest(5);
  assert.equal(got?.n, 1);
  assert.deepStrictEqual(got?.data, { cols: new Int32Array([1, 2, 3]), t: -Infinity });
  store.dispose();
});

test('nearest() finds the latest checkpoint at or before n; dispose removes the spill folder', () => {
  const root = tmp();
  const store = new CheckpointStore(root);
  for (const n of [1, 501, 1001, 1501]) store.put(n, { n, a: Float64Array.of(n, n / 3) });
  store.put(501, { n: -1 });
  assert.equal(store.size, 4);
  assert.equal(store.nearest(0), undefined);
  assert.deepStrictEqual(store.nearest(1000)?.data, { n: 501, a: Float64Array.of(501, 501 / 3) });
  assert.equal(store.nearest(1501)?.n, 1501);
  assert.equal(store.nearest(10 ** 9)?.n, 1501);
  assert.equal(readdirSync(root).length, 1);
  store.dispose();
  assert.equal(readdirSync(root).length, 0);
});

test('a spill folder that cannot be written keeps checkpoints in memory instead of failing the replay', { skip: process.getuid?.() === 0 ? 'root can write anywhere' : false }, () => {
  const root = join(tmp(), 'ro');
  mkdirSync(root);
  chmodSync(root, 0o500);
  const store = new CheckpointStore(root);
  store.put(1, { a: Int32Array.of(7) });
  assert.deepStrictEqual(store.nearest(3)?.data, { a: Int32Array.of(7) });
  assert.deepEqual(readdirSync(root), [], 'no spill folder was made');
  store.dispose();
});

test('a spill root that is a file (unwritable for root too) keeps checkpoints in memory', () => {
  const file = join(tmp(), 'a-file');
  writeFileSync(file, 'x');
  const store = new CheckpointStore(file);
  store.put(1, { a: Int32Array.of(7) });
  store.put(11, { a: Int32Array.of(8) });
  assert.deepStrictEqual(store.nearest(10)?.data, { a: Int32Array.of(7) });
  assert.deepStrictEqual(store.nearest(12)?.data, { a: Int32Array.of(8) });
  store.dispose();
  assert.equal(readFileSync(file, 'utf8'), 'x');
});

test('a missing spill root keeps checkpoints in memory instead of failing the replay', () => {
  const store = new CheckpointStore(join(tmp(), 'does', 'not', 'exist'));
  store.put(1, { a: Int32Array.of(7), b: [1, 2] });
  store.put(11, { a: Int32Array.of(8), b: [3] });
  assert.deepStrictEqual(store.nearest(10)?.data, { a: Int32Array.of(7), b: [1, 2] });
  assert.deepStrictEqual(store.nearest(11)?.data, { a: Int32Array.of(8), b: [3] });
  store.dispose();
});

test('spill folders of processes that no longer run are swept when a store starts spilling; a live process\'s stay', () => {
  const root = tmp();
  const parent = join(root, spillParentName());
  // This user's own private spill parent (see spillParent).
  mkdirSync(parent, { mode: 0o700 });
  // A pid that ran and has exited.
  const dead = spawnSync(process.execPath, ['-e', '0']).pid as number;
  mkdirSync(join(parent, `${dead}-abc123`));
  writeFileSync(join(parent, `${dead}-abc123`, 'checkpoints.bin'), 'x');
  mkdirSync(join(parent, `${process.ppid}-def456`));
  mkdirSync(join(parent, 'unrelated'));
  const store = new CheckpointStore(root);
  store.put(1, { n: 1 });
  const names = readdirSync(parent).sort();
  assert.ok(!names.includes(`${dead}-abc123`), 'the dead process\'s folder is gone');
  assert.ok(names.includes(`${process.ppid}-def456`), 'a live process\'s folder stays');
  assert.ok(names.includes('unrelated'));
  assert.ok(names.some((n) => n.startsWith(`${process.pid}-`)), 'this store\'s folder is named by its pid');
  store.dispose();
  assert.equal(sweepStaleSpills(join(root, 'missing')), 0, 'a missing root is no error');
});

test('a process that exits without disposing its store leaves no spill folder', () => {
  const root = tmp();
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', `const { CheckpointStore } = require(${JSON.stringify(join(__dirname, '../../src/core/engine/checkpoints'))}); const s = new CheckpointStore(${JSON.stringify(root)}); s.put(1, { n: 1 }); s.put(2, { a: new Float64Array(8) }); process.exit(3);`], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 3, r.stderr);
  assert.deepEqual(readdirSync(root), []);
});

test('the spill parent is this user\'s own and private: one another user made (or left open to others) is not used', { skip: process.getuid === undefined }, () => {
  const root = tmp();
  const shared = join(root, spillParentName());
  // Made first by someone else, open to all (as another user's would be to this one).
  mkdirSync(shared, { mode: 0o777 });
  chmodSync(shared, 0o777);
  const store = new CheckpointStore(root);
  try {
    store.put(1, { state: { a: new Int32Array([1, 2, 3]) } });
    assert.deepEqual(readdirSync(shared), [], 'nothing was put in the open folder');
    const own = readdirSync(root).filter((n) => n !== spillParentName());
    assert.equal(own.length, 1, own.join(', '));
    assert.equal(statSync(join(root, own[0] as string)).mode & 0o077, 0, 'the folder used is private');
  } finally {
    store.dispose();
  }
  // Its own private parent is made 0700 and used.
  const root2 = tmp();
  const store2 = new CheckpointStore(root2);
  try {
    store2.put(1, { state: { a: new Int32Array([1]) } });
    assert.equal(statSync(join(root2, spillParentName())).mode & 0o777, 0o700);
    assert.equal(readdirSync(join(root2, spillParentName())).length, 1);
  } finally {
    store2.dispose();
  }
});

test('private parents of runs that fell back (the shared one was planted) are swept of what killed runs left', { skip: process.getuid === undefined }, () => {
  const root = tmp();
  mkdirSync(join(root, spillParentName()), { mode: 0o777 });
  chmodSync(join(root, spillParentName()), 0o777);
  // A fallback parent of an earlier run, holding a killed run's spill folder.
  const earlier = join(root, `${spillParentName()}-abc123`);
  mkdirSync(earlier, { mode: 0o700 });
  const dead = spawnSync(process.execPath, ['-e', '0']).pid as number;
  mkdirSync(join(earlier, `${dead}-xyz`));
  writeFileSync(join(earlier, `${dead}-xyz`, 'checkpoints.bin'), 'x'.repeat(1000));
  const store = new CheckpointStore(root);
  try {
    store.put(1, { a: new Int32Array([1]) });
    assert.ok(!readdirSync(root).includes(`${spillParentName()}-abc123`), 'the earlier fallback parent and the dead run\'s spill are gone');
  } finally {
    store.dispose();
  }
});
