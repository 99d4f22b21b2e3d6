import type { Has, Index, MapLit, Select } from './ast';
import type { Fn } from './operators';
import { printExpr } from './print';
import { didYouMean, suggest } from './suggest';
import { clip, fail, failLazy, isMap, mapKeys, ownField, typeName } from './values';
import { charge } from './budget';

// Field reads are the hot path of every condition, so each shape gets its own closure: one
// typeof test, one property read. Names that Object.prototype also has ("constructor") take the
// own-property path so that no expression can reach JavaScript internals.

// A key can be text an expression built, of any length: messages quote its start.
const KEY_SHOWN = 60;

function missing(e: Select, o: unknown): never {
  const field = () => clip(e.field, KEY_SHOWN);
  const desc = () => clip(printExpr(e.target));
  if (!isMap(o)) return failLazy(e, () => `cannot read field '${field()}' of ${typeName(o)} (${desc()} is ${typeName(o)})`);
  return failLazy(e, () => `no field '${field()}' in ${desc()}${didYouMean(suggest(e.field, mapKeys(o)))}`);
}

/** `target.field` where the target is computed by `tf`. */
export function selectFn(e: Select, tf: Fn): Fn {
  const field = e.field;
  if (field in Object.prototype) return (s, l) => ownOrMissing(e, tf(s, l));
  return (s, l) => {
    const o = tf(s, l);
    if (typeof o === 'object' && o !== null && !Array.isArray(o)) {
      const v = (o as Record<string, unknown>)[field];
      if (v !== undefined && typeof v !== 'function') return v;
    }
    return missing(e, o);
  };
}

/** `x.field` where `x` is a macro variable: `c.score` inside `candidates.exists(c, …)`. */
export function selectSlotFn(e: Select, slot: number): Fn {
  const field = e.field;
  if (field in Object.prototype) return (_s, l) => ownOrMissing(e, l[slot]);
  return (_s, l) => {
    const o = l[slot];
    if (typeof o === 'object' && o !== null && !Array.isArray(o)) {
      const v = (o as Record<string, unknown>)[field];
      if (v !== undefined && typeof v !== 'function') return v;
    }
    return missing(e, o);
  };
}

function ownOrMissing(e: Select, o: unknown): unknown {
  const v = isMap(o) ? ownField(o, e.field) : undefined;
  return v !== undefined && typeof v !== 'function' ? v : missing(e, o);
}

/** A field of the user, falling back to `user.features`: `user.ctr` is `user.features.ctr`. */
export function userField(user: Record<string, unknown>, field: string): unknown {
  const own = ownField(user, field);
  if (own !== undefined && typeof own !== 'function') return own;
  const features = ownField(user, 'features');
  const f = isMap(features) ? ownField(features, field) : undefined;
  return typeof f === 'function' ? undefined : f;
}

/** `user.field` with the feature shorthand. */
export function userSelectFn(e: Select): Fn {
  const field = e.field;
  const slow = (u: Record<string, unknown>): unknown => {
    const v = userField(u, field);
    return v !== undefined ? v : fail(e, `no field or feature '${field}' in user`);
  };
  if (field in Object.prototype) return (s) => slow(s.user);
  // A plain read finds the user's own field, as in selectFn; the features fallback is the slow path.
  return (s) => {
    const u = s.user;
    const v = u[field];
    return v !== undefined && typeof v !== 'function' ? v : slow(u);
  };
}

/** `list[i]` and `map[key]`. */
export function indexFn(e: Index, tf: Fn, kf: Fn): Fn {
  const desc = clip(printExpr(e.target));
  return (s, l) => {
    const o = tf(s, l);
    const k = kf(s, l);
    if (Array.isArray(o)) {
      if (typeof k !== 'number' || !Number.isInteger(k)) return fail(e.index, `a list index must be a whole number, got ${typeName(k)} ${String(k)}`);
      if (k < 0 || k >= o.length) return fail(e, `index ${k} is out of range for ${desc} (size ${o.length})`);
      return o[k] as unknown;
    }
    if (!isMap(o)) return fail(e.target, `cannot index ${desc}: it is ${typeName(o)}, not a list or map`);
    if (typeof k !== 'string') return fail(e.index, `a map key must be a string, got ${typeName(k)}`);
    const v = ownField(o, k);
    if (v !== undefined && typeof v !== 'function') return v;
    return failLazy(e, () => `no key ${JSON.stringify(clip(k, KEY_SHOWN))} in ${desc}${didYouMean(suggest(k, mapKeys(o)))}`);
  };
}

/** `has(target.field)`: a presence test on a map (null or a list is an error, as in CEL). */
export function hasFn(e: Has, tf: Fn): Fn {
  const field = e.target.field;
  const desc = clip(printExpr(e.target.target));
  return (s, l) => {
    const o = tf(s, l);
    if (!isMap(o)) return fail(e.target.target, `has() needs a map, but ${desc} is ${typeName(o)}`);
    const v = ownField(o, field);
    return v !== undefined && typeof v !== 'function';
  };
}

/** A map literal; keys are strings and unique. */
export function mapLiteralFn(e: MapLit, kf: readonly Fn[], vf: readonly Fn[]): Fn {
  return (s, l) => {
    // Charged by its entries, as a list literal is by its elements (see compile.ts).
    charge(kf.length, e, 'a map literal');
    const out: Record<string, unknown> = {};
    for (let i = 0; i < kf.length; i++) {
      const k = (kf[i] as Fn)(s, l);
      const at = e.entries[i]?.key ?? e;
      if (typeof k !== 'string') fail(at, `map keys must be strings, got ${typeName(k)}`);
      if (Object.hasOwn(out, k)) fail(at, `duplicate key ${JSON.stringify(k)} in a map`);
      // defineProperty so that a "__proto__" key stays data instead of replacing the prototype.
      Object.defineProperty(out, k, { value: (vf[i] as Fn)(s, l), enumerable: true, writable: true, configurable: true });
    }
    return out;
  };
}
