import { ContinuedEvent, DebugSession, Event, InitializedEvent, OutputEvent, Response, StoppedEvent, TerminatedEvent } from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { currentStage } from '../core/engine/exprScope';
import { shown } from '../core/errors';
import { StepsCancelled, nextTurn } from '../core/steps';
import { linkless } from '../shared/linkless';
import { printable } from '../shared/printable';
import { MAX_PUSHED_POINTS, METRICS_EVENT, POSITION_EVENT, type MetricsEventBody, type PositionEventBody } from '../shared/dap';
import { CANCELLED, Controller, type RunResult } from './controller';
import { checkArguments } from './args';
import { AdapterError, ERROR_IDS, bounded, toDapMessage } from './errors';
import { closeLanes, discardLanes, openLanes, type Lane, type Lanes, type RankerLoader } from './lanes';
import { parseLaunchArguments, unknownLaunchArguments, type LaunchConfig } from './launchConfig';
import type { AdapterLogger } from './logger';
import { buildRoutes, capabilities, type Handler } from './routes';
import { Triggers, type Stop } from './triggers';
import { VariableRegistry } from './variables';

export interface SessionOptions {
  logger: AdapterLogger;
  /** Folder relative launch paths resolve against when the config gives no `cwd`. */
  cwd?: string;
  /** Turns ranker specs into rankers (default: the core's built-in kinds). */
  loadRanker?: RankerLoader;
  /**
   * A forced launch opens the slice through its cached indexes (Slice.open trustCachedIndex) instead of
   * reading events.jsonl whole on this thread: for a host that streamed the file before the launch
   * (the extension's warm-up), so a modified file has an index of its own. A standalone adapter reads it whole.
   */
  trustCachedIndex?: boolean;
}

/** What exists once `launch` succeeded. */
export interface Launched {
  lanes: Lanes;
  controller: Controller;
  triggers: Triggers;
  config: LaunchConfig;
}

/** Progress notifications start once a run has lasted this long (short runs would only flash). */
const PROGRESS_AFTER_MS = 500;

/** The refusal of a request that needs a session after terminate or disconnect. */
function ended(): AdapterError {
  return new AdapterError('the debug session has ended: start a new one to debug a slice', ERROR_IDS.notLaunched, false);
}

/** A stop for an unexpected failure during a movement: the session stays usable where the lanes are. */
function internalStop(l: Launched, e: unknown, lane: Lane = l.lanes.primary): Stop {
  const message = `internal error in the adapter: ${e instanceof Error ? e.message : String(e)} (the stack is in the adapter log)`;
  const { event, stagesDone } = l.controller.position;
  return { reason: 'exception', lane, description: 'internal error', text: message, fault: { kind: 'slice_error', message, lane, event, stagesDone } };
}

/**
 * The RecReplay debug session. Transport-agnostic: the standalone adapter runs it over stdio or a
 * socket, the extension in-process (DebugAdapterInlineImplementation). Every request goes
 * through one routing table (routes.ts); a handler returns a body or throws, and the session
 * turns user errors into error responses a person can act on and anything else into an error
 * response with the stack in the log, never a dead adapter.
 */
export class ReplayDebugSession extends DebugSession {
  readonly log: AdapterLogger;
  readonly vars = new VariableRegistry();
  private readonly routes: ReadonlyMap<string, Handler>;
  private launchedState: Launched | undefined;
  private initialized = false;
  private configured = false;
  private started = false;
  private disposed = false;
  /** The launch, while it runs (it opens the slice a slice of work per turn of the event loop). */
  private launching: Promise<void> | undefined;
  /** The one disposal, which every later dispose() waits for too (a disconnect behind a terminate). */
  private disposing: Promise<void> | undefined;
  private terminating = false;
  /** A noDebug run reached its end: the session said `terminated` and waits for the client's disconnect. */
  private runEnded = false;
  private stopInfo: Stop | undefined;
  private entry: Stop | undefined;
  private runSeq = 0;
  private progressId: string | undefined;
  private runStartedAt = 0;
  private readonly startedAt = new Date().toISOString();
  clientCaps: DebugProtocol.InitializeRequestArguments = { adapterID: 'recreplay' };

