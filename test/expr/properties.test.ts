import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MACROS, type BinaryOp, type Expr, type MacroName, type Select } from '../../src/core/expr/ast';
import { checkExpr, completions, compileExpr, ExprError, parseExpr, printExpr } from '../../src/core/expr/index';
import { compile } from '../../src/core/expr/compile';
import type { ExprCandidate, ExprScope } from '../../src/core/expr/scope';
import { readsCandidateMaps } from '../../src/core/expr/reads';
import { env } from './fixtures';
import { refEval } from './reference';

const OPS: BinaryOp[] = ['*', '/', '%', '+', '-', '<', '<=', '>', '>=', '==', '!=', 'in', '&&', '||'];
const at = { start: 0, end: 0 };

/** The AST without positions, for comparing shapes. */
function shape(e: Expr): unknown {
  return JSON.parse(JSON.stringify(e, (k, v: unknown) => (['start', 'end', 'fieldStart', 'methodStart', 'variableStart'].includes(k) ? undefined : v)));
}

// ---- (a) print → parse round trip over arbitrary ASTs ----

const name = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,6}$/).filter((n) => !['true', 'false', 'null', 'in', 'has'].includes(n));
const fieldName = fc.oneof(name, fc.constantFrom('in', 'null', 'true', 'has', 'exists'));
const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
const anyString = fc.oneof(fc.string({ unit: 'binary', maxLength: 8 }), fc.string({ unit: loneSurrogate, maxLength: 2 }), fc.constantFrom('', '"', "'", '\\', '{', '\n'));
const number = fc.oneof(
  fc.nat({ max: 1000 }),
  fc.double({ min: 0, max: 1e300, noNaN: true, noDefaultInfinity: true }).filter((d) => !Object.is(d, -0)),
  fc.constantFrom(0.1, 1e-7, 1e21, 5e-324, 2 ** 53 + 2),
);
const literal = fc.oneof(number, anyString, fc.boolean(), fc.constant(null)).map((value): Expr => ({ type: 'literal', value, ...at }));
const ident = name.map((n): Expr => ({ type: 'ident', name: n, ...at }));

const { expr: anyExpr } = fc.letrec<{ expr: Expr; select: Select }>((tie) => {
  const sub = tie('expr');
  const args = fc.array(sub, { maxLength: 3 });
  return {
    select: fc.record({ target: sub, field: fieldName }).map(({ target, field }): Select => ({ type: 'select', target, field, fieldStart: 0, ...at })),
    expr: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      literal,
      ident,
      fc.array(sub, { maxLength: 3 }).map((items): Expr => ({ type: 'list', items, ...at })),
      // (A literal key written twice does not parse: it is a syntax error.)
      fc
        .array(fc.tuple(sub, sub), { maxLength: 3 })
        .filter((es) => {
          const keys = es.flatMap(([k]) => (k.type === 'literal' && typeof k.value === 'string' ? [k.value] : []));
          return new Set(keys).size === keys.length;
        })
        .map((es): Expr => ({ type: 'map', entries: es.map(([key, value]) => ({ key, value, ...at })), ...at })),
      tie('select'),
      fc.tuple(sub, sub).map(([target, index]): Expr => ({ type: 'index', target, index, ...at })),
      fc.tuple(name, args).map(([callee, a]): Expr => ({ type: 'call', callee, args: a, ...at })),
      fc.tuple(sub, fieldName.filter((m) => !(MACROS as readonly string[]).includes(m)), args).map(([target, method, a]): Expr => ({ type: 'method', target, method, methodStart: 0, args: a, ...at })),
      fc.tuple(sub, fc.constantFrom(...MACROS), name, sub, fc.option(sub)).map(([target, macro, variable, body, filter]): Expr => ({
        type: 'macro', target, macro: macro as MacroName, variable, variableStart: 0, body, filter: macro === 'map' ? filter : null, ...at,
      })),
      tie('select').map((target): Expr => ({ type: 'has', target: target as Select, ...at })),
      fc.tuple(fc.constantFrom('-' as const, '!' as const), sub).map(([op, operand]): Expr => ({ type: 'unary', op, operand, ...at })),
      fc.tuple(fc.constantFrom(...OPS), sub, sub).map(([op, left, right]): Expr => ({ type: 'binary', op, left, right, ...at })),
      fc.tuple(sub, sub, sub).map(([test, consequent, alternate]): Expr => ({ type: 'conditional', test, consequent, alternate, ...at })),
    ),
  };
});

