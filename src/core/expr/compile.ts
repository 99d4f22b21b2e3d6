import { hasFn, indexFn, mapLiteralFn, selectFn, selectSlotFn, userField, userSelectFn } from './access';
import type { Binary, Call, Expr, Has, Index, MapLit, Method, Select } from './ast';
import { check, throwOnError } from './checker';
import type { CheckEnv } from './env';
import { ExprError } from './errors';
import { RUNTIME_HELPERS, RUNTIME_METHODS } from './helpers';
import { compileMacro } from './macros';
import { arithmetic, equality, logical, membership, notBool, ordering, orderingOnSlotField, type Ctx, type Fn, type Order } from './operators';
import { printExpr } from './print';
import { BINDINGS, type BindingName, type ExprScope, type Value } from './scope';
import { lookup } from './signatures';
import { didYouMean, suggest } from './suggest';
import { fail, typeName } from './values';

/** An expression ready to run at every stop. */
export interface CompiledExpr {
  /** Evaluates against one stop; throws a runtime `ExprError` (with positions) on failure. */
  evaluate(scope: ExprScope): Value;
  /** The expression's text. */
  readonly source: string;
  /** Bindings and scope-reading helpers it uses, in order of appearance, for stop reports. */
  readonly identifiers: readonly string[];
}

/** A compiled node and what it depends on: constant nodes are evaluated once, at compile time. */
interface Part {
  fn: Fn;
  /** Reads the stop (a binding or a scope helper), or failed to fold: never folded. */
  dynamic: boolean;
  /** Macro variable slots it reads. */
  locals: ReadonlySet<number>;
  constant?: { value: unknown };
}

const NO_LOCALS: ReadonlySet<number> = new Set();
const NO_SLOTS: unknown[] = [];

const BINDING_FNS: Record<BindingName, Fn> = {
  event: (c) => c.scope.event, user: (c) => c.scope.user, context: (c) => c.scope.context,
  candidates: (c) => c.scope.candidates, served: (c) => c.scope.served, outcome: (c) => c.scope.outcome,
  system: (c) => c.scope.system, stage: (c) => c.scope.stage, metrics: (c) => c.scope.metrics,
};

/**
 * Compiles an AST into nested closures: names, helpers and operators are resolved once here,
 * so evaluation never walks the tree or looks at strings. With `env` the checker runs first and
 * its first error is thrown (kind `check`, all diagnostics attached).
 */
export function compile(ast: Expr, env?: CheckEnv, source: string = printExpr(ast)): CompiledExpr {
  if (env !== undefined) throwOnError(check(ast, env));
  const compiler = new Compiler();
  const fn = compiler.node(ast).fn;
  const slots = compiler.slots;
  return {
    source,
    identifiers: [...compiler.identifiers],
    evaluate: (scope) => fn({ scope, locals: slots === 0 ? NO_SLOTS : new Array<unknown>(slots) }) as Value,
  };
}

class Compiler {
  slots = 0;
  readonly identifiers = new Set<string>();
  private readonly scopes: { name: string; slot: number }[] = [];

