// Slice text the debugger shows in VS Code's own UI (Variables, Watch and hover results, the stopped
// event's text, the exception widget): a bidi override in an item id (i_evil\u202e01_i is drawn as
// i_evili_10, another item to the eye) or a control character is shown as its escape.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { eventLine, rawSlice } from '../helpers';
import { client, evalAt, launch, moveAndStop, scopeVars } from './helpers';

const EVIL = 'i_evil\u202e01_i';
// eslint-disable-next-line no-control-regex -- what must not reach the UI
const RAW = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

test('Variables names and values and evaluate results show a slice\'s bidi overrides and control characters as escapes; data breakpoints take the name shown', async () => {
  const line = (id: string, t: string) => eventLine(id, t, { candidates: [{ item: EVIL, features: { ['x\u202ey']: 1, x: 1 } }, { item: 'b', features: { x: 2 } }], served: [EVIL, 'b'], outcome: { clicks: [EVIL] }, context: { note: 'a\u001b[2Jb' } });
  const dir = rawSlice([line('e1', '2025-01-01T00:00:00Z'), line('e2', '2025-01-01T00:00:01Z')].join('\n') + '\n', (m) => (m.schema.candidate = { x: 'number', 'x\u202ey': 'number' }));
  const dc = await client();
  try {
    await launch(dc, { slice: dir, stopOnEntry: true });
    await moveAndStop(dc, () => dc.nextRequest({ threadId: 1 }));
    const seen: DebugProtocol.Variable[] = [];
    const walk = async (vars: DebugProtocol.Variable[], depth: number) => {
      for (const v of vars) {
        seen.push(v);
        if (v.variablesReference > 0 && depth < 3) await walk((await dc.variablesRequest({ variablesReference: v.variablesReference })).body.variables, depth + 1);
      }
    };
    for (const scope of ['Ranking', 'Event', 'Stage']) await walk(await scopeVars(dc, scope), 0);
    for (const v of seen) assert.doesNotMatch(`${v.name} ${v.value}`, RAW, `${v.name} = ${v.value}`);
    assert.ok(seen.some((v) => v.value.includes('i_evil\\u202e01_i') || v.name.includes('i_evil\\u202e01_i')), 'the id is shown, escaped');
    assert.ok(seen.some((v) => v.name === 'x\\u202ey'), 'a feature name too');
    // Watch and hover.
    for (const context of ['watch', 'hover', 'repl'] as const) {
      const r = await evalAt(dc, 'served', 1, context);
      assert.doesNotMatch(r.body.result, RAW, context);
      assert.match(r.body.result, /i_evil\\u202e01_i/, context);
    }
    // Copy Value copies the value as it is.
    assert.match((await evalAt(dc, 'served[0]', 1, 'clipboard')).body.result, /\u202e/);
    // A data breakpoint offered under the escaped name the Variables view shows.
    const ranking = await scopeVars(dc, 'Ranking');
    const row = ranking.find((v) => v.name.includes('i_evil') || v.value.includes('i_evil'));
    assert.ok(row && row.variablesReference > 0, JSON.stringify(ranking.map((v) => [v.name, v.value])));
    // The row's features (a container of its own, or the row itself): the feature is offered for a data breakpoint by its shown name.
    let parent = row.variablesReference;
    let kids = (await dc.variablesRequest({ variablesReference: parent })).body.variables;
    const featuresRow = kids.find((k) => k.name === 'features' && k.variablesReference > 0);
    if (featuresRow) {
      parent = featuresRow.variablesReference;
      kids = (await dc.variablesRequest({ variablesReference: parent })).body.variables;
    }
    assert.ok(kids.some((k) => k.name === 'x\\u202ey'), JSON.stringify(kids.map((k) => k.name)));
    const info = await dc.customRequest('dataBreakpointInfo', { variablesReference: parent, name: 'x\\u202ey' });
    assert.ok(info.body.dataId, JSON.stringify(info.body));
  } finally {
    await dc.stop();
  }
});
