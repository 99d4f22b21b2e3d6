// The fused closures of paths.ts and links.ts (field paths, comparisons against a constant and
// chains of them) must give exactly what the ordinary closures give: the same values, the same
// errors with the same messages and columns. Each case is also checked against the reference
// interpreter, so a fast path that agrees with a wrong expectation still fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileExpr, ExprError, parseExpr } from '../../src/core/expr/index';
import type { ExprScope, Value } from '../../src/core/expr/index';
import { makeScope } from './fixtures';
import { refEval } from './reference';

const base = makeScope();
// Odd values the fast paths must not misread: null, a list and a function where a map is expected.
const scope = makeScope({
  event: { ...base.event, nul: null, list: [1], flag: true, deep: { a: { b: { c: 7 } } }, fn: () => 1 },
});

/** Evaluates and checks the result against the reference interpreter. */
function ev(text: string, s: ExprScope = scope): Value {
  const value = compileExpr(text).evaluate(s);
  assert.deepEqual(value, refEval(parseExpr(text), s), `reference disagrees on ${text}`);
  return value;
}

/** Asserts a runtime error with its message and 1-based column, and that the reference errs too. */
function throwsAt(text: string, column: number, reason: RegExp | string, s: ExprScope = scope): void {
  assert.throws(
    () => compileExpr(text).evaluate(s),
    (err: unknown) => {
      assert.ok(err instanceof ExprError, `expected ExprError, got ${String(err)}`);
      assert.equal(err.kind, 'runtime');
      assert.equal(err.column, column, text);
      if (typeof reason === 'string') assert.equal(err.reason, reason);
      else assert.match(err.reason, reason);
      return true;
    },
  );
  assert.throws(() => refEval(parseExpr(text), s), `the reference should fail on ${text}`);
}

test('field paths read one, two and three fields of every binding', () => {
  assert.equal(ev('event.index'), 532);
  assert.equal(ev('event.extra.note'), 'x');
  assert.equal(ev('event.deep.a.b.c'), 7);
  assert.equal(ev('event.deep.a.b.c + 1'), 8);
  // One per binding, so that a binding read from the wrong case of the scope switch shows.
  assert.equal(ev('event.session == "s_12"'), true);
  assert.equal(ev('user.segment == "new"'), true);
  assert.equal(ev('context.device == "ios"'), true);
  assert.equal(ev('outcome.dwellMs.i_7 > 30000'), true);
  assert.equal(ev('system.cache.hits == 40'), true);
  assert.equal(ev('metrics.ctr < 0.1'), true);
  assert.equal(ev('system.latencyMs.score'), 20);
  throwsAt('candidates.x', 1, "cannot read field 'x' of list (candidates is list)");
  throwsAt('served.x > 1', 1, "cannot read field 'x' of list (served is list)");
  throwsAt('stage.x == 1', 1, "cannot read field 'x' of string (stage is string)");
});

test('each binding is read from its own place in the scope', () => {
  // Every map-valued binding has a field `tag` naming it: a fast read of the wrong binding finds a value, not an error.
  const tagged = makeScope({
    event: { tag: 'event', n: { tag: 'event' } }, user: { tag: 'user', n: { tag: 'user' } }, context: { tag: 'context', n: { tag: 'context' } },
    outcome: { tag: 'outcome', n: { tag: 'outcome' } }, system: { tag: 'system', n: { tag: 'system' } }, metrics: { tag: 1, n: 1 } as unknown as Record<string, number>,
  });
  for (const b of ['event', 'user', 'context', 'outcome', 'system']) {
    assert.equal(ev(`${b}.tag`, tagged), b);
    assert.equal(ev(`${b}.n.tag`, tagged), b);
    assert.equal(ev(`${b}.tag == "${b}" && ${b}.n.tag != "x"`, tagged), true);
  }
  assert.equal(ev('metrics.tag >= 1 && metrics.n < 2', tagged), true);
  for (const b of ['candidates', 'served', 'stage']) {
    throwsAt(`${b}.tag`, 1, new RegExp(`^cannot read field 'tag' of (list|string) \\(${b} is`), tagged);
    throwsAt(`${b}.tag == "event"`, 1, new RegExp(`^cannot read field 'tag' of`), tagged);
    throwsAt(`${b}.tag > 0`, 1, new RegExp(`^cannot read field 'tag' of`), tagged);
  }
});

