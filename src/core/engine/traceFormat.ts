import type { EventExec } from './replay';
import { FAULT_KINDS } from './faults';

/** The per-event metric fields in trace order (the order of EventMetrics). */
export const METRIC_FIELDS = ['index', 'hit', 'rr', 'ndcg', 'ild', 'novelty', 'overlap', 'kendallTau', 'fallback', 'clicks', 'impressions', 'latencyTotalMs'] as const;
const SOURCES = ['', 'recorded', 'model', 'mixed'] as const;

/** A growable Float64 buffer that events are encoded into. */
export class NumBuffer {
  data = new Float64Array(1 << 14);
  length = 0;

  push(x: number): void {
    if (this.length === this.data.length) {
      const grown = new Float64Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length++] = x;
  }

  /** The used part, detached from this buffer (for transfer to the trace thread). */
  take(): Float64Array {
    const out = this.data.slice(0, this.length);
    this.length = 0;
    return out;
  }
}

/**
 * The strings of a batch (event ids, stale feature names), each after its length (two UTF-16 code
 * units: low, high), kept as UTF-16 code units in one growable buffer: no string of an event
 * outlives it. A length, not a separator: an id may hold any character, U+0000 included. (Kept in
 * an array until the batch went out, 2,048 events later, the ids lived through two young-generation
 * collections and were promoted: ~32 MB of old-generation garbage over a million events.)
 * UTF-16, not UTF-8, so that an id with a lone surrogate comes out as it went in.
 */
export class StrBuffer {
  private buf = Buffer.allocUnsafe(1 << 14);
  private len = 0;

  push(s: string): void {
    const need = this.len + 2 * s.length + 4;
    if (need > this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(need, 2 * this.buf.length));
      this.buf.copy(grown, 0, 0, this.len);
      this.buf = grown;
    }
    this.buf.writeUInt16LE(s.length & 0xffff, this.len);
    this.buf.writeUInt16LE(s.length >>> 16, this.len + 2);
    this.len += 4;
    this.len += this.buf.write(s, this.len, 'utf16le');
  }

  /** Everything pushed since the last take, each string after its length (see splitStrs); empties the buffer. */
  take(): string {
    const text = this.buf.toString('utf16le', 0, this.len);
    this.len = 0;
    return text;
  }
}

/**
 * The strings of a StrBuffer text, in order. Self-contained: the trace thread runs it from its
 * source text.
 */
export function splitStrs(text: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; ) {
    const n = text.charCodeAt(i) + text.charCodeAt(i + 1) * 0x10000;
    i += 2;
    out.push(text.slice(i, i + n));
    i += n;
  }
  return out;
}

/**
 * Encodes what the trace line of an event needs as numbers (items as state slots, null as NaN)
 * plus a few strings. This runs on the engine thread and is cheap; turning it into text — the
 * costly part, twenty doubles to format per event — happens on the trace thread.
 */
export function encodeEvent(ex: EventExec, slotOf: (id: string) => number, out: NumBuffer, strs: { push(s: string): void }): void {
  const L = ex.latencyMs;
  strs.push(ex.event.id);
  out.push(ex.n);
  out.push(L.retrieve);
  out.push(L.features);
  out.push(L.score);
  out.push(L.rerank);
  out.push(L.serve);
  out.push(L.outcome);
  out.push(ex.rows.length);
  out.push(ex.fallback ? 1 : 0);
  out.push(SOURCES.indexOf(ex.outcomeSource));
  out.push(ex.dropped.length);
  for (const id of ex.dropped) out.push(slotOf(id));
  out.push(ex.stale.length);
  for (const s of ex.stale) strs.push(s.name);
  const sc = ex.scores;
  out.push(sc ? sc.length : 0);
  if (sc) for (let i = 0; i < sc.length; i++) out.push(sc[i] as number);
  // The full replayed order follows from the scores; the head is kept when the fallback hid it.
  const top = ex.fallback ? ex.rankedRows.slice(0, ex.servedRows.length || ex.rankedRows.length) : [];
  out.push(top.length);
  for (const r of top) out.push(r.slot);
  out.push(ex.servedRows.length);
  for (const r of ex.servedRows) out.push(r.slot);
  out.push(ex.clicks.length);
  // (The slot of a click's first served row; by a map past a few, as for 100,000 clicks of 200,000 served: see idLookup.ts.)
  const rows = ex.servedRows;
  if (ex.clicks.length * rows.length <= 64) for (const id of ex.clicks) out.push(rows.find((r) => r.item === id)?.slot ?? slotOf(id));
  else {
    const slotByItem = new Map<string, number>();
    for (let i = rows.length - 1; i >= 0; i--) slotByItem.set((rows[i] as (typeof rows)[number]).item, (rows[i] as (typeof rows)[number]).slot);
    for (const id of ex.clicks) out.push(slotByItem.get(id) ?? slotOf(id));
  }
  const m = ex.metrics as unknown as Record<string, number | null> | undefined;
  out.push(m ? 1 : 0);
  if (m) for (const f of METRIC_FIELDS) out.push(m[f] ?? Number.NaN);
  out.push(ex.faults.length);
  for (const f of ex.faults) out.push(FAULT_KINDS.indexOf(f.kind));
  // The system figures the event recorded, as the metrics count them (NaN: not recorded): a cache
  // only with both figures numbers. The timeline reads them here instead of the slice's events.
  const sys = ex.event.system;
  const q = sys?.queueDepth;
  out.push(typeof q === 'number' ? q : Number.NaN);
  const cache = sys?.cache;
  const hits = cache?.hits;
  const misses = cache?.misses;
  const both = typeof hits === 'number' && typeof misses === 'number';
  out.push(both ? hits : Number.NaN);
  out.push(both ? misses : Number.NaN);
}

