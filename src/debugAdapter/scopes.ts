import type { DebugProtocol } from '@vscode/debugprotocol';
import { currentStage, latenciesSoFar } from '../core/engine/exprScope';
import type { EventExec } from '../core/engine/replay';
import { pipelineMs } from '../core/engine/stages';
import { countsByKind } from '../core/engine/faults';
import { STAGES } from '../core/slice/types';
import { dataIdOf, describeTarget } from './dataBreakpoints';
import type { Lane, Lanes } from './lanes';
import { diffVsBaseline, diffVsRecorded, rankingContainer } from './ranking';
import { lazyContainer, member, objectContainer, valueSpec, type Container, type VarSpec, type VariableRegistry } from './variables';

/** The three frames of a lane: the current stage, the event, the session. */
export const FRAME_LEVELS = ['stage', 'event', 'session'] as const;
export type FrameLevel = (typeof FRAME_LEVELS)[number];

function eventScope(ex: EventExec): Container {
  return objectContainer({ line: ex.n, ...ex.event }, 'event');
}

function userScope(ex: EventExec): Container {
  if (ex.user) return objectContainer(ex.user as Record<string, unknown>, 'user');
  return lazyContainer(() => [valueSpec('id', ex.event.user, 'user.id'), { name: 'note', value: 'this user is not in users.jsonl' }]);
}

/** Inputs and outputs of the stage that last ran, and the faults it raised. */
function stageScope(lane: Lane): Container {
  const ex = lane.exec;
  const r = lane.replayer;
  return lazyContainer(() => {
    const s = ex.stagesDone;
    const stage = currentStage(s);
    const specs: VarSpec[] = [
      valueSpec('stage', s === 0 ? `${stage} (not run yet)` : stage, 'stage'),
      valueSpec('stages done', s),
      valueSpec('next', STAGES[s] ?? '— (event complete)'),
    ];
    if (s === 0) return [...specs, valueSpec('candidates in', ex.event.candidates.length)];
    specs.push(valueSpec('latencyMs', ex.latencyMs[stage]));
    const io: Record<string, unknown> = {};
    switch (stage) {
      case 'retrieve':
        Object.assign(io, { 'candidates in': ex.event.candidates.length, kept: ex.rows.length, dropped: ex.dropped });
        break;
      case 'features':
        Object.assign(io, { featureTimes: ex.event.featureTimes ?? {}, staleAfterSec: r.pipeline.staleAfterSec, stale: ex.stale });
        break;
      case 'score': {
        const scores: Record<string, number> = {};
        for (const row of ex.rows) scores[row.item] = row.score;
        Object.assign(io, { ranker: r.ranker.info, scores, 'non-finite': ex.rows.filter((row) => !Number.isFinite(row.score)).length });
        break;
      }
      case 'rerank':
        Object.assign(io, { ranked: ex.ranked, maxPerCategory: r.pipeline.maxPerCategory ?? 0 });
        break;
      case 'serve': {
        const L = ex.latencyMs;
        Object.assign(io, { served: ex.served, fallback: ex.fallback, 'total latencyMs': pipelineMs(L), budgetMs: r.pipeline.budgetMs, k: r.pipeline.k });
        break;
      }
      case 'outcome':
        Object.assign(io, { clicks: ex.clicks, 'recorded clicks': ex.event.outcome?.clicks ?? [], source: ex.outcomeSource, 'event metrics': ex.metrics ?? null });
        break;
    }
    for (const [k, v] of Object.entries(io)) specs.push(valueSpec(k, v));
    specs.push(valueSpec('faults', ex.faults.filter((f) => f.stage === stage)));
    return specs;
  });
}

