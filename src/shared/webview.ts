/**
 * The typed message protocol between the extension host and the timeline webview. One union per
 * direction; the receiving side checks every message with the parse functions below, because a
 * webview message is untyped data at runtime. Documented in docs/editor.md ("Timeline").
 */
import type { LaneDelta } from './laneDelta';

/** How values are aggregated over replay time. */
export type TimelineMode = 'cumulative' | 'event';
export const TIMELINE_MODES: readonly TimelineMode[] = ['cumulative', 'event'];

/** Groups of the timeline, one chart each, in display order. */
export const SERIES_GROUPS = [
  { id: 'relevance', label: 'Relevance' },
  { id: 'engagement', label: 'Engagement' },
  { id: 'diversity', label: 'Diversity & exposure' },
  { id: 'divergence', label: 'Divergence from recorded' },
  { id: 'latency', label: 'Latency (ms)' },
  { id: 'system', label: 'System' },
] as const;
export type SeriesGroup = (typeof SERIES_GROUPS)[number]['id'];

export interface SeriesInfo {
  id: string;
  label: string;
  group: SeriesGroup;
  /** Shown on first open; the others start hidden. */
  visible: boolean;
  /** What a point means, for the legend tooltip. */
  doc: string;
  /** Only defined cumulatively (coverage, Gini): absent in per-event mode. */
  cumulativeOnly?: boolean;
  /** Drawn against a second y axis on the right: its unit differs from the group's rates. */
  rightAxis?: boolean;
  /** Why a run can have no value of it at all (what it needs at an event): said instead of drawing nothing. */
  needs: string;
}

const STAGE_NAMES = ['retrieve', 'features', 'score', 'rerank', 'serve', 'outcome'] as const;

/** Every series the timeline knows, keyed like the MetricsAccumulator snapshot where one exists. */
export const SERIES: readonly SeriesInfo[] = [
  { id: 'hit_rate', label: 'Hit rate@k', group: 'relevance', visible: true, doc: 'share of events with a recorded click whose clicked item was served in the top k', needs: 'no replayed event had a recorded click (it is defined on events with one)' },
  { id: 'mrr', label: 'MRR@k', group: 'relevance', visible: false, doc: 'reciprocal rank of the first clicked item in the served slate', needs: 'no replayed event had a recorded click (it is defined on events with one)' },
  { id: 'ndcg', label: 'NDCG@k', group: 'relevance', visible: true, doc: 'binary-gain NDCG of the served slate', needs: 'no replayed event had a recorded click (it is defined on events with one)' },
  { id: 'ctr', label: 'CTR', group: 'engagement', visible: true, doc: 'replay clicks / served slots', needs: 'no replayed event served an item' },
  { id: 'diversity', label: 'Diversity@k (ILD)', group: 'diversity', visible: true, doc: 'intra-list diversity of the served slate (share of category-distinct pairs)', needs: 'no replayed event served two items or more' },
  { id: 'novelty', label: 'Novelty@k', group: 'diversity', visible: false, doc: '−log2 exposure share of served items (bits, right axis)', rightAxis: true, needs: 'no replayed event served an item' },
  { id: 'coverage', label: 'Coverage@k', group: 'diversity', visible: true, doc: 'distinct catalogue items served so far / catalogue size', cumulativeOnly: true, needs: 'no replayed event served a catalogue item' },
  { id: 'gini_exposure', label: 'Gini of exposure', group: 'diversity', visible: true, doc: 'inequality of exposure over the whole catalogue (0 = even)', cumulativeOnly: true, needs: 'the catalogue is empty' },
  { id: 'overlap', label: 'Top-k overlap', group: 'divergence', visible: true, doc: '|served ∩ recorded top k| / k', needs: 'no replayed event reached the serve stage' },
  { id: 'kendall_tau', label: 'Kendall tau', group: 'divergence', visible: false, doc: 'rank correlation of the replayed and recorded orders', needs: 'no replayed event ranked two scored items that the recorded ranking also holds' },
  { id: 'latency.total', label: 'total', group: 'latency', visible: true, doc: 'simulated latency of the event (sum of stages); p99 when cumulative', needs: 'no replayed event recorded a latency' },
  ...STAGE_NAMES.map((s) => ({ id: `latency.${s}`, label: s, group: 'latency' as const, visible: s === 'score', doc: `simulated latency of the ${s} stage; p99 when cumulative`, needs: `no replayed event recorded a ${s} latency` })),
  { id: 'fallback_rate', label: 'Fallback rate', group: 'system', visible: true, doc: 'share of events where the fallback ranking was served', needs: 'no replayed event reached the serve stage' },
  { id: 'cache_hit_rate', label: 'Cache hit rate', group: 'system', visible: false, doc: 'recorded cache hits / lookups', needs: 'no replayed event recorded cache hits and misses (system.cache)' },
  { id: 'queue_depth', label: 'Queue depth', group: 'system', visible: false, doc: 'recorded queue depth at the event (not averaged when cumulative; right axis)', rightAxis: true, needs: 'no replayed event recorded a queue depth (system.queueDepth)' },
];
export type SeriesId = string;

