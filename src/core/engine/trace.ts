import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import type { EventExec } from './replay';

export const TRACE_FORMAT = 'recreplay.trace/1';

/** The first line of a trace: what was replayed, with which ranker and seed. */
export interface TraceHeader {
  format: typeof TRACE_FORMAT;
  slice: string;
  sliceManifestSha256: string;
  ranker: { kind: string; artifactSha256?: string };
  seed: number;
  k: number;
  budgetMs: number;
  events: number;
}

/** Numbers as JSON; NaN/Inf (which JSON lacks) become strings so they stay visible. */
function num(x: number): string {
  return Number.isFinite(x) ? String(x) : `"${x}"`;
}

function strings(a: readonly string[]): string {
  let s = '[';
  for (let i = 0; i < a.length; i++) s += (i ? ',' : '') + JSON.stringify(a[i]);
  return s + ']';
}

/**
 * One trace line per event: per-stage simulated latency and outputs, per-event metrics and
 * faults — split around the score list, because formatting twenty doubles is the costliest
 * part and happens on the trace thread. Written by hand rather than with JSON.stringify on a
 * temporary object: it runs once per event and the shape is fixed.
 */
export function traceParts(ex: EventExec): [head: string, tail: string] {
  const L = ex.latencyMs;
  let stale = '[';
  for (let i = 0; i < ex.stale.length; i++) stale += (i ? ',' : '') + JSON.stringify(ex.stale[i]?.name);
  stale += ']';
  let faults = '[';
  for (let i = 0; i < ex.faults.length; i++) faults += (i ? ',' : '') + '"' + ex.faults[i]?.kind + '"';
  faults += ']';
  // The full replayed order follows from the scores; the head is kept when the fallback hid it.
  const top = ex.fallback ? `,"top":${strings(ex.ranked.slice(0, ex.served.length || ex.ranked.length))}` : '';
  const head =
    `{"n":${ex.n},"id":${JSON.stringify(ex.event.id)},"stages":{` +
    `"retrieve":{"ms":${num(L.retrieve)},"kept":${ex.rows.length},"dropped":${strings(ex.dropped)}},` +
    `"features":{"ms":${num(L.features)},"stale":${stale}},` +
    `"score":{"ms":${num(L.score)},"scores":`;
  const tail =
    `},"rerank":{"ms":${num(L.rerank)}${top}},` +
    `"serve":{"ms":${num(L.serve)},"served":${strings(ex.served)},"fallback":${ex.fallback}},` +
    `"outcome":{"ms":${num(L.outcome)},"clicks":${strings(ex.clicks)},"source":"${ex.outcomeSource}"}},` +
    `"metrics":${ex.metrics ? JSON.stringify(ex.metrics) : 'null'},"faults":${faults}}\n`;
  return [head, tail];
}

/** The whole trace line of an event (the trace thread builds the same bytes from the parts). */
export function traceLine(ex: EventExec): string {
  const [head, tail] = traceParts(ex);
  let scores = '[';
  if (ex.scores) for (let i = 0; i < ex.scores.length; i++) scores += (i ? ',' : '') + num(ex.scores[i] as number);
  return head + scores + ']' + tail;
}

