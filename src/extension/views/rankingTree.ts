import * as vscode from 'vscode';
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { ReplaySession, ReplaySessions } from '../debug/sessions';
import { errorText } from '../log';
import { shownText } from './shownText';

/** One candidate of the current event, read from the adapter's Ranking scope. */
export interface Candidate {
  /** Replayed rank (1-based) once ranked, else the recorded rank. */
  place: number;
  item: string;
  score: number | null;
  rank: number | null;
  recordedRank: number | null;
  delta: number | null;
  /** 1-based position in the served slate, false when not served, null before the serve stage. */
  served: number | false | null;
  clicked: boolean | null;
  featuresRef: number;
}

export type RankingNode = { kind: 'candidate'; c: Candidate } | { kind: 'feature'; name: string; value: string } | { kind: 'note'; text: string };

/** A DAP variable value as the adapter prints it (numbers, true/false, null) back to a value. */
export function parseValue(v: string | undefined): number | boolean | null | string {
  if (v === undefined || v === 'null') return null;
  if (v === 'true') return true;
  if (v === 'false') return false;
  if (v === 'NaN') return Number.NaN;
  if (v === 'Infinity' || v === '-Infinity') return Number(v);
  const n = Number(v);
  return v.trim() !== '' && !Number.isNaN(n) ? n : v.replace(/^"(.*)"$/, '$1');
}

/**
 * The item of a Ranking row read from the row itself, for rows without children (at the entry
 * stop, before the retrieve stage, the adapter lists each candidate as `rec #3` = `i_42 (not
 * retrieved yet)`): its evaluateName `rank("i_42")` when it has one, else the value's first word.
 */
export function rowItem(row: DebugProtocol.Variable | undefined): string | undefined {
  if (!row) return undefined;
  const m = /^rank\((".*")\)$/.exec(row.evaluateName ?? '');
  if (m) {
    try {
      const item: unknown = JSON.parse(m[1] as string);
      if (typeof item === 'string' && item !== '') return item;
    } catch {
      // not a JSON string: fall back to the value
    }
  }
  const word = /^\s*(\S+)/.exec(row.value)?.[1];
  return word === undefined ? undefined : word.replace(/^"(.*)"$/, '$1');
}

/**
 * A candidate from the children of one Ranking row; the row itself gives the item (and the
 * recorded rank, from its `rec #N` name) when it has no children.
 */
export function candidateOf(place: number, kids: readonly DebugProtocol.Variable[], row?: DebugProtocol.Variable): Candidate {
  const get = (name: string) => parseValue(kids.find((k) => k.name === name)?.value);
  const num = (name: string) => {
    const v = get(name);
    return typeof v === 'number' ? v : null;
  };
  const served = get('served');
  const clicked = get('clicked');
  return {
    place,
    item: String(get('item') ?? rowItem(row) ?? '?'),
    score: num('score'),
    rank: num('rank'),
    recordedRank: num('recordedRank') ?? recordedRankOfRow(row),
    delta: num('rankDelta'),
    served: typeof served === 'number' ? served : served === false ? false : null,
    clicked: typeof clicked === 'boolean' ? clicked : null,
    featuresRef: kids.find((k) => k.name === 'features')?.variablesReference ?? 0,
  };
}

/** The recorded rank a row without children names (`rec #3`), else null. */
function recordedRankOfRow(row: DebugProtocol.Variable | undefined): number | null {
  const m = /^rec #(\d+)$/.exec(row?.name ?? '');
  return m ? Number(m[1]) : null;
}

/** "▲2" moved up two places from the recorded ranking, "▼1" down one, "=" unchanged. */
export function deltaArrow(delta: number | null): string {
  if (delta === null) return '';
  return delta > 0 ? `▲${delta}` : delta < 0 ? `▼${-delta}` : '=';
}

