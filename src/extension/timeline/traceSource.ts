import { createHash } from 'node:crypto';
import * as vscode from 'vscode';
import { closeSync, openSync, readSync } from 'node:fs';
import { basename, dirname, isAbsolute, resolve } from 'node:path';
import { isWithin } from '../../core/dirs';
import { insideFolders } from '../debug/configProvider';
import { SERIES_BY_ID, absences, type HostMessage, type LaneData, type TimelineMode, type WebviewMessage } from '../../shared/webview';
import type { TimelineSource } from './panel';
import { StreamBuckets } from './buckets';
import { FAULT_MASK_KINDS } from './traceMetrics';
import { summaryRows } from './summary';
import { TraceCancelled, notRegularTrace, readTraceTimeline, traceFileOf, type TraceTimeline } from './traceReader';
import { withProgress } from '../notify';

const CUMULATIVE_ONLY = new Set([...SERIES_BY_ID.values()].filter((s) => s.cumulativeOnly).map((s) => s.id));
/** Series read from the slice a trace replayed (the trace itself does not hold them): the catalogue's, and for a recreplay.trace/1 trace the recorded system figures. */
const SLICE_ONLY = new Set(['coverage', 'gini_exposure']);
const SLICE_ONLY_BEFORE_V2 = new Set([...SLICE_ONLY, 'cache_hit_rate', 'queue_depth']);

/**
 * Whether the timeline may read the slice a trace's run.json names: anywhere in a trusted
 * workspace; in an untrusted one only inside its folders (checked as written before the path is
 * touched — a network path is not even looked up — then with links followed).
 */
export function sliceAllowed(path: string, trusted = vscode.workspace.isTrusted, folders: readonly string[] = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath)): string | undefined {
  if (trusted) return undefined;
  const inside = isAbsolute(path) && folders.some((f) => isWithin(resolve(f), resolve(path)));
  if (inside && insideFolders(path, folders)) return undefined;
  return 'it lies outside this workspace, which is not trusted (trust the workspace, or open the trace in the slice\'s own)';
}

/** A short name for a trace: its folder, which is what `--trace DIR` named. */
export function traceName(path: string): string {
  const file = traceFileOf(path);
  return basename(dirname(file));
}

/**
 * Finished runs on the timeline: one trace, or two overlaid (Compare Runs). Traces are streamed
 * with progress and cancellation; each lane keeps only its buckets.
 */
export class TraceTimelineSource implements TimelineSource {
  private runs: TraceTimeline[] | undefined;
  private loading: Promise<TraceTimeline[] | undefined> | undefined;
  private mode: TimelineMode;
  /** The read in progress, if any: one per load, so a cancelled read does not cancel the next. */
  private cts: vscode.CancellationTokenSource | undefined;
  /** What the panel says about the runs once read (missing series, a comparison's caveats). */
  private note = '';

  constructor(
    readonly paths: string[],
    private readonly capacity: number,
    mode: TimelineMode,
  ) {
    this.mode = mode;
  }

  get title(): string {
    return this.paths.length === 1 ? `Timeline: ${traceName(this.paths[0] as string)}` : `Compare: ${this.paths.map(traceName).join(' vs ')}`;
  }

  private load(post: (m: HostMessage) => void): Promise<TraceTimeline[] | undefined> {
    this.loading ??= (async () => {
      this.cts?.dispose();
      const cts = (this.cts = new vscode.CancellationTokenSource());
      const out: TraceTimeline[] = [];
      // Both lanes of a comparison start with one bucket size so their buckets line up: the size
      // of the larger (taken from the first trace alone, a 100-event A and a 1,000-event B ended
      // with buckets of 2 and 16 events).
      const headerEvents = this.paths.length > 1 ? this.paths.map(headerEventsOf).filter((n): n is number => n !== undefined) : [];
      let size: number | undefined = headerEvents.length ? StreamBuckets.sizeFor(Math.max(...headerEvents), this.capacity) : undefined;
      await withProgress({ location: vscode.ProgressLocation.Notification, title: 'RecReplay: reading trace', cancellable: true }, async (progress, token) => {
        token.onCancellationRequested(() => cts.cancel());
        for (const [i, p] of this.paths.entries()) {
          let last = 0;
          const t = await readTraceTimeline(p, {
            capacity: this.capacity,
            ...(size !== undefined ? { initialBucketSize: size } : {}),
            // Lanes of a comparison share one bucket size: sized for the slice, as both are.
            ...(this.paths.length > 1 ? { sizeForSlice: true } : {}),
            isCancelled: () => cts.token.isCancellationRequested,
            sliceAllowed: (p) => sliceAllowed(p),
            onProgress: (f) => {
              const pct = Math.floor(f * 100);
              if (pct === last) return;
              progress.report({ increment: (pct - last) / this.paths.length, message: `${traceName(p)} ${pct}%` });
              post({ type: 'status', text: `Reading ${traceName(p)}: ${pct}%`, busy: true });
              last = pct;
            },
          });
          size ??= StreamBuckets.sizeFor(Math.max(t.header.events, t.events), this.capacity);
          out.push(t);
          if (i === 0 && this.paths.length > 1) post({ type: 'status', text: `Read ${traceName(p)}; reading the second trace…`, busy: true });
        }
      });
      return out;
    })();
    return this.loading;
  }

