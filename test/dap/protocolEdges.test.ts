// Protocol edges: a client that counts lines from 0, and a pause or a movement sent right behind a movement.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { makeSlice, tmp } from '../helpers';
import { client, COLD, failure, launch, waitFor, where } from './helpers';

const T = { threadId: 1 };
const EVENTS = join(COLD.slice, 'events.jsonl');
const ZERO_BASED = { linesStartAt1: false };

test('a client with linesStartAt1 false gets the line of log point output in its own convention', async () => {
  const dc = await client();
  try {
    // Client line 11 is event 12 (e00012).
    const out = waitFor(dc, 'output', (e) => /log at e00012/.test((e as DebugProtocol.OutputEvent).body.output));
    const stop = await launch(dc, { ...COLD }, () => dc.setBreakpointsRequest({ source: { path: EVENTS }, breakpoints: [{ line: 11, logMessage: 'log at {event.id}' }] }), ZERO_BASED);
    assert.equal(stop.body.reason, 'end', 'a log point never stops');
    const e = (await out) as DebugProtocol.OutputEvent;
    assert.equal(e.body.line, 11, 'output line in the client convention (0-based)');
  } finally {
    await dc.stop();
  }
});

test('a client with linesStartAt1 false gets the end-of-slice note on the last line in its own convention', async () => {
  const dc = await client();
  try {
    const out = waitFor(dc, 'output', (e) => /end of slice/.test((e as DebugProtocol.OutputEvent).body.output));
    const stop = await launch(dc, { ...COLD }, async () => {}, ZERO_BASED);
    assert.equal(stop.body.reason, 'end');
    const e = (await out) as DebugProtocol.OutputEvent;
    const w = await where(dc);
    assert.equal(e.body.line, w.line, 'the output line is the stack frame line (both client convention)');
  } finally {
    await dc.stop();
  }
});

test('a client with linesStartAt1 false gets breakpoint lines back as it sent them, verified or not', async () => {
  const dc = await client();
  try {
    await launch(
      dc,
      { ...COLD, stopOnEntry: true },
      async () => {
        const r = await dc.setBreakpointsRequest({ source: { path: EVENTS }, breakpoints: [{ line: 0 }, { line: 9999 }, { line: -1 }] });
        const [first, far, before] = r.body.breakpoints;
        assert.equal(first?.verified, true);
        assert.equal(first?.line, 0);
        assert.equal(far?.verified, false);
        assert.equal(far?.line, 9999);
        assert.match(far?.message ?? '', /is not an event/);
        assert.equal(before?.verified, false);
        assert.equal(before?.line, -1);
      },
      ZERO_BASED,
    );
  } finally {
    await dc.stop();
  }
});

test('a pause sent right behind a continue (before its run starts) is not lost', async () => {
  const dir = makeSlice(20_000);
  const dc = await client();
  try {
    await launch(dc, { slice: dir, stopOnEntry: true });
    const stopped = dc.waitForEvent('stopped', 30_000);
    // Back to back: the pause reaches the adapter before the continue's run has begun.
    const sent = Promise.all([dc.continueRequest(T), dc.pauseRequest(T)]);
    await sent;
    const stop = (await stopped) as DebugProtocol.StoppedEvent;
    assert.equal(stop.body.reason, 'pause', `stopped for ${stop.body.reason}: ${stop.body.text ?? ''}`);
    const w = await where(dc);
    assert.ok(w.line >= 1 && w.line < 20_000, `paused mid-way, at ${w.line}`);
  } finally {
    await dc.stop();
  }
});

