import { performance } from 'node:perf_hooks';
import { UserError } from '../core/errors';
import type { Lane, Lanes } from './lanes';
import type { Stop, Triggers } from './triggers';

/** Where the lanes stand: event n (1-based) with `stagesDone` of its six stages done. */
export interface Position {
  event: number;
  stagesDone: number;
}

/** How a run ended without a trigger: the session was torn down. */
export const CANCELLED = Symbol('cancelled');
export type RunResult = Stop | typeof CANCELLED;

/** Long runs give the event loop a turn this often, so pause and disconnect are heard. */
const YIELD_MS = 25;
/** and report progress (position and metrics events) at most this often. */
const PROGRESS_MS = 100;

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

function before(a: Position, b: Position): boolean {
  return a.event < b.event || (a.event === b.event && a.stagesDone < b.stagesDone);
}

/**
 * Moves the lanes of a session in lockstep: forward stage by stage in the engine's tight loop
 * (sequential reads, triggers checked per stage only where something can fire), backward
 * through the replayer's checkpoints. Every movement resolves to the stop it ended at.
 */
export class Controller {
  private pauseRequested = false;
  private cancelled = false;
  running = false;
  /** A movement was accepted and starts on the next turn of the event loop (see expectRun). */
  private pending = false;
  /** The lane (thread) the running movement was asked for: its stops are reported there. */
  private lane: Lane;
  /** When the running movement last gave the event loop a turn and last reported progress (kept across its segments). */
  private lastYield = 0;
  private lastProgress = 0;

  private readonly yieldMs: number;

  constructor(
    private readonly l: Lanes,
    private readonly triggers: Triggers,
    /** Called at most every 100 ms while a run goes on; `scanning` during reverse continue. */
    private readonly progress: (scanning: boolean) => void,
    /** `yieldMs`: how often a long run gives the event loop a turn (tests use 0: every 16 stages, independent of speed). */
    opts: { yieldMs?: number } = {},
  ) {
    this.lane = l.primary;
    this.yieldMs = opts.yieldMs ?? YIELD_MS;
  }

  get position(): Position {
    const ex = this.l.primary.exec;
    return { event: ex.n, stagesDone: ex.stagesDone };
  }

  get eventCount(): number {
    return this.l.slice.eventCount;
  }

  /** Whether a movement is running or accepted and about to start. */
  get busy(): boolean {
    return this.running || this.pending;
  }

  /**
   * A movement was accepted and will start shortly (the session answers the request first): a
   * pause requested from now on is for that movement, not dropped because nothing runs yet.
   */
  expectRun(): void {
    this.pending = true;
    this.pauseRequested = false;
  }

  /** Asks a running (or about to start) movement to stop at the next stage boundary it reaches (reason `pause`). */
  requestPause(): void {
    if (this.running || this.pending) this.pauseRequested = true;
  }

  /** Ends any running movement without a stop: the session is going away. */
  cancel(): void {
    this.cancelled = true;
  }

  /** Loads event 1 with no stage run. */
  start(): Stop {
    this.lane = this.l.primary;
    for (const lane of this.l.lanes) lane.replayer.advance();
    this.triggers.sync();
    return this.stop('entry', 'entry', `event 1 of ${this.eventCount}, before retrieve`);
  }

  // Every movement takes the lane (thread) the request named, primary when none: lanes move in
  // lockstep, and the stop is reported on that lane unless a trigger that belongs to one lane
  // fired (a fault: the lane that faulted; a data breakpoint: the lane it watches).

  /** F5: runs until a trigger fires or the slice ends. */
  continue(lane?: Lane): Promise<RunResult> {
    return this.guarded(lane, async () => (await this.forward(() => false, true)) ?? this.stop('step', 'step'));
  }

  /** F10: to the end of the current event if it is mid-way, else to the end of the next one. */
  next(lane?: Lane): Promise<RunResult> {
    const { event, stagesDone } = this.position;
    const target = stagesDone < 6 ? event : event + 1;
    return this.guarded(lane, async () => (await this.forward((n, s) => n === target && s === 6, true)) ?? this.stop('step', 'step'));
  }