export const SERIES_BY_ID: ReadonlyMap<string, SeriesInfo> = new Map(SERIES.map((s) => [s.id, s]));

/** Values of one series per bucket: the value drawn (mean or running value), and its range in the bucket. */
export interface SeriesData {
  v: (number | null)[];
  lo: (number | null)[];
  hi: (number | null)[];
}

/** One line of the chart: a replay lane of a session, or one trace of a comparison. */
export interface LaneData {
  /** `replay`, `baseline`, `candidate` (sessions), `run` / `a` / `b` (traces). */
  id: string;
  label: string;
  /** Drawn dashed: the baseline of a comparison. */
  dashed: boolean;
  /** Last event of each bucket (1-based event numbers, ascending). */
  x: number[];
  /** Events per bucket when the lane was bucketed. */
  bucketSize: number;
  series: Record<SeriesId, SeriesData>;
  /** Per bucket: bit i set when fault kind `faultKinds[i]` occurred in it (traces only). */
  faultMask: number[];
  /**
   * Per bucket: the first and last event with a fault (0 where none). A bucket's events need not
   * all have been traced (a trace that skips events, one that starts late): its tick spans these
   * alone. Without them a tick spans the bucket's own events, never the untraced ones before it.
   */
  faultFrom?: number[];
  faultTo?: number[];
  /** Why each series with no value in this lane has none (a series left out of `series` draws nothing, which must not pass for a gap or a 0). */
  absent?: Record<SeriesId, Absence>;
}

/**
 * A series without a single value in a lane: `undefined` when the run never defines it (no event
 * had what it needs), `unavailable` when the values exist but this source cannot give them (the
 * trace's slice is not at hand, a debug session keeps no per-event value of it).
 */
export interface Absence {
  kind: 'undefined' | 'unavailable';
  why: string;
}

/**
 * Why each series that `series` lacks has no value, for LaneData.absent: `unavailable(id)` names
 * why a source cannot give a series; otherwise the run never defined it (SeriesInfo.needs).
 * Cumulative-only series are left out per event (the webview says so itself).
 */
export function absences(series: Readonly<Record<string, SeriesData>>, mode: TimelineMode, unavailable: (id: string) => string | undefined = () => undefined): Record<SeriesId, Absence> {
  const out: Record<SeriesId, Absence> = {};
  for (const s of SERIES) {
    if (series[s.id] || (mode === 'event' && s.cumulativeOnly)) continue;
    const why = unavailable(s.id);
    out[s.id] = why !== undefined ? { kind: 'unavailable', why } : { kind: 'undefined', why: s.needs };
  }
  return out;
}

export type MarkerKind = 'breakpoint' | 'exception' | 'data breakpoint' | 'function breakpoint' | 'fault';

/** A vertical marker: a breakpoint hit or a detected fault at an event. */
export interface Marker {
  event: number;
  kind: MarkerKind;
  label: string;
}

export interface SummaryRow {
  metric: string;
  values: (number | null)[];
}

export type HostMessage =
  /**
   * `view` names what the panel shows (a debug session, a trace or two): the session panel is
   * reused for the next session, whose events the last one's zoom need not cover; a panel shown
   * again gets the same view, and keeps its zoom.
   */
  | { type: 'init'; title: string; source: 'session' | 'trace' | 'compare'; view: string; eventCount: number; live: boolean; faultKinds: string[]; mode: TimelineMode; restore: string[] | null }
  /** `seq`: a live session numbers its data messages, so a `dataFrom` names the one it builds on. */
  | { type: 'data'; mode: TimelineMode; lanes: LaneData[]; eventCount: number; seq?: number }
  /** The lanes of data message `base`, each from its bucket `from` on (laneDelta.ts); the webview asks for `resync` when it does not hold `base`. */
  | { type: 'dataFrom'; mode: TimelineMode; lanes: LaneDelta[]; eventCount: number; seq: number; base: number }
  /** `mode`: the mode the values are of (a tail posted before the host heard of a mode switch is of the other). */
  /** `faults`: events of the tail that raised faults, each with its mask (bits of the init message's faultKinds). */
  | { type: 'tail'; lane: string; mode: TimelineMode; points: { event: number; values: Record<SeriesId, number | null> }[]; faults?: { event: number; mask: number }[] }
  | { type: 'position'; event: number; state: 'stopped' | 'running'; eventCount: number }
  | { type: 'markers'; markers: Marker[] }
  | { type: 'status'; text: string; busy: boolean }
  | { type: 'summary'; columns: string[]; rows: SummaryRow[] }
  | { type: 'live'; live: boolean }
  | { type: 'exported'; format: 'csv' | 'png'; path: string };

