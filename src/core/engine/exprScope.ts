import { BINDINGS, parseExpr, type CheckEnv, type Expr, type ExprCandidate, type ExprScope } from '../expr';
import { children } from '../expr/ast';
import { MetricsAccumulator } from '../metrics';
import { STAGES, type FeatureValue, type StageName } from '../slice/types';
import type { EventExec, Replayer } from './replay';
import { ONLINE_FEATURES, type CandidateRow } from './rows';
import { parseInstant } from '../time';

/**
 * The replayed latency of each stage that has run, null for the stages still to run: a 0 there made
 * `system.latencyMs.serve < 5` hold before serve had run, and the System scope showed zeros.
 */
export function latenciesSoFar(ex: Pick<EventExec, 'latencyMs' | 'stagesDone'>): Record<StageName, number | null> {
  const out = {} as Record<StageName, number | null>;
  for (let i = 0; i < STAGES.length; i++) {
    const st = STAGES[i] as StageName;
    out[st] = i < ex.stagesDone ? ex.latencyMs[st] : null;
  }
  return out;
}

/** The stage a stop at `stagesDone` is "in": the last one that ran, or `retrieve` before any ran. */
export function currentStage(stagesDone: number): StageName {
  return STAGES[Math.max(0, Math.min(STAGES.length, stagesDone) - 1)] as StageName;
}

/** What the expression checker knows about a replayer's slice: schema, metric names, item ids. */
export function checkEnvFor(replayer: Replayer): CheckEnv {
  const m = replayer.slice.manifest;
  return {
    schema: m.schema,
    metrics: MetricsAccumulator.names(replayer.pipeline.k),
    itemIds: replayer.slice.itemById.ids,
    // The Ranking scope shows these; feature() and age() must accept what it shows.
    extraFeatures: ONLINE_FEATURES.map((k) => `online.${k}`),
  };
}

const EMPTY: Readonly<Record<string, never>> = Object.freeze({});
/** Stages done after which candidates have replayed ranks: retrieve, features, score, rerank. */
const RANKED_AFTER = STAGES.indexOf('rerank') + 1;
/** Stages done after which candidates have replayed scores: retrieve, features, score. */
const SCORED_AFTER = STAGES.indexOf('score') + 1;
/** Stages done after which the slate is served and whether it was the fallback is decided. */
const SERVED_AFTER = STAGES.indexOf('serve') + 1;
const NO_IDS: readonly string[] = Object.freeze([]);

// One live metrics view per accumulator instance: getters read the running value, so a condition
// such as `metrics.ctr < 0.01` costs one reader call instead of a 40-key snapshot per event.
const metricViews = new WeakMap<MetricsAccumulator, Record<string, number>>();

function metricsView(acc: MetricsAccumulator): Record<string, number> {
  let view = metricViews.get(acc);
  if (view === undefined) {
    const v: Record<string, number> = {};
    for (const name of MetricsAccumulator.names(acc.k)) {
      Object.defineProperty(v, name, { enumerable: true, get: () => acc.value(name) });
    }
    view = Object.freeze(v);
    metricViews.set(acc, view);
  }
  return view;
}

/** Copies own enumerable fields; a for-in copy is ~25x faster than object spread on parsed JSON (measured). */
function assignInto(out: Record<string, unknown>, from: Record<string, unknown>): void {
  for (const k in from) {
    // JSON.parse makes "__proto__" an own field; assigned, it would replace the copy's prototype.
    if (k === '__proto__') Object.defineProperty(out, k, { value: from[k], enumerable: true, writable: true, configurable: true });
    else out[k] = from[k];
  }
}

/** Candidate and catalogue features joined as the engine's featureValue() reads them (candidate wins). */
function joinedFeatures(row: Pick<CandidateRow, 'rec' | 'itemRec'>): Record<string, FeatureValue> {
  const own = row.rec.features;
  const item = row.itemRec?.features;
  // The common cases share the recorded object: expressions never write.
  if (item === undefined) return own ?? EMPTY;
  if (own === undefined) return item;
  const out: Record<string, FeatureValue> = {};
  assignInto(out, item);
  assignInto(out, own);
  return out;
}

