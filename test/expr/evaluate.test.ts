import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkExpr, compileExpr, ExprError } from '../../src/core/expr/index';
import type { ExprCandidate, Value } from '../../src/core/expr/index';
import { env, makeScope } from './fixtures';

const scope = makeScope();
const ev = (text: string, s = scope): Value => compileExpr(text).evaluate(s);

/** Asserts a runtime error with its message and the 1-based column it names. */
function throwsAt(text: string, column: number, reason: RegExp | string): void {
  assert.throws(
    () => ev(text),
    (err: unknown) => {
      assert.ok(err instanceof ExprError, `expected ExprError, got ${String(err)}`);
      assert.equal(err.kind, 'runtime');
      assert.equal(err.column, column);
      if (typeof reason === 'string') assert.equal(err.reason, reason);
      else assert.match(err.reason, reason);
      return true;
    },
  );
}

test('score, rank, recordedRank and rankDelta look candidates up by item id', () => {
  assert.equal(ev('score("i_42")'), 0.82);
  assert.equal(ev('rank("i_42")'), 1);
  assert.equal(ev('recordedRank("i_42")'), 3);
  assert.equal(ev('rankDelta("i_42")'), 2, 'recorded 3rd, replayed 1st: moved up by 2');
  assert.equal(ev('rankDelta("i_7")'), -1);
});

test('an item that is not a candidate gives null, and ordering against null is false', () => {
  assert.equal(ev('score("i_100")'), null);
  assert.equal(ev('rank("i_100") <= 3'), false);
  assert.equal(ev('rank("i_100") > 3'), false);
  assert.equal(ev('rank("i_100") == null'), true);
  assert.equal(ev('rankDelta("i_100") * 2 + 1'), null, 'arithmetic on null stays null');
  assert.equal(ev('-score("nope")'), null);
});

test('topk lists the ids of the best k by replayed rank', () => {
  const shuffled = makeScope();
  const reversed = makeScope({ candidates: [...shuffled.candidates].reverse() });
  assert.deepEqual(ev('topk(2)', reversed), ['i_42', 'i_7']);
  assert.deepEqual(ev('topk(0)'), []);
  assert.deepEqual(ev('topk(10)'), ['i_42', 'i_7', 'i_99']);
  assert.equal(ev('"i_7" in topk(2) && !("i_99" in topk(2))'), true);
  throwsAt('topk(1.5)', 1, 'topk() expects a whole number k >= 0, got 1.5');
});

test('feature and age read feature values and their staleness', () => {
  assert.equal(ev('feature("i_7", "ctr_7d")'), 0.12);
  assert.equal(ev('feature("i_99", "ctr_30d")'), null);
  assert.equal(ev('feature("i_100", "ctr_7d")'), null);
  assert.equal(ev('feature("i_42", "category") == "outdoor"'), true);
  assert.equal(ev('age("ctr_7d")'), 3600);
  assert.equal(ev('age("i_7", "ctr_7d")'), 7200);
  assert.equal(ev('age("price")'), null);
  assert.equal(ev('age("ctr_7d") > 1800'), true);
  // An item that is not a candidate has no age for a logged feature (not the event's).
  assert.equal(ev('age("zzz", "ctr_7d")'), null);
});

test('an item that is not a candidate has no age for an online feature either, as feature() has no value for it', () => {
  // The online store keeps items that are not candidates at this event: age() passed their age on.
  const online = makeScope({ featureAge: (name, item) => (name.startsWith('online.') && item !== undefined ? 90 : null), onlineFeature: () => 0.25 });
  assert.equal(ev('age("i_7", "online.ctr")', online), 90);
  assert.equal(ev('feature("i_7", "online.ctr")', online), 0.25);
  assert.equal(ev('age("i_100", "online.ctr")', online), null);
  assert.equal(ev('feature("i_100", "online.ctr")', online), null);
});

