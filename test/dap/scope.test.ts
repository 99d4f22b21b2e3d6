// The expression scope the debugger and `run --break` evaluate against, built from engine stops.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkEnvFor, currentStage, exprScope, exprTerms } from '../../src/core/engine/exprScope';
import { Replayer, type EventExec } from '../../src/core/engine/replay';
import { compileExpr } from '../../src/core/expr';
import { loadRanker } from '../../src/core/rankers';
import { Slice } from '../../src/core/slice/reader';
import { COLD } from './helpers';

function replayer(): Replayer {
  const slice = Slice.open(COLD.slice);
  return new Replayer(slice, { ranker: loadRanker(COLD.ranker, { slice }) });
}

/** A replayer stopped after the first event's last stage, and that event. */
async function afterFirstEvent(): Promise<{ r: Replayer; ex: EventExec }> {
  const r = replayer();
  r.advance();
  await r.finishEvent();
  return { r, ex: r.current as EventExec };
}

test('bindings follow the stages: unscored candidates before retrieve, nothing served before serve, replayed clicks after outcome', async () => {
  const r = replayer();
  try {
    r.advance();
    const ex = r.current as EventExec;
    const before = exprScope(ex, r);
    assert.equal(before.stage, 'retrieve');
    assert.equal(before.candidates.length, ex.event.candidates.length);
    assert.ok(before.candidates.every((c) => c.score === null && c.rank === null && c.recordedRank > 0));
    // Through the score stage there is no replayed order yet: no rank, so `rank(id) <= 3` holds for none.
    for (let s = 1; s <= 3; s++) r.step();
    const scored = exprScope(ex, r);
    assert.equal(scored.stage, 'score');
    assert.ok(scored.candidates.every((c) => typeof c.score === 'number' && !Number.isNaN(c.score) && c.rank === null));
    const env = checkEnvFor(r);
    const some = scored.candidates.map((c) => c.item);
    for (const id of some) {
      assert.equal(compileExpr(`rank("${id}") <= 3`, env).evaluate(scored), false, id);
      assert.equal(compileExpr(`rankDelta("${id}") == null`, env).evaluate(scored), true, id);
    }
    assert.deepEqual(compileExpr('topk(3)', env).evaluate(scored), []);
    assert.equal(compileExpr('candidates.exists(c, c.rank <= 3)', env).evaluate(scored), false);
    r.step();
    assert.deepEqual(before.served, []);
    const ranked = exprScope(ex, r);
    assert.equal(ranked.stage, 'rerank');
    assert.deepEqual(ranked.candidates.map((c) => c.rank as number).sort((a, b) => a - b), ex.rows.map((_, i) => i + 1));
    assert.deepEqual(compileExpr('topk(3)', env).evaluate(ranked), ex.rankedRows.slice(0, 3).map((row) => row.item));
    assert.deepEqual(ranked.served, []);
    assert.deepEqual(ranked.outcome['clicks'], []);
    r.step();
    r.step();
    const done = exprScope(ex, r);
    assert.equal(done.stage, 'outcome');
    assert.deepEqual(done.served, ex.served);
    assert.deepEqual(done.outcome['clicks'], ex.clicks);
    assert.deepEqual(done.outcome['recordedClicks'], ex.event.outcome?.clicks ?? []);
    assert.equal((done.system['latencyMs'] as Record<string, number>)['score'], ex.latencyMs.score);
    assert.equal(done.event['index'], 1);
    assert.equal(done.event['line'], 1);
    assert.equal(done.event['id'], 'e00001');
  } finally {
    r.dispose();
  }
});

