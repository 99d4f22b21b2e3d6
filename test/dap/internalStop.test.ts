// An unexpected failure during a movement stops the replay with an internal-error exception on the
// thread the movement was asked on (in compare mode it was always the candidate's).
import '../extension/setup';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { InlineDap } from '../extension/inlineDap';
import { COLD } from './helpers';

const ROOT = resolve(__dirname, '../..');

test('an internal failure during a step asked on the baseline thread stops on the baseline thread, saying so', async () => {
  const dap = new InlineDap(ROOT);
  try {
    await dap.request('initialize', { adapterID: 'recreplay', linesStartAt1: true, columnsStartAt1: true });
    const initialized = dap.next('initialized');
    await dap.request('launch', { slice: COLD.slice, ranker: COLD.ranker, baseline: 'recorded', stopOnEntry: true, cwd: ROOT });
    await initialized;
    let stopped = dap.next('stopped');
    await dap.request('configurationDone');
    await stopped;
    // A bug, not a user error: the controller's step fails.
    const controller = dap.adapter.launched().controller as unknown as Record<string, unknown>;
    for (const name of ['next', 'stepIn', 'step']) if (typeof controller[name] === 'function') controller[name] = async () => { throw new Error('boom'); };
    stopped = dap.next('stopped');
    await dap.request('next', { threadId: 2 });
    const stop = await stopped;
    assert.equal(stop.body.reason, 'exception');
    assert.equal(stop.body.threadId, 2);
    assert.match(stop.body.text ?? '', /internal error in the adapter: boom/);
  } finally {
    await dap.dispose();
  }
});
