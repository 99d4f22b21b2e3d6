import * as vscode from 'vscode';
import { cpSync, existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, isAbsolute, join } from 'node:path';
import { registerCommand, type EventTarget } from '../commandIds';
import { checkConfig, configForSlice, insideFolders, noFolderBase, type ReplayConfig } from '../debug/configProvider';
import { realPathNearest } from '../../core/dirs';
import { pickRanker } from '../debug/pickers';
import type { ReplaySession, ReplaySessions } from '../debug/sessions';
import type { DisposableStore } from '../disposables';
import { runReplayWorker } from '../headless/runner';
import { errorText } from '../log';
import { readSettings } from '../settings';
import { IndexingCancelled, needsIndex, verifyAsync, type SliceEntry } from '../slices/sliceStore';
import type { WorkspaceSlices } from '../slices/workspaceSlices';
import type { TimelineManager } from '../timeline/manager';
import { trustProblem } from '../trust';
import type { SlicesTreeProvider } from '../views/slicesTree';
import { infoMarkdown, runFolderName, runSummary } from './reports';
import { eventTargetOf, resolveSlice } from './targets';
import { percentReporter } from '../progress';
import { isWithin, newFolder, removeCreatedDirs } from '../../core/dirs';
import { showError, showInfo, showWarning, withProgress } from '../notify';

export interface CommandContext {
  extensionUri: vscode.Uri;
  log: vscode.LogOutputChannel;
  slices: WorkspaceSlices;
  tree: SlicesTreeProvider;
  sessions: ReplaySessions;
  timelines: TimelineManager;
}

