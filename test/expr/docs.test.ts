import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkExpr, compileExpr, ExprError, interpolate } from '../../src/core/expr/index';
import { env, makeScope } from './fixtures';
import { Slice } from '../../src/core/slice/reader';
import { Replayer } from '../../src/core/engine/replay';
import { RecordedRanker } from '../../src/core/rankers/builtin';
import { checkEnvFor, exprScope } from '../../src/core/engine/exprScope';
import type { EventExec } from '../../src/core/engine/replay';
import { writeSlice } from '../../src/core/slice/writer';
import type { EventRecord } from '../../src/core/slice/types';
import { tmp } from '../helpers';

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

test('every example in docs/expressions.md checks cleanly against a real slice of the event record slice-format.md shows, and evaluates to a bool at its events', async () => {
  // The guide says its examples are written for such a slice: items i_42 and i_7, candidate
  // features ctr_7d and age_days, item feature category, user features age and country.
  const record = /## Event record\n\n```json\n([\s\S]*?)```/.exec(readFileSync(join(__dirname, '../../docs/slice-format.md'), 'utf8'))?.[1];
  assert.ok(record, 'docs/slice-format.md shows an event record');
  const event = JSON.parse(record) as EventRecord;
  const dir = join(tmp(), 'guide.slice');
  writeSlice(dir, {
    manifest: { name: 'guide', description: 'the event record of docs/slice-format.md', source: { kind: 'synthetic', generator: 'test/expr/docs.test.ts' }, seed: 1 },
    events: [event, { ...event, id: `${event.id}b` }],
    items: [{ id: 'i_42', features: { category: 'outdoor' } }, { id: 'i_7', features: { category: 'books' } }],
    users: [{ id: event.user, segment: 'new', features: { age: 31, country: 'fr' } }],
  }, { frozenAt: '2025-08-01T00:00:00Z' });
  const examples = blocks('cel').flat();
  const slice = Slice.open(dir);
  const replayer = new Replayer(slice, { ranker: new RecordedRanker() });
  try {
    const guideEnv = checkEnvFor(replayer);
    const compiled = examples.map((text) => {
      assert.deepEqual(checkExpr(text, guideEnv), [], text);
      return compileExpr(text, guideEnv, { expect: 'bool' });
    });
    let stops = 0;
    // At each completed event, where line breakpoints and `run --break` evaluate. (Before the serve
    // stage `system.fallback` is null, and `!system.fallback` says so: a documented error.)
    while (replayer.advance()) {
      await replayer.finishEvent();
      const ex = replayer.current as EventExec;
      stops++;
      const scope = exprScope(ex, replayer);
      for (const [i, c] of compiled.entries()) assert.equal(typeof c.evaluate(scope), 'boolean', `${examples[i]} at event ${ex.n}`);
    }
    assert.equal(stops, 2);
  } finally {
    replayer.dispose();
  }
});
