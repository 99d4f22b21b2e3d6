import type { DebugProtocol } from '@vscode/debugprotocol';
import { checkExpr, compileExpr, ExprError, interpolate, type CheckEnv, type CompiledExpr, type CompiledTemplate, type ExprScope } from '../core/expr';
import { STAGES } from '../core/slice/types';

/** A parsed hit condition: `5` or `==5` (the 5th hit), `>=5`, `>5`, `<5`, `<=5`, `%5` (every 5th). */
export interface HitCondition {
  source: string;
  test(hits: number): boolean;
}

// Matched on the trimmed text: a leading \s* before another one took quadratic time on a long run
// of spaces (200,000 held the editor's thread 30 s).
const HIT = /^(==|>=|<=|>|<|%)?\s*(\d+)$/;

/** Parses a hit condition; a string is the reason it is not one of the forms above. */
export function parseHitCondition(text: string): HitCondition | string {
  const m = HIT.exec(text.trim());
  if (!m) {
    const quoted = text.length > 60 ? `${text.slice(0, 59)}…` : text;
    return `hit condition "${quoted}" is not understood: write a number (break on that hit) or one of ==N, >=N, >N, <N, <=N, %N`;
  }
  const n = Number(m[2]);
  const op = m[1] ?? '==';
  const quoted = text.trim().length > 60 ? `${text.trim().slice(0, 59)}…` : text.trim();
  // (Past 2^53 a count is not exact, and no replay hits a breakpoint that often.)
  if (!Number.isSafeInteger(n)) return `hit condition "${quoted}": ${m[2]?.length ?? 0} digits is more than a hit count can be: use a number up to ${Number.MAX_SAFE_INTEGER}`;
  if (op === '%' && n === 0) return 'hit condition "%0" never holds: use %1 or more';
  // Hits are counted from 1: these could never fire, and came back verified.
  if (((op === '==' || op === '<=') && n === 0) || (op === '<' && n <= 1)) return `hit condition "${quoted}" never holds: hits are counted from 1 (the first hit is 1)`;
  const test: Record<string, (h: number) => boolean> = {
    '==': (h) => h === n,
    '>=': (h) => h >= n,
    '>': (h) => h > n,
    '<': (h) => h < n,
    '<=': (h) => h <= n,
    '%': (h) => h % n === 0,
  };
  return { source: text, test: test[op] as (h: number) => boolean };
}

/** A moment of the replay as one number, in replay order: event n after s of its stages (0..6). */
export function momentOf(n: number, s: number): number {
  return n * 8 + s;
}

/**
 * Where the session counted a breakpoint's hits (moments ascending) and the number each hit got,
 * as the latest pass over them gave it, so going back can find the counts a moment had. A jump
 * back (goto, restart frame) keeps the count and drops what lies after where it lands (a forward
 * run from there numbers those hits anew): a mark notes the count kept there. Kept only for
 * breakpoints with a hit condition, the ones whose count anything reads.
 */
export class HitLog {
  // Three columns in typed arrays grown by doubling: 13 bytes an entry, where arrays of numbers and
  // booleans took ~24 (a breakpoint with a hit condition on a stage of a million-event slice logs a
  // million hits, in the extension host the inline adapter runs in).
  private at = new Float64Array(16);
  private num = new Uint32Array(16);
  /** 0 for a mark: the count at that moment, not a hit. */
  private hit = new Uint8Array(16);
  private length = 0;

  /** A hit counted at `moment` with number `n`: what the log held from there on was an earlier pass. */
  record(moment: number, n: number): void {
    this.dropFrom(moment, true);
    this.push(moment, n, true);
  }

  /** A jump landed at `moment` keeping the count `count`: what lies after it is dropped and the count noted. */
  keep(moment: number, count: number): void {
    this.dropFrom(moment, false);
    if (this.last() !== count) this.push(moment, count, false);
  }

  /** Goes back to `moment`: what lies after it is dropped; the count as it stood there. */
  rewind(moment: number): number {
    this.dropFrom(moment, false);
    return this.last();
  }

  /** The number of a hit at `moment`: the one the session gave it, else one after the count just before it. */
  numberAt(moment: number): number {
    let i = this.before(moment);
    for (; i >= 0 && this.at[i] === moment; i--) if (this.hit[i]) return this.num[i] as number;
    return (i >= 0 ? (this.num[i] as number) : 0) + 1;
  }

  /** Whether the session counted a hit at `moment` (in the pass the log holds). */
  hasHitAt(moment: number): boolean {
    for (let i = this.before(moment); i >= 0 && this.at[i] === moment; i--) if (this.hit[i]) return true;
    return false;
  }

  /** Entries held (hits and marks). */
  get size(): number {
    return this.length;
  }

  private last(): number {
    return this.length > 0 ? (this.num[this.length - 1] as number) : 0;
  }

