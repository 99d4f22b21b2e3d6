import { UserError } from '../errors';
import { MetricsAccumulator, type CatalogEntry, type EventMetrics } from '../metrics';
import { streamFor } from '../random';
import type { Ranker } from '../rankers/types';
import type { Slice } from '../slice/reader';
import { DEFAULT_PIPELINE, STAGES, type EventRecord, type ItemRecord, type PipelineSettings, type StageName, type UserRecord } from '../slice/types';
import { timeOf } from '../slice/events';
import { CheckpointStore } from './checkpoints';
import type { Fault } from './faults';
import { RankScratch, recordedRanking, type CandidateRow } from './rows';
import { runStage } from './stages';
import { ReplayState, adoptCatalogIndex, type SavedState } from './state';
import { ItemIndex } from '../metrics/catalog';
import { CANDIDATES_PER_TURN, RECORDS_PER_STEP, nextTurn, pacer, runSteps, type Steps } from '../steps';

/** Catalogues this large get turns of the event loop between the pieces of a checkpoint restore. */
const LARGE_CATALOGUE = 1 << 16;

/** What every replayer of one slice shares (see Replayer.prepareSteps). */
interface SharedCatalog {
  /** The first record of each id, in slot order: also the catalogue the metrics read (id, category, group). */
  itemBySlot: readonly ItemRecord[];
  windowed: Uint8Array;
}
const sharedCatalogs = new WeakMap<readonly ItemRecord[], SharedCatalog>();

export interface ReplayOptions {
  ranker: Ranker;
  /** Seed of every random stream (default: the slice's seed). */
  seed?: number;
  /** Overrides of the slice's pipeline settings. */
  pipeline?: Partial<PipelineSettings>;
  /** Take a checkpoint every K events (default 500; a finite number >= 1, fractions rounded down). */
  checkpointEvery?: number;
  /** Receives each event the first time it completes, in order. */
  onEventComplete?: (exec: EventExec) => void;
  /** Folder for spilled checkpoints (default: the OS temp folder). */
  spillDir?: string;
}

/** Everything known about one event as its stages run; what a stop shows. */
export interface EventExec {
  /** 1-based event number = line in events.jsonl. */
  n: number;
  event: EventRecord;
  tMs: number;
  user: UserRecord | undefined;
  /** Stages done so far (0..6). */
  stagesDone: number;
  rows: CandidateRow[];
  dropped: string[];
  /** The recorded ranking (served first, then by recorded score). */
  recorded: string[];
  /** The recorded ranking as state slots. */
  recordedSlots: number[];
  /** How many of `recorded`'s first items the recording ranked (served, or logged with a score); see RecordedRanking.ranked. */
  recordedRanked: number;
  /** Tie blocks of `recorded` (candidates logged with the same score), when there are any; see RecordedRanking.ties. */
  recordedTies: number[] | undefined;
  /** State slot of each candidate, in candidate order (resolved when the event loads). */
  candidateSlots: number[];
  /** 1-based recorded rank of each candidate, in candidate order. */
  candidateRanks: number[];
  /** Whether an item appears twice among the candidates (retrieve then keeps the first). */
  hasDuplicates: boolean;
  stale: { name: string; ageSec: number }[];
  scores: Float64Array | undefined;
  ranked: string[];
  /** The rows in replayed order (after rerank). */
  rankedRows: CandidateRow[];
  served: string[];
  /** The rows served (the replayed top k, or the fallback's). */
  servedRows: CandidateRow[];
  fallback: boolean;
  clicks: string[];
  outcomeSource: 'recorded' | 'model' | 'mixed' | '';
  latencyMs: Record<StageName, number>;
  faults: Fault[];
  metrics: EventMetrics | undefined;
}

/**
 * The checkpoint interval when none is asked for: 500 events, or fewer where events are large, so
 * that a step back re-executes at most ~1.6 MB of events (500 of the bench's 3.2 KB events) — with
 * 10,000 candidates an event, 500 of them took 8.8 s to re-execute, on the editor's thread.
 */
