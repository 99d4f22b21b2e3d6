import { charge, chargeText, work } from './budget';
import { inexact } from './lexer';
import type { ExprCandidate, ExprScope } from './scope';
import { codePointLength, fail, formatCharged, formatValue, isMap, mapKeys, ownField, typeName } from './values';

type At = { start: number; end: number };

/** A global function callable from expressions. `pure` ones never read the scope, so calls on constants are folded. */
export interface RuntimeHelper {
  pure: boolean;
  minArgs: number;
  maxArgs: number;
  call(scope: ExprScope, args: readonly unknown[], at: At): unknown;
}

/** A method callable as `target.name(args)`. */
export interface RuntimeMethod {
  args: number;
  call(target: unknown, args: readonly unknown[], at: At): unknown;
}

// Built once per candidates array: a breakpoint condition runs at every stop, the set rarely changes.
const byItem = new WeakMap<readonly ExprCandidate[], Map<string, ExprCandidate>>();
const byRank = new WeakMap<readonly ExprCandidate[], { order: ExprCandidate[]; checkedIn: number }>();

/**
 * Candidates in replayed order; none before the rerank stage has run (their rank is null then).
 * Ranks may change in place between stages, so the cached order is re-checked (O(n)) before use.
 */
function ranked(list: readonly ExprCandidate[]): ExprCandidate[] {
  const hit = byRank.get(list);
  // Ranks do not change while one evaluation runs: checked once per evaluation, not per call (a
  // topk(1) in two macros over 1,000 candidates re-checked them a million times: 3 s per stop).
  if (hit !== undefined && hit.checkedIn === work.evaluation) return hit.order;
  const cached = hit?.order;
  if (cached !== undefined && cached.length === countRanked(list) && cached.every((c, i) => c.rank !== null && (i === 0 || ((cached[i - 1] as ExprCandidate).rank as number) <= c.rank))) {
    hit!.checkedIn = work.evaluation;
    return cached;
  }
  const order = list.filter((c) => c.rank !== null).sort((a, b) => (a.rank as number) - (b.rank as number));
  byRank.set(list, { order, checkedIn: work.evaluation });
  return order;
}

function countRanked(list: readonly ExprCandidate[]): number {
  let n = 0;
  for (const c of list) if (c.rank !== null) n++;
  return n;
}

function candidate(scope: ExprScope, id: unknown, fn: string, at: At): ExprCandidate | undefined {
  if (typeof id !== 'string') fail(at, `${fn}() expects an item id (a string), got ${typeName(id)}`);
  const list = scope.candidates;
  let index = byItem.get(list);
  if (index === undefined) {
    index = new Map();
    for (const c of list) if (!index.has(c.item)) index.set(c.item, c);
    byItem.set(list, index);
  }
  return index.get(id);
}

function featureName(name: unknown, fn: string, at: At): string {
  if (typeof name !== 'string') fail(at, `${fn}() expects a feature name (a string), got ${typeName(name)}`);
  return name;
}

function num(v: unknown, fn: string, at: At): number | null {
  if (v === null || typeof v === 'number') return v;
  return fail(at, `${fn}() expects a number, got ${typeName(v)}`);
}

function extreme(args: readonly unknown[], fn: 'min' | 'max', at: At): number | null {
  const only = args[0];
  const values = args.length === 1 && Array.isArray(only) ? (only as unknown[]) : args;
  if (values.length === 0) fail(at, `${fn}() of an empty list`);
  // Each element is visited: a list's extreme in a macro over that list is quadratic.
  charge(values.length, at, `${fn}()`);
  let best: number | null = fn === 'min' ? Infinity : -Infinity;
  for (const v of values) {
    const n = num(v, fn, at);
    if (n === null) best = null;
    else if (best !== null) best = fn === 'min' ? Math.min(best, n) : Math.max(best, n);
  }
  return best;
}

const INT = /^[+-]?\d+$/;
const DOUBLE = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$|^[+-]?Infinity$|^NaN$/;

