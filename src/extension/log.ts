import * as vscode from 'vscode';
import type { AdapterLogger } from '../debugAdapter/logger';

/** The extension's one log: View ▸ Output ▸ RecReplay (a LogOutputChannel, so levels are the user's choice). */
export function createLog(): vscode.LogOutputChannel {
  return vscode.window.createOutputChannel('RecReplay', { log: true });
}

/** The in-process debug adapter logs into the same channel, tagged with its session. */
export function adapterLogger(log: vscode.LogOutputChannel, tag: string): AdapterLogger {
  return {
    info: (m) => log.info(`[adapter ${tag}] ${m}`),
    warn: (m) => log.warn(`[adapter ${tag}] ${m}`),
    error: (m, e) => log.error(`[adapter ${tag}] ${m}${e instanceof Error ? `\n${e.stack ?? e.message}` : e === undefined ? '' : `\n${String(e)}`}`),
  };
}

/** A user-facing sentence for any error: UserError.describe() when there is one. */
export function errorText(e: unknown): string {
  if (e && typeof e === 'object' && 'describe' in e && typeof (e as { describe: unknown }).describe === 'function') return (e as { describe(): string }).describe();
  return e instanceof Error ? e.message : String(e);
}
