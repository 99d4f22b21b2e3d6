/**
 * The bench slices: N events × 20 candidates × 8 features, ~3.2 KB a line as the issue sizes them
 * (1M events ≈ 3.2 GB), generated once and cached in bench/.cache (the folder name carries the
 * layout version: a change here makes new ones).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { streamFor } from '../src/core/random';
import { writeSlice } from '../src/core/slice/writer';
import type { EventRecord, ItemRecord, UserRecord } from '../src/core/slice/types';

/** Where bench slices and results of children live; bundled children are told through BENCH_CACHE. */
export const CACHE = process.env['BENCH_CACHE'] ?? join(__dirname, '.cache');
process.env['RECREPLAY_CACHE_DIR'] = join(CACHE, 'index');

const N_ITEMS = 20_000;
const N_USERS = 50_000;
// Short names, as anonymised production features often are (Criteo's I1…, Open Bandit's user_feature_0…):
// with descriptive ones (ctr_30d, dwell_avg, …) a line was 4.1 KB, and the floor's JSON.parse paid for the extra bytes.
const FEATURES = ['f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'f7'];
/** Bumped whenever the generator changes what it writes. */
const LAYOUT = 2;

function* events(n: number): Generator<EventRecord> {
  const rng = streamFor(1, 'bench', n);
  const t0 = Date.parse('2025-07-01T00:00:00.000Z');
  const r4 = (x: number) => Math.round(x * 10000) / 10000;
  for (let e = 1; e <= n; e++) {
    const candidates = [];
    for (let c = 0; c < 20; c++) {
      const features: Record<string, number> = {};
      for (const f of FEATURES) features[f] = r4(rng.next());
      candidates.push({ item: `i${rng.int(N_ITEMS)}`, features, score: r4(rng.next()) });
    }
    const served = candidates.slice(0, 10).map((c) => c.item);
    yield {
      id: `e${e}`,
      t: new Date(t0 + e * 50).toISOString(),
      user: `u${rng.int(N_USERS)}`,
      session: `s${e >> 3}`,
      context: { device: 'ios', page: 'home' },
      candidates,
      served,
      outcome: { clicks: rng.next() < 0.3 ? [served[rng.int(10)] as string] : [] },
      system: { latencyMs: { retrieve: 8, features: 20 + rng.int(10), score: 15 + rng.int(40), rerank: 2 }, queueDepth: rng.int(30), cache: { hits: 20, misses: rng.int(4) }, fallback: false },
      featureTimes: { f0: new Date(t0 + e * 50 - 3_600_000).toISOString() },
    };
  }
}

/** Path of the cached N-event bench slice, generating it on first use. */
export function benchSlice(n: number, log: (s: string) => void): string {
  const dir = join(CACHE, `bench-${n}-v${LAYOUT}.slice`);
  if (existsSync(join(dir, 'slice.json'))) return dir;
  log(`generating ${dir} (once; cached)…`);
  const items: ItemRecord[] = Array.from({ length: N_ITEMS }, (_, i) => ({ id: `i${i}`, category: `c${i % 40}`, features: { price: i % 100 } }));
  const users: UserRecord[] = Array.from({ length: N_USERS }, (_, u) => ({ id: `u${u}`, features: { tenure: u % 365 } }));
  writeSlice(dir, { manifest: { name: `bench-${n}`, description: `${n} events × 20 candidates × 8 features`, source: { kind: 'synthetic', generator: 'bench/slices.ts' }, seed: 1, pipeline: { k: 10, budgetMs: 150 } }, events: events(n), items, users }, { frozenAt: '2025-07-02T00:00:00.000Z', overwrite: true });
  return dir;
}

/** The linear ranker artifact used by the bench. */
export const BENCH_RANKER = { weights: Object.fromEntries(FEATURES.map((f, i) => [f, (i % 3) - 0.7])), bias: 0.1, sigmoid: true };

/** The bench ranker's artifact in the cache (written on every call: a change above reaches every script), as a ranker spec. */
export function benchRankerSpec(): string {
  const path = join(CACHE, 'ranker.json');
  mkdirSync(CACHE, { recursive: true });
  writeFileSync(path, JSON.stringify(BENCH_RANKER));
  return `linear:${path}`;
}
