import type { Fn, Order } from './operators';
import { scopeBinding as bindingOf, type PathRoot, type Rec } from './paths';

// Under a CommonJS transform (tsx, the tests and benches) every use of an import is a read of
// the other module's exports object; a module-local alias keeps that out of the closures below
// (measured: `system.latencyMs.score > 40 && user.id != "x"` 1.6x → 2.3x a hand-written test).
const scopeBinding = bindingOf;

// Comparisons against a constant, the tests most conditions are made of: `c.rank == 1`,
// `system.latencyMs.score > 40`, `rank("i_42") <= 3`. V8 shares type feedback between the
// closures made by one function literal, so a literal that every expression uses (one `&&` for
// all, one field read for all) soon sees many callees and many maps, and stops inlining. Here
// each shape has its own literals, with its property reads written out (an inlined helper would
// bring its own shared load feedback), and a comparison followed by `&&` or `||` calls the rest
// of the chain itself, so that no shared `&&` closure sits between `c.rank == 1` and
// `c.score > 0.9`. Every fast path falls back to `slow`, the ordinary closures, as soon as
// anything is unusual (a missing field, a non-map, a non-number, a non-bool, an error), so
// results, errors and their messages come from one place. Path reads are exact as explained in
// paths.ts.

/**
 * A comparison's place in a chain `t && next` (`decisive` false) or `t || next` (`decisive`
 * true): when `t` does not decide, the chain's value is `next`'s, which must be a bool. `next`
 * null: a comparison on its own. `slow` is then the comparison's ordinary closure, and in a
 * chain the whole chain's, which evaluates everything again and decides every unusual case.
 */
export interface Link {
  next: Fn | null;
  decisive: boolean;
  slow: Fn;
}

// Reading a field of a (strict) function throws for these; ordering reads a middle value unchecked.
const THROWING = new Set(['caller', 'callee', 'arguments']);

/** `path == k` or `path != k` for a path of one or two fields, `k` a string, number, bool or null (not NaN). */
export function equalityOnPath(negate: boolean, root: PathRoot, fields: readonly string[], k: unknown, { next, decisive, slow }: Link): Fn | undefined {
  const [f0 = '', f1 = ''] = fields;
  if (fields.length > 2) return undefined;
  if ('slot' in root) {
    const slot = root.slot;
    if (fields.length === 1) {
      return (s, l) => {
        const o = l[slot] as Rec | null | undefined;
        const v = o != null ? o[f0] : undefined;
        if (v === undefined || typeof v === 'function') return slow(s, l);
        const t = (v === k) !== negate;
        if (next === null || t === decisive) return t;
        const r = next(s, l);
        return typeof r === 'boolean' ? r : slow(s, l);
      };
    }
    return (s, l) => {
      const o = l[slot] as Rec | null | undefined;
      const p = o != null ? o[f0] : undefined;
      const v = typeof p === 'object' && p !== null ? (p as Rec)[f1] : undefined;
      if (v === undefined || typeof v === 'function') return slow(s, l);
      const t = (v === k) !== negate;
      if (next === null || t === decisive) return t;
      const r = next(s, l);
      return typeof r === 'boolean' ? r : slow(s, l);
    };
  }
  const b = root.binding;
  if (fields.length === 1) {
    return (s, l) => {
      const o = scopeBinding(s, b) as Rec | null | undefined;
      const v = o != null ? o[f0] : undefined;
      if (v === undefined || typeof v === 'function') return slow(s, l);
      const t = (v === k) !== negate;
      if (next === null || t === decisive) return t;
      const r = next(s, l);
      return typeof r === 'boolean' ? r : slow(s, l);
    };
  }
  return (s, l) => {
    const o = scopeBinding(s, b) as Rec | null | undefined;
    const p = o != null ? o[f0] : undefined;
    const v = typeof p === 'object' && p !== null ? (p as Rec)[f1] : undefined;
    if (v === undefined || typeof v === 'function') return slow(s, l);
    const t = (v === k) !== negate;
    if (next === null || t === decisive) return t;
    const r = next(s, l);
    return typeof r === 'boolean' ? r : slow(s, l);
  };
}

