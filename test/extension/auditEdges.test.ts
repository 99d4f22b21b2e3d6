// The extension host's edges an audit found: what a workspace (trusted or not) can make it read,
// settings of the wrong type, arguments of the wrong shape, and numbering that must match the slice's.
import './setup';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, cpSync } from 'node:fs';
import { join } from 'node:path';
import { checkConfig, fillDefaults } from '../../src/extension/debug/configProvider';
import { readSettings } from '../../src/extension/settings';
import { readEntry } from '../../src/extension/slices/sliceStore';
import { scanSessions } from '../../src/extension/slices/summaries';
import { readTraceTimeline } from '../../src/extension/timeline/traceReader';
import { infoMarkdown } from '../../src/extension/commands/reports';
import { eventTargetOf, resolveSlice } from '../../src/extension/commands/targets';
import { WorkspaceSlices } from '../../src/extension/slices/workspaceSlices';
import { runHeadless } from '../../src/core/engine/run';
import { Slice } from '../../src/core/slice/reader';
import { EventCursor } from '../../src/core/slice/cursor';
import { UserError } from '../../src/core/errors';
import type { WorkspaceSlices as Slices } from '../../src/extension/slices/workspaceSlices';
import { CancellationTokenSource, FakeLog, Uri, messagesShown, settings, trustGranted, workspace } from './vscodeFake';
import { SlicesTreeProvider } from '../../src/extension/views/slicesTree';
import { eventLine, makeSlice, rawSlice, tmp } from '../helpers';

const host = { now: () => '', user: 'u', host: 'h', cwd: process.cwd() };
const base = { type: 'recreplay', request: 'launch', name: 'x' };

test('untrusted, a ranker artifact path with a line break in it is checked like any other (it skipped the check, and the loader read outside the workspace)', () => {
  const ws = tmp();
  const slice = join(ws, 'x.slice');
  cpSync(makeSlice(5), slice, { recursive: true });
  const elsewhere = tmp();
  writeFileSync(join(elsewhere, 'secret.json'), '{"weights":{}}');
  for (const spec of [`linear:${elsewhere}/secret.json`, `linear:${elsewhere}/x\n/../secret.json`, `embedding:${elsewhere}/x\r\n/../secret.json`]) {
    assert.match(checkConfig({ ...base, slice, ranker: spec }, false, [ws]) ?? '', /whose artifact lies outside the workspace/, JSON.stringify(spec));
  }
});

test('"cwd": null is the workspace folder, as the adapter reads it (the checks resolved against the extension host\'s own folder)', () => {
  settings.clear();
  const ws = tmp();
  cpSync(makeSlice(5), join(ws, 'home.slice'), { recursive: true });
  const c = fillDefaults({ ...base, slice: 'home.slice', cwd: null, trace: '../out' } as never, readSettings(), ws, undefined) as Record<string, unknown>;
  assert.equal(c['cwd'], ws);
  assert.equal(checkConfig({ ...(c as typeof base), slice: 'home.slice', cwd: ws }, true, [ws]), undefined);
  assert.match(checkConfig(c as never, false, [ws]) ?? '', /"trace" is "\.\.\/out", outside the workspace/);
});

test('settings of the wrong type fall back to their defaults (a page size of "lots" made one tree node per event; "many" points drew nothing)', () => {
  settings.clear();
  settings.set('recreplay.slices.pageSize', 'lots');
  settings.set('recreplay.timeline.maxPoints', 'many');
  settings.set('recreplay.defaultRanker', 42);
  settings.set('recreplay.runs.folder', { x: 1 });
  settings.set('recreplay.timeline.openOnDebug', 'yes');
  const s = readSettings();
  assert.deepEqual([s.pageSize, s.timelineMaxPoints, s.defaultRanker, s.runsFolder, s.timelineOpenOnDebug], [200, 4000, 'recorded', '.recreplay/runs', false]);
  settings.set('recreplay.slices.pageSize', '300');
  assert.equal(readSettings().pageSize, 300);
  settings.clear();
});

test('a slice.json that is no regular file, or too large for a manifest, is an entry that says so, not a read that holds the extension host (a link to /dev/zero took seconds and GBs)', () => {
  const dir = join(tmp(), 'zero.slice');
  mkdirSync(dir);
  symlinkSync('/dev/zero', join(dir, 'slice.json'));
  const e = readEntry(dir);
  assert.equal(e.manifest, undefined);
  assert.match(e.manifestError ?? '', /slice\.json is (not a regular file|a link to outside the slice folder)/);
});

