import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exprScope } from '../../src/core/engine/exprScope';
import { Replayer } from '../../src/core/engine/replay';
import { allFeatures } from '../../src/core/engine/rows';
import { compileExpr } from '../../src/core/expr/index';
import { loadRanker } from '../../src/core/rankers';
import { Slice } from '../../src/core/slice/reader';
import { rawSlice } from '../helpers';

/** Event 1 of a slice whose only line is `line`, fully executed, and its expression scope. */
async function stopAt(line: Record<string, unknown>) {
  const base = { id: 'e1', t: '2025-01-01T00:00:10Z', user: 'u1', candidates: [{ item: 'a', features: { x: 1 } }, { item: 'b', features: { x: 2 } }], served: ['a', 'b'] };
  const slice = Slice.open(rawSlice(JSON.stringify({ ...base, ...line }) + '\n'));
  const r = new Replayer(slice, { ranker: loadRanker('recorded', { slice }) });
  r.advance();
  await r.finishEvent();
  const ex = r.current;
  assert.ok(ex);
  return { r, ex, ev: (text: string) => compileExpr(text).evaluate(exprScope(ex, r)) };
}

test('an event field named "__proto__" in the slice stays a field: it never becomes the prototype expressions read through', async () => {
  // JSON text, as a slice holds it: JSON.parse makes "__proto__" an own field.
  const line = JSON.parse('{"__proto__": {"ghost": 5}, "extra": {"__proto__": {"ghost": 6}}}') as Record<string, unknown>;
  const { r, ev } = await stopAt(line);
  try {
    assert.equal(ev('has(event.ghost)'), false);
    assert.throws(() => ev('event.ghost == 5'), /no field 'ghost'|ghost/);
    assert.deepEqual(ev('event["__proto__"]'), { ghost: 5 });
    assert.equal(ev('has(event.extra.ghost)'), false);
  } finally {
    r.dispose();
  }
});

test('age() reads only the event\'s own featureTimes: age("constructor") is null, not Object\'s constructor', async () => {
  const { r, ev } = await stopAt({ featureTimes: { x: '2025-01-01T00:00:00Z' } });
  try {
    assert.equal(ev('age("x")'), 10);
    assert.equal(ev('age("constructor")'), null);
    assert.equal(ev('age("__proto__")'), null);
    assert.equal(ev('age("toString")'), null);
  } finally {
    r.dispose();
  }
});

test('allFeatures (what a stop shows) keeps a feature named "__proto__" as a feature', async () => {
  const { r, ex } = await stopAt({ candidates: [JSON.parse('{"item": "a", "features": {"__proto__": 3, "x": 1}}'), { item: 'b', features: { x: 2 } }] });
  try {
    const row = ex.rows.find((w) => w.item === 'a');
    assert.ok(row);
    const f = allFeatures(row, { event: ex.event, user: ex.user, state: r.state });
    assert.equal(Object.getPrototypeOf(f), Object.prototype);
    assert.equal(Object.hasOwn(f, '__proto__'), true);
    assert.equal(f['x'], 1);
  } finally {
    r.dispose();
  }
});

test('score is null until the score stage has run, as the docs say (NaN compared false with everything, even itself)', async () => {
  const base = { id: 'e1', t: '2025-01-01T00:00:10Z', user: 'u1', candidates: [{ item: 'a', features: { x: 1 }, score: 0.7 }, { item: 'b', features: { x: 2 }, score: 0.2 }], served: ['a', 'b'] };
  const slice = Slice.open(rawSlice(JSON.stringify(base) + '\n'));
  const r = new Replayer(slice, { ranker: loadRanker('recorded', { slice }) });
  try {
    r.advance();
    const ev = (text: string) => compileExpr(text).evaluate(exprScope(r.current as NonNullable<typeof r.current>, r));
    // Before retrieve, after retrieve, after features: not scored yet.
    for (let stage = 0; stage < 3; stage++) {
      assert.equal(ev('score("a")'), null, `after ${stage} stages`);
      assert.equal(ev('score("a") == null'), true);
      assert.equal(ev('candidates.all(c, c.score == null)'), true);
      await r.step();
    }
    assert.equal(ev('score("a")'), 0.7, 'after the score stage');
    assert.equal(ev('candidates.all(c, c.score >= 0)'), true);
  } finally {
    r.dispose();
  }
});

test('system.fallback is null until the serve stage has decided it, as the System scope shows it', async () => {
  // A budget of 1 ms: the serve stage serves the fallback, which the stages before it cannot know.
  const base = { id: 'e1', t: '2025-01-01T00:00:10Z', user: 'u1', candidates: [{ item: 'a', features: { x: 1 } }, { item: 'b', features: { x: 2 } }], served: ['a', 'b'] };
  const slice = Slice.open(rawSlice(JSON.stringify(base) + '\n'));
  const r = new Replayer(slice, { ranker: loadRanker('recorded', { slice }), pipeline: { budgetMs: 1 } });
  try {
    r.advance();
    const ev = (text: string) => compileExpr(text).evaluate(exprScope(r.current as NonNullable<typeof r.current>, r));
    for (let stage = 0; stage < 5; stage++) {
      assert.equal(ev('system.fallback'), null, `after ${stage} stages`);
      assert.throws(() => ev('!system.fallback'), /system\.fallback is null/, `after ${stage} stages`);
      await r.step();
    }
    assert.equal(ev('system.fallback'), true, 'after the serve stage');
  } finally {
    r.dispose();
  }
});

test('system.latencyMs.<stage> is null until that stage has run (a 0 made system.latencyMs.serve < 5 hold at the start of every event)', async () => {
  const base = { id: 'e1', t: '2025-01-01T00:00:10Z', user: 'u1', candidates: [{ item: 'a', features: { x: 1 } }], served: ['a'], system: { latencyMs: { retrieve: 7, serve: 3 } } };
  const slice = Slice.open(rawSlice(JSON.stringify(base) + '\n'));
  const r = new Replayer(slice, { ranker: loadRanker('recorded', { slice }) });
  try {
    r.advance();
    const ev = (text: string) => compileExpr(text).evaluate(exprScope(r.current as NonNullable<typeof r.current>, r));
    assert.equal(ev('system.latencyMs.retrieve'), null, 'before any stage ran');
    assert.equal(ev('system.latencyMs.serve < 5'), false, 'a latency not yet replayed is below no bound');
    for (let stage = 1; stage <= 6; stage++) {
      await r.step();
      assert.equal(ev('system.latencyMs.retrieve'), 7, `after ${stage} stages`);
      assert.equal(ev('system.latencyMs.serve'), stage >= 5 ? 3 : null, `after ${stage} stages`);
    }
    assert.equal(ev('system.latencyMs.serve < 5'), true);
  } finally {
    r.dispose();
  }
});
