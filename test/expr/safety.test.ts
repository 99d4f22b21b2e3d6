import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = join(__dirname, '../../src/core/expr');
const sources = readdirSync(dir)
  .filter((f) => f.endsWith('.ts'))
  .map((f) => ({ file: f, text: readFileSync(join(dir, f), 'utf8') }));

test('the expression sources exist (so the checks below cannot pass vacuously)', () => {
  for (const f of ['lexer.ts', 'parser.ts', 'checker.ts', 'compile.ts', 'index.ts']) assert.ok(sources.some((s) => s.file === f), f);
});

test('no source hands text to eval or the Function constructor', () => {
  for (const { file, text } of sources) {
    assert.doesNotMatch(text, /\beval\s*\(/, `${file} calls eval`);
    assert.doesNotMatch(text, /\bnew\s+Function\b|\bFunction\s*\(/, `${file} builds a Function`);
    assert.doesNotMatch(text, /\bimport\s*\(|\brequire\s*\(/, `${file} loads code dynamically`);
  }
});

test('the expression code has no dependencies beyond the core itself', () => {
  for (const { file, text } of sources) {
    for (const m of text.matchAll(/from '([^']+)'/g)) {
      const spec = m[1] ?? '';
      assert.ok(spec.startsWith('./') || spec === '../errors' || spec === '../slice/types', `${file} imports ${spec}`);
    }
  }
});