test('a run.json beside a trace that is no regular file (a link to /dev/zero) is a note, not a read that takes the extension host down', async () => {
  const dir = tmp();
  await runHeadless({ slice: makeSlice(20), ranker: 'popularity', traceDir: dir }, host).then((r) => r.replayer.dispose());
  rmSync(join(dir, 'run.json'));
  symlinkSync('/dev/zero', join(dir, 'run.json'));
  const t = await readTraceTimeline(dir, { capacity: 100 });
  assert.ok(JSON.stringify(t).includes('run.json beside the trace is not a regular file'));
});

test('a trace header without a ranker is refused naming the line and field (the timeline crashed with "reading \'kind\'")', async () => {
  const dir = tmp();
  await runHeadless({ slice: makeSlice(5), ranker: 'popularity', traceDir: dir }, host).then((r) => r.replayer.dispose());
  const p = join(dir, 'trace.jsonl');
  const lines = readFileSync(p, 'utf8').split('\n');
  const header = JSON.parse(lines[0] as string) as Record<string, unknown>;
  delete header['ranker'];
  lines[0] = JSON.stringify(header);
  writeFileSync(p, lines.join('\n'));
  await assert.rejects(readTraceTimeline(dir, { capacity: 100 }), (e: unknown) => e instanceof Error && /trace header's "ranker" is missing/.test(e.message));
});

test('events by session are numbered as the slice numbers them: a blank line is an event, and only "\\n" ends a line', async () => {
  const text = [eventLine('e1', '2025-01-01T00:00:01Z', { session: 's1' }), '', eventLine('e3', '2025-01-01T00:00:03Z', { session: 's2' }), eventLine('e4', '2025-01-01T00:00:04Z', { session: 's2' })].join('\n') + '\n';
  const dir = rawSlice(text);
  const idx = await scanSessions(join(dir, 'events.jsonl'), Buffer.byteLength(text));
  assert.deepEqual(idx?.eventsOf('s2'), [3, 4]);
  assert.deepEqual(idx?.eventsOf('(no session)'), [2]);
});

test('Group Events by Session refuses a line longer than an event can be, naming the line, instead of gathering it whole into the extension host', async () => {
  const long = eventLine('e2', '2025-01-01T00:00:02Z', { session: 's1' }).replace('{', `{"pad":"${'x'.repeat(64 * 1024)}",`);
  const text = [eventLine('e1', '2025-01-01T00:00:01Z', { session: 's1' }), long, eventLine('e3', '2025-01-01T00:00:03Z', { session: 's2' })].join('\n') + '\n';
  const dir = rawSlice(text);
  const before = EventCursor.maxLineBytes;
  EventCursor.maxLineBytes = 16 * 1024;
  try {
    await assert.rejects(scanSessions(join(dir, 'events.jsonl'), Buffer.byteLength(text)), (e: unknown) => e instanceof UserError && e.code === 'E_LINE_TOO_LONG' && e.where.line === 2 && e.describe().startsWith(`${join(dir, 'events.jsonl')}:2: `));
  } finally {
    EventCursor.maxLineBytes = before;
  }
  // Within the limit, the same file groups as before.
  const idx = await scanSessions(join(dir, 'events.jsonl'), Buffer.byteLength(text));
  assert.deepEqual(idx?.eventsOf('s1'), [1, 2]);
});

test('Slice Info escapes every piece of the manifest, version keys and hashes included (an image in a key loaded a remote URL in the preview)', () => {
  const dir = makeSlice(5);
  const s = Slice.open(dir);
  try {
    const evil = '![x](https://attacker.example/p.png) <img src=x>';
    (s.manifest.versions as Record<string, unknown>)[evil] = { name: 'n', version: '1', sha256: '`<b>`' };
    const md = infoMarkdown(s, { kind: 'checked' } as never);
    // Every metacharacter of them escaped (a backslash before it): shown as text, never read as Markdown.
    assert.ok(!/(^|[^\\])!\[/.test(md) && !/(^|[^\\])<img/.test(md) && !/(^|[^\\])`/.test(md.split('## Versions')[1] ?? ''), md);
    assert.ok(md.includes('\\!\\[x\\]\\(https://attacker.example/p.png\\) \\<img src=x\\>'), md);
  } finally {
    s.close();
  }
});

test('a slice opened from outside the workspace (Browse…) is not listed as one of its slices', async () => {
  const ws = tmp();
  const inside = join(ws, 'in.slice');
  cpSync(makeSlice(5), inside, { recursive: true });
  const outside = makeSlice(6);
  workspace.files = [join(inside, 'slice.json')];
  const slices = new WorkspaceSlices(new FakeLog() as never);
  try {
    assert.equal((await slices.use(outside)).entry.dir, outside);
    assert.deepEqual((await slices.list()).map((e) => e.dir), [inside]);
    assert.equal(await resolveSlice(undefined, slices as Slices), inside);
  } finally {
    slices.dispose();
    workspace.files = [];
  }
});

test('commands given an argument of the wrong shape say what they take, instead of a TypeError', async () => {
  messagesShown.length = 0;
  const slices = { list: async () => [] } as unknown as Slices;
  for (const bad of [{}, { sliceDir: 42 }, 42]) assert.equal(await resolveSlice(bad as never, slices), undefined);
  assert.equal(messagesShown.filter((m) => /This command takes a slice/.test(m)).length, 3);
  for (const bad of [42, { sliceDir: '/x.slice' }, { sliceDir: '/x.slice', event: 0 }, { sliceDir: '/x.slice', event: 2.5 }]) assert.equal(eventTargetOf(bad as never), undefined);
  assert.deepEqual(eventTargetOf({ sliceDir: '/x.slice', event: 3 }), { sliceDir: '/x.slice', event: 3 });
  assert.ok(messagesShown.some((m) => /This command takes an event/.test(m)));
});

test('untrusted, the Slices view does not read a slice the workspace links to from outside it (a linked slice folder, or a linked folder above one); trusted, it does', async () => {
  const ws = tmp('ws-');
  const inside = join(ws, 'in.slice');
  cpSync(makeSlice(5), inside, { recursive: true });
  const secret = makeSlice(7);
  symlinkSync(secret, join(ws, 'evil.slice'));
  const elsewhere = tmp('elsewhere-');
  cpSync(makeSlice(4), join(elsewhere, 'x.slice'), { recursive: true });
  symlinkSync(elsewhere, join(ws, 'linked'));
  const was = { trusted: workspace.isTrusted, folders: workspace.workspaceFolders };
  workspace.isTrusted = false;
  workspace.workspaceFolders = [{ uri: Uri.file(ws), name: 'ws', index: 0 } as never];
  // VS Code's file search follows links: it finds the linked slices under the workspace's names.
  workspace.files = [inside, join(ws, 'evil.slice'), join(ws, 'linked', 'x.slice')].map((d) => join(d, 'slice.json'));
  const slices = new WorkspaceSlices(new FakeLog() as never);
  const view = new SlicesTreeProvider(slices, { pageSize: () => 100, groupEventsBy: () => 'time', withProgress: (_t, task) => task(() => {}, new CancellationTokenSource().token), log: new FakeLog() });
  try {
    const byDir = new Map((await slices.list()).map((e) => [e.dir, e]));
    assert.ok(byDir.get(inside)?.manifest, 'a slice inside the workspace is read');
    for (const dir of [join(ws, 'evil.slice'), join(ws, 'linked', 'x.slice')]) {
      const e = byDir.get(dir);
      assert.equal(e?.manifest, undefined, `${dir}: its slice.json is not read`);
      assert.match(e?.manifestError ?? '', /leads outside the workspace through a symbolic link \(to .*\): an untrusted workspace does not read it\n {2}Trust the workspace/);
      assert.equal(e?.status.kind, 'error');
      const roots = await view.getChildren();
      const node = roots.find((n) => n.kind === 'slice' && n.entry.dir === dir);
      assert.ok(node);
      const kids = await view.getChildren(node);
      assert.equal(kids.length, 1);
      assert.match(JSON.stringify(kids[0]), /leads outside the workspace/);
      assert.equal(e?.slice, undefined, 'never opened');
    }
    // A command on the link as the explorer shows it (Slice Info on ws/evil.slice) meets the same refusal.
    assert.equal((await slices.use(join(ws, 'evil.slice'))).entry.manifest, undefined);
    // A slice the user browsed to outside the workspace is theirs to read.
    assert.equal((await slices.use(secret)).entry.manifest?.files.find((f) => f.path === 'events.jsonl')?.records, 7);
    // Trusted: the links are followed.
    workspace.isTrusted = true;
    trustGranted.fire();
    await new Promise((r) => setImmediate(r));
    const trusted = new Map((await slices.list()).map((e) => [e.dir, e]));
    assert.equal(trusted.get(join(ws, 'evil.slice'))?.eventCount, 7);
    assert.equal(trusted.get(join(ws, 'linked', 'x.slice'))?.eventCount, 4);
  } finally {
    view.dispose();
    slices.dispose();
    workspace.files = [];
    workspace.isTrusted = was.trusted;
    workspace.workspaceFolders = was.folders;
  }
});