  /** F11: one stage (from a completed event, the next event's first stage). */
  stepIn(lane?: Lane): Promise<RunResult> {
    return this.guarded(lane, async () => (await this.forward(() => true, true)) ?? this.stop('step', 'step'));
  }

  /** Shift+F11: finish the current event (from a completed event, the next one). */
  stepOut(lane?: Lane): Promise<RunResult> {
    return this.next(lane);
  }

  /**
   * Previous stage when mid-event (or always, at instruction granularity), else the previous completed
   * event. It stops only where stepping forward does: "before retrieve" is event 1's alone (a step
   * forward from the end of an event runs the next one's retrieve at once), so from the first stage of
   * a later event the step goes to the end of the event before, and step back N, step in N is a round trip.
   */
  stepBack(byStage: boolean, lane?: Lane): Promise<RunResult> {
    const { event: n, stagesDone: s } = this.position;
    let target: Position;
    if (s > 1 && (byStage || s < 6)) target = { event: n, stagesDone: s - 1 };
    else if (n > 1) target = { event: n - 1, stagesDone: 6 };
    else target = { event: 1, stagesDone: 0 };
    return this.guarded(lane, async () => {
      if (n === 1 && s === 0) return this.stop('step', 'step', 'already at the start of the slice');
      // Back over a whole event, it stops where a step over of that event stops going forward: at
      // the last breakpoint or fault inside it (a function breakpoint on its score stage, say), so
      // a step back undoes a step over. Only stage triggers can fire inside an event.
      if (s === 6 && target.event === n - 1 && [1, 2, 3, 4, 5].some((k) => this.triggers.isActive(k, n))) {
        const found = await this.reverseSearch(target);
        if (found !== CANCELLED) this.triggers.rewindHits(this.position.event, this.position.stagesDone, found.held);
        return found;
      }
      const r = (await this.positionAt(target)) ?? this.stop('step', 'step');
      // Going back in time, as reverse continue does: hit counts are those the session had there.
      if (r !== CANCELLED) this.triggers.rewindHits(this.position.event, this.position.stagesDone);
      return r;
    });
  }

  /** Jumps to the end of event `line`. */
  goto(line: number, lane?: Lane): Promise<RunResult> {
    return this.guarded(lane, async () => (await this.positionAt({ event: line, stagesDone: 6 })) ?? this.stop('goto', 'goto', `event ${line}`));
  }

  /** Re-runs the current event from its start, or the whole session from event 1. */
  restart(wholeSession: boolean, lane?: Lane): Promise<RunResult> {
    const target = { event: wholeSession ? 1 : this.position.event, stagesDone: 0 };
    return this.guarded(lane, async () => (await this.positionAt(target)) ?? this.stop('restart', 'restart', `event ${target.event}, before retrieve`));
  }

  /**
   * Back to the latest moment before this one where a trigger fires. Scans checkpoint segments
   * backwards (each replayed forward without counting hits: a hit condition is tested on the number
   * the hit had going forward, and log points stay silent) and lands on the last hit of the nearest
   * segment that has one; at the start of the slice when none does. Hit counts go back to what they
   * were there, so a continue from the landing stops where the forward run stopped.
   * Nothing at or after the position it started from is scanned. Pause and cancel are heard, and
   * progress reported, between segments as well as within them. A pause lands where every later
   * moment (up to where the search started) has been checked, never at the forward scan's
   * position inside a segment: a reverse continue from there still finds the hits the pause
   * cut short.
   */
  reverseContinue(lane?: Lane): Promise<RunResult> {
    return this.guarded(lane, async () => {
      const r = await this.reverseSearch();
      // Wherever it lands, hit counts are those the forward run had there (a hit found counted).
      if (r !== CANCELLED) this.triggers.rewindHits(this.position.event, this.position.stagesDone, r.held);
      return r;
    });
  }

