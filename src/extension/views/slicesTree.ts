import * as vscode from 'vscode';
import type { Slice } from '../../core/slice/reader';
import { errorText } from '../log';
import { IndexingCancelled, type SliceEntry } from '../slices/sliceStore';
import { countBy, countBySteps, featureSummarySteps, fmt, pageRanges, scanSessions, usersOf, windowLabel, type SessionIndex } from '../slices/summaries';
import { treeItemOf, type Paged, type SliceNode } from './sliceNodes';
import { CANDIDATES_PER_TURN, pacer, runStepsAsync } from '../../core/steps';

/** Where the tree gets its slices and settings: the workspace in the extension, a list in tests. */
export interface SliceSource {
  list(): Promise<SliceEntry[]>;
  readonly onDidChange: vscode.Event<void>;
}

export interface TreeOptions {
  pageSize(): number;
  groupEventsBy(): 'time' | 'session';
  /** Runs a long task with progress shown on the view. */
  withProgress<T>(title: string, task: (report: (fraction: number) => void, token: vscode.CancellationToken) => Promise<T>): Thenable<T>;
  log: Pick<vscode.LogOutputChannel, 'warn' | 'error' | 'info'>;
}

/**
 * The Slices view. Every level is computed when expanded and events are listed a page at a time
 * through the offset index (two reads per page label, one per event shown), so a slice of a
 * million events opens as fast as one of ten.
 */
