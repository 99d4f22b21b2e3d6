import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadRanker } from '../../src/core/rankers';
import { UserError } from '../../src/core/errors';
import { tmp } from '../helpers';

// A linear artifact's weight or bias nested 10,000 deep: the error quotes the start of it
// (shown is bounded), where JSON.stringify overflowed the stack (an internal error, exit 70).

const nested = (depth: number) => '['.repeat(depth) + '1' + ']'.repeat(depth);

function artifact(text: string): string {
  const p = join(tmp(), 'deep.json');
  writeFileSync(p, text);
  return p;
}

for (const [field, text] of [
  ['bias', `{"weights":{"ctr":1},"bias":${nested(10_000)}}`],
  ['weights.ctr', `{"weights":{"ctr":${nested(10_000)}},"bias":0}`],
] as const) {
  test(`linear artifact: a ${field} nested 10,000 deep is refused naming the file and field`, () => {
    const p = artifact(text);
    assert.throws(
      () => loadRanker(`linear:${p}`),
      (e: unknown) => {
        assert.ok(e instanceof UserError, String(e));
        assert.equal(e.where.file, p);
        assert.equal(e.where.field, field);
        assert.match(e.message, new RegExp(`${field === 'bias' ? 'bias' : 'weight'} must be a finite number, got \\[\\[\\[.*…$`));
        assert.ok(e.message.length < 120, e.message);
        return true;
      },
    );
  });
}
