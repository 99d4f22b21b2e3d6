import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkExpr, compileExpr, ExprError } from '../../src/core/expr/index';
import { MAX_MACRO_STEPS, work } from '../../src/core/expr/macros';
import { editDistance, suggest } from '../../src/core/expr/suggest';
import { env, makeScope } from './fixtures';

/** A list nested `depth` deep: [[[…[1]…]]]. */
function nested(depth: number, leaf: unknown = 1): unknown {
  let v: unknown = [leaf];
  for (let i = 1; i < depth; i++) v = [v];
  return v;
}

test('== and in compare data nested thousands deep without overflowing the stack', () => {
  const scope = makeScope({ event: { ...makeScope().event, a: nested(20_000), b: nested(20_000), c: nested(20_000, 2), list: [nested(20_000)] } });
  assert.equal(compileExpr('event.a == event.b').evaluate(scope), true);
  assert.equal(compileExpr('event.a == event.c').evaluate(scope), false);
  assert.equal(compileExpr('event.a != event.c').evaluate(scope), true);
  assert.equal(compileExpr('event.b in event.list').evaluate(scope), true);
  // Maps too, and NaN stays unequal to itself at any depth.
  const deepMap = (leaf: number) => {
    let m: unknown = { x: leaf };
    for (let i = 0; i < 20_000; i++) m = { m };
    return m;
  };
  const s2 = makeScope({ event: { ...makeScope().event, m: deepMap(Number.NaN), n: deepMap(Number.NaN), o: deepMap(1), p: deepMap(1) } });
  assert.equal(compileExpr('event.m == event.n').evaluate(s2), false);
  assert.equal(compileExpr('event.o == event.p').evaluate(s2), true);
});

test('a name of 200,000 characters in the slice does not break "did you mean" suggestions', () => {
  const long = 'k'.repeat(200_000);
  assert.equal(editDistance('nope', long), 200_000);
  assert.equal(editDistance('ab', 'ba'), 1);
  assert.equal(suggest('nope', [long, 'nop']), 'nop');
  const scope = makeScope({ event: { ...makeScope().event, [long]: 1 } });
  assert.throws(
    () => compileExpr('event.nope').evaluate(scope),
    (e: unknown) => e instanceof ExprError && e.kind === 'runtime',
  );
  // checkExpr never throws: its problems come back as diagnostics.
  const withLong = { ...env, schema: { ...env.schema, candidate: { ...env.schema.candidate, [long]: 'number' as const } } };
  assert.doesNotThrow(() => checkExpr('features.nope > 1', withLong));
});

test('nested macros have a step budget: a runaway expression ends with an error at the macro, not a hung or crashed host', () => {
  const served = Array.from({ length: 10 }, (_, i) => `i_${i}`);
  const scope = makeScope({ served });
  // 10^24 elements for map, 10^40 for exists: both stop after MAX_MACRO_STEPS steps.
  let map = '1';
  for (let i = 0; i < 24; i++) map = `served.map(a${i}, ${map})`;
  let exists = 'false';
  for (let i = 0; i < 40; i++) exists = `served.exists(a${i}, ${exists})`;
  // (|| would absorb an ordinary error when the other side is true: not this one.)
  for (const text of [`size(${map})`, exists, `${exists} || true`]) {
    assert.throws(
      () => compileExpr(text).evaluate(scope),
      (e: unknown) => e instanceof ExprError && e.kind === 'runtime' && /visit more than 1,000,000 elements in one evaluation/.test(e.reason) && e.column >= 1,
      text.slice(0, 60),
    );
  }
  // The budget is per evaluation: a legitimate nested macro runs every time.
  const pairs = compileExpr('size(served.map(a, served.filter(b, b != a)))');
  for (let i = 0; i < 3 * (MAX_MACRO_STEPS / 100); i++) assert.equal(pairs.evaluate(scope), 10);
});

test('an operand that fails in a long ||/&& chain of comparisons is not evaluated again, let alone once per link (the step budget is not spent n times over)', () => {
  const served = Array.from({ length: 10 }, (_, i) => `i_${i}`);
  const scope = makeScope({ served });
  // 111,110 macro steps, then a division by zero.
  let macro = '1';
  for (let i = 0; i < 5; i++) macro = `served.map(a${i}, ${macro})`;
  const failing = `size(${macro}) / 0 > 1`;
  const links = Array.from({ length: 12 }, (_, i) => `size(served) > ${100 + i}`);
  // `<error> || true` is true (docs/expressions.md): within the budget, however long the chain.
  assert.equal(compileExpr([failing, ...links, 'true'].join(' || ')).evaluate(scope), true);
  assert.equal(compileExpr([failing, ...links.map((l) => l.replace('>', '<')), 'false'].join(' && ')).evaluate(scope), false);
  assert.throws(() => compileExpr([failing, ...links, 'false'].join(' || ')).evaluate(scope), (e: unknown) => e instanceof ExprError && /division by zero/.test(e.reason));
});