  constructor(private readonly options: SessionOptions) {
    super();
    this.log = options.logger;
    this.setDebuggerLinesStartAt1(true);
    this.setDebuggerColumnsStartAt1(true);
    this.routes = buildRoutes(this);
    // The base class shuts the session down on any protocol 'error', including a frame whose body
    // is not JSON: one bad message from a client would end the session without a word.
    this.removeAllListeners('error');
    this.on('error', (e: DebugProtocol.Event) => this.protocolError(e));
  }

  /** A malformed frame is reported and skipped; a broken stream still ends the session. */
  private protocolError(e: DebugProtocol.Event): void {
    const text = String(e.body ?? 'unknown protocol error');
    if (!text.startsWith('Error handling data')) {
      this.log.error(`debug adapter protocol stream failed: ${text}`);
      this.shutdown();
      return;
    }
    this.skipMessage(text.replace(/^Error handling data: /, ''));
  }

  /** Tells the client (and the log) that a message was skipped, and why; the session goes on. */
  private skipMessage(why: string): void {
    this.log.warn(`ignored a malformed message from the client: ${why}`);
    this.output(`RecReplay ignored a message from the debug client that is not a valid DAP message (${why}); the session goes on.\n`, 'important');
  }

  /**
   * A frame whose JSON is not an object (`null`, `5`, `[]`) or names no message type is skipped with
   * a word: the base class reads `msg.type` of whatever arrived (a TypeError for null, silence for the rest).
   */
  override handleMessage(msg: DebugProtocol.ProtocolMessage): void {
    const m: unknown = msg;
    if (typeof m !== 'object' || m === null || Array.isArray(m)) {
      this.skipMessage(`its body is ${shown(m)}, not a JSON object`);
      return;
    }
    const type = (m as { type?: unknown }).type;
    if (type !== 'request' && type !== 'response' && type !== 'event') {
      this.skipMessage(`its "type" is ${shown(type)}: a client sends "request" or "response"`);
      return;
    }
    super.handleMessage(msg);
  }

  protected override dispatchRequest(request: DebugProtocol.Request): void {
    const response = new Response(request);
    const command: unknown = request.command;
    if (typeof command !== 'string') {
      const why = command === undefined || command === null ? 'has no "command"' : `has a "command" that is not a string (${shown(command)})`;
      this.fail(response, new AdapterError(`the request ${why}: a DAP request names what it asks for, e.g. "command": "threads"`, ERROR_IDS.badArguments, false));
      return;
    }
    // A Map, not an object: a command named after an Object.prototype member ('toString', '__proto__') is unknown too.
    const handler = this.routes.get(command);
    if (handler === undefined) {
      this.fail(response, new AdapterError(`the RecReplay adapter does not support the '${command}' request`, ERROR_IDS.unsupported, false));
      return;
    }
    let result: unknown;
    try {
      checkArguments(request.command, request.arguments ?? {});
      result = handler(request.arguments ?? {}, request);
    } catch (e) {
      this.fail(response, e);
      return;
    }
    if (result instanceof Promise) result.then((body) => this.succeed(response, body), (e: unknown) => this.fail(response, e));
    else this.succeed(response, result);
  }

  private succeed(response: DebugProtocol.Response, body: unknown): void {
    if (body !== undefined) response.body = boundedBody(body);
    this.sendResponse(response);
  }

  private fail(response: DebugProtocol.Response, e: unknown): void {
    const { message, expected } = toDapMessage(e, response.command);
    // Its text quotes the slice, and a client may show it as a notification (see output()).
    message.format = printable(linkless(message.format));
    if (!expected) this.log.error(`request '${response.command}' failed`, e);
    if (message.id === ERROR_IDS.running) {
      // The spec's short form for "retry once stopped" goes in `message` (a client may act on it);
      // the sentence stays in body.error, as in every other error response.
      response.success = false;
      response.message = 'notStopped';
      response.body = { error: message };
      this.sendResponse(response);
      return;
    }
    this.sendErrorResponse(response, message);
  }

