import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import { tmp } from '../helpers';
import { ADAPTER, COLD, launch, moveAndStop, ROOT, where } from './helpers';

const CLI = join(ROOT, 'dist/cli.js');

test('debugAdapter.js --port serves one session per connection over TCP', async () => {
  const proc = spawn(process.execPath, [ADAPTER, '--port', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let err = '';
      proc.stderr.on('data', (d: Buffer) => {
        err += d.toString();
        const m = /listening on [\d.]+:(\d+)/.exec(err);
        if (m) resolve(Number(m[1]));
      });
      proc.once('exit', (code) => reject(new Error(`adapter exited with ${code}: ${err}`)));
    });
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
  assert.match(b.stderr, /Unknown option '--prot'/);
  assert.match(b.stderr, /recreplay dap \[--port N\]/);
});
