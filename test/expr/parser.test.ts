import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Expr } from '../../src/core/expr/ast';
import { ExprError, parseExpr } from '../../src/core/expr/index';
import { lex } from '../../src/core/expr/lexer';

/** Fully parenthesised form, so that precedence is visible in an assertion. */
function sx(e: Expr): string {
  switch (e.type) {
    case 'literal':
      return JSON.stringify(e.value);
    case 'ident':
      return e.name;
    case 'list':
      return `[${e.items.map(sx).join(' ')}]`;
    case 'map':
      return `{${e.entries.map((en) => `${sx(en.key)}:${sx(en.value)}`).join(' ')}}`;
    case 'select':
      return `${sx(e.target)}.${e.field}`;
    case 'index':
      return `${sx(e.target)}[${sx(e.index)}]`;
    case 'call':
      return `${e.callee}(${e.args.map(sx).join(' ')})`;
    case 'method':
      return `${sx(e.target)}.${e.method}(${e.args.map(sx).join(' ')})`;
    case 'macro':
      return `${sx(e.target)}.${e.macro}(${[e.variable, ...(e.filter ? [sx(e.filter)] : []), sx(e.body)].join(' ')})`;
    case 'has':
      return `has(${sx(e.target)})`;
    case 'unary':
      return `(${e.op}${sx(e.operand)})`;
    case 'binary':
      return `(${sx(e.left)} ${e.op} ${sx(e.right)})`;
    case 'conditional':
      return `(${sx(e.test)} ? ${sx(e.consequent)} : ${sx(e.alternate)})`;
  }
}

const p = (text: string): string => sx(parseExpr(text));

test('multiplication binds tighter than addition, both left-associative', () => {
  assert.equal(p('1 + 2 * 3'), '(1 + (2 * 3))');
  assert.equal(p('1 - 2 - 3'), '((1 - 2) - 3)');
  assert.equal(p('8 / 4 % 3 * 2'), '(((8 / 4) % 3) * 2)');
});

test('relations sit between arithmetic and &&, and chain left to right as in CEL', () => {
  assert.equal(p('a + 1 < b * 2 && c'), '(((a + 1) < (b * 2)) && c)');
  assert.equal(p('a < b == c'), '((a < b) == c)');
  assert.equal(p('"x" in served == true'), '(("x" in served) == true)');
});

test('&& binds tighter than ||, and ?: is loosest and right-associative', () => {
  assert.equal(p('a || b && c'), '(a || (b && c))');
  assert.equal(p('a ? b : c ? d : e'), '(a ? b : (c ? d : e))');
  assert.equal(p('a || b ? 1 : 2'), '((a || b) ? 1 : 2)');
});

test('unary operators bind tighter than binary ones and apply to members', () => {
  assert.equal(p('-a.b * 2'), '((-a.b) * 2)');
  assert.equal(p('!has(a.b) || --x'), '((!has(a.b)) || (-(-x)))');
  assert.equal(p('!!a'), '(!(!a))');
});

test('member access, indexing, calls, methods and macros chain left to right', () => {
  assert.equal(p('a.b[0].c(1, 2)'), 'a.b[0].c(1 2)');
  assert.equal(p('metrics["hit_rate@10"]'), 'metrics["hit_rate@10"]');
  assert.equal(p('candidates.exists(c, c.score > 0.9)'), 'candidates.exists(c (c.score > 0.9))');
  assert.equal(p('xs.map(x, x > 1, x * 2)'), 'xs.map(x (x > 1) (x * 2))');
  assert.equal(p('xs.filter(x, x.a).size()'), 'xs.filter(x x.a).size()');
  assert.equal(p('"ab".startsWith("a")'), '"ab".startsWith("a")');
  assert.equal(p('(1 + 2).size()'), '(1 + 2).size()');
});

test('literals: numbers in every form, strings with escapes, lists and maps with trailing commas', () => {
  assert.equal(p('[1, 2.5, 1e-3, .5, 0x1F, 3E2,]'), '[1 2.5 0.001 0.5 31 300]');
  assert.equal(p(String.raw`'it\'s' + "a\"b" + "\n\t\\" + "\x41\u00e9\U0001F600\101"`), String.raw`((("it's" + "a\"b") + "\n\t\\") + "Aé😀A")`);
  assert.equal(p(String.raw`r"\d+"`), String.raw`"\\d+"`);
  assert.equal(p('{"a": 1, "b": [true, false, null],}'), '{"a":1 "b":[true false null]}');
  assert.equal(p('1.size()'), '1.size()');
  assert.equal(p('x // a comment\n + 1'), '(x + 1)');
});

