import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import { lineLogger } from '../../src/debugAdapter/logger';
import { ReplayDebugSession } from '../../src/debugAdapter/session';
import { writeSlice } from '../../src/core/slice/writer';
import { RECORDS_PER_STEP } from '../../src/core/steps';
import { BASE_MANIFEST, fixture, openOn, tmp, turnCounter } from '../helpers';

/** A slice whose catalogue takes many slices of work to hash, parse and index. */
function bigCatalogue(): string {
  const dir = join(tmp(), 'catalogue.slice');
  writeSlice(dir, { manifest: BASE_MANIFEST, ...fixture(30, { items: 5 * RECORDS_PER_STEP }) }, { frozenAt: '2025-01-02T00:00:00.000Z' });
  return dir;
}

/** The adapter in this process (as the editor runs it, inline), over a socket, with a real DAP client. */
async function inProcess(): Promise<{ dc: DebugClient; server: Server }> {
  const server = createServer((socket) => {
    const session = new ReplayDebugSession({ logger: lineLogger(() => {}) });
    session.setRunAsServer(true);
    session.start(socket, socket);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const dc = new DebugClient('node', '', 'recreplay');
  await dc.start((server.address() as AddressInfo).port);
  await dc.initializeRequest({ adapterID: 'recreplay', pathFormat: 'path', linesStartAt1: true });
  return { dc, server };
}

test('a launch hands the thread back between slices of opening the slice: the event loop of the host (the extension host, inline) keeps turning', async () => {
  const slice = bigCatalogue();
  const { dc, server } = await inProcess();
  const counter = turnCounter();
  try {
    const initialized = dc.waitForEvent('initialized');
    await dc.launchRequest({ slice, ranker: 'popularity' } as never);
    const during = counter.turns;
    counter.stop();
    await initialized;
    // Opened in one piece, the launch would have held the thread from the request to the response.
    assert.ok(during >= 10, `the event loop turned ${during} times while the launch opened a ${5 * RECORDS_PER_STEP}-item catalogue`);
  } finally {
    counter.stop();
    await dc.stop();
    server.close();
  }
});

test('a session ended while its launch is still opening the slice: the launch fails saying so and keeps no file open', async () => {
  const slice = bigCatalogue();
  const events = join(slice, 'events.jsonl');
  const before = openOn(events);
  // Called directly (no socket between): the launch has run its first slice of work when dispose() comes.
  const session = new ReplayDebugSession({ logger: lineLogger(() => {}) });
  session.initialize({ adapterID: 'recreplay' });
  const launching = session.launch({ slice, ranker: 'popularity' });
  const disposing = session.dispose();
  await assert.rejects(launching, /the debug session has ended/);
  await disposing;
  assert.equal(openOn(events), before, 'events.jsonl was closed');
});

test('a second launch while the first is still opening the slice is refused, and the first goes on', async () => {
  const slice = bigCatalogue();
  const session = new ReplayDebugSession({ logger: lineLogger(() => {}) });
  session.initialize({ adapterID: 'recreplay' });
  const first = session.launch({ slice, ranker: 'popularity', baseline: 'recorded', trace: join(tmp(), 'trace') });
  assert.throws(() => session.launch({ slice, ranker: 'recorded' }), /already debugs a slice/);
  await first;
  assert.equal(session.launched().lanes.lanes.length, 2);
  await session.dispose();
});
