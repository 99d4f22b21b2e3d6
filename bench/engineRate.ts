/**
 * The engine's own tight loop (runToEnd) over the first EVENTS events of a slice: what a debugger
 * continue cannot beat. Part of bench/dap.ts (which runs it bundled, as the adapter ships); also
 * runs alone: node --import tsx bench/engineRate.ts EVENTS SLICE RANKERSPEC. Prints {"eventsPerSec": N}.
 */
import { performance } from 'node:perf_hooks';
import { Replayer } from '../src/core/engine/replay';
import { loadRanker } from '../src/core/rankers';
import { Slice } from '../src/core/slice/reader';

async function engineRate(limit: number, slicePath: string, rankerSpec: string): Promise<number> {
  const slice = Slice.open(slicePath);
  const r = new Replayer(slice, { ranker: loadRanker(rankerSpec, { slice }) });
  const t0 = performance.now();
  await r.runToEnd(undefined, (ex) => ex.n >= limit);
  const ms = performance.now() - t0;
  const done = r.current?.n ?? 0;
  r.dispose();
  return (done / ms) * 1000;
}

const [events, slicePath, rankerSpec] = process.argv.slice(2);
if (!events || !slicePath || !rankerSpec) {
  process.stderr.write('usage: engineRate EVENTS SLICE RANKERSPEC\n');
  process.exit(2);
}
engineRate(Number(events), slicePath, rankerSpec).then(
  (eventsPerSec) => process.stdout.write(`${JSON.stringify({ eventsPerSec })}\n`),
  (e: unknown) => {
    process.stderr.write(`bench/engineRate: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
