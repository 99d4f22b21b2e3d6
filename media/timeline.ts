/**
 * The timeline webview (browser only). It talks to the extension host only through the typed
 * messages of src/shared/webview.ts, keeps its UI state with getState/setState so a hidden and
 * re-shown panel comes back as it was, and draws with uPlot: one chart per series group, cursors
 * and zoom synced, every series min/max-downsampled to the canvas width over the visible x range
 * (re-downsampled at every zoom, so a zoomed chart draws all the detail the host sent).
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import './timeline.css';
import { SERIES, SERIES_GROUPS, parseHostMessage, type HostMessage, type LaneData, type Marker, type SeriesData, type SeriesInfo, type SummaryRow, type TimelineMode } from '../src/shared/webview';
import { applyDataFrom, type HeldData } from '../src/shared/laneDelta';
import { overlayPlugin } from './overlay';
import { chartsPng, renderSummary } from './report';
import { colorOf, css, fmt, withAlpha } from './theme';
import { buildCsv, capTail, chartSeries, faultNames, findFaults, fitWindow, mergeTail, tailFaults, tailsBeyond, unionX, type FaultSpan, type Tail } from './timelineData';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

interface UiState {
  mode: TimelineMode;
  hidden: string[];
  shown: string[];
  zoom: [number, number] | null;
  showRange: boolean;
  restore: string[] | null;
  /** What the panel showed when the state was saved (the init message's `view`). */
  view: string | null;
}

const vscode = acquireVsCodeApi();
const saved = (vscode.getState() ?? {}) as Partial<UiState>;
const ui: UiState = {
  mode: saved.mode === 'event' ? 'event' : 'cumulative',
  hidden: Array.isArray(saved.hidden) ? saved.hidden : [],
  shown: Array.isArray(saved.shown) ? saved.shown : [],
  zoom: Array.isArray(saved.zoom) && saved.zoom.length === 2 ? saved.zoom : null,
  showRange: saved.showRange ?? true,
  restore: saved.restore ?? null,
  view: typeof saved.view === 'string' ? saved.view : null,
};
const save = () => vscode.setState(ui);
const post = (m: unknown) => vscode.postMessage(m);

let title = 'Timeline';
let live = false;
let eventCount = 0;
let lanes: LaneData[] = [];
/** A live session's last data, by its number, for the next dataFrom to build on; and whether a resync was asked since. */
let held: HeldData | undefined;
let resyncAsked = false;
let tails = new Map<string, Tail>();
let markers: Marker[] = [];
let faultKinds: string[] = [];
let cursorEvent: number | undefined;
let summary: { columns: string[]; rows: SummaryRow[] } | undefined;
let charts: uPlot[] = [];
let faultSpans: FaultSpan[] = [];
/** The lanes' fault ticks, found once per data message (the tails' are added at each tail). */
let laneFaults: FaultSpan[] = [];

/** The ticks drawn: the lanes' and their live tails'. */
function setFaultSpans(): void {
  faultSpans = [...laneFaults, ...tailFaults(tails, lanes)];
  app.dataset['faults'] = String(faultSpans.length);
}
let restoredMode = saved.mode !== undefined;

const app = document.getElementById('app') as HTMLElement;
app.innerHTML = `
<header class="toolbar" role="toolbar" aria-label="Timeline">
  <span class="title" data-testid="title"></span>
  <span class="seg" role="radiogroup" aria-label="Values">
    <button data-testid="mode-cumulative" data-mode="cumulative" role="radio">Cumulative</button>
    <button data-testid="mode-event" data-mode="event" role="radio">Per event</button>
  </span>
  <label class="check"><input type="checkbox" data-testid="show-range"> range</label>
  <button data-testid="reset-zoom" title="Show every event (or double-click a chart)">Reset zoom</button>
  <button data-testid="export-csv" title="Export the visible series as CSV">CSV</button>
  <button data-testid="export-png" title="Export the charts as PNG">PNG</button>
  <span class="live" data-testid="live"></span>
</header>
<div class="status" data-testid="status" role="status"></div>
<div class="body">
  <nav class="series" data-testid="series"></nav>
  <main class="charts" data-testid="charts"></main>
</div>
<section class="summary" data-testid="summary" hidden></section>`;
const $ = <T extends HTMLElement>(sel: string) => app.querySelector(sel) as T;
const statusEl = $<HTMLElement>('.status');
const seriesEl = $<HTMLElement>('.series');
const chartsEl = $<HTMLElement>('.charts');

