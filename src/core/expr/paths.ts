import type { Fn } from './operators';
import type { BindingName, ExprScope } from './scope';

// Field paths read in one closure: `system.latencyMs.score`, `c.features.ctr`. See links.ts for
// why the reads are written out in each closure literal. The compiler only builds paths of
// fields that neither Object.prototype nor Array.prototype has (plainField in compile.ts), which
// makes the cheap reads below exact: on the JSON-like values of a stop (maps, lists, strings,
// numbers, bools, null; never a function), `x[f]` is x's own field when x is a map, and otherwise
// undefined or a prototype method, both of which take `slow`. A read on a read (`a.b.c`) also
// checks that the middle value is an object: a method there (`stage.big.name`) has fields.

/** Where a field path starts: a macro variable's slot, or a binding (its case in scopeBinding). */
export type PathRoot = { slot: number } | { binding: number };

// The cases of scopeBinding, in order.
const ROOTS: readonly BindingName[] = ['event', 'user', 'context', 'candidates', 'served', 'outcome', 'system', 'stage', 'metrics'];

/** The root of a path that starts at binding `name`. */
export function bindingRoot(name: BindingName): PathRoot {
  return { binding: ROOTS.indexOf(name) };
}

/**
 * Binding `b` of a stop. A switch rather than a closure per binding: inlined into a fused
 * closure, each case is a monomorphic read of the scope where a call would be megamorphic.
 */
export function scopeBinding(s: ExprScope, b: number): unknown {
  switch (b) {
    case 0: return s.event;
    case 1: return s.user;
    case 2: return s.context;
    case 3: return s.candidates;
    case 4: return s.served;
    case 5: return s.outcome;
    case 6: return s.system;
    case 7: return s.stage;
    default: return s.metrics;
  }
}

/** A map, or what a path step reads a field of. */
export type Rec = Record<string, unknown>;

const isMap = (o: unknown): o is Rec => typeof o === 'object' && o !== null && !Array.isArray(o);

/** `root.f1.f2…` in one closure, or `slow` when any step is not a map holding the field. */
export function pathFn(root: PathRoot, fields: readonly string[], slow: Fn): Fn {
  const [f0 = '', f1 = ''] = fields;
  const n = fields.length;
  if ('slot' in root) {
    const slot = root.slot;
    if (n === 1) {
      return (s, l) => {
        const o = l[slot] as Rec | null | undefined;
        const v = o != null ? o[f0] : undefined;
        return v !== undefined && typeof v !== 'function' ? v : slow(s, l);
      };
    }
    if (n === 2) {
      return (s, l) => {
        const o = l[slot] as Rec | null | undefined;
        const p = o != null ? o[f0] : undefined;
        const v = typeof p === 'object' && p !== null ? (p as Rec)[f1] : undefined;
        return v !== undefined && typeof v !== 'function' ? v : slow(s, l);
      };
    }
    return (s, l) => {
      const v = walk(l[slot], fields);
      return v !== undefined ? v : slow(s, l);
    };
  }
  const b = root.binding;
  if (n === 1) {
    return (s, l) => {
      const o = scopeBinding(s, b) as Rec | null | undefined;
      const v = o != null ? o[f0] : undefined;
      return v !== undefined && typeof v !== 'function' ? v : slow(s, l);
    };
  }
  if (n === 2) {
    return (s, l) => {
      const o = scopeBinding(s, b) as Rec | null | undefined;
      const p = o != null ? o[f0] : undefined;
      const v = typeof p === 'object' && p !== null ? (p as Rec)[f1] : undefined;
      return v !== undefined && typeof v !== 'function' ? v : slow(s, l);
    };
  }
  return (s, l) => {
    const v = walk(scopeBinding(s, b), fields);
    return v !== undefined ? v : slow(s, l);
  };
}

/** Longer paths: the field at the end of `fields`, or undefined. */
function walk(o: unknown, fields: readonly string[]): unknown {
  for (const f of fields) o = isMap(o) ? o[f] : undefined;
  return typeof o === 'function' ? undefined : o;
}