test('the step budget counts the elements that + on lists copies, == and in compare, and the characters string() writes: list-heavy expressions end with an error, not an exhausted heap', () => {
  const scope = makeScope({ served: Array.from({ length: 10 }, (_, i) => `i_${i}`) });
  const L = `[${Array.from({ length: 500 }, (_, i) => i).join(', ')}]`;
  const M = `[${Array.from({ length: 300 }, (_, i) => i).join(', ')}]`;
  const cases: [string, RegExp][] = [
    // 250,000 inner lists of 501 elements each (125 million copies) used to exhaust the heap.
    [`${L}.map(a, ${L}.map(b, ${L} + [a]))`, /'\+' on lists and the macros around it visit more than 1,000,000 elements/],
    [`${L}.all(a, ${L}.all(b, string(${L} + [a]) != ""))`, /more than 1,000,000 elements/],
    // (Operands that read a macro variable: a constant comparison is folded once, when compiled.)
    [`${L}.all(a, ${L}.all(b, [${L}, a] == [${L}, a]))`, /'==' and the macros around it visit more than 1,000,000 elements/],
    [`${L}.exists(a, ${L}.exists(b, -1 - a in ${M}))`, /'in' and the macros around it visit more than 1,000,000 elements/],
    [`${L}.all(a, ${L}.all(b, string([${L}, a]) != ""))`, /string\(\) and the macros around it handle more than 1,000,000 elements and characters of text/],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => compileExpr(text).evaluate(scope), (e: unknown) => e instanceof ExprError && e.kind === 'runtime' && message.test(e.reason), text.slice(-40));
  }
  // What stays within it runs, every time (the budget is per evaluation).
  const ok = compileExpr(`size(${L} + ${L}) == 1000 && ${L} == ${L} && 499 in ${L} && size(string(${L})) > 0`);
  for (let i = 0; i < 5; i++) assert.equal(ok.evaluate(scope), true);
});

/** Asserts that evaluating `text` ends with the budget's error, at an operation whose text matches `at`. */
function overBudget(text: string, message: RegExp, at: RegExp, scope = makeScope()): void {
  assert.throws(
    () => compileExpr(text).evaluate(scope),
    (e: unknown) => e instanceof ExprError && e.kind === 'runtime' && message.test(e.reason) && at.test(text.slice(e.start, e.end)),
    text.slice(0, 60),
  );
}

