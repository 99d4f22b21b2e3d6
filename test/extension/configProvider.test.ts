import './setup';
import { UserError } from '../../src/core/errors';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as vscode from 'vscode';
import { ReplayConfigurationProvider, checkConfig, configForSlice, fillDefaults } from '../../src/extension/debug/configProvider';
import { cacheDir } from '../../src/core/slice/offsetIndex';
import { needsIndex } from '../../src/extension/slices/sliceStore';
import { trustedLoader } from '../../src/extension/debug/adapterFactory';
import { Slice } from '../../src/core/slice/reader';
import type { Ranker } from '../../src/core/rankers';
import { artifactKind, pickRanker, pickRankerForLaunch } from '../../src/extension/debug/pickers';
import { rankerAllowedUntrusted, trustProblem } from '../../src/extension/trust';
import { readSettings } from '../../src/extension/settings';
import { ReplaySession } from '../../src/extension/debug/sessions';
import { FakeLog, TabInputText, Uri, infoShown, messagesShown, progressControl, progressShown, settings, window, workspace } from './vscodeFake';
import { makeSlice, tmp } from '../helpers';

test('with recreplay.checkpointEvery unset (its default) a configuration gets no interval: the engine picks one for the slice', () => {
  settings.clear();
  const c = fillDefaults({ type: 'recreplay', request: 'launch', name: 'x', slice: 's' }, readSettings(), '/w', undefined);
  assert.ok(!('problem' in c));
  assert.equal(c.checkpointEvery, undefined);
  assert.equal(readSettings().checkpointEvery, undefined);
  // Written as a string in settings.json, a number is still taken; anything else is no interval.
  settings.set('recreplay.checkpointEvery', '200');
  assert.equal(readSettings().checkpointEvery, 200);
  settings.set('recreplay.checkpointEvery', 'often');
  assert.equal(readSettings().checkpointEvery, undefined);
  settings.clear();
});

test('F5 on an open events.jsonl (no launch.json) replays that slice with the settings\' defaults', () => {
  const dir = makeSlice(5);
  settings.set('recreplay.defaultRanker', 'popularity');
  settings.set('recreplay.checkpointEvery', 250);
  try {
    const c = fillDefaults({ type: '', request: '', name: '' }, readSettings(), join(dir, '..'), join(dir, 'events.jsonl'));
    assert.ok(!('problem' in c));
    assert.equal(c.type, 'recreplay');
    assert.equal(c.request, 'launch');
    assert.equal(c.slice, dir);
    assert.equal(c.ranker, 'popularity');
    assert.equal(c.checkpointEvery, 250);
    assert.equal(c.stopOnEntry, true);
    assert.equal(c.cwd, join(dir, '..'));
  } finally {
    settings.clear();
  }
});

test('Ctrl+F5 on an open events.jsonl (no launch.json) runs the slice without debugging: VS Code\'s noDebug is kept', () => {
  const dir = makeSlice(5);
  // VS Code hands a folder-less F5 the configuration { noDebug: true } and nothing else.
  const c = fillDefaults({ noDebug: true } as unknown as Parameters<typeof fillDefaults>[0], readSettings(), join(dir, '..'), join(dir, 'events.jsonl'));
  assert.ok(!('problem' in c));
  assert.equal(c.slice, dir);
  assert.equal(c['noDebug'], true);
});

test('F5 with no slice in the active editor says what to do instead of failing', () => {
  const r = fillDefaults({ type: '', request: '', name: '' }, readSettings(), '/w', '/w/readme.md');
  assert.ok('problem' in r && /events\.jsonl or slice\.json/.test(r.problem));
});

test('a configuration keeps what it sets and gains only what it leaves out', () => {
  const c = fillDefaults({ type: 'recreplay', request: 'launch', name: 'x', slice: 's', ranker: 'linear:r.json', checkpointEvery: 7, cwd: '/c' }, readSettings(), '/w', undefined);
  assert.ok(!('problem' in c));
  assert.equal(c.ranker, 'linear:r.json');
  assert.equal(c.checkpointEvery, 7);
  assert.equal(c.cwd, '/c');
});

test('dynamic configurations name slices relative to the workspace folder', () => {
  assert.deepEqual(configForSlice('/w/slices/a.slice', 'a', '/w', 'recorded'), { type: 'recreplay', request: 'launch', name: 'Replay a', slice: '${workspaceFolder}/slices/a.slice', ranker: 'recorded', stopOnEntry: true });
  assert.equal(configForSlice('/elsewhere/a.slice', 'a', '/w', 'recorded').slice, '/elsewhere/a.slice');
});