test('printing any AST and parsing it back gives the same AST', () => {
  fc.assert(
    fc.property(anyExpr, (e) => {
      const text = printExpr(e);
      assert.deepEqual(shape(parseExpr(text)), shape(e), text);
    }),
    { numRuns: 1500 },
  );
});

// ---- (b) compiled evaluation equals the reference interpreter ----

const ITEMS = ['i1', 'i2', 'i3', 'i4', 'i5'];
const BINDING_NAMES = ['event', 'user', 'context', 'candidates', 'served', 'outcome', 'system', 'stage', 'metrics'];
const FIELDS = ['item', 'score', 'rank', 'recordedRank', 'prevRank', 'features', 'meta', 'ctr', 'cat', 'flag', 'id', 'segment', 'age', 'device', 'queueDepth', 'clicks', 'dwellMs', 'constructor', 'missing'];

const smallNumber = fc.oneof(fc.integer({ min: -3, max: 6 }), fc.constantFrom(0.5, -0.25, 1e-3, 2.5));
const value = fc.oneof(smallNumber, fc.constantFrom(...ITEMS, 'a', '', 'ab', 'new'), fc.boolean(), fc.constant(null));
const lit = (v: unknown): Expr => ({ type: 'literal', value: v as null, ...at });

const memo = new Map<string, fc.Arbitrary<Expr>>();
type NoSpan<T> = T extends Expr ? Omit<T, 'start' | 'end'> : never;
const node = (e: NoSpan<Expr>): Expr => ({ ...e, ...at }) as Expr;

