/**
 * Opening a slice with a large catalogue, as the editor does it, in one run:
 *   node --import tsx bench/catalogue.ts [ITEMS]
 * (default 1,000,000 items; the slice is generated once and cached in bench/.cache). Measures, in
 * this order: the floor — JSON.parse of every line of items.jsonl, nothing else; Slice.open and a
 * Replayer in one piece (as the CLI does); and Slice.openAsync, Replayer.prepareSteps and a
 * Replayer run a slice per turn of the event loop (as a launch, the Slices view and the timeline
 * do), with the longest time the thread went without a turn — how long the editor stood still.
 * Prints one JSON object and writes it to bench/results/catalogue.json.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CACHE } from './slices';
import { Replayer } from '../src/core/engine/replay';
import { loadRanker } from '../src/core/rankers';
import { Slice } from '../src/core/slice/reader';
import { writeSlice } from '../src/core/slice/writer';
import { nextTurn, runStepsAsync } from '../src/core/steps';
import type { EventRecord, ItemRecord } from '../src/core/slice/types';

const n = Number(process.argv[2] ?? 1_000_000);
const log = (s: string) => process.stderr.write(`${s}\n`);
const round = (x: number) => Math.round(x);

function catalogueSlice(items: number): string {
  const dir = join(CACHE, `catalogue-${items}-v1.slice`);
  if (existsSync(join(dir, 'slice.json'))) return dir;
  log(`generating ${dir} (once; cached)…`);
  const catalogue: ItemRecord[] = Array.from({ length: items }, (_, i) => ({ id: `item${i}`, category: `c${i % 300}`, features: { price: i % 100, age: i % 7 } }));
  function* events(): Generator<EventRecord> {
    for (let e = 1; e <= 200; e++) {
      const candidates = Array.from({ length: 20 }, (_, c) => ({ item: `item${(e * 37 + c * 1001) % items}`, features: { f0: c / 20 }, score: 1 - c / 20 }));
      yield { id: `e${e}`, t: new Date(Date.UTC(2025, 0, 1) + e * 1000).toISOString(), user: `u${e % 1000}`, candidates, served: candidates.slice(0, 10).map((c) => c.item), outcome: { clicks: [] } };
    }
  }
  const users = Array.from({ length: 1000 }, (_, u) => ({ id: `u${u}`, features: { tenure: u } }));
  const manifest = { name: `catalogue-${items}`, description: `${items} items, 200 events`, source: { kind: 'synthetic' as const, generator: 'bench/catalogue.ts' }, seed: 1, pipeline: { k: 10, budgetMs: 150 } };
  writeSlice(dir, { manifest, events: events(), items: catalogue, users }, { frozenAt: '2025-01-02T00:00:00.000Z', overwrite: true });
  return dir;
}

async function main(): Promise<void> {
  const dir = catalogueSlice(n);
  // The floor: every line of items.jsonl parsed, nothing else.
  let t = performance.now();
  const text = readFileSync(join(dir, 'items.jsonl'), 'utf8');
  let parsed = 0;
  for (let at = 0; at < text.length; ) {
    const nl = text.indexOf('\n', at);
    const end = nl === -1 ? text.length : nl;
    if (end > at) {
      JSON.parse(text.slice(at, end));
      parsed++;
    }
    at = end + 1;
  }
  const floorMs = performance.now() - t;

  t = performance.now();
  const sync = Slice.open(dir);
  const r1 = new Replayer(sync, { ranker: loadRanker('popularity', { slice: sync }) });
  const syncMs = performance.now() - t;
  r1.dispose();
  sync.close();

  let last = performance.now();
  let longest = 0;
  let turns = 0;
  const runner = {
    pause: async () => {
      longest = Math.max(longest, performance.now() - last);
      turns++;
      await nextTurn();
      last = performance.now();
    },
  };
  t = performance.now();
  const s = await Slice.openAsync(dir, {}, runner);
  await runStepsAsync(Replayer.prepareSteps(s), runner);
  last = performance.now();
  const r2 = new Replayer(s, { ranker: loadRanker('popularity', { slice: s }) });
  const ctorMs = performance.now() - last;
  longest = Math.max(longest, ctorMs);
  const asyncMs = performance.now() - t;
  r2.dispose();
  s.close();

  const result = {
    bench: 'catalogue',
    items: parsed,
    floor: { jsonParseItemsMs: round(floorMs) },
    sync: { openAndReplayerMs: round(syncMs), vsFloor: Number((syncMs / floorMs).toFixed(2)) },
    async: { openAndReplayerMs: round(asyncMs), turns, longestStallMs: round(longest), replayerAfterPrepareMs: round(ctorMs) },
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  mkdirSync(join(__dirname, 'results'), { recursive: true });
  const out = join(__dirname, 'results', 'catalogue.json');
  writeFileSync(`${out}.tmp`, `${JSON.stringify(result, null, 2)}\n`);
  renameSync(`${out}.tmp`, out);
}

void main();
