import * as vscode from 'vscode';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COMMAND_IDS } from '../../../src/extension/commandIds';
import type { RecReplayApi } from '../../../src/extension/extension';
import type { ReplaySession } from '../../../src/extension/debug/sessions';
import type { SliceNode } from '../../../src/extension/views/sliceNodes';

const TIMEOUT = 30_000;

/** Resolves with the first value of `event` that satisfies `match` (or rejects after a timeout). */
function until<T>(event: vscode.Event<T>, match: (v: T) => boolean, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      sub.dispose();
      reject(new Error(`timed out waiting for ${what}`));
    }, TIMEOUT);
    const sub = event((v) => {
      if (!match(v)) return;
      clearTimeout(timer);
      sub.dispose();
      resolve(v);
    });
  });
}

async function api(): Promise<RecReplayApi> {
  const ext = vscode.extensions.getExtension<RecReplayApi>('recreplay.recreplay');
  assert.ok(ext, 'the extension is installed');
  return ext.isActive ? ext.exports : ext.activate();
}

const workspace = () => vscode.workspace.workspaceFolders?.[0]?.uri.fsPath as string;
const label = (t: vscode.TreeItem) => (typeof t.label === 'string' ? t.label : (t.label?.label ?? ''));

export const tests: { name: string; run: () => Promise<void> }[] = [
  {
    name: 'activates in the example workspace and registers every command',
    run: async () => {
      await api();
      const all = new Set(await vscode.commands.getCommands(true));
      for (const id of COMMAND_IDS) assert.ok(all.has(id), id);
    },
  },
  {
    name: 'the Slices view lists the example slices, their sections and a first page of events',
    run: async () => {
      const { slicesTree } = await api();
      const roots = await slicesTree.getChildren();
      assert.deepEqual(roots.map((r) => label(slicesTree.getTreeItem(r))), ['cold-start', 'latency-cascade']);
      const sections = await slicesTree.getChildren(roots[0]);
      const events = sections.find((s) => /^Events/.test(label(slicesTree.getTreeItem(s)))) as SliceNode;
      const pages = await slicesTree.getChildren(events);
      const first = await slicesTree.getChildren(pages[0]);
      assert.equal(label(slicesTree.getTreeItem(first[0] as SliceNode)), '#1  e00001');
      assert.match(String(slicesTree.getTreeItem(roots[0] as SliceNode).description), /650 events · intact/);
    },
  },
  {
    name: 'Reveal Event opens events.jsonl at the event line',
    run: async () => {
      await vscode.commands.executeCommand('recreplay.revealEvent', { sliceDir: join(workspace(), 'slices/cold-start.slice'), event: 42 });
      const ed = vscode.window.activeTextEditor;
      assert.ok(ed && ed.document.uri.fsPath.endsWith('events.jsonl'));
      assert.equal(ed.selection.active.line, 41);
    },
  },
  {
    name: 'debugging the cold-start slice: stop on entry, step, the Ranking view fills, the timeline goes to an event',
    run: async () => {
      const { sessions, ranking, timelines } = await api();
      const stopped = until(sessions.onPosition, (s: ReplaySession) => s.position?.state === 'stopped', 'the entry stop');
      const ok = await vscode.debug.startDebugging(vscode.workspace.workspaceFolders?.[0], { type: 'recreplay', request: 'launch', name: 'cold start (test)', slice: '${workspaceFolder}/slices/cold-start.slice', ranker: 'linear:rankers/cold-start-linear.json', stopOnEntry: true });
      assert.ok(ok, 'the session started');
      const rs = await stopped;
      assert.equal(rs.position?.event, 1);
      const filled = until(ranking.onDidUpdate, () => ranking.candidates.length > 0 && rs.position?.stagesDone === 6, 'the Ranking view after a step');
      await vscode.commands.executeCommand('workbench.action.debug.stepOver');
      await filled;
      assert.ok(ranking.candidates.every((c, i) => c.rank === i + 1));
      const panel = timelines.showSession(rs);
      assert.ok(panel.panel.visible || panel.panel.active !== undefined);
      const moved = until(sessions.onPosition, (s: ReplaySession) => s.position?.state === 'stopped' && s.position.event === 30, 'goto event 30');
      await rs.goto(30);
      await moved;
      const ended = until(sessions.onEnd, () => true, 'the session end');
      await vscode.debug.stopDebugging(rs.session);
      await ended;
    },
  },
  {
    name: 'Open Timeline shows a finished run without a debug session',
    run: async () => {
      const repo = process.env['RECREPLAY_REPO'] as string;
      const dir = mkdtempSync(join(tmpdir(), 'recreplay-run-'));
      const r = spawnSync(process.execPath, [join(repo, 'dist/cli.js'), 'run', join(workspace(), 'slices/latency-cascade.slice'), '--ranker', `linear:${join(workspace(), 'rankers/search-linear.json')}`, '--trace', dir], { env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } });
      assert.equal(r.status, 0, r.stderr?.toString());
      const { timelines } = await api();
      await vscode.commands.executeCommand('recreplay.openTimeline', vscode.Uri.file(join(dir, 'trace.jsonl')));
      const p = timelines.showTraces([join(dir, 'trace.jsonl')]);
      assert.match(p.panel.title, /Timeline: /);
    },
  },
];