/** `value == k` or `value != k` where `value` is any other node (`lf`), `k` as for equalityOnPath. */
export function equalityOnValue(negate: boolean, lf: Fn, k: unknown, { next, decisive, slow }: Link): Fn {
  return (s, l) => {
    let v: unknown;
    try {
      v = lf(s, l);
    } catch {
      return slow(s, l);
    }
    const t = (v === k) !== negate;
    if (next === null || t === decisive) return t;
    const r = next(s, l);
    return typeof r === 'boolean' ? r : slow(s, l);
  };
}

/**
 * `path < k` (and <=, >, >=) for a path of one or two fields and a number `k`: `c.score > 0.9`,
 * `system.latencyMs.score > 40`. A null field is false, as in ordering(); anything else that is
 * not a number takes `slow`, which compares strings or says what is wrong. Only a number passes,
 * and no field of a function or of a primitive's prototype is one (the length fields are not
 * plain), so the middle value needs no check. Written out per operator: a comparison through a
 * shared closure measured ~25% slower on V8.
 */
export function orderingOnPath(op: Order, root: PathRoot, fields: readonly string[], k: number, link: Link): Fn | undefined {
  const [f0 = '', f1 = ''] = fields;
  if (fields.length > 2 || THROWING.has(f1)) return undefined;
  if ('slot' in root) return fields.length === 1 ? slotField(op, root.slot, f0, k, link) : slotPath(op, root.slot, f0, f1, k, link);
  return fields.length === 1 ? bindingField(op, root.binding, f0, k, link) : bindingPath(op, root.binding, f0, f1, k, link);
}

function slotField(op: Order, slot: number, f0: string, k: number, { next, decisive, slow }: Link): Fn {
  switch (op) {
    case '<':
      return (s, l) => {
        const o = l[slot] as Rec | null | undefined;
        const v = o != null ? o[f0] : undefined;
        const t = typeof v === 'number' ? v < k : v === null ? false : undefined;
        if (t === undefined) return slow(s, l);
        if (next === null || t === decisive) return t;
        const r = next(s, l);
        return typeof r === 'boolean' ? r : slow(s, l);
      };
    case '<=':
      return (s, l) => {
        const o = l[slot] as Rec | null | undefined;
        const v = o != null ? o[f0] : undefined;
        const t = typeof v === 'number' ? v <= k : v === null ? false : undefined;
        if (t === undefined) return slow(s, l);
        if (next === null || t === decisive) return t;
        const r = next(s, l);
        return typeof r === 'boolean' ? r : slow(s, l);
      };
    case '>':
      return (s, l) => {
        const o = l[slot] as Rec | null | undefined;
        const v = o != null ? o[f0] : undefined;
        const t = typeof v === 'number' ? v > k : v === null ? false : undefined;
        if (t === undefined) return slow(s, l);
        if (next === null || t === decisive) return t;
        const r = next(s, l);
        return typeof r === 'boolean' ? r : slow(s, l);
      };
    case '>=':
      return (s, l) => {
        const o = l[slot] as Rec | null | undefined;
        const v = o != null ? o[f0] : undefined;
        const t = typeof v === 'number' ? v >= k : v === null ? false : undefined;
        if (t === undefined) return slow(s, l);
        if (next === null || t === decisive) return t;
        const r = next(s, l);
        return typeof r === 'boolean' ? r : slow(s, l);
      };
  }
}

