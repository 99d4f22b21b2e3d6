import * as vscode from 'vscode';
import { randomBytes } from 'node:crypto';
import { fitHostMessage, parseWebviewMessage, type HostMessage, type WebviewMessage } from '../../shared/webview';
import { DisposableStore } from '../disposables';
import { errorText } from '../log';
import { showError } from '../notify';
import { saveThroughTemp } from '../saveFile';

export const TIMELINE_VIEW_TYPE = 'recreplay.timeline';

/** What feeds a timeline panel: a live debug session or finished traces. */
export interface TimelineSource extends vscode.Disposable {
  readonly title: string;
  /** Sends everything the webview needs (on first load and whenever it is shown again). */
  replay(post: (m: HostMessage) => void): void | Promise<void>;
  /** Messages other than ready/export, e.g. goto and setMode. */
  handle(m: WebviewMessage, post: (m: HostMessage) => void): void | Promise<void>;
}

/** The webview options: scripts on, resources only from the webview bundle folder. */
export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions & vscode.WebviewPanelOptions {
  return { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'webview')], retainContextWhenHidden: false, enableFindWidget: false };
}

/** The page: strict CSP (nothing but our nonce'd script, our stylesheet and canvas images). */
export function timelineHtml(webview: Pick<vscode.Webview, 'asWebviewUri' | 'cspSource'>, extensionUri: vscode.Uri, nonce: string): string {
  const js = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview', 'timeline.js'));
  const css = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview', 'timeline.css'));
  const csp = [`default-src 'none'`, `style-src ${webview.cspSource}`, `img-src ${webview.cspSource} data: blob:`, `font-src ${webview.cspSource}`, `script-src 'nonce-${nonce}'`].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${css.toString()}">
<title>RecReplay Timeline</title>
</head>
<body>
<div id="app" data-testid="timeline-app"><p class="status">Loading the timeline…</p></div>
<script nonce="${nonce}" src="${js.toString()}"></script>
</body>
</html>`;
}

/** A webview panel showing one source; ready/export are handled here, the rest by the source. */
export class TimelinePanel implements vscode.Disposable {
  private readonly scope: DisposableStore;
  private readonly closed = new vscode.EventEmitter<void>();
  readonly onDidClose = this.closed.event;

  constructor(
    readonly panel: vscode.WebviewPanel,
    private source: TimelineSource,
    extensionUri: vscode.Uri,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.scope = new DisposableStore((e) => log.error(`disposing the timeline failed: ${errorText(e)}`));
    // A restored panel gets its webview options here; a new one had them at creation.
    const { enableScripts, localResourceRoots } = webviewOptions(extensionUri);
    panel.webview.options = { enableScripts, localResourceRoots };
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'icons', 'recreplay.svg');
    panel.title = source.title;
    panel.webview.html = timelineHtml(panel.webview, extensionUri, randomBytes(16).toString('base64'));
    this.scope.add(panel.webview.onDidReceiveMessage((raw: unknown) => void this.receive(raw)));
    this.scope.add(
      panel.onDidDispose(() => {
        this.closed.fire();
        this.dispose();
      }),
    );
  }

  /** Posts a host message; a panel that is hidden just drops it (it replays on ready). */
  post = (m: HostMessage): void => {
    if (this.scope.isDisposed) return;
    void this.panel.webview.postMessage(fitHostMessage(m));
  };

  /** Shows another source in the same panel (the session panel is reused). */
  setSource(source: TimelineSource): void {
    this.source.dispose();
    this.source = source;
    this.panel.title = source.title;
    void Promise.resolve(source.replay(this.post)).catch((e: unknown) => this.fail(e));
  }

  get current(): TimelineSource {
    return this.source;
  }

  private async receive(raw: unknown): Promise<void> {
    const m = parseWebviewMessage(raw);
    if (!m) {
      this.log.warn(`timeline: ignored a malformed message from the webview: ${JSON.stringify(raw)?.slice(0, 200)}`);
      return;
    }
    try {
      if (m.type === 'ready') await this.source.replay(this.post);
      else if (m.type === 'export') await this.export(m);
      else if (m.type === 'error') this.log.error(`timeline webview: ${m.message}`);
      else await this.source.handle(m, this.post);
    } catch (e) {
      this.fail(e);
    }
  }

  private fail(e: unknown): void {
    const text = errorText(e);
    this.log.error(`timeline: ${text}`);
    this.post({ type: 'status', text, busy: false });
    void showError(`RecReplay timeline: ${text}`);
  }

  private async export(m: WebviewMessage & { type: 'export' }): Promise<void> {
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    const name = `${m.name}.${m.format}`;
    const target = await vscode.window.showSaveDialog({
      title: `Export the timeline as ${m.format.toUpperCase()}`,
      filters: m.format === 'csv' ? { CSV: ['csv'] } : { PNG: ['png'] },
      ...(folder ? { defaultUri: vscode.Uri.joinPath(folder, name) } : {}),
    });
    if (!target) return;
    const bytes = m.format === 'csv' ? Buffer.from(m.text, 'utf8') : Buffer.from(m.dataUrl.slice(m.dataUrl.indexOf(',') + 1), 'base64');
    await saveThroughTemp(vscode.workspace.fs, target, bytes);
    this.log.info(`timeline exported to ${target.fsPath}`);
    this.post({ type: 'exported', format: m.format, path: target.fsPath });
  }

  reveal(): void {
    this.panel.reveal(undefined, true);
  }

  dispose(): void {
    if (this.scope.isDisposed) return;
    this.scope.dispose();
    this.source.dispose();
    this.closed.dispose();
    this.panel.dispose();
  }
}