test('a second movement sent right behind the first (before its run starts) is refused as running, not run alongside it', async () => {
  const dc = await client();
  try {
    await launch(dc, { ...COLD, stopOnEntry: true });
    const stopped = dc.waitForEvent('stopped', 30_000);
    const results = await Promise.allSettled([dc.nextRequest(T), dc.nextRequest(T)]);
    assert.equal(results[0].status, 'fulfilled');
    assert.equal(results[1].status, 'rejected', 'the second movement is refused');
    // (The spec's short form for "retry once stopped".)
    assert.match(String((results[1] as PromiseRejectedResult).reason), /notStopped/);
    await stopped;
    // One step over event 1 from the entry stop (two would have reached event 2).
    const w = await where(dc);
    assert.deepEqual([w.line, w.stage], [1, 'outcome']);
  } finally {
    await dc.stop();
  }
});

test('a malformed frame from the client is reported as output and skipped: the session goes on', async () => {
  const dc = await client();
  try {
    await launch(dc, { ...COLD, stopOnEntry: true });
    const said = waitFor(dc, 'output', (e) => /not a valid DAP message/.test((e as DebugProtocol.OutputEvent).body.output));
    const body = '{bad}';
    // A raw frame whose body is not JSON, written to the adapter the way DebugClient writes its own.
    (dc as unknown as { outputStream: NodeJS.WritableStream }).outputStream.write(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    const out = (await said) as DebugProtocol.OutputEvent;
    assert.equal(out.body.category, 'important');
    const threads = await dc.threadsRequest();
    assert.equal(threads.body.threads.length, 1, 'requests after the bad frame are answered');
    const w = await where(dc);
    assert.deepEqual([w.line, w.stage], [1, 'before retrieve']);
  } finally {
    await dc.stop();
  }
});

test('a client with linesStartAt1 false reads lines in its own convention in error messages', async () => {
  const dc = await client();
  try {
    // cold-start has 650 events: 0-based lines 0 to 649.
    await launch(
      dc,
      { ...COLD, stopOnEntry: true },
      async () => {
        const r = await dc.setBreakpointsRequest({ source: { path: EVENTS }, breakpoints: [{ line: 650 }] });
        assert.equal(r.body.breakpoints[0]?.message, 'line 650 is not an event: events.jsonl has events on lines 0 to 649');
      },
      ZERO_BASED,
    );
    assert.match(await failure(dc.gotoTargetsRequest({ source: { path: EVENTS }, line: 650 })), /^line 650 is not an event: events\.jsonl has events on lines 0 to 649$/);
  } finally {
    await dc.stop();
  }
});

test('a step sent in the same batch as configurationDone runs after the entry stop, not refused', async () => {
  const dc = await client();
  try {
    await dc.initializeRequest({ adapterID: 'recreplay', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
    const initialized = dc.waitForEvent('initialized');
    await dc.launchRequest({ ...COLD, stopOnEntry: true } as DebugProtocol.LaunchRequestArguments);
    await initialized;
    const reasons: string[] = [];
    const stepped = new Promise<void>((resolve) => {
      dc.on('stopped', (e: DebugProtocol.StoppedEvent) => {
        reasons.push(e.body.reason);
        if (reasons.length === 2) resolve();
      });
    });
    const results = await Promise.allSettled([dc.configurationDoneRequest(), dc.nextRequest(T)]);
    assert.deepEqual(
      results.map((r) => (r.status === 'fulfilled' ? 'ok' : String(r.reason))),
      ['ok', 'ok'],
    );
    await stepped;
    assert.deepEqual(reasons, ['entry', 'step']);
    const w = await where(dc);
    assert.deepEqual([w.line, w.stage], [1, 'outcome']);
  } finally {
    await dc.stop();
  }
});

test('configurationDone before launch is refused as out of order, and the session then starts normally', async () => {
  const dc = await client();
  try {
    await dc.initializeRequest({ adapterID: 'recreplay', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
    const early = await failure(dc.configurationDoneRequest());
    assert.match(early, /configurationDone came before launch: send 'launch', then set breakpoints, then 'configurationDone'/);
    // It was taken and forgotten before: the launch below never got its stop.
    const initialized = dc.waitForEvent('initialized');
    await dc.launchRequest({ ...COLD, stopOnEntry: true } as DebugProtocol.LaunchRequestArguments);
    await initialized;
    const stopped = dc.waitForEvent('stopped');
    await dc.configurationDoneRequest();
    assert.equal(((await stopped) as DebugProtocol.StoppedEvent).body.reason, 'entry');
  } finally {
    await dc.stop();
  }
});

test('Run Without Debugging (noDebug) replays to the end past stopOnEntry, breakpoints and fault filters, then ends the session with its trace', async () => {
  const dc = await client();
  const trace = join(tmp(), 'nodebug-trace');
  try {
    const stops: string[] = [];
    dc.on('stopped', (e: DebugProtocol.StoppedEvent) => stops.push(e.body.reason));
    const out: string[] = [];
    dc.on('output', (e: DebugProtocol.OutputEvent) => out.push(e.body.output));
    await dc.initializeRequest({ adapterID: 'recreplay', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
    const initialized = dc.waitForEvent('initialized');
    await dc.launchRequest({ ...COLD, stopOnEntry: true, noDebug: true, trace } as DebugProtocol.LaunchRequestArguments);
    await initialized;
    await dc.setBreakpointsRequest({ source: { path: EVENTS }, breakpoints: [{ line: 5 }] });
    await dc.setExceptionBreakpointsRequest({ filters: ['ranker_error', 'empty_slate', 'over_budget'] });
    const terminated = dc.waitForEvent('terminated');
    await dc.configurationDoneRequest();
    await terminated;
    assert.deepEqual(stops, [], 'nothing stopped the replay');
    assert.ok(out.some((o) => /^end of slice: all 650 events replayed \(run without debugging\)/.test(o)), out.join(''));
    // Ended, it stays ended until the disconnect: a step back, a reverse continue or a continue revived it (stops, a second terminated).
    let terminatedAgain = 0;
    dc.on('terminated', () => terminatedAgain++);
    for (const [command, args] of [['stepBack', { threadId: 1 }], ['reverseContinue', { threadId: 1 }], ['continue', { threadId: 1 }], ['evaluate', { expression: 'n' }]] as const) {
      await assert.rejects(dc.send(command, args), /the run without debugging has ended \(it replayed to its end\): disconnect to write its trace and run record/, command);
    }
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(stops, [], 'nothing stopped');
    assert.equal(terminatedAgain, 0);
    await dc.disconnectRequest({});
    // The client's disconnect closes the session: the trace of all 650 events is in place.
    const lines = readFileSync(join(trace, 'trace.jsonl'), 'utf8').trim().split('\n');
    assert.equal(lines.length, 651, 'a header and one line per event');
    assert.ok(existsSync(join(trace, 'run.json')));
  } finally {
    await dc.stop();
  }
});

test('what the user wrote is quoted cut short in every answer: a 200 KB expression, condition or data breakpoint name made answers of 200-400 KB', async () => {
  const dc = await client();
  try {
    await launch(dc, { ...COLD, stopOnEntry: true });
    const huge = 'x'.repeat(200_000);
    const evalError = await failure(dc.evaluateRequest({ expression: huge, context: 'watch' }));
    assert.ok(evalError.length <= 2100, `${evalError.length} characters`);
    assert.match(evalError, /characters cut/);
    const bps = await dc.setBreakpointsRequest({ source: { path: EVENTS }, breakpoints: [{ line: 3, condition: `${huge} ==` }, { line: 4, logMessage: `{${huge}` }] });
    for (const bp of bps.body.breakpoints) {
      assert.equal(bp.verified, false);
      assert.ok((bp.message ?? '').length <= 2100, `${bp.message?.length} characters`);
    }
    const info = await dc.send('dataBreakpointInfo', { name: huge });
    assert.ok(String(info.body.description ?? '').length <= 2100, `${String(info.body.description).length} characters`);
    // Short ones are as they were.
    assert.match(await failure(dc.evaluateRequest({ expression: 'nope', context: 'watch' })), /nope/);
  } finally {
    await dc.stop();
  }
});
