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
import { DiscountTable, intraListDiversity, kendallTau, overlapAtK, relevanceScores, type RelevanceScores } from './ranking.js';
import { EventItems } from './scratch.js';
import type { CatalogEntry, EventMetrics, EventObservation, EventSlots, MetricsSnapshot } from './types.js';

/**
 * Recorded cache and queue figures are summed times 2^-64: a power of two, so every sum, rate and
 * mean rounds exactly as unscaled ones would, while figures near 1e308 (which the reader accepts)
 * no longer add up to Infinity (cache_hit_rate read 0, then NaN; queue_depth.mean Infinity).
 */
const FIGURE_SCALE = 2 ** -64;

/**
 * update() reads the stage latencies by name, in this order (one histogram each, then the total):
 * a fixed property read is several times cheaper than `latencyMs[STAGES[s]]`. Typed as STAGES, so
 * this stops compiling if the stages change; the constructor checks it at run time too.
 */
const STAGE_ORDER: typeof STAGES = ['retrieve', 'features', 'score', 'rerank', 'serve', 'outcome'];

/** Reported latency quantiles, in percent. */
const PERCENTILES = [50, 95, 99] as const;

type Reader = (a: MetricsAccumulator) => number;

/** a / b, or 0 when b is 0 (a metric over no events reads 0). */
function ratio(a: number, b: number): number {
  return b === 0 ? 0 : a / b;
}

/** A caller slot as it is, after checking that it is a non-negative int32. */
function checked(slot: number): number {
  if ((slot | 0) !== slot || slot < 0) throw new RangeError(`Metrics got item slot ${slot}; slots are non-negative integers.`);
  return slot;
}

/** Checks that a slot list matches its id list. */
function checkLength(name: string, slots: { length: number }, ids: readonly string[]): void {
  if (slots.length !== ids.length) {
    throw new RangeError(`Metrics got ${slots.length} slots for ${ids.length} ${name} ids; the lists must match.`);
  }
}

/** Checks `recordedTies` against `recorded`: one entry each, and entry j an integer in [0, j]. */
function checkTies(ties: readonly number[], recorded: readonly string[]): void {
  if (ties.length !== recorded.length) {
    throw new RangeError(`Metrics got ${ties.length} recordedTies for ${recorded.length} recorded ids; the lists must match.`);
  }
  for (let j = 0; j < ties.length; j++) {
    const t = ties[j]!;
    if (!Number.isInteger(t) || t < 0 || t > j) throw new RangeError(`Metrics got recordedTies[${j}] = ${t}; it must be a position in 0..${j}.`);
  }
}