/** Mostly well-typed numbers and conditions, so that many runs produce values rather than errors. */
function typed(depth: number, locals: readonly string[]): { num: fc.Arbitrary<Expr>; bool: fc.Arbitrary<Expr> } {
  const item = fc.constantFrom(...ITEMS, 'zz').map(lit);
  const field = (f: string): fc.Arbitrary<Expr> =>
    locals.length === 0 ? fc.constant(lit(1)) : fc.constantFrom(...locals).map((v) => node({ type: 'select', target: node({ type: 'ident', name: v }), field: f, fieldStart: 0 }));
  const numLeaf = fc.oneof(
    smallNumber.map(lit),
    fc.tuple(fc.constantFrom('score', 'rank', 'recordedRank', 'rankDelta'), item).map(([callee, a]) => node({ type: 'call', callee, args: [a] })),
    field('score'),
    field('rank'),
    // Features may be absent, so this errs on some candidates and not others: it exercises
    // the error absorption of exists/all beyond the first error.
    field('features').map((target) => node({ type: 'select', target, field: 'ctr', fieldStart: 0 })),
    fc.constantFrom('metrics', 'user').map((b) => node({ type: 'select', target: node({ type: 'ident', name: b }), field: b === 'user' ? 'age' : 'ctr', fieldStart: 0 })),
    // Paths the compiler reads in one closure (paths.ts): two fields on a binding, a field that
    // may be null, and strings where numbers are expected, so that comparisons also err.
    fc.constantFrom('system.latencyMs.score', 'event.index', 'event.id', 'system.fallback').map(parseExpr),
    field('prevRank'),
    field('item'),
  );
  // Equality against a constant of any type, on paths whose values vary with the stop.
  const strLeaf = fc.oneof(fc.constantFrom('user.segment', 'event.id', 'stage', 'user.id', 'event.missing').map(parseExpr), field('item'), field('features').map((target) => node({ type: 'select', target, field: 'cat', fieldStart: 0 })));
  const eqConst = fc.tuple(fc.constantFrom<BinaryOp>('==', '!='), strLeaf, fc.constantFrom<unknown>('new', 'old', 'e1', 'u1', 'a', 'i1', null, 3, true).map(lit)).map(([op, left, right]) => node({ type: 'binary', op, left, right }));
  const cmp = (n: fc.Arbitrary<Expr>): fc.Arbitrary<Expr> =>
    fc.tuple(fc.constantFrom<BinaryOp>('<', '<=', '>', '>=', '==', '!='), n, n).map(([op, left, right]) => node({ type: 'binary', op, left, right }));
  if (depth === 0) return { num: numLeaf, bool: fc.oneof(cmp(numLeaf), eqConst) };
  const inner = typed(depth - 1, locals);
  const num = fc.oneof(numLeaf, fc.tuple(fc.constantFrom<BinaryOp>('+', '-', '*', '/'), inner.num, inner.num).map(([op, left, right]) => node({ type: 'binary', op, left, right })));
  const withX = typed(depth - 1, [...new Set([...locals, 'x'])].sort());
  const bool = fc.oneof(
    cmp(num),
    eqConst,
    fc.tuple(fc.constantFrom<BinaryOp>('&&', '||'), inner.bool, inner.bool).map(([op, left, right]) => node({ type: 'binary', op, left, right })),
    inner.bool.map((operand) => node({ type: 'unary', op: '!', operand })),
    item.map((left) => node({ type: 'binary', op: 'in', left, right: node({ type: 'ident', name: 'served' }) })),
    fc.tuple(fc.constantFrom<MacroName>('exists', 'all', 'exists_one'), withX.bool).map(([macro, body]) =>
      node({ type: 'macro', macro, target: node({ type: 'ident', name: 'candidates' }), variable: 'x', variableStart: 0, filter: null, body }),
    ),
  );
  return { num, bool };
}
/** Expressions that only use names in scope (so compile-time name errors cannot differ). */
function gen(depth: number, locals: readonly string[]): fc.Arbitrary<Expr> {
  const key = `${depth}:${locals.join()}`;
  const hit = memo.get(key);
  if (hit) return hit;
  const names = [...BINDING_NAMES, ...locals, ...locals, ...locals];
  const leaf = fc.oneof(value.map(lit), fc.constantFrom(...names).map((n): Expr => ({ type: 'ident', name: n, ...at })));
  if (depth === 0) return leaf;
  const sub = gen(depth - 1, locals);
  const item = fc.oneof(fc.constantFrom(...ITEMS, 'zz').map(lit), sub);
  const select = fc.tuple(sub, fc.constantFrom(...FIELDS)).map(([target, field]): Select => ({ type: 'select', target, field, fieldStart: 0, ...at }));
  const call = (callee: string, ...a: fc.Arbitrary<Expr>[]): fc.Arbitrary<Expr> => fc.tuple(...a).map((args): Expr => ({ type: 'call', callee, args, ...at }));
  const macro = fc.tuple(fc.constantFrom(...MACROS), fc.constantFrom('x', 'y')).chain(([m, v]) => {
    const inner = gen(depth - 1, [...new Set([...locals, v])].sort());
    return fc.tuple(sub, inner, fc.option(inner)).map(([target, body, filter]): Expr => ({
      type: 'macro', target, macro: m, variable: v, variableStart: 0, body, filter: m === 'map' ? filter : null, ...at,
    }));
  });
  const { num, bool } = typed(Math.min(depth, 2), locals);
  const arb = fc.oneof(
    { depthSize: 'small' },
    { weight: 4, arbitrary: num },
    { weight: 4, arbitrary: bool },
    leaf,
    select,
    select.map((target): Expr => ({ type: 'has', target, ...at })),
    fc.tuple(sub, fc.oneof(sub, fc.constantFrom(0, 1, 'ctr', 'i1').map(lit))).map(([target, index]): Expr => ({ type: 'index', target, index, ...at })),
    fc.array(sub, { maxLength: 3 }).map((items): Expr => ({ type: 'list', items, ...at })),
    fc.array(fc.tuple(fc.oneof(fc.constantFrom('a', 'b').map(lit), sub), sub), { maxLength: 2 }).map((es): Expr => ({ type: 'map', entries: es.map(([k, v]) => ({ key: k, value: v, ...at })), ...at })),
    fc.oneof(...['score', 'rank', 'recordedRank', 'rankDelta'].map((h) => call(h, item)), call('topk', sub), call('feature', item, fc.oneof(fc.constantFrom('ctr', 'cat', 'nope').map(lit), sub))),
    fc.oneof(call('age', fc.constantFrom('ctr', 'cat').map(lit)), call('age', item, fc.constant(lit('ctr'))), ...['size', 'int', 'double', 'string', 'abs'].map((h) => call(h, sub))),
    fc.tuple(fc.constantFrom('min', 'max'), fc.array(sub, { minLength: 1, maxLength: 3 })).map(([callee, args]): Expr => ({ type: 'call', callee, args, ...at })),
    sub.map((target): Expr => ({ type: 'method', target, method: 'size', methodStart: 0, args: [], ...at })),
    fc.tuple(sub, fc.constantFrom('startsWith', 'endsWith', 'contains'), sub).map(([target, method, a]): Expr => ({ type: 'method', target, method, methodStart: 0, args: [a], ...at })),
    macro,
    fc.tuple(fc.constantFrom('-' as const, '!' as const), sub).map(([op, operand]): Expr => ({ type: 'unary', op, operand, ...at })),
    fc.tuple(fc.constantFrom(...OPS), sub, sub).map(([op, left, right]): Expr => ({ type: 'binary', op, left, right, ...at })),
    fc.tuple(fc.constantFrom(...OPS), sub, sub).map(([op, left, right]): Expr => ({ type: 'binary', op, left, right, ...at })),
    fc.tuple(sub, sub, sub).map(([test, consequent, alternate]): Expr => ({ type: 'conditional', test, consequent, alternate, ...at })),
  );
  memo.set(key, arb);
  return arb;
}