test('a path that hits a missing field, null, a list or a scalar in the middle says where', () => {
  throwsAt('event.nope.x', 1, "no field 'nope' in event");
  throwsAt('event.nope.x > 1', 1, "no field 'nope' in event");
  throwsAt('event.nope.x == 1', 1, "no field 'nope' in event");
  throwsAt('event.extra.nope', 1, /^no field 'nope' in event\.extra/);
  throwsAt('event.extra.nope > 1', 1, /^no field 'nope' in event\.extra/);
  throwsAt('event.nul.x', 1, "cannot read field 'x' of null (event.nul is null)");
  throwsAt('event.nul.x < 1', 1, "cannot read field 'x' of null (event.nul is null)");
  throwsAt('event.nul.x != "a"', 1, "cannot read field 'x' of null (event.nul is null)");
  throwsAt('event.list.x >= 1', 1, "cannot read field 'x' of list (event.list is list)");
  throwsAt('event.index.x <= 1', 1, "cannot read field 'x' of number (event.index is number)");
  throwsAt('event.deep.a.nope.c', 1, /^no field 'nope' in event\.deep\.a/);
  throwsAt('event.deep.a.b.c.d > 1', 1, "cannot read field 'd' of number (event.deep.a.b.c is number)");
});

test('methods of strings and functions in the data are not fields', () => {
  // `"abc".big` is a String.prototype method in JavaScript; here it is no field at all.
  throwsAt('stage.big', 1, "cannot read field 'big' of string (stage is string)");
  throwsAt('stage.big.name == "big"', 1, "cannot read field 'big' of string (stage is string)");
  throwsAt('stage.big.name', 1, "cannot read field 'big' of string (stage is string)");
  throwsAt('stage.big.caller > 1', 1, "cannot read field 'big' of string (stage is string)");
  throwsAt('event.id.big.length > 1', 1, "cannot read field 'big' of string (event.id is string)");
  throwsAt('served.exists(x, x.big == 1)', 18, "cannot read field 'big' of string (x is string)");
  // A function-valued field (possible in a hand-built scope) is absent, as in the ordinary closures.
  throwsAt('event.fn == 1', 1, /^no field 'fn' in event/);
  throwsAt('event.fn > 1', 1, /^no field 'fn' in event/);
  throwsAt('event.fn.name == "fn"', 1, /^no field 'fn' in event/);
});

test('comparisons against a constant keep their rules for null and for mixed types', () => {
  assert.equal(ev('event.nul > 1'), false);
  assert.equal(ev('event.nul <= 1'), false);
  assert.equal(ev('event.nul == null'), true);
  assert.equal(ev('event.nul != null'), false);
  assert.equal(ev('event.index == "532"'), false);
  assert.equal(ev('event.index != "532"'), true);
  assert.equal(ev('event.index == 532.0'), true);
  assert.equal(ev('event.flag == true && event.flag != false'), true);
  assert.equal(ev('event.extra == "x"'), false, 'a map is unequal to a string');
  assert.equal(ev('event.list != 1'), true);
  assert.equal(ev('event.id < "f"'), true, 'strings order');
  assert.equal(ev('event.index < double("NaN") || event.index > double("NaN")'), false);
  assert.equal(ev('event.index != double("NaN")'), true);
  throwsAt('event.id > 1', 1, "cannot compare string with number using '>'");
  throwsAt('event.extra >= 1', 1, "cannot compare map with number using '>='");
  throwsAt('event.flag < 1', 1, "cannot compare bool with number using '<'");
  throwsAt('event.index > "a"', 1, "cannot compare number with string using '>'");
  // The user shorthand: a feature is found the slow way, an own field the fast way.
  assert.equal(ev('user.age > 30 && user.age == 31'), true);
  assert.equal(ev('user.country != "fr" || user.id == "u_9f3a"'), true);
  throwsAt('user.height > 1', 1, "no field or feature 'height' in user");
  // A macro variable named `user` shadows the binding.
  assert.equal(ev('served.exists(user, user == "i_7")'), true);
  assert.equal(ev('candidates.exists(user, user.rank == 1 && user.score > 0.8)'), true);
});

