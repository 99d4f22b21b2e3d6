import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sourceFilePath } from '../../src/debugAdapter/routes';

test('source paths from remote clients (vscode-local:, file://) become file paths; plain and Windows paths stay', () => {
  assert.equal(sourceFilePath('vscode-local:/tmp/a%20b/x.slice/events.jsonl'), '/tmp/a b/x.slice/events.jsonl');
  assert.equal(sourceFilePath('vscode-remote:/home/me/events.jsonl'), '/home/me/events.jsonl');
  assert.equal(sourceFilePath('file:///tmp/x.slice/events.jsonl'), '/tmp/x.slice/events.jsonl');
  assert.equal(sourceFilePath('/tmp/x.slice/events.jsonl'), '/tmp/x.slice/events.jsonl');
  assert.equal(sourceFilePath('C:/work/x.slice/events.jsonl'), 'C:/work/x.slice/events.jsonl');
});
