import * as vscode from 'vscode';
import type { ReplaySession, ReplaySessions } from '../debug/sessions';
import { DisposableStore } from '../disposables';
import { readSettings } from '../settings';
import { TIMELINE_VIEW_TYPE, TimelinePanel, webviewOptions, type TimelineSource } from './panel';
import { SessionTimelineSource } from './sessionSource';
import { TraceTimelineSource } from './traceSource';

/** The state the webview keeps (getState/setState) that the host reads back to restore a panel. */
interface SavedState {
  restore?: unknown;
}

/**
 * Opens timeline panels: one per finished trace or comparison (restored after a reload by the
 * serializer) and one for debug sessions, reused as sessions come and go.
 */
export class TimelineManager implements vscode.Disposable {
  private readonly scope = new DisposableStore();
  private readonly traces = new Map<string, TimelinePanel>();
  private sessionPanel: TimelinePanel | undefined;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly sessions: ReplaySessions,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.scope.add(
      vscode.window.registerWebviewPanelSerializer(TIMELINE_VIEW_TYPE, {
        deserializeWebviewPanel: async (panel, state: SavedState | undefined) => {
          const paths = Array.isArray(state?.restore) ? state.restore.filter((p): p is string => typeof p === 'string') : [];
          if (paths.length === 0) {
            // A session timeline outlives no reload: the session is gone.
            panel.dispose();
            return;
          }
          this.adopt(panel, this.traceSource(paths), paths.join('\n'));
        },
      }),
    );
    this.scope.add(
      sessions.onStart((rs) => {
        if (this.sessionPanel) this.sessionPanel.setSource(this.sessionSource(rs));
        else if (readSettings().timelineOpenOnDebug) this.showSession(rs);
      }),
    );
  }

  private traceSource(paths: string[]): TraceTimelineSource {
    const s = readSettings();
    return new TraceTimelineSource(paths, s.timelineMaxPoints, s.timelineMode);
  }

  private sessionSource(rs: ReplaySession): SessionTimelineSource {
    const s = readSettings();
    return new SessionTimelineSource(rs, this.sessions, s.timelineMaxPoints, s.timelineMode);
  }

  private adopt(panel: vscode.WebviewPanel, source: TimelineSource, key: string): TimelinePanel {
    const tp = new TimelinePanel(panel, source, this.extensionUri, this.log);
    this.traces.set(key, tp);
    tp.onDidClose(() => this.traces.delete(key));
    return tp;
  }

  private create(title: string): vscode.WebviewPanel {
    return vscode.window.createWebviewPanel(TIMELINE_VIEW_TYPE, title, { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, webviewOptions(this.extensionUri));
  }

  /** The timeline of one trace (or two: a comparison); an open one is revealed. */
  showTraces(paths: string[]): TimelinePanel {
    const key = paths.join('\n');
    const open = this.traces.get(key);
    if (open) {
      open.reveal();
      return open;
    }
    const source = this.traceSource(paths);
    return this.adopt(this.create(source.title), source, key);
  }

  /** The timeline of a debug session (the one panel for sessions, retargeted). */
  showSession(rs: ReplaySession): TimelinePanel {
    if (this.sessionPanel) {
      const cur = this.sessionPanel.current;
      if (!(cur instanceof SessionTimelineSource) || cur.rs !== rs) this.sessionPanel.setSource(this.sessionSource(rs));
      this.sessionPanel.reveal();
      return this.sessionPanel;
    }
    const source = this.sessionSource(rs);
    const tp = new TimelinePanel(this.create(source.title), source, this.extensionUri, this.log);
    this.sessionPanel = tp;
    tp.onDidClose(() => (this.sessionPanel = undefined));
    return tp;
  }

  dispose(): void {
    for (const p of this.traces.values()) p.dispose();
    this.traces.clear();
    this.sessionPanel?.dispose();
    this.scope.dispose();
  }
}
