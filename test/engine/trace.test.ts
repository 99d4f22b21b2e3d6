import { test } from 'node:test';
import assert from 'node:assert/strict';
import { traceLine } from '../../src/core/engine/trace';
import type { EventExec } from '../../src/core/engine/replay';

const exec = (over: Partial<EventExec> = {}): EventExec =>
  ({
    n: 3,
    event: { id: 'e"3', t: '2025-01-01T00:00:00Z', user: 'u', candidates: [], served: [] },
    tMs: 0,
    user: undefined,
    stagesDone: 6,
    rows: [],
    dropped: ['x'],
    recorded: [],
    recordedRanks: new Map(),
    hasDuplicates: false,
    rankedRows: [],
    servedRows: [],
    stale: [{ name: 'ctr', ageSec: 5 }],
    scores: Float64Array.from([0.5, Number.NaN, -Infinity, 1e-7]),
    ranked: ['b', 'a', 'c'],
    served: ['b', 'a'],
    fallback: false,
    clicks: ['a'],
    outcomeSource: 'model',
    latencyMs: { retrieve: 1, features: 2.5, score: 3, rerank: 0, serve: 0.5, outcome: 0 },
    faults: [{ kind: 'nan_score', stage: 'score', message: 'x' }],
    metrics: undefined,
    ...over,
  }) as EventExec;

test('a trace line is one line of valid JSON with every stage, NaN kept visible as a string', () => {
  const line = traceLine(exec());
  assert.ok(line.endsWith('\n') && !line.slice(0, -1).includes('\n'));
  const j = JSON.parse(line);
  assert.equal(j.id, 'e"3');
  assert.deepEqual(j.stages.score.scores, [0.5, 'NaN', '-Infinity', 1e-7]);
  assert.deepEqual(Object.keys(j.stages), ['retrieve', 'features', 'score', 'rerank', 'serve', 'outcome']);
  assert.deepEqual(j.stages.features.stale, ['ctr']);
  assert.deepEqual(j.faults, ['nan_score']);
  assert.equal(j.stages.rerank.top, undefined);
  assert.deepEqual(JSON.parse(traceLine(exec({ fallback: true }))).stages.rerank.top, ['b', 'a']);
});
