import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRecords, recordDecoding } from '../../src/core/slice/events';
import { recordLines } from '../../src/core/slice/recordLines';

/** What parseRecords gives (or throws) for some content. */
function outcome(content: string | Buffer): unknown {
  try {
    return parseRecords(content, 'items.jsonl', 'item');
  } catch (e) {
    return { error: (e as Error).message, where: (e as { where?: unknown }).where };
  }
}

test('records read from bytes, a line at a time, are what their text gives: values, blank lines, CRLF, errors and their lines', () => {
  const texts = [
    '{"id":"a","features":{"x":1}}\n{"id":"b"}\n',
    '{"id":"a"}\r\n\r\n  \n{"id":"é€😀","category":"c"}',
    '{"id":"a"}\n{"id":"b",}\n',
    '\uFEFF{"id":"a"}\n',
    '{"id":"a"}\n{"id":"b","features":{"x":"y"}}\n{"id":1}\n',
    '',
    '\n\n',
  ];
  const was = recordDecoding.wholeBelow;
  try {
    for (const wholeBelow of [was, 0]) {
      // (0: every file a line at a time, as one larger than a string can hold is read.)
      recordDecoding.wholeBelow = wholeBelow;
      for (const t of texts) assert.deepEqual(outcome(Buffer.from(t)), outcome(t), JSON.stringify(t));
    }
  } finally {
    recordDecoding.wholeBelow = was;
  }
});

test('the writer gathers records as bytes, in parts, that read back as the records', () => {
  const items = Array.from({ length: 2000 }, (_, i) => ({ id: `i${i}`, category: `c${i % 7}`, features: { x: i / 3 } }));
  const { text, rows } = recordLines(items, 'items');
  assert.ok(Buffer.isBuffer(text));
  assert.equal(rows.length, 2000);
  assert.deepEqual(parseRecords(text, 'items.jsonl', 'item'), items);
});
