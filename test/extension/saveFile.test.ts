// Exports from the timeline (CSV, PNG) go to disk through a temp file: a write that fails part way
// leaves the file that was there, not half of the new one, and no temp file.
import './setup';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { saveThroughTemp, type SaveFs } from '../../src/extension/saveFile';
import { tmp } from '../helpers';

/** vscode.workspace.fs on the local disk; `fullAfter` bytes into a write, the disk is full (the bytes before are written). */
function diskFs(fullAfter = Infinity): SaveFs {
  return {
    writeFile: async (uri, bytes) => {
      writeFileSync(uri.fsPath, bytes.subarray(0, fullAfter));
      if (bytes.length > fullAfter) throw Object.assign(new Error(`ENOSPC: no space left on device, write '${uri.fsPath}'`), { code: 'ENOSPC' });
    },
    rename: async (from, to) => renameSync(from.fsPath, to.fsPath),
    delete: async (uri) => rmSync(uri.fsPath, { force: true }),
  };
}

test('a timeline export replaces the file whole, and a disk full part way through leaves the old file and no temp file', async () => {
  const dir = tmp();
  const target = vscode.Uri.file(join(dir, 'timeline.csv'));
  writeFileSync(target.fsPath, 'event,old\n1,0.5\n');
  const text = `event,hit\n${Array.from({ length: 1000 }, (_, i) => `${i + 1},0.25`).join('\n')}\n`;
  await assert.rejects(saveThroughTemp(diskFs(100), target as never, Buffer.from(text)), /ENOSPC/);
  assert.equal(readFileSync(target.fsPath, 'utf8'), 'event,old\n1,0.5\n', 'the old export is whole');
  assert.deepEqual(readdirSync(dir), ['timeline.csv'], 'no temp file left');
  await saveThroughTemp(diskFs(), target as never, Buffer.from(text));
  assert.equal(readFileSync(target.fsPath, 'utf8'), text);
  assert.deepEqual(readdirSync(dir), ['timeline.csv']);
  // A new file: a failed write leaves none.
  const fresh = vscode.Uri.file(join(dir, 'timeline.png'));
  await assert.rejects(saveThroughTemp(diskFs(10), fresh as never, Buffer.alloc(64)), /ENOSPC/);
  assert.deepEqual(readdirSync(dir), ['timeline.csv']);
});
