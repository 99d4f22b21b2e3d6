import { hasFn, indexFn, mapLiteralFn, selectFn, selectSlotFn, userField, userSelectFn } from './access';
import type { Binary, Call, Expr, Has, Index, MapLit, Method, Select } from './ast';
import { readsCandidateMaps } from './reads';
import { check, throwOnError } from './checker';
import type { CheckEnv } from './env';
import { ExprError, WorkLimitError } from './errors';
import { RUNTIME_HELPERS, RUNTIME_METHODS } from './helpers';
import { MAX_MACRO_STEPS, compileMacro, work } from './macros';
import { charge } from './budget';
import { equalityOnPath, equalityOnValue, orderingOnPath, orderingOnValue, type Place } from './links';
import { bindingRoot, pathFn, type PathRoot } from './paths';
import { arithmetic, equality, logical, membership, notBool, orderOthers, ordering, type Fn, type Order } from './operators';
import { printExpr } from './print';
import { BINDINGS, type BindingName, type ExprScope, type Value } from './scope';
import { lookup } from './signatures';
import { didYouMean, suggest } from './suggest';
import { clip, fail, typeName } from './values';

/** An expression ready to run at every stop. */
export interface CompiledExpr {
  /** Evaluates against one stop; throws a runtime `ExprError` (with positions) on failure. */
  evaluate(scope: ExprScope): Value;
  /** The expression's text. */
  readonly source: string;
  /** Bindings and scope-reading helpers it uses, in order of appearance, for stop reports. */
  readonly identifiers: readonly string[];
  /** Whether it may read candidates' feature or meta maps (see readsCandidateMaps); a scope may skip them when not. */
  readonly readsCandidateMaps: boolean;
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
// The budget's counter read through a module-local alias: under a CommonJS transform (tsx, the
// tests and benches) every use of an import is a read through the other module's exports getter,
// which tripled the cost of a condition such as `user.id != "x"` (see links.ts).
const budgetLeft = work;

const BINDING_FNS: Record<BindingName, Fn> = {
  event: (s) => s.event, user: (s) => s.user, context: (s) => s.context,
  candidates: (s) => s.candidates, served: (s) => s.served, outcome: (s) => s.outcome,
  system: (s) => s.system, stage: (s) => s.stage, metrics: (s) => s.metrics,
};

/**
 * Compiles an AST into nested closures: names, helpers and operators are resolved once here,
 * so evaluation never walks the tree or looks at strings. With `env` the checker runs first and
 * its first error is thrown (kind `check`, all diagnostics attached).
 */
export function compile(ast: Expr, env?: CheckEnv, source: string = printExpr(ast)): CompiledExpr {
  if (env !== undefined) throwOnError(check(ast, env));
  // Folding spends the expression's budget, as evaluating would: what the folded parts cost is
  // taken from every evaluation's budget (see foldWith), so folding changes no verdict, and a
  // condition of constants cannot build more at compile time than an evaluation may (a fresh
  // budget per folded part let one exhaust the process's memory).
  work.left = MAX_MACRO_STEPS;
  folding.exhausted = false;
  folding.spent = 0;
  const compiler = new Compiler();
  const fn = compiler.node(ast).fn;
  const budget = MAX_MACRO_STEPS - folding.spent;
  const slots = compiler.slots;
  return {
    source,
    identifiers: [...compiler.identifiers],
    readsCandidateMaps: readsCandidateMaps(ast),
    // One function literal for every expression, so that a caller's call site stays monomorphic.
    // Fresh slots per evaluation keep it re-entrant; without macros there are none to allocate.
    evaluate: (scope) => {
      budgetLeft.left = budget;
      budgetLeft.evaluation++;
      return fn(scope, slots === 0 ? NO_SLOTS : new Array<unknown>(slots)) as Value;
    },
  };
}

class Compiler {
  slots = 0;
  readonly identifiers = new Set<string>();
  private readonly scopes: { name: string; slot: number }[] = [];
  /** Compiled nodes, for the last operand of a chain of `&&` or `||`. */
  private readonly parts = new Map<Expr, Part>();
  /** Comparisons against a constant, which can also be built as links of such a chain. */
  private readonly tests = new Map<Expr, (place: Place) => Fn>();

  node(e: Expr): Part {
    const p = this.compileNode(e);
    this.parts.set(e, p);
    return p;
  }

