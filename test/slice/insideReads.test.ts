import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { openForReading, readWhole } from '../../src/core/slice/hashing';
import { Slice } from '../../src/core/slice/reader';
import { UserError } from '../../src/core/errors';
import { makeSlice, tmp } from '../helpers';

test('a file read from a slice folder is checked on the open file: inside, or through a link that stays inside, it reads; a link that leads out is refused, naming it', { skip: process.platform === 'win32' }, () => {
  const dir = join(tmp(), 'x.slice');
  mkdirSync(join(dir, 'artifacts'), { recursive: true });
  writeFileSync(join(dir, 'artifacts', 'real.json'), '{"a": 1}');
  const secret = join(tmp(), 'secret.json');
  writeFileSync(secret, '{"key": "sk_live"}');
  symlinkSync(join('artifacts', 'real.json'), join(dir, 'inside.json'));
  symlinkSync(secret, join(dir, 'outside.json'));
  assert.equal(readWhole(join(dir, 'artifacts', 'real.json'), dir).toString(), '{"a": 1}');
  assert.equal(readWhole(join(dir, 'inside.json'), dir).toString(), '{"a": 1}');
  assert.throws(
    () => readWhole(join(dir, 'outside.json'), dir),
    (e: unknown) => e instanceof UserError && e.code === 'E_OUTSIDE' && e.message.includes(join(dir, 'outside.json')) && !e.message.includes('sk_live'),
  );
  assert.throws(() => openForReading(join(dir, 'outside.json'), dir), /leads outside the slice folder/);
  // Without a folder to stay in (a ranker artifact the user named), any file reads.
  const fd = openForReading(join(dir, 'outside.json'));
  closeSync(fd);
  // The folder itself through a link is not a file of it.
  symlinkSync('.', join(dir, 'self'));
  assert.throws(() => openForReading(join(dir, 'self'), dir), /leads outside/);
});

test('a catalogue swapped between a link inside the slice and a link to a file outside, while the slice opens again and again, is never read from outside (it was, 66 times in 8 s)', { skip: process.platform !== 'linux' }, async () => {
  const dir = makeSlice(5);
  renameSync(join(dir, 'items.jsonl'), join(dir, 'real-items'));
  symlinkSync('real-items', join(dir, 'items.jsonl'));
  const secret = join(tmp(), 'secret-items.jsonl');
  writeFileSync(secret, '{"id": "SECRET"}\n');
  // Another user who may write into the folder flips the link (renamed over it) in a tight loop.
  const flipper = new Worker(
    `const { symlinkSync, renameSync } = require('node:fs'); const { join } = require('node:path');
     const dir = ${JSON.stringify(dir)}; let i = 0;
     for (;;) { const t = join(dir, '.l' + (i++ % 2)); try { symlinkSync(i % 2 ? ${JSON.stringify(secret)} : 'real-items', t); renameSync(t, join(dir, 'items.jsonl')); } catch {} }`,
    { eval: true },
  );
  let opened = 0;
  let refused = 0;
  try {
    const until = Date.now() + 1500;
    while (Date.now() < until) {
      try {
        const s = Slice.open(dir, { force: true });
        assert.ok(!s.items.some((it) => it.id === 'SECRET'), 'a file outside the slice was read as its catalogue');
        s.close();
        opened++;
      } catch (e) {
        if (!(e instanceof UserError)) throw e;
        refused++;
      }
    }
  } finally {
    await flipper.terminate();
  }
  assert.ok(opened + refused > 0);
  assert.equal(readFileSync(secret, 'utf8'), '{"id": "SECRET"}\n');
});
