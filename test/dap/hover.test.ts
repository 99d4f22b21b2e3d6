import { test } from 'node:test';
import assert from 'node:assert/strict';
import { client, COLD, evalAt, failure, launch, moveAndStop } from './helpers';

const T = { threadId: 1 };

test('hovering an item id in a candidate entry of events.jsonl shows its row, as VS Code sends the text around it', async () => {
  const dc = await client();
  try {
    await launch(dc, { ...COLD, stopOnEntry: true });
    await moveAndStop(dc, () => dc.nextRequest(T));
    const hover = (e: string) => evalAt(dc, e, 1, 'hover');
    const row = await hover('i_119');
    assert.match(row.body.result, /^#\d+ i_119 0\.\d+ \(recorded #\d+, .+\)$/);
    // Without an evaluatable-expression provider VS Code sends the word with what precedes it up
    // to a bracket, comma or space: `"item":"i_119` in a candidate entry, `"i_104` in `served`.
    for (const text of ['"item":"i_119', '"item":"i_119"', '"i_119"', 'i_119"', '"i_119']) {
      const r = await hover(text);
      assert.equal(r.body.result, row.body.result, text);
      assert.ok(r.body.variablesReference > 0, text);
    }
    assert.match((await hover('"i_104')).body.result, /^#\d+ i_104 /);
    // Not an item of this event: the hover fails quietly, as before.
    assert.match(await failure(hover('"item":"i_999')), /unterminated string/);
    // Valid expressions still evaluate; watch and the console are unchanged.
    assert.equal((await hover('rank("i_119") > 0')).body.result, 'true');
    assert.match(await failure(evalAt(dc, '"item":"i_119', 1, 'watch')), /column 8: unterminated string/);
    assert.match(await failure(evalAt(dc, '"item":"i_119', 1, 'repl')), /column 8: unterminated string/);
  } finally {
    await dc.stop();
  }
});

test('hovering an item id before the score stage shows its score as null, as score(id) and the Ranking scope do', async () => {
  const dc = await client();
  try {
    await launch(dc, { ...COLD, stopOnEntry: true });
    // Step in: the next stage. After retrieve and after features no candidate is scored yet.
    for (const stage of ['retrieve', 'features']) {
      await moveAndStop(dc, () => dc.stepInRequest(T));
      const row = await evalAt(dc, 'i_119', 1, 'hover');
      assert.match(row.body.result, /\(not scored yet\)$/, stage);
      const kids = (await dc.variablesRequest({ variablesReference: row.body.variablesReference })).body.variables;
      const score = kids.find((v) => v.name === 'score');
      assert.equal(score?.value, (await evalAt(dc, 'score("i_119")')).body.result, stage);
      assert.equal(score?.value, 'null', stage);
    }
  } finally {
    await dc.stop();
  }
});
