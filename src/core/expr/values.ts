import { chargeError, chargeText, overBudget, work } from './budget';
import { ExprError } from './errors';

type At = { start: number; end: number };

/** Runtime type names as they appear in error messages. */
export type TypeName = 'null' | 'bool' | 'number' | 'string' | 'list' | 'map' | 'unsupported';

/** The runtime type of a value; anything that is not JSON-like data is `unsupported`. */
export function typeName(v: unknown): TypeName {
  switch (typeof v) {
    case 'number':
      return 'number';
    case 'string':
      return 'string';
    case 'boolean':
      return 'bool';
    case 'object':
      return v === null ? 'null' : Array.isArray(v) ? 'list' : 'map';
    default:
      return 'unsupported';
  }
}

/** True for a map value (a non-array object). */
export function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Own field of a map, or undefined. Never reaches the prototype: `x.constructor` or
 * `x.__proto__` in an expression must not expose JavaScript internals.
 */
export function ownField(o: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(o, key) ? o[key] : undefined;
}

/**
 * CEL equality: deep on lists and maps, false across types, NaN unequal to itself. Iterative (an
 * explicit stack), so data nested thousands deep in a slice compares instead of overflowing the
 * call stack. Each pair compared beyond the first is charged to the evaluation's budget as it is
 * compared (`what` at `at` crossed it): lists that share their sub-lists can hold far more pairs
 * than memory does.
 */
export function deepEqual(a: unknown, b: unknown, at: At, what: string): boolean {
  // Two scalars, or a scalar and anything (most comparisons: a field against a constant), need no
  // stack: allocating one made `user.id != "x"` three times slower (bench/condition.ts).
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) {
    if (typeof a === 'string' && typeof b === 'string' && a.length === b.length && (work.left -= a.length) < 0) throw overBudget(at, what);
    return a === b && !(typeof a === 'number' && Number.isNaN(a));
  }
  const stack: unknown[] = [a, b];
  let first = true;
  while (stack.length) {
    if (first) first = false;
    else if (--work.left < 0) throw overBudget(at, what);
    const y = stack.pop();
    const x = stack.pop();
    // Two strings of one length are compared character by character (in lists, in maps).
    if (typeof x === 'string' && typeof y === 'string' && x.length === y.length && (work.left -= x.length) < 0) throw overBudget(at, what);
    if (x === y) {
      if (typeof x === 'number' && Number.isNaN(x)) return false;
      // The same list or map holds the same NaN, if any: compared element by element, not settled here.
      if (typeof x !== 'object' || x === null) continue;
    }
    if (typeof x !== 'object' || typeof y !== 'object' || x === null || y === null) return false;
    if (Array.isArray(x)) {
      if (!Array.isArray(y) || x.length !== y.length) return false;
      for (let i = x.length - 1; i >= 0; i--) stack.push(x[i], y[i]);
      continue;
    }
    if (Array.isArray(y)) return false;
    const rx = x as Record<string, unknown>;
    const ry = y as Record<string, unknown>;
    const kx = mapKeys(rx);
    if (kx.length !== mapKeys(ry).length) return false;
    for (let i = kx.length - 1; i >= 0; i--) {
      const k = kx[i] as string;
      if (!Object.hasOwn(ry, k) || ry[k] === undefined) return false;
      stack.push(rx[k], ry[k]);
    }
  }
  return true;
}

/** Keys of a map, skipping fields that hold `undefined` (absent in JSON terms). */
export function mapKeys(o: Record<string, unknown>): string[] {
  return Object.keys(o).filter((k) => o[k] !== undefined);
}

/** A value as CEL-like source text, for log points and messages: `["i_7", 0.5]`, `{"a": 1}`. Cut at `maxLength` characters (with …). */
export function formatValue(v: unknown, maxLength = 200): string {
  const out = new Text(maxLength);
  write(v, 0, out);
  return out.text.length > maxLength ? `${out.text.slice(0, maxLength - 1)}…` : out.text;
}

/**
 * string(): a value's text in full, each piece charged to the evaluation's budget (`at`) before
 * it is added, so that text that doubles at each level of nesting stops at the budget instead of
 * at JavaScript's longest string (a RangeError).
 */
