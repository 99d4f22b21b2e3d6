import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadRanker } from '../../src/core/rankers';
import { Slice } from '../../src/core/slice/reader';
import { UserError } from '../../src/core/errors';
import type { ScoreRequest } from '../../src/core/rankers/types';
import { eventLine, rawSlice, tmp } from '../helpers';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

/** A slice (written by hand, past the writer) with the given items.jsonl and users.jsonl. */
function sliceWith(itemsText: string, usersText: string): Slice {
  const entry = (path: string, text: string) => ({ path, sha256: sha(text), bytes: Buffer.byteLength(text), records: text.split('\n').filter((l) => l.trim() !== '').length });
  const dir = rawSlice(eventLine('e1', '2025-01-01T00:00:00Z') + '\n', (m) => {
    m.files = [m.files[0] as (typeof m.files)[number], entry('items.jsonl', itemsText), entry('users.jsonl', usersText)];
  });
  writeFileSync(join(dir, 'items.jsonl'), itemsText);
  writeFileSync(join(dir, 'users.jsonl'), usersText);
  return Slice.open(dir);
}

function artifact(content: unknown): string {
  const p = join(tmp(), 'emb.json');
  writeFileSync(p, JSON.stringify(content));
  return p;
}

function refused(slice: Slice, art: string, where: { file: string; line: number; field: string }, message: RegExp): void {
  assert.throws(
    () => loadRanker(`embedding:${art}`, { slice }),
    (e: unknown) => {
      assert.ok(e instanceof UserError, String(e));
      assert.ok(e.where.file?.endsWith(where.file), e.where.file);
      assert.equal(e.where.line, where.line);
      assert.equal(e.where.field, where.field);
      assert.match(e.message, message);
      assert.ok(e.hint);
      return true;
    },
  );
}

const USERS = '{"id":"u1","embedding":[1,2]}\n';

test('an item embedding that is not numbers stops the slice from opening, naming items.jsonl:line and the field', () => {
  // Opening checks it (the reader refuses what no ranker could read), before any ranker loads.
  const opened = (items: string) => () => sliceWith(items, USERS);
  const at = (line: number, field: string, message: RegExp) => (e: unknown) => e instanceof UserError && e.where.file?.endsWith('items.jsonl') === true && e.where.line === line && e.where.field === field && message.test(e.message) && e.hint !== undefined;
  assert.throws(opened('{"id":"a","embedding":[1,1]}\n\n{"id":"b","embedding":["a","b"]}\n'), at(3, 'embedding[0]', /embedding value must be a finite number, got "a"/));
  assert.throws(opened('{"id":"a","embedding":"0.1,0.2"}\n'), at(1, 'embedding', /"embedding" must be an array of numbers/));
});

test('a slice embedding of the wrong length is an error, unless the artifact holds that id', () => {
  const s = sliceWith('{"id":"a","embedding":[1,1]}\n{"id":"b","embedding":[1,1,1]}\n{"id":"c","embedding":null}\n', USERS);
  refused(s, artifact({ dim: 2 }), { file: 'items.jsonl', line: 2, field: 'embedding' }, /item "b" has 3 values; .*dim is 2/);
  // The artifact's vector comes first: b's slice vector is then never read, and c (null) scores 0.
  const r = loadRanker(`embedding:${artifact({ dim: 2, items: { b: [0, 1] } })}`, { slice: s });
  const scores = r.score({ event: { user: 'u1' }, rows: [{ item: 'a' }, { item: 'b' }, { item: 'c' }] } as unknown as ScoreRequest);
  assert.deepEqual(Array.from(scores as Float64Array), [3, 2, 0]);
  s.close();
});

test('a user embedding of the wrong dimension is an error naming users.jsonl:line and the user', () => {
  const s = sliceWith('{"id":"a","embedding":[1,1]}\n', '{"id":"u0"}\n{"id":"u1","embedding":[1,2,3,4]}\n');
  refused(s, artifact({ dim: 2 }), { file: 'users.jsonl', line: 2, field: 'embedding' }, /user "u1" has 4 values; .*dim is 2/);
  s.close();
});

