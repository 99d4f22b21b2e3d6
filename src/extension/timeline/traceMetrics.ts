import { FAULT_KINDS } from '../../core/engine/faults';
import { ExposureCounts, LatencyHistogram } from '../../core/metrics';
import type { SystemRecord } from '../../core/slice/types';
import { SERIES } from '../../shared/webview';

/** The per-event part of a trace line that the timeline reads (docs/engine.md, "Trace"). */
export interface TraceLine {
  n: number;
  id: string;
  stages: Record<string, { ms?: number | string; served?: string[]; fallback?: boolean } | undefined>;
  metrics: Record<string, number | null> | null;
  faults: string[];
  /** The figures the event recorded (recreplay.trace/2 on): queue depth, cache hits and misses. */
  system?: SystemRecord;
}

export const SERIES_IDS: readonly string[] = SERIES.map((s) => s.id);

/** Timeline series as MetricsAccumulator snapshot keys (`@k` keys matched by prefix). */
export const SNAPSHOT_KEYS: Record<string, string> = {
  hit_rate: 'hit_rate@',
  mrr: 'mrr@',
  ndcg: 'ndcg@',
  ctr: 'ctr',
  diversity: 'diversity@',
  novelty: 'novelty@',
  coverage: 'coverage@',
  gini_exposure: 'gini_exposure',
  overlap: 'overlap@',
  kendall_tau: 'kendall_tau',
  'latency.total': 'latency.total.p99',
  'latency.retrieve': 'latency.retrieve.p99',
  'latency.features': 'latency.features.p99',
  'latency.score': 'latency.score.p99',
  'latency.rerank': 'latency.rerank.p99',
  'latency.serve': 'latency.serve.p99',
  'latency.outcome': 'latency.outcome.p99',
  fallback_rate: 'fallback_rate',
  cache_hit_rate: 'cache_hit_rate',
  queue_depth: 'queue_depth',
};
const STAGES = ['retrieve', 'features', 'score', 'rerank', 'serve', 'outcome'] as const;
const LATENCY_STAGE_INDEX = STAGES.map((s) => SERIES_IDS.indexOf(`latency.${s}`));
const at = (id: string) => {
  const i = SERIES_IDS.indexOf(id);
  if (i < 0) throw new Error(`unknown series ${id}`);
  return i;
};
const I = {
  hit: at('hit_rate'),
  mrr: at('mrr'),
  ndcg: at('ndcg'),
  ctr: at('ctr'),
  diversity: at('diversity'),
  novelty: at('novelty'),
  coverage: at('coverage'),
  gini: at('gini_exposure'),
  overlap: at('overlap'),
  tau: at('kendall_tau'),
  total: at('latency.total'),
  fallback: at('fallback_rate'),
  cache: at('cache_hit_rate'),
  queue: at('queue_depth'),
};

/** Bit of each fault kind in a bucket's fault mask (unknown kinds share the last bit). */
export function faultBit(kind: string): number {
  const i = (FAULT_KINDS as readonly string[]).indexOf(kind);
  return 1 << (i < 0 ? FAULT_KINDS.length : i);
}
export const FAULT_MASK_KINDS: readonly string[] = [...FAULT_KINDS, 'other'];

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

class Mean {
  sum = 0;
  n = 0;
  add(v: number | null, w = 1): void {
    if (v === null) return;
    this.sum += v * w;
    this.n += w;
  }
  get value(): number | null {
    return this.n > 0 ? this.sum / this.n : null;
  }
}

/**
 * Rebuilds the timeline's per-event and running values from trace lines, with the definitions of
 * the engine's MetricsAccumulator (docs/metrics.md): running means over events where a metric is
 * defined, CTR as clicks over impressions, coverage and Gini of exposure over the catalogue, stage
 * latency p99 by the same quantised histogram. Cache hit rate and queue depth come from the
 * recorded figures a trace line carries (recreplay.trace/2), or for an older trace from the slice's
 * event records when the slice is at hand.
 */
export class TraceMetrics {
  readonly perEvent = new Array<number | null>(SERIES_IDS.length).fill(null);
  readonly running = new Array<number | null>(SERIES_IDS.length).fill(null);
  private readonly means = { hit: new Mean(), mrr: new Mean(), ndcg: new Mean(), diversity: new Mean(), novelty: new Mean(), overlap: new Mean(), tau: new Mean(), fallback: new Mean() };
  private clicks = 0;
  private impressions = 0;
  private cacheHits = 0;
  private cacheLookups = 0;
  private readonly latency = [...STAGES, 'total'].map(() => new LatencyHistogram());
  private readonly exposure: ExposureCounts | undefined;
  private covered = 0;

  /**
   * `catalog` maps item ids to dense slots (first entry wins); without it coverage and Gini stay
   * undefined. `k` is the slate size from the trace header.
   */
  constructor(
    private readonly k: number,
    private readonly catalog?: CatalogSlots,
  ) {
    if (catalog) this.exposure = new ExposureCounts(catalog.size);
  }

