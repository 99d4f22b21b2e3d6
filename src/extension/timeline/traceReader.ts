import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { lineChunksOf } from '../lines';
import { UserError } from '../../core/errors';
import { TRACE_FORMAT, TRACE_FORMATS_READ, type RunRecord, type TraceHeader } from '../../core/engine/trace';
import { Slice, manifestBytesAt } from '../../core/slice/reader';
import { sha256 } from '../../core/slice/hashing';
import type { EventRecord } from '../../core/slice/types';
import { StepsCancelled } from '../../core/steps';
import { needsIndex, warmIndex } from '../slices/sliceStore';
import { StreamBuckets } from './buckets';
import { SERIES_IDS, TraceMetrics, type CatalogSlots, type ServedSlots, type TraceLine } from './traceMetrics';
import { ServedSlotReader, scanLineAt } from './traceLineScan';

export interface TraceReadOptions {
  /** Buckets kept per lane (the timeline's resolution). */
  capacity: number;
  /** Start with this bucket size (to align the lanes of a comparison). */
  initialBucketSize?: number;
  /**
   * Size the buckets for the slice's events (the header's count) rather than for the events this
   * trace holds (run.json's): the lanes of a comparison, which must share a bucket size.
   */
  sizeForSlice?: boolean;
  /** Called with the share of bytes read, 0..1, at most every 64 lines. */
  onProgress?: (fraction: number) => void;
  isCancelled?: () => boolean;
  /**
   * Whether the slice run.json names may be read, or why not (a received trace names any path it
   * likes: the editor follows one outside an untrusted workspace no further). Default: any.
   */
  sliceAllowed?: (path: string) => string | undefined;
}

export interface TraceTimeline {
  path: string;
  header: TraceHeader;
  run: RunRecord | undefined;
  buckets: StreamBuckets;
  events: number;
  /** Why series that need the slice (coverage, Gini; cache hit rate and queue depth too for a trace without them) are missing, if they are. */
  sliceNote: string | undefined;
  /** Whether the trace carries each event's recorded queue depth and cache figures (recreplay.trace/2 on): then they never need the slice. */
  systemInTrace: boolean;
  /** Per fault kind: count and first event. */
  faults: Map<string, { count: number; first: number }>;
  /** Each series' running value after the last event (SERIES_IDS order; null where undefined): a run's final metrics, worked out from its trace. */
  final: (number | null)[];
  /** Event lines read by JSON.parse, not in the shape the trace writer gives them (hand-edited, another tool's): the others are scanned. */
  linesParsed: number;
}

export class TraceCancelled extends Error {
  constructor() {
    super('reading the trace was cancelled');
  }
}

/** trace.jsonl of a trace folder or a trace file itself. */
export function traceFileOf(path: string): string {
  return existsSync(path) && statSync(path).isDirectory() ? join(path, 'trace.jsonl') : path;
}

/**
 * Why a trace path cannot be read as a file, or undefined: a named pipe (or a device) named
 * trace.jsonl was opened and waited on for a writer that never came — the panel stuck on
 * "Reading…", its Cancel without effect — and a folder failed with EISDIR.
 */
export function notRegularTrace(file: string): UserError | undefined {
  const st = statSync(file, { throwIfNoEntry: false });
  if (!st || st.isFile()) return undefined;
  return new UserError(`${st.isDirectory() ? 'a folder' : 'not a regular file'}, where a trace file should be`, { file }, 'Pick the trace.jsonl that `recreplay run --trace DIR` or a debug session with "trace" wrote.', 'E_TRACE');
}

/** How long reading a trace works before it gives the event loop a turn (tests lower it). */
export const traceTurns = { everyMs: 30 };

/** Whether lines in the trace writer's shape are scanned rather than parsed whole (tests compare both ways). */
export const traceScan = { enabled: true };

/** The largest run.json read (a run record is a few kB; its metrics and config, no per-event data). */
const MAX_RUN_RECORD_BYTES = 16 * 1024 * 1024;