  /** The launched session, or a user-facing error for requests that need one. */
  launched(): Launched {
    if (this.disposed) throw ended();
    // Run Without Debugging reached its end and said `terminated`: nothing is to be stepped any more (a step back revived it).
    if (this.runEnded) throw new AdapterError('the run without debugging has ended (it replayed to its end): disconnect to write its trace and run record, or start a new session to debug the slice', ERROR_IDS.notLaunched, false);
    if (this.launchedState === undefined) throw new AdapterError('no slice is being debugged yet: launch a recreplay configuration first', ERROR_IDS.notLaunched);
    return this.launchedState;
  }

  /** The launched session, refusing while a run is going on (nothing stands still to inspect). */
  stopped(): Launched {
    const l = this.launched();
    if (!this.started) throw new AdapterError('the replay has not started: send configurationDone first', ERROR_IDS.notLaunched, false);
    if (l.controller.busy) throw new AdapterError('the replay is running: pause it first', ERROR_IDS.running, false);
    return l;
  }

  get lastStop(): Stop | undefined {
    return this.stopInfo;
  }

  /** Records the client's capabilities; a session is initialized once (a second initialize would switch its line base mid-way). */
  initialize(args: DebugProtocol.InitializeRequestArguments): DebugProtocol.Capabilities {
    if (this.initialized) throw new AdapterError("the session is already initialized: a client sends 'initialize' once, as its first request", ERROR_IDS.notLaunched, false);
    this.initialized = true;
    this.clientCaps = args;
    this.vars.withTypes = args.supportsVariableType === true;
    this.vars.paging = args.supportsVariablePaging === true;
    return capabilities();
  }

  /**
   * Opens the slice and rankers; `initialized` follows, so breakpoints can be checked against the
   * slice. The opening yields to the event loop between slices of its work (openLanes): a session
   * ended meanwhile stops it, and it keeps nothing open.
   */
  launch(raw: unknown): Promise<void> {
    // After terminate or disconnect nothing would ever release what a launch opens (slice, trace thread, checkpoint spill).
    if (this.disposed) throw ended();
    // The line base and the client's capabilities come with 'initialize': a launch before it would
    // answer in one base, then switch when initialize came.
    if (!this.initialized) throw new AdapterError("'launch' before 'initialize': a client sends 'initialize' first, then 'launch'", ERROR_IDS.notLaunched);
    if (this.launchedState || this.launching) throw new AdapterError('this session already debugs a slice: start a new session for another one', ERROR_IDS.launch);
    // Arguments the adapter does not know are named first, with the one meant: when the launch then
    // fails on a required one ("Slice" for "slice"), that is what tells why.
    for (const warning of unknownLaunchArguments(raw)) {
      this.log.warn(warning);
      this.output(`${warning}\n`, 'important');
    }
    // Checked before the launch counts as under way: a launch refused for its arguments leaves the
    // session free for the next one (which was refused as a second launch).
    const config = parseLaunchArguments(raw, this.options.cwd ?? process.cwd());
    // Held until the launch has ended either way: a second launch is refused meanwhile, and release() waits for it.
    const launching = this.launchNow(config).finally(() => {
      if (this.launching === launching) this.launching = undefined;
    });
    this.launching = launching;
    return launching;
  }