  private compileNode(e: Expr): Part {
    switch (e.type) {
      case 'literal':
        return constant(e.value);
      case 'ident': {
        const slot = this.local(e.name);
        if (slot !== undefined) return { fn: (_s, l) => l[slot], dynamic: false, locals: new Set([slot]) };
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
        // Charged by its length: built per element of nested macros, a literal of a thousand
        // elements made a 6 KB condition run for 13 s within the budget (or fill the heap under map).
        return fold(items, (s, l) => {
          charge(fns.length, e, 'a list literal');
          return fns.map((f) => f(s, l));
        });
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
          return fold([operand], (s, l) => {
            const v = f(s, l);
            if (typeof v === 'boolean') return !v;
            throw notBool(e.operand, v, "the operand of '!'");
          });
        }
        return fold([operand], (s, l) => {
          const v = f(s, l);
          return typeof v === 'number' ? -v : v === null ? null : fail(e, `unary '-' needs a number, got ${typeName(v)}`);
        });
      }
      case 'binary': {
        const l = this.node(e.left);
        const r = this.node(e.right);
        switch (e.op) {
          case '&&':
          case '||':
            return this.chain(e, fold([l, r], logical(e, l.fn, r.fn)));
          case '==':
          case '!=':
            return this.equality(e, l, r);
          case 'in': {
            const generic = fold([l, r], membership(e, l.fn, r.fn));
            if (!this.isUserRoot(e.right)) return generic;
            // `"age" in user` as `user.age` reads it: a user field, or a user feature.
            const lf = l.fn;
            return { ...generic, fn: (sc, loc) => { const k = lf(sc, loc); return typeof k === 'string' ? userField(sc.user, k) !== undefined : generic.fn(sc, loc); } };
          }
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
        return fold([t, a, b], (s, l) => {
          const v = tf(s, l);
          if (v === true) return af(s, l);
          if (v === false) return bf(s, l);
          throw notBool(e.test, v, 'the condition of ?:');
        });
      }
    }
  }

  /**
   * `a && b && c` (or `||`) where every operand but the last is a comparison against a constant:
   * each comparison calls the next one itself (links.ts). `generic`, the nested closures of the
   * whole chain, is the chain otherwise.
   */
  private chain(e: Binary, generic: Part): Part {
    if (generic.constant) return generic;
    const operands = (x: Expr): Expr[] => (x.type === 'binary' && x.op === e.op ? [...operands(x.left), ...operands(x.right)] : [x]);
    const xs = operands(e);
    const lastExpr = xs[xs.length - 1] as Expr;
    const last = this.parts.get(lastExpr);
    if (last === undefined) return generic;
    let fn = last.fn;
    for (let i = xs.length - 2; i >= 0; i--) {
      const test = this.tests.get(xs[i] as Expr);
      if (test === undefined) return generic;
      fn = test({ next: fn, decisive: e.op === '||', last: lastExpr });
    }
    return { ...generic, fn };
  }

  private equality(e: Binary, l: Part, r: Part): Part {
    const generic = fold([l, r], equality(e, l.fn, r.fn));
    // Against a string, number, bool or null constant, deep equality is plain ===.
    const k = r.constant?.value;
    if (generic.constant || !r.constant || (k !== null && typeof k !== 'string' && typeof k !== 'number' && typeof k !== 'boolean') || Number.isNaN(k)) return generic;
    const negate = e.op === '!=';
    const path = this.path(e.left);
    const [lf, own] = [l.fn, generic.fn];
    const test = (place: Place): Fn => {
      const link = { ...place, own };
      return (path && equalityOnPath(negate, path.root, path.fields, k, link)) || equalityOnValue(negate, lf, k, link);
    };
    this.tests.set(e, test);
    return { ...generic, fn: test({ next: null, decisive: false, last: e }) };
  }

  private ordering(e: Binary, l: Part, r: Part): Part {
    const generic = fold([l, r], ordering(e, l.fn, r.fn, r.constant ?? null));
    const k = r.constant?.value;
    if (generic.constant || typeof k !== 'number') return generic;
    const op = e.op as Order;
    const path = this.path(e.left);
    const [lf, own, others] = [l.fn, generic.fn, orderOthers(e)];
    const unordered = (v: unknown): boolean => others(v, k);
    const test = (place: Place): Fn => {
      const link = { ...place, own };
      return (path && orderingOnPath(op, path.root, path.fields, k, link)) || orderingOnValue(op, lf, k, link, unordered);
    };
    this.tests.set(e, test);
    return { ...generic, fn: test({ next: null, decisive: false, last: e }) };
  }