// The trace thread: formats scores, hashes and writes. Kept as source text so that every bundle
// (CLI, debug adapter, extension host) can start it without shipping a second file. It is our
// own code, never user input.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const { createHash } = require('node:crypto');
const hash = createHash('sha256');
const fd = workerData.tmp ? fs.openSync(workerData.tmp, 'w') : undefined;
let bytes = 0, pending = [], len = 0;
const num = (x) => (Number.isFinite(x) ? String(x) : '"' + x + '"');
function flush() {
  if (!pending.length) return;
  const b = Buffer.from(pending.join(''), 'utf8');
  pending = []; len = 0;
  if (fd !== undefined) fs.writeSync(fd, b);
  hash.update(b);
  bytes += b.length;
}
function push(s) { pending.push(s); len += s.length; if (len >= 1 << 20) flush(); }
parentPort.on('message', (m) => {
  if (m.type === 'batch') {
    const heads = m.heads.split('\\0'), tails = m.tails.split('\\0');
    let o = 0;
    for (let i = 0; i < heads.length; i++) {
      const c = m.counts[i];
      let s = '[';
      for (let j = 0; j < c; j++) s += (j ? ',' : '') + num(m.scores[o + j]);
      o += c;
      push(heads[i] + s + ']' + tails[i]);
    }
  } else if (m.type === 'text') push(m.text);
  else if (m.type === 'close') {
    flush();
    if (fd !== undefined) { fs.fsyncSync(fd); fs.closeSync(fd); fs.renameSync(workerData.tmp, workerData.path); }
    parentPort.postMessage({ sha256: hash.digest('hex'), bytes });
  }
});
`;

const BATCH = 256;

/**
 * Streams a trace to DIR/trace.jsonl through a temp file on a worker thread (the second core
 * formats, hashes and writes while the engine replays); only a finished trace is renamed into
 * place. Without a folder it only hashes, so a run can report its trace's sha256 cheaply.
 */
export class TraceWriter {
  private readonly worker: Worker;
  private failure: Error | undefined;
  private heads: string[] = [];
  private tails: string[] = [];
  private counts: number[] = [];
  private scores = new Float64Array(BATCH * 32);
  private used = 0;
  events = 0;
  private readonly tmp: string | undefined;
  readonly path: string | undefined;

  constructor(
    readonly dir: string | undefined,
    header: TraceHeader,
  ) {
    if (dir !== undefined) {
      mkdirSync(dir, { recursive: true });
      this.path = join(dir, 'trace.jsonl');
      this.tmp = join(dir, `.trace.jsonl.${process.pid}.tmp`);
    }
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { tmp: this.tmp, path: this.path } });
    this.worker.on('error', (e) => (this.failure = e));
    this.worker.postMessage({ type: 'text', text: JSON.stringify(header) + '\n' });
  }

  /** Appends one completed event. */
  write(ex: EventExec): void {
    const [head, tail] = traceParts(ex);
    const sc = ex.scores ?? new Float64Array(0);
    if (this.used + sc.length > this.scores.length) {
      const grown = new Float64Array(Math.max(this.scores.length * 2, this.used + sc.length));
      grown.set(this.scores.subarray(0, this.used));
      this.scores = grown;
    }
    this.scores.set(sc, this.used);
    this.used += sc.length;
    this.heads.push(head);
    this.tails.push(tail);
    this.counts.push(sc.length);
    this.events++;
    if (this.heads.length >= BATCH) this.send();
  }

  private send(): void {
    if (!this.heads.length) return;
    const scores = this.scores.slice(0, this.used);
    // One long string clones as a copy of memory; an array of short ones clones string by string.
    // JSON text never holds a raw NUL, so it can separate the parts.
    const counts = Int32Array.from(this.counts);
    this.worker.postMessage({ type: 'batch', heads: this.heads.join('\0'), tails: this.tails.join('\0'), counts, scores }, [scores.buffer, counts.buffer]);
    this.heads = [];
    this.tails = [];
    this.counts = [];
    this.used = 0;
  }

  /** Finishes the trace and renames it into place; resolves to its sha256 and size. */
  async close(): Promise<{ path: string | null; sha256: string; bytes: number; events: number }> {
    this.send();
    const done = new Promise<{ sha256: string; bytes: number }>((resolve, reject) => {
      this.worker.once('message', resolve);
      this.worker.once('error', reject);
      if (this.failure) reject(this.failure);
    });
    this.worker.postMessage({ type: 'close' });
    try {
      const r = await done;
      return { path: this.path ?? null, sha256: r.sha256, bytes: r.bytes, events: this.events };
    } finally {
      await this.worker.terminate();
    }
  }

  /** Drops an unfinished trace: nothing half-written stays behind. */
  async abort(): Promise<void> {
    await this.worker.terminate();
    if (this.tmp) rmSync(this.tmp, { force: true });
  }
}

/** The audit trail of a run, written beside the trace. */
export interface RunRecord {
  format: 'recreplay.run/1';
  tool: { name: string; version: string };
  slice: { path: string; name: string; manifestSha256: string; versions: unknown; modified: string[] };
  config: { ranker: unknown; seed: number; pipeline: unknown; checkpointEvery: number; forced: boolean };
  seed: number;
  startedAt: string;
  endedAt: string;
  user: string;
  host: string;
  trace: { path: string | null; sha256: string; bytes: number; events: number } | null;
  events: number;
  metrics: Record<string, number>;
  faults: Record<string, number>;
}

/** Writes run.json atomically. */
export function writeRunRecord(dir: string, record: RunRecord): string {
  mkdirSync(dir, { recursive: true });
  const p = join(dir, 'run.json');
  const tmp = `${p}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(record, null, 2) + '\n');
  renameSync(tmp, p);
  return p;
}