export function defaultCheckpointEvery(slice: Pick<Slice, 'eventCount' | 'index'>): number {
  const n = slice.eventCount;
  const bytes = n > 0 ? (slice.index.offsets[n] ?? 0) / n : 0;
  return bytes > 0 ? Math.max(1, Math.min(500, Math.floor(1.6e6 / bytes))) : 500;
}

/** About the bytes of one checkpoint over a catalogue of `items`: the state's seven columns per item (36 bytes), and the metrics. */
export function checkpointBytesOf(items: number): number {
  return 36 * Math.max(16, items) + 32 * 1024;
}

/** Stage results and faults are deterministic functions of (state, event, seed); the engine keeps that true. */
export class Replayer {
  /**
   * Bytes the checkpoints of one replay of a whole slice may take (2 GiB): the checkpoint interval
   * is widened to fit (see checkpointEvery). Tests lower it.
   */
  static spillBudget = 2 * 1024 ** 3;
  readonly pipeline: PipelineSettings;
  readonly seed: number;
  /**
   * Events between checkpoints: the interval asked for (default: defaultCheckpointEvery), or more
   * where the slice's checkpoints would not fit Replayer.spillBudget — a catalogue of millions of
   * items, or items outside the catalogue piling up (each checkpoint holds every item met so far):
   * doubled as checkpoints turn out larger than foreseen, so the grid only ever gets coarser and
   * the checkpoints taken stay on it.
   */
  get checkpointEvery(): number {
    return this.ckEvery;
  }
  private ckEvery: number;
  /** Bytes of the checkpoints taken so far (each event's once), and what they may take (Replayer.spillBudget when made). */
  private spilled = 0;
  /** The last event a checkpoint was counted for (see load). */
  private checkpointedTo = 0;
  private readonly budget = Replayer.spillBudget;
  readonly catalog: readonly CatalogEntry[];
  /** Item records by state slot (catalogue order), so retrieve needs one lookup per candidate. */
  readonly itemBySlot: readonly ItemRecord[];
  /** 1 where the item has availability windows: retrieve reads the record only for those. */
  readonly windowed: Uint8Array;
  state: ReplayState;
  metrics: MetricsAccumulator;
  /** The current event, or undefined before the first one is loaded. */
  current: EventExec | undefined;
  private readonly checkpoints: CheckpointStore;
  private readonly rankScratch = new RankScratch();
  /** Highest event number that completed; events past it are reported as new. */
  private highWater = 0;
  private seq: Generator<EventRecord> | undefined;
  /** 'eager' while runToEnd runs: a read started then will go far, so the reader thread starts at once. */
  private readAhead: 'eager' | 'auto' = 'auto';
  private seqNext = 0;
  /** Set by dispose(): a disposed replayer refuses to move (it would reopen the events file and spill folder). */
  private disposed = false;
  /**
   * The asynchronous move under way ("a seek", "a step", …), if any: another move started meanwhile
   * would run on the state it is changing, and a second seek's target was silently dropped.
   */
  private moving: string | undefined;

  constructor(
    readonly slice: Slice,
    readonly options: ReplayOptions,
  ) {
    this.pipeline = { ...DEFAULT_PIPELINE, ...(slice.manifest.pipeline ?? {}), ...(options.pipeline ?? {}) };
    this.seed = options.seed ?? slice.manifest.seed;
    // Unsigned 32-bit, as slice.json and the CLI have it (from the API, 2^40 made a run no CLI could repeat).
    if (!Number.isInteger(this.seed) || this.seed < 0 || this.seed > 0xffffffff) throw new RangeError(`seed must be a whole number from 0 to 4294967295, but it is ${String(this.seed)}`);
    const every = options.checkpointEvery ?? defaultCheckpointEvery(slice);
    // The CLI and launch configs check theirs; from the API a NaN took no checkpoint at all (every seek replayed from event 1).
    if (typeof every !== 'number' || !Number.isFinite(every) || every < 1) throw new RangeError(`checkpointEvery must be a finite number of events >= 1, but it is ${String(every)}`);
    // The interval asked for, widened where the slice's checkpoints would not fit the spill budget:
    // each holds the state of every item (36 bytes an item), so a million-item catalogue over 100k
    // events at 500 took 4.9 GB of the temp folder (and with the folder full, as much memory).
    this.ckEvery = Math.max(Math.floor(every), Math.ceil((slice.eventCount * checkpointBytesOf(slice.items.length)) / this.budget));
    const shared = runSteps(Replayer.prepareSteps(slice));
    this.catalog = shared.itemBySlot;
    this.itemBySlot = shared.itemBySlot;
    this.windowed = shared.windowed;
    this.state = new ReplayState(slice.items);
    this.metrics = new MetricsAccumulator(this.catalog, this.pipeline.k);
    this.checkpoints = new CheckpointStore(options.spillDir);
  }

