// After terminate or disconnect a session is over: it launches nothing more (nothing would ever
// release what a launch opens) and says it ended once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { tmp } from '../helpers';
import { client, COLD, failure, launch, serveTcp } from './helpers';
import { spillParentName } from '../../src/core/engine/checkpoints';

test('launch after terminate or disconnect (before any launch) is refused as the session has ended, and opens nothing', async () => {
  // Its own temp folder, so the checkpoint spill folders seen are this adapter's.
  const temp = tmp();
  const { proc, port: listening } = serveTcp([], { TMPDIR: temp, TMP: temp, TEMP: temp });
  try {
    const port = await listening;
    const spills = () => {
      const parent = join(temp, spillParentName());
      return existsSync(parent) ? readdirSync(parent).filter((d) => d.startsWith(`${proc.pid}-`)) : [];
    };
    for (const end of ['terminate', 'disconnect'] as const) {
      const dc = new DebugClient('node', '', 'recreplay');
      await dc.start(port);
      try {
        await dc.initializeRequest({ adapterID: 'recreplay', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
        await dc.send(end, {});
        const trace = join(tmp(), 'trace');
        const message = await failure(dc.launchRequest({ ...COLD, stopOnEntry: true, trace } as DebugProtocol.LaunchRequestArguments));
        assert.match(message, /^the debug session has ended/, end);
        assert.ok(!existsSync(trace), `${end}: no trace was started`);
        assert.deepEqual(spills(), [], `${end}: no checkpoint spill folder`);
        assert.match(await failure(dc.configurationDoneRequest()), /the debug session has ended/);
        assert.match(await failure(dc.threadsRequest()), /the debug session has ended/);
      } finally {
        await dc.stop();
      }
    }
  } finally {
    proc.kill();
  }
});

test('repeated terminate sends one terminated event', async () => {
  const dc = await client();
  try {
    await launch(dc, { ...COLD, stopOnEntry: true });
    let terminated = 0;
    dc.on('terminated', () => terminated++);
    const first = dc.waitForEvent('terminated');
    await dc.terminateRequest({});
    await first;
    await dc.terminateRequest({});
    await dc.terminateRequest({});
    // Events go out in order: what the later terminates sent has arrived by this answer.
    await failure(dc.threadsRequest());
    assert.equal(terminated, 1);
  } finally {
    await dc.stop();
  }
});
