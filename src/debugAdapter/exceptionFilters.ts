import { printable } from '../shared/printable';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { FAULT_KINDS, FAULT_LABELS, type FaultKind } from '../core/engine/faults';
import type { EventExec } from '../core/engine/replay';
import { divergence, overBudget, pipelineMs, roundMs } from '../core/engine/stages';
import { STAGES, type StageName } from '../core/slice/types';
import { parseInstant } from '../core/time';
import { METRIC_SERIES } from '../shared/dap';
import type { Lane } from './lanes';
import { MetricDropDetector, parseMetricDrop } from './metricDrop';

/** A fault that stops the replay: which detector, where, and what it found. */
export interface FaultHit {
  kind: FaultKind | 'slice_error';
  message: string;
  lane: Lane;
  event: number;
  /** Stages done when it was found. */
  stagesDone: number;
  value?: number;
  item?: string;
}

/** Conditions of the detectors that take a threshold, as shown by the editor. */
const CONDITIONS: Partial<Record<FaultKind, string>> = {
  empty_slate: 'Break when fewer than N items are served (default 1)',
  over_budget: 'Break when the pipeline takes more than N ms (default: the slice budget, when the fallback is served)',
  stage_over_budget: 'N ms for every stage, or per stage: "score:40 features:30" (default: the slice stage budgets)',
  stale_feature: 'Break when a feature is older than N seconds (default: the slice staleAfterSec)',
  divergence: 'Break when the overlap with the recorded ranking (items in common / the most the two slates could share) is below N (0..1, default 0.5)',
  metric_drop: `"SERIES DROP [window N]", e.g. "ndcg 20% window 200": the mean of the last N events falls DROP below the N before (default "hit 25% window 200"; series: ${METRIC_SERIES.join(', ')})`,
};

/** Filters on by default: faults that are bugs wherever they appear, like uncaught exceptions. */
const DEFAULT_ON = new Set<FaultKind>(['nan_score', 'ranker_error', 'empty_slate']);

/** The exception breakpoint filters offered in `initialize`: one per fault detector. */
export const EXCEPTION_FILTERS: DebugProtocol.ExceptionBreakpointsFilter[] = FAULT_KINDS.map((kind) => ({
  filter: kind,
  label: FAULT_LABELS[kind],
  description: `Stop when the ${FAULT_LABELS[kind].toLowerCase()} detector fires`,
  default: DEFAULT_ON.has(kind),
  supportsCondition: CONDITIONS[kind] !== undefined,
  ...(CONDITIONS[kind] ? { conditionDescription: CONDITIONS[kind] } : {}),
}));

/** Stage (stages done) after which each detector looks. */
const STAGE_OF: Record<Exclude<FaultKind, 'stage_over_budget'>, number> = {
  stale_feature: 2,
  nan_score: 3,
  ranker_error: 3,
  empty_slate: 5,
  over_budget: 5,
  divergence: 6,
  metric_drop: 6,
};

type Check = (lane: Lane, ex: EventExec, stagesDone: number, firstNewFault: number) => Omit<FaultHit, 'lane' | 'event' | 'stagesDone' | 'kind'> | undefined;

/** An enabled filter: checked after the stages it watches. */
export interface ActiveFilter {
  kind: FaultKind;
  /** Stages-done values after which it is checked (stage_over_budget: all of them). */
  stages: readonly number[];
  check: Check;
}

function num(text: string, what: string): number {
  const v = Number(text.trim());
  if (text.trim() === '' || !Number.isFinite(v) || v < 0) throw new Error(`${what} must be a number >= 0, got "${text}"`);
  return v;
}

/** The engine's own faults of a kind raised in the stage that just ran. */
function engineFault(kind: FaultKind): Check {
  return (_lane, ex, _s, first) => {
    for (let i = first; i < ex.faults.length; i++) {
      const f = ex.faults[i];
      if (f?.kind === kind) return { message: f.message, ...(f.value !== undefined ? { value: f.value } : {}), ...(f.item !== undefined ? { item: f.item } : {}) };
    }
    return undefined;
  };
}

