import type { Binary, Expr } from './ast';
import { ExprError, WorkLimitError } from './errors';
import { clip, deepEqual, fail, isMap, ownField, runtimeError, typeName } from './values';
import { charge, chargeText } from './budget';
import { printExpr } from './print';
import type { ExprScope } from './scope';

/**
 * Compiled form of a node: a closure over the stop's bindings `s` and the slots `l` of macro
 * variables. Two arguments rather than one context object: nothing is allocated per evaluation.
 */
export type Fn = (s: ExprScope, l: unknown[]) => unknown;

type Arith = '+' | '-' | '*' | '/' | '%';
export type Order = '<' | '<=' | '>' | '>=';

/** Arithmetic. Numbers are doubles; a null operand gives null (a missing item's rank stays missing). */
export function arithmetic(e: Binary, l: Fn, r: Fn): Fn {
  const op = e.op as Arith;
  const slow = (a: unknown, b: unknown): unknown => {
    if (a === null || b === null) return null;
    if (op === '+' && typeof a === 'string' && typeof b === 'string') {
      // Text that doubles in a nested macro would reach JavaScript's longest string.
      chargeText(a.length + b.length, e, "'+' on strings");
      return a + b;
    }
    if (op === '+' && Array.isArray(a) && Array.isArray(b)) {
      charge(a.length + b.length, e, "'+' on lists");
      return [...(a as unknown[]), ...(b as unknown[])];
    }
    if (typeof a === 'number' && typeof b === 'number') return fail(e, op === '/' ? 'division by zero' : 'modulo by zero');
    return fail(e, `operator '${op}' cannot combine ${typeName(a)} and ${typeName(b)}`);
  };
  // One closure per operator so the hot path is a single typeof test and a native operation.
  switch (op) {
    case '+':
      return (s, x) => { const a = l(s, x), b = r(s, x); return typeof a === 'number' && typeof b === 'number' ? a + b : slow(a, b); };
    case '-':
      return (s, x) => { const a = l(s, x), b = r(s, x); return typeof a === 'number' && typeof b === 'number' ? a - b : slow(a, b); };
    case '*':
      return (s, x) => { const a = l(s, x), b = r(s, x); return typeof a === 'number' && typeof b === 'number' ? a * b : slow(a, b); };
    case '/':
      return (s, x) => { const a = l(s, x), b = r(s, x); return typeof a === 'number' && typeof b === 'number' && b !== 0 ? a / b : slow(a, b); };
    case '%':
      return (s, x) => { const a = l(s, x), b = r(s, x); return typeof a === 'number' && typeof b === 'number' && b !== 0 ? a % b : slow(a, b); };
  }
}

/**
 * Ordering of two values that are not both numbers: strings by code point (as CEL; JavaScript's
 * `<` compares UTF-16 units, which puts U+10000 and above before U+E000), false with null, and
 * otherwise an error.
 */
export function orderOthers(e: Binary): (a: unknown, b: unknown) => boolean {
  const op = e.op as Order;
  return (a, b) => {
    if (a === null || b === null) return false;
    if (typeof a === 'string' && typeof b === 'string') {
      // Compared up to the shorter one's end, at worst: in a macro, each comparison reads them again.
      chargeText(Math.min(a.length, b.length), e, `'${op}' on strings`);
      return cmp(op, compareCodePoints(a, b), 0);
    }
    return fail(e, `cannot compare ${typeName(a)} with ${typeName(b)} using '${op}'`);
  };
}

/** Ordering on numbers or on strings; anything compared with null is false. */
export function ordering(e: Binary, l: Fn, r: Fn, constRight: { value: unknown } | null): Fn {
  const op = e.op as Order;
  const slow = orderOthers(e);
  const k = constRight?.value;
  if (typeof k === 'number') {
    // The usual breakpoint shape, `rank("i_42") <= 3`: skip the right closure entirely.
    switch (op) {
      case '<':
        return (s, x) => { const a = l(s, x); return typeof a === 'number' ? a < k : slow(a, k); };
      case '<=':
        return (s, x) => { const a = l(s, x); return typeof a === 'number' ? a <= k : slow(a, k); };
      case '>':
        return (s, x) => { const a = l(s, x); return typeof a === 'number' ? a > k : slow(a, k); };
      case '>=':
        return (s, x) => { const a = l(s, x); return typeof a === 'number' ? a >= k : slow(a, k); };
    }
  }
  return (s, x) => {
    const a = l(s, x), b = r(s, x);
    return typeof a === 'number' && typeof b === 'number' ? cmp(op, a, b) : slow(a, b);
  };
}

function cmp(op: Order, a: number, b: number): boolean {
  return op === '<' ? a < b : op === '<=' ? a <= b : op === '>' ? a > b : a >= b;
}

const isHigh = (c: number): boolean => c >= 0xd800 && c <= 0xdbff;
const isLow = (c: number): boolean => c >= 0xdc00 && c <= 0xdfff;

