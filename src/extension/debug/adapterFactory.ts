import * as vscode from 'vscode';
import { UserError } from '../../core/errors';
import { loadRankerAsync } from '../../core/rankers';
import type { RankerLoader } from '../../debugAdapter/lanes';
import { ReplayDebugSession } from '../../debugAdapter/session';
import { adapterLogger } from '../log';
import { trustProblem } from '../trust';

/**
 * The adapter's ranker loader in the editor: the core's, behind the workspace-trust rule (the
 * configuration provider refuses such launches already; this holds for any way a session starts).
 */
export function trustedLoader(isTrusted: () => boolean): RankerLoader {
  return (spec, ctx) => {
    const problem = trustProblem([spec], isTrusted());
    if (problem) throw new UserError(problem, { field: 'ranker' }, undefined, 'E_UNTRUSTED');
    // A slice of work per turn of the extension host's event loop, an embedding artifact parsed on a thread of its own.
    return loadRankerAsync(spec, ctx, ctx.runner);
  };
}

/**
 * Runs the RecReplay debug adapter in the extension host (no process to spawn, same engine as
 * the CLI). The adapter is a DebugSession from @vscode/debugadapter, which speaks the inline
 * adapter interface (handleMessage / onDidSendMessage).
 */
export class InlineAdapterFactory implements vscode.DebugAdapterDescriptorFactory {
  constructor(private readonly log: vscode.LogOutputChannel) {}

  createDebugAdapterDescriptor(session: vscode.DebugSession): vscode.DebugAdapterDescriptor {
    const adapter = new ReplayDebugSession({
      logger: adapterLogger(this.log, session.name),
      cwd: session.workspaceFolder?.uri.fsPath ?? process.cwd(),
      loadRanker: trustedLoader(() => vscode.workspace.isTrusted),
      // The launch's warm-up (configProvider) streamed events.jsonl off this thread.
      trustCachedIndex: true,
    });
    this.log.info(`starting the in-process adapter for "${session.name}"`);
    return new vscode.DebugAdapterInlineImplementation(adapter);
  }
}
