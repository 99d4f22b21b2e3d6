import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runHeadless } from '../../src/core/engine/run';
import { eventLine, rawSlice } from '../helpers';

const host = { now: () => '2025-01-01T00:00:00.000Z', user: 'tester', host: 'ci', cwd: process.cwd() };

/** Three events; the second carries `extra` (the field under test written as null, or left out). */
function sliceWith(extra: Record<string, unknown>): string {
  const lines = [
    eventLine('e1', '2025-01-01T00:00:01Z', { system: { latencyMs: { score: 12 }, queueDepth: 3, cache: { hits: 4, misses: 1 } } }),
    eventLine('e2', '2025-01-01T00:00:02Z', extra),
    eventLine('e3', '2025-01-01T00:00:03Z', { system: { queueDepth: 5, cache: { hits: 1, misses: 1 } } }),
  ];
  return rawSlice(lines.join('\n') + '\n');
}

// docs/slice-format.md: `system`, `system.latencyMs`, `system.cache` and the figures in them,
// `featureTimes` and `outcome.dwellMs` may be null when not recorded — the same as left out.
const NULLS: [string, Record<string, unknown>, Record<string, unknown>][] = [
  ['system', { system: null }, {}],
  ['system.latencyMs', { system: { latencyMs: null, queueDepth: 2 } }, { system: { queueDepth: 2 } }],
  ['system.cache', { system: { cache: null, queueDepth: 2 } }, { system: { queueDepth: 2 } }],
  ['system.queueDepth', { system: { queueDepth: null } }, { system: {} }],
  ['system.cache.hits', { system: { cache: { hits: null, misses: 2 } } }, { system: { cache: { misses: 2 } } }],
  ['system.fallback', { system: { fallback: null } }, { system: {} }],
  ['system.latencyMs.score', { system: { latencyMs: { score: null } } }, { system: { latencyMs: {} } }],
  ['featureTimes', { featureTimes: null }, {}],
  ['outcome.dwellMs', { outcome: { clicks: ['a'], dwellMs: null } }, { outcome: { clicks: ['a'] } }],
];

for (const [field, withNull, leftOut] of NULLS) {
  test(`an event whose ${field} is null replays as one that leaves it out`, async () => {
    for (const ranker of ['recorded', 'popularity']) {
      const a = await runHeadless({ slice: sliceWith(withNull), ranker }, host);
      const b = await runHeadless({ slice: sliceWith(leftOut), ranker }, host);
      a.replayer.dispose();
      b.replayer.dispose();
      assert.equal(a.events, 3);
      assert.deepEqual(a.metrics, b.metrics);
      assert.deepEqual(a.faults, b.faults);
    }
  });
}
