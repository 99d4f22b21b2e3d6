import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MetricsAccumulator, quantise, type CatalogEntry, type EventObservation, type EventMetrics } from '../../src/core/metrics/index.js';
import { STAGES } from '../../src/core/slice/types.js';
import { latency } from './helpers.js';

/** The pinned definitions of docs/metrics.md, computed the slow, obvious way from the whole history. */
class Reference {
  readonly ids: string[] = [];
  readonly cat = new Map<string, string>();
  readonly grp = new Map<string, string>();
  readonly exposures = new Map<string, number>();
  overflow = 0;
  events: EventObservation[] = [];
  perEvent: EventMetrics[] = [];
  noveltyItems: number[] = [];
  constructor(catalog: CatalogEntry[], readonly k: number) {
    for (const e of catalog) {
      if (this.cat.has(e.id)) continue;
      this.ids.push(e.id);
      const c = e.category === undefined || e.category === null || e.category === '' ? '?' : e.category;
      this.cat.set(e.id, c);
      this.grp.set(e.id, e.group === undefined || e.group === null || e.group === '' ? c : e.group);
      this.exposures.set(e.id, 0);
    }
  }
  update(o: EventObservation): EventMetrics {
    const k = this.k;
    const top = o.served.slice(0, k);
    const rel = new Set(o.relevant);
    let hit: number | null = null;
    let rr: number | null = null;
    let ndcg: number | null = null;
    if (rel.size > 0) {
      hit = top.some((x) => rel.has(x)) ? 1 : 0;
      const p = top.findIndex((x) => rel.has(x));
      rr = p < 0 ? 0 : 1 / (p + 1);
      let dcg = 0;
      const seen = new Set<string>();
      top.forEach((x, i) => {
        if (rel.has(x) && !seen.has(x)) dcg += 1 / Math.log2(i + 2);
        seen.add(x);
      });
      let idcg = 0;
      for (let i = 1; i <= Math.min(k, rel.size); i++) idcg += 1 / Math.log2(i + 1);
      ndcg = dcg / idcg;
    }
    const N = this.ids.length;
    let X = 0;
    for (const v of this.exposures.values()) X += v;
    const nov = top.map((x) => (X + N === 0 ? 0 : -Math.log2(((this.exposures.get(x) ?? 0) + 1) / (X + N))));
    for (const x of top) {
      if (this.exposures.has(x)) this.exposures.set(x, this.exposures.get(x)! + 1);
      else this.overflow++;
    }
    this.noveltyItems.push(...nov);
    let ild: number | null = null;
    if (top.length >= 2) {
      let d = 0;
      let pairs = 0;
      for (let i = 0; i < top.length; i++)
        for (let j = i + 1; j < top.length; j++) {
          pairs++;
          if ((this.cat.get(top[i]!) ?? '?') !== (this.cat.get(top[j]!) ?? '?')) d++;
        }
      ild = d / pairs;
    }
    const recTop = new Set(o.recorded.slice(0, k));
    const overlap = [...new Set(top)].filter((x) => recTop.has(x)).length / k;
    let kendallTau: number | null = null;
    if (!o.unscored) {
      const ranked = o.ranked.filter((x, i) => o.ranked.indexOf(x) === i);
      const limit = o.recordedRanked ?? o.recorded.length;
      const pos = (x: string) => o.recorded.indexOf(x);
      const common = ranked.filter((x) => pos(x) >= 0 && pos(x) < limit);
      // A pair the recording did not order (recordedTies: the same first position) counts for nothing.
      const key = (x: string) => (o.recordedTies ? o.recordedTies[pos(x)]! : pos(x));
      let c = 0;
      let d = 0;
      for (let i = 0; i < common.length; i++)
        for (let j = i + 1; j < common.length; j++) {
          if (key(common[i]!) < key(common[j]!)) c++;
          else if (key(common[i]!) > key(common[j]!)) d++;
        }
      if (c + d > 0) kendallTau = (c - d) / (c + d);
    }
    const total = STAGES.reduce((s, st) => s + o.latencyMs[st], 0);
    const m: EventMetrics = {
      index: o.index, hit, rr, ndcg, ild,
      novelty: top.length > 0 ? nov.reduce((a, b) => a + b, 0) / top.length : null,
      overlap, kendallTau, fallback: o.fallback ? 1 : 0, clicks: o.clicks.length, impressions: o.served.length, latencyTotalMs: total,
    };
    this.events.push(o);
    this.perEvent.push(m);
    return m;
  }
  snapshot(): Record<string, number> {
    const k = this.k;
    const mean = (xs: (number | null)[]) => {
      const v = xs.filter((x): x is number => x !== null);
      return v.length === 0 ? 0 : v.reduce((a, b) => a + b, 0) / v.length;
    };
    const P = this.perEvent;
    const counts = this.ids.map((id) => this.exposures.get(id)!);
    const sorted = [...counts].sort((a, b) => a - b);
    const n = sorted.length;
    const sum = sorted.reduce((a, b) => a + b, 0);
    const gini = sum === 0 ? 0 : sorted.reduce((a, x, i) => a + (2 * (i + 1) - n - 1) * x, 0) / (n * sum);
    const groups = new Map<string, { x: number; n: number }>();
    for (const id of this.ids) {
      const g = groups.get(this.grp.get(id)!) ?? { x: 0, n: 0 };
      g.x += this.exposures.get(id)!;
      g.n++;
      groups.set(this.grp.get(id)!, g);
    }
    const means = [...groups.values()].map((g) => g.x / g.n);
    const parity = sum === 0 ? 1 : Math.min(...means) / Math.max(...means);
    let cacheHits = 0;
    let cacheLookups = 0;
    const queues: number[] = [];
    for (const o of this.events) {
      if (o.cache) {
        cacheHits += o.cache.hits;
        cacheLookups += o.cache.hits + o.cache.misses;
      }
      if (o.queueDepth !== undefined) queues.push(o.queueDepth);
    }
    // Nearest rank: the ⌈p·N/100⌉-th smallest of the quantised values.
    const quantiles = (values: number[]) => {
      const q = values.map(quantise).sort((a, b) => a - b);
      return [50, 95, 99].map((p) => (q.length === 0 ? 0 : q[Math.max(1, Math.ceil((p * q.length) / 100)) - 1]!));
    };
    const clicks = P.reduce((a, p) => a + p.clicks, 0);
    const impressions = P.reduce((a, p) => a + p.impressions, 0);
    const out: Record<string, number> = {
      events: P.length,
      [`hit_rate@${k}`]: mean(P.map((p) => p.hit)),
      [`mrr@${k}`]: mean(P.map((p) => p.rr)),
      [`ndcg@${k}`]: mean(P.map((p) => p.ndcg)),
      ctr: impressions === 0 ? 0 : clicks / impressions,
      clicks,
      impressions,
      [`coverage@${k}`]: n === 0 ? 0 : counts.filter((c) => c > 0).length / n,
      [`diversity@${k}`]: mean(P.map((p) => p.ild)),
      [`novelty@${k}`]: mean(this.noveltyItems),
      gini_exposure: gini,
      exposure_parity: parity,
      overflow_exposures: this.overflow,
      fallback_rate: P.length === 0 ? 0 : P.reduce((a, p) => a + p.fallback, 0) / P.length,
      [`overlap@${k}`]: mean(P.map((p) => p.overlap)),
      cache_hit_rate: cacheLookups === 0 ? 0 : cacheHits / cacheLookups,
      queue_depth: queues.length === 0 ? 0 : queues[queues.length - 1]!,
      'queue_depth.mean': mean(queues),
      kendall_tau: mean(P.map((p) => p.kendallTau)),
    };
    for (const series of [...STAGES, 'total'] as const) {
      const values = this.events.map((o) => (series === 'total' ? STAGES.reduce((sum, st) => sum + o.latencyMs[st], 0) : o.latencyMs[series]));
      quantiles(values).forEach((v, i) => (out[`latency.${series}.p${[50, 95, 99][i]}`] = v));
    }
    return out;
  }
}