  /**
   * Reverse continue's search and landing, hit counts aside. With `floor`, nothing at or before
   * it is searched, and the search lands there when nothing after it fires (a step back).
   */
  private async reverseSearch(floor?: Position): Promise<RunResult> {
    const here = this.position;
    const every = this.l.primary.replayer.checkpointEvery;
    const checkpointAtOrBefore = (n: number) => 1 + Math.floor((n - 1) / every) * every;
    // The last moment a trigger can fire before here (none fire after 0 stages).
    const limit: Position = here.stagesDone > 1 ? { event: here.event, stagesDone: here.stagesDone - 1 } : { event: here.event - 1, stagesDone: 6 };
    let end = limit;
    let start = checkpointAtOrBefore(end.event);
    // A scan from a checkpoint has no value of event start - 1 to compare with, so a data breakpoint
    // at event `start` is only seen by the scan of the segment before, which goes on through event
    // `start`: with data breakpoints, hits at a segment's first event are left to that scan.
    const withData = this.triggers.data.length > 0;
    // The earliest moment from which on everything up to `here` has been searched.
    let checkedFrom = here;
    const paused = async (r: RunResult): Promise<RunResult> => {
      if (r === CANCELLED || r.reason !== 'pause') return r;
      // The pause was heard: landing is a short hop (within one segment) that must not be paused again.
      this.pauseRequested = false;
      const at = checkedFrom;
      return (await this.positionAt(at)) ?? this.stop('pause', 'pause', `paused at event ${at.event}: reverse continue searched every event after it`);
    };
    while (end.event >= 1) {
      const interrupted = await this.tick(true);
      if (interrupted !== undefined) return paused(interrupted);
      await this.seekAll({ event: start, stagesDone: 0 });
      this.triggers.sync();
      let found: { stop: Stop; at: Position } | undefined;
      const last = end;
      const from = start;
      const complete = (at: Position) => (!withData || from === 1 || at.event > from) && (floor === undefined || before(floor, at));
      const r = await this.forward(
        (n, s) => n === last.event && s === last.stagesDone,
        true,
        (stop, at) => {
          if (complete(at)) found = { stop, at };
        },
        true,
      );
      if (r !== undefined) return paused(r);
      if (found !== undefined) {
        const { stop, at } = found;
        return (await this.positionAt(at)) ?? stop;
      }
      if (floor !== undefined && start <= floor.event) return (await this.positionAt(floor)) ?? this.stop('step', 'step');
      if (start === 1) break;
      // Hits at this segment's first event are left to the next scan when there are data breakpoints.
      const scanned: Position = withData ? { event: start + 1, stagesDone: 0 } : { event: start, stagesDone: 0 };
      if (before(scanned, checkedFrom)) checkedFrom = scanned;
      // The segment before goes on through this one's first event (for its data breakpoints),
      // but never as far as the position the search started from.
      const through: Position = { event: start, stagesDone: 6 };
      end = before(through, limit) ? through : limit;
      start = checkpointAtOrBefore(start - 1);
    }
    return (await this.positionAt({ event: 1, stagesDone: 0 })) ?? this.stop('entry', 'entry', 'no earlier breakpoint hit: at the start of the slice');
  }

  /**
   * Data breakpoints just set take their first value where a movement would have given it: a change
   * is measured between consecutive completed events, so stopped mid-way through event n (a step in,
   * a restart frame) they need event n - 1's values. The lanes go back to its end for them and return
   * (re-executed from a checkpoint, as a step back is). While a movement runs, or at an event's end,
   * they take the current values.
   */
  async resampleDataHere(): Promise<void> {
    const { event, stagesDone } = this.position;
    if (this.busy || this.cancelled || this.triggers.data.length === 0 || stagesDone === 6 || event === 1) {
      this.triggers.resampleData();
      return;
    }
    this.running = true;
    try {
      await this.seekAll({ event: event - 1, stagesDone: 6 });
      this.triggers.resampleData();
      await this.seekAll({ event, stagesDone });
      this.triggers.syncFaults();
    } finally {
      this.running = false;
    }
  }