export type WebviewMessage =
  | { type: 'ready' }
  | { type: 'goto'; event: number }
  | { type: 'setMode'; mode: TimelineMode }
  /** The webview could not apply a `dataFrom` (it does not hold the data it builds on): the whole data, please. */
  | { type: 'resync' }
  | { type: 'export'; format: 'csv'; text: string; name: string }
  | { type: 'export'; format: 'png'; dataUrl: string; name: string }
  | { type: 'error'; message: string };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isPosInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 1;
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isStr = (v: unknown, max = 1 << 26): v is string => typeof v === 'string' && v.length <= max;
const isName = (v: unknown): v is string => isStr(v, 200) && /^[\w .@()-]+$/.test(v);

/** Checks a message from the webview; undefined for anything malformed (it is logged, never trusted). */
export function parseWebviewMessage(raw: unknown): WebviewMessage | undefined {
  if (!isObj(raw)) return undefined;
  switch (raw['type']) {
    case 'ready':
      return { type: 'ready' };
    case 'resync':
      return { type: 'resync' };
    case 'goto':
      return isPosInt(raw['event']) ? { type: 'goto', event: raw['event'] } : undefined;
    case 'setMode':
      return TIMELINE_MODES.includes(raw['mode'] as TimelineMode) ? { type: 'setMode', mode: raw['mode'] as TimelineMode } : undefined;
    case 'export': {
      const name = raw['name'];
      if (!isName(name)) return undefined;
      if (raw['format'] === 'csv' && isStr(raw['text'])) return { type: 'export', format: 'csv', text: raw['text'], name };
      if (raw['format'] === 'png' && isStr(raw['dataUrl']) && raw['dataUrl'].startsWith('data:image/png;base64,')) return { type: 'export', format: 'png', dataUrl: raw['dataUrl'], name };
      return undefined;
    }
    case 'error':
      return isStr(raw['message'], 10_000) ? { type: 'error', message: raw['message'] } : undefined;
    default:
      return undefined;
  }
}

// Plain loops: a lane can hold a million values per array, and this runs on every data message.
function numArray(v: unknown): v is number[] {
  if (!Array.isArray(v)) return false;
  for (let i = 0; i < v.length; i++) if (typeof v[i] !== 'number') return false;
  return true;
}
function numOrNullArray(v: unknown, checked?: WeakSet<object>): v is (number | null)[] {
  if (!Array.isArray(v)) return false;
  // Structured clone keeps shared arrays shared (a raw series sends one array as v, lo and hi).
  if (checked?.has(v)) return true;
  for (let i = 0; i < v.length; i++) {
    const x: unknown = v[i];
    if (x !== null && typeof x !== 'number') return false;
  }
  checked?.add(v);
  return true;
}

function isLane(v: unknown): v is LaneData {
  if (!isObj(v) || !isStr(v['id'], 100) || !isStr(v['label'], 500) || typeof v['dashed'] !== 'boolean') return false;
  if (!numArray(v['x']) || typeof v['bucketSize'] !== 'number' || !numArray(v['faultMask']) || !isObj(v['series'])) return false;
  const n = v['x'].length;
  for (const k of ['faultFrom', 'faultTo'] as const) if (v[k] !== undefined && (!numArray(v[k]) || v[k].length !== n)) return false;
  const absent = v['absent'];
  if (absent !== undefined && !(isObj(absent) && Object.values(absent).every((a) => isObj(a) && (a['kind'] === 'undefined' || a['kind'] === 'unavailable') && isStr(a['why'], 2000)))) return false;
  const checked = new WeakSet<object>();
  return Object.values(v['series']).every((s) => isObj(s) && numOrNullArray(s['v'], checked) && numOrNullArray(s['lo'], checked) && numOrNullArray(s['hi'], checked) && s['v'].length === n && s['lo'].length === n && s['hi'].length === n);
}