/**
 * Cumulative recommender metrics (docs/metrics.md), updated in O(k² + stages·log B + C log C) per
 * event (C candidates, for Kendall tau), never O(catalogue). The state round-trips through
 * save()/restore() for checkpoints; the same events after a restore give an identical snapshot.
 *
 * Each event first resolves its items (resolveIds from the ids, resolveSlots from caller slots)
 * to slots, where only `slot < catalogSize` (a catalogue item) matters, and to entries of a
 * per-event item table keyed by slot, where only identity matters. Everything after that is
 * shared, so both paths compute the same values from the same items.
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
  /** Distinct catalogue items (the engine's catalogue size): slots >= this are outside it. */
  readonly catalogSize: number;
  // Scratch reused by every update, so an event allocates only its result object.
  /** The event's distinct items, with their first recorded position and flags. */
  private readonly items = new EventItems();
  /** Slots of served[0..m) (>= catalogSize outside the catalogue). */
  private servedSlots: Int32Array;
  /** Item entries of served[0..m). */
  private servedEntries: Int32Array;
  /** Exposure counts of served[0..m) (scratch for novelty). */
  private servedCounts: Int32Array;
  private categories: Int32Array;
  private readonly scores: RelevanceScores = { hit: 0, rr: 0, ndcg: 0 };
  /** Item entries of `ranked`. */
  private rankedEntries = new Int32Array(64);
  /** Slots of `ranked` (the id path only, to reuse lookups). */
  private rankedSlots = new Int32Array(64);
  private seq = new Int32Array(64);
  private buf = new Int32Array(64);
  /** Distinct relevant items of the event being updated. */
  private nRelevant = 0;

  /**
   * An empty accumulator over `catalog` with slate size `k` (a positive integer); `exposures`
   * (restore's, checked) starts the exposure state from a checkpoint instead of empty.
   */
  constructor(catalog: readonly CatalogEntry[], k: number, exposures?: ArrayLike<number>) {
    if (!Number.isInteger(k) || k < 1) throw new RangeError(`Metrics need k to be a positive integer, got ${k}.`);
    if (STAGES.some((stage, i) => stage !== STAGE_ORDER[i])) throw new Error('Metrics read stage latencies in an order that is not STAGES.');
    this.k = k;
    this.index = new ItemIndex(catalog);
    this.table = new DiscountTable(k);
    this.readers = MetricsAccumulator.readers(k);
    this.byName = new Map(this.readers);
    this.template = Object.fromEntries(this.readers.map(([name]) => [name, 0]));
    this.exposure = new ExposureTracker(this.index, exposures);
    this.latency = LATENCY_SERIES.map(() => new LatencyHistogram());
    this.catalogSize = this.index.size;
    // Slate buffers grow to the longest slate served (at most k): k itself may be far larger.
    const n = Math.min(k, 64);
    this.servedSlots = new Int32Array(n);
    this.servedEntries = new Int32Array(n);
    this.servedCounts = new Int32Array(n);
    this.categories = new Int32Array(n);
  }

  /**
   * Folds one replayed event into the totals and returns its own values for the timeline. With
   * `obs.slots` no id is looked up; the result is the same as from the ids alone.
   */
  update(obs: EventObservation): EventMetrics {
    const { k, t } = this;
    const ties = obs.recordedTies;
    if (ties !== undefined) checkTies(ties, obs.recorded);
    const m = Math.min(k, obs.served.length);
    if (m > this.servedSlots.length) {
      const n = Math.min(k, Math.max(m, 2 * this.servedSlots.length));
      this.servedSlots = new Int32Array(n);
      this.servedEntries = new Int32Array(n);
      this.servedCounts = new Int32Array(n);
      this.categories = new Int32Array(n);
    }
    const nRanked = obs.ranked.length;
    if (nRanked > this.rankedEntries.length) {
      this.rankedEntries = new Int32Array(nRanked * 2);
      this.rankedSlots = new Int32Array(nRanked * 2);
      this.seq = new Int32Array(nRanked * 2);
      this.buf = new Int32Array(nRanked * 2);
    }
    this.items.begin(nRanked + m + obs.recorded.length + obs.relevant.length);
    const slots = obs.slots;
    if (slots) this.resolveSlots(obs, slots, m);
    else this.resolveIds(obs, m);
    const served = this.servedSlots;

    const nRelevant = this.nRelevant;
    let hit: number | null = null;
    let rr: number | null = null;
    let ndcg: number | null = null;
    if (nRelevant > 0) {
      const scores = this.scores;
      relevanceScores(this.servedEntries, m, this.items, nRelevant, this.table, scores);
      hit = scores.hit;
      rr = scores.rr;
      ndcg = scores.ndcg;
      t.relevantEvents++;
      t.hits += hit;
      t.rr += rr;
      t.ndcg += ndcg;
    }

    // Novelty reads the counts from before this event's own exposures (pinned definition).
    const exposure = this.exposure;
    const novelty = exposure.noveltySum(served, m, this.servedCounts);
    t.overflowExposures += exposure.exposeAll(served, m);
    t.noveltyItems += m;
    t.novelty += novelty;

    exposure.categories(served, m, this.categories);
    const ild = intraListDiversity(this.categories, m);
    if (ild !== null) {
      t.ildEvents++;
      t.ild += ild;
    }

    const overlap = overlapAtK(this.servedEntries, m, k, this.items);
    t.overlap += overlap;
    const kendallTau = obs.unscored === true ? null : this.kendall(nRanked, obs.recordedRanked ?? obs.recorded.length, ties);
    if (kendallTau !== null) {
      t.tauEvents++;
      t.kendallTau += kendallTau;
    }

    // Histograms in STAGE_ORDER (= LATENCY_SERIES), then the total, summed in that order from 0.
    const { retrieve, features, score, rerank, serve, outcome } = obs.latencyMs;
    const latency = this.latency;
    latency[0]!.record(retrieve);
    latency[1]!.record(features);
    latency[2]!.record(score);
    latency[3]!.record(rerank);
    latency[4]!.record(serve);
    latency[5]!.record(outcome);
    const latencyTotalMs = 0 + retrieve + features + score + rerank + serve + outcome;
    latency[6]!.record(latencyTotalMs);

    // Sums of recorded figures, scaled by FIGURE_SCALE: finite figures (up to ~1e308 each) then
    // never add up to ±Infinity, and the rates and means read the same bits as unscaled sums would.
    // Only an event that reports both figures as numbers counts (docs/metrics.md): {hits: 2} alone made the rate NaN.
    const cache = obs.cache;
    if (cache && typeof cache.hits === 'number' && typeof cache.misses === 'number') {
      t.cacheHits += cache.hits * FIGURE_SCALE;
      t.cacheLookups += cache.hits * FIGURE_SCALE + cache.misses * FIGURE_SCALE;
    }
    if (obs.queueDepth !== undefined) {
      t.queueEvents++;
      t.queueSum += obs.queueDepth * FIGURE_SCALE;
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

  /**
   * How many events each averaged metric rests on, where none makes it read 0 by definition
   * (docs/metrics.md): for a summary to tell "0" from "nothing to measure".
   */
  support(): { relevantEvents: number; slatesOfTwo: number; tauEvents: number; cacheLookups: number; queueEvents: number } {
    const t = this.t;
    return { relevantEvents: t.relevantEvents, slatesOfTwo: t.ildEvents, tauEvents: t.tauEvents, cacheLookups: t.cacheLookups, queueEvents: t.queueEvents };
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

  /**
   * The state as plain JSON, for a checkpoint. `typed` keeps the exposure list an Int32Array
   * instead: a structured-clone checkpoint (the engine's, every K events) then copies it as memory
   * and leaves no catalogue-sized array of garbage on the JS heap. restore() takes either.
   */
  save(typed = false): unknown {
    const latency = {} as SavedMetrics['latency'];
    LATENCY_SERIES.forEach((series, i) => (latency[series] = this.latency[i]!.save()));
    const saved: SavedMetrics = {
      format: METRICS_STATE_FORMAT,
      k: this.k,
      catalog: this.index.fingerprint,
      totals: { ...this.t },
      exposures: typed ? this.exposure.saveTyped() : this.exposure.save(),
      latency,
    };
    return saved;
  }

  /** An accumulator in the state `saved` from one over the same catalogue and k; throws if it does not fit. */
  static restore(catalog: readonly CatalogEntry[], k: number, saved: unknown): MetricsAccumulator {
    if (!Number.isInteger(k) || k < 1) throw new RangeError(`Metrics need k to be a positive integer, got ${k}.`);
    // The index is shared per catalogue (ItemIndex), so checking against it first costs nothing.
    const index = new ItemIndex(catalog);
    const s = parseSaved(saved, k, index.fingerprint, index.size);
    const acc = new MetricsAccumulator(catalog, k, s.exposures);
    acc.t = { ...s.totals };
    acc.latency = LATENCY_SERIES.map((series) => LatencyHistogram.restore(s.latency[series]));
    return acc;
  }

  /**
   * Resolves the ids of an event: served[0..m) to servedSlots and servedEntries, ranked to
   * rankedEntries, and into the item table the relevant flags (nRelevant distinct) and first
   * recorded positions. An id at the same position in `ranked` as in `served` or `recorded` (the
   * same string, as the engine passes them) reuses that lookup.
   */
  private resolveIds(obs: EventObservation, m: number): void {
    const { index, items, rankedSlots, rankedEntries } = this;
    index.beginEvent();
    const ranked = obs.ranked;
    const nRanked = ranked.length;
    for (let i = 0; i < nRanked; i++) {
      const slot = index.slot(ranked[i]!);
      rankedSlots[i] = slot;
      rankedEntries[i] = items.entry(slot);
    }
    const servedIds = obs.served;
    const { servedSlots, servedEntries } = this;
    for (let i = 0; i < m; i++) {
      const id = servedIds[i]!;
      if (i < nRanked && id === ranked[i]) {
        servedSlots[i] = rankedSlots[i]!;
        servedEntries[i] = rankedEntries[i]!;
      } else {
        const slot = index.slot(id);
        servedSlots[i] = slot;
        servedEntries[i] = items.entry(slot);
      }
    }
    const relevant = obs.relevant;
    let nRelevant = 0;
    for (let i = 0; i < relevant.length; i++) if (items.markRelevant(items.entry(index.slot(relevant[i]!)))) nRelevant++;
    this.nRelevant = nRelevant;
    const recorded = obs.recorded;
    const recordedPos = items.recordedPos;
    for (let j = 0; j < recorded.length; j++) {
      const id = recorded[j]!;
      const e = j < nRanked && id === ranked[j] ? rankedEntries[j]! : items.entry(index.slot(id));
      if (recordedPos[e]! < 0) recordedPos[e] = j;
    }
  }

  /** resolveIds from caller slots, which are used as they are (checked, never looked up). */
  private resolveSlots(obs: EventObservation, slots: EventSlots, m: number): void {
    checkLength('ranked', slots.ranked, obs.ranked);
    checkLength('served', slots.served, obs.served);
    checkLength('recorded', slots.recorded, obs.recorded);
    checkLength('relevant', slots.relevant, obs.relevant);
    checkLength('clicks', slots.clicks, obs.clicks);
    const { items, rankedEntries } = this;
    const ranked = slots.ranked;
    for (let i = 0; i < ranked.length; i++) rankedEntries[i] = items.entry(checked(ranked[i]!));
    const served = slots.served;
    const { servedSlots, servedEntries } = this;
    for (let i = 0; i < m; i++) {
      const slot = checked(served[i]!);
      servedSlots[i] = slot;
      servedEntries[i] = items.entry(slot);
    }
    // Slots no metric reads (served past k, clicks) are checked all the same, as documented: a
    // caller's numbering bug there went unnoticed.
    for (let i = m; i < served.length; i++) checked(served[i]!);
    const clicks = slots.clicks;
    for (let i = 0; i < clicks.length; i++) checked(clicks[i]!);
    const relevant = slots.relevant;
    let nRelevant = 0;
    for (let i = 0; i < relevant.length; i++) if (items.markRelevant(items.entry(checked(relevant[i]!)))) nRelevant++;
    this.nRelevant = nRelevant;
    const recorded = slots.recorded;
    const recordedPos = items.recordedPos;
    for (let j = 0; j < recorded.length; j++) {
      const e = items.entry(checked(recorded[j]!));
      if (recordedPos[e]! < 0) recordedPos[e] = j;
    }
  }

  /**
   * Kendall tau of rankedEntries[0..n) against the first recorded positions in the item table, over
   * the pairs the recording ordered (`ties`: positions it could not tell apart share the first one's);
   * null with no such pair (an empty slate read 1, as if it agreed with the recording).
   */
  private kendall(n: number, recordedRanked: number, ties: readonly number[] | undefined): number | null {
    const { items, rankedEntries, seq } = this;
    const recordedPos = items.recordedPos;
    let common = 0;
    for (let i = 0; i < n; i++) {
      const e = rankedEntries[i]!;
      const p = recordedPos[e]!;
      // An item repeated in `ranked` counts once, at its first position; one the recording did not
      // rank (no score, not served) has no place in its order to agree or disagree with.
      if (p >= 0 && p < recordedRanked && items.firstForKendall(e)) seq[common++] = ties === undefined ? p : ties[p]!;
    }
    return kendallTau(seq, common, this.buf, ties !== undefined);
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
      ['queue_depth.mean', (a) => ratio(a.t.queueSum, a.t.queueEvents) / FIGURE_SCALE],
      [`overlap@${k}`, (a) => ratio(a.t.overlap, a.t.events)],
      ['kendall_tau', (a) => ratio(a.t.kendallTau, a.t.tauEvents)],
    );
    return list;
  }
}
