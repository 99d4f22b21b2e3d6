import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadRanker, loadRankerAsync } from '../../src/core/rankers';
import { MAX_ARTIFACT_BYTES } from '../../src/core/rankers/artifacts';
import { UserError } from '../../src/core/errors';
import { ChangedWhileOpenError, Slice } from '../../src/core/slice/reader';
import { writeSlice } from '../../src/core/slice/writer';
import { BASE_MANIFEST, caught, fixture, makeSlice, tmp } from '../helpers';

test('an artifact over the size limit is refused by its size before it is read (was: "not valid JSON: Cannot create a string longer than…")', () => {
  const slice = Slice.open(makeSlice(5));
  const path = join(tmp(), 'huge.json');
  writeFileSync(path, '{}');
  // Sparse: no disk is used and nothing is read.
  truncateSync(path, MAX_ARTIFACT_BYTES + 1);
  try {
    for (const kind of ['linear', 'embedding']) {
      assert.throws(
        () => loadRanker(`${kind}:${path}`, { slice, cwd: '/' }),
        (e: unknown) => e instanceof UserError && e.code === 'E_ARTIFACT' && e.message === `${kind} artifact is 256 MiB, over the 256 MiB an artifact may have` && e.where.file === path && !!e.hint,
      );
    }
  } finally {
    rmSync(path, { force: true });
    slice.close();
  }
});

test('an artifact saved with a UTF-8 byte-order mark is read (as slice.json is); its sha256 is of the bytes as they are', () => {
  const slice = Slice.open(makeSlice(5));
  const path = join(tmp(), 'bom.json');
  writeFileSync(path, '\uFEFF' + JSON.stringify({ weights: { ctr: 2 }, bias: 0.5 }));
  const r = loadRanker(`linear:${path}`, { slice, cwd: '/' });
  assert.equal(r.info.kind, 'linear');
  assert.match(r.info.artifactSha256 ?? '', /^[0-9a-f]{64}$/);
  slice.close();
});

test('an artifact that is not UTF-8 is refused with its line and column (two Latin-1 weight names had become one)', () => {
  const path = join(tmp(), 'latin1.json');
  // {"weights": {"caf\xE9": 1, "caf\xE8": 2}} in Latin-1.
  writeFileSync(path, Buffer.concat([Buffer.from('{"weights": {\n  "caf'), Buffer.from([0xe9]), Buffer.from('": 1, "caf'), Buffer.from([0xe8]), Buffer.from('": 2}}\n')]));
  assert.throws(
    () => loadRanker(`linear:${path}`),
    (e: unknown) => e instanceof UserError && e.where.file === path && e.where.line === 2 && e.where.column === 7 && /not valid UTF-8: byte 0xE9/.test(e.message),
  );
});

test('an empty artifact (0 bytes, or white space only) is said to be empty, with what to do (it read "not valid JSON: Unexpected end of JSON input" at 1:1)', async () => {
  for (const [text, said] of [['', '0 bytes'], ['\n  \n', '4 bytes, none of them JSON'], ['\ufeff', '3 bytes, none of them JSON']] as const) {
    const p = join(tmp(), 'model.json');
    writeFileSync(p, text);
    for (const kind of ['linear', 'embedding']) {
      const e = caught(() => loadRanker(`${kind}:${p}`));
      assert.equal(e.message, `${kind} artifact is empty (${said})`);
      assert.equal(e.where.file, p);
      assert.match(e.hint ?? '', /Write the artifact again/);
    }
    // The editor's loader (a thread of its own) says the same.
    await assert.rejects(loadRankerAsync(`embedding:${p}`), (e: unknown) => e instanceof UserError && e.message === `embedding artifact is empty (${said})`);
  }
});

test('a ranker artifact of the slice\'s own (artifacts/) that changed after the slice checked it is refused: the run record said the slice was intact while the ranker read other weights', async () => {
  const dir = join(tmp(), 'art.slice');
  const f = fixture(5);
  const model = JSON.stringify({ weights: { ctr: 1 }, bias: 0 });
  writeSlice(dir, { manifest: BASE_MANIFEST, ...f, artifacts: { 'model.json': model, 'vec.json': JSON.stringify({ dim: 1, users: { u1: [1] } }) } }, { frozenAt: '2025-01-02T00:00:00.000Z' });
  const linear = `linear:${join(dir, 'artifacts/model.json')}`;
  const embedding = `embedding:${join(dir, 'artifacts/vec.json')}`;
  const slice = Slice.open(dir);
  try {
    // As frozen: loaded, with the manifest's sha256.
    assert.equal(loadRanker(linear, { slice }).info.artifactSha256, slice.manifest.files.find((x) => x.path === 'artifacts/model.json')?.sha256);
    assert.equal(loadRanker(embedding, { slice }).info.kind, 'embedding');
    // Changed after the slice was opened and checked.
    chmodSync(join(dir, 'artifacts/model.json'), 0o644);
    writeFileSync(join(dir, 'artifacts/model.json'), JSON.stringify({ weights: { ctr: -1 }, bias: 0 }));
    chmodSync(join(dir, 'artifacts/vec.json'), 0o644);
    writeFileSync(join(dir, 'artifacts/vec.json'), JSON.stringify({ dim: 1, users: { u1: [-1] } }));
    const e = caught(() => loadRanker(linear, { slice }));
    assert.ok(e instanceof ChangedWhileOpenError);
    assert.deepEqual(e.modified, ['artifacts/model.json']);
    assert.match(e.message, /^artifacts\/model\.json changed since it was opened/);
    assert.throws(() => loadRanker(embedding, { slice }), ChangedWhileOpenError);
    await assert.rejects(loadRankerAsync(embedding, { slice }), ChangedWhileOpenError);
    // Without the slice (or outside it) there is nothing to hold it to.
    assert.equal(loadRanker(linear).info.kind, 'linear');
  } finally {
    slice.close();
  }
  // A forced replay of the slice found modified at open reads the changed file, and says so already.
  const forced = Slice.open(dir, { force: true });
  try {
    assert.ok(forced.modified.has('artifacts/model.json'));
    assert.equal(loadRanker(linear, { slice: forced }).info.kind, 'linear');
  } finally {
    forced.close();
  }
});
