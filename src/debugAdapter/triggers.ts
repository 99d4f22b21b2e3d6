import { exprScope, exprTerms } from '../core/engine/exprScope';
import { compileExpr, ExprError, formatValue, type ExprScope } from '../core/expr';
import { STAGES } from '../core/slice/types';
import type { HitKind } from '../shared/dap';
import { BreakpointStore, evaluateGuard, momentOf, type Guard } from './breakpoints';
import { describeTarget, sampleData, type DataBreakpoint } from './dataBreakpoints';
import type { ActiveFilter, FaultHit } from './exceptionFilters';
import type { Lane } from './lanes';

/** Why and where the replay stopped, as the stopped event and exceptionInfo report it. */
export interface Stop {
  reason: HitKind;
  lane: Lane;
  description?: string;
  text?: string;
  hitBreakpointIds?: number[];
  /** The fault the stop reports (on its lane). */
  fault?: FaultHit;
  /** Every lane's fault at this stop, in compare mode both when both lanes faulted (exceptionInfo answers for each). */
  faults?: FaultHit[];
  /** In a reverse-continue scan: the breakpoints whose condition held at the stop (a forward run counted a hit of each there). */
  held?: Guard[];
}

/** `rank("i_42") = 2, user.segment = "new"`: the values a condition read, for the stop message. */
export function explain(condition: string, scope: ExprScope): string {
  let terms: string[];
  try {
    terms = exprTerms(condition);
  } catch {
    return '';
  }
  return terms
    .map((t) => {
      try {
        return `${t} = ${formatValue(compileExpr(t).evaluate(scope), 80)}`;
      } catch (e) {
        return `${t} = <error: ${e instanceof ExprError ? e.reason : String(e)}>`;
      }
    })
    .join(', ');
}

/**
 * Every stop condition of a session — line, function and data breakpoints and exception filters —
 * checked after each stage. `active` is a per-stage table so the continue loop pays one array
 * read per stage when nothing can fire there.
 */
export class Triggers {
  readonly bps = new BreakpointStore();
  data: DataBreakpoint[] = [];
  filters: ActiveFilter[] = [];
  /** Per lane: faults of its current event already looked at. */
  private readonly faultsSeen = new Map<Lane, { n: number; count: number }>();
  private readonly active = new Array<boolean>(7).fill(false);

  constructor(
    private readonly lanes: readonly Lane[],
    private readonly primary: Lane,
    private readonly output: (text: string) => void,
  ) {}

  /** Rebuilds the per-stage table; call after any breakpoint or filter change. */
  refresh(): void {
    for (let s = 1; s <= 6; s++) {
      this.active[s] = this.bps.hasFunctionsAt(s) || this.filters.some((f) => f.stages.includes(s)) || (s === 6 && this.data.length > 0);
    }
  }

  /** Run Without Debugging (launch `noDebug`): nothing fires, breakpoints and filters alike. */
  off = false;

  /** Whether anything can fire after s stages of event n. */
  isActive(s: number, n: number): boolean {
    if (this.off) return false;
    return this.active[s] === true || (s === 6 && this.bps.lines.has(n));
  }

  /** After a jump: faults already in the lanes' current events are not new. */
  syncFaults(): void {
    for (const lane of this.lanes) {
      const ex = lane.replayer.current;
      if (ex) this.faultsSeen.set(lane, { n: ex.n, count: ex.faults.length });
    }
  }

  /** After a jump: data breakpoints forget their last value and take the current one if the event is complete. */
  resampleData(): void {
    for (const d of this.data) {
      d.lastEvent = -1;
      d.lastValue = undefined;
      const ex = d.lane.replayer.current;
      if (ex && ex.stagesDone === 6) sampleData(d, ex);
    }
  }

  /** Data breakpoints take the value of the event that just completed, without firing. */
  advanceData(): void {
    for (const d of this.data) {
      const ex = d.lane.replayer.current;
      if (ex && ex.stagesDone === 6) sampleData(d, ex);
    }
  }

  /** Both of the above, for a fresh position. */
  sync(): void {
    this.syncFaults();
    this.resampleData();
  }

  /** Every breakpoint that counts hits: line (log points too), function and data breakpoints. */
  private guards(): Guard[] {
    return [...[...this.bps.lines.values()].flat(), ...this.bps.functions.flat(), ...this.data];
  }

  /**
   * Step back or reverse continue landed at event n after s stages: hit counts go back to what
   * they were when the session was last there, and the breakpoints whose condition held there
   * (`held`, at a reverse continue's stop) count that hit, as the forward run that stopped there
   * did. So going forward again stops where the forward run stopped.
   */
  rewindHits(n: number, s: number, held: readonly Guard[] = []): void {
    const moment = momentOf(n, s);
    for (const g of this.guards()) {
      if (!g.hit) continue;
      g.hits = g.counted.rewind(moment);
      if (held.includes(g) && !g.counted.hasHitAt(moment)) {
        g.hits++;
        g.counted.record(moment, g.hits);
      }
    }
  }

  /** After any movement, at event n after s stages: counts stay; a jump back drops from the logs what lies after it (HitLog.keep). */
  keepHits(n: number, s: number): void {
    const moment = momentOf(n, s);
    for (const g of this.guards()) if (g.hit) g.counted.keep(moment, g.hits);
  }