export function candidateItem(c: Candidate): vscode.TreeItem {
  const item = new vscode.TreeItem(`#${c.place}  ${c.item}`, c.featuresRef ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
  const parts: string[] = [];
  if (c.score !== null) parts.push(Number.isFinite(c.score) ? String(Number(c.score.toFixed(4))) : String(c.score));
  if (c.recordedRank !== null) parts.push(`rec #${c.recordedRank}${c.delta !== null ? ` ${deltaArrow(c.delta)}` : ''}`);
  if (typeof c.served === 'number') parts.push(`served #${c.served}`);
  if (c.clicked) parts.push('clicked');
  item.description = parts.join(' · ');
  const color = c.delta === null || c.delta === 0 ? undefined : new vscode.ThemeColor(c.delta > 0 ? 'charts.green' : 'charts.red');
  item.iconPath = c.clicked ? new vscode.ThemeIcon('star-full', new vscode.ThemeColor('charts.yellow')) : typeof c.served === 'number' ? new vscode.ThemeIcon('eye', color) : new vscode.ThemeIcon(c.delta === null || c.delta === 0 ? 'dash' : c.delta > 0 ? 'arrow-up' : 'arrow-down', color);
  item.tooltip = `${c.item}\nscore ${c.score ?? '—'}\nreplayed rank ${c.rank ?? '(not ranked yet)'} · recorded rank ${c.recordedRank ?? '—'}${c.delta !== null ? ` (${deltaArrow(c.delta)})` : ''}\n${typeof c.served === 'number' ? `served at #${c.served}` : c.served === false ? 'not served' : 'not served yet'}${c.clicked ? ' · clicked' : ''}\nExpand for its features (the same values as Variables ▸ Ranking).`;
  // The place makes the id unique even when the item is unknown or listed twice (VS Code refuses
  // a tree whose ids repeat).
  item.id = `candidate:${c.place}:${c.item}`;
  item.contextValue = 'candidate';
  return shownText(item);
}

/** How many candidates the view lists (the Variables view pages through the rest). */
const SHOWN = 100;

/**
 * The Ranking view: while a RecReplay session is stopped, the current event's candidates in
 * replayed order, read through standard DAP requests (scopes ▸ Ranking ▸ variables) so it shows
 * exactly what Variables shows. Refreshed on every stop.
 */
export class RankingTreeProvider implements vscode.TreeDataProvider<RankingNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<RankingNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private nodes: RankingNode[] = [];
  private seq = 0;
  private session: ReplaySession | undefined;

  /** The session `candidates` were read from (undefined: none). */
  get candidatesOf(): ReplaySession | undefined {
    return this.session;
  }
  private readonly subs: vscode.Disposable[] = [];
  /** Current candidates, for the editor decorations of the current event. */
  candidates: Candidate[] = [];
  private readonly updated = new vscode.EventEmitter<void>();
  readonly onDidUpdate = this.updated.event;

  constructor(
    private readonly sessions: ReplaySessions,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.subs.push(sessions.onPosition((s) => s.position?.state === 'stopped' && void this.load(s)));
    this.subs.push(
      sessions.onEnd((s) => {
        if (s !== this.session) return;
        // A load still waiting on the ended session is stale: its error would fill the emptied view.
        this.seq++;
        this.session = undefined;
        this.set([], []);
      }),
    );
    this.subs.push(vscode.debug.onDidChangeActiveStackItem(() => void this.loadActive()));
  }

  private set(nodes: RankingNode[], cands: Candidate[]): void {
    this.nodes = nodes;
    this.candidates = cands;
    this.changed.fire(undefined);
    this.updated.fire();
  }

  /** The user selected another frame (or VS Code focused the new top frame after a stop). */
  private async loadActive(): Promise<void> {
    const item = vscode.debug.activeStackItem;
    const rs = item ? this.sessions.get(item.session.id) : undefined;
    if (rs && rs.position?.state === 'stopped' && item instanceof vscode.DebugStackFrame) await this.load(rs, item.frameId);
  }

  /**
   * Reads the Ranking scope of a frame: the one given (a frame the user selected), else the top
   * frame of the primary thread, asked afresh (at a stop the focused frame may still be the old one).
   */
  async load(rs: ReplaySession, frame?: number): Promise<void> {
    const mine = ++this.seq;
    this.session = rs;
    try {
      const s = rs.session;
      let frameId = frame;
      if (frameId === undefined) {
        const st = (await s.customRequest('stackTrace', { threadId: rs.primaryThread, startFrame: 0, levels: 1 })) as DebugProtocol.StackTraceResponse['body'];
        frameId = st.stackFrames[0]?.id;
      }
      if (frameId === undefined) return this.set([{ kind: 'note', text: 'No stack frame to read.' }], []);
      const scopes = ((await s.customRequest('scopes', { frameId })) as DebugProtocol.ScopesResponse['body']).scopes;
      const ranking = scopes.find((x) => x.name === 'Ranking');
      if (!ranking) return this.set([{ kind: 'note', text: 'This frame has no ranking (the session frame): select the stage or event frame.' }], []);
      const rows = ((await s.customRequest('variables', { variablesReference: ranking.variablesReference, start: 0, count: SHOWN })) as DebugProtocol.VariablesResponse['body']).variables;
      const kids = await Promise.all(rows.map((r) => (r.variablesReference ? (s.customRequest('variables', { variablesReference: r.variablesReference }) as Thenable<DebugProtocol.VariablesResponse['body']>) : Promise.resolve({ variables: [] as DebugProtocol.Variable[] }))));
      if (mine !== this.seq) return;
      const cands = rows.map((r, i) => candidateOf(i + 1, kids[i]?.variables ?? [], r));
      const nodes: RankingNode[] = cands.map((c) => ({ kind: 'candidate', c }));
      const total = ranking.indexedVariables ?? rows.length;
      if (total > rows.length) nodes.push({ kind: 'note', text: `${total - rows.length} more candidates: see Variables ▸ Ranking` });
      const p = rs.position;
      if (p && p.stagesDone < 4) nodes.unshift({ kind: 'note', text: `Event ${p.event} before rerank (${p.stage}): recorded order` });
      this.set(nodes, cands);
    } catch (e) {
      if (mine !== this.seq) return;
      this.log.warn(`Ranking view: ${errorText(e)}`);
      this.set([{ kind: 'note', text: `Could not read the ranking: ${errorText(e)}` }], []);
    }
  }

  getTreeItem(n: RankingNode): vscode.TreeItem {
    if (n.kind === 'candidate') return candidateItem(n.c);
    if (n.kind === 'feature') {
      const item = new vscode.TreeItem(n.name, vscode.TreeItemCollapsibleState.None);
      item.description = n.value;
      item.iconPath = new vscode.ThemeIcon('symbol-field');
      return shownText(item);
    }
    const item = new vscode.TreeItem(n.text, vscode.TreeItemCollapsibleState.None);
    item.iconPath = new vscode.ThemeIcon('info');
    return shownText(item);
  }

  async getChildren(n?: RankingNode): Promise<RankingNode[]> {
    if (!n) return this.nodes;
    if (n.kind !== 'candidate' || !n.c.featuresRef || !this.session) return [];
    try {
      const body = (await this.session.session.customRequest('variables', { variablesReference: n.c.featuresRef })) as DebugProtocol.VariablesResponse['body'];
      return body.variables.map((v) => ({ kind: 'feature', name: v.name, value: v.value }));
    } catch (e) {
      // References die when the replay moves; the next stop refreshes the view.
      return [{ kind: 'note', text: `Features are gone (the replay moved): ${errorText(e)}` }];
    }
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
    this.changed.dispose();
    this.updated.dispose();
  }
}