export function formatCharged(v: unknown, at: At): string {
  const out = new Text(Infinity, at, MAX_STRING_DEPTH);
  write(v, 0, out);
  return out.text;
}

/**
 * How deep string() writes: in full, or not at all (it wrote "…" past 20 levels, so two different
 * values could give the same text). Deeper data is an error: the writer recurses once per level.
 */
export const MAX_STRING_DEPTH = 1000;

/** Text being written, which stops taking pieces once it is longer than `max`. */
class Text {
  text = '';
  constructor(
    private readonly max: number,
    /** Where to charge the characters written, if they are charged. */
    readonly at?: At,
    /** Past this depth: an error at `at` (string(), which writes in full); else "…" (a preview). */
    readonly maxDepth?: number,
  ) {}

  /** Charges `n` characters about to be written. */
  pay(n: number): void {
    if (this.at !== undefined) chargeText(n, this.at, 'string()');
  }

  /** Appends `s`, of which `paid` characters were charged already; false once the text is longer than `max`. */
  put(s: string, paid = 0): boolean {
    this.pay(s.length - paid);
    this.text += s;
    return this.text.length <= this.max;
  }

  /** Room left before `max`. */
  get room(): number {
    return this.max - this.text.length;
  }
}

/** A string in quotes: only as far as it will show, and paid for before quoting, which can make it six times longer. */
function quote(v: string, out: Text): boolean {
  const shown = v.length > out.room + 1 ? v.slice(0, out.room + 1) : v;
  out.pay(shown.length + 2);
  return out.put(JSON.stringify(shown), shown.length + 2);
}

function write(v: unknown, depth: number, out: Text): boolean {
  if (out.maxDepth !== undefined && depth > out.maxDepth && (Array.isArray(v) || isMap(v))) {
    return fail(out.at ?? { start: 0, end: 0 }, `string() writes values nested at most ${out.maxDepth} deep; this one is deeper`);
  }
  if (out.maxDepth === undefined && depth > 20) return out.put('…');
  if (typeof v === 'string') return quote(v, out);
  if (Array.isArray(v)) {
    if (!out.put('[')) return false;
    for (let i = 0; i < v.length; i++) if ((i > 0 && !out.put(', ')) || !write(v[i], depth + 1, out)) return false;
    return out.put(']');
  }
  if (isMap(v)) {
    if (!out.put('{')) return false;
    const keys = mapKeys(v);
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i] as string;
      if ((i > 0 && !out.put(', ')) || !quote(k, out) || !out.put(': ') || !write(v[k], depth + 1, out)) return false;
    }
    return out.put('}');
  }
  return out.put(v === undefined ? 'null' : String(v));
}

/** Short source text of a node for messages ("no field 'x' in event.system"). */
export function clip(text: string, max = 40): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** Throws a runtime `ExprError` at a node. */
export function fail(at: { start: number; end: number }, reason: string): never {
  throw runtimeError(reason, at);
}

/**
 * A runtime error, charged to the budget (see chargeError) and without a stack trace: it is the
 * user's mistake, never shown with one, and capturing it was most of the cost of an error that a
 * macro absorbs, by the hundred thousand in one evaluation.
 */
export function runtimeError(reason: string, at: At): ExprError {
  chargeError(at);
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new ExprError('runtime', reason, at.start, at.end);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/**
 * fail() with the reason worded only when it is read. exists(), all(), || and && absorb errors by
 * the million within one evaluation's budget, and a "did you mean" over every key of a map, for an
 * error nobody reads, is work the budget does not count (one condition ran for minutes).
 */
export function failLazy(at: { start: number; end: number }, reason: () => string): never {
  const err = runtimeError('', at);
  let text: string | undefined;
  const get = () => (text ??= reason());
  Object.defineProperty(err, 'reason', { get, enumerable: true, configurable: true });
  Object.defineProperty(err, 'message', { get: () => `column ${at.start + 1}: ${get()}`, enumerable: false, configurable: true });
  throw err;
}

/** Number of Unicode code points, which is what CEL's size() counts for strings. */
export function codePointLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdbff || i + 1 >= s.length) n++;
    else {
      const d = s.charCodeAt(i + 1);
      n++;
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
  }
  return n;
}
