import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { COLD, ROOT, client, launch } from './helpers';

// docs/debugging.md shows what a conditional line breakpoint's stop says; hold the page to it.
const doc = readFileSync(join(ROOT, 'docs/debugging.md'), 'utf8');

test('docs/debugging.md: the conditional line breakpoint on cold-start\'s line 97 stops with the message the page quotes', async () => {
  const m = /A\s+line breakpoint on line (\d+) of cold-start's `events\.jsonl` with condition `([^`]+)`\s+\(ranker `cold-start-linear\.json`\) stops with `([^`]+)`/.exec(doc);
  assert.ok(m, 'the page shows a conditional line breakpoint and its stop message');
  const [, line, condition, message] = m as unknown as [string, string, string, string];
  assert.ok(COLD.ranker.endsWith('cold-start-linear.json'));
  const dc = await client();
  try {
    const stop = await launch(dc, { ...COLD }, () => dc.setBreakpointsRequest({ source: { path: join(COLD.slice, 'events.jsonl') }, breakpoints: [{ line: Number(line), condition }] }));
    assert.equal(stop.body.reason, 'breakpoint');
    assert.equal(stop.body.text, message);
  } finally {
    await dc.stop();
  }
});
