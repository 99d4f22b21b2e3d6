/**
 * Plugging in a model written in code: a worked example.
 *
 *   node --import tsx examples/custom-ranker.ts [SLICE] [TRACE_DIR]
 *
 * A ranker is an object with `info` (what goes into the run record) and `score(req)`, which gets
 * the event, the user, the replay state and the candidate rows, and returns one score per row, in
 * row order (a fresh array each call). Here: the cold-start example's linear model with a boost
 * for items listed in the last 30 days, read from the item records — the fix the cold-start
 * fault calls for. runHeadless replays the slice with it and writes the trace and run record as
 * for a built-in ranker. Scoring may also be asynchronous (return a promise) for a model behind
 * a socket or in another process.
 */
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import { runHeadless } from '../src/core/engine/run';
import type { Ranker, ScoreRequest } from '../src/core/rankers/types';

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const num = (v: unknown) => (typeof v === 'number' ? v : 0);

const freshnessAware: Ranker = {
  info: { kind: 'code:freshness-aware', version: '1' },
  score(req: ScoreRequest): Float64Array {
    const out = new Float64Array(req.rows.length);
    for (let i = 0; i < req.rows.length; i++) {
      const row = req.rows[i];
      if (!row) continue;
      // What the event recorded for this candidate, and the catalogue's record of the item.
      const f = row.rec.features ?? {};
      const ageDays = num(row.itemRec?.features?.['age_days']);
      const s = 0.9 * num(f['pop_30d']) + 20 * num(f['ctr_7d']) + 0.6 * num(f['cat_match']) - 4;
      out[i] = sigmoid(s + (ageDays < 30 ? 4.5 : 0));
    }
    return out;
  },
};

/** The OS user (not $USER, which a shell may not set or may set to anything) and this machine's name: the run record's audit trail. */
function whoAmI(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown'; // a container user without a passwd entry
  }
}

const [slice = join(__dirname, 'slices/cold-start.slice'), traceDir] = process.argv.slice(2);
runHeadless({ slice, ranker: freshnessAware, ...(traceDir ? { traceDir } : {}) }, { now: () => new Date().toISOString(), user: whoAmI(), host: hostname(), cwd: process.cwd() }).then(
  (r) => {
    r.replayer.dispose();
    console.log(`replayed ${r.events} events with ${r.ranker.kind}`);
    for (const name of ['hit_rate@10', 'coverage@10', 'exposure_parity']) console.log(`  ${name.padEnd(16)} ${r.metrics[name]}`);
    // A score that throws, rejects, is not a number or gives the wrong count does not stop the
    // replay: the event is served the fallback ranking and a ranker_error or nan_score fault says
    // so. Print them, or a model failing on every event reads as the fallback's metrics.
    for (const [kind, f] of Object.entries(r.faults)) {
      console.log(`  fault ${kind}: ${f.count} in ${f.events} events, first at event ${f.firstEvent} (${f.firstId}): ${f.example}`);
    }
    if (r.trace) console.log(`trace ${r.trace}, run record ${r.runRecord}`);
  },
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(3);
  },
);
