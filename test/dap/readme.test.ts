import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { COLD, EX, client, launch, moveAndStop, where } from './helpers';

// The README's "debug your first slice", step 3: a conditional function breakpoint on `outcome`.
const CONDITION = 'candidates.exists(c, c.features.fresh == 1 && c.rank <= 10)';

test('README walkthrough: with the production ranker no new item reaches the top 10; with the fresh ranker it stops at event 1', async () => {
  const dc = await client();
  try {
    await launch(dc, { ...COLD, stopOnEntry: true }, () => dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'outcome', condition: CONDITION }] }));
    const end = await moveAndStop(dc, () => dc.continueRequest({ threadId: 1 }));
    assert.equal(end.body.reason, 'end', 'runs to the end of the slice without the condition holding');
    assert.equal((await where(dc)).line, 650);
  } finally {
    await dc.stop();
  }
  const fresh = await client();
  try {
    await launch(fresh, { slice: COLD.slice, ranker: `linear:${join(EX, 'rankers/cold-start-fresh.json')}`, stopOnEntry: true }, () => fresh.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'outcome', condition: CONDITION }] }));
    const hit = await moveAndStop(fresh, () => fresh.continueRequest({ threadId: 1 }));
    assert.equal(hit.body.reason, 'function breakpoint');
    assert.equal((await where(fresh)).line, 1);
  } finally {
    await fresh.stop();
  }
});
