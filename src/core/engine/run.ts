import { resolve } from 'node:path';
import { isWithin, realPathNearest } from '../dirs';
import { UserError, shown } from '../errors';
import { loadRanker } from '../rankers';
import type { Ranker } from '../rankers/types';
import { Slice } from '../slice/reader';
import { notJson } from '../slice/manifestInput';
import { enclosingSlice, sliceManifestAt } from '../slice/targetFolder';
import type { PipelineSettings } from '../slice/types';
import { TOOL_NAME, TOOL_VERSION } from '../version';
import { countsByKind, type FaultKind } from './faults';
import { hasId, idsFor } from './idLookup';
import { Replayer, type EventExec, type ReplayOptions } from './replay';
import { TRACE_FORMAT, TraceWriter, modifiedField, traceRanker, type RunRecord } from './trace';

/** What the core needs from its host for a headless run: time and identity are not the engine's to read. */
export interface RunHost {
  now(): string;
  user: string;
  host: string;
  cwd: string;
}

export interface HeadlessOptions {
  slice: string;
  /**
   * A ranker spec (`recorded`, `popularity`, `linear:PATH`, `embedding:PATH`), loaded and disposed
   * here; or a Ranker of your own (see examples/custom-ranker.ts), which stays yours to dispose.
   */
  ranker: string | Ranker;
  seed?: number;
  traceDir?: string;
  force?: boolean;
  checkpointEvery?: number;
  pipeline?: Partial<PipelineSettings>;
  onProgress?: (done: number, total: number) => void;
  /** Stops after the first event for which this returns true. */
  stopWhen?: (exec: EventExec, replayer: Replayer) => boolean;
  /** What stopWhen tests, as the run record names it (e.g. the --break expression). */
  stopCondition?: string;
  /** Checked every 1,000 events and once more before the trace goes into place; a cancelled run writes no trace. */
  isCancelled?: () => boolean;
  /** Receives what the slice and the ranker warn about (see Slice.warnings, Ranker.warnings), before the replay starts. */
  onWarning?: (message: string) => void;
  /**
   * How long one score() promise may stay unsettled (ms; default 60,000, Infinity to wait for
   * ever). Past it the run stops with an error naming the event and writes no trace: a ranker whose
   * promise never settles held a run — a CI job — for ever. (It is no fault in the trace: whether it
   * fires depends on the machine, and the trace must not.)
   */
  rankerTimeoutMs?: number;
}

/** The default of HeadlessOptions.rankerTimeoutMs. */
export const RANKER_TIMEOUT_MS = 60_000;

export interface FaultSummary {
  /** Faults of the kind: a nan_score is one per candidate, so this may exceed `events`. */
  count: number;
  /** Events that raised at least one. */
  events: number;
  firstEvent: number;
  firstId: string;
  example: string;
}

export interface HeadlessResult {
  slice: string;
  ranker: Ranker['info'];
  seed: number;
  events: number;
  metrics: Record<string, number>;
  faults: Partial<Record<FaultKind, FaultSummary>>;
  traceSha256: string;
  traceBytes: number;
  trace: string | null;
  runRecord: string | null;
  modified: string[];
  stoppedAt: EventExec | undefined;
  /** Where the replay's impressions and clicks came from (see Outcomes). */
  outcomes: Outcomes;
  /** The replayer as the run left it (stopped at stoppedAt, or after the last event): the caller's to dispose(). */
  replayer: Replayer;
}

/**
 * The replay's impressions, and their clicks, by where the click came from: `recorded` where the
 * replay served the recorded item at its recorded position (the recorded click, or no click,
 * stands), `simulated` elsewhere (the click model decided). A CTR resting mostly on simulated
 * impressions is the click model's estimate, not a measurement.
 */
export interface Outcomes {
  impressions: { recorded: number; simulated: number };
  clicks: { recorded: number; simulated: number };
}

/** Counts one completed event into `o`. */
export function countOutcomes(o: Outcomes, ex: EventExec): void {
  const logged = ex.event.served;
  const clicks = idsFor(ex.clicks, ex.served.length);
  for (let i = 0; i < ex.served.length; i++) {
    const item = ex.served[i] as string;
    const source = logged[i] === item ? 'recorded' : 'simulated';
    o.impressions[source]++;
    if (hasId(clicks, item)) o.clicks[source]++;
  }
}

/**
 * Counts one completed event's faults into `tally` by kind: every fault in `count`, the event once
 * in `events` (an event with 20 NaN scores is one), the first event with its id and message. The
 * CLI's run and a debug session's lanes keep theirs so, for the same run record.
 */
