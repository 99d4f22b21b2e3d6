import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Replayer } from '../../src/core/engine/replay';
import { PopularityRanker, RecordedRanker } from '../../src/core/rankers/builtin';
import { Slice } from '../../src/core/slice/reader';
import { UserError } from '../../src/core/errors';
import { eventLine, rawSlice } from '../helpers';

/** Fields of an event record (docs/slice-format.md), where an odd value is put. */
const PATHS: (string | number)[][] = [
  ['id'], ['t'], ['user'], ['session'], ['context'], ['context', 'device'],
  ['candidates'], ['candidates', 0], ['candidates', 0, 'item'], ['candidates', 0, 'score'], ['candidates', 0, 'features'], ['candidates', 1, 'features', 'x'],
  ['served'], ['served', 0], ['outcome'], ['outcome', 'clicks'], ['outcome', 'dwellMs'], ['outcome', 'dwellMs', 'a'],
  ['system'], ['system', 'latencyMs'], ['system', 'latencyMs', 'score'], ['system', 'queueDepth'], ['system', 'cache'], ['system', 'cache', 'hits'], ['system', 'fallback'],
  ['featureTimes'], ['featureTimes', 'x'], ['extra'],
];

// null often: the format reads it as "not recorded" in some fields and refuses it in others.
const ODD = fc.oneof(
  { arbitrary: fc.constant(null), weight: 2 },
  fc.constantFrom(null, {}, [], '', 'a', -1, 0, 1e308, true, ['a'], [null], [{ item: 'a' }], { a: null }, { hits: 1 }, '2025-01-01T00:00:00', '2025-01-01T00:00:02Z'),
  fc.jsonValue({ maxDepth: 3 }),
);

function put(event: Record<string, unknown>, path: (string | number)[], value: unknown): void {
  let at = event as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) {
    const next = at[k];
    if (typeof next !== 'object' || next === null) at[k] = {};
    at = at[k] as Record<string | number, unknown>;
  }
  at[path[path.length - 1] as string | number] = value;
}

test('property: an event with any value in any of its fields replays, or is refused with a UserError naming its line — never another exception', async () => {
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...PATHS), ODD, fc.boolean(), async (path, value, popularity) => {
      const odd = JSON.parse(eventLine('e2', '2025-01-01T00:00:02Z', { system: { latencyMs: { score: 3 }, queueDepth: 1, cache: { hits: 1, misses: 1 } }, featureTimes: { x: '2025-01-01T00:00:00Z' } })) as Record<string, unknown>;
      put(odd, path, value);
      const lines = [eventLine('e1', '2025-01-01T00:00:01Z'), JSON.stringify(odd), eventLine('e3', '2025-01-01T00:00:03Z')];
      const dir = rawSlice(lines.join('\n') + '\n');
      // The replayer itself (runHeadless adds a trace thread, and 10 times the cost of a case).
      let replayer: Replayer | undefined;
      try {
        replayer = new Replayer(Slice.open(dir), { ranker: popularity ? new PopularityRanker() : new RecordedRanker() });
        await replayer.runToEnd();
        assert.equal(replayer.position.event, 3);
      } catch (e) {
        assert.ok(e instanceof UserError, e instanceof Error ? e.stack : String(e));
        // Out of time order, the line refused may be the next one.
        assert.match(e.describe(), /events\.jsonl:[23]\b/);
      } finally {
        replayer?.dispose();
      }
    }),
    { numRuns: 150, seed: 20261206 },
  );
});