test('comparisons on macro variables: one and two fields, null and missing fields', () => {
  assert.equal(ev('candidates.exists(c, c.rank == 1 && c.score > 0.9)'), false);
  assert.equal(ev('candidates.exists(c, c.rank == 1 && c.score > 0.8)'), true);
  assert.equal(ev('candidates.exists(c, c.prevRank > 1)'), true);
  assert.equal(ev('candidates.all(c, c.prevRank > 0)'), false, 'the first has no previous rank: null > 0 is false');
  assert.equal(ev('candidates.exists(c, c.features.ctr_30d > 0.05 && c.features.category == "books")'), true);
  assert.equal(ev('candidates.exists(c, c.features.ctr_30d < 0 || c.meta.source != "ann")'), false);
  assert.deepEqual(ev('candidates.filter(c, c.features.price >= 20).map(c, c.item)'), ['i_42', 'i_99']);
  assert.equal(ev('candidates.all(c, c.score > 0 || c.missing > 1)'), true, 'the error on the right is never reached');
  throwsAt('candidates.exists(c, c.missing > 1)', 22, /^no field 'missing' in c/);
  throwsAt('candidates.exists(c, c.features.missing == 1)', 22, /^no field 'missing' in c\.features/);
  throwsAt('candidates.exists(c, c.item > 1)', 22, "cannot compare string with number using '>'");
});

test('chains of comparisons decide like the ordinary && and ||', () => {
  assert.equal(ev('event.index > 500 && user.segment == "new" && context.device == "ios"'), true);
  assert.equal(ev('event.index > 500 && user.segment == "new" && context.device == "web"'), false);
  assert.equal(ev('event.index > 500 && (user.segment == "old" && context.device == "ios")'), false);
  assert.equal(ev('event.index > 600 || user.segment == "new"'), true);
  assert.equal(ev('event.index > 600 || user.segment == "old" || context.page == "search"'), false);
  assert.equal(ev('event.index > 1 && user.segment == "old" || context.device == "ios"'), true);
  assert.equal(ev('rank("i_42") <= 1 && score("i_42") > 0.8'), true);
  assert.equal(ev('rank("nope") <= 3 || rank("i_7") == 2'), true, 'null <= 3 is false, so the chain goes on');
  assert.equal(ev('event.index > 1 && true'), true);
  assert.equal(ev('event.index > 1000 && event.index'), false, 'decided before the non-bool');
  throwsAt('event.index > 1 && event.index', 20, "each side of '&&' must be true or false, but event.index is number");
  throwsAt('event.index < 1 || "yes"', 20, "each side of '||' must be true or false, but \"yes\" is string");
});

test('chains absorb errors on either side, as CEL does', () => {
  assert.equal(ev('event.nope > 1 || true'), true);
  assert.equal(ev('event.nope > 1 && false'), false);
  assert.equal(ev('event.nope == 1 || event.index == 532'), true);
  assert.equal(ev('event.index > 1000 && event.nope > 1'), false);
  assert.equal(ev('event.id > 1 || event.index > 1'), true, 'a type error on the left is absorbed too');
  assert.equal(ev('score(1) > 0.5 || true'), true, 'so is a helper error');
  assert.equal(ev('score(1) == 0.5 && false'), false);
  assert.equal(ev('1 / 0 > 1 && false'), false);
  throwsAt('event.nope > 1 && true', 1, "no field 'nope' in event");
  throwsAt('event.index > 1 && event.nope > 1', 20, "no field 'nope' in event");
  throwsAt('event.nope > 1 || event.index > 1000', 1, "no field 'nope' in event");
  throwsAt('score(1) > 0.5 && true', 1, 'score() expects an item id (a string), got number');
  throwsAt('score(1) > 0.5', 1, 'score() expects an item id (a string), got number');
});