/** Commands on slices: debug, replay headless, verify, info, reveal and go to an event, examples. */
export function registerSliceCommands(ctx: CommandContext, scope: DisposableStore): void {
  const { log, slices, tree } = ctx;
  // Headless replays still running when the extension goes away (window closed or reloaded,
  // extension disabled): their workers are stopped and their run folders removed, not left writing
  // on, or half-written by an extension host that exits.
  const replaysRunning = new Set<() => void>();
  scope.add({ dispose: () => [...replaysRunning].forEach((stop) => stop()) });

  scope.add(
    registerCommand('recreplay.debugSlice', async (target) => {
      const dir = await resolveSlice(target, slices);
      if (!dir) return;
      // Only its name: the session opens the slice itself.
      const name = await slices.withEntry(dir, async (entry) => entry.name);
      const uri = vscode.Uri.file(dir);
      const folder = vscode.workspace.getWorkspaceFolder(uri);
      const config = configForSlice(dir, name, folder?.uri.fsPath, readSettings(folder).defaultRanker);
      // A slice outside the workspace's folders: its relative paths resolve against the folder Replay
      // Slice Headless resolves them against (the first workspace folder; with none, beside the slice).
      if (!folder) config.cwd = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? noFolderBase(dir);
      await vscode.debug.startDebugging(folder, config);
    }),
  );

  scope.add(
    registerCommand('recreplay.replayHeadless', async (target) => {
      const dir = await resolveSlice(target, slices);
      if (!dir) return;
      // Only its name (the worker opens the slice itself): a slice from outside the workspace is not kept open meanwhile.
      const entry = { name: await slices.withEntry(dir, async (e) => e.name) };
      const settings = readSettings(vscode.Uri.file(dir));
      // The run resolves artifact paths from the slice's workspace folder: the picker writes them so.
      const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(dir))?.uri.fsPath ?? vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
      const ranker = await pickRanker(settings.defaultRanker, folder ?? noFolderBase(dir));
      if (!ranker) return;
      const problem = trustProblem([ranker], vscode.workspace.isTrusted);
      if (problem) return void showError(problem);
      // With no folder open, the slice folder's parent stands in for it (as F5 and Debug Slice have
      // it): relative paths — the ranker's artifact, the runs folder — resolve there, not against the
      // extension host's working folder (the ranker's) or inside the slice folder itself (an artifact's).
      const within = folder ?? noFolderBase(dir);
      // An absolute runs folder is taken as it is (join made /abs/runs <workspace>/abs/runs); a
      // relative one is the workspace folder's (with none open: beside the slice, where it was
      // .recreplay-runs whatever recreplay.runs.folder said).
      const base = isAbsolute(settings.runsFolder) ? settings.runsFolder : join(within, settings.runsFolder);
      // recreplay.runs.folder is restricted: untrusted, only the user's own value counts, and it may
      // lead anywhere. But a folder inside the workspace may be a symbolic link the workspace
      // brought along (.recreplay -> /elsewhere): then the run would be written outside it.
      // With no folder open, the runs go beside the slice: a .recreplay link shipped there must not lead out either.
      if (!vscode.workspace.isTrusted) {
        // Untrusted, a run reads only inside the workspace, links followed, as a debug launch does:
        // a ranker file the workspace ships may be a link to a model elsewhere on the disk.
        const folders = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
        const reads = checkConfig({ type: 'recreplay', name: entry.name, request: 'launch', slice: dir, ranker, cwd: within } as ReplayConfig, false, folders.length > 0 ? folders : [within]);
        if (reads) return void showError(reads);
      }
      if (!vscode.workspace.isTrusted && isWithin(within, base) && !insideFolders(base, [within])) {
        return void showError(`The runs folder ${base} leads outside ${folder ? 'the workspace' : 'the slice\'s folder'} through a symbolic link (to ${realPathNearest(base) ?? 'a link that leads nowhere'}): an untrusted workspace may not write there. Trust the workspace (Manage Workspace Trust), or set recreplay.runs.folder in your user settings to a folder without links.`);
      }
      let run: { path: string; created: string[] };
      try {
        run = newFolder(base, runFolderName(entry.name, ranker, new Date()), 'run folder');
      } catch (e) {
        return void showError(errorText(e));
      }
      const traceDir = run.path;
      log.info(`replaying ${dir} with ${ranker} into ${traceDir}`);
      let stopWorker: (() => void) | undefined;
      const stopRun = () => {
        stopWorker?.();
        removeCreatedDirs(run.created);
      };
      replaysRunning.add(stopRun);
      const outcome = await Promise.resolve(withProgress({ location: vscode.ProgressLocation.Notification, title: `Replaying ${entry.name} with ${ranker}`, cancellable: true }, (progress, token) => {
        let last = 0;
        return runReplayWorker(
          vscode.Uri.joinPath(ctx.extensionUri, 'dist', 'replayWorker.js').fsPath,
          // No checkpoint interval from the settings: a headless run is never stepped back through, and a
          // workspace's own settings.json (trusted or not) set to 1 made it spill the state at every event.
          { slice: dir, ranker, traceDir, force: false, cwd: within },
          {
            onProgress: (done, total) => {
              const pct = Math.floor((100 * done) / Math.max(1, total));
              if (pct > last) progress.report({ increment: pct - last, message: `${done.toLocaleString('en-US')} / ${total.toLocaleString('en-US')} events` });
              last = Math.max(last, pct);
            },
            onCancel: (cancel) => token.onCancellationRequested(cancel),
            onStop: (stop) => (stopWorker = stop),
            onWarning: (message) => {
              log.warn(message);
              void showWarning(`RecReplay: ${message}`);
            },
          },
        );
      })).finally(() => replaysRunning.delete(stopRun));
      // A run that wrote nothing leaves no folder behind.
      if (outcome.type !== 'done') removeCreatedDirs(run.created);
      if (outcome.type === 'cancelled') return void showInfo(`Replay of ${entry.name} cancelled: no trace was written.`);
      if (outcome.type === 'error') {
        log.error(`headless replay failed: ${outcome.message}`);
        return void showError(outcome.user ? outcome.message : `The replay failed unexpectedly (details in the RecReplay log): ${outcome.message.split('\n')[0]}`, ...(outcome.user ? [] : ['Show Log'])).then((b) => b && log.show());
      }
      log.info(`replay done: ${outcome.events} events, trace ${outcome.trace} (sha256 ${outcome.traceSha256})`);
      if (outcome.trace) ctx.timelines.showTraces([outcome.trace]);
      const pick = await showInfo(runSummary(entry.name, outcome), 'Open run.json', 'Open Timeline');
      if (pick === 'Open run.json' && outcome.runRecord) await vscode.window.showTextDocument(vscode.Uri.file(outcome.runRecord));
      if (pick === 'Open Timeline' && outcome.trace) ctx.timelines.showTraces([outcome.trace]);
    }),
  );

  scope.add(
    registerCommand('recreplay.verifySlice', async (target) => {
      const dir = await resolveSlice(target, slices);
      if (!dir) return;
      await slices.withEntry(dir, (entry) => verifySlice(dir, entry, tree, log));
    }),
  );

  scope.add(
    registerCommand('recreplay.sliceInfo', async (target) => {
      const dir = await resolveSlice(target, slices);
      if (!dir) return;
      // A slice from outside the workspace is closed once its info is shown (see WorkspaceSlices.use).
      await slices.withEntry(dir, (entry) => sliceInfo(dir, entry, tree, log));
    }),
  );

  scope.add(registerCommand('recreplay.revealEvent', (target) => revealEvent(target, slices, log)));

  scope.add(
    registerCommand('recreplay.gotoEvent', async (arg) => {
      const target = eventTargetOf(arg);
      // An event of the Slices view belongs to one slice: only a session replaying that slice may move.
      const rs = target ? sessionOfSlice(ctx.sessions, target.sliceDir) : ctx.sessions.active;
      if (!rs && target) {
        const name = basename(target.sliceDir).replace(/\.slice$/, '');
        return void showInfo(`No RecReplay debug session replays ${name}, so Go to Event has nothing to move: start one with Debug Slice, then go to event ${target.event}.`, 'Debug Slice')
          .then((pick) => pick === 'Debug Slice' && vscode.commands.executeCommand('recreplay.debugSlice', target.sliceDir));
      }
      if (!rs) return void showInfo('Go to Event needs a RecReplay debug session: start one with F5 (or Debug Slice).');
      let event = target?.event;
      if (event === undefined) {
        const max = rs.position?.eventCount;
        const text = await vscode.window.showInputBox({ title: 'Go to event', prompt: `Event number (line of events.jsonl)${max ? `, 1–${max}` : ''}`, validateInput: (v) => (/^\d+$/.test(v.trim()) && Number(v) >= 1 && (!max || Number(v) <= max) ? undefined : `Type a whole number${max ? ` from 1 to ${max}` : ''}.`) });
        if (!text) return;
        event = Number(text.trim());
      }
      try {
        await rs.goto(event);
      } catch (e) {
        void showError(`Could not go to event ${event}: ${errorText(e)}`);
      }
    }),
  );

  scope.add(
    registerCommand('recreplay.openExamples', async () => {
      const src = vscode.Uri.joinPath(ctx.extensionUri, 'examples').fsPath;
      if (!existsSync(join(src, 'slices'))) return void showError('This build of RecReplay ships without the example workspace. Clone the RecReplay repository and open its examples/ folder.');
      const suggested = join(homedir(), 'recreplay-examples');
      const choice = await showInfo(`Copy the example workspace (two slices with a reproduced fault each, their rankers) to ${suggested} and open it?`, { modal: true }, 'Copy and Open', 'Choose Folder…');
      let dest = suggested;
      if (choice === 'Choose Folder…') {
        const picked = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, openLabel: 'Copy the examples here' });
        if (!picked?.[0]) return;
        dest = join(picked[0].fsPath, 'recreplay-examples');
      } else if (choice !== 'Copy and Open') return;
      try {
        if (!existsSync(dest)) cpSync(src, dest, { recursive: true, filter: (p) => !basename(p).startsWith('.') && !p.endsWith('generate.ts') });
        await vscode.commands.executeCommand('vscode.openFolder', vscode.Uri.file(dest), { forceNewWindow: false });
      } catch (e) {
        void showError(`Could not copy the examples to ${dest}: ${errorText(e)}`);
      }
    }),
  );

  scope.add(registerCommand('recreplay.refreshSlices', () => slices.refresh()));
  scope.add(
    registerCommand('recreplay.toggleEventGrouping', async () => {
      const cur = readSettings().groupEventsBy;
      // Written where the value in force comes from: a user-level value under a workspace one would never show.
      const config = vscode.workspace.getConfiguration('recreplay');
      const set = config.inspect<string>('slices.groupEventsBy');
      const level =
        set?.workspaceFolderValue !== undefined ? vscode.ConfigurationTarget.WorkspaceFolder : set?.workspaceValue !== undefined ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
      await config.update('slices.groupEventsBy', cur === 'time' ? 'session' : 'time', level);
      tree.refresh();
    }),
  );
}

