/**
 * Custom Debug Adapter Protocol messages of the RecReplay adapter, shared by the adapter, the
 * extension and the timeline webview. Documented in docs/protocol.md; every name is namespaced
 * `recreplay/…` so generic DAP clients ignore them.
 */

/** The debug type the extension registers and launch configurations name. */
export const DEBUG_TYPE = 'recreplay';

/** Event: where the replay is, sent at every stop and at most every 100 ms while it runs. */
export const POSITION_EVENT = 'recreplay/position';
/** Event: per-event metric points of events that completed since the previous one. */
export const METRICS_EVENT = 'recreplay/metrics';
/** Request: a stored per-event metric series, downsampled to at most `maxPoints` buckets. */
export const METRIC_SERIES_REQUEST = 'recreplay/metricSeries';

/** The replay threads: `replay` alone, or `baseline` and `candidate` in compare mode. */
export type LaneName = 'replay' | 'baseline' | 'candidate';

/** Thread ids are fixed so a client can keep them across sessions. */
export const THREAD_IDS: Record<LaneName, number> = { replay: 1, baseline: 2, candidate: 3 };

/** What kind of stop trigger fired, for timeline markers. */
export type HitKind = 'entry' | 'step' | 'breakpoint' | 'function breakpoint' | 'data breakpoint' | 'exception' | 'pause' | 'goto' | 'restart' | 'end';

export interface PositionEventBody {
  /** `stopped` at a stop; `running` for progress during continue / reverse continue. */
  state: 'stopped' | 'running';
  /** 1-based event number, which is also the line in events.jsonl. */
  event: number;
  /** Id of that event (`e000532`). */
  eventId: string;
  /** Event timestamp (ISO-8601). */
  t: string;
  /** Stages of the event done, 0..6. */
  stagesDone: number;
  /** Name of the current stage (the last that ran, `retrieve` before any). */
  stage: string;
  /** Events in the slice. */
  eventCount: number;
  /** Absolute path of the slice's events.jsonl as the adapter opened it: the source for gotoTargets. */
  eventsPath: string;
  /** Highest event replayed so far in this session. */
  highWater: number;
  /** Set at stops: why the replay stopped. */
  reason?: HitKind;
  /** Set at stops caused by breakpoints: the ids of the breakpoints that fired. */
  hitBreakpointIds?: number[];
  /** Set at exception stops: the fault kind (`nan_score`, `over_budget`, …). */
  fault?: string;
}

/**
 * Per-event series the adapter keeps for every replayed event: `ctr` is the event's clicks /
 * impressions (null when nothing was served); `queueDepth` and `cacheHitRate` (hits / lookups) are
 * what the event recorded in `system` (null when it recorded none).
 */
export const METRIC_SERIES = ['hit', 'rr', 'ndcg', 'ild', 'novelty', 'overlap', 'kendallTau', 'fallback', 'clicks', 'impressions', 'ctr', 'latencyTotalMs', 'queueDepth', 'cacheHitRate'] as const;
export type MetricSeriesName = (typeof METRIC_SERIES)[number];

/** One event's values; `null` where the metric is undefined for that event (a gap, not a zero). */
export interface MetricPoint {
  event: number;
  values: Record<MetricSeriesName, number | null>;
  /** The kinds of fault the event raised (`over_budget`, …); absent when it raised none. */
  faults?: string[];
}

export interface MetricsEventBody {
  lane: LaneName;
  /** Every event in 1..through has a stored point (fetch older ones with recreplay/metricSeries). */
  through: number;
  /**
   * The newest points since the previous metrics event of this lane, oldest first; at most
   * MAX_PUSHED_POINTS. When more events completed, `skipped` says how many older ones were left out.
   */
  points: MetricPoint[];
  skipped: number;
  /** Cumulative metrics (MetricsAccumulator snapshot keys) after the current event. */
  cumulative: Record<string, number>;
}

/** Upper bound on points in one metrics event: a long continue never floods the client. */
export const MAX_PUSHED_POINTS = 200;

export interface MetricSeriesArguments {
  /** Which series; see METRIC_SERIES. */
  metric: MetricSeriesName;
  /** Lane (thread) name; default `replay`, or `candidate` in compare mode. */
  lane?: LaneName;
  /** First and last event (1-based, inclusive); default the whole replayed range. */
  from?: number;
  to?: number;
  /** At most this many buckets (default 1000); each bucket gives mean, min and max. */
  maxPoints?: number;
  /** Running mean from event 1 instead of per-event values (e.g. hit rate over time). */
  cumulative?: boolean;
  /**
   * The caller already holds the first `buckets` buckets of an earlier answer with this bucket size
   * (same metric, lane, mode and `from`): the answer then starts at the last of them (see `first`).
   */
  known?: { bucketSize: number; buckets: number };
  /** Also each bucket's faults (faultMask, faultFrom, faultTo), the bits named by the answer's `faultKinds`. */
  faults?: boolean;
}

/** One bucket of a series: events [from, to], with statistics over the defined values in it. */
export interface MetricBucket {
  from: number;
  to: number;
  /** null when no event in the bucket had a defined value. */
  mean: number | null;
  min: number | null;
  max: number | null;
  /** With `faults`: bit i set when an event of the bucket raised fault kind `faultKinds[i]` of the answer. */
  faultMask?: number;
  /** With `faults`: the bucket's first and last event that raised a fault (0 when none did). */
  faultFrom?: number;
  faultTo?: number;
}

export interface MetricSeriesResponseBody {
  metric: MetricSeriesName;
  lane: LaneName;
  from: number;
  to: number;
  /** Events per bucket (1 when not downsampled). */
  bucketSize: number;
  /** Index of the first bucket given: 0 unless `known` let the answer leave out buckets the caller holds. */
  first: number;
  buckets: MetricBucket[];
  /** With `faults`: the fault kind of each bit of the buckets' faultMask (bit i = faultKinds[i]). */
  faultKinds?: string[];
  /**
   * With `faults`: for each kind the lane has raised so far (in faultKinds order), the first event
   * that raised it and how many it raised (a nan_score is one per candidate) — over the whole
   * replay so far, whatever the range asked.
   */
  firstFaults?: { kind: string; event: number; count: number }[];
}
