import { activeFileUri } from '../activeFile';
import * as vscode from 'vscode';
import { existsSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import type { EventTarget, SliceTarget, TreeNodeArg } from '../commandIds';
import { sliceDirOf } from '../slices/sliceStore';
import type { WorkspaceSlices } from '../slices/workspaceSlices';
import { pickSlice } from '../debug/pickers';

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
  return arg;
}

/** The slice folder a command was invoked for: its argument, the active editor's slice, or a pick. */
export async function resolveSlice(target: SliceTarget | undefined, slices: WorkspaceSlices): Promise<string | undefined> {
  if (target !== undefined) {
    // A node of the Slices view (its inline and context actions): the slice it belongs to.
    const path = typeof target === 'string' ? target : target instanceof vscode.Uri ? target.fsPath : isTreeNode(target) ? target.entry.dir : target.sliceDir;
    const dir = sliceDirOf(path);
    if (dir) return dir;
    void vscode.window.showErrorMessage(`${path} is not a slice: pick a NAME.slice folder (it holds slice.json and events.jsonl).`);
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
    .map((u) => ({ u, t: statSync(u.fsPath).mtimeMs }))
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
  if (!t) void vscode.window.showErrorMessage(`No trace.jsonl in ${u.fsPath}.`);
  return t;
}
