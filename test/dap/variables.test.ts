import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { client, COLD, evalAt, failure, launch, moveAndStop, scopeVars } from './helpers';
import { replayEach } from './slices';

const T = { threadId: 1 };

function byName(vars: DebugProtocol.Variable[], name: string): DebugProtocol.Variable {
  const v = vars.find((x) => x.name === name);
  assert.ok(v, `${name} in ${vars.map((x) => x.name).join(', ')}`);
  return v;
}

async function kids(dc: DebugClient, v: DebugProtocol.Variable, args: Partial<DebugProtocol.VariablesArguments> = {}): Promise<DebugProtocol.Variable[]> {
  assert.ok(v.variablesReference > 0, `${v.name} expands`);
  return (await dc.variablesRequest({ variablesReference: v.variablesReference, ...args })).body.variables;
}

test('scopes: Stage, Ranking, Event, User, System, Metrics, Diff on the stage frame; Session and Metrics on the session frame', async () => {
  const dc = await client();
  try {
    await launch(dc, { ...COLD, stopOnEntry: true });
    await moveAndStop(dc, () => dc.nextRequest(T));
    const st = await dc.stackTraceRequest(T);
    const names = async (i: number) => (await dc.scopesRequest({ frameId: st.body.stackFrames[i]?.id as number })).body.scopes.map((s) => s.name);
    assert.deepEqual(await names(0), ['Stage', 'Ranking', 'Event', 'User', 'System', 'Metrics', 'Diff vs recorded']);
    assert.deepEqual(await names(1), ['Event', 'User', 'Ranking', 'System', 'Diff vs recorded']);
    assert.deepEqual(await names(2), ['Session', 'Metrics']);
    const session = await scopeVars(dc, 'Session', 1, 2);
    assert.equal(byName(session, 'events').value, '650');
    assert.equal(byName(session, 'seed').value, '42');
  } finally {
    await dc.stop();
  }
});