test('every node records its 0-based start and end', () => {
  const e = parseExpr('rank("i_42") <= 3 && user.segment == "new"');
  assert.equal(e.type, 'binary');
  if (e.type !== 'binary' || e.left.type !== 'binary' || e.right.type !== 'binary') return;
  assert.deepEqual([e.start, e.end], [0, 42]);
  assert.deepEqual([e.left.start, e.left.end], [0, 17]);
  const call = e.left.left;
  assert.deepEqual([call.start, call.end], [0, 12]);
  const sel = e.right.left;
  assert.equal(sel.type, 'select');
  if (sel.type !== 'select') return;
  assert.deepEqual([sel.start, sel.end, sel.fieldStart], [21, 33, 26]);
  const m = parseExpr('xs.exists(v, v)');
  assert.equal(m.type === 'macro' && m.variableStart, 10);
  // Parentheses leave no node: the inner expression keeps its own span.
  const paren = parseExpr('(a + b)');
  assert.deepEqual([paren.start, paren.end], [1, 6]);
});

/** Each syntax error: the text, the column the message names, and the message. */
const ERRORS: [string, number, string][] = [
  ['', 1, 'the expression is empty'],
  ['   ', 4, 'the expression is empty'],
  ['rank("i_42" > 3', 16, "expected ')' to close the call opened at column 5"],
  ['(1 + 2', 7, "expected ')' to close the parenthesis opened at column 1"],
  ['[1, 2', 6, "expected ']' to close the list opened at column 1"],
  ['xs[0', 5, "expected ']' to close the index opened at column 3"],
  ['{"a": 1', 8, "expected '}' to close the map opened at column 1"],
  ['{"a" 1}', 6, "expected ':' after the map key"],
  ['a ? b', 6, "expected ':' to complete the '?' at column 3"],
  ['a.', 2, "expected a field name after '.', found the end of the expression"],
  ['a.1', 3, "expected a field name after '.', found '1'"],
  ['1 2', 3, "unexpected '2' after the end of the expression; is an operator missing?"],
  ['a +', 4, 'the expression ends too early: expected a value'],
  ['a * )', 5, "expected a value, found ')'"],
  ['f(1,)', 4, "expected an argument after ','"],
  ['a = 1', 3, "'=' is not an operator here; use '==' to compare"],
  ['a & b', 3, "use '&&' for 'and'"],
  ['a | b', 3, "use '||' for 'or'"],
  ['a # b', 3, "unexpected character '#'"],
  ['"abc', 1, 'unterminated string: close it with the quote it was opened with'],
  [String.raw`"a\qb"`, 3, String.raw`invalid escape sequence '\q' in a string: write \\ for a backslash, or a raw string (r"…"), which keeps backslashes`],
  [String.raw`"\d+"`, 2, String.raw`invalid escape sequence '\d' in a string: write \\ for a backslash, or a raw string (r"…"), which keeps backslashes`],
  [String.raw`"\400"`, 2, String.raw`invalid escape sequence '\4' in a string: an octal escape takes three digits, \000 to \377`],
  [String.raw`"\0"`, 2, String.raw`invalid escape sequence '\0' in a string: an octal escape takes three digits, \000 to \377`],
  // A backslash that ends the text (or the line) escapes nothing: the string is what is wrong.
  ['"abc\\', 1, 'unterminated string: close it with the quote it was opened with'],
  ['user.id == "a\\\nb"', 12, 'unterminated string: close it with the quote it was opened with'],
  [String.raw`"\x4"`, 2, String.raw`invalid escape sequence '\x4' in a string: \x takes 2 hex digits`],
  [String.raw`"\u12g4"`, 2, String.raw`invalid escape sequence '\u12' in a string: \u takes 4 hex digits`],
  [String.raw`"\U00110000"`, 2, String.raw`invalid escape sequence '\U00110000' in a string: it is above U+10FFFF, the last code point`],
  [String.raw`"\U0011000"`, 2, String.raw`invalid escape sequence '\U0011000' in a string: \U takes 8 hex digits`],
  ['"""triple"""', 1, 'triple-quoted strings are not supported: write "…" and \\n for a line break'],
  ['b"bytes"', 1, 'bytes literals are not supported: write a string'],
  ['1e', 1, "invalid number literal '1e'"],
  ['12abc', 1, "invalid number literal '12abc'"],
  ['1.2.3', 1, "invalid number literal '1.2.3'"],
  ['has(a)', 1, 'has() takes one field selection, as in has(event.session)'],
  ['has(a.b, c.d)', 1, 'has() takes one field selection, as in has(event.session)'],
  ['xs.exists(1, true)', 11, 'the first argument of exists() must be a variable name, as in exists(c, c.score > 0.5)'],
  ['xs.all(x)', 4, 'all() takes 2 arguments: a variable and a predicate'],
  ['xs.map(x, 1, 2, 3)', 4, 'map() takes 2 or 3 arguments: a variable and a transform (or a variable, a filter and a transform)'],
  ['a in', 5, 'the expression ends too early: expected a value'],
  ['in', 1, "expected a value, found 'in'"],
];