const candidateArb = (item: string, rank: number, recordedRank: number): fc.Arbitrary<ExprCandidate> =>
  fc.record({
    score: fc.oneof(smallNumber, fc.double({ min: -1, max: 2, noNaN: true })),
    prevRank: fc.option(fc.nat({ max: 5 })),
    features: fc.record({ ctr: fc.option(smallNumber), cat: fc.constantFrom('a', 'b'), flag: fc.boolean() }, { requiredKeys: [] }),
  }).map((r) => ({ item, rank, recordedRank, meta: { src: 'x' }, ...r }));

const scopeArb: fc.Arbitrary<ExprScope> = fc
  .uniqueArray(fc.constantFrom(...ITEMS), { maxLength: 5 })
  .chain((items) => {
    const ranks = items.map((_, i) => i + 1);
    return fc.tuple(fc.shuffledSubarray(ranks, { minLength: items.length }), fc.shuffledSubarray(ranks, { minLength: items.length })).chain(([r, rr]) =>
      // Stops before rerank (about one in four) have no replayed ranks: every rank is null.
      fc.tuple(fc.nat({ max: 3 }), ...items.map((it, i) => candidateArb(it, r[i] ?? 1, rr[i] ?? 1))).map(([stage, ...cs]) => (stage === 0 ? cs.map((c) => ({ ...c, rank: null })) : cs)),
    );
  })
  .chain((candidates) =>
    fc.record({
      served: fc.subarray(ITEMS),
      segment: fc.constantFrom('new', 'old'),
      age: fc.option(fc.nat({ max: 90 })),
      ctr: smallNumber,
      stage: fc.constantFrom('score', 'rerank'),
    }).map((r): ExprScope => ({
      event: { id: 'e1', index: 3, user: 'u1' },
      user: { id: 'u1', segment: r.segment, features: { age: r.age, ctr: 0.5 } },
      context: { device: 'ios' },
      candidates,
      served: r.served,
      outcome: { clicks: r.served.slice(0, 1), dwellMs: { i1: 100 } },
      system: { queueDepth: 4, fallback: false, latencyMs: { score: 20 } },
      stage: r.stage,
      metrics: { ctr: r.ctr, 'hit_rate@10': 0.5 },
      featureAge: (n, item) => (n === 'ctr' ? (item === undefined ? 50 : item.length * 100) : null),
    })),
  );

type Outcome = { ok: true; value: unknown } | { ok: false };
function run(f: () => unknown): Outcome {
  try {
    return { ok: true, value: f() };
  } catch (e) {
    if (e instanceof Error && e.constructor.name !== 'AssertionError') return { ok: false };
    throw e;
  }
}