  private push(moment: number, n: number, hit: boolean): void {
    if (this.length === this.at.length) {
      const grow = <T extends Float64Array | Uint32Array | Uint8Array>(a: T, make: (n: number) => T): T => {
        const b = make(a.length * 2);
        b.set(a);
        return b;
      };
      this.at = grow(this.at, (n) => new Float64Array(n));
      this.num = grow(this.num, (n) => new Uint32Array(n));
      this.hit = grow(this.hit, (n) => new Uint8Array(n));
    }
    this.at[this.length] = moment;
    this.num[this.length] = n;
    this.hit[this.length] = hit ? 1 : 0;
    this.length++;
  }

  /** Drops the entries after `moment`, and those at it too when `inclusive` (from the end: a binary search finds where). */
  private dropFrom(moment: number, inclusive: boolean): void {
    let keep = this.before(moment) + 1;
    if (inclusive) while (keep > 0 && this.at[keep - 1] === moment) keep--;
    this.length = Math.min(this.length, keep);
  }

  /** The index of the last entry at or before `moment`, -1 when none (binary search). */
  private before(moment: number): number {
    let lo = 0;
    let hi = this.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if ((this.at[mid] as number) <= moment) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }
}

/** A breakpoint's hit count and the log of where it was counted. */
export interface HitState {
  hits: number;
  counted: HitLog;
}

/** What every kind of breakpoint shares: an id, an optional condition and hit condition, a hit count. */
export interface Guard extends HitState {
  id: number;
  condition: CompiledExpr | undefined;
  hit: HitCondition | undefined;
}

export interface LineBreakpoint extends Guard {
  line: number;
  log: CompiledTemplate | undefined;
}

export interface FunctionBreakpoint extends Guard {
  /** Stages done when it fires (1..6): after the named stage ran. */
  stage: number;
}

/** The outcome of a guard at one moment: a stop, a log line, nothing, or a condition that failed. */
export type GuardResult = { kind: 'none' } | { kind: 'stop' } | { kind: 'log'; text: string } | { kind: 'error'; message: string };

const NONE: GuardResult = { kind: 'none' };
const STOP: GuardResult = { kind: 'stop' };

/**
 * Evaluates a guard at `moment` (momentOf). Going forward (`count`) a true condition counts a hit
 * and the hit condition decides. A reverse-continue scan counts nothing: the hit condition is
 * tested on the number the hit had going forward (HitLog.numberAt), so the scan stops where a
 * forward run stopped, and log points stay silent. `held`, when given, hears each guard whose
 * condition held. `scope(maps)`: the stop's scope; `maps` false when the expression reads no
 * candidate feature or meta map.
 */
export function evaluateGuard(g: Guard, scope: (maps: boolean) => ExprScope, moment: number, count: boolean, log?: CompiledTemplate, held?: (g: Guard) => void): GuardResult {
  if (g.condition) {
    let v: unknown;
    try {
      v = g.condition.evaluate(scope(g.condition.readsCandidateMaps));
    } catch (e) {
      if (!(e instanceof ExprError)) throw e;
      return { kind: 'error', message: `condition "${g.condition.source}" failed: ${e.message}` };
    }
    if (v !== true && v !== false) return { kind: 'error', message: `condition "${g.condition.source}" gave ${JSON.stringify(v)}, not true or false` };
    if (!v) return NONE;
  }
  held?.(g);
  if (count) {
    g.hits++;
    if (g.hit) {
      g.counted.record(moment, g.hits);
      if (!g.hit.test(g.hits)) return NONE;
    }
  } else if (g.hit && !g.hit.test(g.counted.numberAt(moment))) return NONE;
  if (log) return count ? { kind: 'log', text: log.evaluate(scope(log.readsCandidateMaps)) } : NONE;
  return STOP;
}

/** Compiles a condition for a breakpoint; a problem comes back as the breakpoint's message. */
export function compileGuard(
  id: number,
  condition: string | undefined,
  hitCondition: string | undefined,
  env: CheckEnv,
): { guard: Guard; warning?: string } | { error: string } {
  let compiled: CompiledExpr | undefined;
  let warning: string | undefined;
  if (condition !== undefined && condition.trim() !== '') {
    try {
      compiled = compileExpr(condition, env, { expect: 'bool' });
    } catch (e) {
      if (e instanceof ExprError) return { error: `condition: ${e.message}` };
      throw e;
    }
    const warn = checkExpr(condition, env, { expect: 'bool' }).find((d) => d.severity === 'warning');
    if (warn) warning = `condition, column ${warn.column}: ${warn.message}`;
  }
  let hit: HitCondition | undefined;
  if (hitCondition !== undefined && hitCondition.trim() !== '') {
    const h = parseHitCondition(hitCondition);
    if (typeof h === 'string') return { error: h };
    hit = h;
  }
  return { guard: { id, condition: compiled, hit, hits: 0, counted: new HitLog() }, ...(warning ? { warning } : {}) };
}

/** What makes a breakpoint the same one when the client sends it again: its place, condition and hit condition (blank = none). */
function guardKey(place: string, condition: string | undefined, hitCondition: string | undefined): string {
  return JSON.stringify([place, condition?.trim() ?? '', hitCondition?.trim() ?? '']);
}