function isVisible(s: SeriesInfo): boolean {
  return ui.hidden.includes(s.id) ? false : ui.shown.includes(s.id) || s.visible;
}

function setStatus(text: string, busy = false): void {
  statusEl.textContent = text;
  statusEl.classList.toggle('busy', busy);
  statusEl.hidden = text === '';
}

function renderToolbar(): void {
  $<HTMLElement>('.title').textContent = title;
  for (const b of app.querySelectorAll<HTMLButtonElement>('[data-mode]')) {
    const on = b.dataset['mode'] === ui.mode;
    b.classList.toggle('on', on);
    b.setAttribute('aria-checked', String(on));
  }
  $<HTMLInputElement>('[data-testid=show-range]').checked = ui.showRange;
  $<HTMLInputElement>('[data-testid=show-range]').disabled = ui.mode !== 'event';
  $<HTMLElement>('.live').textContent = live ? '● live: click a chart to go to that event' : '';
}

/** Which series have data in any lane (the others are listed greyed out). */
function present(): Set<string> {
  const ids = new Set<string>();
  for (const l of lanes) for (const id of Object.keys(l.series)) ids.add(id);
  // A tail point names every series, null where it has no value: only values count.
  for (const t of tails.values()) for (const [id, vals] of t.series) if (vals.some((v) => v !== null)) ids.add(id);
  return ids;
}

/**
 * Why a series with no value in any lane draws nothing, as a short label and the host's reasons:
 * "no values in this run" (never defined: a line at 0 would be a value) or "not available" (this
 * source cannot give it); undefined when the host said nothing about it.
 */
function absenceOf(s: SeriesInfo): { short: string; why: string } | undefined {
  if (ui.mode === 'event' && s.cumulativeOnly) return { short: 'cumulative only', why: 'defined over the run so far, not per event: switch to Cumulative' };
  const said = lanes.flatMap((l) => {
    const a = l.absent?.[s.id];
    return a ? [{ lane: l, a }] : [];
  });
  if (said.length === 0) return undefined;
  const whys = [...new Set(said.map(({ lane, a }) => (lanes.length > 1 ? `${lane.label}: ${a.why}` : a.why)))];
  return { short: said.some(({ a }) => a.kind === 'unavailable') ? 'not available' : 'no values in this run', why: whys.join('; ') };
}

function renderSeriesList(): void {
  const have = present();
  seriesEl.replaceChildren();
  for (const g of SERIES_GROUPS) {
    const box = document.createElement('fieldset');
    const legend = document.createElement('legend');
    legend.textContent = g.label;
    box.append(legend);
    for (const s of SERIES.filter((x) => x.group === g.id)) {
      const label = document.createElement('label');
      label.className = 'toggle';
      const absent = have.has(s.id) ? undefined : absenceOf(s);
      label.title = s.doc + (have.has(s.id) ? '' : absent ? ` — ${absent.short}: ${absent.why}` : ' — no data in this source');
      const input = document.createElement('input');
      input.type = 'checkbox';
      input.checked = isVisible(s);
      input.dataset['testid'] = `toggle-${s.id}`;
      input.addEventListener('change', () => {
        ui.hidden = ui.hidden.filter((x) => x !== s.id);
        ui.shown = ui.shown.filter((x) => x !== s.id);
        (input.checked ? ui.shown : ui.hidden).push(s.id);
        save();
        renderCharts();
      });
      const swatch = document.createElement('span');
      swatch.className = 'swatch';
      swatch.style.background = colorOf(s);
      label.append(input, swatch, document.createTextNode(s.label));
      if (!have.has(s.id)) label.classList.add('empty');
      if (absent) {
        const why = document.createElement('span');
        why.className = 'why';
        why.dataset['testid'] = `why-${s.id}`;
        why.textContent = absent.short;
        label.append(why);
      }
      box.append(label);
    }
    seriesEl.append(box);
  }
}