/** Verify Slice: every file hashed against the manifest (streamed, cancellable), the status updated. */
async function verifySlice(dir: string, entry: SliceEntry, tree: SlicesTreeProvider, log: vscode.LogOutputChannel): Promise<void> {
  if (!entry.manifest) return void showError(entry.manifestError ?? `${dir}: slice.json cannot be read.`);
  const manifest = entry.manifest;
  let report;
  try {
    report = await withProgress({ location: vscode.ProgressLocation.Notification, title: `Verifying ${entry.name}`, cancellable: true }, (progress, token) =>
      verifyAsync(dir, manifest, token, percentReporter(progress)),
    );
  } catch (e) {
    return void showError(`Verifying ${entry.name}: ${errorText(e)}`);
  }
  if (!report) return;
  entry.setVerified(report);
  tree.refreshSlice(dir);
  log.info(`verify ${dir}: ${JSON.stringify(report)}`);
  if (report.ok) void showInfo(`${entry.name}: every file matches its sha256 in the manifest.`);
  else void showWarning(`${entry.name} was modified since it was frozen: ${[...report.modified, ...report.missing].map((f) => `${f} (${report.reasons[f] ?? 'missing'})`).join(', ')}. Re-freeze it, restore the files, or replay with "force": true.`, { modal: false });
}

