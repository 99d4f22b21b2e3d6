import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseExpr, printExpr } from '../../src/core/expr/index';

const reprint = (text: string): string => printExpr(parseExpr(text));

test('printing keeps only the parentheses the shape needs', () => {
  assert.equal(reprint('((a + b)) * c'), '(a + b) * c');
  assert.equal(reprint('a + (b * c)'), 'a + b * c');
  assert.equal(reprint('a - (b - c)'), 'a - (b - c)');
  assert.equal(reprint('(a - b) - c'), 'a - b - c');
  assert.equal(reprint('(a ? b : c) ? d : (e ? f : g)'), '(a ? b : c) ? d : e ? f : g');
  assert.equal(reprint('-(a.b)'), '-a.b');
  assert.equal(reprint('(-a).b'), '(-a).b');
  assert.equal(reprint('!(a && b)'), '!(a && b)');
  assert.equal(reprint('(a || b) && c'), '(a || b) && c');
});

test('printing normalises literals and spacing', () => {
  assert.equal(reprint("'it\\'s'"), '"it\'s"');
  assert.equal(reprint('0x10 + 1.50 + 1e3'), '16 + 1.5 + 1000');
  assert.equal(reprint('{ "a" : [1,2,] }'), '{"a": [1, 2]}');
  assert.equal(reprint('xs.map(x,x>1,x*2)'), 'xs.map(x, x > 1, x * 2)');
  assert.equal(reprint('has( a.b )'), 'has(a.b)');
});
