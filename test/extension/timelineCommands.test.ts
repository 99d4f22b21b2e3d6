import './setup';
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { registerTimelineCommands } from '../../src/extension/commands/timelineCommands';
import type { CommandContext } from '../../src/extension/commands/sliceCommands';
import { DisposableStore } from '../../src/extension/disposables';
import * as fake from './vscodeFake';
import { tmp } from '../helpers';

/** The timeline commands against the fake vscode; the traces each command showed. */
function register(): { scope: DisposableStore; shown: string[][] } {
  const shown: string[][] = [];
  const ctx = { timelines: { showTraces: (t: string[]) => shown.push(t) }, sessions: { active: undefined } } as unknown as CommandContext;
  const scope = new DisposableStore();
  registerTimelineCommands(ctx, scope);
  return { scope, shown };
}

/** A run folder holding a (header-only) trace.jsonl. */
function run(name: string): string {
  const dir = join(tmp(), name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'trace.jsonl'), '{"format":"recreplay.trace/1"}\n');
  return dir;
}

afterEach(() => {
  fake.messagesShown.length = 0;
  fake.workspace.files = [];
  fake.window.quickPickChoice = undefined;
});

test('Compare Runs given a run that holds no trace says so, naming it, as Open Timeline does (it showed nothing and said nothing)', async () => {
  const { scope, shown } = register();
  try {
    const good = run('a');
    const empty = join(tmp(), 'no-trace-here');
    mkdirSync(empty);
    await fake.commands.executeCommand('recreplay.compareRuns', empty, good);
    await fake.commands.executeCommand('recreplay.compareRuns', good, empty);
    assert.deepEqual(shown, []);
    assert.equal(fake.messagesShown.length, 2);
    for (const m of fake.messagesShown) assert.match(m, new RegExp(`^Compare Runs: No trace\\.jsonl at ${empty.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: pick`));
    await fake.commands.executeCommand('recreplay.openTimeline', empty);
    assert.match(fake.messagesShown[2] ?? '', /^No trace\.jsonl at /);
    // Two runs that hold traces are shown together.
    const other = run('b');
    await fake.commands.executeCommand('recreplay.compareRuns', good, other);
    assert.deepEqual(shown, [[join(good, 'trace.jsonl'), join(other, 'trace.jsonl')]]);
  } finally {
    scope.dispose();
  }
});

test('the trace picker leaves out a trace removed between the search and the pick (its stat threw ENOENT and the command failed)', async () => {
  const { scope, shown } = register();
  try {
    const kept = run('kept');
    const gone = run('gone');
    fake.workspace.files = [join(gone, 'trace.jsonl'), join(kept, 'trace.jsonl')];
    rmSync(gone, { recursive: true });
    let offered: string[] = [];
    fake.window.quickPickChoice = (items) => {
      offered = items.map((i) => (i as { path?: string }).path ?? i.label);
      return items[0];
    };
    await fake.commands.executeCommand('recreplay.openTimeline');
    assert.ok(!offered.includes(join(gone, 'trace.jsonl')), `offered: ${offered.join(', ')}`);
    assert.deepEqual(shown, [[join(kept, 'trace.jsonl')]]);
  } finally {
    scope.dispose();
  }
});