/**
 * Formats encoded events [from `pos`] into trace lines. Self-contained on purpose (no imports,
 * no helpers outside it): the trace thread runs this very function, from its source text.
 * Returns the text; with `sink`, the text goes to it every 32 events and what is left is returned
 * (the trace thread writes each piece into a reused byte buffer, so no batch-long string builds up
 * and outlives its young generation). (Returning the read positions too, as an array, made V8
 * deoptimise it on every batch.)
 */
export function formatEvents(nums: Float64Array, pos: number, strs: readonly string[], spos: number, ids: readonly string[], faultKinds: readonly string[], metricFields: readonly string[], count: number, quoted: string[] = [], sink?: (text: string) => void): string {
  // Item ids as JSON strings, quoted once per slot and kept by the caller between batches. (Filled
  // here and read inline below: a closure made per call was a new call target on every batch,
  // which made V8 throw the optimised code away.)
  for (let i = quoted.length; i < ids.length; i++) quoted.push(JSON.stringify(ids[i]));
  let text = '';
  let o = pos;
  let si = spos;
  for (let e = 0; e < count; e++) {
    const n = nums[o++] as number;
    const ms: string[] = [];
    for (let i = 0; i < 6; i++) {
      const x = nums[o++] as number;
      ms.push(Number.isFinite(x) ? String(x) : '"' + x + '"');
    }
    const kept = nums[o++];
    const fallback = nums[o++] === 1;
    const source = ['', 'recorded', 'model', 'mixed'][nums[o++] as number];
    const id = JSON.stringify(strs[si++]);
    let list = '[';
    let c = nums[o++] as number;
    for (let i = 0; i < c; i++) list += (i ? ',' : '') + quoted[nums[o++] as number];
    const dropped = list + ']';
    list = '[';
    c = nums[o++] as number;
    for (let i = 0; i < c; i++) list += (i ? ',' : '') + JSON.stringify(strs[si++]);
    const stale = list + ']';
    list = '[';
    c = nums[o++] as number;
    for (let i = 0; i < c; i++) {
      const x = nums[o++] as number;
      list += (i ? ',' : '') + (Number.isFinite(x) ? String(x) : '"' + x + '"');
    }
    const scores = list + ']';
    list = '[';
    c = nums[o++] as number;
    for (let i = 0; i < c; i++) list += (i ? ',' : '') + quoted[nums[o++] as number];
    const top = fallback ? ',"top":' + list + ']' : '';
    list = '[';
    c = nums[o++] as number;
    for (let i = 0; i < c; i++) list += (i ? ',' : '') + quoted[nums[o++] as number];
    const served = list + ']';
    list = '[';
    c = nums[o++] as number;
    for (let i = 0; i < c; i++) list += (i ? ',' : '') + quoted[nums[o++] as number];
    const clicks = list + ']';
    let metrics = 'null';
    if (nums[o++] === 1) {
      metrics = '{';
      for (let i = 0; i < metricFields.length; i++) {
        const x = nums[o++] as number;
        // null was encoded as NaN; an infinite value stays visible as a string, as scores do.
        metrics += (i ? ',' : '') + '"' + metricFields[i] + '":' + (Number.isNaN(x) ? 'null' : Number.isFinite(x) ? String(x) : '"' + x + '"');
      }
      metrics += '}';
    }
    list = '[';
    c = nums[o++] as number;
    for (let i = 0; i < c; i++) list += (i ? ',' : '') + '"' + faultKinds[nums[o++] as number] + '"';
    const faults = list + ']';
    // Recorded figures are finite (the slice reader refuses others); one that is not would show as a string, as scores do.
    const q = nums[o++] as number;
    const hits = nums[o++] as number;
    const misses = nums[o++] as number;
    let system = Number.isNaN(q) ? '{' : '{"queueDepth":' + (Number.isFinite(q) ? String(q) : '"' + q + '"');
    if (!Number.isNaN(hits)) {
      system += (system.length > 1 ? ',' : '') + '"cache":{"hits":' + (Number.isFinite(hits) ? String(hits) : '"' + hits + '"') + ',"misses":' + (Number.isFinite(misses) ? String(misses) : '"' + misses + '"') + '}';
    }
    system += '}';
    text +=
      '{"n":' + n + ',"id":' + id + ',"stages":{' +
      '"retrieve":{"ms":' + ms[0] + ',"kept":' + kept + ',"dropped":' + dropped + '},' +
      '"features":{"ms":' + ms[1] + ',"stale":' + stale + '},' +
      '"score":{"ms":' + ms[2] + ',"scores":' + scores + '},' +
      '"rerank":{"ms":' + ms[3] + top + '},' +
      '"serve":{"ms":' + ms[4] + ',"served":' + served + ',"fallback":' + fallback + '},' +
      '"outcome":{"ms":' + ms[5] + ',"clicks":' + clicks + ',"source":"' + source + '"}},' +
      '"system":' + system + ',"metrics":' + metrics + ',"faults":' + faults + '}\n';
    if (sink !== undefined && (e & 31) === 31) {
      sink(text);
      text = '';
    }
  }
  return text;
}

/** The trace line of one event, formatted on this thread (tests, tools). */
export function traceLine(ex: EventExec, ids: readonly string[], slotOf: (id: string) => number): string {
  const buf = new NumBuffer();
  const strs: string[] = [];
  encodeEvent(ex, slotOf, buf, strs);
  return formatEvents(buf.data, 0, strs, 0, ids, FAULT_KINDS, METRIC_FIELDS, 1);
}