function thresholdCheck(kind: FaultKind, cond: string): Check {
  switch (kind) {
    case 'empty_slate': {
      const n = num(cond, 'the minimum slate size');
      return (_l, ex) => (ex.served.length < n ? { message: `${ex.served.length} item(s) served, fewer than ${n}`, value: ex.served.length } : undefined);
    }
    case 'over_budget': {
      const ms = num(cond, 'the latency limit (ms)');
      return (_l, ex) => {
        // As the engine's own over_budget: a sum of doubles at exactly the limit is not over it.
        const total = pipelineMs(ex.latencyMs);
        return overBudget(total, ms) ? { message: `pipeline took ${roundMs(total, ms)} ms, over ${ms} ms`, value: total } : undefined;
      };
    }
    case 'stage_over_budget': {
      const limits = parseStageLimits(cond);
      return (_l, ex, s) => {
        const stage = STAGES[s - 1] as StageName;
        const limit = limits[stage];
        const took = ex.latencyMs[stage];
        return limit !== undefined && took > limit ? { message: `${stage} took ${took} ms, over ${limit} ms`, value: took } : undefined;
      };
    }
    case 'stale_feature': {
      const sec = num(cond, 'the age limit (seconds)');
      return (_l, ex) => {
        let worst: { name: string; age: number } | undefined;
        for (const [name, at] of Object.entries(ex.event.featureTimes ?? {})) {
          const age = (ex.tMs - parseInstant(at)) / 1000;
          if (age > sec && (worst === undefined || age > worst.age)) worst = { name, age };
        }
        return worst ? { message: `feature ${worst.name} is ${Math.round(worst.age)} s old, older than ${sec} s`, value: worst.age } : undefined;
      };
    }
    case 'divergence': {
      const thr = num(cond, 'the overlap threshold');
      if (thr > 1) throw new Error(`the overlap threshold is between 0 and 1, got ${thr}`);
      // The detector's measure (see divergence in stages.ts): a short slate identical to the recording is no divergence.
      return (l, ex) => {
        const d = divergence(ex, l.replayer.pipeline.k);
        return d !== undefined && d.ratio < thr
          ? { message: `overlap with the recorded ranking is ${d.ratio.toFixed(2)}, below ${thr}: ${d.common} of ${d.compared} in common between the ${ex.served.length} served and the recorded top ${d.recordedTop}`, value: d.ratio }
          : undefined;
      };
    }
    default:
      throw new Error(`${FAULT_LABELS[kind]} takes no condition`);
  }
}

function parseStageLimits(cond: string): Partial<Record<StageName, number>> {
  const text = cond.trim();
  if (/^[\d.]+$/.test(text)) {
    const ms = num(text, 'the stage limit (ms)');
    return Object.fromEntries(STAGES.map((s) => [s, ms]));
  }
  const out: Partial<Record<StageName, number>> = {};
  for (const part of text.split(/[\s,]+/)) {
    const fields = part.split(':');
    const [stage, ms] = fields;
    // Exactly STAGE:MS: "score:5:6" must not pass as score:5.
    if (!(STAGES as readonly string[]).includes(stage ?? '') || ms === undefined || fields.length !== 2) throw new Error(`"${part}" is not STAGE:MS (stages: ${STAGES.join(', ')})`);
    out[stage as StageName] = num(ms, `the limit of ${stage}`);
  }
  return out;
}

/** Builds the enabled filters; a bad condition comes back as an unverified breakpoint with the reason. */
export function buildFilters(args: DebugProtocol.SetExceptionBreakpointsArguments): { filters: ActiveFilter[]; results: DebugProtocol.Breakpoint[] } {
  const wanted: { filterId: string; condition?: string }[] = [...(args.filters ?? []).map((f) => ({ filterId: f })), ...(args.filterOptions ?? [])];
  const filters: ActiveFilter[] = [];
  const results = wanted.map(({ filterId, condition }): DebugProtocol.Breakpoint => {
    const kind = filterId as FaultKind;
    if (!(FAULT_KINDS as readonly string[]).includes(filterId)) return { verified: false, message: `unknown exception filter "${filterId}": the filters are ${FAULT_KINDS.join(', ')}` };
    const cond = condition?.trim() ? condition.trim() : undefined;
    try {
      const stages = kind === 'stage_over_budget' ? [1, 2, 3, 4, 5, 6] : [STAGE_OF[kind]];
      let check: Check;
      if (kind === 'metric_drop') {
        const spec = parseMetricDrop(cond ?? '');
        // One detector per lane: each slides its own windows.
        const detectors = new Map<Lane, MetricDropDetector>();
        check = (lane, ex) => {
          let d = detectors.get(lane);
          if (d === undefined) detectors.set(lane, (d = new MetricDropDetector(spec)));
          return d.check(lane.store, ex.n);
        };
      } else {
        check = cond === undefined ? engineFault(kind) : thresholdCheck(kind, cond);
      }
      filters.push({ kind, stages, check });
      return { verified: true };
    } catch (e) {
      return { verified: false, message: `${FAULT_LABELS[kind]}: ${(e as Error).message}` };
    }
  });
  return { filters, results };
}

/**
 * exceptionInfo for a fault stop, where the lane stands at event `at.n` (id `at.id`). A slice error
 * is found on a line the replay could not load: the lane stands at the last good event before it.
 */
export function exceptionInfo(hit: FaultHit, at: { n: number; id: string }): DebugProtocol.ExceptionInfoResponse['body'] {
  const label = hit.kind === 'slice_error' ? 'Slice error' : FAULT_LABELS[hit.kind];
  const stage = STAGES[Math.max(0, hit.stagesDone - 1)];
  const place = `at ${stage} (event ${at.n}, ${at.id}, line ${at.n} of events.jsonl) on thread ${hit.lane.name}`;
  const problem = hit.event !== at.n ? `\n  the problem is on line ${hit.event} of events.jsonl, after event ${at.n}` : '';
  // The message and item come from the slice: the exception widget shows their bidi overrides and control characters as escapes.
  const message = printable(hit.message);
  return {
    exceptionId: hit.kind,
    description: message,
    breakMode: 'always',
    details: {
      message,
      typeName: label,
      fullTypeName: `recreplay.fault.${hit.kind}`,
      stackTrace: printable(place + problem + (hit.item ? `\n  item ${hit.item}` : '') + (hit.value !== undefined ? `\n  value ${hit.value}` : '')),
      ...(hit.item ? { evaluateName: `score("${hit.item}")` } : {}),
    },
  };
}
