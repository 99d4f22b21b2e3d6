import * as vscode from 'vscode';
import { resolve } from 'node:path';
import { readSettings } from '../settings';
import type { RankingTreeProvider } from '../views/rankingTree';
import type { ReplaySession, ReplaySessions } from './sessions';

/** At most this many lines are decorated per editor: the visible ones, never a whole slice. */
export const MAX_DECORATED_LINES = 300;
/** Lines longer than this are not parsed for a decoration (the event is shown in Variables). */
const MAX_LINE_CHARS = 1 << 20;

/** "served i_7 i_42 i_3 · clicked i_7" for one events.jsonl line, or undefined when it does not parse. */
export function eventSummary(text: string): string | undefined {
  if (text.length > MAX_LINE_CHARS || !text.startsWith('{')) return undefined;
  try {
    const e = JSON.parse(text) as { served?: unknown; outcome?: { clicks?: unknown } };
    const served = Array.isArray(e.served) ? e.served.slice(0, 3).map(String) : [];
    const clicks = Array.isArray(e.outcome?.clicks) ? e.outcome.clicks.map(String) : [];
    return `served ${served.join(' ') || '—'}${Array.isArray(e.served) && e.served.length > 3 ? ' …' : ''} · ${clicks.length ? `clicked ${clicks.join(' ')}` : 'no click'}`;
  } catch {
    return undefined;
  }
}

/** The visible line numbers (0-based) of an editor, capped. */
export function visibleLines(ranges: readonly { start: { line: number }; end: { line: number } }[], max = MAX_DECORATED_LINES): number[] {
  const out: number[] = [];
  for (const r of ranges) for (let l = r.start.line; l <= r.end.line && out.length < max; l++) out.push(l);
  return out;
}

/**
 * While a RecReplay session runs, the visible lines of its events.jsonl get their recorded served
 * top 3 and clicks at the end of the line, and the current event the replayed ones (from the
 * Ranking view). Decorations are recomputed for what scrolls into view only.
 */
export class EventDecorations implements vscode.Disposable {
  private readonly recorded = vscode.window.createTextEditorDecorationType({
    after: { color: new vscode.ThemeColor('editorCodeLens.foreground'), margin: '0 0 0 2em', fontStyle: 'italic' },
    rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
  });
  private readonly current = vscode.window.createTextEditorDecorationType({
    after: { color: new vscode.ThemeColor('debugTokenExpression.value'), margin: '0 0 0 2em', fontWeight: 'bold' },
    isWholeLine: true,
    overviewRulerColor: new vscode.ThemeColor('editorOverviewRuler.infoForeground'),
    overviewRulerLane: vscode.OverviewRulerLane.Center,
  });
  private readonly subs: vscode.Disposable[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly sessions: ReplaySessions,
    private readonly ranking: RankingTreeProvider,
  ) {
    const soon = () => this.schedule();
    this.subs.push(vscode.window.onDidChangeVisibleTextEditors(soon));
    this.subs.push(vscode.window.onDidChangeTextEditorVisibleRanges(soon));
    this.subs.push(sessions.onPosition(soon), sessions.onStart(soon), sessions.onEnd(soon), ranking.onDidUpdate(soon));
    this.subs.push(vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('recreplay.editor.eventDecorations') && soon()));
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.update();
    }, 50);
  }

  /**
   * Summaries of lines already parsed, per document and its version: decorations are redrawn at
   * every stop, and 300 visible lines of 1,000-candidate events took 0.25 s to parse each time.
   * Keyed by the document itself, not its URI: a file closed and opened again starts at version 1
   * anew (its text may have changed meanwhile), as another document.
   */
  private summaries = new WeakMap<vscode.TextDocument, { version: number; lines: Map<number, string | undefined> }>();

  private summaryOf(doc: vscode.TextDocument, line: number): string | undefined {
    let known = this.summaries.get(doc);
    if (!known || known.version !== doc.version) this.summaries.set(doc, (known = { version: doc.version, lines: new Map() }));
    if (known.lines.has(line)) return known.lines.get(line);
    const text = eventSummary(doc.lineAt(line).text);
    if (known.lines.size >= 4 * MAX_DECORATED_LINES) known.lines.clear();
    known.lines.set(line, text);
    return text;
  }

  private sessionFor(editor: vscode.TextEditor): ReplaySession | undefined {
    const path = resolve(editor.document.uri.fsPath);
    return this.sessions.all().find((s) => s.eventsPath !== undefined && resolve(s.eventsPath) === path);
  }

  private update(): void {
    const on = readSettings().eventDecorations;
    for (const editor of vscode.window.visibleTextEditors) {
      const rs = on && editor.document.uri.scheme === 'file' ? this.sessionFor(editor) : undefined;
      if (!rs) {
        editor.setDecorations(this.recorded, []);
        editor.setDecorations(this.current, []);
        continue;
      }
      const currentLine = rs.position ? rs.position.event - 1 : -1;
      const doc = editor.document;
      const recorded: vscode.DecorationOptions[] = [];
      for (const line of visibleLines(editor.visibleRanges)) {
        if (line >= doc.lineCount || line === currentLine) continue;
        const text = this.summaryOf(doc, line);
        if (text) recorded.push({ range: doc.lineAt(line).range, renderOptions: { after: { contentText: `  ${text}` } } });
      }
      editor.setDecorations(this.recorded, recorded);
      const cur: vscode.DecorationOptions[] = [];
      if (currentLine >= 0 && currentLine < doc.lineCount) {
        // The Ranking view's candidates are the focused session's: another session's line says only where it stands.
        const c = this.ranking.candidatesOf === rs ? this.ranking.candidates : [];
        const served = c.filter((x) => typeof x.served === 'number').sort((a, b) => (a.served as number) - (b.served as number));
        const p = rs.position;
        const replayed =
          p && p.stagesDone >= 5 && served.length
            ? `replayed: served ${served.slice(0, 3).map((x) => x.item).join(' ')}${p.stagesDone >= 6 ? ` · ${c.some((x) => x.clicked) ? `clicked ${c.filter((x) => x.clicked).map((x) => x.item).join(' ')}` : 'no click'}` : ''}`
            : `event ${p?.event ?? currentLine + 1} at ${p?.stage ?? '?'} (${p?.stagesDone ?? 0}/6 stages)`;
        const recordedText = this.summaryOf(doc, currentLine);
        cur.push({ range: doc.lineAt(currentLine).range, renderOptions: { after: { contentText: `  ◀ ${replayed}${recordedText ? ` | recorded: ${recordedText}` : ''}` } } });
      }
      editor.setDecorations(this.current, cur);
    }
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.summaries = new WeakMap();
    for (const s of this.subs) s.dispose();
    this.recorded.dispose();
    this.current.dispose();
  }
}