  node(e: Expr): Part {
    switch (e.type) {
      case 'literal':
        return constant(e.value);
      case 'ident': {
        const slot = this.local(e.name);
        if (slot !== undefined) return { fn: (c) => c.locals[slot], dynamic: false, locals: new Set([slot]) };
        if (!(BINDINGS as readonly string[]).includes(e.name)) {
          const known = [...BINDINGS, ...this.scopes.map((s) => s.name)];
          throw new ExprError('check', `unknown name '${e.name}'${didYouMean(suggest(e.name, known))}`, e.start, e.end);
        }
        this.identifiers.add(e.name);
        return { fn: BINDING_FNS[e.name as BindingName], dynamic: true, locals: NO_LOCALS };
      }
      case 'list': {
        const items = e.items.map((x) => this.node(x));
        const fns = items.map((p) => p.fn);
        return fold(items, (c) => fns.map((f) => f(c)));
      }
      case 'map':
        return this.map(e);
      case 'select':
        return this.select(e);
      case 'index':
        return this.index(e);
      case 'has':
        return this.has(e);
      case 'call':
        return this.call(e);
      case 'method':
        return this.method(e);
      case 'macro': {
        const target = this.node(e.target);
        const slot = this.slots++;
        this.scopes.push({ name: e.variable, slot });
        const filter = e.filter ? this.node(e.filter) : null;
        const body = this.node(e.body);
        this.scopes.pop();
        const inner = filter ? [filter, body] : [body];
        const locals = new Set([...target.locals, ...inner.flatMap((p) => [...p.locals].filter((s) => s !== slot))]);
        const dynamic = target.dynamic || inner.some((p) => p.dynamic);
        return foldWith(dynamic, locals, compileMacro(e, target.fn, slot, filter?.fn ?? null, body.fn));
      }
      case 'unary': {
        const operand = this.node(e.operand);
        const f = operand.fn;
        if (e.op === '!') {
          return fold([operand], (c) => {
            const v = f(c);
            if (typeof v === 'boolean') return !v;
            throw notBool(e.operand, v, "the operand of '!'");
          });
        }
        return fold([operand], (c) => {
          const v = f(c);
          return typeof v === 'number' ? -v : v === null ? null : fail(e, `unary '-' needs a number, got ${typeName(v)}`);
        });
      }
      case 'binary': {
        const l = this.node(e.left);
        const r = this.node(e.right);
        switch (e.op) {
          case '&&':
          case '||':
            return fold([l, r], logical(e, l.fn, r.fn));
          case '==':
          case '!=': {
            const generic = fold([l, r], equality(e, l.fn, r.fn));
            // Against a string, number, bool or null constant, deep equality is plain ===.
            const k = r.constant?.value;
            if (generic.constant || !r.constant || (k !== null && typeof k !== 'string' && typeof k !== 'number' && typeof k !== 'boolean') || Number.isNaN(k)) return generic;
            const lf = l.fn;
            return { ...generic, fn: e.op === '==' ? (c) => lf(c) === k : (c) => lf(c) !== k };
          }
          case 'in':
            return fold([l, r], membership(e, l.fn, r.fn));
          case '<':
          case '<=':
          case '>':
          case '>=':
            return this.ordering(e, l, r);
          default:
            return fold([l, r], arithmetic(e, l.fn, r.fn));
        }
      }
      case 'conditional': {
        const [t, a, b] = [this.node(e.test), this.node(e.consequent), this.node(e.alternate)];
        // A constant condition picks its branch now; the other branch is never run.
        if (t.constant?.value === true) return a;
        if (t.constant?.value === false) return b;
        const [tf, af, bf] = [t.fn, a.fn, b.fn];
        return fold([t, a, b], (c) => {
          const v = tf(c);
          if (v === true) return af(c);
          if (v === false) return bf(c);
          throw notBool(e.test, v, 'the condition of ?:');
        });
      }
    }
  }

  private ordering(e: Binary, l: Part, r: Part): Part {
    const generic = fold([l, r], ordering(e, l.fn, r.fn, r.constant ?? null));
    const k = r.constant?.value;
    const left = e.left;
    const slot = left.type === 'select' && left.target.type === 'ident' ? this.local(left.target.name) : undefined;
    if (slot === undefined || typeof k !== 'number' || left.type !== 'select' || left.field in Object.prototype) return generic;
    return { ...generic, fn: orderingOnSlotField(e.op as Order, slot, left.field, k, generic.fn) };
  }

  private local(name: string): number | undefined {
    for (let i = this.scopes.length - 1; i >= 0; i--) if (this.scopes[i]?.name === name) return this.scopes[i]?.slot;
    return undefined;
  }

  /** `user.x` falls back to `user.features.x`: the shorthand the docs promise. */
  private isUserRoot(e: Expr): boolean {
    return e.type === 'ident' && e.name === 'user' && this.local('user') === undefined;
  }

  private select(e: Select): Part {
    if (this.isUserRoot(e.target)) {
      this.identifiers.add('user');
      return { fn: userSelectFn(e), dynamic: true, locals: NO_LOCALS };
    }
    const t = e.target;
    const slot = t.type === 'ident' ? this.local(t.name) : undefined;
    if (slot !== undefined) return { fn: selectSlotFn(e, slot), dynamic: false, locals: new Set([slot]) };
    const target = this.node(t);
    const generic = fold([target], selectFn(e, target.fn));
    return this.fusedChain(e, generic) ?? generic;
  }

  /**
   * `system.latencyMs.score`: a chain of fields on a binding, read in one closure instead of one
   * per step. Anything unusual (a missing field, a non-map) takes `generic`, the nested closures,
   * which say exactly what went wrong.
   */
  private fusedChain(e: Select, generic: Part): Part | undefined {
    const fields: string[] = [];
    let t: Expr = e;
    while (t.type === 'select') {
      if (t.field in Object.prototype) return undefined;
      fields.unshift(t.field);
      t = t.target;
    }
    if (t.type !== 'ident' || fields.length < 2 || this.local(t.name) !== undefined || !Object.hasOwn(BINDING_FNS, t.name) || this.isUserRoot(t)) return undefined;
    const root = BINDING_FNS[t.name as BindingName];
    const slow = generic.fn;
    const n = fields.length;
    const fn: Fn = (c) => {
      let o: unknown = root(c);
      for (let i = 0; i < n; i++) {
        if (typeof o !== 'object' || o === null || Array.isArray(o)) return slow(c);
        const v = (o as Record<string, unknown>)[fields[i] as string];
        if (v === undefined || typeof v === 'function') return slow(c);
        o = v;
      }
      return o;
    };
    return { ...generic, fn };
  }