test('a compiled chain gives the same answers stop after stop', () => {
  const c = compileExpr('candidates.exists(c, c.rank == 1 && c.score > 0.8) && event.index >= 500');
  const later = makeScope({ event: { ...base.event, index: 400 } });
  const changed = makeScope();
  (changed.candidates[0] as { score: number }).score = 0.5;
  assert.deepEqual([c.evaluate(scope), c.evaluate(later), c.evaluate(changed), c.evaluate(scope)], [true, false, false, true]);
});

/** Reads of `event` while evaluating `text` once (a failure is fine): how often its operand ran. */
function eventReads(text: string): number {
  let reads = 0;
  const counting = makeScope();
  const event = counting.event;
  Object.defineProperty(counting, 'event', { get: () => (reads++, event) });
  try {
    compileExpr(text).evaluate(counting);
  } catch (x) {
    if (!(x instanceof ExprError)) throw x;
  }
  return reads;
}

test('a failing operand under nested comparisons is evaluated once, however deep: the error is passed up, not recomputed at each level', () => {
  // Each level re-ran its operand once the fast path failed, so depth 20 took 2^20 evaluations (9.5 s).
  const shapes: [string, (depth: number) => string][] = [
    ['== true', (d) => '('.repeat(d) + 'event.nope == 1' + ') == true'.repeat(d)],
    ['!= false', (d) => '('.repeat(d) + 'event.nope == 1' + ') != false'.repeat(d)],
    ['+ 1 > 0', (d) => '('.repeat(d) + 'event.nope + 1 > 0' + ') == true'.repeat(d)],
    ['?:', (d) => '('.repeat(d) + 'event.nope == 1' + ' ? true : false) == true'.repeat(d)],
    ['a string ordered', (d) => '('.repeat(d) + '(event.id + "") > 1' + ') == true'.repeat(d)],
    ['|| absorbing', (d) => '('.repeat(d) + 'event.nope == 1' + ') == true || stage == "x"'.repeat(d) + ' || true'],
    ['&& chains', (d) => '('.repeat(d) + 'event.nope == 1' + ') == true && stage != "x"'.repeat(d)],
    ['exists', (d) => `served.exists(x, ${'('.repeat(d)}event.nope == 1${') == true'.repeat(d)})`],
  ];
  for (const [name, nest] of shapes) {
    const depth = name === '== true' ? 20 : 14;
    assert.equal(eventReads(nest(depth)), eventReads(nest(1)), name);
  }
  // And they give what the ordinary && and || give (the reference interpreter agrees).
  throwsAt(shapes[0]?.[1](20) ?? '', 21, "no field 'nope' in event");
  throwsAt(shapes[4]?.[1](20) ?? '', 22, "cannot compare string with number using '>'");
  assert.equal(ev(shapes[5]?.[1](20) ?? ''), true);
  throwsAt(shapes[6]?.[1](20) ?? '', 21, "no field 'nope' in event");
});

test('a comparison that fails in a chain leaves the rest of the chain to decide, and is the error when it does not', () => {
  assert.equal(ev('(1 / 0 == 1) || event.index == 532'), true);
  assert.equal(ev('(1 / 0 == 1) && event.index == 1'), false);
  assert.equal(ev('(1 / 0 == 1) || event.index == 1 || true'), true);
  assert.equal(ev('(1 / 0 == 1) || event.nope == 1 || true'), true, 'a second error is absorbed too');
  assert.equal(ev('(stage + "") > 1 || true'), true);
  assert.equal(ev('event.index == 532 && (stage + "") > 1 && false'), false);
  throwsAt('(1 / 0 == 1) || event.index == 1', 2, 'division by zero');
  throwsAt('(1 / 0 == 1) || event.nope == 1', 2, 'division by zero');
  throwsAt('(1 / 0 == 1) || event.index == 1 || event.index', 2, 'division by zero');
  throwsAt('(stage + "") > 1 && true', 2, "cannot compare string with number using '>'");
  throwsAt('(stage + "") > 1 || event.index', 2, "cannot compare string with number using '>'");
  throwsAt('event.index == 532 && (stage + "") > 1', 24, "cannot compare string with number using '>'");
  throwsAt('event.index == 1 || (stage + "") > 1 || event.index', 22, "cannot compare string with number using '>'");
  throwsAt('event.index == 1 || rank("i_42") == 2 || event.index', 42, "each side of '||' must be true or false, but event.index is number");
});
