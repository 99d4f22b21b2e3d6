import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkExpr, compileExpr, parseExpr } from '../../src/core/expr/index';
import { typeOf } from '../../src/core/expr/checker';
import { tyName } from '../../src/core/expr/env';
import type { Diagnostic } from '../../src/core/expr/index';
import { env } from './fixtures';

const show = (d: Diagnostic): string => `${d.severity} ${d.code} col ${d.column}: ${d.message}`;
const diags = (text: string): string[] => checkExpr(text, env).map(show);

test('well-formed expressions over the schema have no diagnostics', () => {
  for (const text of [
    'rank("i_42") <= 3 && user.segment == "new"',
    'candidates.exists(c, c.features.ctr_7d > 0.05 && c.features.category == "outdoor")',
    'metrics["hit_rate@10"] >= 0.18 || metrics.ctr < 0.01',
    'user.age > 30 && user.features.country == "fr"',
    'system.latencyMs.score > 250 || system.fallback',
    'age("ctr_7d") > 86400 && age("i_7", "age_days") != null',
    'feature("i_42", "price") * 2 > 10',
    'event.custom_field == 1',
    'size(topk(10).filter(id, rankDelta(id) > 2)) > 0',
    'outcome.dwellMs["i_7"] > 1000 && "i_7" in outcome.clicks',
    '"ab".startsWith("a") ? stage : "x"',
  ]) {
    assert.deepEqual(diags(text), [], text);
  }
});

test('an unknown feature is an error that suggests the closest name', () => {
  assert.deepEqual(diags('candidates.exists(c, c.features.ctr_7 > 0.1)'), [
    "error unknown-feature col 33: unknown feature 'ctr_7'; did you mean 'ctr_7d'?",
  ]);
  assert.deepEqual(diags('feature("i_42", "ctr_7")'), ["error unknown-feature col 17: unknown feature 'ctr_7'; did you mean 'ctr_7d'?"]);
  assert.deepEqual(diags('age("ctr7d") > 1'), ["error unknown-feature col 5: unknown feature 'ctr7d'; did you mean 'ctr_7d'?"]);
  assert.deepEqual(diags('user.features.agee'), ["error unknown-feature col 15: unknown user feature 'agee'; did you mean 'age'?"]);
  assert.deepEqual(diags('context.devise'), ["error unknown-feature col 9: unknown context feature 'devise'; did you mean 'device'?"]);
  const [d] = checkExpr('feature("i_42", "ctr_7")', env);
  assert.equal(d?.suggestion, 'ctr_7d');
  assert.deepEqual([d?.start, d?.end], [16, 23]);
});

test('an unknown metric is an error, with or without a close match', () => {
  assert.deepEqual(diags('metrics["hit_rate@1"] > 0'), ["error unknown-metric col 9: unknown metric 'hit_rate@1'; did you mean 'hit_rate@10'?"]);
  assert.deepEqual(diags('metrics.hit_rate > 0'), ["error unknown-metric col 9: unknown metric 'hit_rate'; did you mean 'hit_rate@10'?"]);
  assert.deepEqual(diags('metrics.coverage > 0'), ["error unknown-metric col 9: unknown metric 'coverage'"]);
});

test('unknown helpers, methods, names and fields are errors with suggestions', () => {
  assert.deepEqual(diags('scroe("i_42") > 0.5'), ["error unknown-helper col 1: unknown function 'scroe'; did you mean 'score'?"]);
  assert.deepEqual(diags('rnak("i_42")'), ["error unknown-helper col 1: unknown function 'rnak'; did you mean 'rank'?"]);
  assert.deepEqual(diags('served.exist(s, true)'), ["error unknown-method col 8: unknown method 'exist'; did you mean 'exists'?"]);
  assert.deepEqual(diags('evnt.id'), ["error unknown-identifier col 1: unknown name 'evnt'; did you mean 'event'?"]);
  assert.deepEqual(diags('score > 1'), ["error unknown-identifier col 1: 'score' is a function; call it as score(id)"]);
  assert.deepEqual(diags('candidates[0].scroe'), ["error unknown-field col 15: unknown candidate field 'scroe'; did you mean 'score'?"]);
  assert.deepEqual(diags('system.latencyMs.scor'), ["error unknown-field col 18: unknown stage 'scor'; did you mean 'score'?"]);
  assert.deepEqual(diags('candidates.exists(c, d.score > 1)'), ["error unknown-identifier col 22: unknown name 'd'; did you mean 'c'?"]);
});