export class SlicesTreeProvider implements vscode.TreeDataProvider<SliceNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<SliceNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly sessions = new Map<string, SessionIndex>();
  private readonly roots = new Map<string, SliceNode & { kind: 'slice' }>();
  private readonly sub: vscode.Disposable;

  constructor(
    private readonly source: SliceSource,
    private readonly opts: TreeOptions,
  ) {
    this.sub = source.onDidChange(() => this.refresh());
  }

  refresh(): void {
    this.sessions.clear();
    this.roots.clear();
    this.changed.fire(undefined);
  }

  /** Redraws one slice's node (its status changed after open or verify). */
  refreshSlice(dir: string): void {
    const node = this.roots.get(dir);
    this.changed.fire(node);
  }

  getTreeItem(n: SliceNode): vscode.TreeItem {
    return treeItemOf(n);
  }

  getParent(): undefined {
    return undefined;
  }

  async getChildren(n?: SliceNode): Promise<SliceNode[]> {
    try {
      return await this.children(n);
    } catch (e) {
      this.opts.log.warn(`Slices view: ${errorText(e)}`);
      return [{ kind: 'message', label: errorText(e).split('\n')[0] ?? 'error', icon: 'error', tooltip: errorText(e) }];
    }
  }

  private async children(n?: SliceNode): Promise<SliceNode[]> {
    if (n === undefined) {
      const list = await this.source.list();
      return list.map((entry) => {
        const node = { kind: 'slice' as const, entry };
        this.roots.set(entry.dir, node);
        return node;
      });
    }
    switch (n.kind) {
      case 'slice':
        return this.sliceChildren(n.entry);
      case 'section':
        return this.sectionChildren(n);
      case 'range':
        return this.rangeChildren(n);
      case 'session': {
        const idx = this.sessions.get(n.entry.dir);
        return this.pagedOf(n.entry, 'events', 1, idx?.count(n.index) ?? 0, n.index);
      }
      default:
        return [];
    }
  }

  private async sliceChildren(entry: SliceEntry): Promise<SliceNode[]> {
    const before = entry.status.kind;
    let slice: Slice;
    try {
      slice = entry.slice ?? (await this.opts.withProgress(`Indexing ${entry.name}`, (report, token) => entry.open(token, report)));
    } catch (e) {
      // Cancelled: a node that starts over when clicked (VS Code asks for these children only once).
      if (e instanceof IndexingCancelled) return [{ kind: 'message', label: 'Indexing was cancelled: click to try again', icon: 'debug-restart', retry: true }];
      throw e;
    } finally {
      if (entry.status.kind !== before) this.refreshSlice(entry.dir);
    }
    const m = slice.manifest;
    const byTime = this.opts.groupEventsBy() === 'time';
    return [
      { kind: 'section', entry, section: 'manifest', label: 'Manifest' },
      { kind: 'section', entry, section: 'versions', label: 'Versions', count: Object.values(m.versions).filter(Boolean).length },
      { kind: 'section', entry, section: 'integrity', label: 'Integrity' },
      { kind: 'section', entry, section: 'users', label: 'Users', count: slice.userCount },
      { kind: 'section', entry, section: 'items', label: 'Items', count: slice.items.length },
      byTime ? { kind: 'section', entry, section: 'events', label: 'Events (by time)', count: slice.eventCount } : { kind: 'section', entry, section: 'sessions', label: 'Events (by session)', count: slice.eventCount },
    ];
  }

  private async sectionChildren(n: SliceNode & { kind: 'section' }): Promise<SliceNode[]> {
    const entry = n.entry;
    const s = entry.slice;
    if (!s) return [];
    const m = s.manifest;
    const field = (label: string, description: string, extra: Partial<SliceNode & { kind: 'field' }> = {}): SliceNode => ({ kind: 'field', label, description, ...extra });
    switch (n.section) {
      case 'manifest': {
        const src = m.source;
        const out: SliceNode[] = [
          field('name', m.name),
          field('description', m.description),
          field('source', [src.kind, src.query, src.window ? `${src.window.from} – ${src.window.to}` : undefined, src.generator, src.fittedFrom ? `fitted from ${src.fittedFrom}` : undefined].filter(Boolean).join(' · ')),
          field('frozen at', m.frozenAt),
          field('clock', `${m.clock.start} (${m.clock.timezone})`),
          field('seed', String(m.seed)),
        ];
        if (m.pipeline) out.push(field('pipeline', Object.entries(m.pipeline).map(([k, v]) => `${k} ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(' · ')));
        out.push(field('redaction', `${m.redaction.identifiers}${m.redaction.dropped.length ? ` · dropped ${m.redaction.dropped.join(', ')}` : ''}`));
        out.push(field('manifest', 'slice.json', { open: `${entry.dir}/slice.json`, icon: 'go-to-file' }));
        // Fields the format does not know are ignored: said here, as the CLI and the Debug Console say them.
        for (const w of s.warnings) out.push({ kind: 'message', label: w.replace(/^slice\.json: /, ''), icon: 'warning', tooltip: w });
        if (m.faults.length) out.push({ kind: 'section', entry, section: 'knownFaults', label: 'Known faults', count: m.faults.length });
        return out;
      }
      case 'knownFaults':
        return m.faults.map((f) => field(f.kind, `${f.event}${f.note ? ` — ${f.note}` : ''}`, { icon: 'bug' }));
      case 'versions':
        return Object.entries(m.versions)
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => field(k, `${v?.name} ${v?.version}`, { tooltip: `${k}: ${v?.name} ${v?.version}${v?.sha256 ? `\nsha256 ${v.sha256}` : ''}`, icon: 'tag' }));
      case 'integrity': {
        const st = entry.status;
        const out: SliceNode[] = m.files.map((f) => {
          const bad = st.kind === 'modified' && (st.files.includes(f.path) || st.missing.includes(f.path));
          return field(f.path, `${bad ? (st.kind === 'modified' && st.missing.includes(f.path) ? 'MISSING · ' : 'MODIFIED · ') : ''}${f.records !== undefined ? `${f.records.toLocaleString('en-US')} records · ` : ''}${fmtBytes(f.bytes)}`, {
            tooltip: `${f.path}\nsha256 ${f.sha256}${f.chunks ? `\n${f.chunks.sha256.length} chunks of ${fmtBytes(f.chunks.size)}, each checked when first read` : ''}`,
            icon: bad ? 'warning' : 'file',
            open: `${entry.dir}/${f.path}`,
          });
        });
        if (st.kind === 'error') out.unshift({ kind: 'message', label: st.message.split('\n')[0] ?? '', icon: 'error', tooltip: st.message });
        return out;
      }
      case 'users':
        return [
          { kind: 'section', entry, section: 'segments', label: 'Segments' },
          { kind: 'section', entry, section: 'userFeatures', label: 'Feature summary', count: Object.keys(m.schema.user).length },
          ...(await this.pagedOf(entry, 'users', 1, s.userCount)),
        ];
      case 'items':
        return [
          { kind: 'section', entry, section: 'categories', label: 'Categories' },
          { kind: 'section', entry, section: 'itemFeatures', label: 'Feature summary', count: Object.keys(m.schema.item).length },
          ...(await this.pagedOf(entry, 'items', 1, s.items.length)),
        ];
      case 'segments':
        // Every user parsed a slice of work per turn of the event loop (a million take seconds), and
        // none kept: through allSteps a million stayed parsed (+128 MB) while the slice was listed.
        return (await runStepsAsync(countBySteps(usersOf(s.userById), (u) => u.segment))).map(([k, c]) => field(k, `${c} users`, { icon: 'symbol-enum' }));
      case 'categories':
        return countBy(s.items, (i) => i.category).map(([k, c]) => field(k, `${c} items`, { icon: 'symbol-enum' }));
      case 'userFeatures':
        return (await runStepsAsync(featureSummarySteps(usersOf(s.userById), m.schema.user))).map((f) => field(f.name, f.text, { icon: 'symbol-field' }));
      case 'itemFeatures':
        // A slice of work per turn of the event loop (a million items took 415 ms in one piece).
        return (await runStepsAsync(featureSummarySteps(s.items, m.schema.item))).map((f) => field(f.name, f.text, { icon: 'symbol-field' }));
      case 'events':
        return this.pagedOf(entry, 'events', 1, s.eventCount);
      case 'sessions':
        return this.sessionRoots(entry);
    }
  }

  private async sessionRoots(entry: SliceEntry): Promise<SliceNode[]> {
    let idx = this.sessions.get(entry.dir);
    if (!idx) {
      const s = entry.slice as Slice;
      const bytes = s.manifest.files.find((f) => f.path === 'events.jsonl')?.bytes ?? 0;
      idx = await this.opts.withProgress(`Grouping ${entry.name} by session`, (report, token) => scanSessions(s.eventsPath, bytes, token, report));
      if (!idx) return [{ kind: 'message', label: 'Grouping by session was cancelled: click to try again', icon: 'debug-restart', retry: true }];
      this.sessions.set(entry.dir, idx);
    }
    return this.pagedOf(entry, 'sessions', 1, idx.sessions);
  }

  /** Children of a paged list: the items themselves, or ranges of them when there are too many. */
  private async pagedOf(entry: SliceEntry, what: Paged, from: number, to: number, session?: number): Promise<SliceNode[]> {
    const size = this.opts.pageSize();
    try {
      if (to - from + 1 <= size) {
        if (what === 'events') await this.verifyAhead(entry, from, to, session, 1);
        return await this.leaves(entry, what, from, to, session);
      }
      const ranges = pageRanges(from, to, size);
      // Each range's label reads its first and last event: their chunks are checked first, off the
      // editor's thread as far as it goes (a million events: ~200 chunks of 8 MB per level).
      if (what === 'events') await this.verifyAhead(entry, from, to, session, 0, ranges);
      return ranges.map(([a, b]) => ({ kind: 'range', entry, what, from: a, to: b, session, label: `${a.toLocaleString('en-US')}–${b.toLocaleString('en-US')}`, description: this.rangeDescription(entry, what, a, b, session) }) as SliceNode);
    } finally {
      // The chunks checked and the events read may have found events.jsonl modified: say so on the slice.
      if (what === 'events' && entry.noteReads()) this.refreshSlice(entry.dir);
    }
  }

  /** Checks the chunks of the events a page shows (all of from..to) or of its ranges' ends, asynchronously. */
  private async verifyAhead(entry: SliceEntry, from: number, to: number, session: number | undefined, all: 0 | 1, ranges: [number, number][] = []): Promise<void> {
    const s = entry.slice;
    if (!s) return;
    const events: number[] = [];
    if (all) for (let i = from; i <= to; i++) events.push(this.eventNumber(entry, i, session));
    else for (const [a, b] of ranges) events.push(this.eventNumber(entry, a, session), this.eventNumber(entry, b, session));
    try {
      await s.verifyEventsAsync(events);
    } catch {
      // A chunk that does not match: the reads that follow report it where it shows.
    }
  }

  private rangeChildren(n: SliceNode & { kind: 'range' }): Promise<SliceNode[]> {
    return this.pagedOf(n.entry, n.what, n.from, n.to, n.session);
  }

  /** The event at place i of a list: of the slice, or of session number `session` (0-based, in the session index). */
  private eventNumber(entry: SliceEntry, i: number, session?: number): number {
    if (session === undefined) return i;
    return this.sessions.get(entry.dir)?.event(session, i) ?? i;
  }

  private rangeDescription(entry: SliceEntry, what: Paged, a: number, b: number, session?: number): string {
    const s = entry.slice;
    if (!s || what !== 'events') return '';
    try {
      return windowLabel(s.readEvent(this.eventNumber(entry, a, session)).t, s.readEvent(this.eventNumber(entry, b, session)).t);
    } catch {
      return '';
    }
  }

  private async leaves(entry: SliceEntry, what: Paged, from: number, to: number, session?: number): Promise<SliceNode[]> {
    const s = entry.slice as Slice;
    const out: SliceNode[] = [];
    if (what === 'users' || what === 'items') {
      for (let i = from; i <= to; i++) out.push({ kind: 'record', entry, what: what === 'users' ? 'user' : 'item', index: i - 1 });
      return out;
    }
    if (what === 'sessions') {
      const idx = this.sessions.get(entry.dir);
      for (let i = from; i <= to; i++) {
        const name = idx?.names[i - 1];
        if (idx && name !== undefined) out.push({ kind: 'session', entry, session: name, index: i - 1, count: idx.count(i - 1), first: idx.event(i - 1, 1) ?? 0 });
      }
      return out;
    }
    // A turn of the event loop every ~16k candidates read: a page of 200 events with 1,000
    // candidates each took 165 ms of the editor's thread in one piece.
    const pace = pacer(CANDIDATES_PER_TURN);
    for (let i = from; i <= to; i++) {
      // Dropped meanwhile (the list was refreshed): a closed slice is not read again (it would reopen events.jsonl).
      if (entry.slice !== s) return out;
      const n = this.eventNumber(entry, i, session);
      try {
        const e = s.readEvent(n);
        out.push({ kind: 'event', entry, n, id: e.id, t: e.t, user: e.user, session: e.session, served: e.served, clicks: e.outcome?.clicks ?? [], candidates: e.candidates.length });
        const turn = pace.add(e.candidates.length + 8);
        if (turn) await turn;
      } catch (err) {
        out.push({ kind: 'event', entry, n, id: '?', t: '', user: '', session: undefined, served: [], clicks: [], candidates: 0, error: errorText(err).split('\n')[0] ?? 'unreadable' });
      }
    }
    return out;
  }

  dispose(): void {
    this.sub.dispose();
    this.changed.dispose();
  }
}

function fmtBytes(b: number): string {
  if (b < 1024) return `${b} B`;
  if (b < 1 << 20) return `${fmt(b / 1024)} KB`;
  if (b < 1 << 30) return `${fmt(b / (1 << 20))} MB`;
  return `${fmt(b / (1 << 30))} GB`;
}