function candidateMeta(row: Pick<CandidateRow, 'itemRec'>): Record<string, unknown> {
  const it = row.itemRec;
  if (it === undefined) return EMPTY;
  if (it.metadata === undefined && it.category === undefined && it.group === undefined) return EMPTY;
  const out: Record<string, unknown> = {};
  if (it.metadata !== undefined) assignInto(out, it.metadata);
  if (it.category !== undefined) out['category'] = it.category;
  if (it.group !== undefined) out['group'] = it.group;
  return out;
}

/**
 * A candidate as expressions see it: a plain object (fast to build and to read). Without
 * `maps` its `features` and `meta` are left empty — for expressions that never read them
 * (CompiledExpr.readsCandidateMaps), such as a continue's `candidates.exists(c, c.rank == 1 &&
 * c.score > 0.9)`, which then builds no merged feature map at any event.
 */
function candidate(row: Pick<CandidateRow, 'rec' | 'itemRec'>, item: string, score: number | null, rank: number | null, recordedRank: number, prevRank: number | null, maps: boolean): ExprCandidate {
  return { item, score, rank, recordedRank, prevRank, features: maps ? joinedFeatures(row) : EMPTY, meta: maps ? candidateMeta(row) : EMPTY };
}

/**
 * The bindings of one stop, built on first use: a breakpoint condition that reads only
 * `score("i_42")` never pays for `event`, `user` or `metrics`. A scope describes one moment;
 * build a new one after the replay moves (helper caches are keyed on the candidates array).
 */
class StopScope implements ExprScope {
  private ev: Record<string, unknown> | undefined;
  private cands: readonly ExprCandidate[] | undefined;
  private out: Record<string, unknown> | undefined;
  private sys: Record<string, unknown> | undefined;

  constructor(
    private readonly ex: EventExec,
    private readonly r: Replayer,
    private readonly maps: boolean,
  ) {}

  get event(): Record<string, unknown> {
    if (this.ev === undefined) {
      const ev: Record<string, unknown> = {};
      assignInto(ev, this.ex.event);
      ev['index'] = ev['line'] = this.ex.n;
      this.ev = ev;
    }
    return this.ev;
  }

  get user(): Record<string, unknown> {
    return (this.ex.user as Record<string, unknown> | undefined) ?? { id: this.ex.event.user };
  }

  get context(): Record<string, unknown> {
    return this.ex.event.context ?? EMPTY;
  }

  get candidates(): readonly ExprCandidate[] {
    return (this.cands ??= this.buildCandidates());
  }

  get served(): readonly string[] {
    return this.ex.stagesDone >= SERVED_AFTER ? this.ex.served : NO_IDS;
  }

  get outcome(): Record<string, unknown> {
    const ex = this.ex;
    if (this.out === undefined) {
      const out: Record<string, unknown> = {};
      if (ex.event.outcome) assignInto(out, ex.event.outcome);
      // Replayed clicks once the outcome stage ran; the recorded ones stay under recordedClicks.
      out['clicks'] = ex.stagesDone >= 6 ? ex.clicks : NO_IDS;
      out['recordedClicks'] = ex.event.outcome?.clicks ?? NO_IDS;
      out['dwellMs'] = ex.event.outcome?.dwellMs ?? EMPTY;
      out['source'] = ex.outcomeSource;
      this.out = out;
    }
    return this.out;
  }

  get system(): Record<string, unknown> {
    const ex = this.ex;
    if (this.sys === undefined) {
      const sys: Record<string, unknown> = {};
      if (ex.event.system) assignInto(sys, ex.event.system);
      sys['latencyMs'] = latenciesSoFar(ex);
      // Decided by the serve stage: null before it, as the System scope shows it (a false there made
      // `!system.fallback` hold at every stage of an event that then served the fallback).
      sys['fallback'] = ex.stagesDone >= SERVED_AFTER ? ex.fallback : null;
      this.sys = sys;
    }
    return this.sys;
  }

  get stage(): string {
    return currentStage(this.ex.stagesDone);
  }

  get metrics(): Record<string, number> {
    return metricsView(this.r.metrics);
  }

  onlineFeature(name: string, item: string): number | null {
    return this.r.state.online(item, name.slice('online.'.length)) ?? null;
  }