test('configuration problems name the attribute and what to write', () => {
  const dir = makeSlice(3);
  assert.equal(checkConfig({ type: 'recreplay', request: 'launch', name: 'x', slice: dir, ranker: 'recorded' }, false, [join(dir, '..')]), undefined);
  assert.match(checkConfig({ type: 'recreplay', request: 'launch', name: 'x' }, true) ?? '', /no "slice"/);
  assert.match(checkConfig({ type: 'recreplay', request: 'launch', name: 'x', slice: '/nope' }, true) ?? '', /not a slice folder \(no slice\.json in \/nope\)/);
  assert.match(checkConfig({ type: 'recreplay', request: 'attach', name: 'x', slice: dir }, true) ?? '', /"request": "launch"/);
});

test('workspace trust: built-in rankers run anywhere, any other kind only when trusted; a kind the core cannot load is called unknown, not a matter of trust', () => {
  for (const ok of ['recorded', 'popularity', 'linear:r.json', 'embedding:e.json']) assert.ok(rankerAllowedUntrusted(ok), ok);
  for (const bad of ['process:python model.py', 'http://localhost:8080/v2/models/m', 'http:x']) assert.equal(rankerAllowedUntrusted(bad), false, bad);
  assert.equal(trustProblem(['process:x'], true), undefined);
  // This version has no process rankers: trusting the workspace would not make one run.
  const proc = trustProblem(['recorded', 'process:x'], false) ?? '';
  assert.match(proc, /^Unknown ranker "process:x": use one of recorded, popularity, linear:PATH, embedding:PATH\.$/);
  assert.doesNotMatch(proc, /[Tt]rust/);
  // A misspelt built-in is no ranker at all: no talk of trust.
  const typo = trustProblem(['linaer:m.json'], false) ?? '';
  assert.match(typo, /^Unknown ranker "linaer:m\.json": use one of recorded, popularity, linear:PATH, embedding:PATH\.$/);
  assert.doesNotMatch(typo, /[Tt]rust/);
  const dir = makeSlice(3);
  assert.match(checkConfig({ type: 'recreplay', request: 'launch', name: 'x', slice: dir, ranker: 'recorded', baseline: 'http:m' }, false) ?? '', /"http:m"/);
});

test('untrusted, a launch configuration may not write its trace outside the workspace', () => {
  const dir = makeSlice(3);
  const ws = join(dir, '..');
  const base = { type: 'recreplay', request: 'launch', name: 'x', slice: dir, ranker: 'recorded', cwd: ws };
  assert.match(checkConfig({ ...base, trace: '/tmp/elsewhere' }, false, [ws]) ?? '', /"trace" is "\/tmp\/elsewhere", outside the workspace: an untrusted workspace may not write there/);
  assert.match(checkConfig({ ...base, trace: '../../out' }, false, [ws]) ?? '', /outside the workspace/);
  assert.equal(checkConfig({ ...base, trace: 'runs/today' }, false, [ws]), undefined);
  assert.equal(checkConfig({ ...base, trace: join(ws, 'runs') }, false, [ws]), undefined);
  // Trusted, anywhere.
  assert.equal(checkConfig({ ...base, trace: '/tmp/elsewhere' }, true, [ws]), undefined);
});

test('a "slice" or "trace" written as a file:// URI is checked as the path the adapter reads it as: untrusted, a trace URI outside the workspace is refused', () => {
  const ws = tmp('ws-');
  const slice = join(ws, 'own.slice');
  cpSync(makeSlice(3), slice, { recursive: true });
  const outside = tmp('outside-');
  const base = { type: 'recreplay', request: 'launch', name: 'x', slice, ranker: 'recorded', cwd: ws };
  // The adapter (launchConfig) writes the trace to the URI's path, outside the workspace.
  assert.match(checkConfig({ ...base, trace: pathToFileURL(join(outside, 'runs')).href }, false, [ws]) ?? '', /"trace" is "file:\/\/.*", outside the workspace: an untrusted workspace may not write there/);
  assert.equal(checkConfig({ ...base, trace: pathToFileURL(join(ws, 'runs')).href }, false, [ws]), undefined);
  // A slice given as a URI is the slice folder it names, as the adapter opens it.
  assert.equal(checkConfig({ ...base, slice: pathToFileURL(slice).href }, true, [ws]), undefined);
  assert.equal(checkConfig({ ...base, slice: pathToFileURL(slice).href }, false, [ws]), undefined);
  // The session of such a launch is the session of that slice (Go to Event, decorations).
  const rs = new ReplaySession({ configuration: { ...base, slice: pathToFileURL(slice).href } } as unknown as vscode.DebugSession);
  assert.equal(rs.sliceDir, slice);
});