  /**
   * Builds (once per slice) what replayers of the slice share: the catalogue as the metrics read
   * it, and the indexes over it. A replayer made after these steps ran finds them built, so the
   * editor runs them a slice per turn of its event loop first (runStepsAsync): over a million items
   * they take seconds. Compare mode's two lanes share them too.
   */
  static *prepareSteps(slice: Slice): Steps<SharedCatalog> {
    const items = slice.items;
    const known = sharedCatalogs.get(items);
    if (known) return known;
    const index = adoptCatalogIndex(items, slice.itemById);
    const itemBySlot = index.records;
    // The metrics read an item's id, category and group from its record itself (a copy of those three
    // fields per item took ~0.2 s over a million). A category or group left out, null or "" is none.
    // (A loop, not Uint8Array.from with a function: a call per item took ~0.1 s over a million.)
    const windowed = new Uint8Array(itemBySlot.length);
    for (let i = 0; i < itemBySlot.length; i++) {
      if (i % RECORDS_PER_STEP === RECORDS_PER_STEP - 1) yield;
      const available = (itemBySlot[i] as ItemRecord).available;
      if (available && available.length > 0) windowed[i] = 1;
    }
    yield;
    yield* ItemIndex.sharedSteps(itemBySlot, index.slots);
    const shared = { itemBySlot, windowed };
    sharedCatalogs.set(items, shared);
    return shared;
  }

  get ranker(): Ranker {
    return this.options.ranker;
  }

  get eventCount(): number {
    return this.slice.eventCount;
  }

  /** Current position: event n (1-based, 0 before start) and stages done (0..6). */
  get position(): { event: number; stage: number } {
    return { event: this.current?.n ?? 0, stage: this.current?.stagesDone ?? 0 };
  }

  /** Name of the next stage to run, or undefined when the event is complete. */
  get nextStage(): StageName | undefined {
    return this.current ? STAGES[this.current.stagesDone] : STAGES[0];
  }

  private readEvent(n: number): EventRecord {
    if (this.seq && this.seqNext === n) {
      const r = this.seq.next();
      if (!r.done) {
        this.seqNext++;
        return r.value;
      }
    }
    // Sequential reads are the fast path; a jump starts a new sequential reader at n (and stops
    // the old one's reader thread, if it had started one).
    this.seq?.return(undefined);
    this.seq = this.slice.events(n, undefined, { readAhead: this.readAhead });
    const r = this.seq.next();
    if (r.done) throw new UserError(`events.jsonl ended before event ${n}`, { file: this.slice.eventsPath, line: n }, 'The file is shorter than its index says: restore it or re-freeze the slice.');
    this.seqNext = n + 1;
    return r.value;
  }