  private async launchNow(config: LaunchConfig): Promise<void> {
    let lanes: Lanes;
    try {
      lanes = await openLanes(config, this.log, this.options.loadRanker, this.options.trustCachedIndex ?? false, { cancelled: () => this.disposed });
    } catch (e) {
      throw e instanceof StepsCancelled ? ended() : e;
    }
    if (this.disposed) {
      // Ended while its last step ran: what it opened goes (release() waits for this launch).
      discardLanes(lanes);
      throw ended();
    }
    // A forced replay of a modified slice is said where the user looks (it went to the log alone):
    // its metrics are not those of the frozen data.
    const modified = [...lanes.slice.modified].sort();
    const forced = modified.length ? [`replaying a modified slice (force): ${modified.join(', ')} ${modified.length === 1 ? 'does' : 'do'} not match the manifest, so what this session shows is not the frozen data`] : [];
    for (const warning of [...forced, ...lanes.slice.warnings]) {
      this.log.warn(warning);
      this.output(`${warning}\n`, 'important');
    }
    for (const lane of lanes.lanes) {
      for (const warning of lane.replayer.ranker.warnings ?? []) {
        this.log.warn(warning);
        this.output(`${lanes.lanes.length > 1 ? `${lane.name}: ` : ''}${warning}\n`, 'important');
      }
    }
    const triggers = new Triggers(lanes.lanes, lanes.primary, (text) => this.output(text, 'console'));
    triggers.off = config.noDebug;
    const controller = new Controller(lanes, triggers, (scanning) => this.runProgress(scanning));
    let entry: Stop;
    try {
      // (Its first checkpoint and block read are a piece of their own: a turn of the event loop first.)
      await nextTurn();
      if (this.disposed) throw ended();
      // Loading event 1 now turns a malformed first line into a launch error, not a silent session.
      entry = controller.start();
    } catch (e) {
      discardLanes(lanes);
      throw e;
    }
    this.entry = entry;
    this.launchedState = { lanes, controller, triggers, config };
    this.log.info(`launched ${lanes.slice.dir} (${lanes.slice.eventCount} events) with ${lanes.lanes.map((l) => `${l.name}=${l.rankerSpec}`).join(', ')}`);
    setImmediate(() => this.sendEvent(new InitializedEvent()));
  }

  /** The client has set its breakpoints: the replay starts (entry stop, or a continue). */
  configurationDone(): void {
    if (this.disposed) throw ended();
    // Before launch it would be taken and then forgotten: launch never started the replay, and the client waited for a stop.
    if (!this.launchedState) throw new AdapterError("configurationDone came before launch: send 'launch', then set breakpoints, then 'configurationDone'", ERROR_IDS.notLaunched, false);
    this.configured = true;
    this.startIfReady();
  }

  /**
   * Starts at once, so a request the client sends right behind configurationDone (a `next` in the
   * same batch) is taken as a request on a started replay; the stop goes out after the response.
   */
  private startIfReady(): void {
    const l = this.launchedState;
    if (!l || !this.configured || this.started || this.disposed) return;
    this.started = true;
    const entry = this.entry;
    if (l.config.stopOnEntry && entry && !l.config.noDebug) {
      setImmediate(() => {
        if (!this.disposed) this.report(entry);
      });
    } else this.move(0, (c) => c.continue());
  }

  /** Runs a movement after its response went out; reports the stop it ends at. */
  /** `lane`: the thread the movement was asked on (an internal failure is reported there). */
  move(requestSeq: number, run: (c: Controller) => Promise<RunResult>, lane?: Lane): void {
    const l = this.stopped();
    this.vars.reset();
    this.runSeq = requestSeq;
    this.runStartedAt = performance.now();
    // The run starts on the next turn of the event loop; a pause (or cancel) heard before then is for it.
    l.controller.expectRun();
    // In compare mode both threads move whichever one was asked (a step or goto names one): the
    // client is told, or it shows the other as paused and its requests are refused meanwhile.
    if (l.lanes.lanes.length > 1 && requestSeq !== 0) this.sendEvent(new ContinuedEvent(l.lanes.primary.threadId, true));
    setImmediate(() => {
      run(l.controller).then(
        (r) => this.finishRun(r),
        (e: unknown) => {
          this.log.error('a replay movement failed', e);
          this.finishRun(internalStop(l, e, lane));
        },
      );
    });
  }

  private finishRun(r: RunResult): void {
    this.endProgress();
    if (r === CANCELLED || this.disposed) return;
    this.report(r);
  }

  /** Pause: the running movement stops at its next stage boundary. */
  pause(): void {
    this.launched().controller.requestPause();
  }