/** The longest trace line read (a line is one event: ~1 KB with 20 candidates, ~50 KB with 1,000). */
const MAX_TRACE_LINE_BYTES = 64 * 1024 * 1024;

/** What is wrong with a parsed trace line in the fields the timeline reads, or undefined (it crashed on null, a line without stages, faults that are not a list). */
export function traceLineProblem(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return `an event line must be a JSON object, got ${JSON.stringify(v)?.slice(0, 40)}`;
  const l = v as Record<string, unknown>;
  if (!Number.isInteger(l['n']) || (l['n'] as number) < 1) return `"n" must be a whole event number from 1, got ${JSON.stringify(l['n'])?.slice(0, 40)}`;
  if (typeof l['stages'] !== 'object' || l['stages'] === null || Array.isArray(l['stages'])) return '"stages" must be an object';
  for (const [k, st] of Object.entries(l['stages'] as object)) if (typeof st !== 'object' || st === null) return `"stages.${k}" must be an object`;
  if (l['faults'] !== undefined && (!Array.isArray(l['faults']) || l['faults'].some((f) => typeof f !== 'string'))) return '"faults" must be a list of fault kinds';
  if (l['metrics'] !== undefined && l['metrics'] !== null && (typeof l['metrics'] !== 'object' || Array.isArray(l['metrics']))) return '"metrics" must be an object';
  if (l['system'] !== undefined && (typeof l['system'] !== 'object' || l['system'] === null || Array.isArray(l['system']))) return '"system" must be an object';
  return undefined;
}

/** run.json beside a trace, or why there is none to use (there is none; it is another format; it does not parse). */
function readRunRecordOrWhy(traceFile: string): { run?: RunRecord; why: string } {
  const p = join(dirname(traceFile), 'run.json');
  if (!existsSync(p)) return { why: 'no run.json beside the trace' };
  // A regular file of a run record's size, before it is read: a link to /dev/zero or a named pipe
  // beside a received trace took the extension host down (or hung it).
  const st = statSync(p, { throwIfNoEntry: false });
  if (!st?.isFile()) return { why: 'run.json beside the trace is not a regular file' };
  if (st.size > MAX_RUN_RECORD_BYTES) return { why: `run.json beside the trace is ${(st.size / 2 ** 20).toFixed(0)} MiB, more than a run record holds` };
  let r: RunRecord;
  try {
    r = JSON.parse(readFileSync(p, 'utf8')) as RunRecord;
  } catch {
    return { why: 'run.json beside the trace is not valid JSON' };
  }
  if (typeof r !== 'object' || r === null || r.format !== 'recreplay.run/1') return { why: `run.json beside the trace is of format ${JSON.stringify((r as { format?: unknown } | null)?.format)}, not "recreplay.run/1"` };
  // A run record sent with a trace may hold anything: what the timeline reads is checked, and a
  // field of the wrong shape is said (it crashed Open Timeline with "reading 'path'").
  const bad = runRecordProblem(r);
  if (bad) return { why: `run.json beside the trace: ${bad}` };
  // Another run's record (a run killed between renaming its trace and its record, a trace copied
  // over another): its metrics are not this trace's.
  const bytes = (r.trace as { bytes?: unknown } | null | undefined)?.bytes;
  const size = statSync(traceFile, { throwIfNoEntry: false })?.size;
  if (typeof bytes === 'number' && size !== undefined && bytes !== size) return { why: `run.json beside the trace describes another trace (of ${bytes} bytes; this one has ${size})` };
  return { run: r, why: '' };
}