/** Digits as a number, refused as a literal is when a double cannot hold it exactly (lexer.ts). */
function wholeNumber(text: string, at: At): number {
  const n = Number(text);
  if (Number.isSafeInteger(n)) return n;
  const quoted = formatValue(text, 60);
  if (!Number.isFinite(n)) return fail(at, `int() cannot convert ${quoted}: it is out of range (numbers are doubles, up to about 1.8e308)`);
  if (inexact(text.replace(/^[+-]/, ''), Math.abs(n), false)) {
    return fail(at, `int() cannot convert ${quoted} exactly: numbers are doubles, exact up to 2^53 (9007199254740992); it would read as ${String(n)}`);
  }
  return n;
}

/**
 * Text as a double, refused as a literal is (lexer.ts) when the double would be another number:
 * "1e400" would read as Infinity and "1e-400" as 0. "Infinity" and "NaN" are asked for by name.
 */
function decimal(text: string, at: At): number {
  const n = Number(text);
  if (/[IN]/.test(text)) return n;
  const quoted = formatValue(text, 60);
  if (!Number.isFinite(n)) return fail(at, `double() cannot convert ${quoted}: it is out of range (numbers are doubles, up to about 1.8e308)`);
  if (n === 0 && /[1-9]/.test(text.split(/[eE]/)[0] ?? '')) return fail(at, `double() cannot convert ${quoted}: it is too small for a double (the smallest is about 4.9e-324) and would read as 0`);
  return n;
}

/** Every global function. Unknown items give null rather than an error: see docs/expressions.md. */
export const RUNTIME_HELPERS: Record<string, RuntimeHelper> = {
  score: { pure: false, minArgs: 1, maxArgs: 1, call: (s, [id], at) => candidate(s, id, 'score', at)?.score ?? null },
  rank: { pure: false, minArgs: 1, maxArgs: 1, call: (s, [id], at) => candidate(s, id, 'rank', at)?.rank ?? null },
  recordedRank: {
    pure: false, minArgs: 1, maxArgs: 1,
    call: (s, [id], at) => candidate(s, id, 'recordedRank', at)?.recordedRank ?? null,
  },
  rankDelta: {
    pure: false, minArgs: 1, maxArgs: 1,
    call: (s, [id], at) => {
      const c = candidate(s, id, 'rankDelta', at);
      return c === undefined || c.rank === null ? null : c.recordedRank - c.rank;
    },
  },
  topk: {
    pure: false, minArgs: 1, maxArgs: 1,
    call: (s, [k], at) => {
      if (typeof k !== 'number' || !Number.isInteger(k) || k < 0) fail(at, `topk() expects a whole number k >= 0, got ${formatValue(k)}`);
      const top = ranked(s.candidates).slice(0, k);
      // The ids it copies, as '+' on lists is charged for what it copies.
      charge(top.length, at, 'topk()');
      return top.map((c) => c.item);
    },
  },
  feature: {
    pure: false, minArgs: 2, maxArgs: 2,
    call: (s, [id, name], at) => {
      const c = candidate(s, id, 'feature', at);
      const f = featureName(name, 'feature', at);
      if (c === undefined) return null;
      // online.NAME comes from the replay's online store, as rankers read it (featureReader).
      if (s.onlineFeature !== undefined && f.startsWith('online.')) return s.onlineFeature(f, c.item) ?? null;
      return ownField(c.features, f) ?? null;
    },
  },
  age: {
    pure: false, minArgs: 1, maxArgs: 2,
    call: (s, args, at) => {
      // `?? null`: an engine that answers undefined must not leak a non-value into the expression.
      if (args.length === 1) {
        const name = featureName(args[0], 'age', at);
        // As the checker says of a literal name: age(name) reads the event's featureTimes, which
        // never hold an online feature (a computed "online." + "ctr" read null, silently).
        if (name.startsWith('online.')) fail(at, `an online feature's age is per item: write age(id, ${JSON.stringify(name)}) with an item id (age(${JSON.stringify(name)}) is always null)`);
        return s.featureAge(name) ?? null;
      }
      const [id, name] = args;
      if (typeof id !== 'string') fail(at, `age() expects an item id (a string) first, got ${typeName(id)}`);
      const feature = featureName(name, 'age', at);
      // Null for an item that is not a candidate, as feature(): a logged feature's time is the
      // event's (featureTimes), the same for every candidate, and the online store keeps ages of
      // items that are not candidates at this event.
      if (candidate(s, id, 'age', at) === undefined) return null;
      return s.featureAge(feature, id) ?? null;
    },
  },
  size: { pure: true, minArgs: 1, maxArgs: 1, call: (_s, [v], at) => size(v, at) },
  int: {
    pure: true, minArgs: 1, maxArgs: 1,
    call: (_s, [v], at) => {
      if (typeof v === 'number' && Number.isFinite(v)) return Math.trunc(v);
      if (typeof v === 'string') chargeText(v.length, at, 'int()');
      if (typeof v === 'string' && INT.test(v.trim())) return wholeNumber(v.trim(), at);
      return fail(at, `int() cannot convert ${formatValue(v)} to a whole number`);
    },
  },
  double: {
    pure: true, minArgs: 1, maxArgs: 1,
    call: (_s, [v], at) => {
      if (typeof v === 'number') return v;
      if (typeof v === 'string') chargeText(v.length, at, 'double()');
      if (typeof v === 'string' && DOUBLE.test(v.trim())) return decimal(v.trim(), at);
      return fail(at, `double() cannot convert ${formatValue(v)} to a number`);
    },
  },
  string: {
    pure: true, minArgs: 1, maxArgs: 1,
    // Charged by the characters written (string(L + [a]) in a nested macro adds up).
    call: (_s, [v], at) => (typeof v === 'string' ? v : formatCharged(v, at)),
  },
  abs: { pure: true, minArgs: 1, maxArgs: 1, call: (_s, [v], at) => { const n = num(v, 'abs', at); return n === null ? null : Math.abs(n); } },
  min: { pure: true, minArgs: 1, maxArgs: Infinity, call: (_s, args, at) => extreme(args, 'min', at) },
  max: { pure: true, minArgs: 1, maxArgs: Infinity, call: (_s, args, at) => extreme(args, 'max', at) },
};

