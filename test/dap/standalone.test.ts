import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import { eventLine, rawSlice, tmp } from '../helpers';
import { ADAPTER, COLD, launch, moveAndStop, ROOT, serveTcp, where } from './helpers';

const CLI = join(ROOT, 'dist/cli.js');

test('debugAdapter.js --port serves one session per connection over TCP', async () => {
  const { proc, port: listening } = serveTcp();
  try {
    const port = await listening;
    for (let session = 0; session < 2; session++) {
      const dc = new DebugClient('node', '', 'recreplay');
      await dc.start(port);
      try {
        const stop = await launch(dc, { ...COLD, stopOnEntry: true });
        assert.equal(stop.body.reason, 'entry');
        await moveAndStop(dc, () => dc.nextRequest({ threadId: 1 }));
        assert.equal((await where(dc)).stage, 'outcome');
      } finally {
        await dc.stop();
      }
    }
  } finally {
    proc.kill();
  }
});

test('the TCP adapter closes a connection that speaks HTTP (a web page posting to 127.0.0.1) without running its body, and still serves DAP', async () => {
  const { proc, port: portP, stderr } = serveTcp();
  try {
    const port = await portP;
    const traceDir = join(tmp(), 'pwned');
    const body = JSON.stringify({ seq: 1, type: 'request', command: 'launch', arguments: { ...COLD, trace: traceDir, stopOnEntry: false } });
    // What a browser sends for a no-cors fetch: the DAP parser would read its Content-Length.
    const reply = await new Promise<string>((resolve) => {
      const s = connect(port, '127.0.0.1', () => s.write(`POST / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`));
      let got = '';
      s.on('data', (d) => (got += d.toString()));
      s.on('close', () => resolve(got));
      s.on('error', () => resolve(got));
      // An adapter that took the request keeps the connection open: fail, do not hang.
      setTimeout(() => {
        s.destroy();
        resolve(`${got}(the connection was still open after 5 s)`);
      }, 5000).unref();
    });
    assert.equal(reply, '', 'nothing answered');
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(!existsSync(traceDir), 'the launch in the body never ran');
    assert.match(stderr(), /closed a connection from .* that does not speak DAP \(it began "POST \/ HTTP\/1.1/);
    // A real client, its header arriving in pieces, is served as before.
    const answer = await new Promise<string>((resolve, reject) => {
      const msg = JSON.stringify({ seq: 1, type: 'request', command: 'initialize', arguments: { adapterID: 'recreplay' } });
      const raw = `Content-Length: ${Buffer.byteLength(msg)}\r\n\r\n${msg}`;
      const s = connect(port, '127.0.0.1', () => {
        s.write(raw.slice(0, 3));
        setTimeout(() => s.write(raw.slice(3, 20)), 50);
        setTimeout(() => s.write(raw.slice(20)), 100);
      });
      let got = '';
      s.on('data', (d) => {
        got += d.toString();
        if (got.includes('"command":"initialize"')) {
          s.destroy();
          resolve(got);
        }
      });
      s.on('error', reject);
    });
    assert.match(answer, /"success":true/);
  } finally {
    proc.kill();
  }
});

test('a connection reset before it sends a DAP header is logged as such, not as an uncaught exception', async () => {
  const { proc, port: portP, stderr } = serveTcp();
  try {
    const port = await portP;
    for (const first of ['', 'Con']) {
      await new Promise<void>((resolve) => {
        const s = connect(port, '127.0.0.1', () => {
          if (first) s.write(first);
          setTimeout(() => {
            s.resetAndDestroy();
            resolve();
          }, 100);
        });
      });
    }
    for (let i = 0; i < 40 && (stderr().match(/failed before it spoke DAP/g) ?? []).length < 2; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal((stderr().match(/failed before it spoke DAP: read ECONNRESET/g) ?? []).length, 2, stderr());
    assert.doesNotMatch(stderr(), /uncaught exception/);
  } finally {
    proc.kill();
  }
});

test('recreplay dap runs the same adapter over stdio', async () => {
  // DebugClient runs `node FILE`; this file starts the CLI's `dap` command.
  const shim = join(tmp(), 'dap-shim.js');
  writeFileSync(shim, `require(${JSON.stringify(CLI)}).main(['dap']);\n`);
  const dc = new DebugClient(process.execPath, shim, 'recreplay', { env: { ...process.env } });
  await dc.start();
  try {
    const stop = await launch(dc, { ...COLD, stopOnEntry: true });
    assert.equal(stop.body.reason, 'entry');
    assert.equal((await where(dc)).line, 1);
  } finally {
    await dc.stop();
  }
});

test('bad options of the standalone adapter exit 2 with a usage line', () => {
  const a = spawnSync(process.execPath, [ADAPTER, '--port', 'abc'], { encoding: 'utf8' });
  assert.equal(a.status, 2);
  assert.match(a.stderr, /--port must be a TCP port number \(0-65535\), got "abc"/);
  const b = spawnSync(process.execPath, [CLI, 'dap', '--prot', '3'], { encoding: 'utf8' });
  assert.equal(b.status, 2);
  assert.match(b.stderr, /unknown option --prot for dap; did you mean --port\?/);
  assert.match(b.stderr, /recreplay dap \[--port N\]/);
});

test('a --log file the adapter cannot write is said once on stderr, and the adapter still serves', async () => {
  // A folder where the file should be: refused for root too.
  const log = tmp();
  const { proc, port, stderr } = serveTcp(['--log', log]);
  try {
    await port;
    assert.match(stderr(), new RegExp(`cannot write the log file ${log.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(EISDIR\\): the adapter runs, logging to stderr only`));
  } finally {
    proc.kill();
  }
});

test('slice text the adapter logs reaches its stderr and --log file with its control characters escaped, never as terminal escapes', async () => {
  // A slice someone sent: an unknown manifest field (kept, with a warning the adapter logs) whose
  // name retitles the terminal window and clears the screen when written to it as it is.
  const evil = '\u001b]0;pwned\u0007\u001b[2J\u009b31m\u202eevil';
  const slice = rawSlice([1, 2].map((n) => eventLine(`e${n}`, `2025-01-01T00:00:0${n}Z`)).join('\n') + '\n', (m) => {
    (m as unknown as Record<string, unknown>)[evil] = 1;
  });
  const logFile = join(tmp(), 'adapter.log');
  const { proc, port: portP, stderr } = serveTcp(['--log', logFile]);
  try {
    const dc = new DebugClient('node', '', 'recreplay');
    await dc.start(await portP);
    try {
      await launch(dc, { slice, stopOnEntry: true });
    } finally {
      await dc.stop();
    }
    for (const [where, text] of [['stderr', stderr()], ['log file', readFileSync(logFile, 'utf8')]] as const) {
      assert.match(text, /\\x1b\]0;pwned\\x07\\x1b\[2J\\x9b31m\\u202eevil/, `${where} names the field, escaped`);
      // eslint-disable-next-line no-control-regex -- what must not be there
      assert.doesNotMatch(text, /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/, `${where} holds no raw control character`);
    }
  } finally {
    proc.kill();
  }
});
