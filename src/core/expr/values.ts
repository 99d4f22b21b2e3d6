import { ExprError } from './errors';

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
 * call stack.
 */
export function deepEqual(a: unknown, b: unknown): boolean {
  compared.pairs = 0;
  const stack: unknown[] = [a, b];
  while (stack.length) {
    compared.pairs++;
    const y = stack.pop();
    const x = stack.pop();
    if (x === y) {
      if (typeof x === 'number' && Number.isNaN(x)) return false;
      continue;
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

/** Pairs of values the last deepEqual call compared: what `==` and `in` charge to an evaluation's step budget. */
export const compared = { pairs: 0 };

/** Keys of a map, skipping fields that hold `undefined` (absent in JSON terms). */
export function mapKeys(o: Record<string, unknown>): string[] {
  return Object.keys(o).filter((k) => o[k] !== undefined);
}

/** A value as CEL-like source text, for log points and messages: `["i_7", 0.5]`, `{"a": 1}`. */
export function formatValue(v: unknown, maxLength = 200): string {
  formatted.values = 0;
  const s = format(v, 0);
  return s.length > maxLength ? `${s.slice(0, maxLength - 1)}…` : s;
}

/** Values the last formatValue call wrote: what string() charges to an evaluation's step budget. */
export const formatted = { values: 0 };

function format(v: unknown, depth: number): string {
  formatted.values++;
  if (depth > 20) return '…';
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map((x) => format(x, depth + 1)).join(', ')}]`;
  if (isMap(v)) return `{${mapKeys(v).map((k) => `${JSON.stringify(k)}: ${format(v[k], depth + 1)}`).join(', ')}}`;
  if (v === undefined) return 'null';
  return String(v);
}

/** Short source text of a node for messages ("no field 'x' in event.system"). */
export function clip(text: string, max = 40): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** Throws a runtime `ExprError` at a node. */
export function fail(at: { start: number; end: number }, reason: string): never {
  throw new ExprError('runtime', reason, at.start, at.end);
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
