import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import { checkEnvFor } from '../core/engine/exprScope';
import { UserError } from '../core/errors';
import { Replayer, type EventExec } from '../core/engine/replay';
import { TRACE_FORMAT, TraceWriter, modifiedField, traceRanker } from '../core/engine/trace';
import { checkTraceOutside, countFaults, type FaultSummary } from '../core/engine/run';
import { countsByKind, type FaultKind } from '../core/engine/faults';
import type { CheckEnv } from '../core/expr';
import { STAGES } from '../core/slice/types';
import { loadRankerAsync, type Ranker } from '../core/rankers';
import { Slice } from '../core/slice/reader';
import { StepsCancelled, nextTurn, runStepsAsync, type StepRunner } from '../core/steps';
import { TOOL_NAME, TOOL_VERSION } from '../core/version';
import { THREAD_IDS, type LaneName } from '../shared/dap';
import type { LaunchConfig } from './launchConfig';
import type { AdapterLogger } from './logger';
import { MetricStore, faultMaskOf } from './metricStore';

/**
 * One replay thread: a replayer with its ranker, the per-event metric series it produced and,
 * when asked for, the trace of the events it completed. In compare mode two lanes share a slice.
 */
export class Lane {
  readonly threadId: number;
  readonly store = new MetricStore();
  /** Faults seen by kind over first completions (count, events, first event), for the session summary, timeline and run record. */
  readonly faults: Partial<Record<FaultKind, FaultSummary>> = {};
  /** Highest event whose points went out in a metrics event. */
  pushedThrough = 0;
  trace: TraceWriter | undefined;
  replayer!: Replayer;

  constructor(
    readonly name: LaneName,
    readonly rankerSpec: string,
  ) {
    this.threadId = THREAD_IDS[name];
  }

  /** Highest event completed so far (the replayer reports each first completion, in order). */
  get highWater(): number {
    return this.store.through;
  }

  /** The current event; lanes always have one once the session has started. */
  get exec(): EventExec {
    const c = this.replayer.current;
    if (c === undefined) throw new Error(`lane ${this.name} has no current event`);
    return c;
  }

  onComplete(ex: EventExec): void {
    if (ex.metrics) this.store.record(ex.metrics, this.replayer.pipeline.k, ex.event.system, faultMaskOf(ex.faults.map((f) => f.kind)));
    countFaults(this.faults, ex);
    this.trace?.write(ex, this.replayer.state);
  }
}

/** The lanes of a session over one opened slice, and what the expression checker knows about it. */
export interface Lanes {
  slice: Slice;
  lanes: Lane[];
  /** The lane breakpoints are evaluated on: `replay`, or `candidate` in compare mode. */
  primary: Lane;
  env: CheckEnv;
}

/**
 * How a ranker spec becomes a ranker, at once or as a promise (loadRankerAsync: the slices of its
 * work `runner` apart); the host may add kinds (the extension: process and HTTP rankers).
 */
export type RankerLoader = (spec: string, ctx: { cwd: string; slice: Slice; runner?: StepRunner }) => Ranker | Promise<Ranker>;

/**
 * Opens the slice, loads the ranker(s) and builds the lanes; user errors come out as UserError.
 * The slice's files are hashed and parsed, and its catalogue indexed, a slice of work per turn of
 * the event loop (`runner`, see steps.ts): in the editor the adapter shares the extension host's
 * thread, which a million-item catalogue held for seconds.
 */
export async function openLanes(cfg: LaunchConfig, log: AdapterLogger, load: RankerLoader = (spec, ctx) => loadRankerAsync(spec, ctx, ctx.runner), trustCachedIndex = false, runner?: StepRunner): Promise<Lanes> {
  const slice = await Slice.openAsync(cfg.slice, { force: cfg.force, trustCachedIndex }, runner);
  try {
    await runStepsAsync(Replayer.prepareSteps(slice), runner);
  } catch (e) {
    slice.close();
    throw e;
  }
  const lanes = cfg.baseline === undefined ? [new Lane('replay', cfg.ranker)] : [new Lane('baseline', cfg.baseline), new Lane('candidate', cfg.ranker)];
  // Rankers loaded so far: a launch that fails later (the candidate's artifact missing, say) shuts them down again.
  const loaded: Ranker[] = [];
  // A turn of the event loop between the pieces of each lane (over a million items a replayer's
  // state and a trace writer take ~0.1–0.2 s each; in compare mode all of it was one 0.8 s block).
  const turn = async () => {
    await (runner?.pause ?? nextTurn)();
    if (runner?.cancelled?.()) throw new StepsCancelled();
  };
  const made: Replayer[] = [];
  try {
    for (const lane of lanes) {
      await turn();
      let ranker: Ranker;
      try {
        ranker = await load(lane.rankerSpec, { cwd: cfg.cwd, slice, ...(runner ? { runner } : {}) });
      } catch (e) {
        // The spec is the launch argument of this lane: a bad "baseline" was said as "ranker".
        if (e instanceof UserError && lane.name === 'baseline' && e.where.field === 'ranker') {
          throw new UserError(`baseline: ${e.message}`, { ...e.where, field: 'baseline' }, e.hint, e.code);
        }
        throw e;
      }
      loaded.push(ranker);
      await turn();
      lane.replayer = new Replayer(slice, {
        ranker,
        ...(cfg.seed !== undefined ? { seed: cfg.seed } : {}),
        ...(cfg.checkpointEvery !== undefined ? { checkpointEvery: cfg.checkpointEvery } : {}),
        onEventComplete: (ex) => lane.onComplete(ex),
      });
      made.push(lane.replayer);
      if (cfg.trace !== undefined) {
        checkTraceOutside(slice.dir, cfg.trace);
        await turn();
        const r = lane.replayer;
        lane.trace = new TraceWriter(lanes.length > 1 ? join(cfg.trace, lane.name) : cfg.trace, {
          format: TRACE_FORMAT,
          slice: slice.manifest.name,
          sliceManifestSha256: slice.manifestSha256,
          ranker: traceRanker(ranker.info),
          seed: r.seed,
          k: r.pipeline.k,
          budgetMs: r.pipeline.budgetMs,
          events: slice.eventCount,
          ...modifiedField(slice.modified),
        }, r.state);
      }
    }
  } catch (e) {
    for (const lane of lanes) void lane.trace?.abort();
    for (const r of loaded) void Promise.resolve(r.dispose?.()).catch((err: unknown) => log.error('a ranker failed to shut down', err));
    // Their checkpoint spill files go with them.
    for (const r of made) r.dispose();
    slice.close();
    throw e;
  }
  const primary = lanes[lanes.length - 1] as Lane;
  return { slice, lanes, primary, env: checkEnvFor(primary.replayer) };
}

