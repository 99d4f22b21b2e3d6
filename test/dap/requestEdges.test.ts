// Edges of the adapter's requests that an audit with the real DAP client found: sizes, names,
// ordering and values shown before they exist.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { writeSlice } from '../../src/core/slice/writer';
import { featureSplit, parseDataId } from '../../src/debugAdapter/dataBreakpoints';
import type { CheckEnv } from '../../src/core/expr';
import { BASE_MANIFEST, eventLine, fixture, rawSlice, tmp } from '../helpers';
import { client, COLD, failure, launch, moveAndStop, scopeVars } from './helpers';

const T = { threadId: 1 };

async function varsOf(dc: { variablesRequest(a: DebugProtocol.VariablesArguments): Promise<DebugProtocol.VariablesResponse> }, v: DebugProtocol.Variable | undefined, extra: Partial<DebugProtocol.VariablesArguments> = {}): Promise<DebugProtocol.Variable[]> {
  assert.ok(v && v.variablesReference > 0, `${v?.name} expands`);
  return (await dc.variablesRequest({ variablesReference: v.variablesReference, ...extra })).body.variables;
}

test('the score stage\'s scores (a map keyed by candidate) come a page at a time, as lists do, not as one answer of every candidate', async () => {
  const dir = join(tmp(), 'wide.slice');
  writeSlice(dir, { manifest: BASE_MANIFEST, ...fixture(2, { cands: 700, items: 800 }) }, { frozenAt: '2025-01-02T00:00:00.000Z' });
  const dc = await client();
  try {
    await launch(dc, { slice: dir, stopOnEntry: true }, async () => {}, { supportsVariablePaging: true });
    for (let i = 0; i < 3; i++) await moveAndStop(dc, () => dc.stepInRequest(T));
    const stage = await scopeVars(dc, 'Stage');
    assert.equal(stage.find((v) => v.name === 'stage')?.value, '"score"');
    const scores = stage.find((v) => v.name === 'scores');
    const first = await varsOf(dc, scores);
    assert.equal(first.length, 501);
    assert.match(first[500]?.value ?? '', /^200 more: page with start\/count$/);
    const all = await varsOf(dc, scores, { start: 0, count: 1000 });
    assert.equal(all.length, 700);
    const page = await varsOf(dc, scores, { start: 650, count: 100 });
    assert.deepEqual(page.map((v) => v.name), all.slice(650).map((v) => v.name));
  } finally {
    await dc.stop();
  }
});

test('a ranking row\'s score is null until the score stage has run (NaN read as a nan_score fault), as score(id) says', async () => {
  const dc = await client();
  try {
    await launch(dc, { slice: COLD.slice, ranker: COLD.ranker, stopOnEntry: true });
    await moveAndStop(dc, () => dc.stepInRequest(T));
    const rows = await scopeVars(dc, 'Ranking');
    const kids = await varsOf(dc, rows[0]);
    assert.equal(kids.find((v) => v.name === 'score')?.value, 'null');
    for (let i = 0; i < 2; i++) await moveAndStop(dc, () => dc.stepInRequest(T));
    const scored = await varsOf(dc, (await scopeVars(dc, 'Ranking'))[0]);
    assert.match(scored.find((v) => v.name === 'score')?.value ?? '', /^-?\d/);
  } finally {
    await dc.stop();
  }
});

test('the System scope gives an evaluateName only to values the event recorded (system.queueDepth of an event without one is an error)', async () => {
  const slice = rawSlice(eventLine('e1', '2025-01-01T00:00:00Z') + '\n');
  const dc = await client();
  try {
    await launch(dc, { slice, stopOnEntry: true });
    const sys = await scopeVars(dc, 'System');
    for (const name of ['queueDepth', 'cache']) {
      const v = sys.find((x) => x.name === name);
      assert.equal(v?.value, 'null');
      assert.equal(v?.evaluateName, undefined, name);
    }
  } finally {
    await dc.stop();
  }
  const recorded = await client();
  try {
    await launch(recorded, { slice: COLD.slice, stopOnEntry: true });
    const sys = await scopeVars(recorded, 'System');
    assert.equal(sys.find((x) => x.name === 'queueDepth')?.evaluateName, 'system.queueDepth');
  } finally {
    await recorded.stop();
  }
});