test('a repeated item or user id keeps its first record for the embedding ranker too: a later record\'s vector is never read', () => {
  const s = sliceWith('{"id":"a"}\n{"id":"a","embedding":[1,1]}\n{"id":"b","embedding":[1,0]}\n{"id":"b","embedding":[5,5]}\n', '{"id":"u1","embedding":[1,2]}\n{"id":"u1","embedding":[9,9]}\n');
  try {
    const r = loadRanker(`embedding:${artifact({ dim: 2 })}`, { slice: s });
    const scores = r.score({ event: { user: 'u1' }, rows: [{ item: 'a' }, { item: 'b' }] } as unknown as ScoreRequest);
    // a's first record has no vector (cold start: 0); b's first is [1, 0] with u1's first, [1, 2].
    assert.deepEqual(Array.from(scores as Float64Array), [0, 1]);
  } finally {
    s.close();
  }
});

test('an embedding ranker with no user vectors (or no item vectors) at all warns that every score is 0, instead of replaying the recorded order as if it were a model', () => {
  const slice = sliceWith('{"id":"a","embedding":[1,0]}\n', '{"id":"u1"}\n');
  try {
    const noUsers = loadRanker(`embedding:${artifact({ dim: 2 })}`, { slice });
    assert.equal(noUsers.warnings?.length, 1);
    assert.match(noUsers.warnings?.[0] ?? '', /no user vectors — neither in the artifact's "users" nor as "embedding" in the slice's users\.jsonl — so every score is 0/);
    const none = loadRanker(`embedding:${artifact({ dim: 2, users: {}, items: {} })}`, { slice: sliceWith('{"id":"a"}\n', '{"id":"u1"}\n') });
    assert.match(none.warnings?.[0] ?? '', /no user and no item vectors/);
    // With vectors on both sides: no warning.
    assert.deepEqual(loadRanker(`embedding:${artifact({ dim: 2, users: { u1: [1, 1] } })}`, { slice }).warnings, []);
  } finally {
    slice.close();
  }
});

test('an embedding artifact whose vectors are for none of the slice\'s ids (another pseudonymisation) warns that every score is 0, naming an id of each (it replayed the recorded order without a word)', () => {
  const slice = sliceWith('{"id":"a"}\n{"id":"b"}\n', '{"id":"u1"}\n');
  try {
    const foreign = loadRanker(`embedding:${artifact({ dim: 2, users: { u_9f3a: [1, 1] }, items: { i_42: [1, 0], i_43: [0, 1] } })}`, { slice });
    assert.equal(foreign.warnings?.length, 2, String(foreign.warnings));
    assert.match(foreign.warnings?.[0] ?? '', /the artifact's 1 user vector is for none of the slice's 1 users \(the artifact has ids like "u_9f3a", the slice's users\.jsonl ids like "u1"\), so every score is 0/);
    assert.match(foreign.warnings?.[1] ?? '', /the artifact's 2 item vectors are for none of the slice's 2 items \(the artifact has ids like "i_42", the slice's items\.jsonl ids like "a"\)/);
    // One id of the slice's covered (the rest cold start, which scores 0 by design): no warning.
    assert.deepEqual(loadRanker(`embedding:${artifact({ dim: 2, users: { u1: [1, 1], u_9f3a: [1, 1] }, items: { b: [1, 0], i_42: [1, 0] } })}`, { slice }).warnings, []);
  } finally {
    slice.close();
  }
});

test('the line named is the record\'s own, past blank and whitespace-only lines, and a repeated id names its first record (the one read)', () => {
  const items = '\n{"id":"a","embedding":[1,1]}\n  \t\r\n\n {"id":"b","embedding":[1,1,1]}\n{"id":"b","embedding":[1,1]}\n';
  const s = sliceWith(items, '\n\n{"id":"u0"}\n \n{"id":"u1","embedding":[1,2,3]}\n{"id":"u1","embedding":[1,2]}\n');
  try {
    refused(s, artifact({ dim: 2, items: { a: [1, 1], b: [1, 1] } }), { file: 'users.jsonl', line: 5, field: 'embedding' }, /user "u1" has 3 values/);
    refused(s, artifact({ dim: 2, users: { u1: [1, 1] } }), { file: 'items.jsonl', line: 5, field: 'embedding' }, /item "b" has 3 values/);
  } finally {
    s.close();
  }
});