test('obvious type mismatches are errors', () => {
  assert.deepEqual(diags('score("i_42") > "a"'), ["error type-mismatch col 1: cannot compare number with string using '>'"]);
  assert.deepEqual(diags('metrics.ctr && true'), ["error type-mismatch col 1: operator '&&' needs true or false on both sides, but its left side is number"]);
  assert.deepEqual(diags('!rank("i_7")'), ["error type-mismatch col 1: operator '!' needs true or false, not number"]);
  assert.deepEqual(diags('stage + 1'), ["error type-mismatch col 1: operator '+' cannot combine string and number (it works on numbers, strings or lists)"]);
  assert.deepEqual(diags('served - served'), ["error type-mismatch col 1: operator '-' cannot combine list of string and list of string (it works on numbers)"]);
  assert.deepEqual(diags('served[0] < 1'), ["error type-mismatch col 1: cannot compare string with number using '<'"]);
  assert.deepEqual(diags('served["a"]'), ["error type-mismatch col 8: a list index must be a number, not string"]);
  assert.deepEqual(diags('candidates.exists(c, c.score)'), ["error type-mismatch col 22: the predicate of exists() must be true or false, not number"]);
  assert.deepEqual(diags('rank(1)'), ["error type-mismatch col 6: argument 1 of rank() must be a string, not number"]);
  assert.deepEqual(diags('stage.size() > 1 && served.contains("a")'), ["error type-mismatch col 28: contains() needs a string, not list of string"]);
  assert.deepEqual(diags('1 in stage'), ["error type-mismatch col 1: 'in' needs a list or a map on its right, not string"]);
  assert.deepEqual(diags('metrics.ctr ? 1 : 2'), ["error type-mismatch col 1: the condition before '?' must be true or false, not number"]);
  assert.deepEqual(diags('size(1)'), ['error type-mismatch col 6: argument 1 of size() must be a string, list or map, not number']);
  assert.deepEqual(diags('topk()'), ['error arity col 1: topk() takes 1 argument, got 0: topk(k)']);
  assert.match(diags('max()')[0] ?? '', /max\(\) takes at least 1 argument, got 0/);
});

test('suspicious but legal expressions are warnings', () => {
  assert.deepEqual(diags('rank("i_4") <= 3'), ["warning unknown-item col 6: unknown item 'i_4': it is not in the slice's catalogue; did you mean 'i_42'?"]);
  assert.deepEqual(diags('score("i_42") == "high"'), ["warning type-mismatch col 1: comparing number with string using '==' is always false"]);
  assert.deepEqual(diags('rank("i_7") < null'), ["warning type-mismatch col 1: '<' with null is always false"]);
  assert.deepEqual(diags('metrics.ctr / 0'), ['warning division-by-zero col 15: division by zero always fails']);
  assert.deepEqual(diags('has(user.features.agee)'), ["warning unknown-feature col 19: unknown user feature 'agee'; did you mean 'age'?"]);
  assert.deepEqual(diags('1 in served'), ['warning type-mismatch col 1: number is never in a list of string']);
});

test('a condition must be a bool when the caller says so', () => {
  assert.deepEqual(checkExpr('rank("i_7")', env, { expect: 'bool' }).map(show), [
    'error not-a-condition col 1: a condition must be true or false, but this expression gives number',
  ]);
  assert.deepEqual(checkExpr('event.anything', env, { expect: 'bool' }), [], 'unknown types pass');
});