test('size, int, double, string, abs, min and max', () => {
  assert.equal(ev('size(candidates)'), 3);
  assert.equal(ev('served.size()'), 2);
  assert.equal(ev('size("héllo😀")'), 6, 'code points, not UTF-16 units');
  assert.equal(ev('size(metrics)'), 3);
  assert.equal(ev('int(3.9) + int(-3.9) + int("12")'), 12);
  assert.equal(ev('double("1e-3")'), 0.001);
  assert.equal(ev('string(1.5) + string(true) + string(null)'), '1.5truenull');
  assert.equal(ev('string(served)'), '["i_42", "i_7"]');
  assert.equal(ev('abs(rankDelta("i_7"))'), 1);
  assert.equal(ev('min(3, 1, 2) + max([4, 9, 2])'), 10);
  assert.equal(ev('min(1, rank("nope"))'), null);
  throwsAt('int("abc")', 1, 'int() cannot convert "abc" to a whole number');
  // Text is held to the rule for literals: no silently other number past 2^53.
  assert.equal(ev('int("9007199254740992") + int(" -12345678901234567000 ")'), 9007199254740992 - 12345678901234567000);
  throwsAt('int("99999999999999999999")', 1, 'int() cannot convert "99999999999999999999" exactly: numbers are doubles, exact up to 2^53 (9007199254740992); it would read as 100000000000000000000');
  throwsAt('int("-9007199254740993")', 1, /^int\(\) cannot convert "-9007199254740993" exactly: .* it would read as -9007199254740992$/);
  throwsAt(`int("1${'0'.repeat(400)}")`, 1, /^int\(\) cannot convert "10+…: it is out of range/);
  throwsAt('max([])', 1, 'max() of an empty list');
  // double() is held to the rule for literals too: 1e400 and 1e-400 are not silently Infinity and 0.
  throwsAt('double("1e400") > 1', 1, 'double() cannot convert "1e400": it is out of range (numbers are doubles, up to about 1.8e308)');
  throwsAt('double(" -1e400")', 1, /^double\(\) cannot convert "-1e400": it is out of range/);
  throwsAt('double("1e-400") == 0', 1, /^double\(\) cannot convert "1e-400": it is too small for a double/);
  assert.equal(ev('double("0e-400") + double("1.7976931348623157e308") + double("5e-324")'), 1.7976931348623157e308);
  assert.equal(ev('double("-Infinity")'), -Infinity, 'asked for by name');
  throwsAt('size(1)', 1, 'size() needs a string, list or map, got number');
});

test('bindings: event extras, user features and the user.<feature> shorthand, context, system, metrics', () => {
  assert.equal(ev('event.extra.note'), 'x');
  assert.equal(ev('user.features.age'), 31);
  assert.equal(ev('user.age'), 31);
  assert.equal(ev('has(user.country) && !has(user.height)'), true);
  assert.equal(ev('context.device == "ios" && stage == "rerank"'), true);
  assert.equal(ev('system.latencyMs.features > 40 && !system.fallback && system.cache.hits == 40'), true);
  assert.equal(ev('metrics["hit_rate@10"] >= 0.18 && metrics.ctr < 0.1'), true);
  assert.equal(ev('outcome.dwellMs["i_7"] / 1000'), 31);
});

test('macros: exists, all, exists_one, filter, map (two and three arguments), over lists and map keys', () => {
  assert.equal(ev('candidates.exists(c, c.score > 0.8)'), true);
  assert.equal(ev('candidates.exists(c, c.score > 0.9)'), false);
  assert.equal(ev('candidates.all(c, c.features.ctr_7d > 0)'), true);
  assert.equal(ev('candidates.exists_one(c, c.features.category == "books")'), true);
  assert.equal(ev('candidates.exists_one(c, c.features.category == "outdoor")'), false);
  assert.deepEqual(ev('candidates.filter(c, c.features.fresh).map(c, c.item)'), ['i_42', 'i_99']);
  assert.deepEqual(ev('candidates.map(c, c.rank <= 2, c.item + "!")'), ['i_42!', 'i_7!']);
  assert.deepEqual(ev('outcome.dwellMs.map(k, k)'), ['i_7']);
  assert.equal(ev('[].all(x, false) && ![].exists(x, true)'), true);
  // Nested macros with shadowing: the inner `c` is the served id.
  assert.equal(ev('candidates.all(c, served.exists(c, c == "i_7"))'), true);
  assert.equal(ev('candidates.exists(c, candidates.exists(d, d.item != c.item && d.score == c.score))'), false);
});

test('exists and all absorb errors the way || and && do', () => {
  // i_99 has ctr_30d = null; `null > 0.01` is false, and a missing field is an error.
  assert.equal(ev('candidates.exists(c, c.meta.missing || c.item == "i_99")'), true);
  assert.equal(ev('candidates.all(c, c.item == "i_42" && c.meta.missing)'), false);
  throwsAt('candidates.exists(c, c.meta.missing)', 22, /^no field 'missing' in c\.meta/);
  throwsAt('candidates.exists(c, c.score)', 22, 'the predicate of exists() must be true or false, but c.score is number');
});

test('&& and || short-circuit and absorb errors from either side', () => {
  assert.equal(ev('false && 1 / 0 > 1'), false);
  assert.equal(ev('1 / 0 > 1 && false'), false);
  assert.equal(ev('true || event.nope'), true);
  assert.equal(ev('event.nope || true'), true);
  throwsAt('true && event.nope', 9, "no field 'nope' in event");
  throwsAt('event.nope || false', 1, "no field 'nope' in event");
  throwsAt('1 && true', 1, "each side of '&&' must be true or false, but 1 is number");
});

test('in: deep membership in lists, key presence in maps', () => {
  assert.equal(ev('"i_7" in served'), true);
  assert.equal(ev('"i_8" in served'), false);
  assert.equal(ev('[1, 2] in [[1, 2], [3]]'), true);
  assert.equal(ev('"ctr" in metrics && !("mrr" in metrics)'), true);
  throwsAt('"a" in "abc"', 8, "'in' needs a list or a map on its right, got string");
});

test('has() tests presence without failing on a missing field', () => {
  assert.equal(ev('has(event.session)'), true);
  assert.equal(ev('has(event.nope)'), false);
  assert.equal(ev('has(candidates[0].features.ctr_7d)'), true);
  throwsAt('has(event.nope.deeper)', 5, "no field 'nope' in event");
  throwsAt('has(event.id.x)', 5, 'has() needs a map, but event.id is string');
});

test('?: picks a branch and evaluates only that branch', () => {
  assert.equal(ev('rank("i_42") == 1 ? "top" : event.nope'), 'top');
  assert.equal(ev('stage == "serve" ? 1 : stage == "rerank" ? 2 : 3'), 2);
  throwsAt('1 ? 2 : 3', 1, 'the condition of ?: must be true or false, but 1 is number');
});

test('string methods, concatenation and ordering', () => {
  assert.equal(ev('event.id.startsWith("e00") && event.id.endsWith("532") && user.segment.contains("ew")'), true);
  assert.equal(ev('"a" + "b" == "ab" && "apple" < "banana"'), true);
  assert.deepEqual(ev('served + ["i_1"]'), ['i_42', 'i_7', 'i_1']);
  throwsAt('served.startsWith("i")', 1, 'startsWith() is a string method, but it was called on a list');
  throwsAt('"a" + 1', 1, "operator '+' cannot combine string and number");
  throwsAt('score("i_42") > "a"', 1, "cannot compare number with string using '>'");
});

test('strings order by code point, as in CEL: a character past U+FFFF sorts after every one below it', () => {
  // UTF-16 units put 😀 (U+1F600, the surrogates D83D DE00) before U+FFFF.
  assert.equal(ev('"😀" > "\\uFFFF" && "\\uE000" < "😀" && "a😀" < "a\\uFFFF" == false'), true);
  assert.equal(ev('"\\U0001F600" < "\\U0001F601" && "😀" <= "😀" && "😀" < "😀a" && "" < "😀"'), true);
  assert.equal(ev('candidates.filter(c, c.item + "\\uFFFF" > c.item + "😀").size()'), 0, 'the same when computed at each stop');
  assert.equal(ev('"apple" < "banana" && "B" < "a" && "ab" > "a"'), true);
});

test('numbers are doubles; == is deep on lists and maps', () => {
  assert.equal(ev('7 / 2'), 3.5);
  assert.equal(ev('7 % 3 + 1e-3 * 1000'), 2);
  assert.equal(ev('1 == 1.0'), true);
  assert.equal(ev('{"a": [1, {"b": null}]} == {"a": [1, {"b": null}]}'), true);
  assert.equal(ev('{"a": 1} != {"a": 1, "b": 2}'), true);
  assert.equal(ev('1 == "1"'), false, 'values of different types are unequal, not an error');
  assert.equal(ev('[1, 2] == [2, 1]'), false);
});

test('runtime errors name the column of the failing part', () => {
  throwsAt('1 + 10 / (5 - 5)', 5, 'division by zero');
  throwsAt('metrics.ctr % 0', 1, 'modulo by zero');
  throwsAt('served[5]', 1, 'index 5 is out of range for served (size 2)');
  throwsAt('served[0.5]', 8, 'a list index must be a whole number, got number 0.5');
  throwsAt('metrics["hit_rate@5"]', 1, `no key "hit_rate@5" in metrics; did you mean 'hit_rate@10'?`);
  throwsAt('stage.x', 1, "cannot read field 'x' of string (stage is string)");
  throwsAt('  candidates[0].scroe', 3, "no field 'scroe' in candidates[0]; did you mean 'score'?");
  throwsAt('user.height', 1, "no field or feature 'height' in user");
  throwsAt('score(1)', 1, 'score() expects an item id (a string), got number');
  // (A repeated literal key is a syntax error: parser.test.ts. A computed one is found when evaluated.)
  throwsAt('{"a": 1, "a" + "": 2}', 10, 'duplicate key "a" in a map');
});

test('fields are own data only: JavaScript internals are out of reach', () => {
  throwsAt('event.constructor', 1, /^no field 'constructor' in event/);
  throwsAt('event["__proto__"]', 1, /^no key "__proto__" in event/);
  throwsAt('served.length', 1, "cannot read field 'length' of list (served is list)");
  assert.equal(ev('has(event.toString)'), false);
  assert.deepEqual(ev('{"__proto__": 1}'), JSON.parse('{"__proto__": 1}'));
  // The fused `c.field > k` fast path must not read inherited properties either.
  throwsAt('candidates.exists(c, c.constructor > 1)', 22, /^no field 'constructor' in c/);
});

test('compile-time problems are reported before any evaluation', () => {
  assert.throws(() => compileExpr('nope + 1'), /column 1: unknown name 'nope'/);
  assert.throws(() => compileExpr('scroe("a")'), /unknown function 'scroe'; did you mean 'score'\?/);
  assert.throws(() => compileExpr('served.sise()'), /column 8: unknown method 'sise'; did you mean 'size'\?/);
  assert.throws(() => compileExpr('score("a", "b")'), /score\(\) takes 1 argument, got 2/);
  assert.throws(() => compileExpr('candidates.exists(c, c.features.ctr_7 > 1)', env), (err: unknown) => {
    assert.ok(err instanceof ExprError);
    assert.equal(err.kind, 'check');
    assert.equal(err.message, "column 33: unknown feature 'ctr_7'; did you mean 'ctr_7d'?");
    assert.equal(err.diagnostics.length, 1);
    return true;
  });
  assert.throws(() => compileExpr('stage', env, { expect: 'bool' }), /a condition must be true or false/);
});

test('constant sub-expressions are folded once; a constant that fails still fails at evaluation', () => {
  const c = compileExpr('[1, 2 * 3, "a" + "b"]');
  const first = c.evaluate(scope);
  assert.deepEqual(first, [1, 6, 'ab']);
  assert.equal(c.evaluate(scope), first, 'the folded list is reused');
  assert.ok(Object.isFrozen(first), 'and frozen, so a caller cannot change it for the next stop');
  const bad = compileExpr('stage == "x" || 1 / 0 == 1');
  assert.throws(() => bad.evaluate(scope), /column 17: division by zero/);
  assert.equal(compileExpr('true ? rank("i_7") : event.nope').evaluate(scope), 2);
});

test('identifiers lists the bindings and scope helpers an expression uses, in order', () => {
  assert.deepEqual(compileExpr('rank("i_42") <= 3 && user.segment == "new"').identifiers, ['rank', 'user']);
  assert.deepEqual(compileExpr('candidates.exists(c, score(c.item) > size(served))').identifiers, ['candidates', 'score', 'served']);
  assert.deepEqual(compileExpr('1 + 2').identifiers, []);
  assert.equal(compileExpr('1+2').source, '1+2');
});

test('evaluation is re-entrant: one compiled expression serves many scopes', () => {
  const c = compileExpr('candidates.map(c, c.item)');
  const other = makeScope({ candidates: [] });
  assert.deepEqual(c.evaluate(scope), ['i_42', 'i_7', 'i_99']);
  assert.deepEqual(c.evaluate(other), []);
  assert.deepEqual(c.evaluate(scope), ['i_42', 'i_7', 'i_99']);
});

test('topk and score follow ranks and scores changed in place on the same candidates array', () => {
  const s = makeScope();
  const c = compileExpr('topk(1)[0] + ":" + string(score("i_99"))');
  assert.equal(c.evaluate(s), 'i_42:0.1');
  const [a, , b] = s.candidates as ExprCandidate[];
  if (a === undefined || b === undefined) throw new Error('fixture changed');
  [a.rank, b.rank, b.score] = [3, 1, 0.9];
  assert.equal(c.evaluate(s), 'i_99:0.9');
});

test('user["name"] and "name" in user read the feature shorthand as user.name does (the checker accepted them; evaluation said no key)', () => {
  const s = makeScope();
  assert.equal(compileExpr('user["age"]').evaluate(s), 31);
  assert.equal(compileExpr('user["segment"]').evaluate(s), 'new');
  assert.equal(compileExpr('"age" in user && "segment" in user && !("nope" in user)').evaluate(s), true);
  assert.equal(compileExpr('[user].exists(u, "age" in u.features)').evaluate(s), true);
  assert.deepEqual(checkExpr('user["age"] >= 30 && "age" in user', env), []);
  assert.throws(() => compileExpr('user["nope"]').evaluate(s), /column 1: no field or feature "nope" in user/);
});

test('a list or map holding a NaN is not equal to itself, the same one included (as [NaN] == [NaN] is false), and is not in a list by identity', () => {
  const nanScore = { ...makeScope().event, xs: [1, Number.NaN], m: { a: Number.NaN }, ok: [1, 2] };
  const s = makeScope({ event: nanScore });
  assert.equal(ev('event.xs == event.xs', s), false);
  assert.equal(ev('event.xs != event.xs', s), true);
  assert.equal(ev('event.m == event.m', s), false);
  assert.equal(ev('event.xs in [event.xs]', s), false);
  // Without a NaN, the same value equals itself.
  assert.equal(ev('event.ok == event.ok && event.ok in [event.ok] && !(event.ok != event.ok)', s), true);
});

test('age() of an online feature without an item is an error however its name is written (a computed name read null, silently)', () => {
  assert.throws(() => ev('age("online." + "ctr")'), (e: unknown) => e instanceof ExprError && /an online feature's age is per item: write age\(id, "online\.ctr"\)/.test(e.reason) && e.column === 1);
  assert.ok(checkExpr('age("online.ctr")', env).some((d) => d.code === 'online-age-needs-item'));
});
