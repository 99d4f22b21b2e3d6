// The run record a debug session writes when it ends: its metrics are those of the traced events,
// wherever the session stood, and a ranker that stopped answering costs the metrics, not the trace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runHeadless } from '../../src/core/engine/run';
import { loadRanker } from '../../src/core/rankers';
import { closeLanes, metricsThrough, openLanes, type RankerLoader } from '../../src/debugAdapter/lanes';
import { parseLaunchArguments } from '../../src/debugAdapter/launchConfig';
import { lineLogger } from '../../src/debugAdapter/logger';
import { tmp } from '../helpers';
import { LATENCY } from './helpers';

const host = { now: () => '', user: 'u', host: 'h', cwd: process.cwd() };

/**
 * Lanes over the latency example whose ranker never answers once `hang.at` is the event being
 * scored (or answers after `hang.ms`, when set).
 */
async function hangingSession(trace?: string) {
  const hang = { at: 0, ms: undefined as number | undefined };
  const cfg = parseLaunchArguments({ ...LATENCY, checkpointEvery: 10, ...(trace ? { trace } : {}) }, process.cwd());
  const load: RankerLoader = (spec, ctx) => {
    const inner = loadRanker(spec, ctx);
    return {
      info: inner.info,
      score: (req) => {
        if (lanes.primary.replayer.current?.n !== hang.at) return inner.score(req);
        const ms = hang.ms;
        return ms === undefined ? new Promise<never>(() => {}) : new Promise((resolve) => setTimeout(() => resolve(inner.score(req)), ms));
      },
    };
  };
  const warnings: string[] = [];
  const lanes = await openLanes(cfg, lineLogger((t) => warnings.push(t)), load);
  const r = lanes.primary.replayer;
  const run = async (to: number) => {
    while ((r.current?.n ?? 0) < to) {
      r.advance();
      await r.finishEvent();
    }
  };
  return { cfg, lanes, r, hang, run, warnings };
}

/** The metrics of a straight headless run through event n. */
async function straight(n: number): Promise<Record<string, number>> {
  const res = await runHeadless({ slice: LATENCY.slice, ranker: LATENCY.ranker, stopWhen: (ex) => ex.n === n }, host);
  res.replayer.dispose();
  return res.metrics;
}

test('a session ended while its ranker scores the next event writes the trace and the metrics through the last traced event, at once', async () => {
  const out = tmp();
  const s = await hangingSession(out);
  await s.run(40);
  s.hang.at = 41;
  s.r.advance();
  void s.r.finishEvent();
  assert.equal(s.r.current?.n, 41);
  const t0 = Date.now();
  // A settle time far beyond the test's: nothing waits for the ranker here.
  await closeLanes(s.lanes, s.cfg, '', lineLogger(() => {}), 60_000);
  assert.ok(Date.now() - t0 < 30_000);
  const record = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
  assert.equal(record.events, 40);
  assert.equal(record.metricsMissing, undefined);
  assert.deepEqual(record.metrics, await straight(40));
  const lines = readFileSync(join(out, 'trace.jsonl'), 'utf8').trimEnd().split('\n');
  assert.equal(lines.length, 1 + 40, 'the header and the 40 events');
});

test('a session ended after stepping back recomputes the metrics through the last traced event', async () => {
  const s = await hangingSession();
  await s.run(40);
  await s.r.seek(12, 6);
  assert.deepEqual((await metricsThrough(s.r, 40)).metrics, await straight(40));
  s.r.dispose();
});

test('a session ended after stepping back, while its ranker no longer answers, keeps the trace and says why the metrics are missing', async () => {
  const out = tmp();
  const s = await hangingSession(out);
  await s.run(40);
  await s.r.seek(12, 6);
  s.hang.at = 13;
  s.r.advance();
  void s.r.finishEvent();
  const log: string[] = [];
  await closeLanes(s.lanes, s.cfg, '', lineLogger((t) => log.push(t)), 100);
  const record = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
  assert.equal(record.events, 40);
  assert.deepEqual(record.metrics, {});
  assert.match(record.metricsMissing, /event 13, stage score, while the ranker had not answered for 0\.1 s: the metrics through event 40 could not be recomputed/);
  assert.match(log.join(''), /could not be recomputed/);
  assert.equal(readFileSync(join(out, 'trace.jsonl'), 'utf8').trimEnd().split('\n').length, 1 + 40);
});

test('a slow answer that completes the next event while the trace is being finished adds nothing to it: the record counts the traced events and their metrics', async () => {
  const out = tmp();
  const s = await hangingSession(out);
  await s.run(40);
  Object.assign(s.hang, { at: 41, ms: 0 });
  s.r.advance();
  const settled = s.r.finishEvent();
  await closeLanes(s.lanes, s.cfg, '', lineLogger(() => {}), 60_000);
  await settled;
  const record = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
  assert.equal(record.trace.events, 40);
  assert.equal(record.events, 40);
  assert.deepEqual(record.metrics, await straight(40));
});