const catalog: CatalogEntry[] = [
  ...Array.from({ length: 12 }, (_, i) => ({
    id: `i${i}`,
    ...(i % 5 === 4 ? {} : { category: `c${i % 3}` }),
    ...(i % 4 === 0 ? { group: `g${i % 2}` } : {}),
  })),
  { id: 'i3', category: 'dup' },
];
const anyId = fc.oneof({ weight: 5, arbitrary: fc.integer({ min: 0, max: 11 }).map((i) => `i${i}`) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 3 }).map((i) => `u${i}`) });
const event = fc.record({
  ranked: fc.array(anyId, { maxLength: 14 }),
  served: fc.array(anyId, { maxLength: 7 }),
  recorded: fc.array(anyId, { maxLength: 14 }),
  recordedRanked: fc.option(fc.nat(14), { nil: undefined }),
  // Per recorded position: tied with the one before (the same logged score), when ties are given.
  tiedWithPrevious: fc.option(fc.array(fc.boolean(), { minLength: 14, maxLength: 14 }), { nil: undefined }),
  relevant: fc.array(anyId, { maxLength: 4 }),
  clicks: fc.array(anyId, { maxLength: 3 }),
  fallback: fc.boolean(),
  unscored: fc.boolean(),
  lat: fc.array(fc.oneof(fc.integer({ min: 0, max: 500 }), fc.double({ min: 0, max: 3000, noNaN: true })), { minLength: 6, maxLength: 6 }),
  queueDepth: fc.option(fc.integer({ min: 0, max: 60 }), { nil: undefined }),
  cache: fc.option(fc.record({ hits: fc.nat(40), misses: fc.nat(40) }), { nil: undefined }),
});