  /** Cancel of a running movement's request or of its progress: the same as pause. */
  cancel(args: DebugProtocol.CancelArguments): void {
    const l = this.launchedState;
    if (!l?.controller.busy) return;
    if ((args.progressId !== undefined && args.progressId === this.progressId) || (args.requestId !== undefined && args.requestId === this.runSeq)) l.controller.requestPause();
  }

  private report(stop: Stop): void {
    this.stopInfo = stop;
    this.vars.reset();
    const l = this.launched();
    const ends = stop.reason === 'end' || stop.reason === 'exception';
    // Run Without Debugging: the replay ran to its end (or to a slice error) without stopping; the
    // session ends there instead of stopping — the client's disconnect writes the trace and run record.
    const endsSession = ends && l.config.noDebug;
    if (!endsSession) {
      const e = new StoppedEvent(stop.reason, stop.lane.threadId) as DebugProtocol.StoppedEvent;
      e.body.allThreadsStopped = true;
      e.body.preserveFocusHint = false;
      // Texts that can quote the slice (a fault's item id, a condition's error): escapes for its bidi overrides and control characters.
      if (stop.description) e.body.description = printable(stop.description);
      if (stop.text) e.body.text = printable(stop.text);
      if (stop.hitBreakpointIds?.length) e.body.hitBreakpointIds = stop.hitBreakpointIds;
      this.sendEvent(e);
    }
    if (ends) {
      const head = stop.description ?? stop.reason;
      // A slice error's description is its whole message: say it once.
      const line = endsSession && stop.reason === 'end' ? `end of slice: all ${l.lanes.slice.eventCount} events replayed (run without debugging)` : stop.text && stop.text !== head ? `${head}: ${stop.text}` : head;
      this.output(`${line}\n`, stop.reason === 'exception' ? 'stderr' : 'console');
    }
    if (endsSession) {
      this.runEnded = true;
      return void this.sendEvent(new TerminatedEvent());
    }
    this.sendTimeline('stopped', l, stop);
  }

  private runProgress(scanning: boolean): void {
    const l = this.launchedState;
    if (!l || this.disposed) return;
    this.sendTimeline('running', l);
    if (this.clientCaps.supportsProgressReporting && performance.now() - this.runStartedAt > PROGRESS_AFTER_MS) {
      const { event } = l.controller.position;
      const percentage = Math.floor((event / l.lanes.slice.eventCount) * 100);
      const message = `${scanning ? 'searching back' : 'replaying'}: event ${event} of ${l.lanes.slice.eventCount}`;
      if (this.progressId === undefined) {
        this.progressId = `recreplay-run-${this.runSeq}-${Math.round(this.runStartedAt)}`;
        this.sendEvent(new Event('progressStart', { progressId: this.progressId, title: scanning ? 'Reverse continue' : 'Replaying', cancellable: true, message, percentage }));
      } else {
        this.sendEvent(new Event('progressUpdate', { progressId: this.progressId, message, percentage }));
      }
    }
  }

  private endProgress(): void {
    if (this.progressId === undefined) return;
    this.sendEvent(new Event('progressEnd', { progressId: this.progressId }));
    this.progressId = undefined;
  }

  /** recreplay/position and recreplay/metrics for the timeline. */
  private sendTimeline(state: PositionEventBody['state'], l: Launched, stop?: Stop): void {
    const ex = l.lanes.primary.exec;
    const body: PositionEventBody = {
      state,
      event: ex.n,
      eventId: ex.event.id,
      t: ex.event.t,
      stagesDone: ex.stagesDone,
      stage: currentStage(ex.stagesDone),
      eventCount: l.lanes.slice.eventCount,
      eventsPath: l.lanes.slice.eventsPath,
      highWater: l.lanes.primary.highWater,
    };
    if (stop) {
      body.reason = stop.reason;
      if (stop.hitBreakpointIds?.length) body.hitBreakpointIds = stop.hitBreakpointIds;
      if (stop.fault) body.fault = stop.fault.kind;
    }
    this.sendEvent(new Event(POSITION_EVENT, body));
    for (const lane of l.lanes.lanes) this.sendMetrics(lane, state === 'stopped');
  }

