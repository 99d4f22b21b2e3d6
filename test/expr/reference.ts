// A deliberately plain tree-walking interpreter: the executable statement of the semantics that
// the compiled closures must match (see properties.test.ts). No folding, no fast paths.
import type { Expr } from '../../src/core/expr/ast';
import type { ExprScope } from '../../src/core/expr/scope';

export class RefError extends Error {}
const bad = (why: string): never => {
  throw new RefError(why);
};

const present = (v: unknown, why: string): unknown => (v === undefined ? bad(why) : v);
const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const own = (o: Record<string, unknown>, k: string): unknown => (Object.hasOwn(o, k) && typeof o[k] !== 'function' ? o[k] : undefined);
const keys = (o: Record<string, unknown>): string[] => Object.keys(o).filter((k) => o[k] !== undefined);

function equal(a: unknown, b: unknown): boolean {
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => equal(x, b[i]));
  if (isMap(a)) return isMap(b) && keys(a).length === keys(b).length && keys(a).every((k) => own(b, k) !== undefined && equal(a[k], b[k]));
  return a === b;
}

function format(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(format).join(', ')}]`;
  if (isMap(v)) return `{${keys(v).map((k) => `${JSON.stringify(k)}: ${format(v[k])}`).join(', ')}}`;
  return String(v);
}

function asBool(v: unknown): boolean {
  return typeof v === 'boolean' ? v : bad('not a bool');
}

/** Runs `f`, turning a RefError into a marker so `&&`, `||`, exists and all can absorb it. */
function attempt(f: () => unknown): { ok: true; v: unknown } | { ok: false } {
  try {
    return { ok: true, v: f() };
  } catch (e) {
    if (e instanceof RefError) return { ok: false };
    throw e;
  }
}

/** CEL's commutative and/or over already-attempted operands. */
function logic(decisive: boolean, results: { ok: boolean; v?: unknown }[]): boolean {
  if (results.some((r) => r.ok && r.v === decisive)) return decisive;
  if (results.every((r) => r.ok && r.v === !decisive)) return !decisive;
  return bad('undecided');
}

export function refEval(e: Expr, s: ExprScope, locals: ReadonlyMap<string, unknown> = new Map()): unknown {
  const ev = (x: Expr, l = locals): unknown => refEval(x, s, l);
  const isUser = (x: Expr): boolean => x.type === 'ident' && x.name === 'user' && !locals.has('user');
  const userField = (f: string): unknown => {
    const direct = own(s.user, f);
    if (direct !== undefined) return direct;
    const feats = own(s.user, 'features');
    return isMap(feats) ? own(feats, f) : undefined;
  };
  switch (e.type) {
    case 'literal':
      return e.value;
    case 'ident':
      if (locals.has(e.name)) return locals.get(e.name);
      return present((s as unknown as Record<string, unknown>)[e.name], 'unknown name');
    case 'list':
      return e.items.map((x) => ev(x));
    case 'map': {
      const out: Record<string, unknown> = {};
      for (const en of e.entries) {
        const k = ev(en.key);
        if (typeof k !== 'string' || Object.hasOwn(out, k)) bad('bad key');
        Object.defineProperty(out, k as string, { value: ev(en.value), enumerable: true, writable: true, configurable: true });
      }
      return out;
    }
    case 'select': {
      if (isUser(e.target)) return present(userField(e.field), 'no such user field');
      const o = ev(e.target);
      return present(isMap(o) ? own(o, e.field) : undefined, 'no such field');
    }
    case 'has': {
      if (isUser(e.target.target)) return userField(e.target.field) !== undefined;
      const o = ev(e.target.target);
      return isMap(o) ? own(o, e.target.field) !== undefined : bad('has on non-map');
    }
    case 'index': {
      const o = ev(e.target);
      const k = ev(e.index);
      // user["name"] is user.name: a user field, else a user feature.
      if (isUser(e.target) && typeof k === 'string') return present(userField(k), 'no such user field');
      if (Array.isArray(o)) return typeof k === 'number' && Number.isInteger(k) && k >= 0 && k < o.length ? o[k] : bad('index');
      if (isMap(o) && typeof k === 'string') return present(own(o, k), 'no key');
      return bad('cannot index');
    }
    case 'unary': {
      const v = ev(e.operand);
      if (e.op === '!') return !asBool(v);
      return v === null ? null : typeof v === 'number' ? -v : bad('neg');
    }
    case 'conditional':
      return asBool(ev(e.test)) ? ev(e.consequent) : ev(e.alternate);
    case 'binary':
      // "name" in user as user.name reads it.
      if (e.op === 'in' && isUser(e.right)) {
        const a = ev(e.left);
        if (typeof a === 'string') return userField(a) !== undefined;
      }
      return binary(e.op, e.left, e.right, ev);
    case 'call':
      return call(e.callee, e.args.map((a) => ev(a)), s);
    case 'method': {
      const t = ev(e.target);
      const args = e.args.map((a) => ev(a));
      if (e.method === 'size') return size(t);
      if (typeof t !== 'string' || typeof args[0] !== 'string') return bad('string method');
      const a = args[0];
      return e.method === 'startsWith' ? t.startsWith(a) : e.method === 'endsWith' ? t.endsWith(a) : t.includes(a);
    }
    case 'macro': {
      const r = ev(e.target);
      const items = Array.isArray(r) ? r : isMap(r) ? keys(r) : bad('range');
      const withVar = (x: unknown): Map<string, unknown> => new Map([...locals, [e.variable, x]]);
      switch (e.macro) {
        case 'exists':
        case 'all':
          if (items.length === 0) return e.macro === 'all';
          return logic(e.macro === 'exists', items.map((x) => attempt(() => asBool(ev(e.body, withVar(x))))));
        case 'exists_one':
          return items.filter((x) => asBool(ev(e.body, withVar(x)))).length === 1;
        case 'filter':
          return items.filter((x) => asBool(ev(e.body, withVar(x))));
        case 'map':
          return items.filter((x) => e.filter === null || asBool(ev(e.filter, withVar(x)))).map((x) => ev(e.body, withVar(x)));
      }
    }
  }
}

function binary(op: string, l: Expr, r: Expr, ev: (x: Expr) => unknown): unknown {
  if (op === '&&' || op === '||') return logic(op === '||', [attempt(() => asBool(ev(l))), attempt(() => asBool(ev(r)))]);
  const a = ev(l);
  const b = ev(r);
  switch (op) {
    case '==':
      return equal(a, b);
    case '!=':
      return !equal(a, b);
    case 'in':
      if (Array.isArray(b)) return b.some((x) => equal(x, a));
      return isMap(b) ? typeof a === 'string' && own(b, a) !== undefined : bad('in');
    case '<':
    case '<=':
    case '>':
    case '>=': {
      if (a === null || b === null) return false;
      if (typeof a === 'string' && typeof b === 'string') return order(op, codePoints(a), codePoints(b));
      if (typeof a !== 'number' || typeof b !== 'number') return bad('order');
      return op === '<' ? a < b : op === '<=' ? a <= b : op === '>' ? a > b : a >= b;
    }
    default: {
      if (a === null || b === null) return null;
      if (op === '+' && typeof a === 'string' && typeof b === 'string') return a + b;
      if (op === '+' && Array.isArray(a) && Array.isArray(b)) return [...a, ...b];
      if (typeof a !== 'number' || typeof b !== 'number') return bad('arith');
      if ((op === '/' || op === '%') && b === 0) return bad('by zero');
      return op === '+' ? a + b : op === '-' ? a - b : op === '*' ? a * b : op === '/' ? a / b : a % b;
    }
  }
}

/** CEL orders strings by code point (a lone surrogate counts as its own unit). */
const codePoints = (s: string): number[] => [...s].map((c) => c.codePointAt(0) ?? 0);

function order(op: string, a: readonly number[], b: readonly number[]): boolean {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  const d = i < a.length && i < b.length ? (a[i] as number) - (b[i] as number) : a.length - b.length;
  return op === '<' ? d < 0 : op === '<=' ? d <= 0 : op === '>' ? d > 0 : d >= 0;
}

/** int() of digits: refused, as the literal would be, when a double does not hold them exactly. */
function whole(t: string): number {
  const n = Number(t);
  if (Number.isSafeInteger(n)) return n;
  const digits = t.replace(/^[+-]/, '');
  const exact = Number.isFinite(n) && (BigInt(digits) === BigInt(Math.abs(n)) || String(Math.abs(n)) === digits.replace(/^0+(?=\d)/, ''));
  return exact ? n : bad('inexact');
}

function size(v: unknown): number {
  if (typeof v === 'string') return [...v].length;
  if (Array.isArray(v)) return v.length;
  return isMap(v) ? keys(v).length : bad('size');
}

function call(name: string, args: unknown[], s: ExprScope): unknown {
  const [a, b] = args;
  const find = (id: unknown): ExprScope['candidates'][number] | undefined =>
    typeof id === 'string' ? s.candidates.find((c) => c.item === id) : bad('id');
  const nums = (vs: unknown[]): (number | null)[] => vs.map((v) => (v === null || typeof v === 'number' ? v : bad('num')));
  switch (name) {
    case 'score':
      return find(a)?.score ?? null;
    case 'rank':
      return find(a)?.rank ?? null;
    case 'recordedRank':
      return find(a)?.recordedRank ?? null;
    case 'rankDelta': {
      const c = find(a);
      return c && c.rank !== null ? c.recordedRank - c.rank : null;
    }
    case 'topk':
      if (typeof a !== 'number' || !Number.isInteger(a) || a < 0) return bad('k');
      // Before rerank no candidate has a rank: there is no top k yet.
      return s.candidates.filter((c) => c.rank !== null).sort((x, y) => (x.rank as number) - (y.rank as number)).slice(0, a).map((c) => c.item);
    case 'feature': {
      const c = find(a);
      if (typeof b !== 'string') return bad('name');
      return c ? (own(c.features, b) ?? null) : null;
    }
    case 'age':
      if (args.length === 1) return typeof a === 'string' ? s.featureAge(a) : bad('name');
      if (typeof a !== 'string' || typeof b !== 'string') return bad('age args');
      // For an item that is not a candidate the age is unknown, online features included.
      return find(a) !== undefined ? s.featureAge(b, a) : null;
    case 'size':
      return size(a);
    case 'int':
      if (typeof a === 'number' && Number.isFinite(a)) return Math.trunc(a);
      return typeof a === 'string' && /^[+-]?\d+$/.test(a.trim()) ? whole(a.trim()) : bad('int');
    case 'double':
      if (typeof a === 'number') return a;
      if (typeof a === 'string' && /^[+-]?Infinity$|^NaN$/.test(a.trim())) return Number(a.trim());
      if (typeof a !== 'string' || !/^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/.test(a.trim())) return bad('double');
      // Text a double cannot hold (1e400, 1e-400) is refused, as the literal is.
      return Number.isFinite(Number(a)) && (Number(a) !== 0 || !/[1-9]/.test(a.split(/[eE]/)[0] ?? '')) ? Number(a) : bad('double range');
    case 'string':
      return typeof a === 'string' ? a : format(a);
    case 'abs': {
      const [n] = nums([a]);
      return n === null || n === undefined ? null : Math.abs(n);
    }
    case 'min':
    case 'max': {
      const vs = nums(args.length === 1 && Array.isArray(a) ? a : args);
      if (vs.length === 0) return bad('empty');
      if (vs.includes(null)) return null;
      return name === 'min' ? Math.min(...(vs as number[])) : Math.max(...(vs as number[]));
    }
    default:
      return bad('unknown helper');
  }
}
