import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkExpr, compileExpr, ExprError, interpolate } from '../../src/core/expr/index';
import { env, makeScope } from './fixtures';
import { Slice } from '../../src/core/slice/reader';
import { Replayer } from '../../src/core/engine/replay';
import { RecordedRanker } from '../../src/core/rankers/builtin';
import { checkEnvFor } from '../../src/core/engine/exprScope';

// The user guide promises that its examples work and shows real error messages: hold it to that.
const doc = readFileSync(join(__dirname, '../../docs/expressions.md'), 'utf8');
const blocks = (lang: string): string[][] =>
  [...doc.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => (m[1] ?? '').split('\n').filter((l) => l.trim() !== ''));

test('every example in docs/expressions.md checks cleanly and evaluates to a bool', () => {
  const examples = blocks('cel').flat();
  assert.ok(examples.length >= 15, `only ${examples.length} examples found`);
  const scope = makeScope();
  for (const text of examples) {
    assert.deepEqual(checkExpr(text, env), [], text);
    assert.equal(typeof compileExpr(text, env, { expect: 'bool' }).evaluate(scope), 'boolean', text);
  }
});

test('the log point example prints what the guide says', () => {
  const [template] = blocks('text').flat();
  const printed = /^prints `([^`]+)`/m.exec(doc)?.[1];
  assert.ok(template !== undefined && printed !== undefined);
  assert.equal(interpolate(template, env).evaluate(makeScope()), printed);
});

test('every error example in the guide produces exactly that message', () => {
  const lines = blocks('errors').flat();
  assert.ok(lines.length >= 8 && lines.length % 2 === 0);
  for (let i = 0; i < lines.length; i += 2) {
    const [text, message] = [lines[i] ?? '', lines[i + 1] ?? ''];
    assert.throws(() => compileExpr(text, env), (err: unknown) => err instanceof ExprError && err.message === message, text);
  }
});

test('the names the guide gives for the bundled examples check cleanly against the cold-start slice', () => {
  const slice = Slice.open(join(__dirname, '../../examples/slices/cold-start.slice'));
  try {
    const coldEnv = checkEnvFor(new Replayer(slice, { ranker: new RecordedRanker() }));
    for (const text of ['rank("i_042") <= 3', 'candidates.exists(c, c.meta.category == "outdoor")', 'user.tenure_days >= 30 && user.fav == "outdoor"']) {
      const inDoc = text.startsWith('candidates') ? 'c.meta.category == "outdoor"' : text;
      assert.ok(doc.includes(`\`${inDoc}\``), `the guide shows ${inDoc}`);
      assert.deepEqual(checkExpr(text, coldEnv), [], text);
    }
  } finally {
    slice.close();
  }
});
