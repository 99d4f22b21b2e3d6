import * as vscode from 'vscode';
import { DEBUG_TYPE } from '../shared/dap';
import { registerCommand } from './commandIds';
import { registerSliceCommands, type CommandContext } from './commands/sliceCommands';
import { registerTimelineCommands } from './commands/timelineCommands';
import { InlineAdapterFactory } from './debug/adapterFactory';
import { ReplayConfigurationProvider } from './debug/configProvider';
import { EventDecorations } from './debug/eventDecorations';
import { pickRankerForLaunch, pickSlice } from './debug/pickers';
import { ReplaySessions } from './debug/sessions';
import { DisposableStore } from './disposables';
import { createLog, errorText } from './log';
import { readSettings } from './settings';
import { WorkspaceSlices } from './slices/workspaceSlices';
import { TimelineManager } from './timeline/manager';
import { RankingTreeProvider } from './views/rankingTree';
import { SlicesTreeProvider } from './views/slicesTree';
import { percentReporter } from './progress';
import { showError, withProgress } from './notify';

/** What activate() returns: for the integration tests, which drive the views as a user would. */
export interface RecReplayApi {
  slices: WorkspaceSlices;
  slicesTree: SlicesTreeProvider;
  ranking: RankingTreeProvider;
  sessions: ReplaySessions;
  timelines: TimelineManager;
}

let extensionScope: DisposableStore | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<RecReplayApi> {
  const log = createLog();
  context.subscriptions.push(log);
  try {
    return await start(context, log);
  } catch (e) {
    // A half-activated extension is worse than none: say why, and let VS Code record the failure.
    log.error(`activation failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    void showError(`RecReplay could not start: ${errorText(e)}`, 'Show Log').then((b) => b && log.show());
    extensionScope?.dispose();
    throw e;
  }
}

async function start(context: vscode.ExtensionContext, log: vscode.LogOutputChannel): Promise<RecReplayApi> {
  const scope = (extensionScope = new DisposableStore((e) => log.error(`dispose failed: ${errorText(e)}`)));
  context.subscriptions.push(scope);

  const slices = scope.add(new WorkspaceSlices(log));
  const slicesTree = scope.add(
    new SlicesTreeProvider(slices, {
      pageSize: () => readSettings().pageSize,
      groupEventsBy: () => readSettings().groupEventsBy,
      withProgress: (title, task) => withProgress(sliceWorkProgress(title), (p, token) => task(percentReporter(p), token)),
      log,
    }),
  );
  scope.add(vscode.window.createTreeView('recreplay.slices', { treeDataProvider: slicesTree, showCollapseAll: true }));
  scope.add(vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('recreplay.slices') && slicesTree.refresh()));

  const sessions = scope.add(new ReplaySessions(log));
  const ranking = scope.add(new RankingTreeProvider(sessions, log));
  const rankingView = scope.add(vscode.window.createTreeView('recreplay.ranking', { treeDataProvider: ranking }));
  scope.add(
    ranking.onDidUpdate(() => {
      const p = sessions.active?.position;
      rankingView.description = p ? `event ${p.event} · ${p.stage}` : '';
    }),
  );
  scope.add(new EventDecorations(sessions, ranking));
  const timelines = scope.add(new TimelineManager(context.extensionUri, sessions, log));

  scope.add(vscode.debug.registerDebugAdapterDescriptorFactory(DEBUG_TYPE, new InlineAdapterFactory(log)));
  const configs = new ReplayConfigurationProvider(async () => (await slices.list()).map((e) => ({ dir: e.dir, name: e.name })), log);
  scope.add(vscode.debug.registerDebugConfigurationProvider(DEBUG_TYPE, configs, vscode.DebugConfigurationProviderTriggerKind.Initial));
  // The dynamic list alone: VS Code calls every registered provider's resolve hooks, so `configs`
  // registered twice checked (and indexed) every launch twice.
  scope.add(vscode.debug.registerDebugConfigurationProvider(DEBUG_TYPE, { provideDebugConfigurations: (folder) => configs.provideDebugConfigurations(folder) }, vscode.DebugConfigurationProviderTriggerKind.Dynamic));

  const ctx: CommandContext = { extensionUri: context.extensionUri, log, slices, tree: slicesTree, sessions, timelines };
  registerSliceCommands(ctx, scope);
  registerTimelineCommands(ctx, scope);
  scope.add(
    registerCommand('recreplay.pickSlice', async () => {
      const list = await slices.list();
      return pickSlice(list.map((e) => ({ dir: e.dir, name: e.name, description: e.manifest?.description ?? e.manifestError ?? '', events: e.eventCount })));
    }),
  );
  // VS Code runs a ${command:…} variable with the configuration it resolves: the ranker's path is written for its cwd.
  scope.add(registerCommand('recreplay.pickRanker', (config) => pickRankerForLaunch(config)));
  scope.add(registerCommand('recreplay.showLog', () => log.show()));

  log.info(`RecReplay ${String(context.extension.packageJSON['version'])} active (workspace ${vscode.workspace.isTrusted ? 'trusted' : 'untrusted: built-in rankers only'})`);
  return { slices, slicesTree, ranking, sessions, timelines };
}

export function deactivate(): void {
  extensionScope?.dispose();
  extensionScope = undefined;
}

/**
 * Where the Slices view's long work (indexing a slice, grouping by session) shows its progress: a
 * notification, the only place VS Code gives a Cancel button (ProgressOptions.cancellable) — in the
 * view itself the work could not be cancelled, as docs/editor.md promises it can.
 */
export function sliceWorkProgress(title: string): vscode.ProgressOptions {
  return { location: vscode.ProgressLocation.Notification, title, cancellable: true };
}