  /**
   * `c.features.ctr`, `system.latencyMs.score`: a chain of plain fields on a macro variable or a
   * binding, which the closures of paths.ts and links.ts read directly. `user` counts: its feature shorthand
   * is the slow path.
   */
  private path(e: Expr): { root: PathRoot; fields: string[] } | undefined {
    const fields: string[] = [];
    let t: Expr = e;
    while (t.type === 'select') {
      if (!plainField(t.field)) return undefined;
      fields.unshift(t.field);
      t = t.target;
    }
    if (t.type !== 'ident' || fields.length === 0) return undefined;
    const slot = this.local(t.name);
    if (slot !== undefined) return { root: { slot }, fields };
    return Object.hasOwn(BINDING_FNS, t.name) ? { root: bindingRoot(t.name as BindingName), fields } : undefined;
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
    // A chain of fields in one closure instead of one per step; anything unusual (a missing
    // field, a non-map) takes `generic`, the nested closures, which say exactly what went wrong.
    const path = this.path(e);
    return path ? { ...generic, fn: pathFn(path.root, path.fields, generic.fn) } : generic;
  }

  private index(e: Index): Part {
    const target = this.node(e.target);
    const key = this.node(e.index);
    const generic = fold([target, key], indexFn(e, target.fn, key.fn));
    if (!this.isUserRoot(e.target)) return generic;
    // `user["age"]` as `user.age` reads it (the checker accepted it, and evaluation said no key).
    const kf = key.fn;
    return {
      ...generic,
      fn: (sc, loc) => {
        const k = kf(sc, loc);
        if (typeof k !== 'string') return generic.fn(sc, loc);
        const v = userField(sc.user, k);
        return v !== undefined ? v : fail(e, `no field or feature ${JSON.stringify(clip(k, 60))} in user`);
      },
    };
  }

  private has(e: Has): Part {
    const field = e.target.field;
    if (this.isUserRoot(e.target.target)) {
      this.identifiers.add('user');
      return { fn: (s) => userField(s.user, field) !== undefined, dynamic: true, locals: NO_LOCALS };
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
      throw new ExprError('check', `${e.callee}() takes ${n} argument${/(^| )1$/.test(n) ? '' : 's'}, got ${e.args.length}`, e.start, e.end);
    }
    if (!h.pure) this.identifiers.add(e.callee);
    const args = e.args.map((a) => this.node(a));
    const fns = args.map((p) => p.fn);
    const [a0, a1] = fns;
    const fn: Fn =
      fns.length === 1 && a0 ? (s, l) => h.call(s, [a0(s, l)], e)
      : fns.length === 2 && a0 && a1 ? (s, l) => h.call(s, [a0(s, l), a1(s, l)], e)
      : (s, l) => h.call(s, fns.map((f) => f(s, l)), e);
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
    return fold([target, ...args], (s, l) => m.call(tf(s, l), fns.map((f) => f(s, l)), e));
  }

  private map(e: MapLit): Part {
    const keys = e.entries.map((en) => this.node(en.key));
    const values = e.entries.map((en) => this.node(en.value));
    return fold([...keys, ...values], mapLiteralFn(e, keys.map((p) => p.fn), values.map((p) => p.fn)));
  }
}

/** A field name that a plain property read cannot confuse with JavaScript internals of a map or a list. */
function plainField(name: string): boolean {
  return !(name in Object.prototype) && !(name in Array.prototype);
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

/**
 * Folding in the expression being compiled (see compile): whether it ran out of the budget, and
 * what the parts it folded spent (what a part that failed spent is spent again when it is evaluated).
 */
const folding = { exhausted: false, spent: 0 };

/** Evaluates a node now when it reads neither the stop nor a macro variable. */
function foldWith(dynamic: boolean, locals: ReadonlySet<number>, fn: Fn): Part {
  if (dynamic || locals.size > 0) return { fn, dynamic, locals };
  // Out of budget: nothing more is folded (each try would spend what is left again); evaluation,
  // whose budget is then spent too, stops with the budget's error.
  if (folding.exhausted) return { fn, dynamic: true, locals };
  const before = work.left;
  try {
    // From the expression's one budget (see compile).
    const value = deepFreeze(fn(undefined as unknown as ExprScope, []));
    folding.spent += before - work.left;
    return constant(value);
  } catch (x) {
    if (!(x instanceof ExprError)) throw x;
    if (x instanceof WorkLimitError) folding.exhausted = true;
    // What a part that failed (`1 / 0`) spent is not given back to folding (many such parts could
    // each spend the rest again), but neither is it taken from evaluation, which redoes it.
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
