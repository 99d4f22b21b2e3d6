// Where the Debug Adapter Protocol's own words decide: client conventions and capabilities, compare-mode threads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { writeSlice } from '../../src/core/slice/writer';
import { BASE_MANIFEST, fixture, tmp } from '../helpers';
import { client, COLD, failure, launch } from './helpers';
import { faultSlice } from './slices';

const T = { threadId: 1 };

test('stack frames give the line\'s first column in the client\'s convention (0 for columnsStartAt1 false)', async () => {
  for (const [columnsStartAt1, want] of [[true, 1], [false, 0]] as const) {
    const dc = await client();
    try {
      await launch(dc, { ...COLD, stopOnEntry: true }, async () => {}, { columnsStartAt1 });
      const frames = (await dc.stackTraceRequest(T)).body.stackFrames;
      assert.deepEqual(frames.map((f) => f.column), [want, want, want]);
    } finally {
      await dc.stop();
    }
  }
});

test('variables and evaluate results carry a type only for a client that asked for types (supportsVariableType)', async () => {
  for (const supportsVariableType of [true, false]) {
    const dc = await client();
    try {
      await launch(dc, { ...COLD, stopOnEntry: true }, async () => {}, { supportsVariableType });
      const scopes = (await dc.scopesRequest({ frameId: 10 })).body.scopes;
      const vars = (await dc.variablesRequest({ variablesReference: (scopes[0] as DebugProtocol.Scope).variablesReference })).body.variables;
      const evaluated = (await dc.evaluateRequest({ expression: 'event.id', frameId: 10, context: 'watch' })).body;
      assert.equal(vars.some((v) => v.type !== undefined), supportsVariableType, JSON.stringify(vars.slice(0, 3)));
      assert.equal(evaluated.type !== undefined, supportsVariableType);
    } finally {
      await dc.stop();
    }
  }
});

test('a data breakpoint on read or readWrite access is refused: only "write" (break on change) is offered', async () => {
  const dc = await client();
  try {
    await launch(dc, { ...COLD, stopOnEntry: true });
    const info = (await dc.dataBreakpointInfoRequest({ name: 'metrics["ctr"]' })).body;
    assert.deepEqual(info.accessTypes, ['write']);
    const r = (await dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: 'metric:ctr', accessType: 'read' }, { dataId: 'metric:ctr', accessType: 'write' }, { dataId: 'metric:ctr' }] })).body.breakpoints;
    assert.deepEqual(r.map((b) => b.verified), [false, true, true]);
    assert.match(r[0]?.message ?? '', /only "write" data breakpoints \(break when the value changes\) are supported, not "read"/);
  } finally {
    await dc.stop();
  }
});

test('compare mode: exceptionInfo answers for the thread that faulted and refuses the other; a data breakpoint asked about in the baseline\'s frame watches the baseline', async () => {
  const c = faultSlice('nan_score');
  const dc = await client();
  try {
    const stop = await launch(dc, { slice: c.slice, ranker: 'recorded', baseline: c.ranker }, () => dc.setExceptionBreakpointsRequest({ filters: ['nan_score'] }));
    assert.equal(stop.body.reason, 'exception');
    const faulted = stop.body.threadId as number;
    const other = faulted === 2 ? 3 : 2;
    assert.equal((await dc.exceptionInfoRequest({ threadId: faulted })).body.exceptionId, 'nan_score');
    assert.match(await failure(dc.exceptionInfoRequest({ threadId: other })), /did not stop on a fault \(thread \w+ did\)/);
    // Frame ids are thread × 10 + level: 20 is the baseline's top frame.
    const info = (await dc.dataBreakpointInfoRequest({ name: 'metrics["ctr"]', frameId: 20 })).body;
    assert.equal(info.dataId, 'metric:ctr@baseline');
    assert.match(info.description, /\(baseline\)$/);
    const candidate = (await dc.dataBreakpointInfoRequest({ name: 'metrics["ctr"]', frameId: 30 })).body;
    assert.equal(candidate.dataId, 'metric:ctr');
  } finally {
    await dc.stop();
  }
});

test('variables without a count are all the children for a client that cannot page; a paging client gets a first page and how to get the rest', async () => {
  const dir = join(tmp(), 'wide.slice');
  writeSlice(dir, { manifest: BASE_MANIFEST, ...fixture(3, { cands: 700, items: 800 }) }, { frozenAt: '2025-01-02T00:00:00.000Z' });
  for (const supportsVariablePaging of [false, true]) {
    const dc = await client();
    try {
      await launch(dc, { slice: dir, stopOnEntry: true }, async () => {}, { supportsVariablePaging });
      await Promise.all([dc.waitForEvent('stopped'), dc.nextRequest(T)]);
      const scopes = (await dc.scopesRequest({ frameId: 10 })).body.scopes;
      const ranking = scopes.find((s) => s.name === 'Ranking') as DebugProtocol.Scope;
      assert.equal(ranking.indexedVariables, 700);
      const all = (await dc.variablesRequest({ variablesReference: ranking.variablesReference })).body.variables;
      if (supportsVariablePaging) {
        assert.equal(all.length, 501);
        assert.match(all[500]?.value ?? '', /^200 more: page with start\/count$/);
      } else {
        assert.equal(all.length, 700, 'every candidate, no extra row');
        assert.equal((await dc.variablesRequest({ variablesReference: ranking.variablesReference, count: 0 })).body.variables.length, 700);
      }
    } finally {
      await dc.stop();
    }
  }
});

test('compare mode: a step or goto on one thread announces that both threads run (continued, allThreadsContinued)', async () => {
  const dc = await client();
  try {
    await launch(dc, { slice: COLD.slice, ranker: COLD.ranker, baseline: 'recorded', stopOnEntry: true });
    const continued = dc.waitForEvent('continued') as Promise<DebugProtocol.ContinuedEvent>;
    const stopped = dc.waitForEvent('stopped');
    await dc.gotoRequest({ threadId: 2, targetId: 40 });
    const c = await continued;
    assert.equal(c.body.allThreadsContinued, true);
    await stopped;
  } finally {
    await dc.stop();
  }
  // One lane: nothing to announce beyond the request itself.
  const single = await client();
  try {
    await launch(single, { ...COLD, stopOnEntry: true });
    let seen = false;
    single.on('continued', () => (seen = true));
    // Listened for before the request: the stop may come before its response.
    const stopped = single.waitForEvent('stopped');
    await single.nextRequest(T);
    await stopped;
    assert.equal(seen, false);
  } finally {
    await single.stop();
  }
});