test('string() and + on strings are charged by the characters they write: text that doubles at each level stops at the budget, with the column, not a RangeError', () => {
  // Quoting escapes the quotes and backslashes of the level below: the text doubled per level, and
  // 30 levels passed JavaScript's longest string (an internal error; 22 levels took 27 s).
  const text = /^string\(\) and the macros around it handle more than 1,000,000 elements and characters of text/;
  for (const inner of ['"x"', 'stage']) overBudget(`${'string(['.repeat(30)}${inner}${'])'.repeat(30)}`, text, /^string\(/);
  // 30 doublings of a stage name: 6 billion characters, not charged at all before.
  let doubling = 'true';
  for (let i = 29; i >= 0; i--) {
    const x = i === 0 ? 'stage' : `a${i - 1}`;
    doubling = `[${x} + ${x}].all(a${i}, ${doubling})`;
  }
  overBudget(doubling, /^'\+' on strings and the macros around it handle more than 1,000,000/, /^a\d+ \+ a\d+$/);
  // Text within the budget is written in full.
  let expected = 'x';
  for (let i = 0; i < 12; i++) expected = `[${JSON.stringify(expected)}]`;
  assert.equal(compileExpr(`${'string(['.repeat(12)}"x"${'])'.repeat(12)}`).evaluate(makeScope()), expected);
});

test('== and in charge the budget as they compare: lists that share their sub-lists stop at the budget, not after comparing every pair', () => {
  // [[a, a]] nested k deep holds 2^k leaves in k lists; == compared them all (5.7 s at 28 levels)
  // before charging them.
  const shared = (k: number, v: string): { open: string; close: string; name: string } => {
    let open = `[[stage]].map(${v}0, `;
    for (let i = 1; i <= k; i++) open += `[[${v}${i - 1}, ${v}${i - 1}]].map(${v}${i}, `;
    return { open, close: ')'.repeat(k + 1), name: `${v}${k}` };
  };
  const [a, b] = [shared(24, 'a'), shared(24, 'b')];
  for (const [compare, what] of [[`${a.name} == ${b.name}`, "'=='"], [`${a.name} in [${b.name}]`, "'in'"]] as const) {
    overBudget(`${a.open}${b.open}${compare}${b.close}${a.close}`, new RegExp(`^${what} and the macros around it visit more than 1,000,000 elements`), new RegExp(`^${a.name} (==|in) `));
    // (Overshooting by at most one charge: a pair [x, x] is two elements.)
    assert.ok(work.left >= -2, `${what} stopped when the budget ran out, not ${-work.left} elements later`);
  }
  // 10^8 elements in constant lists (shared again): the same when the comparison is folded at compile time.
  const L = `[${Array.from({ length: 100 }, () => 0).join(', ')}]`;
  const X3 = `${L}.map(a, ${L}.map(b, ${L}.map(c, ${L})))`;
  const folded = compileExpr(`${X3} == ${X3}`);
  assert.ok(work.left >= -1, `folding stopped when the budget ran out, not ${-work.left} elements later`);
  assert.throws(() => folded.evaluate(makeScope()), (e: unknown) => e instanceof ExprError && /^'==' and the macros/.test(e.reason));
  assert.ok(work.left >= -1);
  // string() of them stops as early.
  overBudget(`size(string([stage, ${L}.map(a, ${L}.map(b, ${L}))]))`, /^string\(\) and the macros around it handle/, /^string\(/);
  assert.ok(work.left >= -20, `string() stopped when the budget ran out, not ${-work.left} characters later`);
});

test('"did you mean" is not worked out for long names: a missing key an expression built, thousands of characters long, fails at once and quotes its start', () => {
  // Edit distance costs the product of the two lengths: 12 s for such a key, even under an exists() that absorbs the error.
  assert.equal(suggest('a'.repeat(64), ['a'.repeat(63) + 'b']), 'a'.repeat(63) + 'b');
  assert.equal(suggest('a'.repeat(65), ['a'.repeat(64) + 'b']), undefined);
  const long = 'k'.repeat(5_000);
  const scope = makeScope({ event: { ...makeScope().event, m: { [`${long}x`]: 1 }, k: long } });
  assert.throws(
    () => compileExpr('event.m[event.k + "y"]').evaluate(scope),
    (e: unknown) => e instanceof ExprError && e.reason.startsWith('no key "kkkk') && e.reason.length < 120,
  );
  assert.equal(compileExpr('[event.k].exists(k, event.m[k + "y"] == 1) || true').evaluate(scope), true);
});

test('what is folded at compile time shares one budget, as an evaluation does: constants cannot build more than it allows (a fresh budget per part let one condition exhaust memory)', () => {
  const L = '[1, 2, 3, 4, 5, 6, 7, 8, 9]';
  // 9^6 = 531,441 elements: one copy fits the budget, two do not.
  const X = `${L}.map(a, ${L}.map(b, ${L}.map(c, ${L}.map(d, ${L}.map(e, ${L}.map(f, a + b + c + d + e + f))))))`;
  assert.equal(compileExpr(`size(${X}) > 0`).evaluate(makeScope()), true);
  const over = (text: string) =>
    assert.throws(
      () => compileExpr(text).evaluate(makeScope()),
      (e: unknown) => e instanceof ExprError && e.kind === 'runtime' && /more than 1,000,000 elements/.test(e.reason),
      text.slice(0, 40),
    );
  // All constants, and the same with an element read from the stop: the same verdict.
  over(`size([${X}, ${X}]) > 0`);
  over(`size([${X}, ${X}, stage]) > 0`);
});

test('an error that exists() or || absorbs is not worded ("did you mean" over every key of a map, for nobody): worded when it surfaces, it reads the same', () => {
  const keys = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`key_number_${i}`, i]));
  const scope = makeScope({ outcome: { ...makeScope().outcome, dwell: keys } });
  // 200 absorbed misses, each on a map of 5,000 keys.
  const L = Array.from({ length: 10 }, (_, i) => i).join(', ');
  assert.equal(compileExpr(`[${L}].all(a, [${L}].all(b, [0, 1].all(c, outcome.dwell.key_numbr_17 > 1 || true)))`).evaluate(scope), true);
  // Surfaced, the message has its suggestion as before.
  assert.throws(() => compileExpr('outcome.dwell.key_numbr_17 > 1').evaluate(scope), (e: unknown) => e instanceof ExprError && /^column \d+: no field 'key_numbr_17' in outcome\.dwell; did you mean 'key_number_17'\?/.test(e.message) && /^no field/.test(e.reason));
  assert.throws(() => compileExpr('outcome.dwell["key_numbr_17"] > 1').evaluate(scope), (e: unknown) => e instanceof ExprError && /no key "key_numbr_17" in outcome\.dwell; did you mean/.test(e.reason));
});