/**
 * Hit counts of the breakpoints a client replaces. Clients resend every breakpoint of a kind (VS
 * Code: all of a file, all function or data breakpoints) when one changes; as in a code debugger,
 * a breakpoint sent again with the same place, condition and hit condition keeps its count, and a
 * changed one starts from 0. Each old breakpoint passes its count on once.
 */
export class HitCarry {
  private readonly counts = new Map<string, HitState[]>();

  /** `place`: what the breakpoint is on (an event line, a stage, a data breakpoint id). */
  constructor(old: Iterable<{ place: string; guard: Guard }>) {
    for (const { place, guard } of old) {
      const key = guardKey(place, guard.condition?.source, guard.hit?.source);
      const list = this.counts.get(key) ?? [];
      list.push({ hits: guard.hits, counted: guard.counted });
      this.counts.set(key, list);
    }
  }

  /** The count (and its log) a breakpoint sent now starts from: an unchanged old one's, else 0. */
  take(place: string, condition: string | undefined, hitCondition: string | undefined): HitState {
    return this.counts.get(guardKey(place, condition, hitCondition))?.shift() ?? { hits: 0, counted: new HitLog() };
  }
}

/** Line (event) and function (stage) breakpoints of a session, as set by the client. */
export class BreakpointStore {
  private nextId = 1;
  /** Line breakpoints by event line. */
  readonly lines = new Map<number, LineBreakpoint[]>();
  /** Function breakpoints by stages done when they fire (index 1..6). */
  readonly functions: FunctionBreakpoint[][] = STAGES.map(() => []).concat([[]]);

  /** A fresh id for breakpoints of other kinds (data, exception). */
  newId(): number {
    return this.nextId++;
  }

  /**
   * Replaces the line breakpoints of events.jsonl (lines 1-based); lines outside the slice are
   * reported unverified, quoted as the client counts them (`lineOut`).
   */
  setLines(bps: readonly DebugProtocol.SourceBreakpoint[], eventCount: number, env: CheckEnv, source: DebugProtocol.Source, lineOut: (n: number) => number = (n) => n): DebugProtocol.Breakpoint[] {
    const carry = new HitCarry([...this.lines.values()].flat().map((b) => ({ place: String(b.line), guard: b })));
    this.lines.clear();
    return bps.map((bp) => {
      const id = this.newId();
      const out: DebugProtocol.Breakpoint = { id, verified: false, line: bp.line, source };
      if (!Number.isInteger(bp.line) || bp.line < 1 || bp.line > eventCount) {
        out.message = `line ${lineOut(bp.line)} is not an event: events.jsonl has events on lines ${lineOut(1)} to ${lineOut(eventCount)}`;
        return out;
      }
      const g = compileGuard(id, bp.condition, bp.hitCondition, env);
      if ('error' in g) return { ...out, message: g.error };
      let log: CompiledTemplate | undefined;
      if (bp.logMessage !== undefined) {
        try {
          log = interpolate(bp.logMessage, env);
        } catch (e) {
          if (e instanceof ExprError) return { ...out, message: `log message: ${e.message}` };
          throw e;
        }
      }
      const list = this.lines.get(bp.line) ?? [];
      list.push({ ...g.guard, ...carry.take(String(bp.line), bp.condition, bp.hitCondition), line: bp.line, log });
      this.lines.set(bp.line, list);
      return { ...out, verified: true, ...(g.warning ? { message: g.warning } : {}) };
    });
  }

  /** Replaces the function breakpoints; a name must be a stage (`score`), optionally `stage:score`. */
  setFunctions(bps: readonly DebugProtocol.FunctionBreakpoint[], env: CheckEnv): DebugProtocol.Breakpoint[] {
    const carry = new HitCarry(this.functions.flat().map((b) => ({ place: String(b.stage), guard: b })));
    for (const list of this.functions) list.length = 0;
    return bps.map((bp) => {
      const id = this.newId();
      const name = bp.name.trim().replace(/^stage:/, '');
      const stage = (STAGES as readonly string[]).indexOf(name) + 1;
      if (stage === 0) return { id, verified: false, message: `"${bp.name}" is not a stage: function breakpoints take a stage name, one of ${STAGES.join(', ')}` };
      const g = compileGuard(id, bp.condition, bp.hitCondition, env);
      if ('error' in g) return { id, verified: false, message: g.error };
      (this.functions[stage] as FunctionBreakpoint[]).push({ ...g.guard, ...carry.take(String(stage), bp.condition, bp.hitCondition), stage });
      return { id, verified: true, ...(g.warning ? { message: g.warning } : {}) };
    });
  }

  /** Whether any function breakpoint fires after `stagesDone` stages. */
  hasFunctionsAt(stagesDone: number): boolean {
    return (this.functions[stagesDone]?.length ?? 0) > 0;
  }
}
