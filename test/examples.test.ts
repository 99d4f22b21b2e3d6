import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tmp } from './helpers';

const ROOT = join(__dirname, '..');

test('the example slices are reproducible: regenerating them gives byte-identical files, each under 2 MB', () => {
  const out = tmp();
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'examples/generate.ts')], { encoding: 'utf8', env: { ...process.env, RECREPLAY_EXAMPLES_OUT: out } });
  assert.equal(r.status, 0, r.stderr);
  for (const slice of ['cold-start.slice', 'latency-cascade.slice']) {
    let total = 0;
    for (const f of readdirSync(join(ROOT, 'examples/slices', slice))) {
      const committed = readFileSync(join(ROOT, 'examples/slices', slice, f));
      total += committed.length;
      assert.ok(readFileSync(join(out, slice, f)).equals(committed), `${slice}/${f} differs from a fresh generation`);
    }
    assert.ok(total <= 2 * 1024 * 1024, `${slice} is ${total} bytes`);
  }
});
