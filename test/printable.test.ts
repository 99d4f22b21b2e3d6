import { test } from 'node:test';
import assert from 'node:assert/strict';
import { oneLine, printable } from '../src/shared/printable';

test('printable shows control characters, bidi overrides and isolates, and the invisible direction marks as escapes; tabs and line breaks stay', () => {
  assert.equal(printable('a\u001b[2Jb\u0007'), 'a\\x1b[2Jb\\x07');
  assert.equal(printable('i_evil\u202e01_i \u2067x\u2069'), 'i_evil\\u202e01_i \\u2067x\\u2069');
  // LRM, RLM and ALM draw nothing but move the neutral characters around them: "1 - 2" can read "2 - 1".
  assert.equal(printable('1\u200f - \u200e2\u061c'), '1\\u200f - \\u200e2\\u061c');
  assert.equal(printable('a\tb\nc'), 'a\tb\nc');
  assert.equal(printable('café ü 😀 العربية'), 'café ü 😀 العربية', 'letters of any script stay');
  assert.equal(oneLine('a\nb\u200f'), 'a\\nb\\u200f');
});