test('untrusted, a "trace" inside the workspace as written but through a symbolic link to elsewhere is refused', () => {
  const ws = tmp('ws-');
  const outside = tmp('outside-');
  symlinkSync(outside, join(ws, 'runs'));
  symlinkSync(join(outside, 'nowhere'), join(ws, 'dangling'));
  mkdirSync(join(ws, 'own'));
  const slice = join(ws, 'own.slice');
  cpSync(makeSlice(3), slice, { recursive: true });
  const base = { type: 'recreplay', request: 'launch', name: 'x', slice, ranker: 'recorded', cwd: ws };
  assert.equal(checkConfig({ ...base, trace: join(ws, 'runs', 'x') }, false, [ws]), `"trace" is ${JSON.stringify(join(ws, 'runs', 'x'))}, outside the workspace (through a symbolic link, to ${join(outside, 'x')}): an untrusted workspace may not write there. Trust the workspace (Manage Workspace Trust), or point "trace" at a folder inside it.`);
  assert.match(checkConfig({ ...base, trace: 'runs' }, false, [ws]) ?? '', /outside the workspace/);
  assert.match(checkConfig({ ...base, trace: 'dangling/x' }, false, [ws]) ?? '', /outside the workspace \(through a symbolic link, to a link that leads nowhere\)/);
  assert.equal(checkConfig({ ...base, trace: 'own/x/y' }, false, [ws]), undefined, 'a real folder inside, with parts still to create');
  // A workspace opened through a link of its own is still itself.
  const wsLink = join(tmp('via-'), 'ws');
  symlinkSync(ws, wsLink);
  assert.equal(checkConfig({ ...base, cwd: wsLink, trace: 'own/x' }, false, [wsLink]), undefined);
  assert.equal(checkConfig({ ...base, trace: join(ws, 'runs', 'x') }, true, [ws]), undefined, 'trusted: anywhere');
});

test('F5 with an events.jsonl over 50 MB active (VS Code gives extensions no TextEditor for it) replays the slice of the active tab', () => {
  const dir = makeSlice(5);
  const provider = new ReplayConfigurationProvider(async () => [], new FakeLog() as unknown as vscode.LogOutputChannel);
  window.activeTextEditor = undefined;
  window.tabGroups.activeTabGroup.activeTab = { input: new TabInputText(Uri.file(join(dir, 'events.jsonl'))) };
  infoShown.length = 0;
  try {
    const c = provider.resolveDebugConfiguration(undefined, { type: '', request: '', name: '' }) as { slice?: string; type?: string } | undefined;
    assert.deepEqual(infoShown, []);
    assert.equal(c?.type, 'recreplay');
    assert.equal(c?.slice, dir);
  } finally {
    window.tabGroups.activeTabGroup.activeTab = undefined;
  }
});

test('F5 with no launch.json in a multi-root workspace replays the active slice with its own folder\'s settings and cwd, as Debug Slice does', () => {
  const a = tmp('a-');
  const b = tmp('b-');
  const dir = join(b, 'x.slice');
  cpSync(makeSlice(3), dir, { recursive: true });
  const folders = [a, b].map((f, index) => ({ uri: Uri.file(f), name: f, index }) as unknown as vscode.WorkspaceFolder);
  const provider = new ReplayConfigurationProvider(async () => [], new FakeLog() as unknown as vscode.LogOutputChannel);
  const originalFolderOf = workspace.getWorkspaceFolder;
  const originalConfig = workspace.getConfiguration;
  const scopes: unknown[] = [];
  workspace.workspaceFolders = folders;
  workspace.getWorkspaceFolder = (uri: Uri) => folders.find((f) => uri.fsPath.startsWith(`${f.uri.fsPath}/`));
  workspace.getConfiguration = ((section?: string, scope?: unknown) => {
    scopes.push(scope);
    return originalConfig(section);
  }) as typeof workspace.getConfiguration;
  window.activeTextEditor = { document: { uri: Uri.file(join(dir, 'events.jsonl')) } } as unknown as vscode.TextEditor;
  try {
    // VS Code passes the first folder, or none (a workspace-level launch).
    for (const given of [folders[0], undefined]) {
      scopes.length = 0;
      const c = provider.resolveDebugConfiguration(given, {} as vscode.DebugConfiguration) as Record<string, unknown> | undefined;
      assert.equal(c?.['slice'], dir);
      assert.equal(c?.['cwd'], b, 'relative paths (a recreplay.defaultRanker artifact) from the slice\'s folder');
      assert.deepEqual(scopes.map((sc) => (sc as vscode.WorkspaceFolder | undefined)?.uri.fsPath), [b], 'recreplay.defaultRanker and checkpointEvery of the slice\'s folder');
    }
    // A configuration of launch.json keeps its own folder.
    const own = provider.resolveDebugConfiguration(folders[0], { type: 'recreplay', request: 'launch', name: 'x', slice: dir }) as Record<string, unknown>;
    assert.equal(own['cwd'], a);
  } finally {
    workspace.getWorkspaceFolder = originalFolderOf;
    workspace.getConfiguration = originalConfig;
    workspace.workspaceFolders = undefined;
    window.activeTextEditor = undefined;
  }
});

