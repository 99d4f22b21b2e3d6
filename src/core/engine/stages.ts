import type { CandidateRecord, ItemRecord, StageName } from '../slice/types';
import type { EventObservation, EventSlots } from '../metrics';
import type { EventExec, Replayer } from './replay';
import type { ReplayState } from './state';
import { CandidateRow } from './rows';
import { hasId, idsFor, indexOfId, positionsFor, type Ids, type Positions } from './idLookup';
import { parseInstant } from '../time';
import { shown } from '../errors';

/** Simulated cost of a stage when the slice did not record one (ms). */
const DEFAULT_LATENCY: Record<StageName, number> = { retrieve: 5, features: 10, score: 10, rerank: 1, serve: 0.5, outcome: 0 };

function latency(r: Replayer, ex: EventExec, stage: StageName): number {
  const recorded = ex.event.system?.latencyMs?.[stage];
  if (typeof recorded === 'number' && Number.isFinite(recorded)) return recorded;
  if (stage === 'score' && r.ranker.latencyMs) {
    // A ranker's own code: an estimate that is no number of ms (NaN made every budget check pass)
    // or that throws is the ranker failing, as a score that throws is; the default stands in.
    // (Its scores still count: the fallback is forced only by a ranker that gave no scores.)
    let ms: unknown;
    try {
      ms = r.ranker.latencyMs(ex.rows.length);
    } catch (e) {
      ex.faults.push({ kind: 'ranker_error', stage: 'score', message: `ranker failed: its latencyMs(${ex.rows.length}) threw ${textOf(e)}; ${DEFAULT_LATENCY.score} ms assumed` });
      return DEFAULT_LATENCY.score;
    }
    if (typeof ms === 'number' && Number.isFinite(ms) && ms >= 0) return ms;
    const what = isThenable(ms) ? 'a promise (the estimate is asked for at once, not awaited)' : `${shownValue(ms)}, not a number of ms ≥ 0`;
    ex.faults.push({ kind: 'ranker_error', stage: 'score', message: `ranker failed: its latencyMs(${ex.rows.length}) returned ${what}; ${DEFAULT_LATENCY.score} ms assumed` });
  }
  return DEFAULT_LATENCY[stage];
}

/** What a ranker threw, as text, whatever it threw (String() of an object without a prototype throws). */
function textOf(v: unknown): string {
  try {
    return v instanceof Error ? v.message : String(v);
  } catch {
    return Object.prototype.toString.call(v);
  }
}

/** A value a ranker gave, as a message shows it (shown never fails: a cycle, an object without a prototype); a BigInt with its n, or it reads as a number. */
function shownValue(v: unknown): string {
  return typeof v === 'bigint' ? `${v}n` : shown(v);
}

/** A promise of any realm, or any object with a then(): what `await` would wait for. */
function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (typeof v === 'object' || typeof v === 'function') && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

/** Events whose ranker gave no scores (it threw, rejected, or gave the wrong count): serve falls back. */
const scoreless = new WeakSet<EventExec>();

function isAvailable(windows: { from?: string; to?: string }[] | undefined, t: number): boolean {
  if (!windows || windows.length === 0) return true;
  return windows.some((w) => (w.from === undefined || parseInstant(w.from) <= t) && (w.to === undefined || t < parseInstant(w.to)));
}

/** Runs one stage of an event, mutating the execution record and (at outcome) the replay state. */
export function runStage(r: Replayer, ex: EventExec, stage: StageName): void | Promise<void> {
  ex.latencyMs[stage] = latency(r, ex, stage);
  const budget = r.pipeline.stageBudgetMs?.[stage];
  if (budget !== undefined && ex.latencyMs[stage] > budget) {
    ex.faults.push({ kind: 'stage_over_budget', stage, message: `${stage} took ${ex.latencyMs[stage]} ms, over its ${budget} ms budget`, value: ex.latencyMs[stage] });
  }
  switch (stage) {
    case 'retrieve':
      return retrieve(r, ex);
    case 'features':
      return features(r, ex);
    case 'score':
      return score(r, ex);
    case 'rerank':
      return rerank(r, ex);
    case 'serve':
      return serve(r, ex);
    case 'outcome':
      return outcome(r, ex);
  }
}

