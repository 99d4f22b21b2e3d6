/**
 * Diagnosis aid (not part of `npm run bench`): the linear ranker on a wide artifact — the bench
 * ranker's 8 weights plus WIDTH hashed ones the slice's rows never have (a hashed-feature model) —
 * scored weight by weight and by the features a row has, over the first EVENTS events of the 10k
 * bench slice. Both give the same doubles (test/rankers/linearWide.test.ts); this prints their rates.
 * Usage: node --import tsx bench/linearWide.ts [WIDTH=1000000] [EVENTS=200]
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_RANKER, CACHE, benchSlice } from './slices';
import { LinearRanker } from '../src/core/rankers/linear';
import { ReplayState } from '../src/core/engine/state';
import { Slice } from '../src/core/slice/reader';
import type { CandidateRow } from '../src/core/engine/rows';

const width = Number(process.argv[2] ?? 1_000_000);
const events = Number(process.argv[3] ?? 200);
const weights: Record<string, number> = { ...BENCH_RANKER.weights };
for (let i = 0; i < width; i++) weights[`hash_${i}`] = ((i % 13) - 6) / 100;
const path = join(CACHE, `ranker-wide-${width}.json`);
writeFileSync(path, JSON.stringify({ ...BENCH_RANKER, weights }));

const slice = Slice.open(benchSlice(10_000, (s) => process.stderr.write(s + '\n')));
const state = new ReplayState([]);
const requests = [...slice.events(1, events)].map((event) => ({
  event,
  user: undefined,
  state,
  rows: event.candidates.map((c, i): CandidateRow => ({ item: c.item, slot: i, rec: c, itemRec: slice.itemById.get(c.item), recordedRank: i + 1, score: Number.NaN, rank: 0, prevRank: null })),
}));
slice.close();

const t0 = performance.now();
new LinearRanker(path);
process.stdout.write(`${width + 8} weights: artifact loaded in ${(performance.now() - t0).toFixed(0)} ms\n`);
for (const [label, from] of [
  ['weight by weight', Infinity],
  ['by row features', -1],
] as const) {
  LinearRanker.wideFrom = from;
  const r = new LinearRanker(path);
  // At most ~10 s a side: weight by weight, a million weights take ~1 s an event.
  const t = performance.now();
  let n = 0;
  for (const req of requests) {
    r.score(req);
    n++;
    if (performance.now() - t > 10_000) break;
  }
  const ms = performance.now() - t;
  process.stdout.write(`  ${label.padEnd(17)} ${n} events (20 candidates) in ${ms.toFixed(0)} ms: ${((n / ms) * 1000).toFixed(1)} events/s\n`);
}