test('F5 with the Output panel focused (the active text editor is the output\'s) replays the slice of the editor area\'s active tab', () => {
  const dir = makeSlice(5);
  const provider = new ReplayConfigurationProvider(async () => [], new FakeLog() as unknown as vscode.LogOutputChannel);
  const output = Uri.joinPath(Uri.file('/'), 'extension-output-recreplay-1');
  Object.assign(output, { scheme: 'output' });
  window.activeTextEditor = { document: { uri: output } } as unknown as vscode.TextEditor;
  window.tabGroups.activeTabGroup.activeTab = { input: new TabInputText(Uri.file(join(dir, 'events.jsonl'))) };
  infoShown.length = 0;
  try {
    const c = provider.resolveDebugConfiguration(undefined, { type: '', request: '', name: '' }) as { slice?: string } | undefined;
    assert.deepEqual(infoShown, []);
    assert.equal(c?.slice, dir);
  } finally {
    window.activeTextEditor = undefined;
    window.tabGroups.activeTabGroup.activeTab = undefined;
  }
});

test('F5 with no editor and no text tab active says what to open', () => {
  const provider = new ReplayConfigurationProvider(async () => [], new FakeLog() as unknown as vscode.LogOutputChannel);
  window.tabGroups.activeTabGroup.activeTab = { input: undefined };
  infoShown.length = 0;
  try {
    assert.equal(provider.resolveDebugConfiguration(undefined, { type: '', request: '', name: '' }), undefined);
    assert.match(infoShown.join('\n'), /^Open the events\.jsonl or slice\.json of a slice/);
  } finally {
    window.tabGroups.activeTabGroup.activeTab = undefined;
  }
});

test('ranker artifacts are told apart by their keys', () => {
  assert.equal(artifactKind('{"weights": {"a": 1}, "bias": 0}'), 'linear');
  assert.equal(artifactKind('{"dim": 4, "items": {}}'), 'embedding');
  assert.equal(artifactKind('{"name": "package"}'), undefined);
  assert.equal(artifactKind('not json'), undefined);
});

test('the in-process adapter refuses an outside ranker in an untrusted workspace, whatever started the session', async () => {
  const slice = Slice.open(makeSlice(3));
  let trusted = false;
  const trustedLoad = trustedLoader(() => trusted);
  // The loader's answer may be a ranker or a promise of one.
  const load = async (spec: string, ctx: { cwd: string; slice: Slice }): Promise<Ranker> => trustedLoad(spec, ctx);
  assert.equal((await load('recorded', { cwd: '/', slice })).info.kind, 'recorded');
  // Refused by the trust check itself (E_UNTRUSTED), at once, before the core's loader sees the spec.
  assert.throws(() => trustedLoad('process:python m.py', { cwd: '/', slice }), (e: unknown) => e instanceof UserError && e.code === 'E_UNTRUSTED');
  trusted = true;
  // Trusted, the spec reaches the core's loader (which knows no process rankers yet).
  await assert.rejects(load('process:python m.py', { cwd: '/', slice }), /unknown ranker/);
  slice.close();
});

test('a launch of a slice with no cached index builds the index first, streamed and cancellable, never in the adapter', async () => {
  const dir = makeSlice(200);
  const sha = createHash('sha256').update(readFileSync(join(dir, 'slice.json'))).digest('hex');
  const drop = () => rmSync(join(cacheDir(), `index-${sha}.f64`), { force: true });
  const provider = new ReplayConfigurationProvider(async () => [], new FakeLog() as unknown as vscode.LogOutputChannel);
  const config = { type: 'recreplay', request: 'launch', name: 'x', slice: dir, ranker: 'recorded' };
  drop();
  progressShown.length = 0;
  // Cancelled by the user: no launch, and nothing cached.
  progressControl.cancelNext = true;
  assert.equal(await provider.resolveDebugConfigurationWithSubstitutedVariables(undefined, config), undefined);
  assert.equal(needsIndex(dir), true);
  // Then let through: the index is cached before the adapter opens the slice.
  assert.deepEqual(await provider.resolveDebugConfigurationWithSubstitutedVariables(undefined, config), config);
  assert.equal(needsIndex(dir), false);
  assert.deepEqual(progressShown.map((p) => p.title), ['RecReplay: indexing test.slice', 'RecReplay: indexing test.slice']);
  // Indexed already: no progress at all.
  assert.deepEqual(await provider.resolveDebugConfigurationWithSubstitutedVariables(undefined, config), config);
  assert.equal(progressShown.length, 2);
});

