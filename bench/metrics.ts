/**
 * Micro-benchmark of MetricsAccumulator.update: µs per event on the string path (ids looked up
 * in the accumulator) and on the slot path (ids resolved to engine slots beforehand).
 *
 * 200k events × 20 candidates, k = 10, a 20k-item catalogue, ~0.5% of candidates outside the
 * catalogue, drawn from a seeded stream (src/core/random.ts). Ids go through JSON.parse, as the
 * engine's do, a batch at a time just before the batch is timed. Each mode runs in its own process
 * so one path's inline caches never slow another. The checksum (per-event overlap and cumulative
 * Kendall tau) must read the same in every mode.
 *
 * Usage: node --import tsx bench/metrics.ts [string|slots|slots-array ...]
 */
import { spawnSync } from 'node:child_process';
import { MetricsAccumulator, type CatalogEntry, type EventObservation } from '../src/core/metrics/index.js';
import { streamFor } from '../src/core/random.js';

const N_ITEMS = 20_000;
const N_EVENTS = 200_000;
const CANDIDATES = 20;
const K = 10;
const REPEATS = 5;
/** Events parsed ahead of each timed batch of updates. */
const CHUNK = 16;
const MODES = ['string', 'slots', 'slots-array'] as const;
type Mode = (typeof MODES)[number];

const catalog: CatalogEntry[] = Array.from({ length: N_ITEMS }, (_, i) => ({
  id: `i${i}`,
  category: `c${i % 40}`,
  ...(i % 5 === 0 ? { group: `g${i % 3}` } : {}),
}));

/** Slots as the engine's ReplayState hands them out: catalogue order, then unknown ids in first-seen order. */
class Slots {
  private readonly of = new Map<string, number>();
  constructor(items: readonly CatalogEntry[]) {
    for (const it of items) if (!this.of.has(it.id)) this.of.set(it.id, this.of.size);
  }
  slot(id: string): number {
    let s = this.of.get(id);
    if (s === undefined) this.of.set(id, (s = this.of.size));
    return s;
  }
}

/** The event stream as JSON lines, as a slice stores it. */
function generate(): string[] {
  const rng = streamFor(1, 'bench-metrics', 0);
  const out: string[] = [];
  for (let e = 1; e <= N_EVENTS; e++) {
    // Recorded order: distinct candidates (the engine drops duplicates before ranking).
    const seen = new Set<string>();
    const recorded: string[] = [];
    while (recorded.length < CANDIDATES) {
      const id = rng.next() < 0.005 ? `x${rng.int(5000)}` : `i${rng.int(N_ITEMS)}`;
      if (seen.has(id)) continue;
      seen.add(id);
      recorded.push(id);
    }
    // The replayed ranking: the recorded one perturbed, so Kendall tau has inversions to count.
    const keyed = recorded.map((id, i) => ({ id, key: i + 3 * rng.normal() }));
    const ranked = keyed.sort((a, b) => a.key - b.key).map((x) => x.id);
    const served = ranked.slice(0, K);
    out.push(
      JSON.stringify({
        index: e,
        ranked,
        served,
        recorded,
        relevant: rng.next() < 0.3 ? [recorded[rng.int(K)] as string] : [],
        clicks: served.filter(() => rng.next() < 0.05),
        fallback: false,
        latencyMs: { retrieve: 8, features: 20 + rng.int(10), score: 15 + rng.int(40), rerank: 2, serve: 0.5, outcome: 0 },
        queueDepth: rng.int(30),
        cache: { hits: 20, misses: rng.int(4) },
      }),
    );
  }
  return out;
}

/**
 * µs per update over the whole stream. Events are parsed (and resolved to slots) a chunk at a
 * time outside the timed part, so update() sees freshly built, cache-warm objects, as it does in
 * the engine right after an event is parsed.
 */
function run(mode: Mode): void {
  const lines = generate();
  const chunk: EventObservation[] = [];
  const times: number[] = [];
  let check = 0;
  for (let r = 0; r <= REPEATS; r++) {
    const acc = new MetricsAccumulator(catalog, K);
    const slots = new Slots(catalog);
    const resolve = (ids: readonly string[]) => (mode === 'slots' ? Int32Array.from(ids, (id) => slots.slot(id)) : ids.map((id) => slots.slot(id)));
    let ms = 0;
    for (let start = 0; start < lines.length; start += CHUNK) {
      chunk.length = 0;
      for (let i = start; i < Math.min(start + CHUNK, lines.length); i++) {
        const obs = JSON.parse(lines[i]!) as EventObservation;
        if (mode !== 'string') {
          obs.slots = {
            ranked: resolve(obs.ranked),
            served: resolve(obs.served),
            recorded: resolve(obs.recorded),
            relevant: resolve(obs.relevant),
            clicks: resolve(obs.clicks),
          };
        }
        chunk.push(obs);
      }
      const t0 = performance.now();
      for (let i = 0; i < chunk.length; i++) check += acc.update(chunk[i]!).overlap;
      ms += performance.now() - t0;
    }
    if (r > 0) times.push(ms); // run 0 warms the JIT up
    check += acc.snapshot()['kendall_tau']!;
  }
  times.sort((a, b) => a - b);
  const us = (ms: number) => ((ms * 1000) / lines.length).toFixed(3);
  console.log(`${mode.padEnd(12)} median ${us(times[times.length >> 1]!)} µs/event   best ${us(times[0]!)}   (checksum ${check.toFixed(6)})`);
}

const asked = process.argv.slice(2);
if (asked.length === 1) run(asked[0] as Mode);
else {
  console.log(`MetricsAccumulator.update: ${N_EVENTS} events × ${CANDIDATES} candidates, k=${K}, ${N_ITEMS}-item catalogue, median of ${REPEATS} runs`);
  for (const mode of asked.length ? (asked as Mode[]) : MODES) {
    spawnSync(process.execPath, [...process.execArgv, __filename, mode], { stdio: 'inherit' });
  }
}
