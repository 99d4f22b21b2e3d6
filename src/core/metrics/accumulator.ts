/** The incremental metrics accumulator the replay engine feeds once per event. */

import { STAGES } from '../slice/types.js';
import { ItemIndex } from './catalog.js';
import {
  emptyTotals,
  LATENCY_SERIES,
  METRICS_STATE_FORMAT,
  parseSaved,
  type SavedMetrics,
  type Totals,
} from './checkpoint.js';
import { ExposureTracker } from './exposure.js';
import { LatencyHistogram } from './latency.js';
import { DiscountTable, intraListDiversity, kendallTauA, overlapAtK, relevanceScores } from './ranking.js';
import { SlotMap, StampSet } from './scratch.js';
import type { CatalogEntry, EventMetrics, EventObservation, MetricsSnapshot } from './types.js';

/** Reported latency quantiles, in percent. */
const PERCENTILES = [50, 95, 99] as const;

type Reader = (a: MetricsAccumulator) => number;

/** a / b, or 0 when b is 0 (a metric over no events reads 0). */
function ratio(a: number, b: number): number {
  return b === 0 ? 0 : a / b;
}

/**
 * Cumulative recommender metrics (docs/metrics.md), updated in O(k² + stages·log B + C log C) per
 * event (C candidates, for Kendall tau), never O(catalogue). The state round-trips through
 * save()/restore() for checkpoints; the same events after a restore give an identical snapshot.
 */
export class MetricsAccumulator {
  readonly k: number;
  private readonly index: ItemIndex;
  private readonly table: DiscountTable;
  private readonly readers: readonly (readonly [string, Reader])[];
  private readonly byName: ReadonlyMap<string, Reader>;
  private readonly template: MetricsSnapshot;
  private t: Totals = emptyTotals();
  private exposure: ExposureTracker;
  /** One histogram per stage, then the total. */
  private latency: LatencyHistogram[];
  // Scratch reused by every update, so an event allocates only its result object.
  private readonly servedSlots: Int32Array;
  private readonly relevant: StampSet;
  private readonly seen: StampSet;
  private readonly recordedPos: SlotMap;
  private seq = new Int32Array(64);
  private buf = new Int32Array(64);

  /** An empty accumulator over `catalog` with slate size `k` (a positive integer). */
  constructor(catalog: readonly CatalogEntry[], k: number) {
    if (!Number.isInteger(k) || k < 1) throw new RangeError(`Metrics need k to be a positive integer, got ${k}.`);
    this.k = k;
    this.index = new ItemIndex(catalog);
    this.table = new DiscountTable(k);
    this.readers = MetricsAccumulator.readers(k);
    this.byName = new Map(this.readers);
    this.template = Object.fromEntries(this.readers.map(([name]) => [name, 0]));
    this.exposure = new ExposureTracker(this.index);
    this.latency = LATENCY_SERIES.map(() => new LatencyHistogram());
    const capacity = this.index.size + 64;
    this.servedSlots = new Int32Array(k);
    this.relevant = new StampSet(capacity);
    this.seen = new StampSet(capacity);
    this.recordedPos = new SlotMap(capacity);
  }

  /** Folds one replayed event into the totals and returns its own values for the timeline. */
  update(obs: EventObservation): EventMetrics {
    const { index, k, t } = this;
    index.beginEvent();
    const served = this.servedSlots;
    const m = Math.min(k, obs.served.length);
    for (let i = 0; i < m; i++) served[i] = index.slot(obs.served[i]!);

    this.relevant.clear();
    let nRelevant = 0;
    for (const id of obs.relevant) if (this.relevant.add(index.slot(id))) nRelevant++;
    let hit: number | null = null;
    let rr: number | null = null;
    let ndcg: number | null = null;
    if (nRelevant > 0) {
      ({ hit, rr, ndcg } = relevanceScores(served, m, this.relevant, nRelevant, this.table, this.seen));
      t.relevantEvents++;
      t.hits += hit;
      t.rr += rr;
      t.ndcg += ndcg;
    }

    // Novelty reads the counts from before this event's own exposures (pinned definition).
    let novelty = 0;
    for (let i = 0; i < m; i++) novelty += this.exposure.novelty(served[i]!);
    for (let i = 0; i < m; i++) {
      const slot = served[i]!;
      if (slot < index.size) this.exposure.expose(slot);
      else t.overflowExposures++;
    }
    t.noveltyItems += m;
    t.novelty += novelty;

    const ild = intraListDiversity(served, m, index);
    if (ild !== null) {
      t.ildEvents++;
      t.ild += ild;
    }

    this.recordedPos.clear();
    const recorded = obs.recorded;
    for (let j = 0; j < recorded.length; j++) this.recordedPos.setIfAbsent(index.slot(recorded[j]!), j);
    const overlap = overlapAtK(served, m, k, this.recordedPos, this.seen);
    t.overlap += overlap;
    const kendallTau = this.kendall(obs.ranked);
    t.kendallTau += kendallTau;

    let latencyTotalMs = 0;
    for (let s = 0; s < STAGES.length; s++) {
      const v = obs.latencyMs[STAGES[s]!];
      this.latency[s]!.record(v);
      latencyTotalMs += v;
    }
    this.latency[STAGES.length]!.record(latencyTotalMs);

    if (obs.cache) {
      t.cacheHits += obs.cache.hits;
      t.cacheLookups += obs.cache.hits + obs.cache.misses;
    }
    if (obs.queueDepth !== undefined) {
      t.queueEvents++;
      t.queueSum += obs.queueDepth;
      t.queueCurrent = obs.queueDepth;
    }
    const fallback = obs.fallback ? 1 : 0;
    t.fallbacks += fallback;
    t.clicks += obs.clicks.length;
    t.impressions += obs.served.length;
    t.events++;
    return {
      index: obs.index,
      hit,
      rr,
      ndcg,
      ild,
      novelty: m > 0 ? novelty / m : null,
      overlap,
      kendallTau,
      fallback,
      clicks: obs.clicks.length,
      impressions: obs.served.length,
      latencyTotalMs,
    };
  }