interface Line {
  lane: LaneData;
  info: SeriesInfo;
}

/** Per chart: draws its series for an x window (downsampled anew), keeping that window. */
const refits = new Map<uPlot, (min: number, max: number) => void>();
let syncingScale = false;
let pendingZoom: [number, number] | undefined;
function onScale(u: uPlot, key: string): void {
  if (key !== 'x' || syncingScale) return;
  const { min, max } = u.scales['x'] ?? {};
  if (min === undefined || max === undefined || min === null || max === null) return;
  const full = fullRange();
  ui.zoom = full && min <= full[0] && max >= full[1] ? null : [min, max];
  save();
  // Every chart (this one too) is re-downsampled over the new window once uPlot has finished
  // this scale change: its data cannot be replaced from inside its own setScale hook.
  if (!pendingZoom) queueMicrotask(applyZoom);
  pendingZoom = [min, max];
}

function applyZoom(): void {
  const z = pendingZoom;
  pendingZoom = undefined;
  if (!z) return;
  syncingScale = true;
  try {
    for (const c of charts) refits.get(c)?.(z[0], z[1]);
  } finally {
    syncingScale = false;
  }
}

function fullRange(): [number, number] | undefined {
  const xs = unionX(lanes, tails);
  if (xs.length === 0) return undefined;
  return [Math.min(1, xs[0] as number), Math.max(xs[xs.length - 1] as number, eventCount || 0)];
}

function gotoAt(u: uPlot, e: MouseEvent): void {
  const rect = u.over.getBoundingClientRect();
  const ev = Math.round(u.posToVal(e.clientX - rect.left, 'x'));
  const target = Math.max(1, eventCount ? Math.min(eventCount, ev) : ev);
  if (!live) {
    setStatus(`Event ${target}: start a debug session of this slice to jump there.`);
    return;
  }
  setStatus(`Going to event ${target}…`);
  post({ type: 'goto', event: target });
}

/** Every lane with its tail on `xs`, and the tails of lanes the host has not sent data for yet: what the charts draw and the CSV exports. */
function mergedLanes(xs: readonly number[]): LaneData[] {
  const merged = lanes.map((l) => mergeTail(l, tails.get(l.id), xs));
  for (const extra of tails.keys()) if (!lanes.some((l) => l.id === extra)) merged.push(mergeTail(undefined, tails.get(extra), xs, extra));
  return merged;
}

