import * as vscode from 'vscode';
import { registerCommand } from '../commandIds';
import type { DisposableStore } from '../disposables';
import type { CommandContext } from './sliceCommands';
import { pickTrace, traceOf } from './targets';
import { showError, showInfo } from '../notify';

/** What is said of a run given to a command that holds no trace. */
function noTraceAt(target: vscode.Uri | string): string {
  return `No trace.jsonl at ${typeof target === 'string' ? target : target.fsPath}: pick a trace.jsonl, run.json or the folder holding them.`;
}

/** Open Timeline (a finished run), Compare Runs (two runs overlaid), the debug session's timeline. */
export function registerTimelineCommands(ctx: CommandContext, scope: DisposableStore): void {
  scope.add(
    registerCommand('recreplay.openTimeline', async (target) => {
      const trace = target !== undefined ? traceOf(target) : await pickTrace('RecReplay: open the timeline of a run');
      if (target !== undefined && !trace) return void showError(noTraceAt(target));
      if (trace) ctx.timelines.showTraces([trace]);
    }),
  );
  scope.add(
    registerCommand('recreplay.compareRuns', async (a, b) => {
      // A run given (a keybinding's or another extension's argument) that holds no trace is said, as
      // Open Timeline says it; it was dropped without a word.
      const first = a !== undefined ? traceOf(a) : await pickTrace('Compare runs: the first run (A, drawn dashed)');
      if (a !== undefined && !first) return void showError(`Compare Runs: ${noTraceAt(a)}`);
      if (!first) return;
      const second = b !== undefined ? traceOf(b) : await pickTrace('Compare runs: the second run (B)', first);
      if (b !== undefined && !second) return void showError(`Compare Runs: ${noTraceAt(b)}`);
      if (!second) return;
      ctx.timelines.showTraces([first, second]);
    }),
  );
  scope.add(
    registerCommand('recreplay.showTimelineForSession', () => {
      const rs = ctx.sessions.active;
      if (!rs) return void showInfo('No RecReplay debug session is running: start one (F5 on a slice) or open a finished run with "RecReplay: Open Timeline".');
      ctx.timelines.showSession(rs);
    }),
  );
}