test('a forced launch of a slice edited since it was frozen reads the file first, streamed, so the adapter reads it as it stands (not through the frozen file\'s offsets)', async () => {
  const dir = makeSlice(60, { chunkSize: 2048 });
  // The same size, and line 2 starts a byte earlier: the frozen file's index (cached by the writer) would cut it wrongly.
  const p = join(dir, 'events.jsonl');
  const lines = readFileSync(p, 'utf8').split('\n');
  lines[0] = (lines[0] as string).replace(/"score":(\d\.\d\d+)/, (_m, x: string) => `"score":${x.slice(0, -1)}`);
  lines[1] = (lines[1] as string).replace(/"score":(\d\.\d+)/, (_m, x: string) => `"score":${x}1`);
  writeFileSync(p, lines.join('\n'));
  const provider = new ReplayConfigurationProvider(async () => [], new FakeLog() as unknown as vscode.LogOutputChannel);
  const config = { type: 'recreplay', request: 'launch', name: 'x', slice: dir, ranker: 'recorded', force: true };
  assert.equal(needsIndex(dir), false, 'an unforced launch would use the frozen file\'s index');
  assert.equal(needsIndex(dir, true), true);
  progressShown.length = 0;
  assert.deepEqual(await provider.resolveDebugConfigurationWithSubstitutedVariables(undefined, config), config);
  assert.deepEqual(progressShown.map((x) => x.title), ['RecReplay: checking test.slice']);
  // Found modified: it has an index of its own now, which the in-process adapter's open takes first.
  assert.equal(needsIndex(dir, true), false);
  const s = Slice.open(dir, { force: true, trustCachedIndex: true });
  try {
    assert.ok(s.modified.has('events.jsonl'));
    assert.deepEqual([...s.events(1, 3)].map((e) => e.id), ['e1', 'e2', 'e3']);
    assert.equal(s.readEvent(2).id, 'e2');
  } finally {
    s.close();
  }
});

test('the ranker picker writes artifact paths relative to the folder the run resolves them from, absolute outside it', async () => {
  const a = tmp();
  const b = tmp();
  const inB = join(b, 'rankers', 'model.json');
  const inA = join(a, 'rankers', 'other.json');
  for (const f of [inA, inB]) {
    mkdirSync(join(f, '..'), { recursive: true });
    writeFileSync(f, JSON.stringify({ weights: { x: 1 }, bias: 0 }));
  }
  workspace.files = [inA, inB];
  window.quickPickChoice = (items) => items.find((i) => i.spec?.includes('model.json'));
  try {
    assert.equal(await pickRanker('recorded', b), 'linear:rankers/model.json');
    const specs = window.lastQuickPick.map((i) => i.spec).filter(Boolean);
    assert.ok(specs.includes(`linear:${inA}`), `an artifact outside the folder is given whole: ${specs.join(', ')}`);
  } finally {
    workspace.files = [];
    window.quickPickChoice = undefined;
  }
});

test('${command:PickRanker} in a launch.json of the second folder of a multi-root workspace writes the artifact path for that folder, which the adapter resolves it from', async () => {
  const a = tmp();
  const b = tmp();
  const inA = join(a, 'rankers', 'model.json');
  const inB = join(b, 'rankers', 'model.json');
  for (const f of [inA, inB]) {
    mkdirSync(join(f, '..'), { recursive: true });
    writeFileSync(f, JSON.stringify({ weights: { x: 1 }, bias: 0 }));
  }
  workspace.files = [inA, inB];
  workspace.workspaceFolders = [a, b].map((f, index) => ({ uri: Uri.file(f), name: f, index }) as unknown as vscode.WorkspaceFolder);
  try {
    // VS Code runs the variable's command with the configuration it resolves (cwd: folder b's, from fillDefaults).
    const config = { type: 'recreplay', request: 'launch', name: 'x', slice: '${command:PickSlice}', ranker: '${command:PickRanker}', cwd: b };
    window.quickPickChoice = (items) => items.find((i) => i.spec !== undefined && i.spec.includes(a));
    const fromA = await pickRankerForLaunch(config);
    assert.equal(fromA, `linear:${inA}`, 'an artifact of folder a is named whole: "rankers/model.json" would be folder b\'s');
    window.quickPickChoice = (items) => items.find((i) => i.spec === 'linear:rankers/model.json');
    assert.equal(await pickRankerForLaunch(config), 'linear:rankers/model.json');
    const c = fillDefaults({ ...config, ranker: 'linear:rankers/model.json' }, readSettings(), b, undefined) as Record<string, unknown>;
    assert.equal(resolve(c['cwd'] as string, 'rankers/model.json'), inB, 'the relative path is the file picked, read from the cwd');
  } finally {
    workspace.files = [];
    workspace.workspaceFolders = undefined;
    window.quickPickChoice = undefined;
  }
});

