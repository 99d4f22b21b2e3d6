import { activeFileUri } from '../activeFile';
import * as vscode from 'vscode';
import { existsSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import type { EventTarget, SliceTarget, TreeNodeArg } from '../commandIds';
import { sliceDirOf } from '../slices/sliceStore';
import type { WorkspaceSlices } from '../slices/workspaceSlices';
import { pickSlice } from '../debug/pickers';
import { shown } from '../../core/errors';
import { showError } from '../notify';

/** Whether a command's argument is a Slices view node (VS Code passes the tree element to view/item commands). */
function isTreeNode(arg: unknown): arg is TreeNodeArg {
  if (typeof arg !== 'object' || arg === null || arg instanceof vscode.Uri) return false;
  const entry = (arg as { entry?: unknown }).entry;
  return typeof (arg as { kind?: unknown }).kind === 'string' && typeof entry === 'object' && entry !== null && typeof (entry as { dir?: unknown }).dir === 'string';
}

/** An event command's argument as a slice folder and event: a Slices view event node becomes its slice's folder and number. */
export function eventTargetOf(arg: EventTarget | undefined): { sliceDir: string; event: number } | undefined {
  if (arg === undefined) return undefined;
  if (isTreeNode(arg)) return typeof arg.n === 'number' ? { sliceDir: arg.entry.dir, event: arg.n } : undefined;
  // From a keybinding's or another extension's "args", anything may come: only { sliceDir, event } is one.
  const a = arg as unknown as { sliceDir?: unknown; event?: unknown } | null;
  if (typeof a === 'object' && a !== null && typeof a.sliceDir === 'string' && Number.isInteger(a.event) && (a.event as number) >= 1) return { sliceDir: a.sliceDir, event: a.event as number };
  void showError(`This command takes an event: { "sliceDir": "…/NAME.slice", "event": N } (N from 1), a node of the Slices view, or nothing; it was given ${shown(arg)}.`);
  return undefined;
}

/** The slice folder a command was invoked for: its argument, the active editor's slice, or a pick. */
export async function resolveSlice(target: SliceTarget | undefined, slices: WorkspaceSlices): Promise<string | undefined> {
  if (target !== undefined) {
    // A node of the Slices view (its inline and context actions): the slice it belongs to.
    const t = target as unknown;
    const path = typeof t === 'string' ? t : t instanceof vscode.Uri ? t.fsPath : isTreeNode(t) ? t.entry.dir : typeof t === 'object' && t !== null && typeof (t as { sliceDir?: unknown }).sliceDir === 'string' ? (t as { sliceDir: string }).sliceDir : undefined;
    if (path === undefined) {
      void showError(`This command takes a slice: a NAME.slice folder path, a file in one, { "sliceDir": "…" }, a node of the Slices view, or nothing; it was given ${shown(target)}.`);
      return undefined;
    }
    const dir = sliceDirOf(path);
    if (dir) return dir;
    void showError(`${path} is not a slice: pick a NAME.slice folder (it holds slice.json and events.jsonl).`);
    return undefined;
  }
  // The active tab's file, also one too large for VS Code to give extensions an editor of.
  const active = activeFileUri();
  const fromEditor = active?.scheme === 'file' ? sliceDirOf(active.fsPath) : undefined;
  if (fromEditor) return fromEditor;
  const list = await slices.list();
  if (list.length === 1) return list[0]?.dir;
  return pickSlice(list.map((e) => ({ dir: e.dir, name: e.name, description: e.manifest?.description ?? e.manifestError ?? '', events: e.eventCount })));
}

/** trace.jsonl of an argument (the file, its folder, or run.json beside it), or undefined. */
export function traceOf(target: vscode.Uri | string): string | undefined {
  const p = typeof target === 'string' ? target : target.fsPath;
  if (!existsSync(p)) return undefined;
  if (statSync(p).isDirectory()) return existsSync(join(p, 'trace.jsonl')) ? join(p, 'trace.jsonl') : undefined;
  if (p.endsWith('run.json')) return existsSync(join(dirname(p), 'trace.jsonl')) ? join(dirname(p), 'trace.jsonl') : undefined;
  return p;
}

/** A quick pick of the workspace's traces (newest first) plus "Browse…". */
export async function pickTrace(title: string, exclude?: string): Promise<string | undefined> {
  const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const found = await vscode.workspace.findFiles('**/trace.jsonl', '{**/node_modules/**,**/.git/**}', 500);
  const items: (vscode.QuickPickItem & { path?: string })[] = found
    // A trace removed since the search (a run folder deleted, a trace being replaced) is left out:
    // its stat threw, and the command failed with ENOENT.
    .flatMap((u) => {
      const st = statSync(u.fsPath, { throwIfNoEntry: false });
      return st ? [{ u, t: st.mtimeMs }] : [];
    })
    .sort((a, b) => b.t - a.t)
    .filter((x) => x.u.fsPath !== exclude)
    .map(({ u, t }) => ({ label: `$(graph-line) ${relative(root ?? dirname(u.fsPath), dirname(u.fsPath)) || dirname(u.fsPath)}`, description: new Date(t).toLocaleString(), path: u.fsPath }));
  // Two entries: on Windows and Linux a dialog for files and folders at once shows folders only.
  const browseFile = { label: '$(file) Browse for a trace file…', description: 'a trace .jsonl file' };
  const browseFolder = { label: '$(folder-opened) Browse for a run folder…', description: 'the folder holding trace.jsonl' };
  items.push(browseFile, browseFolder);
  const pick = await vscode.window.showQuickPick(items, { title, placeHolder: items.length > 2 ? 'Pick a trace' : 'No traces in this workspace yet: browse, or run Replay Slice Headless' });
  if (!pick) return undefined;
  if (pick.path) return pick.path;
  const file = pick === browseFile;
  const uris = await vscode.window.showOpenDialog({ canSelectFiles: file, canSelectFolders: !file, canSelectMany: false, ...(file ? { filters: { 'RecReplay trace': ['jsonl'] } } : {}), title, openLabel: 'Open' });
  const u = uris?.[0];
  if (!u) return undefined;
  const t = traceOf(u);
  if (!t) void showError(`No trace.jsonl in ${u.fsPath}.`);
  return t;
}
