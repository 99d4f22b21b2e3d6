import { fileURLToPath } from 'node:url';
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { currentStage } from '../core/engine/exprScope';
import { FAULT_KINDS } from '../core/engine/faults';
import { METRIC_SERIES, METRIC_SERIES_REQUEST, THREAD_IDS, type LaneName, type MetricSeriesArguments, type MetricSeriesResponseBody } from '../shared/dap';
import { buildDataBreakpoints, describeTarget, parseDataId } from './dataBreakpoints';
import { AdapterError, ERROR_IDS } from './errors';
import { complete, dataIdForExpression, evaluate } from './evaluate';
import { buildFilters, EXCEPTION_FILTERS, exceptionInfo } from './exceptionFilters';
import type { Controller, RunResult } from './controller';
import type { Lane } from './lanes';
import { FRAME_LEVELS, scopesFor } from './scopes';
import type { ReplayDebugSession } from './session';

/** The most lines one breakpointLocations answer lists (VS Code asks for a line or a few). */
export const breakpointLocationsLimit = { lines: 10_000 };

/** A request handler: returns the response body (or a promise of it) or throws. */
// Arguments arrive as untyped JSON; each handler states the DAP type it expects.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Handler = (args: any, request: DebugProtocol.Request) => unknown;

/** What the adapter can do; every flag here is implemented and tested (test/dap). */
export function capabilities(): DebugProtocol.Capabilities {
  return {
    supportsConfigurationDoneRequest: true,
    supportsStepBack: true,
    supportsConditionalBreakpoints: true,
    supportsHitConditionalBreakpoints: true,
    supportsLogPoints: true,
    supportsFunctionBreakpoints: true,
    supportsDataBreakpoints: true,
    exceptionBreakpointFilters: EXCEPTION_FILTERS,
    supportsExceptionFilterOptions: true,
    supportsExceptionInfoRequest: true,
    supportsGotoTargetsRequest: true,
    supportsRestartFrame: true,
    supportsEvaluateForHovers: true,
    supportsCompletionsRequest: true,
    completionTriggerCharacters: ['.', '(', '"', '['],
    supportsBreakpointLocationsRequest: true,
    supportsSteppingGranularity: true,
    supportsTerminateRequest: true,
    supportsCancelRequest: true,
    supportsDelayedStackTraceLoading: true,
    supportsClipboardContext: true,
  };
}

const FRAMES_PER_THREAD = 10;