function retrieve(r: Replayer, ex: EventExec): void {
  const ranks = ex.candidateRanks;
  const slots = ex.candidateSlots;
  const st = r.state;
  const items = r.itemBySlot;
  const windowed = r.windowed;
  const cands = ex.event.candidates;
  // Duplicated candidates keep their first occurrence; only look for them when there are some.
  const seen = ex.hasDuplicates ? new Set<string>() : undefined;
  for (let i = 0; i < cands.length; i++) {
    const c = cands[i] as CandidateRecord;
    if (seen) {
      if (seen.has(c.item)) continue;
      seen.add(c.item);
    }
    const slot = slots[i] as number;
    const itemRec = slot < items.length ? items[slot] : undefined;
    // Only items with availability windows are looked at here (the flag array avoids touching every record).
    if (windowed[slot] === 1 && !isAvailable((itemRec as ItemRecord).available, ex.tMs)) {
      ex.dropped.push(c.item);
      continue;
    }
    ex.rows.push(new CandidateRow(c.item, slot, c, itemRec, ranks[i] as number, st.previousRank(slot)));
  }
}

function features(r: Replayer, ex: EventExec): void {
  const times = ex.event.featureTimes;
  if (!times) return;
  const limit = r.pipeline.staleAfterSec ?? Infinity;
  for (const name in times) {
    const at = parseInstant(times[name] as string);
    if (Number.isNaN(at)) continue;
    const ageSec = (ex.tMs - at) / 1000;
    if (ageSec > limit) ex.stale.push({ name, ageSec });
  }
  if (ex.stale.length) {
    const worst = ex.stale.reduce((a, b) => (b.ageSec > a.ageSec ? b : a));
    // Whole seconds, unless rounding would show an age that is not over the limit (36000.4 s as "36000 s").
    const age = Math.round(worst.ageSec) > limit ? Math.round(worst.ageSec) : Math.ceil(worst.ageSec * 10) / 10;
    ex.faults.push({ kind: 'stale_feature', stage: 'features', message: `${ex.stale.map((s) => s.name).join(', ')} older than ${limit} s (worst ${worst.name}: ${age} s)`, value: worst.ageSec });
  }
}

function applyScores(ex: EventExec, scores: ArrayLike<number>): void {
  if (scores.length !== ex.rows.length) throw new Error(`ranker returned ${scores.length} scores for ${ex.rows.length} candidates`);
  // A Float64Array is the engine's to keep (Ranker.score hands over a fresh array); anything else is copied.
  const out = scores instanceof Float64Array ? scores : new Float64Array(ex.rows.length);
  for (let i = 0; i < ex.rows.length; i++) {
    const given: unknown = scores[i];
    // Only a number is a score: null (how JSON writes NaN), "" or a boolean counted as 0 or 1 without a word.
    const s = typeof given === 'number' ? given : Number.NaN;
    out[i] = s;
    (ex.rows[i] as CandidateRow).score = s;
    if (!Number.isFinite(s)) {
      const what = typeof given === 'number' ? String(s) : `${given === null ? 'null' : given === undefined ? 'missing' : shownValue(given)}, not a number`;
      ex.faults.push({ kind: 'nan_score', stage: 'score', message: `score of ${ex.rows[i]?.item} is ${what}`, item: ex.rows[i]?.item as string, value: s });
    }
  }
  ex.scores = out;
}

/** Whether any score is a finite number. */
function anyFinite(scores: ArrayLike<number>): boolean {
  for (let i = 0; i < scores.length; i++) if (Number.isFinite(scores[i])) return true;
  return false;
}

function rankerFailed(ex: EventExec, e: unknown): void {
  // A ranker may throw anything, null, undefined and objects String() refuses included: the fault says what it threw.
  ex.faults.push({ kind: 'ranker_error', stage: 'score', message: `ranker failed: ${textOf(e)}` });
  ex.scores = new Float64Array(ex.rows.length).fill(Number.NaN);
  for (const row of ex.rows) row.score = Number.NaN;
  scoreless.add(ex);
}

function score(r: Replayer, ex: EventExec): void | Promise<void> {
  let result;
  try {
    result = r.ranker.score({ event: ex.event, user: ex.user, state: r.state, rows: ex.rows });
  } catch (e) {
    return rankerFailed(ex, e);
  }
  if (isThenable(result)) {
    // Any promise — another realm's (a vm context), a thenable — is awaited, as `await` would.
    // Scores of the wrong length are a ranker error here too, not a rejection of the replay.
    return Promise.resolve(result).then(
      (s) => {
        try {
          applyScores(ex, s);
        } catch (e) {
          rankerFailed(ex, e);
        }
      },
      (e) => rankerFailed(ex, e),
    );
  }
  try {
    applyScores(ex, result);
  } catch (e) {
    rankerFailed(ex, e);
  }
}