  private async guarded(lane: Lane | undefined, run: () => Promise<RunResult>): Promise<RunResult> {
    // A movement announced by expectRun keeps a pause requested since; any other starts afresh.
    const expected = this.pending;
    this.pending = false;
    if (this.cancelled) return CANCELLED;
    this.running = true;
    if (!expected) this.pauseRequested = false;
    this.lane = lane ?? this.l.primary;
    this.lastYield = this.lastProgress = performance.now();
    try {
      const r = await run();
      // Counts stay where a movement lands (step back and reverse continue set them first).
      if (r !== CANCELLED) this.triggers.keepHits(this.position.event, this.position.stagesDone);
      return r;
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      // Bad slice data (a malformed line, events out of order) stops the replay where it is.
      await this.realign();
      const line = e.where.line ?? this.position.event;
      this.triggers.sync();
      this.triggers.keepHits(this.position.event, this.position.stagesDone);
      return { ...this.stop('exception', 'exception', e.describe()), fault: { kind: 'slice_error', message: e.describe(), lane: this.lane, event: line, stagesDone: this.position.stagesDone } };
    } finally {
      this.running = false;
    }
  }

  private stop(reason: Stop['reason'], description: string, text?: string): Stop {
    return { reason, lane: this.lane, description, ...(text ? { text } : {}) };
  }

  /**
   * One stage on every lane (advancing to the next event first when the current one is
   * complete); 0 at the end of the slice. Synchronous unless a ranker is asynchronous.
   */
  private stepLanes(): number | Promise<number> {
    const lanes = this.l.lanes;
    for (const lane of lanes) {
      const r = lane.replayer;
      const cur = r.current;
      if ((cur === undefined || cur.stagesDone === 6) && !r.advance()) return 0;
    }
    let pending: Promise<void>[] | undefined;
    for (const lane of lanes) {
      const p = lane.replayer.step();
      if (p) (pending ??= []).push(p);
    }
    return pending ? Promise.all(pending).then(() => 1) : 1;
  }

  /**
   * The engine's tight loop: stages until `done(n, s)`, a trigger (when `evaluate`), the end of
   * the slice, pause or cancel. With `onTrigger`, triggers are reported and the loop goes on.
   * Resolves to undefined when `done` said so.
   */
  private async forward(done: (n: number, s: number) => boolean, evaluate: boolean, onTrigger?: (stop: Stop, at: Position) => void, scanning = false): Promise<RunResult | undefined> {
    const triggers = this.triggers;
    const primary = this.l.primary;
    for (let i = 1; ; i++) {
      let moved = this.stepLanes();
      if (typeof moved !== 'number') moved = await moved;
      if (moved === 0) return this.stop('end', 'end of slice', `all ${this.eventCount} events replayed: step back, reverse continue or goto to look around`);
      const ex = primary.exec;
      const s = ex.stagesDone;
      if (evaluate && triggers.isActive(s, ex.n)) {
        const stop = triggers.check(s, onTrigger === undefined, this.lane);
        if (stop) {
          if (!onTrigger) return stop;
          onTrigger(stop, { event: ex.n, stagesDone: s });
        }
      } else if (!evaluate && s === 6 && triggers.data.length > 0) {
        // A hop (goto, a restart) fires nothing, but data breakpoints follow it: a pause may end
        // it anywhere, and the next event's change is measured from the last one completed.
        triggers.advanceData();
      }
      if (done(ex.n, s)) return undefined;
      // The clock is read every 16 stages: every 256 let 1,000-candidate events hold the thread for 250 ms.
      if ((i & 15) === 0) {
        const r = await this.tick(scanning);
        if (r !== undefined) return r;
      }
    }
  }

  /**
   * Progress at most every 100 ms and, every 25 ms, a turn of the event loop after which pause
   * and cancel are heard. The clocks run for the whole movement (guarded starts them), so a run
   * made of many short pieces (reverse continue's segments) is interruptible like one long one.
   */
  private async tick(scanning: boolean): Promise<RunResult | undefined> {
    const t = performance.now();
    if (t - this.lastProgress >= PROGRESS_MS) {
      this.lastProgress = t;
      this.progress(scanning);
    }
    if (t - this.lastYield < this.yieldMs) return undefined;
    await yieldToLoop();
    this.lastYield = performance.now();
    if (this.cancelled) return CANCELLED;
    if (this.pauseRequested) return this.stop('pause', 'pause', `paused at event ${this.l.primary.exec.n}`);
    return undefined;
  }