  featureAge(name: string, item?: string): number | null {
    const ex = this.ex;
    const online = name.startsWith('online.');
    if (item !== undefined && online) {
      const slot = this.r.state.peek(item);
      // (NaN: never updated. A time before 1970 is negative, and real.)
      const at = slot < 0 ? Number.NaN : (this.r.state.updatedAt[slot] ?? Number.NaN);
      return Number.isNaN(at) ? null : (ex.tMs - at) / 1000;
    }
    // Own fields only: age("constructor") must not read Object.prototype.constructor.
    const times = ex.event.featureTimes;
    const stamp = times && Object.hasOwn(times, name) ? times[name] : undefined;
    if (typeof stamp !== 'string') return null;
    const at = parseInstant(stamp);
    return Number.isNaN(at) ? null : (ex.tMs - at) / 1000;
  }

  private buildCandidates(): ExprCandidate[] {
    const ex = this.ex;
    if (ex.stagesDone === 0) {
      // Before retrieve there are no rows yet: show the recorded candidates, unscored and unranked.
      const items = this.r.slice.itemById;
      const st = this.r.state;
      // Recorded ranks as the event resolved them when it loaded (a search of the ranking per candidate was quadratic).
      return ex.event.candidates.map((rec, i) => {
        const row = { rec, itemRec: items.get(rec.item) };
        const slot = st.peek(rec.item);
        return candidate(row, rec.item, null, null, ex.candidateRanks[i] ?? 0, slot < 0 ? null : st.previousRank(slot), this.maps);
      });
    }
    const rows = ex.rows;
    const out = new Array<ExprCandidate>(rows.length);
    // Ranks exist once rerank (the fourth stage) has run, as the Variables view shows them.
    const ranked = ex.stagesDone >= RANKED_AFTER;
    // Scores exist once the score stage has run; a NaN after it is the ranker's (a nan_score fault), shown as it is.
    const scored = ex.stagesDone >= SCORED_AFTER;
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i] as CandidateRow;
      out[i] = candidate(row, row.item, scored ? row.score : null, ranked ? row.rank : null, row.recordedRank, row.prevRank, this.maps);
    }
    return out;
  }
}

/**
 * The expression scope of the replayer's current position (its current event, stages done so
 * far). `candidateMaps: false` leaves candidates' features and meta empty: only for expressions
 * whose CompiledExpr.readsCandidateMaps is false.
 */
export function exprScope(exec: EventExec, replayer: Replayer, opts: { candidateMaps?: boolean } = {}): ExprScope {
  return new StopScope(exec, replayer, opts.candidateMaps ?? true);
}

/**
 * The sub-expressions whose values explain a condition at a stop: the largest parts that read
 * the stop and are not themselves operators (`rank("i_42")`, `user.segment`, a whole
 * `candidates.exists(…)`), in source order, as written. Used by stop reports.
 */
export function exprTerms(text: string): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const visit = (e: Expr): void => {
    switch (e.type) {
      case 'literal':
        return;
      case 'binary':
        visit(e.left);
        visit(e.right);
        return;
      case 'unary':
        visit(e.operand);
        return;
      case 'conditional':
        visit(e.test);
        visit(e.consequent);
        visit(e.alternate);
        return;
      case 'list':
        e.items.forEach(visit);
        return;
      case 'map':
        e.entries.forEach((en) => (visit(en.key), visit(en.value)));
        return;
      default: {
        if (!readsStop(e)) return;
        const term = text.slice(e.start, e.end);
        if (!seen.has(term)) {
          seen.add(term);
          out.push(term);
        }
      }
    }
  };
  visit(parseExpr(text));
  return out;
}

const SCOPE_HELPERS = new Set(['score', 'rank', 'recordedRank', 'rankDelta', 'topk', 'feature', 'age']);

function readsStop(e: Expr): boolean {
  switch (e.type) {
    case 'ident':
      return (BINDINGS as readonly string[]).includes(e.name);
    case 'call':
      return SCOPE_HELPERS.has(e.callee) || e.args.some(readsStop);
    case 'literal':
      return false;
    case 'has':
      return readsStop(e.target);
    default:
      return children(e).some(readsStop);
  }
}
