import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { sourceFilePath } from '../../src/debugAdapter/routes';
import { client, COLD, launch, where } from './helpers';

const MALFORMED = ['file://%%%', 'file://otherhost/x.slice/events.jsonl', 'vscode-local:/%E0%A4%A'];

test('source paths from remote clients (vscode-local:, file://) become file paths; plain and Windows paths stay', () => {
  assert.equal(sourceFilePath('vscode-local:/tmp/a%20b/x.slice/events.jsonl'), '/tmp/a b/x.slice/events.jsonl');
  assert.equal(sourceFilePath('vscode-remote:/home/me/events.jsonl'), '/home/me/events.jsonl');
  assert.equal(sourceFilePath('file:///tmp/x.slice/events.jsonl'), '/tmp/x.slice/events.jsonl');
  assert.equal(sourceFilePath('/tmp/x.slice/events.jsonl'), '/tmp/x.slice/events.jsonl');
  assert.equal(sourceFilePath('C:/work/x.slice/events.jsonl'), 'C:/work/x.slice/events.jsonl');
});

test('a URI that names no file here (bad escape, another host) is no file path', () => {
  for (const uri of MALFORMED) assert.equal(sourceFilePath(uri), undefined, uri);
});

test('a malformed URI as a source is a file other than the events file: unverified breakpoints naming it, no goto targets, no locations', async () => {
  const dc = await client();
  try {
    await launch(dc, { ...COLD, stopOnEntry: true });
    for (const path of MALFORMED) {
      const bps = await dc.setBreakpointsRequest({ source: { path }, breakpoints: [{ line: 3 }] });
      assert.deepEqual(bps.body.breakpoints, [{ verified: false, line: 3, message: `breakpoints go on lines of ${join(COLD.slice, 'events.jsonl')} (line N = event N), not in ${path}` }]);
      assert.deepEqual((await dc.gotoTargetsRequest({ source: { path }, line: 3 })).body.targets, [], path);
      assert.deepEqual((await dc.send('breakpointLocations', { source: { path }, line: 3 })).body.breakpoints, [], path);
    }
    // The events file itself, as a file URI, still takes breakpoints.
    const ok = await dc.setBreakpointsRequest({ source: { path: pathToFileURL(join(COLD.slice, 'events.jsonl')).href }, breakpoints: [{ line: 3 }] });
    assert.equal(ok.body.breakpoints[0]?.verified, true);
    assert.deepEqual(await where(dc).then((w) => [w.line, w.stage]), [1, 'before retrieve']);
  } finally {
    await dc.stop();
  }
});
