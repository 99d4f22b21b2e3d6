import * as vscode from 'vscode';
import { dirname, resolve } from 'node:path';
import { UserError } from '../../core/errors';
import { isWithin, realPathNearest } from '../../core/dirs';
import { insideFolders } from '../debug/configProvider';
import { DisposableStore } from '../disposables';
import { SliceEntry, readEntry } from './sliceStore';

export const SLICE_GLOB = '**/*.slice/slice.json';
const EXCLUDE = '{**/node_modules/**,**/.git/**}';

/**
 * The slices of the workspace: found by their slice.json, kept current by a file watcher. A
 * change inside a slice (an edited events.jsonl) drops what was opened so its status is checked again.
 */
export class WorkspaceSlices implements vscode.Disposable {
  private readonly entries = new Map<string, SliceEntry>();
  /**
   * Entries of slices outside the workspace (Debug Slice ▸ Browse…), with how many commands use
   * each: kept apart, so they are not listed as the workspace's (in the view, the picker, "the only
   * slice"), and closed when the last command using one is done (see use()).
   */
  private readonly outside = new Map<string, { entry: SliceEntry; users: number }>();
  private readonly changed = new vscode.EventEmitter<void>();
  private readonly scope = new DisposableStore();
  private scan: Promise<void> | undefined;
  /** Fires when slices came, went or changed on disk. */
  readonly onDidChange = this.changed.event;

  constructor(private readonly log: vscode.LogOutputChannel) {
    this.scope.add(this.changed);
    // A file in a slice folder, and the folder itself: deleting or renaming a folder is reported
    // for the folder alone, not for the files it held.
    const touched = (uri: vscode.Uri) => this.touched(uri);
    for (const glob of ['**/*.slice/*', '**/*.slice']) {
      const watcher = this.scope.add(vscode.workspace.createFileSystemWatcher(glob));
      this.scope.add(watcher.onDidCreate(touched));
      this.scope.add(watcher.onDidChange(touched));
      this.scope.add(watcher.onDidDelete(touched));
    }
    this.scope.add(vscode.workspace.onDidChangeWorkspaceFolders(() => void this.refresh()));
    // Slices the untrusted workspace linked to from elsewhere are read once it is trusted.
    this.scope.add(vscode.workspace.onDidGrantWorkspaceTrust(() => void this.refresh()));
  }

  /** Every slice, by name. Scans the workspace the first time. */
  async list(): Promise<SliceEntry[]> {
    await (this.scan ??= this.find());
    return [...this.entries.values()].sort((a, b) => a.name.localeCompare(b.name) || a.dir.localeCompare(b.dir));
  }

  /**
   * The entry of a slice folder for as long as a command needs it: call `release()` when done. A
   * folder outside the workspace (Browse…) gets an entry of its own, closed — its events.jsonl, its
   * parsed catalogue and users — once the last command using it is done: nothing shows it after, and
   * no watcher would keep it current (kept until Refresh, a Slice Info on it held the file open and a
   * later one showed the status of a slice edited since). The workspace's entries stay: the view shows them.
   */
  async use(dir: string): Promise<{ entry: SliceEntry; release(): void }> {
    await (this.scan ??= this.find());
    const own = this.entries.get(dir);
    if (own) return { entry: own, release: () => {} };
    let held = this.outside.get(dir);
    if (!held) this.outside.set(dir, (held = { entry: entryOf(dir), users: 0 }));
    held.users++;
    const h = held;
    let released = false;
    return {
      entry: h.entry,
      release: () => {
        if (released) return;
        released = true;
        if (--h.users > 0) return;
        h.entry.close();
        // A refresh meanwhile dropped it (and closed it) already.
        if (this.outside.get(dir) === h) this.outside.delete(dir);
      },
    };
  }

  /** Runs `task` with the entry of a slice folder, released when it is done (see use()). */
  async withEntry<T>(dir: string, task: (entry: SliceEntry) => Promise<T>): Promise<T> {
    const { entry, release } = await this.use(dir);
    try {
      return await task(entry);
    } finally {
      release();
    }
  }

  /** Forgets everything and scans again. */
  refresh(): Promise<void> {
    for (const e of [...this.entries.values(), ...[...this.outside.values()].map((h) => h.entry)]) e.close();
    this.entries.clear();
    this.outside.clear();
    this.scan = this.find();
    return this.scan.then(() => this.changed.fire());
  }

  private async find(): Promise<void> {
    const files = await vscode.workspace.findFiles(SLICE_GLOB, EXCLUDE);
    for (const f of files) {
      const dir = dirname(f.fsPath);
      if (!this.entries.has(dir)) this.entries.set(dir, entryOf(dir));
    }
    this.log.info(`found ${this.entries.size} slice${this.entries.size === 1 ? '' : 's'} in the workspace`);
    await vscode.commands.executeCommand('setContext', 'recreplay.hasSlices', this.entries.size > 0);
    await vscode.commands.executeCommand('setContext', 'recreplay.slicesScanned', true);
  }

  private touched(uri: vscode.Uri): void {
    const dir = changedSliceDir(uri.fsPath);
    if (dir === undefined) return;
    this.entries.get(dir)?.close();
    // The manifest may have come, gone or changed: read it again (lazily re-opened on expand).
    this.entries.delete(dir);
    void (async () => {
      try {
        await vscode.workspace.fs.stat(vscode.Uri.file(`${dir}/slice.json`));
        this.entries.set(dir, entryOf(dir));
      } catch {
        // The slice folder or its manifest is gone.
      }
      await vscode.commands.executeCommand('setContext', 'recreplay.hasSlices', this.entries.size > 0);
      this.changed.fire();
    })();
  }

  dispose(): void {
    for (const e of [...this.entries.values(), ...[...this.outside.values()].map((h) => h.entry)]) e.close();
    this.scope.dispose();
  }
}

/**
 * The entry of a slice folder as the workspace names it. Untrusted, a folder that lies inside the
 * workspace as written but leads out of it through a symbolic link (`evil.slice -> ~/work/x.slice`,
 * or a linked folder above it) is not read: its entry says why. (VS Code's file search follows
 * links, and the view read, listed and hashed whatever slice the workspace's link named.) A folder
 * outside the workspace as written is one the user picked (Browse…): theirs to read.
 */
function entryOf(dir: string): SliceEntry {
  if (vscode.workspace.isTrusted) return readEntry(dir);
  const folders = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
  const named = folders.some((f) => isWithin(resolve(f), resolve(dir)));
  if (!named || insideFolders(dir, folders)) return readEntry(dir);
  const real = realPathNearest(dir);
  const failure = new UserError(
    `the slice folder leads outside the workspace through a symbolic link (to ${real ?? 'a link that leads nowhere'}): an untrusted workspace does not read it`,
    { file: dir },
    'Trust the workspace (Manage Workspace Trust), or copy the slice into the workspace in place of the link.',
    'E_UNTRUSTED',
  );
  return new SliceEntry(dir, undefined, failure.describe(), failure);
}

/** The slice folder a watcher event is about: the folder itself (created, deleted, renamed) or the one holding the file; undefined otherwise. */
export function changedSliceDir(path: string): string | undefined {
  const p = path.replace(/[\\/]+$/, '');
  if (p.endsWith('.slice')) return p;
  const dir = dirname(p);
  return dir.endsWith('.slice') ? dir : undefined;
}