test('the ranker picker tells a large artifact\'s kind from its first bytes, without reading it whole', async () => {
  const b = tmp();
  const big = join(b, 'rankers', 'big-embedding.json');
  const notOne = join(b, 'rankers', 'big-data.json');
  mkdirSync(join(big, '..'), { recursive: true });
  // 3 MiB each, past what is parsed whole.
  const pad = ' '.repeat(3 * 1024 * 1024);
  writeFileSync(big, `{"dim": 2, "items": {"i1": [1, 2]}${pad}}`);
  writeFileSync(notOne, `{"rows": [1, 2, 3]${pad}}`);
  workspace.files = [big, notOne];
  window.quickPickChoice = () => undefined;
  try {
    await pickRanker('recorded', b);
    const specs = window.lastQuickPick.map((i) => i.spec).filter(Boolean);
    assert.ok(specs.includes('embedding:rankers/big-embedding.json'), specs.join(', '));
    assert.ok(!specs.some((sp) => sp?.includes('big-data')), 'a large file that is no artifact is not offered');
  } finally {
    workspace.files = [];
    window.quickPickChoice = undefined;
  }
});

test('a relative "cwd" is the workspace folder\'s, as the adapter reads it: an untrusted "trace" cannot leave the workspace through it, and a slice under it is found', () => {
  const ws = tmp();
  const sub = join(ws, 'sub');
  mkdirSync(sub);
  const slice = makeSlice(3);
  cpSync(slice, join(sub, 'x.slice'), { recursive: true });
  // The extension host's working folder inside the workspace, below its root (code started from there).
  const was = process.cwd();
  process.chdir(sub);
  try {
    const c = fillDefaults({ type: 'recreplay', request: 'launch', name: 'x', slice: 'sub/x.slice', cwd: '.', trace: '../escaped' }, readSettings(), ws, undefined) as Record<string, unknown>;
    assert.equal(c['cwd'], ws, 'resolved against the folder, not the host\'s working folder');
    // ws/../escaped is outside the workspace (from the host's folder, sub/../escaped was inside).
    assert.match(checkConfig(c as never, false, [ws]) ?? '', /"trace" is "\.\.\/escaped", outside the workspace/);
    const ok = fillDefaults({ type: 'recreplay', request: 'launch', name: 'x', slice: 'x.slice', cwd: 'sub' }, readSettings(), ws, undefined) as Record<string, unknown>;
    assert.equal(checkConfig(ok as never, true, [ws]), undefined, 'sub/x.slice under the folder is found');
  } finally {
    process.chdir(was);
  }
});

test('untrusted, a launch configuration reads only inside the workspace: a slice or an artifact outside it is refused, as the timeline refuses a trace\'s slice', () => {
  const ws = tmp('ws-');
  const slice = join(ws, 'home.slice');
  cpSync(makeSlice(3), slice, { recursive: true });
  mkdirSync(join(ws, 'rankers'));
  writeFileSync(join(ws, 'rankers', 'm.json'), JSON.stringify({ weights: { x: 1 } }));
  const elsewhere = tmp('elsewhere-');
  writeFileSync(join(elsewhere, 'm.json'), JSON.stringify({ weights: { x: 1 } }));
  const base = { type: 'recreplay', request: 'launch', name: 'x', slice, ranker: 'linear:rankers/m.json', cwd: ws };
  assert.equal(checkConfig(base, false, [ws]), undefined);
  assert.match(checkConfig({ ...base, slice: makeSlice(3) }, false, [ws]) ?? '', /"slice" is ".*", outside the workspace: an untrusted workspace reads only its own files/);
  assert.match(checkConfig({ ...base, ranker: `linear:${join(elsewhere, 'm.json')}` }, false, [ws]) ?? '', /"ranker" is "linear:.*m\.json", whose artifact lies outside the workspace/);
  assert.match(checkConfig({ ...base, baseline: 'embedding:../x.json' }, false, [ws]) ?? '', /"baseline" is "embedding:\.\.\/x\.json", whose artifact lies outside the workspace/);
  // Trusted: anywhere.
  assert.equal(checkConfig({ ...base, slice: makeSlice(3), ranker: `linear:${join(elsewhere, 'm.json')}` }, true, [ws]), undefined);
});

