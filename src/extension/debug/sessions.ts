import * as vscode from 'vscode';
import { isAbsolute, join, resolve } from 'node:path';
import { launchPath } from './configProvider';
import { DEBUG_TYPE, METRICS_EVENT, METRIC_SERIES_REQUEST, POSITION_EVENT, THREAD_IDS, type MetricSeriesArguments, type MetricSeriesResponseBody, type MetricsEventBody, type PositionEventBody } from '../../shared/dap';
import type { Marker, MarkerKind } from '../../shared/webview';
import { DisposableStore } from '../disposables';
import { errorText } from '../log';

const MARKED: Partial<Record<string, MarkerKind>> = {
  breakpoint: 'breakpoint',
  'function breakpoint': 'function breakpoint',
  'data breakpoint': 'data breakpoint',
  exception: 'exception',
};

/** Marker of a stop, or undefined for stops that are not hits (steps, pause, goto). */
export function markerOf(p: PositionEventBody): Marker | undefined {
  if (p.state !== 'stopped' || !p.reason) return undefined;
  const kind = MARKED[p.reason];
  if (!kind) return undefined;
  const what = p.fault ? `${p.reason}: ${p.fault}` : p.hitBreakpointIds?.length ? `${p.reason} ${p.hitBreakpointIds.join(', ')}` : p.reason;
  return { event: p.event, kind, label: `${what} at event ${p.event} (${p.eventId})` };
}

/**
 * Snapshots kept per lane. One arrives every 100 ms while a session runs (~4 KB each): an hour of
 * running would keep 36,000. The timeline samples them onto at most a few thousand buckets, so
 * past this many every other one is dropped — the resolution halves, the memory stays bounded.
 */
export const MAX_SNAPSHOTS = 8192;

/** Every other snapshot in event order, always keeping the first and the latest. */
export function thinned(m: ReadonlyMap<number, Record<string, number>>): Map<number, Record<string, number>> {
  const events = [...m.keys()].sort((a, b) => a - b);
  const out = new Map<number, Record<string, number>>();
  events.forEach((e, i) => {
    if (i % 2 === 0 || i === events.length - 1) out.set(e, m.get(e) as Record<string, number>);
  });
  return out;
}

/** One live RecReplay debug session, with its own disposal scope. */
export class ReplaySession {
  readonly scope = new DisposableStore();
  position: PositionEventBody | undefined;
  readonly markers: Marker[] = [];
  /** Cumulative snapshots by lane: event → MetricsAccumulator snapshot after it. */
  readonly snapshots = new Map<string, Map<number, Record<string, number>>>();
  /** Counts the snapshots taken: a timeline redraws when it grew, not only when the furthest event did (a stop after a step back adds one below it). */
  snapshotsTaken = 0;
  /** Highest event with stored metric points, per lane. */
  readonly through = new Map<string, number>();

  constructor(readonly session: vscode.DebugSession) {}

  get config(): vscode.DebugConfiguration {
    return this.session.configuration;
  }

  get compare(): boolean {
    return typeof this.config['baseline'] === 'string';
  }

  /** Lanes of the session, primary last (`replay`, or `baseline` and `candidate`). */
  get lanes(): ('replay' | 'baseline' | 'candidate')[] {
    return this.compare ? ['baseline', 'candidate'] : ['replay'];
  }

  /** The thread breakpoints and goto act on. */
  get primaryThread(): number {
    return this.compare ? THREAD_IDS.candidate : THREAD_IDS.replay;
  }

