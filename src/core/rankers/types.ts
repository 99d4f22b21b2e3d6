import type { CandidateRow, FeatureContext } from '../engine/rows';

/** What a ranker says about itself; goes into the run record. */
export interface RankerInfo {
  kind: string;
  /** Artifact path, resolved (absolute), if any: the run record names the file wherever it is read from. */
  artifact?: string;
  /** sha256 of the artifact bytes. */
  artifactSha256?: string;
  version?: string;
}

export interface ScoreRequest extends FeatureContext {
  rows: readonly CandidateRow[];
}

/**
 * One interface for every ranker: built-ins score synchronously; process and HTTP rankers
 * return a promise, which the engine awaits only when it gets one.
 */
export interface Ranker {
  readonly info: RankerInfo;
  /** Scores in row order. The engine keeps the array it gets: return a new one on every call. */
  score(req: ScoreRequest): ArrayLike<number> | Promise<ArrayLike<number>>;
  /**
   * What the user should know about the ranker as loaded for this slice (a weight on a feature the
   * slice does not have, say): shown before a run, in the terminal or the Debug Console.
   */
  readonly warnings?: readonly string[];
  /** Optional: simulated latency of the score stage for n candidates, when not recorded. */
  latencyMs?(n: number): number;
  dispose?(): void | Promise<void>;
}