test('compiled evaluation agrees with the reference interpreter on generated expressions and stops', () => {
  let values = 0;
  let errors = 0;
  fc.assert(
    fc.property(gen(4, []), scopeArb, (e, scope) => {
      const compiled = run(() => compile(e).evaluate(scope));
      if (!compiled.ok) {
        // Every failure is an ExprError; anything else would be a bug in the compiler.
        try { compile(e).evaluate(scope); } catch (x) { assert.ok(x instanceof ExprError, String(x)); }
      }
      const expected = run(() => refEval(e, scope));
      assert.deepEqual(compiled, expected, printExpr(e));
      if (compiled.ok) values++;
      else errors++;
    }),
    { numRuns: 6000 },
  );
  // A generator that only produced errors (or never did) would make this test unable to fail.
  assert.ok(values > 1800 && errors > 600, `values ${values}, errors ${errors}`);
});

test('an expression said not to read candidate maps gives the same result without them', () => {
  let light = 0;
  let full = 0;
  fc.assert(
    fc.property(gen(4, []), scopeArb, (e, scope) => {
      if (readsCandidateMaps(e)) {
        full++;
        return;
      }
      light++;
      const bare: ExprScope = { ...scope, candidates: scope.candidates.map((c) => ({ ...c, features: {}, meta: {} })) };
      assert.deepEqual(run(() => compile(e).evaluate(bare)), run(() => compile(e).evaluate(scope)), printExpr(e));
    }),
    { numRuns: 3000 },
  );
  // About nine in ten generated expressions are light; both kinds must be well represented.
  assert.ok(light > 1500 && full > 150, `light ${light}, full ${full}`);
});

test('candidate maps: field reads of scalars are light; maps, whole candidates, filters and indexing are not', () => {
  const reads = (t: string) => readsCandidateMaps(parseExpr(t));
  for (const t of ['candidates.exists(c, c.rank == 1 && c.score > 0.9)', 'size(candidates.filter(c, c.score > 0).map(d, d.item)) > 0', 'candidates.filter(c, c.rank < 3).exists(d, d.prevRank == null)', 'served.exists(c, c == "i1")', 'user.features.ctr > 0', 'score("i1") > 0.5', 'age("ctr", "i1") > 1']) {
    assert.equal(reads(t), false, t);
  }
  for (const t of ['candidates.exists(c, c.features.ctr > 0.1)', 'candidates.exists(c, has(c.meta.cat))', 'candidates', 'candidates.filter(c, c.score > 0)', 'candidates.map(c, c)', 'candidates[0].score > 0', 'size(candidates) > 0', 'candidates.exists(c, c == c)', 'candidates.exists(c, c.nope == 1)', 'feature("i1", "ctr") > 0']) {
    assert.equal(reads(t), true, t);
  }
});

test('the checker and completions never throw, whatever the text', () => {
  const text = fc.oneof(anyExpr.map(printExpr), fc.string({ maxLength: 30 }), fc.stringMatching(/^[a-z_."(), [\]<>=!&|0-9]{0,30}$/));
  fc.assert(
    fc.property(text, fc.nat(), (t, n) => {
      checkExpr(t, env);
      completions(t, n % (t.length + 1), env);
      try {
        compileExpr(t, env);
      } catch (x) {
        assert.ok(x instanceof ExprError, String(x));
      }
    }),
    { numRuns: 1500 },
  );
});

test('completions replace a range around the cursor (it may run on to the end of the word), at every cursor position', () => {
  // Quotes, raw and bytes prefixes and names around them, so that a string may open at any cursor.
  const piece = fc.constantFrom('r', 'R', 'b', '"', "'", 'r"', "R'", 'score(', 'rank', ')', '"i_4', 'x', ' ', '.', 'candidates', '\\', '//', '{', '}', '[');
  fc.assert(
    fc.property(fc.array(piece, { maxLength: 8 }), (pieces) => {
      const text = pieces.join('');
      for (let o = 0; o <= text.length; o++) {
        const c = completions(text, o, env);
        assert.ok(c.from >= 0 && c.from <= o && o <= c.to && c.to <= text.length, `${JSON.stringify(text)} at ${o}: ${c.from}..${c.to}`);
        for (const it of c.items) assert.ok((it.from ?? c.from) <= o, `${JSON.stringify(text)} at ${o}: ${it.label} from ${it.from}`);
      }
    }),
    { numRuns: 400, seed: 20261206 },
  );
});
