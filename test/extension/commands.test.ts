import './setup';
import { afterEach, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { buildSync } from 'esbuild';
import type * as vscode from 'vscode';
import { registerSliceCommands, type CommandContext } from '../../src/extension/commands/sliceCommands';
import { resolveSlice } from '../../src/extension/commands/targets';
import { DisposableStore } from '../../src/extension/disposables';
import { needsIndex, readEntry, type SliceEntry } from '../../src/extension/slices/sliceStore';
import { cacheDir } from '../../src/core/slice/offsetIndex';
import { Slice } from '../../src/core/slice/reader';
import { WorkspaceSlices } from '../../src/extension/slices/workspaceSlices';
import type { TimelineManager } from '../../src/extension/timeline/manager';
import type { SlicesTreeProvider } from '../../src/extension/views/slicesTree';
import * as fake from './vscodeFake';
import { makeSlice, tmp } from '../helpers';

const ROOT = resolve(__dirname, '../..');

/** The extension folder the commands run from: only dist/replayWorker.js, built from source here. */
const extensionDir = tmp('recreplay-ext-');
buildSync({ entryPoints: [join(ROOT, 'src/extension/headless/replayWorker.ts')], outfile: join(extensionDir, 'dist', 'replayWorker.js'), bundle: true, platform: 'node', format: 'cjs', target: 'node20', logLevel: 'error' });

interface Harness {
  entries: Map<string, SliceEntry>;
  refreshed: string[];
  traces: string[][];
  log: fake.FakeLog;
}

let scope: DisposableStore;
let h: Harness;

/** Registers the slice commands against the fake vscode, with small stand-ins for the views. */
function register(): Harness {
  const entries = new Map<string, SliceEntry>();
  const refreshed: string[] = [];
  const traces: string[][] = [];
  const log = new fake.FakeLog();
  // As the workspace's own slices: an entry made once and kept.
  const entryOf = (dir: string) => {
    let e = entries.get(dir);
    if (!e) entries.set(dir, (e = readEntry(dir)));
    return e;
  };
  const slices = {
    withEntry: async <T>(dir: string, task: (e: SliceEntry) => Promise<T>) => task(entryOf(dir)),
    list: async () => [...entries.values()],
  } as unknown as WorkspaceSlices;
  const tree = { refreshSlice: (dir: string) => refreshed.push(dir), refresh: () => {} } as unknown as SlicesTreeProvider;
  const timelines = { showTraces: (t: string[]) => traces.push(t) } as unknown as TimelineManager;
  const ctx = {
    extensionUri: fake.Uri.file(extensionDir),
    log,
    slices,
    tree,
    sessions: { all: () => [], active: undefined },
    timelines,
  } as unknown as CommandContext;
  registerSliceCommands(ctx, scope);
  return { entries, refreshed, traces, log };
}

function resetFake(): void {
  fake.settings.clear();
  fake.messagesShown.length = 0;
  fake.infoShown.length = 0;
  fake.warningsShown.length = 0;
  fake.progressShown.length = 0;
  fake.progressControl.cancelNext = false;
  fake.window.quickPickChoice = undefined;
  fake.workspace.workspaceFolders = undefined;
  fake.workspace.files = [];
  fake.workspace.isTrusted = true;
}

beforeEach(() => {
  resetFake();
  scope = new DisposableStore();
  h = register();
});

afterEach(() => {
  scope.dispose();
  resetFake();
});

test('Verify Slice on an intact slice says every file matches, and records the slice as verified', async () => {
  const dir = makeSlice(30);
  await fake.commands.executeCommand('recreplay.verifySlice', dir);
  assert.deepEqual(fake.progressShown.map((p) => p.title), ['Verifying test']);
  assert.deepEqual(fake.warningsShown, []);
  assert.deepEqual(fake.messagesShown, []);
  assert.deepEqual(fake.infoShown, ['test: every file matches its sha256 in the manifest.']);
  assert.deepEqual(h.entries.get(dir)?.status, { kind: 'verified' });
  assert.deepEqual(h.refreshed, [dir], 'the tree shows the new status');
});

test('Verify Slice on a modified slice warns, naming the file and what differs, and never says it is intact', async () => {
  const dir = makeSlice(30);
  const ev = join(dir, 'events.jsonl');
  const bytes = readFileSync(ev);
  // One byte changed, the size unchanged: only the hash can tell.
  const at = bytes.indexOf('"u1"') + 2;
  bytes[at] = '9'.charCodeAt(0);
  writeFileSync(ev, bytes);
  await fake.commands.executeCommand('recreplay.verifySlice', dir);
  assert.deepEqual(fake.infoShown, [], 'no "every file matches" for a modified slice');
  assert.deepEqual(fake.messagesShown, []);
  assert.equal(fake.warningsShown.length, 1, fake.warningsShown.join('\n'));
  const [warning] = fake.warningsShown as [string];
  assert.match(warning, /^test was modified since it was frozen: events\.jsonl \(its sha256 differs\)\./);
  assert.doesNotMatch(warning, /users\.jsonl|items\.jsonl/, 'only the changed file is named');
  assert.deepEqual(h.entries.get(dir)?.status, { kind: 'modified', files: ['events.jsonl'], missing: [] });
  assert.deepEqual(h.refreshed, [dir]);
});

/**
 * The links VS Code makes of a notification's text (src/vs/base/common/linkedText.ts, 1.100): a
 * command link runs its command, with the arguments it carries, when clicked.
 */
const notificationLinks = (text: string) => [...text.matchAll(/\[([^\]]+)\]\(((?:https?:\/\/|command:|file:)[^)\s]+)(?: (["'])(.+?)(\3))?\)/gi)].map((m) => m[2]);

test('a slice named as a Markdown link is shown as text in notifications: its name cannot become a link that runs a command (typed into the terminal) when clicked', async () => {
  const name = '[Re-freeze it](command:workbench.action.terminal.sendSequence?%7B%22text%22%3A%22id%5Cr%22%7D)';
  const dir = makeSlice(30, { manifest: { name } });
  await fake.commands.executeCommand('recreplay.verifySlice', dir);
  const [title] = fake.progressShown.map((p) => p.title);
  const [info] = fake.infoShown;
  assert.deepEqual(notificationLinks(title ?? ''), [], title);
  assert.deepEqual(notificationLinks(info ?? ''), [], info);
  assert.equal(info, '[Re-freeze it] (command:workbench.action.terminal.sendSequence?%7B%22text%22%3A%22id%5Cr%22%7D): every file matches its sha256 in the manifest.');
  // And when it was modified: the warning names the slice too.
  writeFileSync(join(dir, 'items.jsonl'), readFileSync(join(dir, 'items.jsonl'), 'utf8').replace('"', ' "'));
  await fake.commands.executeCommand('recreplay.verifySlice', dir);
  assert.equal(fake.warningsShown.length, 1);
  assert.deepEqual(notificationLinks(fake.warningsShown[0] ?? ''), [], fake.warningsShown[0]);
});

/** Opens `path` as the only workspace folder (the fake Uri has what the commands use of vscode.Uri). */
function openWorkspace(path: string): void {
  fake.workspace.workspaceFolders = [{ uri: fake.Uri.file(path) as unknown as vscode.Uri, name: basename(path), index: 0 }];
}

/** Picks the built-in "recorded" ranker in the ranker quick pick. */
const pickRecorded = (items: { label: string; spec?: string }[]) => items.find((i) => i.spec === 'recorded');

test('Replay Headless writes its run folder under the recreplay.runs.folder setting', async () => {
  const dir = makeSlice(40);
  const workspace = dirname(dir);
  openWorkspace(workspace);
  fake.settings.set('recreplay.runs.folder', ' out/my-runs ');
  fake.window.quickPickChoice = pickRecorded;
  await fake.commands.executeCommand('recreplay.replayHeadless', dir);
  assert.deepEqual(fake.messagesShown, [], h.log.lines.join('\n'));
  assert.deepEqual(fake.progressShown.map((p) => p.title), ['Replaying test with recorded']);
  const runs = join(workspace, 'out', 'my-runs');
  assert.ok(existsSync(runs), `no ${runs}; workspace holds ${readdirSync(workspace).join(', ')}`);
  const made = readdirSync(runs);
  assert.equal(made.length, 1, made.join(', '));
  const [run] = made as [string];
  assert.match(run, /^test-recorded-\d{8}-\d{6}$/);
  assert.ok(existsSync(join(runs, run, 'trace.jsonl')) && existsSync(join(runs, run, 'run.json')), 'the trace and run record are in the run folder');
  assert.ok(!existsSync(join(workspace, '.recreplay')), 'nothing under the default runs folder');
  assert.deepEqual(h.traces, [[join(runs, run, 'trace.jsonl')]], 'the timeline shows the new trace');
  assert.match(fake.infoShown.join('\n'), /^test: replayed 40 events/);
});

test('Replay Headless still running when the extension is deactivated (window closed, extension disabled) stops its worker and leaves no run folder behind', async () => {
  const dir = makeSlice(30000);
  const workspace = dirname(dir);
  openWorkspace(workspace);
  fake.window.quickPickChoice = pickRecorded;
  const runs = join(workspace, '.recreplay', 'runs');
  const running = fake.commands.executeCommand('recreplay.replayHeadless', dir);
  // The worker has begun its trace.
  const begun = () => existsSync(runs) && readdirSync(runs).some((r) => readdirSync(join(runs, r)).some((f) => f.startsWith('.trace.jsonl.')));
  while (!begun()) await new Promise((r) => setTimeout(r, 5));
  scope.dispose();
  await running;
  assert.ok(!existsSync(join(workspace, '.recreplay')), 'the run folder (and the folders made for it), with the half-written trace in it, are gone');
  assert.deepEqual(h.traces, [], 'no timeline of a run that was stopped');
});

test('Replay Headless writes into an absolute recreplay.runs.folder as it is (it was joined under the workspace folder), with a folder open or none', async () => {
  const dir = makeSlice(15);
  const workspace = dirname(dir);
  const elsewhere = join(tmp('runs-'), 'all-runs');
  fake.settings.set('recreplay.runs.folder', elsewhere);
  fake.window.quickPickChoice = pickRecorded;
  for (const open of [true, false]) {
    if (open) openWorkspace(workspace);
    else fake.workspace.workspaceFolders = undefined;
    await fake.commands.executeCommand('recreplay.replayHeadless', dir);
    assert.deepEqual(fake.messagesShown, [], h.log.lines.join('\n'));
    const made = existsSync(elsewhere) ? readdirSync(elsewhere) : [];
    assert.equal(made.length, open ? 1 : 2, `run folders in ${elsewhere}: ${made.join(', ')}; the workspace holds ${readdirSync(workspace).join(', ')}`);
    assert.ok(made.every((r) => existsSync(join(elsewhere, r, 'trace.jsonl'))));
  }
  assert.deepEqual(readdirSync(workspace).filter((f) => f.startsWith('.recreplay') || f === basename(dirname(elsewhere))), [], 'nothing written under the workspace');
});

test('Replay Headless takes no checkpoint interval from the settings (a workspace set to 1 made it spill the state at every event)', async () => {
  const dir = makeSlice(20);
  const workspace = dirname(dir);
  openWorkspace(workspace);
  fake.settings.set('recreplay.checkpointEvery', 1);
  fake.window.quickPickChoice = pickRecorded;
  try {
    await fake.commands.executeCommand('recreplay.replayHeadless', dir);
  } finally {
    fake.settings.delete('recreplay.checkpointEvery');
  }
  const runs = join(workspace, '.recreplay', 'runs');
  const [run] = readdirSync(runs) as [string];
  const record = JSON.parse(readFileSync(join(runs, run, 'run.json'), 'utf8')) as { config: { checkpointEvery: number } };
  assert.equal(record.config.checkpointEvery, 500);
});

test('Replay Headless without the setting uses .recreplay/runs of the workspace folder', async () => {
  const dir = makeSlice(10);
  const workspace = dirname(dir);
  openWorkspace(workspace);
  fake.window.quickPickChoice = pickRecorded;
  await fake.commands.executeCommand('recreplay.replayHeadless', dir);
  assert.deepEqual(fake.messagesShown, [], h.log.lines.join('\n'));
  const runs = join(workspace, '.recreplay', 'runs');
  const made = existsSync(runs) ? readdirSync(runs) : [];
  assert.equal(made.length, 1, `run folders under ${runs}: ${made.join(', ')}`);
  assert.ok(existsSync(join(runs, made[0] as string, 'trace.jsonl')));
});

test('Replay Headless in an untrusted workspace refuses a runs folder that a symbolic link of the workspace takes outside it, and writes nothing', async () => {
  const dir = makeSlice(10);
  const workspace = dirname(dir);
  const outside = tmp('outside-');
  symlinkSync(outside, join(workspace, '.recreplay'));
  openWorkspace(workspace);
  fake.workspace.isTrusted = false;
  fake.window.quickPickChoice = pickRecorded;
  await fake.commands.executeCommand('recreplay.replayHeadless', dir);
  assert.deepEqual(readdirSync(outside), [], 'nothing written through the link');
  assert.deepEqual(fake.progressShown, [], 'no replay started');
  assert.deepEqual(fake.messagesShown, [`The runs folder ${join(workspace, '.recreplay', 'runs')} leads outside the workspace through a symbolic link (to ${join(outside, 'runs')}): an untrusted workspace may not write there. Trust the workspace (Manage Workspace Trust), or set recreplay.runs.folder in your user settings to a folder without links.`]);
});

test('Replay Headless in an untrusted window with no folder refuses a .recreplay link beside the slice that leads elsewhere', async () => {
  const dir = makeSlice(10);
  const outside = tmp('outside-');
  symlinkSync(outside, join(dirname(dir), '.recreplay'));
  fake.workspace.workspaceFolders = undefined;
  fake.workspace.isTrusted = false;
  fake.window.quickPickChoice = pickRecorded;
  await fake.commands.executeCommand('recreplay.replayHeadless', dir);
  assert.deepEqual(readdirSync(outside), [], 'nothing written through the link');
  assert.deepEqual(fake.progressShown, [], 'no replay started');
  assert.match(fake.messagesShown.join('\n'), /leads outside the slice's folder through a symbolic link/);
});

test('Replay Headless in an untrusted workspace still writes under its own .recreplay/runs', async () => {
  const dir = makeSlice(10);
  const workspace = dirname(dir);
  openWorkspace(workspace);
  fake.workspace.isTrusted = false;
  fake.window.quickPickChoice = pickRecorded;
  await fake.commands.executeCommand('recreplay.replayHeadless', dir);
  assert.deepEqual(fake.messagesShown, [], h.log.lines.join('\n'));
  assert.equal(readdirSync(join(workspace, '.recreplay', 'runs')).length, 1);
});

test('Replay Headless in an untrusted workspace refuses a ranker file that is a link to a model outside it, as a debug launch does, and runs nothing', async () => {
  const dir = makeSlice(10);
  const workspace = dirname(dir);
  const elsewhere = tmp('elsewhere-');
  writeFileSync(join(elsewhere, 'model.json'), JSON.stringify({ weights: { x: 1 }, bias: 0 }));
  mkdirSync(join(workspace, 'rankers'), { recursive: true });
  symlinkSync(join(elsewhere, 'model.json'), join(workspace, 'rankers', 'model.json'));
  openWorkspace(workspace);
  fake.workspace.files = [join(workspace, 'rankers', 'model.json')];
  fake.workspace.isTrusted = false;
  fake.window.quickPickChoice = (items) => items.find((i) => i.spec === 'linear:rankers/model.json');
  try {
    await fake.commands.executeCommand('recreplay.replayHeadless', dir);
  } finally {
    fake.workspace.files = [];
  }
  assert.deepEqual(fake.progressShown, [], 'no replay started');
  assert.deepEqual(fake.messagesShown, ['"ranker" is "linear:rankers/model.json", whose artifact lies outside the workspace: an untrusted workspace reads only its own files. Trust the workspace (Manage Workspace Trust), or copy it into the workspace.']);
  assert.ok(!existsSync(join(workspace, '.recreplay')), 'no run folder made');
  // Trusted, the same pick runs.
  fake.workspace.isTrusted = true;
  fake.workspace.files = [join(workspace, 'rankers', 'model.json')];
  fake.messagesShown.length = 0;
  try {
    await fake.commands.executeCommand('recreplay.replayHeadless', dir);
  } finally {
    fake.workspace.files = [];
  }
  assert.deepEqual(fake.messagesShown, [], h.log.lines.join('\n'));
  assert.equal(readdirSync(join(workspace, '.recreplay', 'runs')).length, 1);
});

/** Forgets the cached offset index of a slice (the writer caches one at freeze). */
function dropCachedIndex(dir: string): void {
  const sha = createHash('sha256').update(readFileSync(join(dir, 'slice.json'))).digest('hex');
  rmSync(join(cacheDir(), `index-${sha}.f64`), { force: true });
}

/** Runs Slice Info, catching the Markdown document it opens (the fake has no editors); counts Slice.openAsync calls. */
async function sliceInfo(dir: string): Promise<{ documents: string[]; opens: number }> {
  const documents: string[] = [];
  const w = fake.workspace as Record<string, unknown>;
  const win = fake.window as Record<string, unknown>;
  const open = Slice.openAsync;
  let opens = 0;
  Slice.openAsync = (...args: Parameters<typeof Slice.openAsync>) => {
    opens++;
    return open.apply(Slice, args);
  };
  w['openTextDocument'] = async (o: { content: string }) => (documents.push(o.content), {});
  win['showTextDocument'] = async () => ({});
  try {
    await fake.commands.executeCommand('recreplay.sliceInfo', dir);
  } finally {
    Slice.openAsync = open;
    delete w['openTextDocument'];
    delete win['showTextDocument'];
  }
  return { documents, opens };
}

test('Slice Info on a slice never opened builds its index first with a cancellable progress notification', async () => {
  const dir = makeSlice(300);
  dropCachedIndex(dir);
  assert.equal(needsIndex(dir), true);
  const { documents, opens } = await sliceInfo(dir);
  assert.deepEqual(fake.messagesShown, []);
  assert.deepEqual(fake.progressShown.map((p) => p.title), ['Indexing test']);
  assert.equal(opens, 1);
  assert.equal(needsIndex(dir), false, 'the streamed index is cached');
  assert.equal(documents.length, 1);
  assert.match(documents[0] as string, /test/);
  assert.deepEqual(h.refreshed, [dir]);
});

test('Slice Info cancelled while indexing shows nothing, no error, and never reads events.jsonl synchronously', async () => {
  const dir = makeSlice(300);
  dropCachedIndex(dir);
  fake.progressControl.cancelNext = true;
  const { documents, opens } = await sliceInfo(dir);
  assert.deepEqual(fake.progressShown, [{ title: 'Indexing test', cancelled: true }]);
  assert.deepEqual(documents, []);
  assert.deepEqual(fake.messagesShown, []);
  assert.equal(opens, 0, 'the slice was never opened');
  assert.notEqual(h.entries.get(dir)?.status.kind, 'error');
  assert.equal(needsIndex(dir), true);
});

test('Slice Info on a slice already indexed opens it without a progress notification', async () => {
  const dir = makeSlice(30);
  assert.equal(needsIndex(dir), false);
  const { documents } = await sliceInfo(dir);
  assert.deepEqual(fake.progressShown, []);
  assert.equal(documents.length, 1);
  assert.deepEqual(fake.messagesShown, []);
});

test('Slice Info on a slice whose manifest has an invalid field names slice.json once', async () => {
  const dir = makeSlice(5);
  const file = join(dir, 'slice.json');
  writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), seed: 'x' }));
  const { documents } = await sliceInfo(dir);
  assert.deepEqual(documents, []);
  assert.equal(fake.messagesShown.length, 1);
  assert.ok((fake.messagesShown[0] as string).startsWith(`${file}: manifest is invalid — seed: must be integer (field seed)`), fake.messagesShown[0]);
  assert.equal((fake.messagesShown[0] as string).split(file).length - 1, 1, fake.messagesShown[0]);
});

test('a command from the palette takes the slice of the active tab even when VS Code gives no editor for it (an events.jsonl over 50 MB)', async () => {
  const a = makeSlice(5);
  const b = makeSlice(5);
  const slices = { list: async () => [readEntry(a), readEntry(b)] } as unknown as WorkspaceSlices;
  fake.window.activeTextEditor = undefined;
  fake.window.tabGroups.activeTabGroup.activeTab = { input: new fake.TabInputText(fake.Uri.file(join(b, 'events.jsonl'))) };
  try {
    assert.equal(await resolveSlice(undefined, slices), b);
  } finally {
    fake.window.tabGroups.activeTabGroup.activeTab = undefined;
  }
});

test('Slice Info shows a slice\'s text as text: an image, a link or HTML in its description is not rendered, and a line break does not break the table', async () => {
  const dir = makeSlice(5);
  const file = join(dir, 'slice.json');
  const m = JSON.parse(readFileSync(file, 'utf8'));
  m.description = 'home feed\n\n![x](https://tracker.example/p.png) <img src=https://tracker.example/i> [link](https://x.example)';
  writeFileSync(file, JSON.stringify(m));
  const { documents } = await sliceInfo(dir);
  const doc = documents[0] as string;
  // (Escaped with a backslash, each shows as the character itself.)
  assert.doesNotMatch(doc, /(?<!\\)!(?<!\\)\[x/);
  assert.doesNotMatch(doc, /(?<!\\)<img/);
  assert.doesNotMatch(doc, /(?<!\\)\[link(?<!\\)\]/);
  assert.match(doc, /home feed \\!\\\[x\\\]\\\(https:\/\/tracker/);
});

test('a slice from outside the workspace (Browse…) is closed once the command that opened it is done; the workspace\'s own slice stays open for the view', async () => {
  const ws = tmp('ws-');
  const inside = join(ws, 'in.slice');
  cpSync(makeSlice(5), inside, { recursive: true });
  const outside = makeSlice(6);
  openWorkspace(ws);
  fake.workspace.files = [join(inside, 'slice.json')];
  const slices = new WorkspaceSlices(h.log as never);
  const own = new DisposableStore();
  registerSliceCommands({ extensionUri: fake.Uri.file(extensionDir), log: h.log, slices, tree: { refreshSlice: () => {}, refresh: () => {} }, sessions: { all: () => [], active: undefined }, timelines: {} } as unknown as CommandContext, own);
  const closed: string[] = [];
  const close = Slice.prototype.close;
  Slice.prototype.close = function (this: Slice) {
    closed.push(this.dir);
    close.call(this);
  };
  try {
    const { documents } = await sliceInfo(outside);
    assert.equal(documents.length, 1);
    assert.deepEqual(closed, [outside], 'its events.jsonl is not held open until Refresh');
    // A later command gets a fresh entry (read anew: no watcher kept the old one current).
    const later = await slices.use(outside);
    assert.equal(later.entry.slice, undefined);
    later.release();
    // The workspace's slice stays open: the Slices view shows it.
    await sliceInfo(inside);
    assert.deepEqual(closed, [outside]);
    const mine = await slices.use(inside);
    assert.ok(mine.entry.slice);
    mine.release();
    assert.ok(mine.entry.slice);
    // Two commands on one browsed slice: it is closed when the last one is done, not under the other.
    const a = await slices.use(outside);
    const b = await slices.use(outside);
    assert.equal(a.entry, b.entry);
    await a.entry.open();
    b.release();
    b.release();
    assert.ok(a.entry.slice, 'still used by the first command');
    a.release();
    assert.equal(a.entry.slice, undefined);
    assert.deepEqual(closed, [outside, outside]);
  } finally {
    Slice.prototype.close = close;
    own.dispose();
    slices.dispose();
  }
});

test('with no folder open, Replay Headless resolves a relative ranker path and runs folder beside the slice folder (as F5 does), not inside the slice folder', async () => {
  const proj = tmp('proj-');
  const dir = join(proj, 'x.slice');
  cpSync(makeSlice(20), dir, { recursive: true });
  mkdirSync(join(proj, 'rankers'));
  writeFileSync(join(proj, 'rankers', 'm.json'), JSON.stringify({ weights: { 'candidate.score': 1 } }));
  fake.workspace.workspaceFolders = undefined;
  // The ranker typed in (Other…), as recreplay.defaultRanker has it: relative.
  fake.window.quickPickChoice = (items) => items.find((i) => i.label.includes('Other'));
  const win = fake.window as Record<string, unknown>;
  win['showInputBox'] = async () => 'linear:rankers/m.json';
  try {
    await fake.commands.executeCommand('recreplay.replayHeadless', dir);
  } finally {
    delete win['showInputBox'];
  }
  assert.deepEqual(fake.messagesShown, [], h.log.lines.join('\n'));
  const runs = join(proj, '.recreplay', 'runs');
  assert.equal(readdirSync(runs).length, 1, 'the runs folder setting resolved beside the slice');
  assert.match(fake.infoShown.join('\n'), /^test: replayed 20 events/);
});

test('Debug Slice on a slice outside any workspace folder says where its relative paths resolve: the first folder, or with none open the slice folder\'s parent', async () => {
  const dir = makeSlice(3);
  const started: { folder: unknown; config: Record<string, unknown> }[] = [];
  const debug = fake.debug as Record<string, unknown>;
  debug['startDebugging'] = async (folder: unknown, config: Record<string, unknown>) => (started.push({ folder, config }), true);
  const ws = tmp('ws-');
  const getFolder = fake.workspace.getWorkspaceFolder;
  // As VS Code answers for a slice that lies in no workspace folder.
  fake.workspace.getWorkspaceFolder = () => undefined;
  try {
    fake.workspace.workspaceFolders = undefined;
    await fake.commands.executeCommand('recreplay.debugSlice', dir);
    openWorkspace(ws);
    await fake.commands.executeCommand('recreplay.debugSlice', dir);
  } finally {
    delete debug['startDebugging'];
    fake.workspace.getWorkspaceFolder = getFolder;
  }
  assert.deepEqual(started.map((s) => [s.folder, s.config['slice'], s.config['cwd']]), [
    [undefined, dir, dirname(dir)],
    [undefined, dir, ws],
  ]);
});