function renderCharts(): void {
  for (const c of charts) c.destroy();
  charts = [];
  refits.clear();
  pendingZoom = undefined;
  chartsEl.replaceChildren();
  renderSeriesList();
  const have = present();
  const xs = unionX(lanes, tails);
  if (xs.length === 0) {
    app.dataset['ready'] = 'empty';
    const p = document.createElement('p');
    p.className = 'empty';
    p.textContent = live ? 'No event has completed yet: step or continue the replay.' : 'No data yet.';
    chartsEl.append(p);
    return;
  }
  const width = Math.max(200, chartsEl.clientWidth - 8);
  const buckets = Math.max(50, Math.floor(width));
  const merged = mergedLanes(xs);
  const range = fullRange();
  for (const g of SERIES_GROUPS) {
    const lines: Line[] = [];
    for (const lane of merged) for (const info of SERIES.filter((s) => s.group === g.id && isVisible(s) && have.has(s.id) && lane.series[s.id])) lines.push({ lane, info });
    // Shown series that have no value say so under the chart's title, with the host's reason: a
    // chart without their line looked the same whether they were never defined or left out.
    const notes = SERIES.filter((s) => s.group === g.id && isVisible(s) && !have.has(s.id)).flatMap((s) => {
      const a = absenceOf(s);
      if (!a) return [];
      const p = document.createElement('p');
      p.className = 'absent';
      p.dataset['testid'] = `absent-${s.id}`;
      p.textContent = `${s.label}: ${a.short} — ${a.why}`;
      return [p];
    });
    if (lines.length === 0) {
      if (notes.length === 0) continue;
      const wrap = document.createElement('section');
      wrap.className = 'chart';
      wrap.dataset['testid'] = `notes-${g.id}`;
      const h = document.createElement('h3');
      h.textContent = g.label;
      wrap.append(h, ...notes);
      chartsEl.append(wrap);
      continue;
    }
    const showBands = ui.mode === 'event' && ui.showRange;
    const all = chartSeries(
      lines.map((ln) => ln.lane.series[ln.info.id] as SeriesData),
      showBands,
    );
    const view = ui.zoom ?? range ?? [xs[0] as number, xs[xs.length - 1] as number];
    let d = fitWindow(xs, all, view[0], view[1], buckets);
    const fg = css('--vscode-foreground', '#ccc');
    const grid = css('--vscode-editorWidget-border', '#454545');
    const series: uPlot.Series[] = [{ label: 'event' }];
    lines.forEach((ln) => {
      const color = colorOf(ln.info);
      series.push({ label: merged.length > 1 ? `${ln.info.label} · ${ln.lane.label}` : ln.info.label, scale: ln.info.rightAxis ? 'y2' : 'y', stroke: color, width: 1.5, spanGaps: true, points: { show: false }, ...(ln.lane.dashed ? { dash: [6, 4] } : {}) });
    });
    const bands: uPlot.Band[] = [];
    if (showBands) {
      lines.forEach((ln, i) => {
        const fill = withAlpha(colorOf(ln.info), 0.15);
        const lo = series.length;
        const scale = ln.info.rightAxis ? 'y2' : 'y';
        series.push({ label: `${ln.info.label} min`, scale, stroke: 'transparent', width: 0, spanGaps: true, points: { show: false } });
        series.push({ label: `${ln.info.label} max`, scale, stroke: 'transparent', width: 0, spanGaps: true, points: { show: false } });
        bands.push({ series: [lo + 1, lo], fill });
        void i;
      });
    }
    const wrap = document.createElement('section');
    wrap.className = 'chart';
    wrap.dataset['testid'] = `chart-${g.id}`;
    const h = document.createElement('h3');
    h.textContent = g.label;
    const readout = document.createElement('div');
    readout.className = 'readout';
    readout.dataset['testid'] = `readout-${g.id}`;
    wrap.append(h, ...notes, readout);
    chartsEl.append(wrap);
    const data = [d.x, ...d.y] as uPlot.AlignedData;
    const u = new uPlot(
      {
        width,
        height: 150,
        series,
        bands,
        legend: { show: false },
        cursor: { sync: { key: 'recreplay-timeline', setSeries: false }, drag: { x: true, y: false, setScale: true }, points: { show: false } },
        scales: { x: { time: false, ...(ui.zoom ? { min: ui.zoom[0], max: ui.zoom[1] } : range ? { min: range[0], max: range[1] } : {}) } },
        padding: [8, lines.some((l) => l.info.rightAxis) && !lines.every((l) => l.info.rightAxis) ? 8 : 40, 0, 0],
        axes: [
          { stroke: fg, grid: { stroke: grid, width: 0.5 }, ticks: { stroke: grid }, values: (_u, vals) => vals.map((v) => (Number.isInteger(v) ? v.toLocaleString('en-US') : '')) },
          { stroke: fg, grid: { stroke: grid, width: 0.5 }, ticks: { stroke: grid }, size: 56, ...(lines.every((l) => l.info.rightAxis) ? { scale: 'y2' } : {}) },
          // A second axis for a series of another unit (queue depth beside rates), only when both kinds are shown.
          ...(lines.some((l) => l.info.rightAxis) && !lines.every((l) => l.info.rightAxis) ? [{ scale: 'y2', side: 1 as const, stroke: fg, grid: { show: false }, ticks: { stroke: grid }, size: 48 }] : []),
        ],
        plugins: [overlayPlugin(() => ({ faults: faultSpans, markers, cursor: cursorEvent }))],
        hooks: {
          setScale: [onScale],
          setCursor: [
            (uu: uPlot) => {
              const i = uu.cursor.idx;
              if (i === null || i === undefined) {
                readout.textContent = '';
                return;
              }
              const ev = d.x[i];
              const parts = lines.map((ln, k) => `${ln.info.label}${merged.length > 1 ? ` (${ln.lane.id})` : ''} ${fmt(d.y[k]?.[i] ?? null)}`);
              const near = markers.filter((m) => ev !== undefined && Math.abs(uu.valToPos(m.event, 'x') - uu.valToPos(ev, 'x')) < 6).map((m) => m.label);
              const mask = ev === undefined ? 0 : faultSpans.filter((f) => f.bucketFrom <= ev && ev <= f.bucketTo).reduce((acc, f) => acc | f.mask, 0);
              if (mask) near.push(`faults: ${faultNames(mask, faultKinds).join(', ')}`);
              readout.textContent = `event ≈ ${ev?.toLocaleString('en-US') ?? '?'} · ${parts.join(' · ')}${near.length ? ` · ${near.join('; ')}` : ''}`;
            },
          ],
        },
      },
      data,
      wrap,
    );
    // A click (press and release at one spot) goes to the event; a drag zooms (uPlot's own).
    let downX: number | undefined;
    u.over.addEventListener('mousedown', (e) => (downX = e.button === 0 ? e.clientX : undefined));
    u.over.addEventListener('mouseup', (e) => {
      if (downX !== undefined && Math.abs(e.clientX - downX) < 3) gotoAt(u, e);
      downX = undefined;
    });
    u.over.dataset['testid'] = `plot-${g.id}`;
    refits.set(u, (min, max) => {
      d = fitWindow(xs, all, min, max, buckets);
      u.batch(() => {
        u.setData([d.x, ...d.y] as uPlot.AlignedData, false);
        u.setScale('x', { min, max });
      });
    });
    charts.push(u);
  }
  app.dataset['ready'] = charts.length ? 'drawn' : 'empty';
  app.dataset['points'] = String(xs.length);
}