export function countFaults(tally: Partial<Record<FaultKind, FaultSummary>>, ex: EventExec): void {
  const seen = ex.faults.length > 1 ? new Set<FaultKind>() : undefined;
  for (const f of ex.faults) {
    const s = tally[f.kind];
    if (!s) tally[f.kind] = { count: 1, events: 1, firstEvent: ex.n, firstId: ex.event.id, example: f.message };
    else {
      s.count++;
      if (!seen?.has(f.kind)) s.events++;
    }
    seen?.add(f.kind);
  }
}

export class CancelledError extends Error {
  constructor() {
    super('replay cancelled');
  }
}

/** A slice folder is never written to (its manifest lists every file it holds): a trace folder inside it is refused. */
export function checkTraceOutside(sliceDir: string, traceDir: string): void {
  // Compared as written and with symbolic links followed (a link to the slice, or a link inside the
  // trace path, would otherwise take the write into it); a path whose links lead nowhere is refused too.
  const realSlice = realPathNearest(sliceDir) ?? resolve(sliceDir);
  const realTrace = realPathNearest(traceDir);
  if (realTrace === undefined) {
    throw new UserError(`the trace folder ${traceDir} goes through a symbolic link that leads nowhere`, { file: traceDir }, 'Choose a trace folder whose links resolve (or none).', 'E_PATH');
  }
  if (isWithin(sliceDir, resolve(traceDir)) || isWithin(realSlice, realTrace)) {
    throw new UserError(`the trace folder ${traceDir} is inside the slice ${sliceDir}`, { file: traceDir }, 'A slice folder is never written to: choose a trace folder outside it.', 'E_PATH');
  }
  // Nor is any other slice's (its verify would still say intact, and the files would travel with it).
  for (const p of new Set([resolve(traceDir), realTrace])) {
    const other = sliceManifestAt(p) ? p : enclosingSlice(p);
    if (other !== undefined) {
      throw new UserError(`the trace folder ${traceDir} is ${other === p ? 'a slice folder' : `inside the slice ${other}`}`, { file: traceDir }, 'A slice folder is never written to: choose a trace folder outside it.', 'E_PATH');
    }
  }
}

/**
 * A ranker of the caller's own (examples/custom-ranker.ts) names itself in `info`, which the trace
 * header and the run record hold: checked before the replay, as a BigInt or a cycle in it failed
 * with a bare TypeError only when the run record was written, after every event had replayed.
 */
function checkRankerInfo(info: unknown): void {
  const hint = 'Give the ranker an `info` of plain JSON values with a string "kind", e.g. { kind: "code:my-model", version: "3" }.';
  if (typeof info !== 'object' || info === null || Array.isArray(info) || typeof (info as { kind?: unknown }).kind !== 'string' || (info as { kind: string }).kind === '') {
    throw new UserError(`the ranker's info must be an object with a non-empty string "kind", but it is ${shown(info)}`, { field: 'info' }, hint);
  }
  const bad = notJson(info);
  if (bad) throw new UserError(`the ranker's info.${bad.path} is ${bad.what}, which JSON cannot hold: the run record would read ${bad.reads}`, { field: `info.${bad.path}` }, hint);
  try {
    JSON.stringify(info);
  } catch (e) {
    throw new UserError(`the ranker's info cannot be written as JSON: ${(e as Error).message.split('\n')[0] ?? ''}`, { field: 'info' }, hint);
  }
}