test('syntax errors come back as a diagnostic instead of a throw', () => {
  assert.deepEqual(diags('rank("i_42" > 3'), ["error syntax col 16: expected ')' to close the call opened at column 5"]);
});

test('every problem is reported, not only the first', () => {
  assert.deepEqual(diags('scroe(1) > 0 && metrics.ctx > 0'), [
    "error unknown-helper col 1: unknown function 'scroe'; did you mean 'score'?",
    "error unknown-metric col 25: unknown metric 'ctx'; did you mean 'ctr'?",
  ]);
});

test('macro variables are typed from their range and shadow bindings', () => {
  assert.deepEqual(diags('served.exists(user, user.startsWith("i_"))'), []);
  assert.deepEqual(diags('candidates.map(c, c.item).exists(id, id.size() > 0)'), []);
  assert.deepEqual(diags('metrics.exists(k, k.startsWith("hit"))'), [], 'a map ranges over its (string) keys');
  assert.deepEqual(diags('candidates.exists(c, c.features.price > 1) && c.score > 0'), ["error unknown-identifier col 47: unknown name 'c'"]);
});

test('feature names the engine adds beyond the schema are accepted when the environment lists them', () => {
  assert.deepEqual(diags('age("i_42", "online.ctr") > 60'), ["error unknown-feature col 13: unknown feature 'online.ctr'"]);
  const withOnline = { ...env, extraFeatures: ['online.ctr', 'online.clicks'] };
  assert.deepEqual(checkExpr('age("i_42", "online.ctr") > 60 && feature("i_7", "online.clicks") > 2', withOnline), []);
});

test('branches and elements of different types unify to a dynamic type, not to the first one', () => {
  const type = (text: string): string => tyName(typeOf(parseExpr(text), env, new Map()));
  // Two records (user and context) were "the first one": its fields only, so .device was an error.
  assert.deepEqual(diags('(stage == "x" ? user : context).device == "ios"'), []);
  assert.deepEqual(diags('[context, user][1].segment == "new"'), []);
  // A list of numbers and a list of strings were a list of numbers: the checker let `> 0` through and the run failed.
  assert.equal(type('(false ? [1] : ["a"])[0]'), 'any');
  assert.equal(type('[[1], ["a"]]'), 'list of list');
  assert.deepEqual(diags('(false ? [1] : ["a"])[0].size()'), []);
  // What is the same on both sides keeps its type.
  assert.equal(type('stage == "x" ? [[1]] : [[2, 3]]'), 'list of list of number');
  assert.equal(type('true ? user : user'), 'user');
  assert.deepEqual(diags('(true ? [1] : [2])[0] > "a"'), ["error type-mismatch col 2: cannot compare number with string using '>'"]);
});

test('lists joined with + hold the elements of both: served + [1] is not a list of strings', () => {
  const type = (text: string): string => tyName(typeOf(parseExpr(text), env, new Map()));
  // Its third element is the number 1: refused as "string > number", and "x == 1" warned as always false.
  assert.deepEqual(diags('(served + [1])[2] > 0'), []);
  assert.deepEqual(diags('(served + [1]).exists(x, x == 1)'), []);
  assert.equal(type('served + [1]'), 'list');
  assert.equal(type('served + ["i_7"]'), 'list of string', 'the same element type is kept');
});

test('event.candidates and event.system are typed as the slice records them, not as the replay shows them', () => {
  // The recorded candidates have no ranks, meta or item features: these passed the check and always failed.
  const hint = 'event.candidates are the records of the slice (item, features, score); the replayed candidates, with ranks and item features, are `candidates`';
  assert.deepEqual(diags('event.candidates[0].rank <= 3'), [`error unknown-field col 21: unknown recorded candidate field 'rank': ${hint}`]);
  assert.deepEqual(diags('event.candidates.exists(c, c.meta.source == "ann")'), [`error unknown-field col 30: unknown recorded candidate field 'meta': ${hint}`]);
  assert.deepEqual(diags('event.candidates[0].features.category == "books"'), ["error unknown-feature col 30: unknown candidate feature 'category'"]);
  assert.deepEqual(diags('event.candidates.exists(c, c.item == "i_7" && c.score > 0.5 && c.features.ctr_7d > 0.1)'), []);
  assert.deepEqual(diags('candidates[0].rank <= 3 && candidates[0].features.category == "books"'), []);
  assert.deepEqual(diags('event.system.latencyMs.score > 10 && event.system.cache.hits > 0'), []);
  assert.deepEqual(diags('event.system.latencyMs.scor > 10'), ["error unknown-field col 24: unknown stage 'scor'; did you mean 'score'?"]);
});

