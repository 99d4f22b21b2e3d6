/**
 * Runs inside the VS Code extension host (bundled by runTest.ts). Plain async tests, run in
 * order; each waits on an event of the extension or the editor, never on a sleep.
 */
import * as assert from 'node:assert/strict';
import { tests } from './extension.vscode';

export async function run(): Promise<void> {
  let passed = 0;
  const failed: string[] = [];
  for (const t of tests) {
    try {
      await t.run();
      passed++;
      console.log(`  ✔ ${t.name}`);
    } catch (e) {
      failed.push(t.name);
      console.log(`  ✖ ${t.name}\n${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    }
  }
  console.log(`${passed} passed, ${failed.length} failed`);
  assert.equal(failed.length, 0, `failed: ${failed.join('; ')}`);
}