/** The first field of a run record the timeline reads that is missing or of the wrong type, or undefined. */
function runRecordProblem(r: RunRecord): string | undefined {
  const rec = r as unknown as Record<string, unknown>;
  const slice = rec['slice'] as Record<string, unknown> | undefined;
  if (typeof slice !== 'object' || slice === null) return '"slice" is missing';
  if (typeof slice['path'] !== 'string') return '"slice.path" must be a string';
  if (typeof slice['manifestSha256'] !== 'string') return '"slice.manifestSha256" must be a string';
  const metrics = rec['metrics'];
  if (typeof metrics !== 'object' || metrics === null || Array.isArray(metrics)) return '"metrics" must be an object of numbers';
  for (const [k, v] of Object.entries(metrics)) if (v !== null && typeof v !== 'number') return `"metrics.${k}" must be a number`;
  const trace = rec['trace'] as Record<string, unknown> | undefined;
  if (trace !== undefined && (typeof trace !== 'object' || trace === null || (trace['events'] !== undefined && typeof trace['events'] !== 'number'))) return '"trace.events" must be a number';
  return undefined;
}

function parseHeader(text: string, file: string): TraceHeader {
  let h: unknown;
  try {
    h = JSON.parse(text);
  } catch (e) {
    throw new UserError(`the first line is not JSON: ${(e as Error).message}`, { file, line: 1 }, 'Open the trace.jsonl that `recreplay run --trace DIR` or a debug session with "trace" wrote.', 'E_TRACE');
  }
  const header = h as TraceHeader;
  const format = typeof h === 'object' && h !== null ? (h as { format?: unknown }).format : undefined;
  const readable = (TRACE_FORMATS_READ as readonly unknown[]).includes(format);
  if (typeof format === 'string' && format.startsWith('recreplay.trace/') && !readable) {
    // Another version of our own format: say which, and which this one reads.
    throw new UserError(`a trace of format "${format}", which this version of RecReplay does not read (it reads ${TRACE_FORMATS_READ.map((f) => `"${f}"`).join(' and ')})`, { file, line: 1 }, 'Open it with the RecReplay version that wrote it, or replay the slice again to write a trace of this version.', 'E_TRACE');
  }
  if (typeof h !== 'object' || h === null || !readable) {
    throw new UserError(`not a RecReplay trace (the header's format is not "${TRACE_FORMAT}", nor an earlier one)`, { file, line: 1 }, 'Open the trace.jsonl that `recreplay run --trace DIR` or a debug session with "trace" wrote.', 'E_TRACE');
  }
  // The chart's buckets are sized from "events" and novelty is a mean over the top "k": without
  // them every point would be dropped or NaN, silently.
  for (const field of ['events', 'k'] as const) {
    const v = header[field];
    if (!Number.isInteger(v) || (v as number) < (field === 'k' ? 1 : 0)) {
      throw new UserError(`the trace header's "${field}" is ${JSON.stringify(v)}, not a whole number${field === 'k' ? ' ≥ 1' : ''}`, { file, line: 1, field }, 'The trace was cut or edited; write it again with `recreplay run --trace DIR`.', 'E_TRACE');
    }
  }
  // What the timeline names its lanes by (it crashed with "reading 'kind'" without one).
  const ranker = header.ranker as unknown;
  if (typeof ranker !== 'object' || ranker === null || typeof (ranker as { kind?: unknown }).kind !== 'string') {
    throw new UserError(`the trace header's "ranker" is ${JSON.stringify(ranker) ?? 'missing'}, not an object with a "kind"`, { file, line: 1, field: 'ranker' }, 'The trace was cut or edited; write it again with `recreplay run --trace DIR`.', 'E_TRACE');
  }
  return header;
}

/** Whether DIR/slice.json is there and hashes to `sha256` (the run record's): a small read before any large one. */
function manifestIs(dir: string, sha: string): boolean {
  const bytes = manifestBytesAt(dir);
  return bytes !== undefined && sha256(bytes) === sha;
}