/** A text cut to `max` characters (an ellipsis last), as the webview's checks below allow it. */
function cut(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

function fitLane<L extends LaneData>(l: L): L {
  return { ...l, label: cut(l.label, 500), ...(l.absent ? { absent: Object.fromEntries(Object.entries(l.absent).map(([id, a]) => [id, { ...a, why: cut(a.why, 2000) }])) } : {}) };
}

/**
 * A host message cut to what parseHostMessage accepts: the title, lane labels, marker labels,
 * metric names and status text come from slices and paths of any length, and a message over a
 * limit was dropped whole by the webview (a panel left without its title, data or status).
 */
export function fitHostMessage(m: HostMessage): HostMessage {
  switch (m.type) {
    case 'init':
      return { ...m, title: cut(m.title, 500) };
    case 'data':
      return { ...m, lanes: m.lanes.map(fitLane) };
    case 'dataFrom':
      return { ...m, lanes: m.lanes.map(fitLane) };
    case 'markers':
      return { ...m, markers: m.markers.map((x) => ({ ...x, label: cut(x.label, 500) })) };
    case 'status':
      return { ...m, text: cut(m.text, 2000) };
    case 'summary':
      return { ...m, rows: m.rows.map((r) => ({ ...r, metric: cut(r.metric, 200) })) };
    default:
      return m;
  }
}

/** Checks a message from the host (the webview side); undefined for anything it does not understand. */
export function parseHostMessage(raw: unknown): HostMessage | undefined {
  if (!isObj(raw)) return undefined;
  const m = raw;
  switch (m['type']) {
    case 'init':
      return isStr(m['title'], 500) && ['session', 'trace', 'compare'].includes(m['source'] as string) && isStr(m['view'], 200) && typeof m['eventCount'] === 'number' && typeof m['live'] === 'boolean' && Array.isArray(m['faultKinds']) && TIMELINE_MODES.includes(m['mode'] as TimelineMode) && (m['restore'] === null || (Array.isArray(m['restore']) && m['restore'].every((p) => isStr(p, 4096))))
        ? (m as HostMessage)
        : undefined;
    case 'data':
      return TIMELINE_MODES.includes(m['mode'] as TimelineMode) && Array.isArray(m['lanes']) && m['lanes'].every(isLane) && typeof m['eventCount'] === 'number' && (m['seq'] === undefined || isCount(m['seq'])) ? (m as HostMessage) : undefined;
    case 'dataFrom':
      return TIMELINE_MODES.includes(m['mode'] as TimelineMode) && Array.isArray(m['lanes']) && m['lanes'].every((l) => isObj(l) && isCount(l['from']) && isLane(l)) && typeof m['eventCount'] === 'number' && isCount(m['seq']) && isCount(m['base']) ? (m as HostMessage) : undefined;
    case 'tail':
      return isStr(m['lane'], 100) && TIMELINE_MODES.includes(m['mode'] as TimelineMode) && Array.isArray(m['points']) && m['points'].every((p) => isObj(p) && isPosInt(p['event']) && isObj(p['values'])) && (m['faults'] === undefined || (Array.isArray(m['faults']) && m['faults'].every((f) => isObj(f) && isPosInt(f['event']) && isPosInt(f['mask'])))) ? (m as HostMessage) : undefined;
    case 'position':
      return isPosInt(m['event']) && (m['state'] === 'stopped' || m['state'] === 'running') && typeof m['eventCount'] === 'number' ? (m as HostMessage) : undefined;
    case 'markers':
      return Array.isArray(m['markers']) && m['markers'].every((x) => isObj(x) && isPosInt(x['event']) && isStr(x['kind'], 50) && isStr(x['label'], 500)) ? (m as HostMessage) : undefined;
    case 'status':
      return isStr(m['text'], 2000) && typeof m['busy'] === 'boolean' ? (m as HostMessage) : undefined;
    case 'summary':
      return Array.isArray(m['columns']) && Array.isArray(m['rows']) && m['rows'].every((r) => isObj(r) && isStr(r['metric'], 200) && numOrNullArray(r['values'])) ? (m as HostMessage) : undefined;
    case 'live':
      return typeof m['live'] === 'boolean' ? (m as HostMessage) : undefined;
    case 'exported':
      return (m['format'] === 'csv' || m['format'] === 'png') && isStr(m['path'], 4096) ? (m as HostMessage) : undefined;
    default:
      return undefined;
  }
}
