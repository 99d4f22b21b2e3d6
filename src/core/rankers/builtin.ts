import type { CandidateRow } from '../engine/rows';
import type { Ranker, RankerInfo, ScoreRequest } from './types';

/**
 * Scores as logged in production. When any candidate it scores has no logged (numeric) score,
 * every candidate is scored from its recorded rank instead, (m − rank + 1)/(m + 1) with m the
 * largest recorded rank among them: a stand-in beside logged scores would sit on another scale and
 * reorder the recording, while rank-derived scores replay the recorded order exactly.
 */
export class RecordedRanker implements Ranker {
  readonly info: RankerInfo = { kind: 'recorded' };
  score(req: ScoreRequest): Float64Array {
    const rows = req.rows;
    const n = rows.length;
    const out = new Float64Array(n);
    let logged = true;
    let m = 0;
    for (let i = 0; i < n; i++) {
      const r = rows[i] as CandidateRow;
      const s = r.rec.score;
      if (typeof s === 'number') out[i] = s;
      else logged = false;
      if (r.recordedRank > m) m = r.recordedRank;
    }
    if (!logged) for (let i = 0; i < n; i++) out[i] = (m - (rows[i] as CandidateRow).recordedRank + 1) / (m + 1);
    return out;
  }
}

/**
 * Popularity from replay state: clicks, then impressions, so feedback loops show. Ties keep the
 * recorded order (the engine breaks ties by recorded rank).
 */
export class PopularityRanker implements Ranker {
  readonly info: RankerInfo = { kind: 'popularity' };
  score(req: ScoreRequest): Float64Array {
    const out = new Float64Array(req.rows.length);
    const st = req.state;
    // Clicks first, impressions only between equal clicks (as the fallback ranking orders): the
    // impressions term stays below 1. A fixed 1e-6 weight let 1.5M impressions outweigh a click.
    let most = 0;
    for (const r of req.rows) most = Math.max(most, st.impressions[r.slot] ?? 0);
    req.rows.forEach((r, i) => {
      out[i] = (st.clicks[r.slot] ?? 0) + (st.impressions[r.slot] ?? 0) / (most + 1);
    });
    return out;
  }
}