/** Why the slice run.json names is not to be read for this trace, or undefined: the checks before any of it is (its manifest's hash included). */
function sliceUnusable(header: TraceHeader, run: RunRecord | undefined, noRun: string, refused: string | undefined, needs: string): string | undefined {
  if (!run) return `${noRun}: ${needs} need the slice it names`;
  if (refused) return `the slice ${run.slice.path} is not read: ${refused}`;
  if (!existsSync(join(run.slice.path, 'slice.json'))) return `the slice ${run.slice.path} is not there any more: ${needs} need it`;
  // Its manifest first: another slice is not opened (nor its events read) to be found another.
  if (!manifestIs(run.slice.path, header.sliceManifestSha256)) return `the slice at ${run.slice.path} is not the one this trace replayed (manifest hash differs)`;
  return undefined;
}

/**
 * The catalogue of the slice the trace was replayed from (for coverage and Gini), read alone —
 * items.jsonl, never events.jsonl — when run.json names the slice and its manifest hash is the
 * trace header's; otherwise why not.
 */
async function openCatalogFor(header: TraceHeader, run: RunRecord | undefined, noRun = 'no run.json beside the trace', refused?: string, isCancelled?: () => boolean): Promise<{ catalog?: CatalogSlots; note?: string }> {
  const why = sliceUnusable(header, run, noRun, refused, 'coverage and Gini');
  if (why !== undefined || !run) return { note: why };
  try {
    const c = await Slice.catalogAsync(run.slice.path, { cancelled: () => isCancelled?.() ?? false });
    if (c.manifestSha256 !== header.sliceManifestSha256) return { note: `the slice at ${run.slice.path} is not the one this trace replayed (manifest hash differs)` };
    const items = c.itemById;
    return { catalog: { get: (id) => items.slotOf(id), size: items.size } };
  } catch (e) {
    if (e instanceof StepsCancelled) throw new TraceCancelled();
    return { note: `the slice's catalogue could not be read: ${e instanceof UserError ? e.describe() : String(e)}` };
  }
}

/**
 * Opens the slice the trace was replayed from, when run.json names it and its manifest hash is
 * the one in the trace header; otherwise says why not (the chart then lacks the slice-only series).
 * For a trace without the system figures (recreplay.trace/1), whose events are read beside it.
 */
async function openSliceFor(header: TraceHeader, run: RunRecord | undefined, noRun = 'no run.json beside the trace', refused?: string, isCancelled?: () => boolean): Promise<{ slice?: Slice; note?: string }> {
  const why = sliceUnusable(header, run, noRun, refused, 'cache hit rate, queue depth, coverage and Gini');
  if (why !== undefined || !run) return { note: why };
  try {
    // A slice of work per turn of the event loop: a million-item catalogue took seconds of the editor's thread.
    const slice = await Slice.openAsync(run.slice.path, { force: true, trustCachedIndex: true }, { cancelled: () => isCancelled?.() ?? false });
    if (slice.manifestSha256 !== header.sliceManifestSha256) {
      slice.close();
      return { note: `the slice at ${run.slice.path} is not the one this trace replayed (manifest hash differs)` };
    }
    return { slice };
  } catch (e) {
    if (e instanceof StepsCancelled) throw new TraceCancelled();
    return { note: `the slice could not be opened: ${e instanceof UserError ? e.describe() : String(e)}` };
  }
}

/**
 * Streams a trace line by line into fixed-size buckets — a 1 GB trace is never held in memory.
 * A trace of recreplay.trace/2 carries every per-event figure the timeline draws: of its slice
 * only the catalogue is read (coverage, Gini). One of recreplay.trace/1 lacks the recorded queue
 * depth and cache figures: the slice's events are read alongside (sequentially, through its reader).
 */
