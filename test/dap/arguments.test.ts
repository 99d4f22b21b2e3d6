// Request arguments of the wrong JSON type are refused up front as bad arguments (2006), naming
// the argument and the type it must have, not as internal errors or misleading line messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { client, COLD, launch, where } from './helpers';

const EVENTS = join(COLD.slice, 'events.jsonl');

/** The raw response to a request (DebugClient's own methods keep only the message of an error). */
function raw(dc: DebugClient, command: string, args: unknown): Promise<DebugProtocol.Response> {
  return new Promise((resolve) => (dc as unknown as { doSend(c: string, a: unknown, clb: (r: DebugProtocol.Response) => void): void }).doSend(command, args, resolve));
}

test('arguments of the wrong type are refused as bad arguments naming the argument and the type it must have', async () => {
  const dc = await client();
  try {
    await launch(dc, { ...COLD, stopOnEntry: true });
    const cases: [string, unknown, RegExp][] = [
      ['evaluate', {}, /"expression" is missing/],
      ['evaluate', { expression: 5, frameId: 10 }, /"expression" must be a string, but it is 5/],
      ['setBreakpoints', { breakpoints: [{ line: 4 }] }, /"source" is missing/],
      ['setBreakpoints', { source: { path: EVENTS }, breakpoints: [{ line: 4, condition: 5 }] }, /"breakpoints\[0\]\.condition" must be a string, but it is 5/],
      ['setBreakpoints', { source: { path: EVENTS }, breakpoints: [{ line: '4' }] }, /"breakpoints\[0\]\.line" must be a whole number, but it is "4"/],
      ['setFunctionBreakpoints', {}, /"breakpoints" is missing/],
      ['dataBreakpointInfo', {}, /"name" is missing/],
      ['completions', { column: 1 }, /"text" is missing/],
      ['setExceptionBreakpoints', { filters: [], filterOptions: [{ filterId: 'nan_score', condition: 3 }] }, /"filterOptions\[0\]\.condition" must be a string, but it is 3/],
      ['goto', { threadId: 1, targetId: '5' }, /"targetId" must be a whole number, but it is "5"/],
      ['stackTrace', { threadId: 1, startFrame: -1 }, /"startFrame" must be a whole number, 0 or more, but it is -1$/],
      ['stackTrace', { threadId: 1, levels: -1 }, /"levels" must be a whole number, 0 or more, but it is -1$/],
      ['stackTrace', { threadId: 1, startFrame: 1.5 }, /"startFrame" must be a whole number, 0 or more, but it is 1.5$/],
    ];
    for (const [command, args, message] of cases) {
      const r = await raw(dc, command, args);
      const error = (r.body as { error?: DebugProtocol.Message } | undefined)?.error;
      const label = `${command} ${JSON.stringify(args)}: ${r.message ?? ''}`;
      assert.equal(r.success, false, label);
      assert.equal(error?.id, 2006, label);
      assert.match(error?.format ?? '', new RegExp(`^bad arguments for '${command}': `), label);
      assert.match(error?.format ?? '', message, label);
    }
    const w = await where(dc);
    assert.deepEqual([w.line, w.stage], [1, 'before retrieve'], 'nothing moved');
    // levels 0 is every frame, as the DAP specification has it.
    assert.deepEqual((await dc.stackTraceRequest({ threadId: 1, startFrame: 1, levels: 0 })).body.stackFrames.map((f) => f.id), [11, 12]);
  } finally {
    await dc.stop();
  }
});