test('untrusted, a launch configuration may not set its own checkpoint interval (a launch.json set to 1 spilled the whole state at every event): only the user\'s recreplay.checkpointEvery counts', async () => {
  const ws = tmp('ws-');
  const slice = join(ws, 'home.slice');
  cpSync(makeSlice(3), slice, { recursive: true });
  const provider = new ReplayConfigurationProvider(async () => [], new FakeLog() as unknown as vscode.LogOutputChannel);
  const folder = { uri: Uri.file(ws), name: 'ws', index: 0 } as unknown as vscode.WorkspaceFolder;
  const config = { type: 'recreplay', request: 'launch', name: 'x', slice, ranker: 'recorded', cwd: ws, checkpointEvery: 1 };
  const was = { trusted: workspace.isTrusted, folders: workspace.workspaceFolders };
  workspace.isTrusted = false;
  workspace.workspaceFolders = [folder];
  messagesShown.length = 0;
  try {
    assert.equal(await provider.resolveDebugConfigurationWithSubstitutedVariables(folder, config), null, 'refused: launch.json opens for the fix');
    assert.match(messagesShown[0] ?? '', /"checkpointEvery" is 1: an untrusted workspace may not set the checkpoint interval/);
    // The value the user's own settings give (fillDefaults put it in) is theirs, not the workspace's.
    settings.set('recreplay.checkpointEvery', 1);
    assert.deepEqual(await provider.resolveDebugConfigurationWithSubstitutedVariables(folder, config), config);
    settings.delete('recreplay.checkpointEvery');
    const { checkpointEvery: _, ...none } = config;
    assert.deepEqual(await provider.resolveDebugConfigurationWithSubstitutedVariables(folder, none), none);
    workspace.isTrusted = true;
    assert.deepEqual(await provider.resolveDebugConfigurationWithSubstitutedVariables(folder, config), config, 'trusted: any interval');
  } finally {
    settings.delete('recreplay.checkpointEvery');
    workspace.isTrusted = was.trusted;
    workspace.workspaceFolders = was.folders;
  }
});

/** proj/x.slice and proj/rankers/m.json, as a workspace of slices and rankers lays them out; returns proj and the slice. */
function project(): { proj: string; slice: string } {
  const proj = tmp('proj-');
  const slice = join(proj, 'x.slice');
  cpSync(makeSlice(3), slice, { recursive: true });
  mkdirSync(join(proj, 'rankers'));
  writeFileSync(join(proj, 'rankers', 'm.json'), JSON.stringify({ weights: { x: 1 } }));
  return { proj, slice };
}

test('F5 on an events.jsonl with no folder open resolves the relative paths of the settings beside the slice folder, not in the extension host\'s working folder', async () => {
  const { proj, slice } = project();
  const provider = new ReplayConfigurationProvider(async () => [], new FakeLog() as unknown as vscode.LogOutputChannel);
  const was = { folders: workspace.workspaceFolders, editor: window.activeTextEditor, cwd: process.cwd() };
  workspace.workspaceFolders = undefined;
  window.activeTextEditor = { document: { uri: Uri.file(join(slice, 'events.jsonl')) } } as unknown as vscode.TextEditor;
  settings.set('recreplay.defaultRanker', 'linear:rankers/m.json');
  process.chdir(tmp('host-'));
  messagesShown.length = 0;
  try {
    const c = provider.resolveDebugConfiguration(undefined, { type: '', request: '', name: '' }) as Record<string, unknown>;
    assert.equal(c['cwd'], proj, 'the slice folder\'s parent');
    assert.equal(c['ranker'], 'linear:rankers/m.json');
    assert.deepEqual(await provider.resolveDebugConfigurationWithSubstitutedVariables(undefined, c as vscode.DebugConfiguration), c);
    assert.deepEqual(messagesShown, []);
  } finally {
    process.chdir(was.cwd);
    settings.delete('recreplay.defaultRanker');
    workspace.workspaceFolders = was.folders;
    window.activeTextEditor = was.editor;
  }
});

