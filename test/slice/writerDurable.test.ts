// A freeze is put in place by renames, and an overwrite removes the slice it replaced: the new
// slice's bytes and the renames must be on disk first, or a power cut after a "successful" freeze
// can leave empty files where the new slice is and nothing where the old one was.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { existsSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { writeSlice } from '../../src/core/slice/writer';
import { tmp } from '../helpers';

// The object the core's `import { fsyncSync } from 'node:fs'` reads its functions from at each call.
const fs = createRequire(__filename)('node:fs') as typeof import('node:fs');

const input = (name: string, artifacts?: Record<string, string>) => ({
  manifest: { name, description: 'd', source: { kind: 'synthetic' as const, generator: 'test' }, seed: 1 },
  events: [{ id: 'e1', t: '2025-07-21T09:00:00Z', user: 'u1', candidates: [{ item: 'a' }], served: ['a'] }],
  items: [{ id: 'a' }],
  users: [{ id: 'u1' }],
  ...(artifacts ? { artifacts } : {}),
});

test('a freeze flushes every file and folder of the new slice to disk before renaming it into place, and the parent folder before it removes the slice it replaced', { skip: !existsSync('/proc/self/fd') && 'names a flushed descriptor through /proc/self/fd' }, (t) => {
  const base = realpathSync(tmp());
  const dir = join(base, 'x.slice');
  const cacheDir = join(base, 'cache');
  writeSlice(dir, input('old'), { frozenAt: '2025-08-01T00:00:00Z', cacheDir });
  const log: string[] = [];
  const { fsyncSync, renameSync, rmSync } = fs;
  t.mock.method(fs, 'fsyncSync', (fd: number) => {
    log.push(`sync ${fs.readlinkSync(`/proc/self/fd/${fd}`)}`);
    fsyncSync(fd);
  });
  t.mock.method(fs, 'renameSync', (from: string, to: string) => {
    log.push(`rename ${from} -> ${to}`);
    renameSync(from, to);
  });
  t.mock.method(fs, 'rmSync', (p: string, o?: import('node:fs').RmOptions) => {
    log.push(`rm ${p}`);
    rmSync(p, o);
  });
  writeSlice(dir, input('new', { 'v2/model.json': '{"w":1}' }), { frozenAt: '2025-08-01T00:00:00Z', cacheDir, overwrite: true });
  t.mock.restoreAll();

  const installAt = log.findIndex((l) => l.startsWith('rename ') && l.endsWith(` -> ${dir}`) && !/-old\d* ->/.test(l));
  assert.ok(installAt >= 0, `the new slice was renamed into place:\n${log.join('\n')}`);
  const temp = (/^rename (.*) -> /.exec(log[installAt] as string) as RegExpExecArray)[1] as string;
  const before = new Set(log.slice(0, installAt));
  for (const p of ['events.jsonl', 'items.jsonl', 'users.jsonl', 'slice.json', 'artifacts/v2/model.json', 'artifacts/v2', 'artifacts', '']) {
    assert.ok(before.has(`sync ${p ? join(temp, p) : temp}`), `${p || 'the temp folder'} is flushed before the slice goes into place:\n${log.join('\n')}`);
  }
  const parentSync = log.indexOf(`sync ${base}`, installAt);
  const oldRemoved = log.findIndex((l) => l.startsWith(`rm ${temp}-old`));
  assert.ok(oldRemoved > installAt, `the old slice is removed after the install:\n${log.join('\n')}`);
  assert.ok(parentSync > installAt && parentSync < oldRemoved, `the renames are flushed (the parent folder) before the old slice is removed:\n${log.join('\n')}`);
  assert.equal(JSON.parse(fs.readFileSync(join(dir, 'slice.json'), 'utf8')).name, 'new');
});