  private sendMetrics(lane: Lane, always: boolean): void {
    const through = lane.highWater;
    if (!always && through === lane.pushedThrough) return;
    const from = Math.max(lane.pushedThrough + 1, through - MAX_PUSHED_POINTS + 1);
    const points = [];
    for (let n = from; n <= through; n++) points.push(lane.store.point(n));
    const body: MetricsEventBody = { lane: lane.name, through, points, skipped: Math.max(0, from - lane.pushedThrough - 1), cumulative: lane.replayer.metrics.snapshot() };
    lane.pushedThrough = through;
    this.sendEvent(new Event(METRICS_EVENT, body));
  }

  /** An event number (1-based line of events.jsonl) as a line in the client's convention (`linesStartAt1`). */
  clientLine(n: number): number {
    return this.clientCaps.linesStartAt1 === false ? n - 1 : n;
  }

  /** Debug console output (log points, end-of-slice notes). */
  output(text: string, category: 'console' | 'important' | 'stdout' | 'stderr' = 'console'): void {
    // The text quotes the slice (ids, names, fields of slice.json). VS Code's Debug Console draws
    // ANSI escapes (colours that hide text or disguise a line), and shows 'important' output as a
    // notification too, where [label](command:…) is a link that runs the command.
    const e = new OutputEvent(printable(category === 'important' ? linkless(text) : text), category) as DebugProtocol.OutputEvent;
    const l = this.launchedState;
    if (l && category === 'console' && l.lanes.primary.replayer.current) {
      e.body.source = { name: 'events.jsonl', path: l.lanes.slice.eventsPath };
      e.body.line = this.clientLine(l.lanes.primary.exec.n);
    }
    this.sendEvent(e);
  }

  /** Ends the session (also what VS Code calls on an inline adapter): stops any run, finishes traces, releases the slice. Idempotent: a second call waits for the first. */
  override dispose(): Promise<void> {
    this.disposed = true;
    this.disposing ??= this.release();
    return this.disposing;
  }

  private async release(): Promise<void> {
    // A launch still opening stops at its next step (it sees `disposed`) and releases what it opened.
    await this.launching?.catch(() => undefined);
    const l = this.launchedState;
    if (!l) return;
    l.controller.cancel();
    // A run notices the cancel at its next yield (every 25 ms); wait for it before closing files.
    for (let i = 0; i < 400 && l.controller.running; i++) await new Promise((r) => setTimeout(r, 5));
    await closeLanes(l.lanes, l.config, this.startedAt, this.log);
  }

  /** Terminate: the replay ends, the client then disconnects. `terminated` is sent once, however often it is asked. */
  terminate(): void {
    if (this.terminating) return;
    this.terminating = true;
    void this.dispose().then(() => this.sendEvent(new TerminatedEvent()));
  }

  /** Disconnect: everything is released before the response; standalone over stdio the process then exits. */
  async disconnect(): Promise<void> {
    await this.dispose();
    setImmediate(() => this.shutdown());
  }

  /** The transport closed (or the client went away): release everything before the base class exits. */
  override shutdown(): void {
    void this.dispose().finally(() => super.shutdown());
  }
}

/**
 * A response body with the reasons it gives cut to a message's length (see bounded): a breakpoint's
 * `message` and a data breakpoint's `description` quote what the user wrote, which may be 200 KB.
 */
function boundedBody(body: unknown): unknown {
  if (typeof body !== 'object' || body === null) return body;
  const b = body as { breakpoints?: unknown; description?: unknown };
  if (Array.isArray(b.breakpoints)) {
    for (const bp of b.breakpoints as { message?: unknown }[]) if (typeof bp?.message === 'string') bp.message = bounded(bp.message);
  }
  if (typeof b.description === 'string') b.description = bounded(b.description);
  return body;
}