test('string() writes a value in full at any depth it allows, and refuses deeper ones (it wrote "…" past 20 levels: two values, one text)', () => {
  const deep = (n: number, leaf: number) => `${'['.repeat(n)}${leaf}${']'.repeat(n)}`;
  assert.equal(compileExpr(`string(${deep(22, 1)}) == string(${deep(22, 2)})`).evaluate(makeScope()), false);
  assert.equal(compileExpr(`string(${deep(22, 1)})`).evaluate(makeScope()), deep(22, 1));
  const scope = makeScope({ event: { ...makeScope().event, a: nested(5000) } });
  assert.throws(() => compileExpr('string(event.a)').evaluate(scope), (e: unknown) => e instanceof ExprError && e.kind === 'runtime' && /string\(\) writes values nested at most 1000 deep/.test(e.reason) && e.column === 1);
});

test('what reads a whole text or list is charged by its length: a short condition in a macro cannot scan a long text or list again per element (10^10 steps, uncharged before)', () => {
  // A 100,000-character text and a 20,000-element list, as a slice may hold: one pass over the
  // text per element would be 2·10^9 characters.
  const S = 'a'.repeat(99_999) + 'b';
  const T = 'a'.repeat(100_000);
  const L = Array.from({ length: 20_000 }, (_, i) => i);
  const scope = makeScope({ event: { ...makeScope().event, S, T, L, M: Object.fromEntries(L.map((i) => [`k${i}`, i])), words: [T, T, T, T, T] } });
  const cases: [string, RegExp][] = [
    ['event.L.all(x, size(event.S) > 0)', /^size\(event\.S\)$/],
    ['event.L.all(x, event.S.contains("c") == false)', /^event\.S\.contains\("c"\)$/],
    ['event.L.all(x, !event.S.startsWith(event.T))', /^event\.S\.startsWith\(event\.T\)$/],
    ['event.L.all(x, event.S.endsWith("b"))', /^event\.S\.endsWith\("b"\)$/],
    ['event.L.all(x, event.S > event.T)', /^event\.S > event\.T$/],
    ['event.L.all(x, event.S != event.T)', /^event\.S != event\.T$/],
    ['event.L.all(x, !(event.S in event.words))', /^event\.S in event\.words$/],
    ['event.L.all(x, [event.S] != [event.T])', /^\[event\.S\] != \[event\.T\]$/],
    ['event.L.all(x, max(event.L) >= x)', /^max\(event\.L\)$/],
    ['event.L.all(x, min(event.L) <= x)', /^min\(event\.L\)$/],
    ['event.L.all(x, size(event.M) > 0)', /^size\(event\.M\)$/],
    ['event.L.all(x, double(event.S + "") != 1.0 || true)', /^double\(event\.S \+ ""\)$|^event\.S \+ ""$/],
  ];
  for (const [text, at] of cases) overBudget(text, /and the macros around it (handle|visit) more than 1,000,000/, at, scope);
  // Once, each is well within the budget and reads as before.
  const once = (text: string) => compileExpr(text).evaluate(scope);
  assert.equal(once('size(event.S)'), 100_000);
  assert.equal(once('event.S.endsWith("b") && !event.S.contains("c") && event.S.startsWith("aaa")'), true);
  assert.equal(once('event.S > event.T && event.S != event.T && !(event.S in event.words) && event.T in event.words'), true);
  assert.equal(once('max(event.L) + min(event.L)'), 19_999);
  assert.equal(once('size(event.M)'), 20_000);
});