/** recordedTies from "tied with the one before" flags: each position points at the first of its block. */
function tiesOf(n: number, tiedWithPrevious: readonly boolean[]): number[] {
  const ties: number[] = [];
  for (let j = 0; j < n; j++) ties.push(j > 0 && tiedWithPrevious[j] ? ties[j - 1]! : j);
  return ties;
}

function close(a: number | null, b: number | null, what: string): void {
  if (a === null || b === null) return assert.equal(a, b, what);
  assert.ok(Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)), `${what}: got ${a}, want ${b}`);
}

test('property: per-event values and snapshots equal a brute-force recomputation from the pinned definitions, straight and through a checkpoint', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 6 }), fc.array(event, { maxLength: 25 }), fc.nat(25), (k, raws, cut) => {
      const ref = new Reference(catalog, k);
      let acc = new MetricsAccumulator(catalog, k);
      raws.forEach((r, i) => {
        if (i === cut) acc = MetricsAccumulator.restore(catalog, k, JSON.parse(JSON.stringify(acc.save())));
        const [retrieve, features, score, rerank, serve, outcome] = r.lat as [number, number, number, number, number, number];
        const o: EventObservation = {
          index: i + 1, ranked: r.ranked, served: r.served, recorded: r.recorded, relevant: r.relevant, clicks: r.clicks,
          fallback: r.fallback, latencyMs: latency({ retrieve, features, score, rerank, serve, outcome }),
          ...(r.recordedRanked === undefined ? {} : { recordedRanked: r.recordedRanked }),
          ...(r.tiedWithPrevious === undefined ? {} : { recordedTies: tiesOf(r.recorded.length, r.tiedWithPrevious) }),
          ...(r.unscored ? { unscored: true } : {}),
          ...(r.queueDepth === undefined ? {} : { queueDepth: r.queueDepth }),
          ...(r.cache === undefined ? {} : { cache: r.cache }),
        };
        const got = acc.update(o);
        const want = ref.update(o);
        for (const key of Object.keys(want) as (keyof EventMetrics)[]) close(got[key], want[key], `event ${i + 1} ${key}`);
        const snap = acc.snapshot();
        const wantSnap = ref.snapshot();
        assert.deepEqual(Object.keys(wantSnap).sort(), MetricsAccumulator.names(k).sort(), 'the reference covers every snapshot key');
        for (const key of Object.keys(wantSnap)) close(snap[key]!, wantSnap[key]!, `after event ${i + 1} ${key}`);
      });
    }),
    { numRuns: 400 },
  );
});
