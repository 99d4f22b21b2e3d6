import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadRanker, loadRankerAsync } from '../../src/core/rankers';
import { MAX_ARTIFACT_BYTES } from '../../src/core/rankers/artifacts';
import { UserError } from '../../src/core/errors';
import { Slice } from '../../src/core/slice/reader';
import { caught, makeSlice, tmp } from '../helpers';

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
