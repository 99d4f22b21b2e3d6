// What reaches the routing table: only the adapter's own commands. Frames that are not requests a
// handler can take (a command named after an Object.prototype member, no command, a body that is
// not an object, a second initialize) get a clean answer, never an internal error or a stack trace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { client, COLD, failure, launch, moveAndStop, waitFor, where } from './helpers';

interface Raw {
  send(body: string): void;
  /** The response to the request of this seq. */
  response(seq: number): Promise<DebugProtocol.Response>;
}

/** Writes frames as they are (DebugClient only sends well-formed requests) and catches the answers DebugClient drops. */
function rawFrames(dc: DebugClient): Raw {
  const got = new Map<number, DebugProtocol.Response>();
  const waiting = new Map<number, (r: DebugProtocol.Response) => void>();
  const inner = dc as unknown as { dispatch: (body: string) => void; outputStream: NodeJS.WritableStream };
  const dispatch = inner.dispatch.bind(dc);
  inner.dispatch = (body) => {
    const m = JSON.parse(body) as DebugProtocol.ProtocolMessage;
    if (m.type === 'response') {
      const r = m as DebugProtocol.Response;
      waiting.get(r.request_seq)?.(r);
      got.set(r.request_seq, r);
    }
    dispatch(body);
  };
  return {
    send: (body) => inner.outputStream.write(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`),
    response: (seq) => {
      const r = got.get(seq);
      return r ? Promise.resolve(r) : new Promise((resolve) => waiting.set(seq, resolve));
    },
  };
}

const errorOf = (r: DebugProtocol.Response) => (r.body as { error?: DebugProtocol.Message } | undefined)?.error;

test('commands named after Object.prototype members are unsupported requests (2007), before and after launch', async () => {
  const dc = await client();
  try {
    const raw = rawFrames(dc);
    const names = ['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', '__defineGetter__'];
    let seq = 9000;
    const ask = async () => {
      for (const command of names) {
        raw.send(JSON.stringify({ seq: ++seq, type: 'request', command, arguments: {} }));
        const r = await raw.response(seq);
        assert.equal(r.success, false, `${command}: ${JSON.stringify(r.body)}`);
        assert.equal(errorOf(r)?.id, 2007, `${command}: ${r.message ?? ''}`);
        assert.equal(r.message, `the RecReplay adapter does not support the '${command}' request`);
      }
    };
    await ask();
    await launch(dc, { ...COLD, stopOnEntry: true });
    await ask();
    assert.deepEqual(await where(dc).then((w) => [w.line, w.stage]), [1, 'before retrieve'], 'the session goes on');
  } finally {
    await dc.stop();
  }
});

test('a request without a command is refused naming the missing "command"; one whose command is not a string says so', async () => {
  const dc = await client();
  try {
    await launch(dc, { ...COLD, stopOnEntry: true });
    const raw = rawFrames(dc);
    raw.send(JSON.stringify({ seq: 9001, type: 'request', arguments: {} }));
    const none = await raw.response(9001);
    assert.equal(none.success, false);
    assert.equal(errorOf(none)?.id, 2006);
    assert.match(none.message ?? '', /^the request has no "command": a DAP request names what it asks for/);
    raw.send(JSON.stringify({ seq: 9002, type: 'request', command: 5 }));
    const five = await raw.response(9002);
    assert.equal(errorOf(five)?.id, 2006);
    assert.match(five.message ?? '', /^the request has a "command" that is not a string \(5\)/);
    assert.equal((await dc.threadsRequest()).body.threads.length, 1, 'the session goes on');
  } finally {
    await dc.stop();
  }
});

test('a frame whose body is JSON null (or another non-object, or has no type) is skipped with a plain reason, not a TypeError', async () => {
  const dc = await client();
  try {
    await launch(dc, { ...COLD, stopOnEntry: true });
    const raw = rawFrames(dc);
    const said: string[] = [];
    dc.on('output', (e: DebugProtocol.OutputEvent) => {
      if (e.body.category === 'important') said.push(e.body.output);
    });
    for (const [body, why] of [
      ['null', 'its body is null, not a JSON object'],
      ['[]', 'its body is [], not a JSON object'],
      ['5', 'its body is 5, not a JSON object'],
      ['{"seq":3}', 'its "type" is undefined: a client sends "request" or "response"'],
    ] as const) {
      const out = waitFor(dc, 'output', (e) => (e as DebugProtocol.OutputEvent).body.category === 'important');
      raw.send(body);
      assert.equal(((await out) as DebugProtocol.OutputEvent).body.output, `RecReplay ignored a message from the debug client that is not a valid DAP message (${why}); the session goes on.\n`, body);
    }
    assert.equal(said.length, 4, said.join(''));
    assert.doesNotMatch(said.join(''), /Cannot read prop/);
    assert.deepEqual(await where(dc).then((w) => [w.line, w.stage]), [1, 'before retrieve']);
  } finally {
    await dc.stop();
  }
});

test('a second initialize is refused and leaves the line base as the first one set it', async () => {
  const dc = await client();
  try {
    await launch(dc, { ...COLD, stopOnEntry: true });
    await moveAndStop(dc, () => dc.gotoRequest({ threadId: 1, targetId: 10 }));
    const message = await failure(dc.initializeRequest({ adapterID: 'recreplay', linesStartAt1: false }));
    assert.match(message, /^the session is already initialized: a client sends 'initialize' once/);
    assert.equal((await where(dc)).line, 10, 'lines still count from 1');
  } finally {
    await dc.stop();
  }
});