function slotPath(op: Order, slot: number, f0: string, f1: string, k: number, { next, decisive, slow }: Link): Fn {
  switch (op) {
    case '<':
      return (s, l) => {
        const o = l[slot] as Rec | null | undefined;
        const p = o != null ? (o[f0] as Rec | null | undefined) : undefined;
        const v = p != null ? p[f1] : undefined;
        const t = typeof v === 'number' ? v < k : v === null ? false : undefined;
        if (t === undefined) return slow(s, l);
        if (next === null || t === decisive) return t;
        const r = next(s, l);
        return typeof r === 'boolean' ? r : slow(s, l);
      };
    case '<=':
      return (s, l) => {
        const o = l[slot] as Rec | null | undefined;
        const p = o != null ? (o[f0] as Rec | null | undefined) : undefined;
        const v = p != null ? p[f1] : undefined;
        const t = typeof v === 'number' ? v <= k : v === null ? false : undefined;
        if (t === undefined) return slow(s, l);
        if (next === null || t === decisive) return t;
        const r = next(s, l);
        return typeof r === 'boolean' ? r : slow(s, l);
      };
    case '>':
      return (s, l) => {
        const o = l[slot] as Rec | null | undefined;
        const p = o != null ? (o[f0] as Rec | null | undefined) : undefined;
        const v = p != null ? p[f1] : undefined;
        const t = typeof v === 'number' ? v > k : v === null ? false : undefined;
        if (t === undefined) return slow(s, l);
        if (next === null || t === decisive) return t;
        const r = next(s, l);
        return typeof r === 'boolean' ? r : slow(s, l);
      };
    case '>=':
      return (s, l) => {
        const o = l[slot] as Rec | null | undefined;
        const p = o != null ? (o[f0] as Rec | null | undefined) : undefined;
        const v = p != null ? p[f1] : undefined;
        const t = typeof v === 'number' ? v >= k : v === null ? false : undefined;
        if (t === undefined) return slow(s, l);
        if (next === null || t === decisive) return t;
        const r = next(s, l);
        return typeof r === 'boolean' ? r : slow(s, l);
      };
  }
}

function bindingField(op: Order, b: number, f0: string, k: number, { next, decisive, slow }: Link): Fn {
  switch (op) {
    case '<':
      return (s, l) => {
        const o = scopeBinding(s, b) as Rec | null | undefined;
        const v = o != null ? o[f0] : undefined;
        const t = typeof v === 'number' ? v < k : v === null ? false : undefined;
        if (t === undefined) return slow(s, l);
        if (next === null || t === decisive) return t;
        const r = next(s, l);
        return typeof r === 'boolean' ? r : slow(s, l);
      };
    case '<=':
      return (s, l) => {
        const o = scopeBinding(s, b) as Rec | null | undefined;
        const v = o != null ? o[f0] : undefined;
        const t = typeof v === 'number' ? v <= k : v === null ? false : undefined;
        if (t === undefined) return slow(s, l);
        if (next === null || t === decisive) return t;
        const r = next(s, l);
        return typeof r === 'boolean' ? r : slow(s, l);
      };
    case '>':
      return (s, l) => {
        const o = scopeBinding(s, b) as Rec | null | undefined;
        const v = o != null ? o[f0] : undefined;
        const t = typeof v === 'number' ? v > k : v === null ? false : undefined;
        if (t === undefined) return slow(s, l);
        if (next === null || t === decisive) return t;
        const r = next(s, l);
        return typeof r === 'boolean' ? r : slow(s, l);
      };
    case '>=':
      return (s, l) => {
        const o = scopeBinding(s, b) as Rec | null | undefined;
        const v = o != null ? o[f0] : undefined;
        const t = typeof v === 'number' ? v >= k : v === null ? false : undefined;
        if (t === undefined) return slow(s, l);
        if (next === null || t === decisive) return t;
        const r = next(s, l);
        return typeof r === 'boolean' ? r : slow(s, l);
      };
  }
}

