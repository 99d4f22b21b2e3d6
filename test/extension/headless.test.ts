import './setup';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { MACHINE } from '../../src/core/dirs';
import { join, resolve } from 'node:path';
import { buildSync } from 'esbuild';
import { runReplayWorker } from '../../src/extension/headless/runner';
import { makeSlice, tmp } from '../helpers';

const ROOT = resolve(__dirname, '../..');
// The worker runs as a bundle, as in the extension: build it from source for this test.
const worker = join(tmp(), 'replayWorker.js');
buildSync({ entryPoints: [join(ROOT, 'src/extension/headless/replayWorker.ts')], outfile: worker, bundle: true, platform: 'node', format: 'cjs', target: 'node20', logLevel: 'error' });

test('a headless replay runs off the main thread, reports progress and writes trace and run record', async () => {
  const slice = makeSlice(2500);
  const out = join(tmp(), 'run');
  const progress: number[] = [];
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  const r = await runReplayWorker(worker, { slice, ranker: 'popularity', traceDir: out, force: false, cwd: ROOT }, { onProgress: (d) => progress.push(d) });
  clearInterval(timer);
  assert.equal(r.type, 'done', JSON.stringify(r));
  if (r.type !== 'done') return;
  assert.equal(r.events, 2500);
  assert.deepEqual(progress, [1000, 2000]);
  assert.ok(existsSync(join(out, 'trace.jsonl')) && existsSync(join(out, 'run.json')));
  assert.ok(ticks > 0, 'the main thread kept running while the replay ran');
  assert.ok(typeof r.metrics['ctr'] === 'number');
});

test('cancelling a headless replay stops it and writes no trace', async () => {
  const slice = makeSlice(3000);
  const out = join(tmp(), 'run');
  const r = await runReplayWorker(worker, { slice, ranker: 'recorded', traceDir: out, force: false, cwd: ROOT }, { onCancel: (cancel) => cancel() });
  assert.equal(r.type, 'cancelled');
  assert.ok(!existsSync(join(out, 'trace.jsonl')));
  assert.deepEqual(existsSync(out) ? readdirSync(out).filter((f) => f.includes('trace')) : [], []);
});

test('a bad ranker comes back as a user error with a sentence to show', async () => {
  const slice = makeSlice(10);
  const r = await runReplayWorker(worker, { slice, ranker: 'linear:missing.json', traceDir: join(tmp(), 'run'), force: false, cwd: ROOT });
  assert.equal(r.type, 'error');
  assert.ok(r.type === 'error' && r.user && /missing\.json/.test(r.message), JSON.stringify(r));
});

test('a modified slice is refused with what a user of the editor can do about it, not the CLI\'s --force the command has no way to pass', async () => {
  const slice = makeSlice(10);
  const p = join(slice, 'users.jsonl');
  writeFileSync(p, readFileSync(p, 'utf8').replace('"u1"', '"u9"'));
  const r = await runReplayWorker(worker, { slice, ranker: 'recorded', traceDir: join(tmp(), 'run'), force: false, cwd: ROOT });
  assert.ok(r.type === 'error' && r.user, JSON.stringify(r));
  assert.match(r.message, /users\.jsonl/);
  assert.match(r.message, /Debug Slice with "force": true/);
  assert.doesNotMatch(r.message, /pass --force/);
});

test('a worker too busy to see the cancel flag is stopped after the grace period, and its temp files go with it', async () => {
  // Stands in for a worker that opens a slice with no index yet or loads a large artifact: it has
  // begun a trace and does not look at the flag for a long time.
  const busy = join(tmp(), 'busy.js');
  writeFileSync(busy, `
const { workerData } = require('node:worker_threads');
const { mkdirSync, writeFileSync } = require('node:fs');
mkdirSync(workerData.traceDir, { recursive: true });
writeFileSync(require('node:path').join(workerData.traceDir, '.trace.jsonl.' + ${JSON.stringify(MACHINE)} + '.' + process.pid + '-2-3.tmp'), 'half');
const until = Date.now() + 20000;
while (Date.now() < until) {}
`);
  const out = join(tmp(), 'run');
  let cancel: (() => void) | undefined;
  const running = runReplayWorker(busy, { slice: 'unused', ranker: 'recorded', traceDir: out, force: false, cwd: ROOT }, { onCancel: (c) => (cancel = c), graceMs: 200 });
  // Another run's temp file in the same folder (another process) is not this worker's to remove.
  mkdirSync(out, { recursive: true });
  const other = `.trace.jsonl.${MACHINE}.${process.ppid}-0-1.tmp`;
  writeFileSync(join(out, other), 'theirs');
  while (!existsSync(join(out, `.trace.jsonl.${MACHINE}.${process.pid}-2-3.tmp`))) await new Promise((r) => setTimeout(r, 5));
  cancel?.();
  assert.equal((await running).type, 'cancelled');
  assert.deepEqual(readdirSync(out), [other]);
});

test('the ranker\'s warnings come back from the worker before the replay\'s outcome', async () => {
  const weights = join(tmp(), 'typo.json');
  writeFileSync(weights, JSON.stringify({ weights: { ctrr: 1 }, bias: 0 }));
  const warnings: string[] = [];
  const r = await runReplayWorker(worker, { slice: makeSlice(20), ranker: `linear:${weights}`, traceDir: join(tmp(), 'run'), force: false, cwd: ROOT }, { onWarning: (m) => warnings.push(m) });
  assert.equal(r.type, 'done');
  assert.equal(warnings.length, 1);
  assert.match(warnings[0] ?? '', /weight "ctrr": the manifest's schema lists no feature "ctrr" .*did you mean "ctr"\?/);
});