function systemScope(lane: Lane): Container {
  const ex = lane.exec;
  const p = lane.replayer.pipeline;
  return lazyContainer(() => {
    const L = ex.latencyMs;
    const sys = ex.event.system ?? {};
    return [
      valueSpec('replayed latencyMs', latenciesSoFar(ex), 'system.latencyMs'),
      valueSpec('total latencyMs', pipelineMs(L)),
      valueSpec('budgetMs', p.budgetMs),
      valueSpec('stage budgets', p.stageBudgetMs ?? {}),
      valueSpec('fallback', ex.stagesDone >= 5 ? ex.fallback : null, 'system.fallback'),
      // An evaluateName only for what the event recorded: system.queueDepth of an event without one is an error.
      valueSpec('queueDepth', sys.queueDepth ?? null, sys.queueDepth !== undefined ? 'system.queueDepth' : undefined),
      valueSpec('cache', sys.cache ?? null, sys.cache !== undefined ? 'system.cache' : undefined),
      valueSpec('recorded', sys),
    ];
  });
}

function metricsScope(lane: Lane, laneTag: string | undefined): Container {
  const r = lane.replayer;
  const ex = lane.exec;
  return lazyContainer(() => {
    const snap = r.metrics.snapshot();
    const specs: VarSpec[] = Object.entries(snap).map(([name, v]) => {
      const target = { kind: 'metric' as const, name };
      return { ...valueSpec(name, v, member('metrics', name)), dataId: dataIdOf(target, laneTag), dataDescription: describeTarget(target) };
    });
    specs.unshift(valueSpec('this event', ex.stagesDone === 6 ? (ex.metrics ?? null) : 'available when the event completes'));
    return specs;
  });
}

function sessionScope(l: Lanes, lane: Lane): Container {
  return lazyContainer(() => {
    const r = lane.replayer;
    const m = l.slice.manifest;
    return [
      valueSpec('slice', m.name),
      valueSpec('folder', l.slice.dir),
      valueSpec('description', m.description),
      valueSpec('events', l.slice.eventCount),
      valueSpec('replayed up to', lane.highWater),
      valueSpec('ranker', r.ranker.info),
      valueSpec('seed', r.seed),
      valueSpec('pipeline', r.pipeline),
      valueSpec('checkpointEvery', r.checkpointEvery),
      valueSpec('faults seen', countsByKind((k) => lane.faults[k]?.count)),
      valueSpec('marked faults', m.faults),
      valueSpec('versions', m.versions),
      valueSpec('modified files', [...l.slice.modified]),
    ];
  });
}

/** The scopes of one frame of a lane, registered for this stop. */
export function scopesFor(l: Lanes, lane: Lane, level: FrameLevel, vars: VariableRegistry): DebugProtocol.Scope[] {
  const ex = lane.exec;
  const tag = lane === l.primary ? undefined : lane.name;
  const scope = (name: string, c: Container, hint?: DebugProtocol.Scope['presentationHint']): DebugProtocol.Scope => ({
    name,
    variablesReference: vars.add(c),
    expensive: false,
    ...(c.indexed !== undefined ? { indexedVariables: c.indexed } : {}),
    ...(hint ? { presentationHint: hint } : {}),
  });
  const other = l.lanes.find((x) => x !== lane);
  const diff = () => (l.lanes.length > 1 && other ? scope(lane.name === 'candidate' ? 'Diff vs baseline' : 'Diff vs candidate', lane.name === 'candidate' ? diffVsBaseline(lane, other) : diffVsBaseline(other, lane)) : scope('Diff vs recorded', diffVsRecorded(lane)));
  const ranking = () => scope('Ranking', rankingContainer(lane, tag), 'locals');
  if (level === 'session') return [scope('Session', sessionScope(l, lane)), scope('Metrics', metricsScope(lane, tag))];
  if (level === 'event') return [scope('Event', eventScope(ex), 'arguments'), scope('User', userScope(ex)), ranking(), scope('System', systemScope(lane), 'registers'), diff()];
  return [scope('Stage', stageScope(lane), 'locals'), ranking(), scope('Event', eventScope(ex), 'arguments'), scope('User', userScope(ex)), scope('System', systemScope(lane), 'registers'), scope('Metrics', metricsScope(lane, tag)), diff()];
}