test('the Ranking scope lists the replayed order as "#1 i_42 0.82 (recorded #3, +2)" rows, paged, expanding to features', async () => {
  const reference: string[] = [];
  await replayEach(COLD.slice, COLD.ranker, (ex) => {
    if (ex.n !== 13) return;
    for (const row of ex.rankedRows) {
      const d = row.recordedRank - row.rank;
      reference.push(`#${row.rank} ${row.item} ${Number(row.score.toFixed(4))} (recorded #${row.recordedRank}, ${d > 0 ? `+${d}` : d < 0 ? d : '='})`);
    }
    return true;
  });
  const dc = await client();
  try {
    await launch(dc, { ...COLD, stopOnEntry: true });
    await moveAndStop(dc, () => dc.gotoRequest({ ...T, targetId: 13 }));
    const st = await dc.stackTraceRequest(T);
    const scopes = await dc.scopesRequest({ frameId: st.body.stackFrames[0]?.id as number });
    const ranking = scopes.body.scopes.find((s) => s.name === 'Ranking') as DebugProtocol.Scope;
    assert.equal(ranking.indexedVariables, 20);
    const page1 = (await dc.variablesRequest({ variablesReference: ranking.variablesReference, filter: 'indexed', start: 0, count: 5 })).body.variables;
    const page2 = (await dc.variablesRequest({ variablesReference: ranking.variablesReference, filter: 'indexed', start: 5, count: 15 })).body.variables;
    assert.equal(page1.length, 5, 'a page is what was asked for, never the whole list');
    assert.deepEqual([...page1, ...page2].map((v) => `${v.name} ${v.value}`), reference);
    assert.ok(reference.some((r) => /\(recorded #\d+, [+-]\d+\)$/.test(r)), 'the example moves some items');
    const row = page1[0] as DebugProtocol.Variable;
    const fields = await kids(dc, row);
    assert.deepEqual(fields.slice(0, 8).map((f) => f.name), ['item', 'score', 'rank', 'recordedRank', 'rankDelta', 'prevRank', 'served', 'clicked']);
    const item = byName(fields, 'item').value.replace(/"/g, '');
    assert.equal(byName(fields, 'score').evaluateName, `score("${item}")`);
    const features = await kids(dc, byName(fields, 'features'));
    assert.deepEqual(features.map((f) => f.name).filter((n) => !n.startsWith('online.')).sort(), ['age_days', 'cat_match', 'ctr_7d', 'fresh', 'pop_30d', 'price_z']);
    assert.equal(byName(features, 'ctr_7d').evaluateName, `feature("${item}", "ctr_7d")`);
  } finally {
    await dc.stop();
  }
});

test('at the entry stop (no stage run yet) the Ranking scope lists the candidates in recorded order', async () => {
  const dc = await client();
  try {
    await launch(dc, { ...COLD, stopOnEntry: true });
    const rows = await scopeVars(dc, 'Ranking');
    assert.ok(rows.length > 5);
    assert.deepEqual(rows.map((r) => r.name), rows.map((_, i) => `rec #${i + 1}`));
    assert.ok(rows.every((r) => / \(not retrieved yet\)$/.test(r.value)));
  } finally {
    await dc.stop();
  }
});

test('Stage shows the inputs and outputs of the stage that just ran; Diff vs recorded shows where the orders part', async () => {
  const dc = await client();
  try {
    await launch(dc, { ...COLD, stopOnEntry: true });
    await moveAndStop(dc, () => dc.gotoRequest({ ...T, targetId: 13 }));
    await moveAndStop(dc, () => dc.restartFrameRequest({ frameId: 11 }));
    await moveAndStop(dc, () => dc.stepInRequest(T));
    const retrieve = await scopeVars(dc, 'Stage');
    assert.equal(byName(retrieve, 'stage').value, '"retrieve"');
    assert.equal(byName(retrieve, 'kept').value, '20');
    assert.equal(byName(retrieve, 'next').value, '"features"');
    await moveAndStop(dc, () => dc.stepInRequest(T));
    await moveAndStop(dc, () => dc.stepInRequest(T));
    const score = await scopeVars(dc, 'Stage');
    assert.equal(byName(score, 'stage').value, '"score"');
    assert.equal(byName(score, 'non-finite').value, '0');
    assert.match(byName(score, 'ranker').value, /kind: "linear"/);
    const early = await scopeVars(dc, 'Diff vs recorded');
    assert.equal(early[0]?.name, 'not ranked yet');
    await moveAndStop(dc, () => dc.nextRequest(T));
    const diff = await scopeVars(dc, 'Diff vs recorded');
    assert.match(byName(diff, 'first difference').value, /^#10: replayed i_028, recorded i_142$/);
    assert.match(byName(diff, 'moved').value, /i_142: "#10 → #19 \(-9\)"/);
    assert.equal(byName(diff, 'entered top 10').value, '["i_028"]');
    assert.equal(byName(diff, 'left top 10').value, '["i_142"]');
    const side = await kids(dc, byName(diff, 'side by side'), { filter: 'indexed', start: 9, count: 1 });
    assert.equal(side[0]?.value, 'i_028 | recorded i_142  ≠');
    const system = await scopeVars(dc, 'System');
    assert.equal(byName(system, 'budgetMs').value, '150');
    const metrics = await scopeVars(dc, 'Metrics');
    assert.equal(byName(metrics, 'events').value, '13');
    assert.equal(byName(metrics, 'hit_rate@10').evaluateName, 'metrics["hit_rate@10"]');
    const event = await scopeVars(dc, 'Event');
    assert.equal(byName(event, 'id').value, '"e00013"');
    assert.equal(byName(event, 'line').value, '13');
  } finally {
    await dc.stop();
  }
});

test('evaluate: expressions of the language at the stop, errors with the column, hovers on item ids, clipboard as source text', async () => {
  const dc = await client();
  try {
    await launch(dc, { ...COLD, stopOnEntry: true });
    await moveAndStop(dc, () => dc.gotoRequest({ ...T, targetId: 13 }));
    assert.equal((await evalAt(dc, 'rank("i_120")')).body.result, '18');
    assert.equal((await evalAt(dc, 'rankDelta("i_142")')).body.result, '-9');
    assert.equal((await evalAt(dc, 'user.segment == "new" && event.id == "e00013"')).body.result, 'true');
    const list = await evalAt(dc, 'topk(3)');
    assert.equal(list.body.result, '["i_054", "i_017", "i_074"]');
    assert.equal(list.body.indexedVariables, 3);
    assert.equal((await dc.variablesRequest({ variablesReference: list.body.variablesReference })).body.variables[2]?.value, '"i_074"');
    assert.match(await failure(evalAt(dc, 'scroe("i_42") > 0.5')), /column 1: unknown function 'scroe'; did you mean 'score'\?/);
    assert.match(await failure(evalAt(dc, 'rank("i_42" > 3')), /column \d+: expected '\)'/);
    assert.match(await failure(evalAt(dc, 'candidates[99].score')), /index 99 is out of range/);
    const hover = await evalAt(dc, '"i_120"', 1, 'hover');
    assert.equal(hover.body.result, '#18 i_120 0.0323 (recorded #19, +1)');
    assert.ok(hover.body.variablesReference > 0);
    assert.equal((await evalAt(dc, 'served', 1, 'clipboard')).body.result.startsWith('["i_054", "i_017"'), true);
  } finally {
    await dc.stop();
  }
});

test('completions come from the expression language: bindings, helpers, features after a dot, item ids in strings', async () => {
  const dc = await client();
  try {
    await launch(dc, { ...COLD, stopOnEntry: true });
    const labels = async (text: string, column = text.length + 1) => (await dc.completionsRequest({ text, column })).body.targets;
    const top = await labels('ra');
    assert.deepEqual(top.map((t) => t.label).sort(), ['rank', 'rankDelta']);
    assert.equal(top[0]?.type, 'function');
    assert.equal(top[0]?.start, 1);
    assert.equal(top[0]?.length, 2);
    const feats = await labels('candidates[0].features.');
    assert.ok(feats.some((t) => t.label === 'ctr_7d' && t.type === 'field'));
    const items = await labels('score("i_11');
    assert.ok(items.length > 0 && items.every((t) => t.label.startsWith('i_11')));
    const metrics = await labels('metrics.hit');
    assert.equal(metrics[0]?.text, '["hit_rate@10"]', 'names that are not identifiers are inserted with brackets');
  } finally {
    await dc.stop();
  }
});

test('variable references die with their stop; the client is told to ask again', async () => {
  const dc = await client();
  try {
    await launch(dc, { ...COLD, stopOnEntry: true });
    const st = await dc.stackTraceRequest(T);
    const ref = (await dc.scopesRequest({ frameId: st.body.stackFrames[0]?.id as number })).body.scopes[0]?.variablesReference as number;
    await moveAndStop(dc, () => dc.nextRequest(T));
    assert.match(await failure(dc.variablesRequest({ variablesReference: ref })), /belongs to an earlier stop: ask for the scopes again/);
    // One never given out is said as such (it was said to be from an earlier stop too).
    for (const bad of [0, -1, 999_999]) assert.match(await failure(dc.variablesRequest({ variablesReference: bad })), new RegExp(`variable reference ${bad} is not one this session gave`));
  } finally {
    await dc.stop();
  }
});

test('System scope: replayed latencyMs holds the stages that have run, null for the rest, as system.latencyMs evaluates', async () => {
  const dc = await client();
  try {
    await launch(dc, { ...COLD, stopOnEntry: true });
    await moveAndStop(dc, () => dc.stepInRequest(T));
    const latency = await kids(dc, byName(await scopeVars(dc, 'System'), 'replayed latencyMs'));
    const shown = Object.fromEntries(latency.map((v) => [v.name, v.value]));
    assert.match(shown['retrieve'] ?? '', /^\d/, 'retrieve has run');
    for (const st of ['features', 'score', 'rerank', 'serve', 'outcome']) assert.equal(shown[st], 'null', `${st} has not run yet`);
    assert.equal((await evalAt(dc, 'system.latencyMs.serve')).body.result, 'null');
    await moveAndStop(dc, () => dc.stepOutRequest(T));
    const after = await kids(dc, byName(await scopeVars(dc, 'System'), 'replayed latencyMs'));
    assert.ok(after.every((v) => /^\d/.test(v.value)), `every stage has run: ${after.map((v) => `${v.name}=${v.value}`).join(' ')}`);
  } finally {
    await dc.stop();
  }
});
