import type { Ranker, RankerInfo, ScoreRequest } from './types';

/** Scores as logged in production; when a score was not logged, the recorded order stands in. */
export class RecordedRanker implements Ranker {
  readonly info: RankerInfo = { kind: 'recorded' };
  score(req: ScoreRequest): Float64Array {
    const out = new Float64Array(req.rows.length);
    const n = req.rows.length;
    req.rows.forEach((r, i) => {
      const s = r.rec.score;
      out[i] = typeof s === 'number' ? s : (n - r.recordedRank + 1) / (n + 1);
    });
    return out;
  }
}

/**
 * Popularity from replay state: smoothed click count, so feedback loops show. Ties keep the
 * recorded order (the engine breaks ties by recorded rank).
 */
export class PopularityRanker implements Ranker {
  readonly info: RankerInfo = { kind: 'popularity' };
  score(req: ScoreRequest): Float64Array {
    const out = new Float64Array(req.rows.length);
    const st = req.state;
    req.rows.forEach((r, i) => {
      out[i] = (st.clicks[r.slot] ?? 0) + 1e-6 * (st.impressions[r.slot] ?? 0);
    });
    return out;
  }
}