  /**
   * Folds in one trace line, with the system figures its event recorded (the line's own, or the
   * slice's record of the event for a trace without them); none: cache hit rate and queue depth
   * are not available. `served`, when given, stands for the line's served list: how many items it
   * holds, and the catalogue slots of the first k (-1: not in the catalogue) — what the trace line
   * scanner finds without making a string of each id (see traceLineScan.ts).
   */
  update(line: TraceLine, sys?: SystemRecord, served?: ServedSlots): void {
    const pe = this.perEvent;
    const rn = this.running;
    pe.fill(null);
    const m = line.metrics ?? {};
    const hit = num(m['hit']);
    const rr = num(m['rr']);
    const ndcg = num(m['ndcg']);
    const ild = num(m['ild']);
    const novelty = num(m['novelty']);
    const overlap = num(m['overlap']);
    const tau = num(m['kendallTau']);
    const fallback = num(m['fallback']);
    const clicks = num(m['clicks']);
    const impressions = num(m['impressions']);
    pe[I.hit] = hit;
    pe[I.mrr] = rr;
    pe[I.ndcg] = ndcg;
    pe[I.diversity] = ild;
    pe[I.novelty] = novelty;
    pe[I.overlap] = overlap;
    pe[I.tau] = tau;
    pe[I.fallback] = fallback;
    pe[I.ctr] = clicks !== null && impressions ? clicks / impressions : null;
    const servedIds = served ? undefined : (line.stages['serve']?.served ?? []);
    const servedCount = served ? served.count : (servedIds as string[]).length;
    const means = this.means;
    means.hit.add(hit);
    means.mrr.add(rr);
    means.ndcg.add(ndcg);
    means.diversity.add(ild);
    // Novelty is a mean over the served items of an event; the running value weighs events by them.
    means.novelty.add(novelty, Math.min(this.k, servedCount));
    means.overlap.add(overlap);
    means.tau.add(tau);
    means.fallback.add(fallback);
    this.clicks += clicks ?? 0;
    this.impressions += impressions ?? 0;

    let total = 0;
    for (let i = 0; i < STAGES.length; i++) {
      const ms = num(line.stages[STAGES[i]!]?.ms);
      pe[LATENCY_STAGE_INDEX[i]!] = ms;
      if (ms !== null) {
        total += ms;
        this.latency[i]!.record(ms);
        rn[LATENCY_STAGE_INDEX[i]!] = this.latency[i]!.quantile(99);
      }
    }
    const totalMs = num(m['latencyTotalMs']) ?? total;
    pe[I.total] = totalMs;
    this.latency[STAGES.length]!.record(totalMs);
    rn[I.total] = this.latency[STAGES.length]!.quantile(99);

    if (this.exposure && this.catalog) {
      const m2 = Math.min(this.k, servedCount);
      for (let i = 0; i < m2; i++) {
        const slot = served ? (served.slots[i] as number) : this.catalog.get((servedIds as string[])[i]!);
        if (slot === undefined || slot < 0) continue;
        if (this.exposure.increment(slot) === 0) this.covered++;
      }
      rn[I.coverage] = this.catalog.size ? this.covered / this.catalog.size : 0;
      rn[I.gini] = this.exposure.gini();
    }

    if (sys) {
      const cache = sys.cache;
      if (cache && typeof cache.hits === 'number' && typeof cache.misses === 'number') {
        const lookups = cache.hits + cache.misses;
        pe[I.cache] = lookups ? cache.hits / lookups : null;
        this.cacheHits += cache.hits;
        this.cacheLookups += lookups;
      }
      const q = num(sys.queueDepth);
      pe[I.queue] = q;
      // The latest depth reported (as queue_depth in run.json): an event that reports none keeps it.
      if (q !== null) rn[I.queue] = q;
      rn[I.cache] = this.cacheLookups ? this.cacheHits / this.cacheLookups : null;
    }

    rn[I.hit] = means.hit.value;
    rn[I.mrr] = means.mrr.value;
    rn[I.ndcg] = means.ndcg.value;
    rn[I.diversity] = means.diversity.value;
    rn[I.novelty] = means.novelty.value;
    rn[I.overlap] = means.overlap.value;
    rn[I.tau] = means.tau.value;
    rn[I.fallback] = means.fallback.value;
    rn[I.ctr] = this.impressions ? this.clicks / this.impressions : null;
  }

  /** The fault mask of a trace line. */
  static faultMask(line: TraceLine): number {
    let mask = 0;
    for (const f of line.faults ?? []) mask |= faultBit(f);
    return mask;
  }
}

/** A served list as the trace line scanner reads it: its length, and the catalogue slots of its first k items (-1: none). */
export interface ServedSlots {
  count: number;
  /** At least min(k, count) long. */
  slots: Int32Array;
}

/** Dense catalogue slots of item ids, first entry winning, as the engine numbers them (an opened slice's itemById.slotOf). */
export interface CatalogSlots {
  get(id: string): number | undefined;
  readonly size: number;
}