/** Negative, zero or positive as `a` sorts before, with or after `b` by code point. */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i), y = b.charCodeAt(i);
    if (x === y) continue;
    if (x < 0xd800 && y < 0xd800) return x - y;
    // A surrogate pair is one code point, above every unit: compare the code points that differ,
    // from the high half when the difference is in the low one.
    const j = i > 0 && isHigh(a.charCodeAt(i - 1)) && (isLow(x) || isLow(y)) ? i - 1 : i;
    return (a.codePointAt(j) ?? 0) - (b.codePointAt(j) ?? 0);
  }
  return a.length - b.length;
}

/** `==` and `!=`: deep on lists and maps, never an error. */
export function equality(e: Binary, l: Fn, r: Fn): Fn {
  // Comparing two lists or maps visits their elements: charged (beyond the first pair, which any == costs).
  const what = `'${e.op}'`;
  const equal = (a: unknown, b: unknown): boolean => deepEqual(a, b, e, what);
  // The same list or map is not equal to itself when a NaN is in it (as [NaN] == [NaN] is false):
  // only a primitive is settled by ===.
  const eq = (a: unknown, b: unknown): boolean => {
    // Two strings of one length are compared character by character: charged by their length.
    if (typeof a === 'string' && typeof b === 'string') {
      if (a.length !== b.length) return false;
      chargeText(a.length, e, what);
      return a === b;
    }
    return (a === b && !isObject(a)) || equal(a, b);
  };
  if (e.op === '==') return (s, x) => eq(l(s, x), r(s, x));
  return (s, x) => !eq(l(s, x), r(s, x));
}

/** A list or map (compared by what it holds, not by identity). */
const isObject = (v: unknown): boolean => typeof v === 'object' && v !== null;

/** `x in list` (deep membership) and `key in map` (key presence). */
export function membership(e: Binary, l: Fn, r: Fn): Fn {
  return (s, x) => {
    const a = l(s, x), b = r(s, x);
    if (Array.isArray(b)) {
      charge(b.length, e, "'in'");
      for (const item of b as unknown[]) {
        // Two strings of one length are compared character by character.
        if (typeof a === 'string' && typeof item === 'string') {
          if (item.length !== a.length) continue;
          chargeText(a.length, e, "'in'");
          if (item === a) return true;
          continue;
        }
        if (item === a && !isObject(a)) return true;
        if (deepEqual(item, a, e, "'in'")) return true;
      }
      return false;
    }
    if (isMap(b)) return typeof a === 'string' && ownField(b, a) !== undefined;
    return fail(e.right, `'in' needs a list or a map on its right, got ${typeName(b)}`);
  };
}

/** A non-bool where a bool is required, as an error. */
export function notBool(at: Expr, v: unknown, what: string): ExprError {
  return runtimeError(`${what} must be true or false, but ${clip(printExpr(at))} is ${typeName(v)}`, at);
}

/** Re-throws anything that is not an expression error: a bug must not pass for a false condition. */
export function absorb(err: unknown): ExprError {
  if (err instanceof ExprError && !(err instanceof WorkLimitError)) return err;
  throw err;
}

/**
 * `&&` and `||` with CEL's commutative error handling: `false && error` and `error && false`
 * are both false; an error only surfaces when the other side cannot decide the result.
 * One closure per operator, so that `decisive` is a constant in each.
 */
export function logical(e: Binary, l: Fn, r: Fn): Fn {
  const what = `each side of '${e.op}'`;
  const settle = (s: ExprScope, x: unknown[], decisive: boolean, err: ExprError | undefined, a: unknown): boolean => {
    if (err === undefined && a !== !decisive) err = notBool(e.left, a, what);
    let b: unknown;
    try {
      b = r(s, x);
    } catch (y) {
      const second = absorb(y);
      throw err ?? second;
    }
    if (b === decisive) return decisive;
    if (err !== undefined) throw err;
    if (b !== !decisive) throw notBool(e.right, b, what);
    return !decisive;
  };
  if (e.op === '&&') {
    return (s, x) => {
      let a: unknown;
      try {
        a = l(s, x);
      } catch (y) {
        return settle(s, x, false, absorb(y), undefined);
      }
      if (a === false) return false;
      if (a === true) {
        // The usual case: the right side decides, and its error (if any) is the result.
        const b = r(s, x);
        if (typeof b === 'boolean') return b;
        throw notBool(e.right, b, what);
      }
      return settle(s, x, false, undefined, a);
    };
  }
  return (s, x) => {
    let a: unknown;
    try {
      a = l(s, x);
    } catch (y) {
      return settle(s, x, true, absorb(y), undefined);
    }
    if (a === true) return true;
    if (a === false) {
      const b = r(s, x);
      if (typeof b === 'boolean') return b;
      throw notBool(e.right, b, what);
    }
    return settle(s, x, true, undefined, a);
  };
}