  /** Cumulative values after the last update, keyed as in names(k). */
  snapshot(): MetricsSnapshot {
    // Cloning a template keeps one hidden class for every snapshot instead of 40 transitions.
    const out: MetricsSnapshot = { ...this.template };
    for (const [name, read] of this.readers) out[name] = read(this);
    return out;
  }

  /** One cumulative value by snapshot key, without building a snapshot (data breakpoints); undefined for an unknown key. */
  value(name: string): number | undefined {
    return this.byName.get(name)?.(this);
  }

  /** Every snapshot key for slate size k, in snapshot order (for the expression checker and UI). */
  static names(k: number): string[] {
    return MetricsAccumulator.readers(k).map(([name]) => name);
  }

  /** The state as plain JSON, for a checkpoint. */
  save(): unknown {
    const latency = {} as SavedMetrics['latency'];
    LATENCY_SERIES.forEach((series, i) => (latency[series] = this.latency[i]!.save()));
    const saved: SavedMetrics = {
      format: METRICS_STATE_FORMAT,
      k: this.k,
      catalog: this.index.fingerprint,
      totals: { ...this.t },
      exposures: this.exposure.save(),
      latency,
    };
    return saved;
  }

  /** An accumulator in the state `saved` from one over the same catalogue and k; throws if it does not fit. */
  static restore(catalog: readonly CatalogEntry[], k: number, saved: unknown): MetricsAccumulator {
    const acc = new MetricsAccumulator(catalog, k);
    const s = parseSaved(saved, k, acc.index.fingerprint, acc.index.size);
    acc.t = { ...s.totals };
    acc.exposure = new ExposureTracker(acc.index, s.exposures);
    acc.latency = LATENCY_SERIES.map((series) => LatencyHistogram.restore(s.latency[series]));
    return acc;
  }

  /** Kendall tau-a of `ranked` against the recorded positions already in `recordedPos`. */
  private kendall(ranked: readonly string[]): number {
    if (ranked.length > this.seq.length) {
      this.seq = new Int32Array(ranked.length * 2);
      this.buf = new Int32Array(ranked.length * 2);
    }
    this.seen.clear();
    let n = 0;
    for (const id of ranked) {
      const slot = this.index.slot(id);
      const p = this.recordedPos.get(slot);
      if (p >= 0 && this.seen.add(slot)) this.seq[n++] = p;
    }
    return kendallTauA(this.seq, n, this.buf);
  }

  /** Snapshot keys with how to read each; one list so names() and snapshot() cannot drift. */
  private static readers(k: number): (readonly [string, Reader])[] {
    const list: (readonly [string, Reader])[] = [
      ['events', (a) => a.t.events],
      [`hit_rate@${k}`, (a) => ratio(a.t.hits, a.t.relevantEvents)],
      [`mrr@${k}`, (a) => ratio(a.t.rr, a.t.relevantEvents)],
      [`ndcg@${k}`, (a) => ratio(a.t.ndcg, a.t.relevantEvents)],
      ['ctr', (a) => ratio(a.t.clicks, a.t.impressions)],
      ['clicks', (a) => a.t.clicks],
      ['impressions', (a) => a.t.impressions],
      [`coverage@${k}`, (a) => a.exposure.coverage()],
      [`diversity@${k}`, (a) => ratio(a.t.ild, a.t.ildEvents)],
      [`novelty@${k}`, (a) => ratio(a.t.novelty, a.t.noveltyItems)],
      ['gini_exposure', (a) => a.exposure.gini()],
      ['exposure_parity', (a) => a.exposure.parity()],
      ['overflow_exposures', (a) => a.t.overflowExposures],
      ['fallback_rate', (a) => ratio(a.t.fallbacks, a.t.events)],
    ];
    LATENCY_SERIES.forEach((series, i) => {
      for (const p of PERCENTILES) list.push([`latency.${series}.p${p}`, (a) => a.latency[i]!.quantile(p)]);
    });
    list.push(
      ['cache_hit_rate', (a) => ratio(a.t.cacheHits, a.t.cacheLookups)],
      ['queue_depth', (a) => a.t.queueCurrent],
      ['queue_depth.mean', (a) => ratio(a.t.queueSum, a.t.queueEvents)],
      [`overlap@${k}`, (a) => ratio(a.t.overlap, a.t.events)],
      ['kendall_tau', (a) => ratio(a.t.kendallTau, a.t.events)],
    );
    return list;
  }
}