test('list and map literals are charged by the elements they build: one built per element of nested macros ends at the budget, at the literal, not after 13 s or an exhausted heap', () => {
  // 999 × 999 visits stay just inside the budget; each built a 1,000-element list that nothing
  // charged: a 6 KB condition ran for 13 s per evaluation (and a map over it filled the heap).
  const L = `[${Array.from({ length: 999 }, () => '0').join(',')}]`;
  const A = `[${Array.from({ length: 1000 }, () => 'a').join(',')}]`;
  const E = `{${Array.from({ length: 1000 }, (_, i) => `"k${i}": a`).join(',')}}`;
  overBudget(`${L}.exists(a, ${L}.exists(b, size(${A}) == 0))`, /^a list literal and the macros around it visit more than 1,000,000 elements/, /^\[a,a,/);
  overBudget(`${L}.map(a, ${L}.map(b, ${E})).size() > 0`, /^a map literal and the macros around it visit more than 1,000,000 elements/, /^\{"k0": a,/);
  // Literals within it still build, every evaluation.
  const ok = compileExpr(`${L}.all(a, size([a, a, a]) == 3 && size({"x": a, "y": a}) == 2)`);
  for (let i = 0; i < 3; i++) assert.equal(ok.evaluate(makeScope()), true);
});

test('topk() in nested macros over a large slate: the replayed order is checked once per evaluation and the ids it copies are charged (a topk(1) per pair of 1,000 candidates took 3 s per stop)', () => {
  const candidates = Array.from({ length: 999 }, (_, i) => ({ item: `i_${i}`, score: 1 - i / 1000, rank: i + 1, recordedRank: i + 1, prevRank: null, features: {}, meta: {} }));
  const scope = makeScope({ candidates });
  // One topk per pair of candidates: the order is not re-checked a million times (O(n) each).
  const nested = compileExpr('candidates.exists(a, a.rank > 550 && candidates.exists(b, topk(1)[0] == b.item && a.item == "none"))');
  let t0 = performance.now();
  assert.equal(nested.evaluate(scope), false);
  assert.ok(performance.now() - t0 < 1000, `took ${Math.round(performance.now() - t0)} ms`);
  // Copies of the whole slate per pair stop at the budget, at topk(), before the time they took (7 s).
  t0 = performance.now();
  overBudget('candidates.exists(a, candidates.exists(b, size(topk(1000)) < 0))', /^topk\(\) and the macros around it visit more than 1,000,000 elements/, /^topk\(1000\)$/, scope);
  assert.ok(performance.now() - t0 < 1000, `took ${Math.round(performance.now() - t0)} ms`);
  // Ranks changed in place between evaluations are still seen by the next one.
  const top = compileExpr('topk(1)');
  assert.deepEqual(top.evaluate(scope), ['i_0']);
  [candidates[0]!.rank, candidates[1]!.rank] = [2, 1];
  assert.deepEqual(top.evaluate(scope), ['i_1']);
});

test('errors that exists(), all(), || and && absorb are charged to the budget: a condition failing for every pair of 1,000 candidates stops at its column within a second, not after 8-30 s', () => {
  const candidates = Array.from({ length: 999 }, (_, i) => ({ item: `i_${i}`, score: i, rank: i + 1, recordedRank: i + 1, prevRank: null, features: { n: i }, meta: {} }));
  const scope = makeScope({ candidates });
  // A missing feature on every candidate, a non-bool condition, a division by zero: each pair errs.
  for (const [inner, at] of [['a.features.ctr > b.score', /^a\.features\.ctr$/], ['(a.score ? 1 : 2) == 3', /^a\.score$/], ['a.score / 0 > 1', /^a\.score \/ 0$/]] as const) {
    const t0 = performance.now();
    overBudget(`candidates.exists(a, candidates.exists(b, ${inner}))`, /^this fails so often that the errors exists\(\), all\(\), '\|\|' and '&&' absorb run past the 1,000,000 steps/, at, scope);
    assert.ok(performance.now() - t0 < 1000, `${inner}: took ${Math.round(performance.now() - t0)} ms`);
  }
  // Errors absorbed a thousand times over still give the value, and the error surfaces as before.
  assert.equal(compileExpr('candidates.exists(c, c.features.ctr > 0.5 || c.features.n == 998)').evaluate(scope), true);
  assert.throws(() => compileExpr('candidates.exists(c, c.features.ctr > 0.5)').evaluate(scope), (e: unknown) => e instanceof ExprError && /no field 'ctr'/.test(e.reason));
});