/** Non-finite scores sort last; ties keep the recorded order, so the result is total and stable. */
export function byScore(a: CandidateRow, b: CandidateRow): number {
  const sa = Number.isFinite(a.score) ? a.score : -Infinity;
  const sb = Number.isFinite(b.score) ? b.score : -Infinity;
  return sb - sa || a.recordedRank - b.recordedRank;
}

/** Rows in replayed order: byScore, by insertion for the few dozen rows of a slate (no comparator calls). */
export function sortByScore(rows: readonly CandidateRow[]): CandidateRow[] {
  const n = rows.length;
  if (n > 64) return rows.slice().sort(byScore);
  const out = new Array<CandidateRow>(n);
  const key = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const row = rows[i] as CandidateRow;
    const k = Number.isFinite(row.score) ? row.score : -Infinity;
    let j = i - 1;
    // Move down past rows that sort after this one: lower score, or the same score and a later recorded rank.
    while (j >= 0 && ((key[j] as number) < k || ((key[j] as number) === k && (out[j] as CandidateRow).recordedRank > row.recordedRank))) {
      out[j + 1] = out[j] as CandidateRow;
      key[j + 1] = key[j] as number;
      j--;
    }
    out[j + 1] = row;
    key[j + 1] = k;
  }
  return out;
}

function rerank(r: Replayer, ex: EventExec): void {
  let order = sortByScore(ex.rows);
  const cap = r.pipeline.maxPerCategory ?? 0;
  if (cap > 0) {
    // Business rule: at most `cap` items of a category; the rest move below, in order. An item with
    // no category (or not in the catalogue) is capped by none: all of them counted as one category
    // "?" pushed every uncategorised item but the first below, with a real category "?". No
    // category is what the metrics read as none too: left out, null (as the format says) or "".
    // (Capped together, nulls had moved every uncategorised item but `cap` below.)
    const per = new Map<string, number>();
    const head: CandidateRow[] = [];
    const tail: CandidateRow[] = [];
    for (const row of order) {
      const cat = row.itemRec?.category;
      if (cat === undefined || cat === null || cat === '') {
        head.push(row);
        continue;
      }
      const c = per.get(cat) ?? 0;
      (c < cap ? head : tail).push(row);
      per.set(cat, c + 1);
    }
    order = head.concat(tail);
  }
  const ranked = new Array<string>(order.length);
  for (let i = 0; i < order.length; i++) {
    const row = order[i] as CandidateRow;
    row.rank = i + 1;
    ranked[i] = row.item;
  }
  ex.rankedRows = order;
  ex.ranked = ranked;
}

/** Fallback ranking: replay-state popularity (clicks, then impressions), then the recorded order. */
function fallbackRanking(r: Replayer, ex: EventExec): CandidateRow[] {
  const { clicks, impressions } = r.state;
  return ex.rows.slice().sort((a, b) => (clicks[b.slot] as number) - (clicks[a.slot] as number) || (impressions[b.slot] as number) - (impressions[a.slot] as number) || a.recordedRank - b.recordedRank);
}

/**
 * Whether a sum of stage latencies exceeds the budget. The stages are added as doubles: 12.1 +
 * 48.7 + 85.4 + 3.3 + 0.5 is 150.00000000000003, which must not count as over a 150 ms budget.
 * The tolerance is that of the sum's rounding — a few units in the last place of its magnitude,
 * ~1e-13 ms at 150 ms — so a real overrun of 1e-7 ms counts (1e-9 of the budget ignored it, while
 * the per-stage check, a single value, counted it).
 */
export function overBudget(totalMs: number, budgetMs: number): boolean {
  // Finite latencies can add up to Infinity (1e308 twice), where the tolerance below is Infinity too.
  if (totalMs === Infinity) return budgetMs !== Infinity;
  return totalMs - budgetMs > 16 * Number.EPSILON * Math.max(1, Math.abs(budgetMs), Math.abs(totalMs));
}

/**
 * A latency sum as a message shows it beside the budget it is over: no binary-fraction tail
 * (150.00000000000003 → 150), unless rounding would make it read as the budget itself (150.0000001
 * over 150 stays 150.0000001, not "150 ms, over the 150 ms budget").
 */
export function roundMs(ms: number, over?: number): number {
  const r = Math.round(ms * 1e6) / 1e6;
  return over !== undefined && !(r > over) ? ms : r;
}

