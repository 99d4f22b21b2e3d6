/**
 * Diagnosis aid (not part of `npm run bench`): the linear ranker on a wide artifact — the bench
 * ranker's 8 weights plus WIDTH hashed ones the slice's rows never have (a hashed-feature model) —
 * scored weight by weight and by the features a row has, over the first EVENTS events of the 10k
 * bench slice. Both give the same doubles (test/rankers/linearWide.test.ts); this prints their rates.
 * First the artifact's load: at once (the CLI's loadRanker), and as the editor loads it
 * (loadRankerAsync: read and parsed on a thread of its own, the rest a slice of work per turn of the
 * event loop) with the longest stretch the event loop did not turn meanwhile.
 * Usage: node --import tsx bench/linearWide.ts [WIDTH=1000000] [EVENTS=200]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_RANKER, CACHE, benchSlice } from './slices';
import { LinearRanker } from '../src/core/rankers/linear';
import { loadRanker, loadRankerAsync } from '../src/core/rankers';
import { ReplayState } from '../src/core/engine/state';
import { Slice } from '../src/core/slice/reader';
import type { CandidateRow } from '../src/core/engine/rows';

const width = Number(process.argv[2] ?? 1_000_000);
const events = Number(process.argv[3] ?? 200);
const weights: Record<string, number> = { ...BENCH_RANKER.weights };
for (let i = 0; i < width; i++) weights[`hash_${i}`] = ((i % 13) - 6) / 100;
const path = join(CACHE, `ranker-wide-${width}.json`);
mkdirSync(CACHE, { recursive: true });
writeFileSync(path, JSON.stringify({ ...BENCH_RANKER, weights }));

const slice = Slice.open(benchSlice(10_000, (s) => process.stderr.write(s + '\n')));
const state = new ReplayState([]);
const requests = [...slice.events(1, events)].map((event) => ({
  event,
  user: undefined,
  state,
  rows: event.candidates.map((c, i): CandidateRow => ({ item: c.item, slot: i, rec: c, itemRec: slice.itemById.get(c.item), recordedRank: i + 1, score: Number.NaN, rank: 0, prevRank: null })),
}));

async function main(): Promise<void> {
  const t0 = performance.now();
  new LinearRanker(path);
  process.stdout.write(`${width + 8} weights: artifact loaded in ${(performance.now() - t0).toFixed(0)} ms\n`);
  const t1 = performance.now();
  loadRanker(`linear:${path}`, { slice });
  process.stdout.write(`  at once, checked against the slice (loadRanker): ${(performance.now() - t1).toFixed(0)} ms, all of it one stall\n`);
  {
    // The longest stretch between two turns of the event loop while loadRankerAsync works.
    let last = performance.now();
    let longest = 0;
    let ticking = true;
    const tick = () => {
      const now = performance.now();
      longest = Math.max(longest, now - last);
      last = now;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    const t2 = performance.now();
    await loadRankerAsync(`linear:${path}`, { slice });
    const ms = performance.now() - t2;
    ticking = false;
    process.stdout.write(`  off the thread, checked against the slice (loadRankerAsync): ${ms.toFixed(0)} ms, longest stall ${longest.toFixed(0)} ms\n`);
  }
  slice.close();
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
}

void main();