function exportPng(): void {
  if (charts.length === 0) {
    setStatus('Nothing to export yet.');
    return;
  }
  const groups = [...chartsEl.querySelectorAll('section.chart h3')].map((e) => e.textContent ?? '');
  post({ type: 'export', format: 'png', dataUrl: chartsPng(charts.map((c) => c.ctx.canvas), groups, title), name: exportName() });
}

function exportName(): string {
  return (title.replace(/^[A-Za-z]+: /, '').replace(/[^\w .@()-]+/g, '_').trim() || 'timeline').slice(0, 100);
}

function exportCsv(): void {
  const visible = SERIES.filter(isVisible).map((s) => s.id);
  const xs = unionX(lanes, tails);
  // The lanes the charts draw: a tail before its lane's first data (a panel opened while the replay
  // runs, a mode switched) was drawn but left out of the CSV.
  const text = buildCsv(mergedLanes(xs), xs, visible, ui.zoom, ui.mode);
  post({ type: 'export', format: 'csv', text, name: exportName() });
}

function handle(m: HostMessage): void {
  switch (m.type) {
    case 'init':
      title = m.title;
      live = m.live;
      eventCount = m.eventCount;
      faultKinds = m.faultKinds;
      ui.restore = m.restore;
      // Another session (or trace) in this panel: the last one's zoom may lie outside its events.
      if (ui.view !== null && ui.view !== m.view) ui.zoom = null;
      ui.view = m.view;
      if (!restoredMode) ui.mode = m.mode;
      else if (m.mode !== ui.mode) post({ type: 'setMode', mode: ui.mode });
      restoredMode = true;
      lanes = [];
      held = undefined;
      resyncAsked = false;
      laneFaults = [];
      tails = new Map();
      setFaultSpans();
      markers = [];
      summary = undefined;
      save();
      renderToolbar();
      renderSummary($<HTMLElement>('.summary'), summary);
      renderCharts();
      break;
    case 'data':
    case 'dataFrom': {
      if (m.mode !== ui.mode) return;
      const next = m.type === 'data' ? m.lanes : applyDataFrom(held, m.base, m.lanes);
      if (!next) {
        // A message this one builds on never came (posted while the panel was in another mode): the host sends the whole data.
        if (!resyncAsked) post({ type: 'resync' });
        resyncAsked = true;
        return;
      }
      lanes = next;
      held = m.seq !== undefined ? { seq: m.seq, lanes } : undefined;
      if (m.type === 'data') resyncAsked = false;
      laneFaults = findFaults(lanes);
      eventCount = Math.max(eventCount, m.eventCount);
      tails = tailsBeyond(tails, lanes);
      setFaultSpans();
      renderCharts();
      break;
    }
    case 'tail': {
      // Posted before the host heard of a mode switch: values of the other mode.
      if (m.mode !== ui.mode) return;
      let t = tails.get(m.lane);
      if (!t) tails.set(m.lane, (t = { x: [], series: new Map() }));
      for (const p of m.points) {
        const last = lanes.find((l) => l.id === m.lane)?.x.at(-1) ?? 0;
        if (p.event <= last || p.event <= (t.x.at(-1) ?? 0)) continue;
        t.x.push(p.event);
        for (const [id, v] of Object.entries(p.values)) {
          let arr = t.series.get(id);
          if (!arr) t.series.set(id, (arr = new Array<number | null>(t.x.length - 1).fill(null)));
          arr.push(v);
        }
        for (const arr of t.series.values()) while (arr.length < t.x.length) arr.push(null);
      }
      // Faulted events after the lane's data and the tail's last one, in order (a cumulative tail's point stands for many events).
      const last = Math.max(lanes.find((l) => l.id === m.lane)?.x.at(-1) ?? 0, t.faults?.at(-1)?.event ?? 0);
      for (const f of m.faults ?? []) if (f.event > last && f.event > (t.faults?.at(-1)?.event ?? 0)) (t.faults ??= []).push(f);
      capTail(t);
      setFaultSpans();
      scheduleRender();
      break;
    }
    case 'position':
      cursorEvent = m.event;
      eventCount = m.eventCount || eventCount;
      app.dataset['cursorEvent'] = String(m.event);
      if (m.state === 'stopped' && statusEl.textContent?.startsWith('Going to event')) setStatus('');
      for (const c of charts) c.redraw(false, false);
      break;
    case 'markers':
      markers = m.markers;
      app.dataset['markers'] = String(markers.length);
      for (const c of charts) c.redraw(false, false);
      break;
    case 'status':
      setStatus(m.text, m.busy);
      break;
    case 'summary':
      summary = { columns: m.columns, rows: m.rows };
      renderSummary($<HTMLElement>('.summary'), summary);
      break;
    case 'live':
      live = m.live;
      renderToolbar();
      break;
    case 'exported':
      setStatus(`Exported ${m.format.toUpperCase()} to ${m.path}`);
      break;
  }
}