  private async seekAll(p: Position): Promise<void> {
    for (const lane of this.l.lanes) await lane.replayer.seek(p.event, p.stagesDone);
  }

  /**
   * A seek that pause and cancel can cut short (a step back or goto re-executes up to a checkpoint
   * interval, which a large `checkpointEvery` makes long). The primary lane seeks first, hearing
   * them at each turn of the event loop it gives; cut short, it is at the end of an event before
   * p, and the other lanes go there too, so the lanes stay in lockstep.
   */
  private async seekAllInterruptible(p: Position): Promise<RunResult | undefined> {
    const primary = this.l.primary.replayer;
    const reached = await primary.seek(p.event, p.stagesDone, () => this.cancelled || this.pauseRequested);
    const at = reached ? p : this.position;
    for (const lane of this.l.lanes) if (lane.replayer !== primary) await lane.replayer.seek(at.event, at.stagesDone);
    if (reached) return undefined;
    if (this.cancelled) return CANCELLED;
    // Where it stopped is a jump's landing: data breakpoints take their value there.
    this.triggers.resampleData();
    return this.stop('pause', 'pause', `paused at event ${at.event} on the way to event ${p.event}`);
  }

  /** Brings every lane to the earliest position among them (after an error left them apart). */
  private async realign(): Promise<void> {
    const positions = this.l.lanes.map((l: Lane) => ({ event: l.replayer.current?.n ?? 1, stagesDone: l.replayer.current?.stagesDone ?? 0 }));
    const min = positions.reduce((a, b) => (before(b, a) ? b : a));
    if (positions.some((p) => p.event !== min.event || p.stagesDone !== min.stagesDone)) await this.seekAll(min);
  }

  /**
   * Moves to a position without evaluating triggers. Backward and short hops restore a checkpoint
   * (bounded by the checkpoint interval); past the furthest event replayed it runs forward
   * interruptibly. Data breakpoints get their value at the event before as the baseline.
   */
  private async positionAt(p: Position): Promise<RunResult | undefined> {
    const withData = this.triggers.data.length > 0 && p.event > 1;
    // Cut short (a pause): the faults already in the events where it stopped are not new, as after
    // any jump; data breakpoints followed the hop (forward).
    const cut = (r: RunResult): RunResult => {
      this.triggers.syncFaults();
      return r;
    };
    if (withData) {
      const r = await this.moveTo({ event: p.event - 1, stagesDone: 6 });
      if (r !== undefined) return cut(r);
      this.triggers.resampleData();
    }
    const r = await this.moveTo(p);
    if (r !== undefined) return cut(r);
    if (withData && p.stagesDone === 6) this.triggers.advanceData();
    else if (!withData) this.triggers.resampleData();
    this.triggers.syncFaults();
    return undefined;
  }

  private async moveTo(p: Position): Promise<RunResult | undefined> {
    const here = this.position;
    if (here.event === p.event && here.stagesDone === p.stagesDone) return undefined;
    if (p.stagesDone === 0) {
      // A stage never ends at 0 done: stop at the end of the event before, then load this one.
      if (p.event === 1) return this.seekAll(p).then(() => undefined);
      const r = await this.moveTo({ event: p.event - 1, stagesDone: 6 });
      if (r !== undefined) return r;
      for (const lane of this.l.lanes) lane.replayer.advance();
      return undefined;
    }
    const highWater = this.l.primary.highWater;
    const every = this.l.primary.replayer.checkpointEvery;
    if (!before(p, here) && (p.event > highWater || p.event - here.event <= every)) {
      // Past what was replayed, the only way is forward; do it interruptibly from the furthest point.
      if (p.event > highWater && highWater - here.event > every) {
        const r = await this.seekAllInterruptible({ event: highWater, stagesDone: 6 });
        if (r !== undefined) return r;
      }
      return this.forward((n, s) => n === p.event && s === p.stagesDone, false);
    }
    return this.seekAllInterruptible(p);
  }
}