test('an unknown launch argument is named with the one meant even when the launch then fails for the argument it was meant to be', async () => {
  const dc = await client();
  try {
    await dc.initializeRequest({ adapterID: 'recreplay', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
    const said: string[] = [];
    dc.on('output', (e: DebugProtocol.OutputEvent) => said.push(e.body.output));
    const msg = await failure(dc.launchRequest({ Slice: COLD.slice } as unknown as DebugProtocol.LaunchRequestArguments));
    assert.match(msg, /"slice" is missing/);
    await new Promise((r) => setTimeout(r, 100));
    assert.match(said.join(''), /launch argument "Slice" is not one RecReplay knows and is ignored: did you mean "slice"\?/);
    // Refused for its arguments, the launch left the session free: the next one is judged on its own.
    const next = await failure(dc.launchRequest({ slice: COLD.slice, seed: 'one' } as unknown as DebugProtocol.LaunchRequestArguments));
    assert.doesNotMatch(next, /already debugs a slice/);
    assert.match(next, /seed/);
  } finally {
    await dc.stop();
  }
});

test('a launch before initialize is refused (the line base comes with initialize)', async () => {
  const dc = await client();
  try {
    const msg = await failure(dc.launchRequest({ slice: COLD.slice } as DebugProtocol.LaunchRequestArguments));
    assert.match(msg, /'launch' before 'initialize'/);
    // Then the proper order works.
    await launch(dc, { slice: COLD.slice, stopOnEntry: true });
  } finally {
    await dc.stop();
  }
});

test('breakpoints in a source without a path or name are refused with a message that reads', async () => {
  const dc = await client();
  try {
    await launch(dc, { slice: COLD.slice, stopOnEntry: true });
    const r = await dc.setBreakpointsRequest({ source: { sourceReference: 5 }, breakpoints: [{ line: 3 }] });
    assert.equal(r.body.breakpoints[0]?.verified, false);
    assert.match(r.body.breakpoints[0]?.message ?? '', /not in a source without a path$/);
  } finally {
    await dc.stop();
  }
});

const env = (items: string[], features: string[]) => ({ itemIds: new Set(items), metrics: ['ctr'], schema: { candidate: Object.fromEntries(features.map((f) => [f, 'number'])) } }) as unknown as CheckEnv;

test('a data breakpoint id tagged with a thread this session lacks (a compare session\'s, kept by VS Code) is refused saying so, unless an item has that id', () => {
  const e = env(['i_119', 'promo@baseline'], ['ctr']);
  const refused = parseDataId('rank:i_119@baseline', e, ['replay']);
  assert.match(String(refused), /watches thread baseline, which this session does not have \(its threads: replay\)/);
  assert.deepEqual(parseDataId('rank:i_119@baseline', e, ['baseline', 'candidate']), { target: { kind: 'rank', item: 'i_119' }, lane: 'baseline' });
  assert.deepEqual(parseDataId('rank:promo@baseline', e, ['replay']), { target: { kind: 'rank', item: 'promo@baseline' }, lane: undefined });
});

test('a feature data breakpoint id splits at a known item, else before a known feature, else at the first dot, in time linear in its length', () => {
  const features = new Set(['ctr', 'online.ctr']);
  assert.equal(featureSplit('i.1.online.ctr', new Set(['i.1']), features), 3);
  assert.equal(featureSplit('x.y.online.ctr', new Set(['i.1']), features), 3);
  assert.equal(featureSplit('x.y.z', new Set(['i.1']), features), 1);
  assert.equal(featureSplit('nodot', new Set(['i.1']), features), undefined);
  // 100,000 dots: an id prefix or a feature suffix is looked up only where one as long exists
  // (every dot's prefix and suffix were sliced and looked up: seconds of the extension host).
  class Counting extends Set<string> {
    calls = 0;
    override has(v: string): boolean {
      this.calls++;
      return super.has(v);
    }
  }
  const items = new Counting(['i.1']);
  const names = new Counting(['ctr', 'online.ctr']);
  assert.equal(featureSplit('.'.repeat(100_000), items, names), 0);
  assert.ok(items.calls + names.calls < 50, `${items.calls} item and ${names.calls} feature lookups`);
});