for (const [text, column, message] of ERRORS) {
  test(`syntax error at column ${column}: ${JSON.stringify(text)}`, () => {
    assert.throws(
      () => parseExpr(text),
      (err: unknown) => {
        assert.ok(err instanceof ExprError);
        assert.equal(err.kind, 'syntax');
        assert.equal(err.reason, message);
        assert.equal(err.column, column);
        assert.equal(err.message, `column ${column}: ${message}`);
        return true;
      },
    );
  });
}

test('nesting deeper than 200 levels is an error, not a stack overflow', () => {
  assert.throws(() => parseExpr('('.repeat(5000) + '1' + ')'.repeat(5000)), /nested too deeply/);
  assert.throws(() => parseExpr('-'.repeat(5000) + '1'), /nested too deeply/);
  // A flat chain nests one level per operand: said as a chain too long, with the shorter form for alternatives.
  assert.throws(() => parseExpr(Array.from({ length: 5000 }, () => 'a').join(' + ')), /chains more than 200 operands with one operator/);
  assert.throws(() => parseExpr(Array.from({ length: 201 }, (_, i) => `"i_${i}" in served`).join(' || ')), /chains more than 200 operands .*write x in \["a", "b", …\]/);
  assert.doesNotThrow(() => parseExpr(Array.from({ length: 150 }, (_, i) => `"i_${i}" in served`).join(' || ')));
  assert.throws(() => parseExpr('a' + '.b'.repeat(5000)), /nested too deeply/);
  assert.doesNotThrow(() => parseExpr(Array.from({ length: 150 }, () => 'a').join(' + ')));
});

test('the tolerant lexer used by completions keeps an unterminated string as a token', () => {
  const toks = lex('score("i_4', 0, 10, true);
  const s = toks.find((t) => t.kind === 'string');
  assert.deepEqual({ value: s?.value, unterminated: s?.unterminated }, { value: 'i_4', unterminated: true });
  assert.deepEqual(lex('a # b', 0, 5, true).map((t) => t.kind), ['ident', 'error', 'ident', 'eof']);
});

test('words and arrows from other languages say which operator to write', () => {
  const reason = (text: string) => {
    try {
      parseExpr(text);
    } catch (e) {
      return (e as Error).message;
    }
    return 'parsed';
  };
  assert.equal(reason('a and b'), "column 3: 'and' is not an operator here; use '&&'");
  assert.equal(reason('a or b'), "column 3: 'or' is not an operator here; use '||'");
  assert.equal(reason('not x'), "column 1: 'not' is not an operator here; use '!' to negate");
  assert.equal(reason('x => 3'), "column 3: '=>' is not an operator; use '>=' for 'at least'");
  assert.equal(reason('x = 3'), "column 3: '=' is not an operator here; use '==' to compare");
  // A word that objects inherit is just an unexpected name.
  assert.match(reason('a constructor'), /unexpected .*constructor.* is an operator missing\?/);
});

test('number literals a double cannot hold are errors, not silently another number', () => {
  assert.throws(() => parseExpr('x > 1e400'), /column 5: number literal '1e400' is out of range/);
  assert.throws(() => parseExpr('9007199254740993 == 9007199254740992'), /column 1: whole number literal '9007199254740993' cannot be held exactly: .* it would read as 9007199254740992/);
  assert.throws(() => parseExpr('0xFFFFFFFFFFFFFFFFFFFF'), /cannot be held exactly/);
  // Too small: it would read as 0.
  assert.throws(() => parseExpr('x == 1e-400'), /column 6: number literal '1e-400' is too small for a double .* it would read as 0/);
  assert.throws(() => parseExpr('2e-324'), /too small for a double/);
  // Exact doubles past 2^53, and the way a double is written, stay numbers; so do zeros and the smallest subnormal.
  assert.doesNotThrow(() => parseExpr('9007199254740991 + 9007199254740994 + 12345678901234567000 + 1e308 + 0x1F + 2.5e-300 + 007 + 5e-324 + 0e-400 + 0.0e5 + 0x0'));
});

test('a map literal that repeats a literal key is a syntax error when the expression is parsed, not at its first evaluation', () => {
  assert.throws(() => parseExpr('{"a": 1, "b": 2, "a": 3}'), (e: unknown) => e instanceof Error && e.message === 'column 18: duplicate key "a" in a map');
  assert.doesNotThrow(() => parseExpr('{"a": 1, "A": 2, "b": {"a": 3}}'));
});

test('a name b or rb next to something else is a name, not a bytes literal', () => {
  assert.doesNotThrow(() => parseExpr('b + rb == br'));
  assert.doesNotThrow(() => parseExpr('"" + ""'));
});