test('a launch configuration with a relative path and no folder to resolve it against (a "launch" in the user settings, no folder open) is refused, naming the attribute or setting: the extension host\'s working folder is no base', async () => {
  const { proj, slice } = project();
  const provider = new ReplayConfigurationProvider(async () => [], new FakeLog() as unknown as vscode.LogOutputChannel);
  const was = { folders: workspace.workspaceFolders, editor: window.activeTextEditor, cwd: process.cwd() };
  workspace.workspaceFolders = undefined;
  window.activeTextEditor = undefined;
  // The host's working folder holds what the relative paths name: before, they were read from there.
  process.chdir(proj);
  messagesShown.length = 0;
  const launch = async (config: Record<string, unknown>) => {
    const c = provider.resolveDebugConfiguration(undefined, { type: 'recreplay', request: 'launch', name: 'user', ...config }) as vscode.DebugConfiguration;
    return provider.resolveDebugConfigurationWithSubstitutedVariables(undefined, c);
  };
  try {
    assert.equal(await launch({ slice: 'x.slice' }), null, 'refused: the configuration opens for the fix');
    assert.equal(messagesShown.at(-1), '"slice" is "x.slice", a relative path, but this launch has no folder to resolve it against (no workspace folder is open, and the configuration sets no absolute "cwd"): write the full path (${userHome}/… works in launch.json), set "cwd" to an absolute folder, or open the folder it is relative to (File ▸ Open Folder…).');
    assert.equal(await launch({ slice, trace: 'out' }), null);
    assert.match(messagesShown.at(-1) ?? '', /^"trace" is "out", a relative path/);
    settings.set('recreplay.defaultRanker', 'linear:rankers/m.json');
    assert.equal(await launch({ slice }), null);
    assert.match(messagesShown.at(-1) ?? '', /^"ranker" is "linear:rankers\/m\.json" \(from the recreplay\.defaultRanker setting, unless the configuration sets it\), a relative path/);
    settings.delete('recreplay.defaultRanker');
    assert.equal(await launch({ slice, baseline: 'embedding:e.json' }), null);
    assert.match(messagesShown.at(-1) ?? '', /^"baseline" is "embedding:e\.json", a relative path/);
    assert.equal(await launch({ slice, cwd: '.' }), null);
    assert.match(messagesShown.at(-1) ?? '', /^"cwd" is "\.", a relative path, but no workspace folder is open to resolve it against: write the full path/);
    // Absolute paths, or an absolute cwd for the relative ones, launch.
    const ok = { slice: 'x.slice', ranker: 'linear:rankers/m.json', cwd: proj };
    assert.ok(await launch(ok));
    assert.ok(await launch({ slice, ranker: `linear:${join(proj, 'rankers', 'm.json')}` }));
  } finally {
    process.chdir(was.cwd);
    settings.delete('recreplay.defaultRanker');
    workspace.workspaceFolders = was.folders;
    window.activeTextEditor = was.editor;
  }
});

test('a "cwd" that starts with a variable is left for VS Code to substitute ("${workspaceFolder}/sub" became "/w/${workspaceFolder}/sub")', () => {
  const c = fillDefaults({ type: 'recreplay', request: 'launch', name: 'x', slice: 's', cwd: '${workspaceFolder}/sub' }, readSettings(), '/w', undefined);
  assert.ok(!('problem' in c));
  assert.equal(c.cwd, '${workspaceFolder}/sub');
});

test('with no folder, a session whose slice is a relative path has no slice folder (not one in the extension host\'s working folder)', () => {
  const rs = new ReplaySession({ configuration: { type: 'recreplay', slice: 'x.slice' }, workspaceFolder: undefined } as unknown as vscode.DebugSession);
  assert.equal(rs.sliceDir, undefined);
  const abs = new ReplaySession({ configuration: { type: 'recreplay', slice: 'x.slice', cwd: '/p' }, workspaceFolder: undefined } as unknown as vscode.DebugSession);
  assert.equal(abs.sliceDir, join('/p', 'x.slice'));
});

test('the dynamic configurations of a multi-root workspace as a whole resolve each slice\'s relative paths against its own folder', async () => {
  const a = tmp('a-');
  const b = tmp('b-');
  // Below the folder's root, where the slice folder's parent is not the folder.
  const sa = join(a, 'slices', 'x.slice');
  const sb = join(b, 'slices', 'y.slice');
  cpSync(makeSlice(3), sa, { recursive: true });
  cpSync(makeSlice(3), sb, { recursive: true });
  const folders = [a, b].map((p, index) => ({ uri: Uri.file(p), name: `f${index}`, index }) as unknown as vscode.WorkspaceFolder);
  const was = { folders: workspace.workspaceFolders, get: workspace.getWorkspaceFolder };
  workspace.workspaceFolders = folders;
  workspace.getWorkspaceFolder = (u: Uri) => folders.find((f) => u.fsPath.startsWith(`${f.uri.fsPath}/`));
  try {
    const provider = new ReplayConfigurationProvider(async () => [{ dir: sa, name: 'x' }, { dir: sb, name: 'y' }], new FakeLog() as unknown as vscode.LogOutputChannel);
    const all = await provider.provideDebugConfigurations(undefined);
    assert.deepEqual(all.map((c) => [c['slice'], c['cwd']]), [[sa, a], [sb, b]]);
    // For one folder, its own slices, ${workspaceFolder}-relative, the cwd the folder's (filled in on resolve).
    const one = await provider.provideDebugConfigurations(folders[1]);
    assert.deepEqual(one.map((c) => [c['slice'], c['cwd']]), [['${workspaceFolder}/slices/y.slice', undefined]]);
  } finally {
    workspace.workspaceFolders = was.folders;
    workspace.getWorkspaceFolder = was.get;
  }
});