  /** Loads event n (which must follow the state's last event) with no stage run. */
  private load(n: number): EventExec {
    if ((n - 1) % this.ckEvery === 0 && !this.checkpoints.has(n)) {
      const bytes = this.checkpoints.put(n, this.saveState());
      // Counted once per event: one taken again on re-execution (kept in memory, thinned out since)
      // adds no bytes to what the replay holds, but counted again it widened the interval on every
      // step back, until a step re-executed many times the events it had to.
      if (n > this.checkpointedTo) {
        this.checkpointedTo = n;
        this.widenFor(n, bytes);
      }
    }
    const event = this.readEvent(n);
    const tMs = timeOf(event.t);
    if (tMs < this.state.lastEventT) {
      throw new UserError(`event ${event.id} is out of time order: ${event.t} is earlier than the event before it`, { file: this.slice.eventsPath, line: n, field: 't' }, 'Events must be sorted by "t"; re-freeze the slice sorted.', 'E_ORDER');
    }
    const user = this.slice.userById.get(event.user);
    const latencyMs = { retrieve: 0, features: 0, score: 0, rerank: 0, serve: 0, outcome: 0 };
    const recorded = recordedRanking(event, this.state, this.rankScratch);
    this.current = {
      n,
      event,
      tMs,
      user,
      stagesDone: 0,
      rows: [],
      dropped: [],
      recorded: recorded.order,
      recordedSlots: recorded.orderSlots,
      recordedRanked: recorded.ranked,
      recordedTies: recorded.ties,
      candidateSlots: recorded.candidateSlots,
      candidateRanks: recorded.candidateRanks,
      hasDuplicates: recorded.duplicates,
      stale: [],
      scores: undefined,
      ranked: [],
      rankedRows: [],
      served: [],
      servedRows: [],
      fallback: false,
      clicks: [],
      outcomeSource: '',
      latencyMs,
      faults: [],
      metrics: undefined,
    };
    return this.current;
  }

  /** After a checkpoint of `bytes` before event n: doubles the interval while the rest of the slice's checkpoints, that large, would pass the budget. */
  private widenFor(n: number, bytes: number): void {
    this.spilled += bytes;
    const left = this.eventCount - n;
    while (this.ckEvery < this.eventCount && this.spilled + bytes * Math.ceil(left / this.ckEvery) > this.budget) this.ckEvery *= 2;
  }

  /**
   * Throws once dispose() ran (moving would reopen the slice's events file and a new spill folder)
   * and while an asynchronous move is under way (see moving).
   */
  private checkNotDisposed(what: string): void {
    if (this.disposed) throw new Error(`Cannot ${what}: the replayer was disposed`);
  }

  private checkLive(what: string): void {
    this.checkNotDisposed(what);
    if (this.moving) throw new Error(`Cannot ${what}: ${this.moving} is already in progress (await it first)`);
  }

  /**
   * Waits (up to `timeoutMs`) for an asynchronous move under way to settle — a step awaiting a slow
   * ranker — so that another move may start; true when none is left.
   */
  async whenIdle(timeoutMs: number): Promise<boolean> {
    for (let waited = 0; this.moving !== undefined && waited < timeoutMs; waited += 5) await new Promise((r) => setTimeout(r, 5));
    return this.moving === undefined;
  }

  /** Marks `what` as in progress until the promise a move returned settles; a synchronous move needs no mark. */
  private track(what: string, r: void | Promise<void>): void | Promise<void> {
    if (!r) return;
    this.moving = what;
    return r.finally(() => {
      this.moving = undefined;
    });
  }

  /** Moves to the next event (the current one must be complete); false at the end of the slice. */
  advance(): boolean {
    this.checkLive('advance');
    return this.advanceNow();
  }

  private advanceNow(): boolean {
    const cur = this.current;
    if (cur && cur.stagesDone < STAGES.length) throw new Error('advance() before the current event completed');
    const n = (cur?.n ?? 0) + 1;
    if (n > this.eventCount) return false;
    this.load(n);
    return true;
  }

  /** Runs the next stage of the current event; returns a promise only when the ranker is asynchronous. */
  step(): void | Promise<void> {
    this.checkLive('step');
    return this.track('a step', this.stepNow());
  }