function bindingPath(op: Order, b: number, f0: string, f1: string, k: number, { next, decisive, slow }: Link): Fn {
  switch (op) {
    case '<':
      return (s, l) => {
        const o = scopeBinding(s, b) as Rec | null | undefined;
        const p = o != null ? (o[f0] as Rec | null | undefined) : undefined;
        const v = p != null ? p[f1] : undefined;
        const t = typeof v === 'number' ? v < k : v === null ? false : undefined;
        if (t === undefined) return slow(s, l);
        if (next === null || t === decisive) return t;
        const r = next(s, l);
        return typeof r === 'boolean' ? r : slow(s, l);
      };
    case '<=':
      return (s, l) => {
        const o = scopeBinding(s, b) as Rec | null | undefined;
        const p = o != null ? (o[f0] as Rec | null | undefined) : undefined;
        const v = p != null ? p[f1] : undefined;
        const t = typeof v === 'number' ? v <= k : v === null ? false : undefined;
        if (t === undefined) return slow(s, l);
        if (next === null || t === decisive) return t;
        const r = next(s, l);
        return typeof r === 'boolean' ? r : slow(s, l);
      };
    case '>':
      return (s, l) => {
        const o = scopeBinding(s, b) as Rec | null | undefined;
        const p = o != null ? (o[f0] as Rec | null | undefined) : undefined;
        const v = p != null ? p[f1] : undefined;
        const t = typeof v === 'number' ? v > k : v === null ? false : undefined;
        if (t === undefined) return slow(s, l);
        if (next === null || t === decisive) return t;
        const r = next(s, l);
        return typeof r === 'boolean' ? r : slow(s, l);
      };
    case '>=':
      return (s, l) => {
        const o = scopeBinding(s, b) as Rec | null | undefined;
        const p = o != null ? (o[f0] as Rec | null | undefined) : undefined;
        const v = p != null ? p[f1] : undefined;
        const t = typeof v === 'number' ? v >= k : v === null ? false : undefined;
        if (t === undefined) return slow(s, l);
        if (next === null || t === decisive) return t;
        const r = next(s, l);
        return typeof r === 'boolean' ? r : slow(s, l);
      };
  }
}

/** `value < k` (and <=, >, >=) where `value` is any other node (`lf`): `rank("i_42") <= 3`. */
export function orderingOnValue(op: Order, lf: Fn, k: number, { next, decisive, slow }: Link): Fn {
  switch (op) {
    case '<':
      return (s, l) => {
        let v: unknown;
        try {
          v = lf(s, l);
        } catch {
          return slow(s, l);
        }
        const t = typeof v === 'number' ? v < k : v === null ? false : undefined;
        if (t === undefined) return slow(s, l);
        if (next === null || t === decisive) return t;
        const r = next(s, l);
        return typeof r === 'boolean' ? r : slow(s, l);
      };
    case '<=':
      return (s, l) => {
        let v: unknown;
        try {
          v = lf(s, l);
        } catch {
          return slow(s, l);
        }
        const t = typeof v === 'number' ? v <= k : v === null ? false : undefined;
        if (t === undefined) return slow(s, l);
        if (next === null || t === decisive) return t;
        const r = next(s, l);
        return typeof r === 'boolean' ? r : slow(s, l);
      };
    case '>':
      return (s, l) => {
        let v: unknown;
        try {
          v = lf(s, l);
        } catch {
          return slow(s, l);
        }
        const t = typeof v === 'number' ? v > k : v === null ? false : undefined;
        if (t === undefined) return slow(s, l);
        if (next === null || t === decisive) return t;
        const r = next(s, l);
        return typeof r === 'boolean' ? r : slow(s, l);
      };
    case '>=':
      return (s, l) => {
        let v: unknown;
        try {
          v = lf(s, l);
        } catch {
          return slow(s, l);
        }
        const t = typeof v === 'number' ? v >= k : v === null ? false : undefined;
        if (t === undefined) return slow(s, l);
        if (next === null || t === decisive) return t;
        const r = next(s, l);
        return typeof r === 'boolean' ? r : slow(s, l);
      };
  }
}