/** Opens a slice, replays it with a ranker, writes the trace and run record. Shared by the CLI and the editor. */
export async function runHeadless(opts: HeadlessOptions, host: RunHost): Promise<HeadlessResult> {
  const startedAt = host.now();
  const slice = Slice.open(opts.slice, { force: opts.force ?? false, readAhead: true });
  if (opts.traceDir !== undefined) {
    try {
      checkTraceOutside(slice.dir, opts.traceDir);
    } catch (e) {
      slice.close();
      throw e;
    }
  }
  let ranker: Ranker;
  try {
    ranker = typeof opts.ranker === 'string' ? loadRanker(opts.ranker, { cwd: host.cwd, slice }) : opts.ranker;
  } catch (e) {
    // A ranker that cannot be loaded (artifact missing, wrong shape) leaves no open slice behind.
    slice.close();
    throw e;
  }
  const ownRanker = typeof opts.ranker === 'string';
  let watch: Watchdog;
  try {
    if (!ownRanker) checkRankerInfo(ranker.info);
    watch = watchdog(ranker, rankerTimeout(opts.rankerTimeoutMs));
  } catch (e) {
    slice.close();
    throw e;
  }
  for (const w of [...slice.warnings, ...(ranker.warnings ?? [])]) opts.onWarning?.(w);
  const disposeRanker = async () => {
    if (ownRanker) await ranker.dispose?.();
  };
  const faults: Partial<Record<FaultKind, FaultSummary>> = {};
  const outcomes: Outcomes = { impressions: { recorded: 0, simulated: 0 }, clicks: { recorded: 0, simulated: 0 } };
  // The trace header needs the replayer's resolved seed and pipeline, so it is opened just after.
  const sink: { trace?: TraceWriter } = {};
  let replayer: Replayer;
  const replayOptions: ReplayOptions = {
    ranker: watch.ranker,
    ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
    ...(opts.pipeline ? { pipeline: opts.pipeline } : {}),
    // (Passed on whatever it is: the replayer refuses 0 or NaN, which a truthiness test dropped for the default.)
    ...(opts.checkpointEvery !== undefined ? { checkpointEvery: opts.checkpointEvery } : {}),
    onEventComplete: (ex) => {
      sink.trace?.write(ex, replayer.state);
      countOutcomes(outcomes, ex);
      countFaults(faults, ex);
    },
  };
  try {
    replayer = new Replayer(slice, replayOptions);
  } catch (e) {
    // A seed or checkpoint interval the replayer refuses (from the API; the CLI checks its own) left
    // the slice open with its reader thread running, and a ranker loaded here undisposed.
    slice.close();
    await disposeRanker();
    throw e;
  }
  let trace: TraceWriter;
  try {
    trace = new TraceWriter(opts.traceDir, {
      format: TRACE_FORMAT,
      slice: slice.manifest.name,
      sliceManifestSha256: slice.manifestSha256,
      ranker: traceRanker(ranker.info),
      seed: replayer.seed,
      k: replayer.pipeline.k,
      budgetMs: replayer.pipeline.budgetMs,
      events: slice.eventCount,
      ...modifiedField(slice.modified),
    }, replayer.state);
  } catch (e) {
    // A trace folder that cannot be written stops the run before it starts.
    replayer.dispose();
    await disposeRanker();
    throw e;
  }
  sink.trace = trace;
  let stoppedAt: EventExec | undefined;
  try {
    const run = replayer.runToEnd(
      (n) => {
        opts.onProgress?.(n, slice.eventCount);
        if (opts.isCancelled?.()) throw new CancelledError();
      },
      opts.stopWhen
        ? (ex) => {
            if (opts.stopWhen?.(ex, replayer)) stoppedAt = ex;
            return stoppedAt !== undefined;
          }
        : undefined,
    );
    // A ranker's promise that does not settle in time stops the run here; the replay left waiting
    // on it goes nowhere (the replayer is disposed below), and what it may still throw is dropped.
    run.catch(() => undefined);
    await Promise.race([run, watch.expired]);
    // A cancel in the last stretch of a run (under 1,000 events: all of a small slice) reached no
    // progress mark and was swallowed: exit 0 and a trace. Let a signal that arrived during the
    // loop's last synchronous stretch reach its handler first, then look once more.
    await new Promise<void>((r) => setImmediate(r));
    if (opts.isCancelled?.()) throw new CancelledError();
  } catch (e) {
    await trace.abort();
    replayer.dispose();
    await disposeRanker();
    throw e;
  } finally {
    watch.stop();
  }
  const metrics = replayer.metrics.snapshot();
  const events = replayer.state.eventsDone;
  const sortedFaults = countsByKind((k) => faults[k]?.count);
  let t: Awaited<ReturnType<TraceWriter['close']>>;
  try {
    // The run record goes in with the trace (both or neither).
    t = await trace.close(replayer.state, (info): RunRecord => {
      // The last moment a cancel can still keep the trace out: a signal may have come while the
      // trace was being finished, and from here to the renames nothing yields to a signal handler.
      if (opts.isCancelled?.()) throw new CancelledError();
      return {
        format: 'recreplay.run/1',
        tool: { name: TOOL_NAME, version: TOOL_VERSION },
        slice: { path: slice.dir, name: slice.manifest.name, manifestSha256: slice.manifestSha256, versions: slice.manifest.versions, modified: [...slice.modified], eventsVerified: slice.eventsVerified },
        config: { ranker: ranker.info, seed: replayer.seed, pipeline: replayer.pipeline, checkpointEvery: replayer.checkpointEvery, forced: opts.force ?? false },
        seed: replayer.seed,
        startedAt,
        endedAt: host.now(),
        user: host.user,
        host: host.host,
        trace: info,
        events,
        ...(stoppedAt ? { stoppedAt: { event: stoppedAt.n, id: stoppedAt.event.id, condition: opts.stopCondition ?? '(a stop condition)' } } : {}),
        metrics,
        outcomes,
        faults: sortedFaults,
        faultEvents: countsByKind((k) => faults[k]?.events),
      };
      // Waiting for another run's renames into the folder, a cancel is still heard.
    }, () => {
      if (opts.isCancelled?.()) throw new CancelledError();
    });
  } catch (e) {
    replayer.dispose();
    await disposeRanker();
    throw e;
  }
  const runRecord = t.runRecord;
  await disposeRanker();
  return {
    slice: slice.dir,
    ranker: ranker.info,
    seed: replayer.seed,
    events,
    metrics,
    faults,
    traceSha256: t.sha256,
    traceBytes: t.bytes,
    trace: t.path,
    runRecord,
    modified: [...slice.modified],
    stoppedAt,
    outcomes,
    replayer,
  };
}