  private stepNow(): void | Promise<void> {
    const cur = this.current;
    if (!cur || cur.stagesDone >= STAGES.length) throw new Error('step() with no stage left: call advance()');
    const stage = STAGES[cur.stagesDone] as StageName;
    const r = runStage(this, cur, stage);
    // Disposed while an asynchronous ranker scored (a debug session ending): the stage is not
    // counted done, so the event goes no further — its outcome not run, nothing handed to
    // onEventComplete (a trace writer closed by then).
    if (r) return r.then(() => (this.checkNotDisposed('step'), this.stageDone(cur)));
    this.stageDone(cur);
  }

  private stageDone(cur: EventExec): void {
    cur.stagesDone++;
    if (cur.stagesDone === STAGES.length) {
      this.state.lastEventT = cur.tMs;
      this.state.eventsDone = cur.n;
      if (cur.n > this.highWater) {
        this.highWater = cur.n;
        this.options.onEventComplete?.(cur);
      }
    }
  }

  /** Runs the remaining stages of the current event. */
  finishEvent(): void | Promise<void> {
    this.checkLive('finish the event');
    return this.track('finishing an event', this.finishNow());
  }

  private finishNow(): void | Promise<void> {
    const cur = this.current;
    while (cur && cur.stagesDone < STAGES.length) {
      const r = this.stepNow();
      if (r) return r.then(() => this.finishNow());
    }
  }

  /** Random stream for a component of the current event; the only source of randomness. */
  random(component: string, eventId: string) {
    return streamFor(this.seed, component, eventId);
  }

  // Live views of the state's columns: the store writes them out at once (see CheckpointStore).
  private saveState(): unknown {
    return { state: this.state.save(true), metrics: this.metrics.save(true) };
  }

  /**
   * The state and metrics of the checkpoint before event n, both built before either is used: a
   * restore that failed halfway left the checkpoint's state under the old current event.
   */
  private async restored(n: number): Promise<{ state: ReplayState; metrics: MetricsAccumulator }> {
    // Over a large catalogue each piece (read, state, metrics) takes tens of milliseconds: a turn of
    // the event loop between them (a step back over a million items held the thread 0.4 s).
    const turn = this.itemBySlot.length >= LARGE_CATALOGUE ? nextTurn : async () => {};
    const saved = this.checkpoints.read(n) as { state: SavedState; metrics: unknown };
    try {
      await turn();
      this.checkNotDisposed('seek');
      const state = ReplayState.restore(this.slice.items, saved.state);
      await turn();
      this.checkNotDisposed('seek');
      return { state, metrics: MetricsAccumulator.restore(this.catalog, this.pipeline.k, saved.metrics) };
    } catch (e) {
      const where = this.checkpoints.file ?? 'memory';
      throw new Error(`the checkpoint before event ${n} (in ${where}) cannot be restored: ${(e as Error).message}`, { cause: e });
    }
  }

