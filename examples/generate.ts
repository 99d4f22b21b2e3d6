/**
 * Regenerates the example slices from fixed seeds: `npm run examples`.
 * Each slice reproduces a real fault and stays small (under 2 MB) so it ships in the repo.
 * Running it twice gives byte-identical slices.
 */
import { join } from 'node:path';
import { RandomStream, streamFor } from '../src/core/random';
import { writeSlice } from '../src/core/slice/writer';
import type { CandidateRecord, EventRecord, ItemRecord, UserRecord } from '../src/core/slice/types';

// RECREPLAY_EXAMPLES_OUT lets the reproducibility test regenerate into a temp folder.
const OUT = process.env['RECREPLAY_EXAMPLES_OUT'] ?? join(__dirname, 'slices');
const CATEGORIES = ['shoes', 'outdoor', 'denim', 'knitwear', 'accessories', 'sport'];
const r3 = (x: number) => Math.round(x * 1000) / 1000;
const iso = (ms: number) => new Date(ms).toISOString();

function pick<T>(rng: RandomStream, xs: readonly T[]): T {
  return xs[rng.int(xs.length)] as T;
}

/** k distinct indices from [0, n), in draw order. */
function sample(rng: RandomStream, n: number, k: number): number[] {
  const chosen = new Set<number>();
  while (chosen.size < Math.min(k, n)) chosen.add(rng.int(n));
  return [...chosen];
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/**
 * Cold start: 40 new items arrive with no popularity history. The production ranker leans on
 * pop_30d, so they never reach the top 10 — although users click them when an exploration slot
 * shows one. Exposure parity between "new" and "established" collapses.
 */
function coldStart(): void {
  const rng = streamFor(7, 'examples', 'cold-start');
  const start = Date.parse('2025-07-21T08:00:00.000Z');
  const items: ItemRecord[] = [];
  for (let i = 0; i < 160; i++) {
    const isNew = i >= 120;
    const pop = isNew ? 0 : Math.exp(rng.normal() * 1.1 + 4);
    items.push({
      id: `i_${String(i).padStart(3, '0')}`,
      category: pick(rng, CATEGORIES),
      group: isNew ? 'new' : 'established',
      features: { pop_30d: r3(Math.log1p(pop)), age_days: isNew ? rng.int(3) : 30 + rng.int(400), price_z: r3(rng.normal()) },
      ...(isNew ? { available: [{ from: '2025-07-21T08:00:00.000Z' }] } : {}),
    });
  }
  // True appeal: new items are as good as established ones (the point of the example).
  const appeal = items.map(() => rng.normal() * 0.8);
  const users: UserRecord[] = [];
  for (let u = 0; u < 200; u++) {
    users.push({ id: `u_${(u * 2654435761 >>> 0).toString(16).slice(0, 6)}`, segment: rng.next() < 0.3 ? 'new' : 'returning', features: { fav: pick(rng, CATEGORIES), tenure_days: rng.int(900) } });
  }
  const events: EventRecord[] = [];
  let t = start;
  for (let e = 1; e <= 650; e++) {
    t += 1000 + rng.int(40_000);
    const user = pick(rng, users);
    const fav = user.features?.['fav'];
    const idx = sample(rng, 120, 16).concat(sample(rng, 40, 4).map((x) => 120 + x));
    const cands: CandidateRecord[] = idx.map((i) => {
      const it = items[i] as ItemRecord;
      const f = it.features ?? {};
      const isNew = it.group === 'new';
      const catMatch = it.category === fav ? 1 : 0;
      const features: Record<string, number | null> = { pop_30d: f['pop_30d'] as number, ctr_7d: isNew ? null : r3(0.02 + 0.01 * (f['pop_30d'] as number) + 0.005 * rng.normal()), cat_match: catMatch, fresh: isNew ? 1 : 0 };
      const prodScore = sigmoid(-4 + 0.9 * (f['pop_30d'] as number) + 20 * ((features['ctr_7d'] as number | null) ?? 0) + 0.6 * catMatch);
      return { item: it.id, features, score: r3(prodScore) };
    });
    const order = cands.slice().sort((a, b) => (b.score ?? 0) - (a.score ?? 0));
    const served = order.slice(0, 10).map((c) => c.item);
    // Exploration: one request in eight puts a new item in slot 10.
    if (rng.next() < 0.125) {
      const fresh = cands.find((c) => c.features?.['fresh'] === 1);
      if (fresh) served[9] = fresh.item;
    }
    const clicks: string[] = [];
    served.forEach((id, p) => {
      const i = items.findIndex((x) => x.id === id);
      const it = items[i] as ItemRecord;
      const a = sigmoid(-1.2 + (appeal[i] ?? 0) + (it.category === fav ? 1 : 0) + (it.group === 'new' ? 1.2 : 0));
      if (rng.next() < a / Math.log2(p + 2) / 2.2) clicks.push(id);
    });
    events.push({
      id: `e${String(e).padStart(5, '0')}`,
      t: iso(t),
      user: user.id,
      session: `s_${Math.floor(e / 6)}`,
      context: { device: pick(rng, ['ios', 'android', 'web']), page: 'home' },
      candidates: cands,
      served,
      outcome: { clicks },
      system: { latencyMs: { retrieve: 8 + rng.int(5), features: 20 + rng.int(10), score: 15 + rng.int(8), rerank: 2 }, queueDepth: 3 + rng.int(5), cache: { hits: 18 + rng.int(3), misses: rng.int(3) }, fallback: false },
      featureTimes: { ctr_7d: iso(t - (t % 86_400_000)), pop_30d: iso(t - (t % 86_400_000)) },
    });
  }
  writeSlice(
    join(OUT, 'cold-start.slice'),
    {
      manifest: {
        name: 'cold-start',
        description: 'Home feed, 2025-07-21: 40 new items launched at 08:00 never reach the top 10 — the ranker leans on pop_30d, which new items lack.',
        source: { kind: 'synthetic', generator: 'examples/generate.ts coldStart (seed 7)', query: 'home feed, 08:00–14:00 UTC' },
        seed: 42,
        versions: { model: { name: 'home-linear', version: '12' }, featurePipeline: { name: 'features', version: '2025.07.1' } },
        redaction: { identifiers: 'user ids hashed (multiplicative hash, truncated)', dropped: ['ip', 'session cookies'] },
        faults: [{ kind: 'cold_start', event: 'e00001', note: 'new items (group "new") get no exposure: see exposure_parity and rank("i_12x")' }],
        pipeline: { k: 10, budgetMs: 150, staleAfterSec: 172_800 },
      },
      events,
      items,
      users,
    },
    { frozenAt: '2025-07-21T14:05:00.000Z', overwrite: true },
  );
}

/**
 * Latency cascade: a traffic surge grows the queue; the score stage slows with it, the
 * pipeline breaks its 120 ms budget (introduced in release 4.2), the popularity fallback is
 * served and hit rate drops.
 */
function latencyCascade(): void {
  const rng = streamFor(11, 'examples', 'latency-cascade');
  const start = Date.parse('2025-07-22T13:30:00.000Z');
  const items: ItemRecord[] = [];
  for (let i = 0; i < 120; i++) {
    items.push({ id: `p_${String(i).padStart(3, '0')}`, category: pick(rng, CATEGORIES), features: { pop_30d: r3(Math.max(0, 3 + rng.normal() * 1.2)), price_z: r3(rng.normal()) } });
  }
  const users: UserRecord[] = [];
  for (let u = 0; u < 150; u++) users.push({ id: `u_${(u * 40503 + 977).toString(16)}`, segment: rng.next() < 0.2 ? 'new' : 'returning', features: { fav: pick(rng, CATEGORIES) } });
  const events: EventRecord[] = [];
  let t = start;
  let queue = 4;
  for (let e = 1; e <= 900; e++) {
    const surge = e > 300 && e < 750;
    t += surge ? 400 + rng.int(1500) : 1500 + rng.int(5000);
    queue = Math.max(1, Math.round(queue + (surge ? 0.35 : -0.6) + rng.normal()));
    const user = pick(rng, users);
    const fav = user.features?.['fav'];
    const cands: CandidateRecord[] = sample(rng, 120, 16).map((i) => {
      const it = items[i] as ItemRecord;
      const affinity = r3((it.category === fav ? 0.6 : 0) + 0.3 * rng.normal());
      const features = { pop_30d: it.features?.['pop_30d'] as number, affinity, recency: r3(rng.next()) };
      return { item: it.id, features, score: r3(sigmoid(-1 + 0.2 * features.pop_30d + 2.5 * affinity + 0.3 * features.recency)) };
    });
    const served = cands.slice().sort((a, b) => (b.score ?? 0) - (a.score ?? 0)).slice(0, 10).map((c) => c.item);
    const clicks: string[] = [];
    served.forEach((id, p) => {
      const c = cands.find((x) => x.item === id) as CandidateRecord;
      if (rng.next() < sigmoid(-2.2 + 3 * ((c.features?.['affinity'] as number) ?? 0)) / Math.log2(p + 2)) clicks.push(id);
    });
    const scoreMs = Math.round(14 + 2.2 * queue + Math.abs(rng.normal()) * 6);
    events.push({
      id: `e${String(e).padStart(5, '0')}`,
      t: iso(t),
      user: user.id,
      session: `s_${Math.floor(e / 5)}`,
      context: { device: pick(rng, ['ios', 'android', 'web']), page: 'search' },
      candidates: cands,
      served,
      outcome: { clicks },
      system: { latencyMs: { retrieve: 9 + rng.int(4), features: 22 + Math.round(queue * 0.3), score: scoreMs, rerank: 3 }, queueDepth: queue, cache: { hits: Math.max(0, 14 - Math.floor(queue / 8)), misses: 2 + Math.floor(queue / 8) }, fallback: false },
      featureTimes: { pop_30d: iso(t - 3_600_000) },
    });
  }
  writeSlice(
    join(OUT, 'latency-cascade.slice'),
    {
      manifest: {
        name: 'latency-cascade',
        description: 'Search, 2025-07-22 13:30–14:30: a traffic surge grows the queue, the score stage slows past its 60 ms budget and the pipeline past its 120 ms one (release 4.2), the fallback ranking is served and hit rate drops.',
        source: { kind: 'synthetic', generator: 'examples/generate.ts latencyCascade (seed 11)', query: 'search results, 13:30–14:30 UTC' },
        seed: 42,
        versions: { model: { name: 'search-linear', version: '7' }, code: { name: 'ranking-service', version: '4.2.0' } },
        redaction: { identifiers: 'user ids hashed', dropped: ['query text'] },
        faults: [{ kind: 'latency_cascade', event: 'e00301', note: 'surge starts; the score stage breaks its budget from event 313 and the fallback ranking is served from event 363' }],
        pipeline: { k: 10, budgetMs: 120, stageBudgetMs: { score: 60 }, staleAfterSec: 86_400 },
      },
      events,
      items,
      users,
    },
    { frozenAt: '2025-07-22T15:00:00.000Z', overwrite: true },
  );
}

coldStart();
latencyCascade();
console.log(`wrote ${OUT}/cold-start.slice and ${OUT}/latency-cascade.slice`);
