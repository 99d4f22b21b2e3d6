import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { makeSlice } from '../helpers';
import { progressBar } from '../../src/cli/format';

// The progress bar as a terminal gets it: `script` runs the CLI under a pseudo-terminal (stdout to
// /dev/null, so what it records is stderr: the bar and its erasing).
const ROOT = resolve(__dirname, '../..');
const CLI = join(ROOT, 'dist/cli.js');
const hasScript = spawnSync('script', ['--version']).status === 0;

function underTerminal(slice: string, setup: string, env: Record<string, string> = {}): string {
  const r = spawnSync('script', ['-qec', `${setup} exec "$NODE" "$CLI" run "$SLICE" >/dev/null`, '/dev/null'], {
    encoding: 'utf8',
    cwd: ROOT,
    env: { ...process.env, TERM: 'xterm', ...env, NODE: process.execPath, CLI, SLICE: slice },
    timeout: 60_000,
  });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

/** The lines the bar drew: the text between carriage returns, its erase-line escapes taken out. */
const draws = (out: string) => out.split('\r').map((s) => s.replaceAll('\x1b[K', '')).filter((s) => s.includes('%'));

test('the progress bar fits a narrow terminal (COLUMNS=20): each draw is one row, so \\r redraws it in place, and it is erased at the end', { skip: !hasScript && 'no script(1) here' }, () => {
  const slice = makeSlice(2000);
  const out = underTerminal(slice, 'stty cols 20 rows 10;');
  const drawn = draws(out);
  assert.equal(drawn.length, 2, JSON.stringify(out));
  // A 56-character bar wrapped to three rows on 20 columns, and each \r went back to the last one only.
  for (const d of drawn) assert.ok(d.length < 20, `${JSON.stringify(d)} is ${d.length} columns wide`);
  assert.match(drawn[1] as string, /100%/);
  assert.ok(out.endsWith('\r\x1b[K'), `erased at the end: ${JSON.stringify(out.slice(-20))}`);
  // A terminal that says no size (0 columns) gets the whole bar.
  assert.match(draws(underTerminal(slice, ''))[1] as string, /^\[#{30}\] 100% 2000\/2000 events$/);
});

test('no progress bar on TERM=dumb (no cursor movement: the \\r and escapes showed as they are), nor when stderr is not a terminal', { skip: !hasScript && 'no script(1) here' }, () => {
  const slice = makeSlice(2000);
  assert.equal(underTerminal(slice, '', { TERM: 'dumb' }), '');
  const piped = spawnSync(process.execPath, [CLI, 'run', slice], { encoding: 'utf8', cwd: ROOT, timeout: 60_000 });
  assert.equal(piped.status, 0, piped.stderr);
  assert.equal(piped.stderr, '');
});

test('progressBar drops the counts, then the bar, to stay narrower than the terminal', () => {
  assert.equal(progressBar(500, 1000, 0), `[${'#'.repeat(15)}${'-'.repeat(15)}]  50% 500/1000 events`);
  assert.equal(progressBar(500, 1000, 80), progressBar(500, 1000));
  assert.equal(progressBar(500, 1000, 20), `[${'#'.repeat(6)}${'-'.repeat(6)}]  50%`);
  assert.equal(progressBar(500, 1000, 8), '50%');
  assert.equal(progressBar(500, 1000, 3), '');
  for (let cols = 1; cols <= 100; cols++) assert.ok(progressBar(123_456, 1_000_000, cols).length < cols, `${cols} columns`);
});
