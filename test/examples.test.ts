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

test('the README\'s sample run prints what the README shows (every line of the sample but the timing and the elisions)', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const block = /```\n\$ (npx recreplay run [^\n]+)\n([\s\S]*?)```/.exec(readme);
  assert.ok(block, 'the README shows a sample run');
  const args = (block[1] as string).replace(/^npx recreplay /, '').split(' ');
  const r = spawnSync(process.execPath, [join(ROOT, 'dist/cli.js'), ...args], { encoding: 'utf8', cwd: ROOT });
  assert.equal(r.status, 0, r.stderr);
  const actual = r.stdout.split('\n');
  for (const line of (block[2] as string).split('\n')) {
    if (line.trim() === '' || line.trim() === '…' || line.startsWith('replayed ')) continue;
    // "trace sha256 dd358e6a4468f1ea… (941.4 bytes/event)": the shown prefix and the size.
    const sha = /^trace sha256 ([0-9a-f]+)… (\(.*\))$/.exec(line);
    if (sha) assert.ok(actual.some((l) => l.startsWith(`trace sha256 ${sha[1]}`) && l.endsWith(sha[2] as string)), `README: ${line}`);
    else assert.ok(actual.includes(line), `README: "${line}" is not in the output:\n${r.stdout}`);
  }
});