test('candidates join candidate and catalogue features (the candidate wins), metrics are live, helpers agree with rows', async () => {
  const { r, ex } = await afterFirstEvent();
  try {
    const s = exprScope(ex, r);
    const row = ex.rankedRows[0];
    assert.ok(row?.itemRec?.features);
    const c = s.candidates.find((x) => x.item === row.item);
    assert.equal(c?.features['age_days'], row.itemRec.features['age_days'], 'catalogue feature');
    assert.equal(c?.features['ctr_7d'], row.rec.features?.['ctr_7d'], 'candidate feature');
    assert.equal(c?.meta['category'], row.itemRec.category);
    const env = checkEnvFor(r);
    assert.equal(compileExpr(`rank("${row.item}") == 1 && score("${row.item}") == candidates.filter(x, x.rank == 1)[0].score`, env).evaluate(s), true);
    assert.equal(s.metrics['events'], 1);
    await r.seek(5, 6);
    assert.equal(exprScope(r.current as EventExec, r).metrics['events'], 5, 'the metrics view reads the accumulator the replayer has now');
    assert.equal(typeof s.featureAge('ctr_7d'), 'number');
    assert.equal(s.featureAge('no_such_feature'), null);
  } finally {
    r.dispose();
  }
});

test('currentStage and exprTerms', () => {
  assert.deepEqual([0, 1, 3, 6].map(currentStage), ['retrieve', 'retrieve', 'score', 'outcome']);
  assert.deepEqual(exprTerms('rank("i_42") <= 3 && user.segment == "new"'), ['rank("i_42")', 'user.segment']);
  assert.deepEqual(exprTerms('candidates.exists(c, c.score > 0.9) || size(served) > 2'), ['candidates.exists(c, c.score > 0.9)', 'size(served)']);
  assert.deepEqual(exprTerms('metrics["hit_rate@10"] < 0.2 ? stage == "serve" : 1 + 2 > 3'), ['metrics["hit_rate@10"]', 'stage']);
  assert.deepEqual(exprTerms('size([1, 2]) > 1'), [], 'constant parts read nothing at the stop');
});

test('candidates carry features and meta as plain maps (has, keys in errors); a light scope leaves them empty', async () => {
  const { r, ex } = await afterFirstEvent();
  try {
    const s = exprScope(ex, r);
    const c = s.candidates[0];
    assert.ok(c);
    assert.ok(Object.keys(c.features).length > 0, 'a full scope carries the joined features');
    assert.ok(Object.keys(c).includes('features') && Object.hasOwn(c, 'meta'));
    const row = ex.rows.find((x) => x.item === c.item);
    const cat = row?.itemRec?.category;
    assert.ok(cat);
    const ev = (text: string) => compileExpr(text).evaluate(s);
    assert.equal(ev(`candidates.exists(c, c.item == "${c.item}" && has(c.features.ctr_7d) && c.meta.category == "${cat}")`), true);
    assert.equal(ev('candidates.all(c, !has(c.features.no_such_feature))'), true);
    assert.throws(() => ev('candidates.exists(c, c.features.ctr_7 > 0)'), /ctr_7d/);
    const light = exprScope(ex, r, { candidateMaps: false });
    assert.deepEqual(light.candidates.map((x) => [x.item, x.rank, x.score]), s.candidates.map((x) => [x.item, x.rank, x.score]));
    assert.deepEqual(light.candidates[0]?.features, {});
    const cond = compileExpr('candidates.exists(c, c.rank == 1 && c.score > 0)');
    assert.equal(cond.readsCandidateMaps, false);
    assert.equal(cond.evaluate(light), cond.evaluate(s));
  } finally {
    r.dispose();
  }
});

test('online.* features, which the Ranking scope shows, check and evaluate in expressions from the replay state', async () => {
  const r = replayer();
  try {
    await r.seek(40, 6);
    const ex = r.current as EventExec;
    const s = exprScope(ex, r);
    const env = checkEnvFor(r);
    // An item the online store has seen (impressions before this event).
    const row = ex.rows.find((x) => r.state.online(x.item, 'impressions') !== undefined);
    assert.ok(row, 'some candidate was shown before event 40');
    for (const k of ['impressions', 'clicks', 'ctr']) {
      const value = compileExpr(`feature("${row.item}", "online.${k}")`, env).evaluate(s);
      assert.equal(value, r.state.online(row.item, k), k);
    }
    assert.equal(compileExpr(`age("${row.item}", "online.ctr") >= 0`, env).evaluate(s), true);
    assert.throws(() => compileExpr(`feature("${row.item}", "online.ctrr")`, env), /unknown feature 'online\.ctrr'/);
  } finally {
    r.dispose();
  }
});