/** Releases lanes that never ran (a failed launch): traces are dropped, not written. */
export function discardLanes(l: Lanes): void {
  for (const lane of l.lanes) {
    void lane.trace?.abort();
    void lane.replayer.ranker.dispose?.();
    lane.replayer.dispose();
  }
}

/** How long a session's end waits for a ranker still scoring before its trace goes without final metrics. */
export const SETTLE_MS = 5_000;

/**
 * The cumulative metrics over events 1..through (the traced ones), for the run record, wherever the
 * session stopped. Without moving when the replayer's are those: at event `through` complete, or
 * anywhere in the next event before its outcome (the one stage that updates metrics), which is
 * where a session ended during a slow ranker's answer stands. Otherwise (the user had stepped back)
 * it seeks to `through` once a move under way has settled; when that move does not settle within
 * SETTLE_MS (a ranker that stopped answering), the metrics are left out and `missing` says why:
 * the trace is kept either way.
 */
export async function metricsThrough(r: Replayer, through: number, settleMs = SETTLE_MS): Promise<{ metrics: Record<string, number>; missing?: string }> {
  const cur = r.current;
  const at = (n: number, stagesDone: number) => cur !== undefined && cur.n === n && cur.stagesDone === stagesDone;
  const beforeOutcome = cur !== undefined && cur.n === through + 1 && cur.stagesDone < STAGES.length;
  if (through === 0 || at(through, STAGES.length) || beforeOutcome) return { metrics: r.metrics.snapshot() };
  // A step still awaiting a slow ranker must settle first (a seek now would be refused).
  if (!(await r.whenIdle(settleMs))) {
    return { metrics: {}, missing: `the session ended at event ${cur?.n ?? 0}, stage ${STAGES[cur?.stagesDone ?? 0] ?? 'outcome'}, while the ranker had not answered for ${settleMs / 1000} s: the metrics through event ${through} could not be recomputed` };
  }
  await r.seek(through, STAGES.length);
  return { metrics: r.metrics.snapshot() };
}

/** Finishes the traces (with a run record of the events replayed) and releases rankers and files. */
export async function closeLanes(l: Lanes, cfg: LaunchConfig, startedAt: string, log: AdapterLogger, settleMs = SETTLE_MS): Promise<void> {
  for (const lane of l.lanes) {
    const r = lane.replayer;
    try {
      if (lane.trace && cfg.trace !== undefined) {
        const trace = lane.trace;
        // close() cleans up after itself when it fails.
        lane.trace = undefined;
        // The events the trace holds: a step that settles meanwhile completes one more, untraced.
        const through = lane.highWater;
        let user = 'unknown';
        try {
          user = userInfo().username;
        } catch {
          // Containers without a passwd entry still write a record.
        }
        // The trace's last events are sent with the state that ran them; then the run record.
        const t = await trace.close(r.state, async (info) => {
          const { metrics, missing } = await metricsThrough(r, through, settleMs);
          if (missing !== undefined) log.warn(`trace of lane ${lane.name}: ${missing}`);
          return {
            format: 'recreplay.run/1',
            tool: { name: TOOL_NAME, version: TOOL_VERSION },
            slice: { path: l.slice.dir, name: l.slice.manifest.name, manifestSha256: l.slice.manifestSha256, versions: l.slice.manifest.versions, modified: [...l.slice.modified], eventsVerified: l.slice.eventsVerified },
            config: { ranker: r.ranker.info, seed: r.seed, pipeline: r.pipeline, checkpointEvery: r.checkpointEvery, forced: cfg.force },
            seed: r.seed,
            startedAt,
            endedAt: new Date().toISOString(),
            user,
            host: hostname(),
            trace: info,
            events: through,
            metrics,
            ...(missing !== undefined ? { metricsMissing: missing } : {}),
            faults: countsByKind((k) => lane.faults[k]?.count),
            faultEvents: countsByKind((k) => lane.faults[k]?.events),
          };
        });
        log.info(`trace of ${through} events written to ${t.path}`);
      }
    } catch (e) {
      log.error(`could not finish the trace of lane ${lane.name}`, e);
      await lane.trace?.abort();
    }
  }
  // Only once every trace is finished: the lanes share the slice, which disposing a replayer closes
  // (a later lane's seek back to its last traced event would read from a closed slice).
  for (const lane of l.lanes) {
    const r = lane.replayer;
    try {
      await r.ranker.dispose?.();
    } catch (e) {
      log.error(`ranker of lane ${lane.name} failed to shut down`, e);
    }
    r.dispose();
  }
}