  private index(e: Index): Part {
    const target = this.node(e.target);
    const key = this.node(e.index);
    return fold([target, key], indexFn(e, target.fn, key.fn));
  }

  private has(e: Has): Part {
    const field = e.target.field;
    if (this.isUserRoot(e.target.target)) {
      this.identifiers.add('user');
      return { fn: (c) => userField(c.scope.user, field) !== undefined, dynamic: true, locals: NO_LOCALS };
    }
    const target = this.node(e.target.target);
    return fold([target], hasFn(e, target.fn));
  }

  private call(e: Call): Part {
    const h = lookup(RUNTIME_HELPERS, e.callee);
    if (h === undefined) {
      const hint = didYouMean(suggest(e.callee, Object.keys(RUNTIME_HELPERS)));
      throw new ExprError('check', `unknown function '${e.callee}'${hint}`, e.start, e.start + e.callee.length);
    }
    if (e.args.length < h.minArgs || e.args.length > h.maxArgs) {
      const n = h.minArgs === h.maxArgs ? `${h.minArgs}` : h.maxArgs === Infinity ? `at least ${h.minArgs}` : `${h.minArgs} or ${h.maxArgs}`;
      throw new ExprError('check', `${e.callee}() takes ${n} argument${n === '1' ? '' : 's'}, got ${e.args.length}`, e.start, e.end);
    }
    if (!h.pure) this.identifiers.add(e.callee);
    const args = e.args.map((a) => this.node(a));
    const fns = args.map((p) => p.fn);
    const [a0, a1] = fns;
    const fn: Fn =
      fns.length === 1 && a0 ? (c) => h.call(c.scope, [a0(c)], e)
      : fns.length === 2 && a0 && a1 ? (c) => h.call(c.scope, [a0(c), a1(c)], e)
      : (c) => h.call(c.scope, fns.map((f) => f(c)), e);
    return h.pure ? fold(args, fn) : foldWith(true, union(args), fn);
  }

  private method(e: Method): Part {
    const m = lookup(RUNTIME_METHODS, e.method);
    if (m === undefined) {
      const hint = didYouMean(suggest(e.method, [...Object.keys(RUNTIME_METHODS), 'exists', 'all', 'exists_one', 'filter', 'map']));
      throw new ExprError('check', `unknown method '${e.method}'${hint}`, e.methodStart, e.methodStart + e.method.length);
    }
    if (e.args.length !== m.args) {
      throw new ExprError('check', `${e.method}() takes ${m.args} argument${m.args === 1 ? '' : 's'}, got ${e.args.length}`, e.start, e.end);
    }
    const target = this.node(e.target);
    const args = e.args.map((a) => this.node(a));
    const [tf, fns] = [target.fn, args.map((p) => p.fn)];
    return fold([target, ...args], (c) => m.call(tf(c), fns.map((f) => f(c)), e));
  }

  private map(e: MapLit): Part {
    const keys = e.entries.map((en) => this.node(en.key));
    const values = e.entries.map((en) => this.node(en.value));
    return fold([...keys, ...values], mapLiteralFn(e, keys.map((p) => p.fn), values.map((p) => p.fn)));
  }
}

function constant(value: unknown): Part {
  return { fn: () => value, dynamic: false, locals: NO_LOCALS, constant: { value } };
}

function union(parts: readonly Part[]): ReadonlySet<number> {
  return parts.every((p) => p.locals.size === 0) ? NO_LOCALS : new Set(parts.flatMap((p) => [...p.locals]));
}

function fold(parts: readonly Part[], fn: Fn): Part {
  return foldWith(parts.some((p) => p.dynamic), union(parts), fn);
}

/** Evaluates a node now when it reads neither the stop nor a macro variable. */
function foldWith(dynamic: boolean, locals: ReadonlySet<number>, fn: Fn): Part {
  if (dynamic || locals.size > 0) return { fn, dynamic, locals };
  try {
    const ctx: Ctx = { scope: undefined as unknown as ExprScope, locals: [] };
    return constant(deepFreeze(fn(ctx)));
  } catch (x) {
    if (!(x instanceof ExprError)) throw x;
    // `1 / 0` stays an error at evaluation time, where the stop report can show it.
    return { fn, dynamic: true, locals };
  }
}

// Folded lists and maps are shared by every evaluation; a caller must not be able to change them.
function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}