test("age() of an online feature needs an item: age(name) reads the event's featureTimes, which never hold one", () => {
  const withOnline = { ...env, extraFeatures: ['online.ctr'] };
  assert.deepEqual(checkExpr('age("online.ctr") > 60', withOnline).map(show), [
    'error online-age-needs-item col 1: an online feature\'s age is per item: write age(id, "online.ctr") with an item id (age("online.ctr") is always null)',
  ]);
  assert.deepEqual(checkExpr('age("i_42", "online.ctr") > 60 && candidates.exists(c, age(c.item, "online.ctr") > 60)', withOnline), []);
});

test('min() and max() take one list or several numbers: a list among several arguments is refused when checked, as evaluation refuses it', () => {
  for (const text of ['min([1, 2], [3]) > 0', 'max([], 1) > 0']) {
    const d = checkExpr(text, env).find((x) => x.code === 'type-mismatch');
    assert.match(d?.message ?? '', /argument \d of m(in|ax)\(\) must be a number, not list/, text);
  }
  assert.deepEqual(checkExpr('min([1, 2]) < max(1, 2, 3)', env), []);
});

test('a literal null where a helper wants an item id or a number is refused when checked (rank(null) and topk(null) failed when evaluated)', () => {
  for (const text of ['rank(null) > 0', 'size(topk(null)) > 0']) {
    assert.ok(checkExpr(text, env).some((d) => d.code === 'type-mismatch' && /must be a (string|number), not null/.test(d.message)), text);
  }
  // Data that may be null is left to evaluation.
  assert.ok(!checkExpr('rank(user.segment) > 0', env).some((d) => d.code === 'type-mismatch'));
});

test('arithmetic with null (or an unknown) on one side still needs an operand the operator takes on the other', () => {
  for (const text of ['!(null % true)', '{"a": 1} * null > 0']) {
    assert.ok(checkExpr(text, env).some((d) => d.code === 'type-mismatch' && /operator '[%*]' cannot take (bool|map)/.test(d.message)), text);
  }
  assert.deepEqual(checkExpr('null + 1 > 0 && "a" + null == "a" && size([1] + null) > 0', env).filter((d) => d.severity === 'error'), []);
});

test('a user field the schema does not list is read from the user record with a warning (users.jsonl records may carry their own, e.g. plan); one close to a known name stays an error', () => {
  assert.deepEqual(diags('user.plan == "pro"'), ["warning unknown-feature col 6: user field 'plan' is not in the slice's schema: it is read from the user's record, and is an error for a user without it (has(user.plan) tests for it)"]);
  assert.deepEqual(checkExpr('has(user.plan) && user.plan == "pro"', env).filter((d) => d.severity === 'error'), []);
  // A misspelt feature or field: still refused, with the near name.
  assert.match(diags('user.segmnt == "new"')[0] ?? '', /^error unknown-feature col 6: unknown user field or feature 'segmnt'; did you mean 'segment'\?/);
  assert.match(diags('user.features.agee')[0] ?? '', /^error /, 'the features object stays closed');
  // Evaluated against a record that has it, and one that does not.
  const read = compileExpr('user.plan == "pro"', env);
  assert.equal(read.evaluate({ user: { id: 'u1', plan: 'pro' } } as never), true);
  assert.throws(() => read.evaluate({ user: { id: 'u2' } } as never), /no field or feature 'plan' in user/);
});
