/** Slice format v1: the records of a `NAME.slice/` folder (see docs/slice-format.md). */

export const SLICE_FORMAT = 'recreplay.slice/1';

/** Larger than any manifest (~90 bytes per chunk hash: 16 MiB holds a 64 GiB events file in 1 MiB chunks); what reads one unchecked stops there, and the writer writes none larger. */
export const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;

/** The six pipeline stages, in execution order. */
export const STAGES = ['retrieve', 'features', 'score', 'rerank', 'serve', 'outcome'] as const;
export type StageName = (typeof STAGES)[number];

export type FeatureValue = number | string | boolean | null;
export type FeatureMap = Record<string, FeatureValue>;

export interface CandidateRecord {
  item: string;
  features?: FeatureMap;
  /** The score the production ranker gave, if it was logged. */
  score?: number;
  [extra: string]: unknown;
}

export interface OutcomeRecord {
  clicks?: string[];
  /** null: not recorded, as when left out. */
  dwellMs?: Record<string, number> | null;
  [extra: string]: unknown;
}

export interface SystemRecord {
  // null for any of these is "not recorded", as when left out (docs/slice-format.md, Event record).
  latencyMs?: Partial<Record<StageName, number | null>> | null;
  queueDepth?: number | null;
  cache?: { hits?: number | null; misses?: number | null } | null;
  fallback?: boolean | null;
  [extra: string]: unknown;
}

/** One recommendation request: line N of events.jsonl is event N (1-based). */
export interface EventRecord {
  id: string;
  /** ISO-8601 timestamp. */
  t: string;
  user: string;
  session?: string;
  context?: FeatureMap;
  candidates: CandidateRecord[];
  served: string[];
  outcome?: OutcomeRecord;
  /** null: not recorded, as when left out. */
  system?: SystemRecord | null;
  /** When each recorded feature value was computed (ISO-8601); feature age = t - featureTimes[name]. */
  featureTimes?: Record<string, string> | null;
  [extra: string]: unknown;
}

export interface ItemRecord {
  id: string;
  category?: string;
  /** Group for exposure parity (defaults to the category). */
  group?: string;
  features?: FeatureMap;
  metadata?: Record<string, unknown>;
  /** Availability windows; an item with none is always available. */
  available?: { from?: string; to?: string }[];
  embedding?: number[];
  [extra: string]: unknown;
}

export interface UserRecord {
  id: string;
  segment?: string;
  features?: FeatureMap;
  embedding?: number[];
  [extra: string]: unknown;
}

export interface VersionRef {
  name: string;
  version: string;
  sha256?: string;
}

export interface FileEntry {
  /** Relative to the slice folder; never escapes it. */
  path: string;
  sha256: string;
  bytes: number;
  records?: number;
  /** Per-chunk hashes so integrity can be checked as chunks are first read. */
  chunks?: { size: number; sha256: string[] };
}

export type FeatureType = 'number' | 'string' | 'boolean';

export interface SliceManifest {
  format: typeof SLICE_FORMAT;
  name: string;
  description: string;
  frozenAt: string;
  source: {
    kind: 'logs' | 'synthetic' | 'hybrid';
    query?: string;
    window?: { from: string; to: string };
    generator?: string;
    fittedFrom?: string;
  };
  clock: { start: string; timezone: string };
  seed: number;
  versions: {
    model?: VersionRef;
    preprocessing?: VersionRef;
    featurePipeline?: VersionRef;
    code?: VersionRef;
    [extra: string]: VersionRef | undefined;
  };
  schema: {
    user: Record<string, FeatureType>;
    item: Record<string, FeatureType>;
    context: Record<string, FeatureType>;
    candidate: Record<string, FeatureType>;
  };
  files: FileEntry[];
  redaction: { identifiers: string; dropped: string[] };
  faults: { kind: string; event: string; note?: string }[];
  /** Pipeline settings recorded with the slice (budgets, top-k). */
  pipeline?: PipelineSettings;
}

export interface PipelineSettings {
  /** Slate size served to the user. */
  k: number;
  /** Total latency budget in ms; over it the fallback ranking is served. */
  budgetMs: number;
  /** Per-stage budgets in ms (a fault is flagged when a stage breaks its own). */
  stageBudgetMs?: Partial<Record<StageName, number>>;
  /** Feature age (seconds) past which a value counts as stale. */
  staleAfterSec?: number;
  /** At most this many items of one category in the slate (0 = no rule). */
  maxPerCategory?: number;
}

export const DEFAULT_PIPELINE: PipelineSettings = { k: 10, budgetMs: 150, staleAfterSec: 86_400, maxPerCategory: 0 };
