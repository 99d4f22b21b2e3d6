import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseRecords, parseRecordsSteps, recordDecoding } from '../../src/core/slice/events';
import { recordLines } from '../../src/core/slice/recordLines';

/** What parseRecords gives (or throws) for some content. */
function outcome(content: string | Buffer): unknown {
  try {
    return parseRecords(content, 'items.jsonl', 'item');
  } catch (e) {
    return { error: (e as Error).message, where: (e as { where?: unknown }).where };
  }
}

test('records read from bytes, a window at a time, are what their text gives: values, blank lines, CRLF, errors and their lines', () => {
  const texts = [
    '{"id":"a","features":{"x":1}}\n{"id":"b"}\n',
    '{"id":"a"}\r\n\r\n  \n{"id":"é€😀","category":"c"}',
    '{"id":"a"}\n{"id":"b",}\n',
    '\uFEFF{"id":"a"}\n',
    '{"id":"a"}\n{"id":"b","features":{"x":"y"}}\n{"id":1}\n',
    '',
    '\n\n',
  ];
  const was = recordDecoding.window;
  try {
    for (const window of [was, 1, 7, 12]) {
      // (Small windows: a file of many windows, cut just past a newline, as a large one is read.)
      recordDecoding.window = window;
      for (const t of texts) assert.deepEqual(outcome(Buffer.from(t)), outcome(t), `${JSON.stringify(t)} in windows of ${window}`);
    }
  } finally {
    recordDecoding.window = was;
  }
});

test('the writer gathers records as bytes, in parts, that read back as the records', () => {
  const items = Array.from({ length: 2000 }, (_, i) => ({ id: `i${i}`, category: `c${i % 7}`, features: { x: i / 3 } }));
  const { text, rows } = recordLines(items, 'items');
  assert.ok(Buffer.isBuffer(text));
  assert.equal(rows.length, 2000);
  assert.deepEqual(parseRecords(text, 'items.jsonl', 'item'), items);
});

test('property: records from bytes in windows of any size are those of the text, and a window is a slice of work of its own', () => {
  const line = fc.constantFrom('{"id":"a"}', '{"id":"é€😀","category":"c"}', '', '  ', '{"id":"b"}\r', '{"id":"c",}', '{"id":"d","features":{"x":1.5}}', '\uFEFF{"id":"e"}', '{"id":2}');
  const was = recordDecoding.window;
  try {
    fc.assert(
      fc.property(fc.array(line, { maxLength: 12 }), fc.boolean(), fc.integer({ min: 1, max: 40 }), (lines, trailing, window) => {
        const t = lines.join('\n') + (trailing ? '\n' : '');
        recordDecoding.window = window;
        assert.deepEqual(outcome(Buffer.from(t)), outcome(t));
      }),
      { numRuns: 2000 },
    );
    // Three windows: two pauses between them, whatever the records.
    recordDecoding.window = 40;
    const text = Buffer.from(Array.from({ length: 9 }, (_, i) => `{"id":"i${i}","features":{"x":${i}}}`).join('\n'));
    const steps = parseRecordsSteps(text, 'items.jsonl', 'item');
    let pauses = 0;
    let r = steps.next();
    for (; !r.done; r = steps.next()) pauses++;
    assert.equal(r.value.length, 9);
    assert.ok(pauses >= 2, `${pauses} pauses`);
  } finally {
    recordDecoding.window = was;
  }
});
