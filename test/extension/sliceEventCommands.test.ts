import './setup';
import { afterEach, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { registerSliceCommands, type CommandContext } from '../../src/extension/commands/sliceCommands';
import { DisposableStore } from '../../src/extension/disposables';
import * as fake from './vscodeFake';
import { tmp } from '../helpers';

/** A stand-in for a ReplaySession: its slice folder, and the events goto was asked for. */
interface FakeSession {
  sliceDir: string;
  position: { eventCount: number };
  gotos: number[];
  goto(n: number): Promise<void>;
}
const session = (sliceDir: string): FakeSession => {
  const s: FakeSession = { sliceDir, position: { eventCount: 100 }, gotos: [], goto: async (n) => void s.gotos.push(n) };
  return s;
};

let scope: DisposableStore;
let sessions: { all: () => FakeSession[]; active: FakeSession | undefined };
let log: fake.FakeLog;

function reset(): void {
  fake.settings.clear();
  fake.settingLevels.clear();
  fake.settingUpdates.length = 0;
  fake.messagesShown.length = 0;
  fake.infoShown.length = 0;
  fake.executed.length = 0;
}

beforeEach(() => {
  reset();
  scope = new DisposableStore();
  log = new fake.FakeLog();
  sessions = { all: () => [], active: undefined };
  const ctx = { extensionUri: fake.Uri.file('/x'), log, slices: {}, tree: { refresh: () => {} }, sessions, timelines: {} } as unknown as CommandContext;
  registerSliceCommands(ctx, scope);
});

afterEach(() => {
  scope.dispose();
  reset();
});

/** Makes the "editor" refuse documents the way VS Code does for a file above 50 MB. */
function tooLargeForExtensions(): () => void {
  const w = fake.workspace as Record<string, unknown>;
  w['openTextDocument'] = async () => {
    throw new Error('Files above 50MB cannot be synchronized with extensions.');
  };
  return () => delete w['openTextDocument'];
}

test('Reveal Event opens events.jsonl through vscode.open with the cursor on the event\'s line, never asking for the document (over 50 MB it is not given to extensions)', async () => {
  const restore = tooLargeForExtensions();
  try {
    await fake.commands.executeCommand('recreplay.revealEvent', { sliceDir: '/ws/big.slice', event: 1_000_000 });
  } finally {
    restore();
  }
  assert.deepEqual(fake.messagesShown, []);
  const open = fake.executed.find((e) => e.id === 'vscode.open');
  assert.ok(open, `commands run: ${fake.executed.map((e) => e.id).join(', ')}`);
  const [uri, options] = open.args as [fake.Uri, { selection: fake.Range; preview: boolean }];
  assert.equal(uri.fsPath, join('/ws/big.slice', 'events.jsonl'));
  assert.deepEqual([options.selection.start.line, options.selection.start.character, options.selection.isEmpty], [999_999, 0, true], 'event n is line n (0-based n - 1)');
  assert.equal(options.preview, true);
});

test('Reveal Event that the editor cannot open says so in a sentence naming the file and the event', async () => {
  const d = fake.commands.registerCommand('vscode.open', () => {
    throw new Error('cannot open file:///ws/gone.slice/events.jsonl');
  });
  try {
    await fake.commands.executeCommand('recreplay.revealEvent', { sliceDir: '/ws/gone.slice', event: 7 });
  } finally {
    d.dispose();
  }
  assert.deepEqual(fake.messagesShown, [`Could not open ${join('/ws/gone.slice', 'events.jsonl')} at event 7: cannot open file:///ws/gone.slice/events.jsonl`]);
  assert.match(log.lines.join('\n'), /^warn reveal event 7 of/m);
});

test('Go to Event on an event of slice B never moves the session of slice A: it says no session replays B', async () => {
  const a = session('/ws/slices/a.slice');
  sessions.all = () => [a];
  sessions.active = a;
  await fake.commands.executeCommand('recreplay.gotoEvent', { sliceDir: '/ws/slices/b.slice', event: 42 });
  assert.deepEqual(a.gotos, [], 'slice A stays where it was');
  assert.deepEqual(fake.infoShown, ['No RecReplay debug session replays b, so Go to Event has nothing to move: start one with Debug Slice, then go to event 42.']);
});

test('Go to Event moves the session of the event\'s slice, even when it is not the focused one and names the slice through a symbolic link', async () => {
  const root = tmp('goto-');
  const real = join(root, 'data', 'b.slice');
  mkdirSync(real, { recursive: true });
  symlinkSync(join(root, 'data'), join(root, 'linked'));
  const a = session(join(root, 'a.slice'));
  const b = session(join(root, 'linked', 'b.slice'));
  sessions.all = () => [a, b];
  sessions.active = a;
  await fake.commands.executeCommand('recreplay.gotoEvent', { sliceDir: real, event: 42 });
  assert.deepEqual(fake.infoShown, []);
  assert.deepEqual([a.gotos, b.gotos], [[], [42]]);
});

test('Go to Event from the palette (no event given) still moves the active session', async () => {
  const a = session('/ws/slices/a.slice');
  sessions.all = () => [a];
  sessions.active = a;
  const w = fake.window as Record<string, unknown>;
  w['showInputBox'] = async () => '12';
  try {
    await fake.commands.executeCommand('recreplay.gotoEvent');
  } finally {
    delete w['showInputBox'];
  }
  assert.deepEqual(a.gotos, [12]);
});

for (const [level, name] of [
  [fake.ConfigurationTarget.Workspace, 'workspace'],
  [fake.ConfigurationTarget.WorkspaceFolder, 'folder'],
  [fake.ConfigurationTarget.Global, 'user'],
] as const) {
  test(`Group Events by Session / Time writes the ${name} setting when the value in force is set there, so the grouping changes`, async () => {
    fake.setSettingAt('recreplay.slices.groupEventsBy', fake.ConfigurationTarget.Global, 'time');
    fake.setSettingAt('recreplay.slices.groupEventsBy', level, 'time');
    await fake.commands.executeCommand('recreplay.toggleEventGrouping');
    assert.deepEqual(fake.settingUpdates, [{ key: 'recreplay.slices.groupEventsBy', value: 'session', target: level }]);
    assert.equal(fake.settings.get('recreplay.slices.groupEventsBy'), 'session');
    await fake.commands.executeCommand('recreplay.toggleEventGrouping');
    assert.equal(fake.settings.get('recreplay.slices.groupEventsBy'), 'time', 'and back');
  });
}

test('Group Events by Session / Time with nothing set writes the user setting', async () => {
  await fake.commands.executeCommand('recreplay.toggleEventGrouping');
  assert.deepEqual(fake.settingUpdates, [{ key: 'recreplay.slices.groupEventsBy', value: 'session', target: fake.ConfigurationTarget.Global }]);
});