  async replay(post: (m: HostMessage) => void): Promise<void> {
    const compare = this.paths.length > 1;
    post({ type: 'init', title: this.title, source: compare ? 'compare' : 'trace', view: `trace:${createHash('sha256').update(this.paths.join('\n')).digest('hex')}`, eventCount: 0, live: false, faultKinds: [...FAULT_MASK_KINDS], mode: this.mode, restore: this.paths });
    post({ type: 'status', text: 'Reading the trace…', busy: true });
    try {
      this.runs ??= await this.load(post);
    } catch (e) {
      this.loading = undefined;
      // Cancelled by the user: say so in the panel; showing it again (or reopening) reads anew.
      if (e instanceof TraceCancelled) return void post({ type: 'status', text: 'Reading the trace was cancelled: reopen the timeline to read it again.', busy: false });
      throw e;
    }
    if (!this.runs) return;
    this.sendData(post);
    const notes = this.runs.map((r) => r.sliceNote).filter((n): n is string => n !== undefined);
    const missing = notes.length ? `Some series are missing: ${[...new Set(notes)].join('; ')}` : '';
    const apart = compare ? comparisonNote(this.runs) : '';
    this.note = [apart, missing].filter((t) => t !== '').join(' ');
    post({ type: 'status', text: this.note, busy: false });
    if (compare) post({ type: 'summary', columns: this.paths.map(traceName), rows: summaryRows(this.runs) });
    const markers = this.runs.flatMap((r) => [...r.faults].map(([kind, f]) => ({ event: f.first, kind: 'fault' as const, label: `first ${kind} (${f.count}×) in ${traceName(r.path)}` })));
    post({ type: 'markers', markers });
  }

  private sendData(post: (m: HostMessage) => void): void {
    const runs = this.runs ?? [];
    const lanes: LaneData[] = runs.map((r, i) => {
      const lane = r.buckets.toLane(
        this.mode,
        { id: runs.length > 1 ? (i === 0 ? 'a' : 'b') : 'run', label: runs.length > 1 ? `${i === 0 ? 'A' : 'B'}: ${traceName(r.path)} (${r.header.ranker.kind})` : `${traceName(r.path)} (${r.header.ranker.kind})`, dashed: runs.length > 1 && i === 0 },
        this.mode === 'event' ? CUMULATIVE_ONLY : new Set(),
      );
      // A series with no value says why: the run never defined it, or it needs the slice, which was not read.
      return { ...lane, absent: absences(lane.series, this.mode, (id) => (r.sliceNote !== undefined && (r.systemInTrace ? SLICE_ONLY : SLICE_ONLY_BEFORE_V2).has(id) ? r.sliceNote : undefined)) };
    });
    const eventCount = Math.max(0, ...runs.map((r) => Math.max(r.header.events, r.events)));
    post({ type: 'data', mode: this.mode, lanes, eventCount });
  }

  handle(m: WebviewMessage, post: (m: HostMessage) => void): void {
    if (m.type === 'setMode') {
      this.mode = m.mode;
      if (this.runs) {
        this.sendData(post);
        // The webview said "Loading…" over it: the note holds for either mode.
        if (this.note) post({ type: 'status', text: this.note, busy: false });
      }
    } else if (m.type === 'goto') {
      post({ type: 'status', text: `This timeline shows a finished run: start a debug session of the slice to go to event ${m.event}.`, busy: false });
    }
  }

  dispose(): void {
    this.cts?.cancel();
    this.cts?.dispose();
  }
}

/**
 * What a comparison's user must know to read it, or '': the two lanes are matched by event number,
 * which pairs nothing when the traces replayed different slices (or a slice changed since), and a run
 * that stopped early (--break, a debug session ended midway) has final metrics over fewer events
 * than the other's. Both were drawn and tabled side by side without a word.
 */
export function comparisonNote(runs: readonly TraceTimeline[]): string {
  const [a, b] = runs;
  if (!a || !b) return '';
  const parts: string[] = [];
  if (a.header.sliceManifestSha256 !== b.header.sliceManifestSha256) {
    const named = a.header.slice === b.header.slice ? `two versions of the slice ${a.header.slice} (their manifests differ)` : `different slices (A: ${a.header.slice}, B: ${b.header.slice})`;
    parts.push(`A and B replayed ${named}: their events are matched by number only, and event n of one is not event n of the other.`);
  }
  // The events each trace holds: a run stopped early (--break, a session ended midway) has fewer.
  const short = [a, b].map((r, i) => ({ r, name: i === 0 ? 'A' : 'B' })).filter(({ r }) => r.events < r.header.events);
  if (short.length && a.events !== b.events) {
    const held = short.map(({ r, name }) => `${name} holds ${r.events} of its slice's ${r.header.events} events (the last is event ${r.buckets.through})`).join(' and ');
    parts.push(`${held}: the final metrics are over ${a.events} events for A and ${b.events} for B.`);
  }
  return parts.join(' ');
}

/** The "events" of a trace's header line, read from its first MiB alone; undefined when it does not say. */
function headerEventsOf(path: string): number | undefined {
  let fd: number | undefined;
  try {
    const file = traceFileOf(path);
    // Opening a named pipe for reading blocks this (the editor's) thread until a writer comes.
    if (notRegularTrace(file)) return undefined;
    fd = openSync(file, 'r');
    const buf = Buffer.alloc(1 << 20);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const nl = buf.subarray(0, n).indexOf(10);
    const h = JSON.parse(buf.toString('utf8', 0, nl < 0 ? n : nl)) as { events?: unknown };
    return Number.isInteger(h.events) && (h.events as number) > 0 ? (h.events as number) : undefined;
  } catch {
    // Read as the trace is read, which says what is wrong with it.
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