/** size() of a string (code points), list or map. */
export function size(v: unknown, at: At): number {
  // Counting a string's code points and a map's keys visits each of them.
  if (typeof v === 'string') {
    chargeText(v.length, at, 'size()');
    return codePointLength(v);
  }
  if (Array.isArray(v)) return v.length;
  if (isMap(v)) {
    const keys = mapKeys(v);
    charge(keys.length, at, 'size()');
    return keys.length;
  }
  return fail(at, `size() needs a string, list or map, got ${typeName(v)}`);
}

function strings(name: string, test: (s: string, arg: string) => boolean): RuntimeMethod {
  return {
    args: 1,
    call: (target, [arg], at) => {
      if (typeof target !== 'string') fail(at, `${name}() is a string method, but it was called on a ${typeName(target)}`);
      if (typeof arg !== 'string') fail(at, `${name}() expects a string argument, got ${typeName(arg)}`);
      // A search reads the text (and the argument): in a macro, each call scans it again.
      chargeText(target.length + arg.length, at, `${name}()`);
      return test(target, arg);
    },
  };
}

/** Every method; macros (`exists`, `map`, …) are not methods, the compiler expands them. */
export const RUNTIME_METHODS: Record<string, RuntimeMethod> = {
  size: { args: 0, call: (target, _args, at) => size(target, at) },
  startsWith: strings('startsWith', (s, p) => s.startsWith(p)),
  endsWith: strings('endsWith', (s, p) => s.endsWith(p)),
  contains: strings('contains', (s, p) => s.includes(p)),
};