export async function readTraceTimeline(pathArg: string, opts: TraceReadOptions): Promise<TraceTimeline> {
  const path = traceFileOf(pathArg);
  if (!existsSync(path)) throw new UserError('no trace here', { file: path }, 'Pick a trace.jsonl, or a folder holding one (`recreplay run --trace DIR`).', 'E_TRACE');
  const problem = notRegularTrace(path);
  if (problem) throw problem;
  const total = Math.max(1, statSync(path).size);
  const found = readRunRecordOrWhy(path);
  const run = found.run;
  // recreplay writes the slice's full path: a relative one (a run.json edited or written by another
  // tool) names no folder here — it was looked up in the extension host's working folder.
  const refused = run ? (isAbsolute(run.slice.path) ? opts.sliceAllowed?.(run.slice.path) : 'run.json names it by a relative path, which says no folder the timeline could read it from: write the slice\'s full path in run.json') : undefined;
  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  const tooLong = (line: number, bytes: number) => new UserError(`line ${line} is longer than a trace line can be (at least ${bytes} bytes, over ${MAX_TRACE_LINE_BYTES / 2 ** 20} MiB)`, { file: path, line }, 'This is not a trace a replay wrote, or it was damaged: write it again with `recreplay run --trace DIR`.', 'E_TRACE');
  // Whole lines a piece: a line still open past the limit is line lineNo + 1 (the lines before are read).
  const chunks = lineChunksOf(stream, MAX_TRACE_LINE_BYTES, (bytes) => tooLong(lineNo + 1, bytes));
  let header: TraceHeader | undefined;
  let metrics: TraceMetrics | undefined;
  let buckets: StreamBuckets | undefined;
  let servedReader: ServedSlotReader | undefined;
  let slice: Slice | undefined;
  let sliceEvents: Generator<EventRecord> | undefined;
  let sliceNote: string | undefined;
  let systemInTrace = false;
  const faults = new Map<string, { count: number; first: number }>();
  let lineNo = 0;
  let events = 0;
  let linesParsed = 0;
  const scan = traceScan.enabled;
  let workedSince = performance.now();
  try {
    for await (const chunk of chunks) {
      // Read as Latin-1, a character a byte, for the scanner; a line it leaves is decoded as UTF-8.
      const text = scan ? chunk.toString('latin1') : undefined;
      for (let pos = 0; pos < chunk.length; ) {
        const from = pos;
        let to = text !== undefined ? text.indexOf('\n', from) : chunk.indexOf(10, from);
        if (to === -1) to = chunk.length;
        pos = to + 1;
        lineNo++;
        if (to - from > MAX_TRACE_LINE_BYTES) throw tooLong(lineNo, to - from);
        if (header === undefined) {
          header = parseHeader(chunk.toString('utf8', from, to), path);
          systemInTrace = header.format !== 'recreplay.trace/1';
          let catalog: CatalogSlots | undefined;
          if (systemInTrace) {
            // The trace carries every figure its events recorded: of the slice, the catalogue alone is read.
            const opened = await openCatalogFor(header, run, found.why, refused, opts.isCancelled);
            catalog = opened.catalog;
            sliceNote = opened.note;
          } else {
            // Opening the slice below would build a missing offset index by reading all of events.jsonl on
            // this (the editor's) thread: build it streamed first — for the slice the run record names by
            // its manifest's hash only (any other would be refused as the trace's after a whole read).
            if (run && !refused && manifestIs(run.slice.path, run.slice.manifestSha256) && needsIndex(run.slice.path)) {
              await warmIndex(run.slice.path, { get isCancellationRequested() { return opts.isCancelled?.() ?? false; } });
              if (opts.isCancelled?.()) throw new TraceCancelled();
            }
            const opened = await openSliceFor(header, run, found.why, refused, opts.isCancelled);
            slice = opened.slice;
            sliceNote = opened.note;
            const items = slice?.itemById;
            if (items) catalog = { get: (id) => items.slotOf(id), size: items.size };
          }
          metrics = new TraceMetrics(header.k, catalog);
          servedReader = new ServedSlotReader(catalog, header.k);
          // A run stopped early (--break, a debug session ended midway) holds fewer events than the
          // slice: buckets sized for those, not for the slice, or a 5,000-event trace of a million-event
          // slice would get 20 points.
          const held = run?.trace?.events;
          const expected = !opts.sizeForSlice && held !== undefined && held > 0 && held < header.events ? held : header.events;
          buckets = new StreamBuckets(SERIES_IDS, opts.capacity, opts.initialBucketSize ?? StreamBuckets.sizeFor(expected, opts.capacity));
          continue;
        }
        // A line as the writer formats it is scanned for the fields the timeline reads (JSON.parse of
        // every ~1 KB line was most of the 22 s a million-event trace took); any other is parsed whole.
        const scanned = text !== undefined ? scanLineAt(text, from, to) : undefined;
        let line: TraceLine | undefined = scanned;
        const served: ServedSlots | undefined = scanned && (servedReader as ServedSlotReader).read(chunk, scanned.servedAt, scanned.servedAt + scanned.servedText.length);
        if (line === undefined) {
          const lineText = chunk.toString('utf8', from, to);
          if (lineText.trim() === '') continue;
          linesParsed++;
          try {
            line = JSON.parse(lineText) as TraceLine;
          } catch (e) {
            throw new UserError(`malformed trace line: ${(e as Error).message}`, { file: path, line: lineNo }, 'The trace was cut or edited; write it again with `recreplay run --trace DIR`.', 'E_TRACE');
          }
          const bad = traceLineProblem(line);
          if (bad) throw new UserError(`malformed trace line: ${bad}`, { file: path, line: lineNo }, 'The trace was cut or edited; write it again with `recreplay run --trace DIR`.', 'E_TRACE');
        }
        if (line.n <= (buckets as StreamBuckets).through) {
          throw new UserError(`trace line has event number ${String(line.n)}, expected more than ${(buckets as StreamBuckets).through}`, { file: path, line: lineNo }, 'Trace lines are written in event order; write the trace again.', 'E_TRACE');
        }
        let event: EventRecord | undefined;
        if (slice) {
          if (sliceEvents === undefined) sliceEvents = slice.events(line.n);
          let next = sliceEvents.next();
          if (!next.done && next.value.id !== line.id && line.n <= slice.eventCount) {
            // A trace that skips events (a debug session's goto) re-aligns through the offset index; the
            // old reader is stopped first (it may have started a reader thread, kept until the slice closes).
            sliceEvents.return(undefined);
            sliceEvents = slice.events(line.n);
            next = sliceEvents.next();
          }
          event = next.done ? undefined : next.value;
        }
        // A /2 line without "system" (edited) recorded nothing; a /1 line has the slice's record, if it was read.
        (metrics as TraceMetrics).update(line, systemInTrace ? (line.system ?? {}) : (event?.system ?? undefined), served);
        const mask = TraceMetrics.faultMask(line);
        for (const f of line.faults ?? []) {
          const s = faults.get(f);
          if (s) s.count++;
          else faults.set(f, { count: 1, first: line.n });
        }
        (buckets as StreamBuckets).add(line.n, (metrics as TraceMetrics).perEvent, (metrics as TraceMetrics).running, mask);
        events++;
        if ((lineNo & 63) === 0) {
          if (opts.isCancelled?.()) throw new TraceCancelled();
          opts.onProgress?.(Math.min(1, stream.bytesRead / total));
          // The lines of a 1 MiB chunk come as microtasks, so a chunk was one piece of work: 130–250 ms
          // of the editor's thread at a time over a million-event trace. A turn of the event loop
          // every traceTurns.everyMs of work.
          if (performance.now() - workedSince >= traceTurns.everyMs) {
            await new Promise<void>((r) => setImmediate(r));
            workedSince = performance.now();
          }
        }
      }
    }
  } finally {
    stream.destroy();
    slice?.close();
  }
  if (header === undefined || buckets === undefined) throw new UserError('the trace is empty', { file: path }, 'Write it again with `recreplay run --trace DIR`.', 'E_TRACE');
  opts.onProgress?.(1);
  return { path, header, run, buckets, events, sliceNote, systemInTrace, faults, final: metrics ? [...metrics.running] : [], linesParsed };
}
