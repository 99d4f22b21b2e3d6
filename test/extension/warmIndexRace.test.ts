import './setup';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Slice } from '../../src/core/slice/reader';
import { warmIndex } from '../../src/extension/slices/sliceStore';
import { makeSlice, tmp } from '../helpers';

test('a file saved by another process while the editor indexes it gets no index of bytes from two states (forced opens of it were refused for good)', async () => {
  process.env['RECREPLAY_CACHE_DIR'] = tmp();
  const dir = makeSlice(300);
  const events = join(dir, 'events.jsonl');
  const lines = readFileSync(events, 'utf8').split('\n');
  // Modified (so the warm-up indexes it under the file's own key)…
  lines[4] = (lines[4] as string).replace('"user":"u', '"note":"edited","user":"u');
  writeFileSync(events, lines.join('\n'));
  let saved = false;
  await warmIndex(
    dir,
    undefined,
    () => {
      // …and saved again while it is read: the same size, its lines moved (a byte from line 4 to line 3).
      if (saved) return;
      saved = true;
      lines[2] = (lines[2] as string).replace('"user":"u', '"user":"uu');
      lines[3] = (lines[3] as string).replace('"user":"u', '"user":"');
      writeFileSync(events, lines.join('\n'));
    },
    true,
  );
  assert.ok(saved);
  const s = Slice.open(dir, { force: true, trustCachedIndex: true });
  try {
    assert.equal([...s.events()].length, 300, 'a forced read of the file as it is now reads it whole');
  } finally {
    s.close();
  }
});
