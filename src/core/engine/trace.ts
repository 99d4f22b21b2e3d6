import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
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
 * faults. A pure function of the execution, so equal runs give equal bytes. Written by hand
 * rather than with JSON.stringify on a temporary object: it runs once per event and the
 * shape is fixed. The output is plain JSON (test/engine/trace.test.ts parses it back).
 */
export function traceLine(ex: EventExec): string {
  const L = ex.latencyMs;
  let scores = '[';
  if (ex.scores) for (let i = 0; i < ex.scores.length; i++) scores += (i ? ',' : '') + num(ex.scores[i] as number);
  scores += ']';
  let stale = '[';
  for (let i = 0; i < ex.stale.length; i++) stale += (i ? ',' : '') + JSON.stringify(ex.stale[i]?.name);
  stale += ']';
  let faults = '[';
  for (let i = 0; i < ex.faults.length; i++) faults += (i ? ',' : '') + '"' + ex.faults[i]?.kind + '"';
  faults += ']';
  // The full replayed order follows from the scores; the head is kept when the fallback hid it.
  const top = ex.fallback ? `,"top":${strings(ex.ranked.slice(0, ex.served.length || ex.ranked.length))}` : '';
  return (
    `{"n":${ex.n},"id":${JSON.stringify(ex.event.id)},"stages":{` +
    `"retrieve":{"ms":${num(L.retrieve)},"kept":${ex.rows.length},"dropped":${strings(ex.dropped)}},` +
    `"features":{"ms":${num(L.features)},"stale":${stale}},` +
    `"score":{"ms":${num(L.score)},"scores":${scores}},` +
    `"rerank":{"ms":${num(L.rerank)}${top}},` +
    `"serve":{"ms":${num(L.serve)},"served":${strings(ex.served)},"fallback":${ex.fallback}},` +
    `"outcome":{"ms":${num(L.outcome)},"clicks":${strings(ex.clicks)},"source":"${ex.outcomeSource}"}},` +
    `"metrics":${ex.metrics ? JSON.stringify(ex.metrics) : 'null'},"faults":${faults}}\n`
  );
}

/**
 * Streams a trace to DIR/trace.jsonl through a temp file; only a finished trace is renamed into
 * place. Without a folder it only hashes, so a run can report its trace's sha256 cheaply.
 */
export class TraceWriter {
  private readonly fd: number | undefined;
  private readonly hash = createHash('sha256');
  private buf: string[] = [];
  private bufLen = 0;
  bytes = 0;
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
      this.fd = openSync(this.tmp, 'w');
    }
    this.push(JSON.stringify(header) + '\n');
  }

  private push(s: string): void {
    this.buf.push(s);
    this.bufLen += s.length;
    if (this.bufLen >= 1 << 20) this.flush();
  }

  private flush(): void {
    if (!this.buf.length) return;
    const b = Buffer.from(this.buf.join(''), 'utf8');
    this.buf = [];
    this.bufLen = 0;
    if (this.fd !== undefined) writeSync(this.fd, b);
    this.hash.update(b);
    this.bytes += b.length;
  }

  /** Appends one completed event. */
  write(ex: EventExec): void {
    this.push(traceLine(ex));
    this.events++;
  }

  /** Finishes the trace and renames it into place; returns its sha256. */
  close(): { path: string | null; sha256: string; bytes: number; events: number } {
    this.flush();
    if (this.fd !== undefined && this.tmp && this.path) {
      closeSync(this.fd);
      renameSync(this.tmp, this.path);
    }
    return { path: this.path ?? null, sha256: this.hash.digest('hex'), bytes: this.bytes, events: this.events };
  }

  /** Drops an unfinished trace: nothing half-written stays behind. */
  abort(): void {
    if (this.fd === undefined || !this.tmp) return;
    try {
      closeSync(this.fd);
    } catch {
      // already closed
    }
    rmSync(this.tmp, { force: true });
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