/** The latency of the pipeline up to serving (the budget's scope: outcome is after the response). */
export function pipelineMs(L: Record<StageName, number>): number {
  return L.retrieve + L.features + L.score + L.rerank + L.serve;
}

function serve(r: Replayer, ex: EventExec): void {
  const k = r.pipeline.k;
  const total = pipelineMs(ex.latencyMs);
  const rankerError = scoreless.has(ex);
  if (overBudget(total, r.pipeline.budgetMs) || rankerError) {
    ex.fallback = true;
    ex.servedRows = fallbackRanking(r, ex).slice(0, k);
    if (!rankerError) ex.faults.push({ kind: 'over_budget', stage: 'serve', message: `pipeline took ${roundMs(total, r.pipeline.budgetMs)} ms, over the ${r.pipeline.budgetMs} ms budget: fallback ranking served`, value: total });
  } else {
    ex.servedRows = ex.rankedRows.slice(0, k);
  }
  ex.served = ex.servedRows.map((row) => row.item);
  if (ex.served.length === 0) ex.faults.push({ kind: 'empty_slate', stage: 'serve', message: 'nothing was served (no available candidates)' });
}

/**
 * The attractiveness to this event's user of an item the replay serves where the recording did not,
 * in the position-based model (a click is examination and attractiveness): certain for an item the
 * recording saw clicked (a click needs both); for one it showed at position q without a click, the
 * item's attractiveness a given that no click, `a(1 − e_q)/(1 − a·e_q)` with e_q = 1/log2(q+1) — an
 * item shown first and not clicked was examined and found unattractive; else a, what the
 * recording shows of the item (ReplayState.attractiveness). Giving a shown, unclicked item the
 * item's average made any reordering of the logged slate look better (+30% CTR for the reversed
 * slate, whose true CTR is the recording's).
 */
function attractivenessFor(st: ReplayState, row: CandidateRow, recordedServed: Positions, recordedClicks: Ids): number {
  if (hasId(recordedClicks, row.item)) return 1;
  const a = Math.min(1, st.attractiveness(row.slot));
  const q = indexOfId(recordedServed, row.item);
  if (q < 0) return a;
  const e = 1 / Math.log2(q + 2);
  const rest = 1 - a * e;
  return rest > 0 ? (a * (1 - e)) / rest : 0;
}

/**
 * Outcome: where the replay served what was recorded at that position, the recorded click
 * stands; elsewhere a position-based click model decides: a click at position p is examination
 * 1/log2(p+1) times the item's attractiveness to this user, which is what the recording says of it
 * (see attractivenessFor), drawing from the event's own random stream.
 */
