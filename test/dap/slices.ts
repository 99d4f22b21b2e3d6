// Small slices built to make one fault detector fire at a known event, and an in-process replay
// that the adapter's answers are checked against.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FaultKind } from '../../src/core/engine/faults';
import { Replayer, type EventExec } from '../../src/core/engine/replay';
import { loadRanker } from '../../src/core/rankers';
import { Slice } from '../../src/core/slice/reader';
import type { EventRecord, PipelineSettings } from '../../src/core/slice/types';
import { writeSlice } from '../../src/core/slice/writer';
import { tmp } from '../helpers';

const T0 = Date.parse('2025-03-01T10:00:00Z');
const N_CANDS = 8;

/** Event n: candidates c0..c7 with x falling from c0 to c7, recorded served = top 4 by x, a click on the first served. */
function baseEvent(n: number): EventRecord {
  const candidates = Array.from({ length: N_CANDS }, (_, i) => ({ item: `c${i}`, features: { x: (N_CANDS - i) / N_CANDS }, score: (N_CANDS - i) / N_CANDS }));
  return {
    id: `e${n}`,
    t: new Date(T0 + n * 1000).toISOString(),
    user: 'u1',
    candidates,
    served: candidates.slice(0, 4).map((c) => c.item),
    outcome: { clicks: ['c0'] },
    system: { latencyMs: { retrieve: 5, features: 10, score: 10, rerank: 1 } },
    featureTimes: { x: new Date(T0 + n * 1000 - 60_000).toISOString() },
  };
}

export interface FaultCase {
  slice: string;
  ranker: string;
  /** The event where the detector must fire first. */
  event: number;
  /** Exception filter condition to use, if any. */
  condition?: string;
}

/** The event the faults below are planted at. */
export const FAULT_EVENT = 7;

/** Writes a slice (and a linear ranker over feature x) where `kind` fires first at FAULT_EVENT (metric_drop: see below). */
export function faultSlice(kind: FaultKind | 'metric_drop_default'): FaultCase {
  const dir = tmp('recreplay-dap-');
  const pipeline: PipelineSettings = { k: 4, budgetMs: 100, staleAfterSec: 3600 };
  let weights: Record<string, number> = { x: 1 };
  let count = 20;
  let event = FAULT_EVENT;
  let condition: string | undefined;
  const plant: (e: EventRecord, n: number) => void = (e, n) => {
    if (n !== FAULT_EVENT) return;
    switch (kind) {
      case 'nan_score':
        (e.candidates[2] as { features: Record<string, number> }).features['x'] = 10;
        break;
      case 'empty_slate':
        e.candidates = [];
        e.served = [];
        e.outcome = { clicks: [] };
        break;
      case 'over_budget':
        e.system = { latencyMs: { retrieve: 5, features: 10, score: 500, rerank: 1 } };
        break;
      case 'stage_over_budget':
        e.system = { latencyMs: { retrieve: 5, features: 80, score: 10, rerank: 1 } };
        break;
      case 'stale_feature':
        e.featureTimes = { x: new Date(T0 + n * 1000 - 2 * 86_400_000).toISOString() };
        break;
      case 'divergence':
        // Production served the four lowest-x items; the replay ranks by x: no overlap.
        e.served = e.candidates.slice(4).map((c) => c.item);
        break;
      default:
        break;
    }
  };
  if (kind === 'nan_score') weights = { x: 1e308 };
  if (kind === 'stage_over_budget') pipeline.stageBudgetMs = { features: 30 };
  if (kind === 'metric_drop' || kind === 'metric_drop_default') {
    // Clicks land on the top item for 400 events, then on the bottom one (never served): hit rate collapses.
    count = 600;
    event = kind === 'metric_drop' ? 426 : 451;
    condition = kind === 'metric_drop' ? 'hit 25% window 100' : undefined;
  }
  const events: EventRecord[] = [];
  for (let n = 1; n <= count; n++) {
    const e = baseEvent(n);
    if (n > 400) e.outcome = { clicks: [`c${N_CANDS - 1}`] };
    plant(e, n);
    events.push(e);
  }
  const slice = join(dir, `${kind}.slice`);
  writeSlice(slice, { manifest: { name: kind, description: `fires ${kind}`, source: { kind: 'synthetic', generator: 'test/dap/slices.ts' }, seed: 3, pipeline, schema: { user: {}, item: {}, context: {}, candidate: { x: 'number' } } }, events, items: Array.from({ length: N_CANDS }, (_, i) => ({ id: `c${i}`, category: i % 2 ? 'a' : 'b' })), users: [{ id: 'u1', segment: 'new' }] }, { frozenAt: '2025-03-02T00:00:00.000Z' });
  const rankerPath = join(dir, 'ranker.json');
  writeFileSync(rankerPath, JSON.stringify({ weights, bias: 0 }));
  return { slice, ranker: `linear:${rankerPath}`, event, ...(condition ? { condition } : {}) };
}

/** Replays a slice in-process and hands every completed event to `visit` (the reference the adapter is checked against). */
export async function replayEach(slice: string, ranker: string, visit: (ex: EventExec, r: Replayer) => void | boolean): Promise<void> {
  const s = Slice.open(slice);
  const r = new Replayer(s, { ranker: loadRanker(ranker, { slice: s }) });
  try {
    while (r.advance()) {
      await r.finishEvent();
      if (visit(r.current as EventExec, r) === true) return;
    }
  } finally {
    r.dispose();
  }
}