/** HeadlessOptions.rankerTimeoutMs, checked: a number of ms above 0, or Infinity. */
function rankerTimeout(ms: number | undefined): number {
  if (ms === undefined) return RANKER_TIMEOUT_MS;
  if (typeof ms !== 'number' || Number.isNaN(ms) || ms <= 0) {
    throw new UserError(`rankerTimeoutMs must be a number of ms above 0 (or Infinity to wait for ever), got ${shown(ms)}`, { field: 'rankerTimeoutMs' }, `Leave it out for ${RANKER_TIMEOUT_MS / 1000} s.`, 'E_USAGE');
  }
  return ms;
}

/** A ranker whose score() promises are timed, and the promise that rejects when one takes too long. */
interface Watchdog {
  ranker: Ranker;
  expired: Promise<never>;
  /** The run is over: clears the timer of a promise still unsettled, and times no later score (a seek on the replayer returned). */
  stop(): void;
}

/**
 * `ranker` with each promise its score() returns timed: one unsettled after `ms` rejects `expired`
 * with an error naming the ranker and the event. A synchronous score passes as it is (nothing here
 * can interrupt it). The scores are the ranker's own, untouched, so the trace is the same with or
 * without the watch; the wrapper calls the ranker's methods on the ranker itself (a class's
 * private fields need that).
 */
function watchdog(ranker: Ranker, ms: number): Watchdog {
  let fail: (e: unknown) => void = () => undefined;
  const expired = new Promise<never>((_, reject) => {
    fail = reject;
  });
  // Nobody may be racing it any more (the run ended first): its rejection is then no unhandled one.
  expired.catch(() => undefined);
  let timer: ReturnType<typeof setTimeout> | undefined;
  let over = false;
  const clear = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };
  const stop = () => {
    over = true;
    clear();
  };
  if (ms === Infinity) return { ranker, expired, stop };
  const timed: Ranker = {
    get info() {
      return ranker.info;
    },
    get warnings() {
      return ranker.warnings;
    },
    score(req) {
      const result = ranker.score(req);
      if (over || !isPromiseLike(result)) return result;
      const id = req.event.id;
      clear();
      const t = setTimeout(() => {
        fail(
          new UserError(
            `ranker "${ranker.info.kind}" did not answer event ${shown(id)} within ${ms / 1000} s (its score() promise has not settled): the run stops, and writes no trace`,
            { field: 'ranker' },
            "A ranker's promise must resolve with the scores or reject; for a model that is slow to answer, raise rankerTimeoutMs (Infinity waits for ever).",
            'E_RANKER',
          ),
        );
      }, ms);
      timer = t;
      // The engine awaits this one promise: a thenable's then() is called once, here.
      const p = Promise.resolve(result);
      const settled = () => clearTimeout(t);
      p.then(settled, settled);
      return p;
    },
    ...(ranker.latencyMs ? { latencyMs: (n: number) => (ranker.latencyMs as (n: number) => number).call(ranker, n) } : {}),
  };
  return { ranker: timed, expired, stop };
}

function isPromiseLike(v: unknown): v is PromiseLike<unknown> {
  return (typeof v === 'object' || typeof v === 'function') && v !== null && typeof (v as { then?: unknown }).then === 'function';
}
