import * as vscode from 'vscode';
import { registerCommand } from '../commandIds';
import type { DisposableStore } from '../disposables';
import type { CommandContext } from './sliceCommands';
import { pickTrace, traceOf } from './targets';

/** Open Timeline (a finished run), Compare Runs (two runs overlaid), the debug session's timeline. */
export function registerTimelineCommands(ctx: CommandContext, scope: DisposableStore): void {
  scope.add(
    registerCommand('recreplay.openTimeline', async (target) => {
      const trace = target !== undefined ? traceOf(target) : await pickTrace('RecReplay: open the timeline of a run');
      if (target !== undefined && !trace) return void vscode.window.showErrorMessage(`No trace.jsonl at ${typeof target === 'string' ? target : target.fsPath}: pick a trace.jsonl, run.json or the folder holding them.`);
      if (trace) ctx.timelines.showTraces([trace]);
    }),
  );
  scope.add(
    registerCommand('recreplay.compareRuns', async (a, b) => {
      const first = a !== undefined ? traceOf(a) : await pickTrace('Compare runs: the first run (A, drawn dashed)');
      if (!first) return;
      const second = b !== undefined ? traceOf(b) : await pickTrace('Compare runs: the second run (B)', first);
      if (!second) return;
      ctx.timelines.showTraces([first, second]);
    }),
  );
  scope.add(
    registerCommand('recreplay.showTimelineForSession', () => {
      const rs = ctx.sessions.active;
      if (!rs) return void vscode.window.showInformationMessage('No RecReplay debug session is running: start one (F5 on a slice) or open a finished run with "RecReplay: Open Timeline".');
      ctx.timelines.showSession(rs);
    }),
  );
}
