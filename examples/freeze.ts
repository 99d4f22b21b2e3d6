/**
 * Freezing a slice from your own logs: a worked example.
 *
 *   node --import tsx examples/freeze.ts OUT.slice [REQUESTS.jsonl] [CATALOG.jsonl]
 *
 * Reads a request log (one JSON object per served request: what was shown with the model's score
 * and features, what was served, what was clicked, stage latencies) and a product catalogue — by
 * default the small ones in examples/logs/ — maps each record to RecReplay's shapes, and writes
 * OUT.slice with writeSlice: hashes, counts, offset index and feature schema are filled in, and
 * the folder appears only when complete. Copy this file and change toEvent/toItem to your log's
 * fields; the rest stays as it is. Then: `npx recreplay verify OUT.slice`, `npx recreplay run OUT.slice`.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../src/core/errors';
import { writeSlice } from '../src/core/slice/writer';
import type { EventRecord, ItemRecord, UserRecord } from '../src/core/slice/types';

/** One line of the request log (your system's shape, not RecReplay's). */
interface LoggedRequest {
  request_id: string;
  ts_ms: number;
  customer: string;
  device: string;
  shown: { sku: string; model_score: number; ctr_7d: number; days_listed: number }[];
  served: string[];
  clicked: string[];
  latency_ms: { retrieve: number; score: number };
}

/** One line of the catalogue. */
interface CatalogRow {
  sku: string;
  department: string;
  price_eur: number;
  listed: string;
}

/** Checks what toEvent reads, so a log line of another shape is named (file:line) instead of crashing the mapping. */
function checkRequest(r: LoggedRequest, file: string, line: number): void {
  const bad = (field: string, what: string) => {
    throw new UserError(`${field} ${what}`, { file, line, field }, 'Fix the line, or change checkRequest/toEvent in your copy of this script to your log\'s fields.');
  };
  if (typeof r !== 'object' || r === null || Array.isArray(r)) bad('(line)', 'must be a JSON object');
  if (typeof r.request_id !== 'string') bad('request_id', 'must be a string');
  if (typeof r.ts_ms !== 'number' || !Number.isFinite(new Date(r.ts_ms).getTime())) bad('ts_ms', 'must be a time in epoch milliseconds');
  if (typeof r.customer !== 'string') bad('customer', 'must be a string');
  if (!Array.isArray(r.shown)) bad('shown', 'must be an array of shown items');
  r.shown.forEach((s, i) => typeof s?.sku !== 'string' && bad(`shown[${i}].sku`, 'must be a string'));
  if (!Array.isArray(r.served) || !Array.isArray(r.clicked)) bad(Array.isArray(r.served) ? 'clicked' : 'served', 'must be an array of skus');
  if (typeof r.latency_ms !== 'object' || r.latency_ms === null) bad('latency_ms', 'must be an object of stage latencies');
}

/** A request as a RecReplay event: the candidates keep the logged score, so the `recorded` ranker replays production. */
function toEvent(r: LoggedRequest): EventRecord {
  return {
    id: r.request_id,
    t: new Date(r.ts_ms).toISOString(),
    user: r.customer,
    context: { device: r.device },
    candidates: r.shown.map((s) => ({ item: s.sku, features: { ctr_7d: s.ctr_7d, days_listed: s.days_listed }, score: s.model_score })),
    served: r.served,
    outcome: { clicks: r.clicked },
    system: { latencyMs: { retrieve: r.latency_ms.retrieve, score: r.latency_ms.score } },
  };
}

function toItem(c: CatalogRow): ItemRecord {
  return { id: c.sku, category: c.department, features: { price_eur: c.price_eur }, available: [{ from: c.listed }] };
}

/** The records of a JSONL file with their line numbers, read in 1 MiB blocks (a log of any size is never held whole). */
function* jsonLines<T>(path: string): Generator<{ value: T; line: number }> {
  const fd = openSync(path, 'r');
  const buf = Buffer.alloc(1 << 20);
  let rest = '';
  let line = 0;
  try {
    for (let n = readSync(fd, buf); ; n = readSync(fd, buf)) {
      const parts = (rest + buf.toString('utf8', 0, n)).split('\n');
      rest = n === 0 ? '' : (parts.pop() as string);
      for (const text of parts) {
        line++;
        if (text.trim() === '') continue;
        try {
          yield { value: JSON.parse(text) as T, line };
        } catch (e) {
          if (!(e instanceof SyntaxError)) throw e;
          throw new UserError(`malformed JSON: ${e.message}`, { file: path, line }, 'Each line of the log must be one JSON object.');
        }
      }
      if (n === 0) return;
    }
  } finally {
    closeSync(fd);
  }
}

const [out, requests = join(__dirname, 'logs/requests.jsonl'), catalog = join(__dirname, 'logs/catalog.jsonl')] = process.argv.slice(2);
if (!out) {
  console.error('usage: node --import tsx examples/freeze.ts OUT.slice [REQUESTS.jsonl] [CATALOG.jsonl]');
  process.exit(2);
}
// The writer names an event by its number; the log line it came from is the last one read.
let lastLine = 0;
try {
  const items = [...jsonLines<CatalogRow>(catalog)].map((r) => toItem(r.value));
  // Users are the customers seen in the log (add segments or features from your user table here).
  const users = new Map<string, UserRecord>();
  for (const { value, line } of jsonLines<LoggedRequest>(requests)) {
    checkRequest(value, requests, line);
    users.set(value.customer, { id: value.customer });
  }
  const { manifest } = writeSlice(
    out,
    {
      manifest: {
        name: 'my-first-slice',
        description: 'Requests 09:00-09:15 on 2025-07-21, frozen from the request log',
        source: { kind: 'logs', query: `${requests} + ${catalog}` },
        seed: 1,
        pipeline: { k: 5, budgetMs: 80 },
      },
      // A generator: events are streamed into the slice as they are read and mapped.
      events: (function* () {
        for (const { value, line } of jsonLines<LoggedRequest>(requests)) {
          lastLine = line;
          yield toEvent(value);
        }
      })(),
      items,
      users: [...users.values()],
    },
    // The freeze time comes from the caller (the engine never reads the clock).
    { frozenAt: new Date().toISOString() },
  );
  const events = manifest.files.find((f) => f.path === 'events.jsonl');
  console.log(`froze ${events?.records} events, ${items.length} items and ${users.size} users into ${out}`);
} catch (e) {
  if (!(e instanceof UserError)) throw e;
  // An event the writer refused is said as the log line it came from.
  const err = e.where.file === 'events' ? new UserError(e.message, { file: requests, line: lastLine, ...(e.where.field ? { field: e.where.field } : {}) }, e.hint) : e;
  console.error(`freeze failed: ${err.describe()}`);
  process.exit(3);
}