/** Slice Info: the manifest, counts, versions, files and known faults as a Markdown document. */
async function sliceInfo(dir: string, entry: SliceEntry, tree: SlicesTreeProvider, log: vscode.LogOutputChannel): Promise<void> {
  try {
    // A slice never opened would have its offset index built by one synchronous read of all of
    // events.jsonl: build it first, streamed, with a progress notification that can cancel it.
    const slice =
      entry.slice ??
      (entry.manifest && needsIndex(dir)
        ? await withProgress({ location: vscode.ProgressLocation.Notification, title: `Indexing ${entry.name}`, cancellable: true }, (progress, token) => entry.open(token, percentReporter(progress)))
        : await entry.open());
    tree.refreshSlice(dir);
    const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content: infoMarkdown(slice, entry.status) });
    await vscode.window.showTextDocument(doc, { preview: true });
  } catch (e) {
    // Cancelled while indexing: the user changed their mind, not an error.
    if (e instanceof IndexingCancelled) return void log.info(`Slice Info of ${dir} cancelled while indexing`);
    void showError(errorText(e));
  }
}

/** The session replaying the slice in `dir` (paths compared with symbolic links resolved), the focused one first. */
function sessionOfSlice(sessions: ReplaySessions, dir: string): ReplaySession | undefined {
  const want = realPathNearest(dir) ?? dir;
  const same = (s: ReplaySession) => s.sliceDir !== undefined && (realPathNearest(s.sliceDir) ?? s.sliceDir) === want;
  const active = sessions.active;
  return active && same(active) ? active : sessions.all().find(same);
}

/** Opens events.jsonl of a slice with the cursor at the start of event `n` (line n). */
async function revealEvent(target: EventTarget | undefined, slices: WorkspaceSlices, log: vscode.LogOutputChannel): Promise<void> {
  let t = eventTargetOf(target);
  if (!t) {
    const dir = await resolveSlice(undefined, slices);
    if (!dir) return;
    const text = await vscode.window.showInputBox({ title: 'Reveal event', prompt: 'Event number (line of events.jsonl)', validateInput: (v) => (/^\d+$/.test(v.trim()) && Number(v) >= 1 ? undefined : 'Type a whole number >= 1.') });
    if (!text) return;
    t = { sliceDir: dir, event: Number(text.trim()) };
  }
  // Not openTextDocument + showTextDocument: VS Code hands no document above 50 MB to extensions
  // (microsoft/vscode#111849), and a million-event events.jsonl is bigger. The editor itself opens
  // it; the selection puts the cursor on the event's line (the editor clamps it to the file).
  const uri = vscode.Uri.file(join(t.sliceDir, 'events.jsonl'));
  const line = Math.max(1, Math.floor(t.event)) - 1;
  const options: vscode.TextDocumentShowOptions = { preview: true, selection: new vscode.Range(line, 0, line, 0) };
  try {
    await vscode.commands.executeCommand('vscode.open', uri, options);
  } catch (e) {
    log.warn(`reveal event ${t.event} of ${uri.fsPath}: ${errorText(e)}`);
    void showError(`Could not open ${uri.fsPath} at event ${t.event}: ${errorText(e)}`);
  }
}