/** The one routing table of the adapter: DAP command → handler. */
export function buildRoutes(s: ReplayDebugSession): ReadonlyMap<string, Handler> {
  const lineOut = (n: number) => s.clientLine(n);
  const lineIn = (n: number) => (s.clientCaps.linesStartAt1 === false ? n + 1 : n);

  const laneOfThread = (threadId: number | undefined): Lane => {
    const l = s.launched().lanes;
    if (threadId === undefined) return l.primary;
    const lane = l.lanes.find((x) => x.threadId === threadId);
    if (!lane) throw new AdapterError(`there is no thread ${threadId}: the threads are ${l.lanes.map((x) => `${x.threadId} (${x.name})`).join(', ')}`, ERROR_IDS.badArguments, false);
    return lane;
  };
  // Lanes move together, but a request for a thread that does not exist is refused (as stackTrace
  // refuses it) rather than moving every lane.
  const move = (threadId: number, seq: number, how: (c: Controller, lane: Lane) => Promise<RunResult>): void => {
    const lane = laneOfThread(threadId);
    s.move(seq, (c) => how(c, lane), lane);
  };
  const frame = (frameId: number | undefined) => {
    if (frameId === undefined) return { lane: s.launched().lanes.primary, level: FRAME_LEVELS[0] };
    const level = FRAME_LEVELS[frameId % FRAMES_PER_THREAD];
    if (level === undefined) throw new AdapterError(`unknown frame ${frameId}`, ERROR_IDS.unknownReference, false);
    return { lane: laneOfThread(Math.floor(frameId / FRAMES_PER_THREAD)), level };
  };
  const eventsSource = (): DebugProtocol.Source => ({ name: 'events.jsonl', path: s.launched().lanes.slice.eventsPath });
  const real = (p: string) => {
    try {
      return realpathSync(p);
    } catch {
      return resolve(p);
    }
  };
  const isEvents = (src: DebugProtocol.Source | undefined): boolean => {
    // `path` may come as null (the argument check lets an optional argument be null).
    const p = typeof src?.path === 'string' ? sourceFilePath(src.path) : undefined;
    return p !== undefined && real(p) === real(s.launched().lanes.slice.eventsPath);
  };
  const checkLine = (line: number) => {
    const count = s.launched().lanes.slice.eventCount;
    if (!Number.isInteger(line) || line < 1 || line > count) throw new AdapterError(`line ${lineOut(line)} is not an event: events.jsonl has events on lines ${lineOut(1)} to ${lineOut(count)}`, ERROR_IDS.badArguments);
  };
  const afterSetting = () => s.launched().triggers.refresh();
  const byStage = (g: DebugProtocol.SteppingGranularity | undefined) => g === 'instruction';

  const routes: Record<string, Handler> = {
    initialize: (args: DebugProtocol.InitializeRequestArguments) => s.initialize(args),
    launch: (args: unknown) => s.launch(args),
    attach: () => {
      throw new AdapterError('RecReplay replays a slice, it cannot attach to a process: use "request": "launch"', ERROR_IDS.unsupported);
    },
    configurationDone: () => s.configurationDone(),
    disconnect: () => s.disconnect(),
    terminate: () => s.terminate(),
    threads: () => ({ threads: s.launched().lanes.lanes.map((l) => ({ id: l.threadId, name: l.name })) }),

    setBreakpoints: (a: DebugProtocol.SetBreakpointsArguments) => {
      const { lanes, triggers } = s.launched();
      const bps = a.breakpoints ?? (a.lines ?? []).map((line) => ({ line }));
      const wanted = bps.map((b) => ({ ...b, line: lineIn(b.line) }));
      // VS Code sends each file's breakpoints on their own: another file's (items.jsonl, another
      // slice's events.jsonl) are refused and leave this slice's line breakpoints as they are.
      if (!isEvents(a.source)) {
        return { breakpoints: bps.map((b) => ({ verified: false, line: b.line, message: `breakpoints go on lines of ${lanes.slice.eventsPath} (line N = event N), not in ${a.source.path ?? a.source.name ?? 'a source without a path'}` })) };
      }
      const out = triggers.bps.setLines(wanted, lanes.slice.eventCount, lanes.env, eventsSource(), lineOut);
      afterSetting();
      return { breakpoints: out.map((b) => (b.line !== undefined ? { ...b, line: lineOut(b.line) } : b)) };
    },
    setFunctionBreakpoints: (a: DebugProtocol.SetFunctionBreakpointsArguments) => {
      const { lanes, triggers } = s.launched();
      const breakpoints = triggers.bps.setFunctions(a.breakpoints, lanes.env);
      afterSetting();
      return { breakpoints };
    },
    setExceptionBreakpoints: (a: DebugProtocol.SetExceptionBreakpointsArguments) => {
      const { filters, results } = buildFilters(a);
      s.launched().triggers.filters = filters;
      afterSetting();
      return { breakpoints: results };
    },
    dataBreakpointInfo: (a: DebugProtocol.DataBreakpointInfoArguments) => {
      const { lanes } = s.launched();
      const known = a.variablesReference !== undefined ? s.vars.dataIdOf(a.variablesReference, a.name) : undefined;
      let id = known?.dataId ?? dataIdForExpression(a.name);
      if (id === undefined) return { dataId: null, description: `no data breakpoint on "${a.name}": break on scores, ranks, features (Ranking scope) or metrics` };
      const laneNames: string[] = lanes.lanes.map((l) => l.name);
      // An expression is read in the frame it is asked about (as evaluate reads it): the baseline's frame watches the baseline.
      if (!known && a.frameId !== undefined) {
        const lane = frame(a.frameId).lane;
        const at = id.lastIndexOf('@');
        if (lane !== lanes.primary && !(at > 0 && laneNames.includes(id.slice(at + 1)))) id = `${id}@${lane.name}`;
      }
      const parsed = parseDataId(id, lanes.env, laneNames);
      if (typeof parsed === 'string') return { dataId: null, description: parsed };
      return { dataId: id, description: `${describeTarget(parsed.target)}${parsed.lane ? ` (${parsed.lane})` : ''}`, accessTypes: ['write'], canPersist: true };
    },
    setDataBreakpoints: async (a: DebugProtocol.SetDataBreakpointsArguments) => {
      const { lanes, triggers, controller } = s.launched();
      const { bps, results } = buildDataBreakpoints(a.breakpoints, lanes.env, lanes.lanes, lanes.primary, () => triggers.bps.newId(), triggers.data);
      triggers.data = bps;
      afterSetting();
      if (lanes.primary.replayer.current) await controller.resampleDataHere();
      return { breakpoints: results };
    },
    breakpointLocations: (a: DebugProtocol.BreakpointLocationsArguments) => {
      if (!isEvents(a.source)) return { breakpoints: [] };
      const count = s.launched().lanes.slice.eventCount;
      const from = Math.max(1, lineIn(a.line));
      // Every line of a range is a location: a whole million-line file was a million objects in one
      // answer (0.2 s of the thread, 47 MB). At most breakpointLocationsLimit.lines from the first.
      const to = Math.min(count, lineIn(a.endLine ?? a.line), from + breakpointLocationsLimit.lines - 1);
      const breakpoints: DebugProtocol.BreakpointLocation[] = [];
      for (let n = from; n <= to; n++) breakpoints.push({ line: lineOut(n) });
      return { breakpoints };
    },

    continue: (a: DebugProtocol.ContinueArguments, req) => {
      move(a.threadId, req.seq, (c, lane) => c.continue(lane));
      return { allThreadsContinued: true };
    },
    next: (a: DebugProtocol.NextArguments, req) => move(a.threadId, req.seq, (c, lane) => (byStage(a.granularity) ? c.stepIn(lane) : c.next(lane))),
    stepIn: (a: DebugProtocol.StepInArguments, req) => move(a.threadId, req.seq, (c, lane) => c.stepIn(lane)),
    stepOut: (a: DebugProtocol.StepOutArguments, req) => move(a.threadId, req.seq, (c, lane) => c.stepOut(lane)),
    stepBack: (a: DebugProtocol.StepBackArguments, req) => move(a.threadId, req.seq, (c, lane) => c.stepBack(byStage(a.granularity), lane)),
    reverseContinue: (a: DebugProtocol.ReverseContinueArguments, req) => move(a.threadId, req.seq, (c, lane) => c.reverseContinue(lane)),
    gotoTargets: (a: DebugProtocol.GotoTargetsArguments) => {
      if (!isEvents(a.source)) return { targets: [] };
      const line = lineIn(a.line);
      checkLine(line);
      const id = s.launched().lanes.slice.readEvent(line).id;
      return { targets: [{ id: line, label: `event ${line} (${id})`, line: lineOut(line) }] };
    },
    goto: (a: DebugProtocol.GotoArguments, req) => {
      checkLine(a.targetId);
      move(a.threadId, req.seq, (c, lane) => c.goto(a.targetId, lane));
    },
    restartFrame: (a: DebugProtocol.RestartFrameArguments, req) => {
      const { lane, level } = frame(a.frameId);
      s.move(req.seq, (c) => c.restart(level === 'session', lane), lane);
    },
    pause: (a: DebugProtocol.PauseArguments) => {
      laneOfThread(a.threadId);
      s.pause();
    },
    cancel: (a: DebugProtocol.CancelArguments) => s.cancel(a),

    stackTrace: (a: DebugProtocol.StackTraceArguments) => {
      const { lanes } = s.stopped();
      const lane = laneOfThread(a.threadId);
      const ex = lane.exec;
      const src = eventsSource();
      const line = lineOut(ex.n);
      const base = lane.threadId * FRAMES_PER_THREAD;
      // The line's first column, in the client's convention (0 for a client that counts from 0).
      const column = s.clientCaps.columnsStartAt1 === false ? 0 : 1;
      const stage = ex.stagesDone === 0 ? 'before retrieve' : currentStage(ex.stagesDone);
      const frames: DebugProtocol.StackFrame[] = [
        { id: base, name: stage, source: src, line, column, canRestart: true },
        { id: base + 1, name: `event ${ex.n} · ${ex.event.id} · ${ex.event.t}`, source: src, line, column, canRestart: true },
        { id: base + 2, name: `${lanes.slice.manifest.name} · ${lane.rankerSpec} · seed ${lane.replayer.seed}`, source: src, line, column, canRestart: true, presentationHint: 'subtle' },
      ];
      const start = a.startFrame ?? 0;
      const stackFrames = frames.slice(start, a.levels ? start + a.levels : undefined);
      return { stackFrames, totalFrames: frames.length };
    },
    scopes: (a: DebugProtocol.ScopesArguments) => {
      const { lanes } = s.stopped();
      const { lane, level } = frame(a.frameId);
      return { scopes: scopesFor(lanes, lane, level, s.vars) };
    },
    variables: (a: DebugProtocol.VariablesArguments) => {
      s.stopped();
      const variables = s.vars.variables(a.variablesReference, a);
      if (variables === undefined) {
        // A reference never given out is not "from an earlier stop" (0, -1, 999999 were said to be).
        if (!s.vars.issued(a.variablesReference)) throw new AdapterError(`variable reference ${a.variablesReference} is not one this session gave: take references from the scopes or variables answers`, ERROR_IDS.unknownReference, false);
        throw new AdapterError(`variable reference ${a.variablesReference} belongs to an earlier stop: ask for the scopes again`, ERROR_IDS.unknownReference, false);
      }
      return { variables };
    },
    evaluate: (a: DebugProtocol.EvaluateArguments) => {
      const { lanes } = s.stopped();
      return evaluate(a, frame(a.frameId).lane, lanes.env, s.vars);
    },
    completions: (a: DebugProtocol.CompletionsArguments) => ({ targets: complete(a, s.launched().lanes.env, s.clientCaps.columnsStartAt1 !== false) }),
    exceptionInfo: (a: DebugProtocol.ExceptionInfoArguments) => {
      s.stopped();
      const lane = laneOfThread(a.threadId);
      const stopFault = s.lastStop?.fault;
      if (!stopFault) throw new AdapterError('the replay did not stop on a fault', ERROR_IDS.badArguments, false);
      // In compare mode each lane that faulted at this stop answers for its own fault; the other did not fault.
      const fault = (s.lastStop?.faults ?? [stopFault]).find((f) => f.lane === lane);
      if (!fault) throw new AdapterError(`thread ${lane.name} did not stop on a fault (thread ${stopFault.lane.name} did)`, ERROR_IDS.badArguments, false);
      const cur = fault.lane.replayer.current;
      return exceptionInfo(fault, { n: cur?.n ?? fault.event, id: cur?.event.id ?? '?' });
    },

    [METRIC_SERIES_REQUEST]: (a: MetricSeriesArguments): MetricSeriesResponseBody => {
      const { lanes } = s.launched();
      if (!(METRIC_SERIES as readonly string[]).includes(a.metric)) throw new AdapterError(`unknown metric series "${a.metric}": the series are ${METRIC_SERIES.join(', ')}`, ERROR_IDS.badArguments, false);
      const name: LaneName = a.lane ?? lanes.primary.name;
      const lane = lanes.lanes.find((l) => l.threadId === THREAD_IDS[name]);
      if (!lane) throw new AdapterError(`no lane "${name}" in this session: the lanes are ${lanes.lanes.map((l) => l.name).join(', ')}`, ERROR_IDS.badArguments, false);
      // Event numbers count from 1, and a range starts before it ends (it answered with one bucket, or none, for these).
      for (const [field, v] of [['from', a.from], ['to', a.to], ['maxPoints', a.maxPoints]] as const) {
        if (v !== undefined && v < 1) throw new AdapterError(`${field} is ${v}: ${field === 'maxPoints' ? 'ask for 1 bucket or more' : 'events are numbered from 1'}`, ERROR_IDS.badArguments, false);
      }
      if (a.from !== undefined && a.to !== undefined && a.from > a.to) throw new AdapterError(`from ${a.from} is after to ${a.to}: give the first event of the range, then the last`, ERROR_IDS.badArguments, false);
      const from = a.from ?? 1;
      const to = Math.min(lane.highWater, a.to ?? lane.highWater);
      const faults = a.faults === true;
      const { bucketSize, first, buckets } = lane.store.buckets(a.metric, from, to, a.maxPoints ?? 1000, a.cumulative ?? false, a.known ?? undefined, faults);
      const firstFaults = () => FAULT_KINDS.flatMap((kind) => {
        const f = lane.faults[kind];
        return f === undefined ? [] : [{ kind, event: f.firstEvent, count: f.count }];
      });
      return { metric: a.metric, lane: lane.name, from, to, bucketSize, first, buckets, ...(faults ? { faultKinds: [...FAULT_KINDS], firstFaults: firstFaults() } : {}) };
    },
  };
  return new Map(Object.entries(routes));
}

/**
 * A source path as a file path. Clients usually send plain paths, but a remote VS Code (code-server,
 * VS Code for the Web) passes the paths of custom requests as URIs such as
 * `vscode-local:/home/me/x.slice/events.jsonl` or `file:///…`. Windows drive paths stay as they are.
 * Undefined for a URI that names no file here (`file://%%%`, `file://otherhost/x`, a broken %-escape):
 * whatever it names, it is not the slice's events file.
 */
export function sourceFilePath(raw: string): string | undefined {
  try {
    if (raw.startsWith('file://')) return fileURLToPath(raw);
    const m = /^([a-zA-Z][\w+.-]+):(\/.*)$/.exec(raw);
    return m && (m[1] as string).length > 1 ? decodeURIComponent(m[2] as string) : raw;
  } catch {
    return undefined;
  }
}