let pending = 0;
function scheduleRender(): void {
  if (pending) return;
  pending = requestAnimationFrame(() => {
    pending = 0;
    renderCharts();
  });
}

app.addEventListener('click', (e) => {
  const t = e.target as HTMLElement;
  const mode = t.dataset['mode'];
  if (mode === 'cumulative' || mode === 'event') {
    if (mode === ui.mode) return;
    ui.mode = mode;
    save();
    lanes = [];
    tails = new Map();
    renderToolbar();
    renderCharts();
    setStatus('Loading…', true);
    post({ type: 'setMode', mode });
  } else if (t.dataset['testid'] === 'reset-zoom') {
    ui.zoom = null;
    save();
    renderCharts();
  } else if (t.dataset['testid'] === 'export-csv') exportCsv();
  else if (t.dataset['testid'] === 'export-png') exportPng();
});
$<HTMLInputElement>('[data-testid=show-range]').addEventListener('change', (e) => {
  ui.showRange = (e.target as HTMLInputElement).checked;
  save();
  renderCharts();
});
window.addEventListener('message', (e: MessageEvent) => {
  const m = parseHostMessage(e.data);
  if (!m) {
    post({ type: 'error', message: `the timeline ignored a message it does not understand: ${String(JSON.stringify(e.data)).slice(0, 200)}` });
    return;
  }
  try {
    if (m.type === 'data' && statusEl.textContent === 'Loading…') setStatus('');
    handle(m);
  } catch (err) {
    post({ type: 'error', message: `timeline failed on '${m.type}': ${err instanceof Error ? (err.stack ?? err.message) : String(err)}` });
  }
});
window.addEventListener('error', (e) => post({ type: 'error', message: `${e.message} (${e.filename}:${e.lineno})` }));
new ResizeObserver(() => scheduleRender()).observe(chartsEl);
renderToolbar();
post({ type: 'ready' });