  /**
   * Goes to event n with `stage` stages done: restores the nearest checkpoint at or before n
   * (or continues from where it is, if that is closer) and re-executes up to it. The base of
   * step back, reverse continue, goto and restart frame. A seek that fails after taking a
   * checkpoint (a damaged spill file, an events file that cannot be read) leaves the replayer
   * where it was; one that continued from the current event stops at the event that failed.
   * `interrupted` is asked at every turn of the event loop the seek gives: when it says true, the
   * seek stops at the end of the event it last completed (before n) and resolves to false; a
   * debugger pauses a long step back this way. Resolves to true when it reached n.
   */
  async seek(n: number, stage = 0, interrupted?: () => boolean): Promise<boolean> {
    this.checkLive('seek');
    if (!Number.isInteger(n) || n < 1 || n > this.eventCount) throw new RangeError(`event ${n} is outside 1..${this.eventCount}`);
    // Checked before moving: a stage past the last failed only after the seek had moved, and 2.5, -1 or NaN went unnoticed.
    if (!Number.isInteger(stage) || stage < 0 || stage > STAGES.length) throw new RangeError(`stage ${stage} is outside 0..${STAGES.length}`);
    this.moving = 'a seek';
    const before = { state: this.state, metrics: this.metrics, current: this.current };
    let replaced = false;
    try {
      const cur = this.current;
      const resumeFrom = cur && (cur.n < n || (cur.n === n && cur.stagesDone <= stage)) ? cur.n : 0;
      // Only the event number first: a checkpoint is as large as the catalogue, and one the seek does not restore need not be read.
      const at = this.checkpoints.nearestAt(n);
      if (at !== undefined && at > resumeFrom) {
        const { state, metrics } = await this.restored(at);
        replaced = true;
        this.state = state;
        this.metrics = metrics;
        this.load(at);
      } else if (!cur || resumeFrom === 0) {
        // No checkpoint before n and nothing to resume: start over from the first event.
        replaced = true;
        this.state = new ReplayState(this.slice.items);
        this.metrics = new MetricsAccumulator(this.catalog, this.pipeline.k);
        this.load(1);
      }
      // A turn of the event loop every CANDIDATES_PER_TURN candidates re-executed: one checkpoint
      // interval of 1,000-candidate events took seconds in one piece.
      const pace = pacer(CANDIDATES_PER_TURN);
      for (;;) {
        const c = this.current as EventExec;
        if (c.n === n) break;
        const r = this.finishNow();
        if (r) await r;
        const turn = pace.add(c.event.candidates.length + 8);
        if (turn) await turn;
        // Disposed while it waited (a session ending): it goes no further, touching nothing released.
        this.checkNotDisposed('seek');
        if (turn && interrupted?.()) return false;
        this.advanceNow();
      }
      while ((this.current as EventExec).stagesDone < stage) {
        const r = this.stepNow();
        if (r) await r;
        this.checkNotDisposed('seek');
      }
      return true;
    } catch (e) {
      // The old objects were not touched once new ones replaced them: putting them back is the whole rollback.
      if (replaced) {
        this.state = before.state;
        this.metrics = before.metrics;
        this.current = before.current;
      }
      throw e;
    } finally {
      this.moving = undefined;
    }
  }

  /**
   * Replays every remaining event; `onProgress` is called every 1,000 events, after which the loop
   * yields to the event loop once, so a host stays responsive and its cancellation (a signal
   * handler, a cancellation token) is seen while a synchronous ranker replays.
   */
  async runToEnd(onProgress?: (n: number) => void, shouldStop?: (exec: EventExec) => boolean): Promise<void> {
    this.checkLive('run to the end');
    this.readAhead = 'eager';
    this.moving = 'a run to the end';
    try {
      await this.runLoop(onProgress, shouldStop);
    } finally {
      this.moving = undefined;
      this.readAhead = 'auto';
      // A run that stopped early (shouldStop, an error) keeps no reader thread reading ahead for a
      // replayer that may only be looked at now; a later step starts a sequential read again.
      if (this.current && this.current.n < this.eventCount) {
        this.seq?.return(undefined);
        this.seq = undefined;
      }
    }
  }

  private async runLoop(onProgress?: (n: number) => void, shouldStop?: (exec: EventExec) => boolean): Promise<void> {
    for (;;) {
      const cur = this.current;
      if (cur && cur.stagesDone < STAGES.length) {
        const r = this.finishNow();
        if (r) {
          await r;
          // Disposed while it waited (a session ending during a continue): the run went on to the
          // end of the slice, calling the ranker, reopening the events file and a spill folder.
          this.checkNotDisposed('run to the end');
        }
        if (shouldStop?.(cur)) return;
      }
      if (!this.advanceNow()) return;
      const n = (this.current as EventExec).n;
      if (n % 1000 === 0) {
        // Yield first: a signal that came during the last 1,000 events reaches its handler before
        // onProgress asks whether the run is cancelled (after, it waited another 1,000 events).
        await new Promise<void>((resolve) => setImmediate(resolve));
        this.checkNotDisposed('run to the end');
        onProgress?.(n);
      }
    }
  }

  /** Releases the spill file of the checkpoints and the slice's file handle; the replayer cannot move after it. Idempotent. */
  dispose(): void {
    this.disposed = true;
    this.seq?.return(undefined);
    this.seq = undefined;
    this.checkpoints.dispose();
    this.slice.close();
  }
}