  /**
   * Checks what fires after `s` stages of the lanes' current event. `count` is false in a
   * reverse-continue scan: hits are not counted, hit conditions are tested on the number each hit
   * had going forward (HitLog) and log points stay silent. The stop is on
   * `lane` (the thread the movement was asked for) unless it belongs to one lane: a fault is on
   * the lane that faulted, a data breakpoint on the lane whose value changed.
   */
  check(s: number, count: boolean, lane: Lane = this.primary): Stop | undefined {
    if (this.off) return undefined;
    const primary = this.primary;
    const ex = primary.exec;
    let scope: ExprScope | undefined;
    let withMaps = false;
    // Built once per stop; without candidate maps until an expression that reads them asks.
    const getScope = (maps = true): ExprScope => {
      if (scope === undefined || (maps && !withMaps)) {
        scope = exprScope(ex, primary.replayer, { candidateMaps: maps });
        withMaps = maps;
      }
      return scope;
    };
    const moment = momentOf(ex.n, s);
    const held: Guard[] | undefined = count ? undefined : [];
    const onHeld = held ? (g: Guard) => held.push(g) : undefined;
    const ids: number[] = [];
    // Each note with the kind of trigger it tells of and, for a fault or a data breakpoint, its lane.
    const notes: { r: HitKind; note: string; lane?: Lane }[] = [];
    let fault: FaultHit | undefined;
    const faults: FaultHit[] = [];
    let changedLane: Lane | undefined;
    let reason: HitKind | undefined;
    const fire = (r: HitKind, id: number | undefined, note: string, of?: Lane) => {
      if (reason === undefined || rank(r) < rank(reason)) reason = r;
      if (id !== undefined) ids.push(id);
      if (note) notes.push({ r, note, ...(of ? { lane: of } : {}) });
    };
    const guard = (g: Guard, what: string, r: HitKind): void => {
      const res = evaluateGuard(g, getScope, moment, count, undefined, onHeld);
      if (res.kind === 'stop') fire(r, g.id, g.condition ? `${what}: ${explain(g.condition.source, getScope())}` : what);
      else if (res.kind === 'error') fire(r, g.id, res.message);
    };

    for (const f of this.filters) {
      if (!f.stages.includes(s)) continue;
      for (const fl of this.lanes) {
        const lx = fl.exec;
        const seen = this.faultsSeen.get(fl);
        const first = seen && seen.n === lx.n ? seen.count : 0;
        const hit = f.check(fl, lx, s, first);
        if (hit === undefined) continue;
        // Both lanes may fault at once: the stop is on the asked-for lane if it is one of them (else
        // the first), the text names every one, and exceptionInfo answers for each.
        const h: FaultHit = { ...hit, kind: f.kind, lane: fl, event: lx.n, stagesDone: s };
        if (!faults.some((x) => x.lane === fl)) faults.push(h);
        if (fault === undefined || (fl === lane && fault.lane !== lane)) fault = h;
        fire('exception', undefined, this.lanes.length > 1 ? `${fl.name}: ${hit.message}` : hit.message, fl);
      }
    }
    for (const l of this.lanes) this.faultsSeen.set(l, { n: l.exec.n, count: l.exec.faults.length });

    for (const fb of this.bps.functions[s] ?? []) guard(fb, `after stage ${STAGES[s - 1]}`, 'function breakpoint');

    if (s === 6) {
      for (const lb of this.bps.lines.get(ex.n) ?? []) {
        if (lb.log) {
          const res = evaluateGuard(lb, getScope, moment, count, lb.log, onHeld);
          if (res.kind === 'log') this.output(`${res.text}\n`);
          else if (res.kind === 'error') fire('breakpoint', lb.id, res.message);
        } else guard(lb, `event ${ex.n}`, 'breakpoint');
      }
      for (const d of this.data) {
        const change = sampleData(d, d.lane.exec);
        if (change === undefined) continue;
        // In compare mode the note names the lane, as a fault's does: both lanes may watch the same value.
        const what = `${this.lanes.length > 1 ? `${d.lane.name}: ` : ''}${describeTarget(d.target)} changed from ${formatValue(change.from)} to ${formatValue(change.to)}`;
        // The condition reads the lane whose value it watches (`…@baseline`: the baseline's scope).
        const res = evaluateGuard(d, d.lane === primary ? getScope : (maps) => exprScope(d.lane.exec, d.lane.replayer, { candidateMaps: maps }), moment, count, undefined, onHeld);
        if (res.kind === 'stop' || res.kind === 'error') {
          fire('data breakpoint', d.id, res.kind === 'stop' ? what : `${what}; ${res.message}`, d.lane);
          // Breakpoints on both lanes may fire at once: the asked-for lane if it is one of them.
          if (changedLane === undefined || d.lane === lane) changedLane = d.lane;
        }
      }
    }
    if (reason === undefined) return undefined;
    const on = reason === 'exception' && fault ? fault.lane : reason === 'data breakpoint' && changedLane ? changedLane : lane;
    // The description tells of the trigger the stop reports, on the thread it is reported on (the
    // text lists every one): not another lane's fault, nor a function breakpoint's note under reason `breakpoint`.
    const told = notes.find((x) => x.r === reason && (x.lane === undefined || x.lane === on)) ?? notes.find((x) => x.r === reason);
    const stop: Stop = { reason, lane: on, description: told?.note ?? reason, text: notes.map((x) => x.note).join('\n') };
    if (ids.length) stop.hitBreakpointIds = ids;
    if (held?.length) stop.held = held;
    if (fault && reason === 'exception') {
      stop.fault = fault;
      stop.faults = faults;
    }
    return stop;
  }
}

const ORDER: HitKind[] = ['exception', 'breakpoint', 'function breakpoint', 'data breakpoint'];

/** Several triggers at one moment: the stop reports the most specific first. */
function rank(r: HitKind): number {
  const i = ORDER.indexOf(r);
  return i < 0 ? ORDER.length : i;
}