  get sliceDir(): string | undefined {
    const s = this.config['slice'];
    if (typeof s !== 'string') return undefined;
    // A relative cwd is the workspace folder's, as the adapter reads it. With neither, a relative
    // slice names no folder (the configuration provider refuses one): not the extension host's working folder.
    const folder = this.session.workspaceFolder?.uri.fsPath;
    const set = typeof this.config['cwd'] === 'string' ? (this.config['cwd'] as string) : undefined;
    const cwd = set !== undefined && isAbsolute(set) ? set : folder !== undefined ? resolve(folder, set ?? '.') : undefined;
    if (cwd === undefined && !/^file:\/\//i.test(s) && !isAbsolute(s)) return undefined;
    return launchPath(s, cwd);
  }

  get eventsPath(): string | undefined {
    const d = this.sliceDir;
    return d ? join(d, 'events.jsonl') : undefined;
  }

  /** Moves the replay to event `event` (DAP gotoTargets + goto on the primary thread). */
  async goto(event: number): Promise<void> {
    // The adapter's own path wins: it resolved the slice itself (cwd, symlinks), and gotoTargets
    // only answers for that source.
    const path = this.position?.eventsPath ?? this.eventsPath;
    if (!path) throw new Error('the session has no slice');
    const t = (await this.session.customRequest('gotoTargets', { source: { path }, line: event })) as { targets?: { id: number }[] } | undefined;
    const target = t?.targets?.[0];
    if (!target) throw new Error(`event ${event} is not a place the replay can go to`);
    await this.session.customRequest('goto', { threadId: this.primaryThread, targetId: target.id });
  }

  metricSeries(args: MetricSeriesArguments): Thenable<MetricSeriesResponseBody> {
    return this.session.customRequest(METRIC_SERIES_REQUEST, args) as Thenable<MetricSeriesResponseBody>;
  }

  onPosition(p: PositionEventBody): void {
    this.position = p;
    const m = markerOf(p);
    if (m && !this.markers.some((x) => x.event === m.event && x.kind === m.kind && x.label === m.label)) this.markers.push(m);
  }

  onMetrics(b: MetricsEventBody): void {
    this.through.set(b.lane, Math.max(this.through.get(b.lane) ?? 0, b.through));
    // The snapshot describes the lane's current state: after the current event once it completed.
    const p = this.position;
    const at = p && p.event <= b.through ? (p.stagesDone === 6 ? p.event : p.event - 1) : b.through;
    if (at < 1) return;
    let m = this.snapshots.get(b.lane);
    if (!m) this.snapshots.set(b.lane, (m = new Map()));
    if (Object.keys(b.cumulative).length) {
      m.set(at, b.cumulative);
      this.snapshotsTaken++;
      if (m.size > MAX_SNAPSHOTS) this.snapshots.set(b.lane, thinned(m));
    }
  }
}

/**
 * Keeps track of RecReplay debug sessions and routes their custom events (position, metrics) to
 * whoever listens: the Ranking view, the timeline, the editor decorations.
 */
export class ReplaySessions implements vscode.Disposable {
  private readonly sessions = new Map<string, ReplaySession>();
  private readonly scope = new DisposableStore();
  private readonly positionEmitter = new vscode.EventEmitter<ReplaySession>();
  private readonly metricsEmitter = new vscode.EventEmitter<{ s: ReplaySession; body: MetricsEventBody }>();
  private readonly startEmitter = new vscode.EventEmitter<ReplaySession>();
  private readonly endEmitter = new vscode.EventEmitter<ReplaySession>();
  readonly onPosition = this.positionEmitter.event;
  readonly onMetrics = this.metricsEmitter.event;
  readonly onStart = this.startEmitter.event;
  readonly onEnd = this.endEmitter.event;

  constructor(private readonly log: vscode.LogOutputChannel) {
    this.scope.add(this.positionEmitter);
    this.scope.add(this.metricsEmitter);
    this.scope.add(this.startEmitter);
    this.scope.add(this.endEmitter);
    this.scope.add(vscode.debug.onDidStartDebugSession((s) => this.started(s)));
    this.scope.add(vscode.debug.onDidTerminateDebugSession((s) => this.ended(s)));
    this.scope.add(vscode.debug.onDidReceiveDebugSessionCustomEvent((e) => this.custom(e)));
    for (const s of [vscode.debug.activeDebugSession].filter((x): x is vscode.DebugSession => x !== undefined)) this.started(s);
  }

  /** The session of the focused debug session, or the newest RecReplay session. */
  get active(): ReplaySession | undefined {
    const a = vscode.debug.activeDebugSession;
    if (a && this.sessions.has(a.id)) return this.sessions.get(a.id);
    return [...this.sessions.values()].at(-1);
  }

  get(id: string): ReplaySession | undefined {
    return this.sessions.get(id);
  }

  all(): ReplaySession[] {
    return [...this.sessions.values()];
  }

  private started(s: vscode.DebugSession): void {
    if (s.type !== DEBUG_TYPE || this.sessions.has(s.id)) return;
    const rs = new ReplaySession(s);
    this.sessions.set(s.id, rs);
    this.log.info(`debug session started: ${s.name} (${String(s.configuration['slice'])})`);
    this.startEmitter.fire(rs);
  }

  private ended(s: vscode.DebugSession): void {
    const rs = this.sessions.get(s.id);
    if (!rs) return;
    this.sessions.delete(s.id);
    this.endEmitter.fire(rs);
    rs.scope.dispose();
  }

  private custom(e: vscode.DebugSessionCustomEvent): void {
    const rs = this.sessions.get(e.session.id);
    if (!rs) return;
    try {
      if (e.event === POSITION_EVENT) {
        rs.onPosition(e.body as PositionEventBody);
        this.positionEmitter.fire(rs);
      } else if (e.event === METRICS_EVENT) {
        const body = e.body as MetricsEventBody;
        rs.onMetrics(body);
        this.metricsEmitter.fire({ s: rs, body });
      }
    } catch (err) {
      this.log.error(`handling ${e.event} failed: ${errorText(err)}`);
    }
  }

  dispose(): void {
    for (const s of this.sessions.values()) s.scope.dispose();
    this.sessions.clear();
    this.scope.dispose();
  }
}
