import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExprError, interpolate } from '../../src/core/expr/index';
import { env, makeScope } from './fixtures';

const scope = makeScope();

test('holes are evaluated and formatted: strings bare, other values as literals', () => {
  assert.equal(interpolate("score is {score('i_42')}").evaluate(scope), 'score is 0.82');
  assert.equal(interpolate('{user.segment} user saw {served} ({size(served)} items)').evaluate(scope), 'new user saw ["i_42", "i_7"] (2 items)');
  assert.equal(interpolate('{ {"k": rank("i_7")} }').evaluate(scope), '{"k": 2}', 'map literals nest inside a hole');
  assert.equal(interpolate('{"}" + "{"}').evaluate(scope), '}{', 'braces inside strings do not close a hole');
  assert.equal(interpolate('no holes').evaluate(scope), 'no holes');
});

test('{{ and }} are literal braces', () => {
  assert.equal(interpolate('{{rank}} = {rank("i_42")}').evaluate(scope), '{rank} = 1');
  assert.equal(interpolate('}}{{').evaluate(scope), '}{');
});

test('a hole that fails at a stop renders the reason instead of throwing', () => {
  assert.equal(interpolate('x={event.nope} y={1 + 1}').evaluate(scope), "x=<error: no field 'nope' in event> y=2");
});

test('a hole whose text would outgrow the budget renders that reason too, instead of a RangeError from the log point', () => {
  const hole = `${'string(['.repeat(30)}stage${'])'.repeat(30)}.size()`;
  assert.match(interpolate(`a {${hole}} b`, env).evaluate(scope), /^a <error: string\(\) and the macros around it handle more than 1,000,000 elements and characters of text in one evaluation: [^>]*> b$/);
});

test('errors in a template name the column in the whole template', () => {
  const at = (template: string, column: number, reason: string): void => {
    assert.throws(
      () => interpolate(template, env),
      (err: unknown) => err instanceof ExprError && err.column === column && err.reason === reason,
      template,
    );
  };
  at('score is {score("i_42" > 1}', 27, "expected ')' to close the call opened at column 16");
  at('ctr {feature("i_7", "ctr_7")}', 21, "unknown feature 'ctr_7'; did you mean 'ctr_7d'?");
  at('a } b', 3, "unmatched '}' in the message; write '}}' for a literal brace");
  at('a { b', 3, "the '{' at column 3 is never closed; write '{{' for a literal brace");
  // A comment that hid the '}' is what is named (the '{' was blamed).
  at('{// comment}', 2, "the '//' at column 2 starts a comment that runs to the end of the line, so the '}' after it does not close the '{' at column 1; end the comment with a new line, or leave it out");
  assert.equal(interpolate('{1 // one\n}', env).evaluate(scope), '1');
  at('empty {}', 8, 'the expression is empty');
});

test('the template lists the identifiers of all its holes', () => {
  const t = interpolate('{rank("i_42")} {user.segment} {rank("i_7")}');
  assert.deepEqual(t.identifiers, ['rank', 'user']);
  assert.equal(t.source, '{rank("i_42")} {user.segment} {rank("i_7")}');
});

test('a hole ends where the lexer says: a raw string keeps its backslash, a comment runs to the end of its line, braces and quotes in either are text', () => {
  const s = makeScope();
  assert.equal(interpolate('path {r"C:\\"} rank {rank("i_42")}').evaluate(s), 'path C:\\ rank 1');
  assert.equal(interpolate("c {R'\\'} d").evaluate(s), 'c \\ d');
  assert.equal(interpolate('x {rank("i_42") // it\'s the rank {\n} y').evaluate(s), 'x 1 y');
});
