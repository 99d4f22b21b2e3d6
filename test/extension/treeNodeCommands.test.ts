import './setup';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { registerSliceCommands, type CommandContext } from '../../src/extension/commands/sliceCommands';
import { pickTrace } from '../../src/extension/commands/targets';
import { DisposableStore } from '../../src/extension/disposables';
import { readEntry, type SliceEntry } from '../../src/extension/slices/sliceStore';
import { SlicesTreeProvider } from '../../src/extension/views/slicesTree';
import type { WorkspaceSlices } from '../../src/extension/slices/workspaceSlices';
import * as fake from './vscodeFake';
import { makeSlice, tmp } from '../helpers';

// VS Code passes the tree element to a view/item/context command (package.json menus): the Slices
// view's inline and context actions get a slice or event node, not a path.
test('the Slices view\'s inline and context actions work on the node VS Code passes them', async () => {
  const dir = makeSlice(30);
  const entry = readEntry(dir);
  const tree = new SlicesTreeProvider({ list: async () => [entry], onDidChange: new fake.EventEmitter<void>().event } as never, {
    pageSize: () => 200,
    groupEventsBy: () => 'time',
    withProgress: (_t, task) => task(() => {}, new fake.CancellationTokenSource().token as never),
    log: new fake.FakeLog(),
  });
  const [sliceNode] = await tree.getChildren();
  const sections = await tree.getChildren(sliceNode);
  const events = await tree.getChildren(sections.find((k) => k.kind === 'section' && k.section === 'events'));
  const eventNode = events.find((e) => e.kind === 'event' && e.n === 3);
  assert.ok(sliceNode && eventNode);
  const scope = new DisposableStore();
  const slices = { withEntry: async <T>(_dir: string, task: (e: SliceEntry) => Promise<T>) => task(entry), list: async () => [entry] } as unknown as WorkspaceSlices;
  registerSliceCommands({ extensionUri: fake.Uri.file('/x'), log: new fake.FakeLog(), slices, tree: { refreshSlice() {}, refresh() {} }, sessions: { all: () => [], active: undefined }, timelines: {} } as unknown as CommandContext, scope);
  try {
    fake.messagesShown.splice(0);
    fake.infoShown.splice(0);
    await fake.commands.executeCommand('recreplay.verifySlice', sliceNode);
    assert.deepEqual(fake.messagesShown, [], 'no error: the node names its slice');
    // Reveal opens events.jsonl of the node's slice at the node's event (line 3, 0-based 2).
    fake.executed.splice(0);
    await fake.commands.executeCommand('recreplay.revealEvent', eventNode);
    const open = fake.executed.find((c) => c.id === 'vscode.open');
    assert.equal((open?.args[0] as { fsPath: string }).fsPath, join(dir, 'events.jsonl'));
    assert.equal((open?.args[1] as { selection: { start: { line: number } } }).selection.start.line, 2);
    // Go to Event with no session replaying that slice: it says so, naming the slice and the event.
    await fake.commands.executeCommand('recreplay.gotoEvent', eventNode);
    assert.match(fake.infoShown.join('\n'), /No RecReplay debug session replays test, so Go to Event has nothing to move: start one with Debug Slice, then go to event 3\./);
    assert.deepEqual(fake.messagesShown, []);
  } finally {
    scope.dispose();
  }
});

test('the trace picker browses for a file or for a run folder, each in a dialog that can pick it (a dialog for both shows folders only on Windows and Linux)', async () => {
  const run = tmp();
  writeFileSync(join(run, 'trace.jsonl'), '{}\n');
  fake.workspace.files = [];
  try {
    fake.window.quickPickChoice = (items) => items.find((i) => i.label.includes('Browse for a run folder'));
    fake.window.openDialogChoice = [fake.Uri.file(run) as never];
    assert.equal(await pickTrace('Open Timeline'), join(run, 'trace.jsonl'));
    assert.deepEqual([fake.window.lastOpenDialog?.['canSelectFiles'], fake.window.lastOpenDialog?.['canSelectFolders']], [false, true]);
    fake.window.quickPickChoice = (items) => items.find((i) => i.label.includes('Browse for a trace file'));
    fake.window.openDialogChoice = [fake.Uri.file(join(run, 'trace.jsonl')) as never];
    assert.equal(await pickTrace('Open Timeline'), join(run, 'trace.jsonl'));
    assert.deepEqual([fake.window.lastOpenDialog?.['canSelectFiles'], fake.window.lastOpenDialog?.['canSelectFolders']], [true, false]);
  } finally {
    fake.window.quickPickChoice = undefined;
    fake.window.openDialogChoice = undefined;
  }
});