function outcome(r: Replayer, ex: EventExec): void {
  const recordedClicks = ex.event.outcome?.clicks ?? [];
  const recordedServed = ex.event.served;
  const st = r.state;
  const n = ex.servedRows.length;
  let fromModel = 0;
  for (let i = 0; i < n; i++) if (recordedServed[i] !== (ex.servedRows[i] as CandidateRow).item) fromModel++;
  // One draw per position, used or not: two rankers replayed on one event (compare mode) draw the
  // same number at the same position, so their clicks differ only where their slates do (drawn
  // only for simulated positions, a draw's place depended on how many came before it).
  let draws: number[] | undefined;
  if (fromModel > 0) {
    const rng = r.random('click', ex.event.id);
    draws = [];
    for (let i = 0; i < n; i++) draws.push(rng.next());
  }
  const clicked: boolean[] = [];
  const clickIds = idsFor(recordedClicks, n);
  const servedAt = positionsFor(recordedServed, fromModel);
  for (let i = 0; i < n; i++) {
    const row = ex.servedRows[i] as CandidateRow;
    let click: boolean;
    if (recordedServed[i] === row.item) click = hasId(clickIds, row.item);
    else {
      const u = (draws as number[])[i] as number;
      click = u < attractivenessFor(st, row, servedAt, clickIds) / Math.log2(i + 2);
    }
    clicked.push(click);
    if (click) ex.clicks.push(row.item);
  }
  const fromRecord = n - fromModel;
  ex.outcomeSource = fromModel === 0 ? 'recorded' : fromRecord === 0 ? 'model' : 'mixed';
  const sys = ex.event.system;
  const slots = observationSlots(r, ex, clicked);
  const obs: EventObservation = {
    index: ex.n,
    ranked: ex.ranked,
    served: ex.served,
    recorded: ex.recorded,
    recordedRanked: ex.recordedRanked,
    relevant: recordedClicks,
    clicks: ex.clicks,
    fallback: ex.fallback,
    latencyMs: ex.latencyMs,
    // Items are already resolved to slots here; handing them over spares the metrics their own lookups.
    slots,
  };
  // Candidates logged with the same score: their candidate order is no order of the recording's.
  if (ex.recordedTies !== undefined) obs.recordedTies = ex.recordedTies;
  if (ex.scores !== undefined && ex.rows.length > 0 && !anyFinite(ex.scores)) obs.unscored = true;
  // null is a system not recorded, as the slice format allows (and as when it is left out).
  if (sys !== undefined && sys !== null) {
    if (typeof sys.queueDepth === 'number') obs.queueDepth = sys.queueDepth;
    // Counted only when both figures were recorded as numbers ({"hits": 9} alone would make the
    // running totals NaN, and every later checkpoint unrestorable).
    const cache = sys.cache;
    if (cache && typeof cache.hits === 'number' && typeof cache.misses === 'number') obs.cache = { hits: cache.hits, misses: cache.misses };
  }
  ex.metrics = r.metrics.update(obs);
  const div = divergence(ex, r.pipeline.k);
  if (div !== undefined && div.ratio < DIVERGENCE_BELOW) {
    const message = `top-${r.pipeline.k} overlap with the recorded ranking is ${div.ratio.toFixed(2)}: ${div.common} of ${div.compared} in common between the ${ex.served.length} served and the recorded top ${div.recordedTop}`;
    ex.faults.push({ kind: 'divergence', stage: 'outcome', message, value: div.ratio });
  }
  for (let i = 0; i < ex.servedRows.length; i++) st.impress((ex.servedRows[i] as CandidateRow).slot, clicked[i] as boolean, ex.tMs);
  // The recording's served slate feeds the click model from the next event on.
  st.recordLogged(recordedServed, recordedClicks);
  st.recordRanks(ex.n, slots.ranked);
}

/** The divergence detector fires below this share of the items the slates could have in common. */
const DIVERGENCE_BELOW = 0.5;

/** What the divergence detector compared at one event. */
export interface Divergence {
  /** Served items that are in the recorded top k. */
  common: number;
  /** How many the two could share: min(k, max(|served|, |recorded top k|)). */
  compared: number;
  /** Size of the recorded top k. */
  recordedTop: number;
  /** common / compared: 1 when the replay served the recorded slate. */
  ratio: number;
}

/**
 * The divergence detector's measure at an event whose outcome stage ran: the served slate's items
 * in the recorded top k over min(k, max(|served|, |recorded top k|)), so a replay that serves what
 * was recorded reads 1 even when fewer than k items were served (the overlap@k metric divides by k
 * and would read 4/10 there). Undefined before the metrics or when nothing was served.
 */
export function divergence(ex: EventExec, k: number): Divergence | undefined {
  const overlap = ex.metrics?.overlap;
  if (typeof overlap !== 'number' || ex.served.length === 0 || k <= 0) return undefined;
  // overlap@k is pinned as |served ∩ recorded top k| / k, so the count comes back without a second scan.
  const common = Math.round(overlap * k);
  const recordedTop = Math.min(k, ex.recorded.length);
  const compared = Math.min(k, Math.max(ex.served.length, recordedTop));
  return { common, compared, recordedTop, ratio: common / compared };
}

/** The observation's id lists as state slots (recorded order from the rows' recorded ranks). */
function observationSlots(r: Replayer, ex: EventExec, clicked: readonly boolean[]): EventSlots {
  const st = r.state;
  const recorded = ex.recordedSlots;
  // Plain arrays: the metrics take either, and a few dozen numbers allocate faster untyped.
  const served: number[] = [];
  const clicks: number[] = [];
  for (let i = 0; i < ex.servedRows.length; i++) {
    const slot = (ex.servedRows[i] as CandidateRow).slot;
    served.push(slot);
    if (clicked[i]) clicks.push(slot);
  }
  const ranked: number[] = [];
  for (let i = 0; i < ex.rankedRows.length; i++) ranked.push((ex.rankedRows[i] as CandidateRow).slot);
  const relevantIds = ex.event.outcome?.clicks ?? [];
  const relevant: number[] = [];
  for (let i = 0; i < relevantIds.length; i++) relevant.push(st.slot(relevantIds[i] as string));
  return { ranked, served, recorded, relevant, clicks };
}
