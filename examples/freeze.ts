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

/** The lines of a JSONL file with their numbers, read in 1 MiB blocks (a log of any size is never held whole). */
function* jsonLines<T>(path: string): Generator<T> {
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
          yield JSON.parse(text) as T;
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
try {
  const items = [...jsonLines<CatalogRow>(catalog)].map(toItem);
  // Users are the customers seen in the log (add segments or features from your user table here).
  const users = new Map<string, UserRecord>();
  for (const r of jsonLines<LoggedRequest>(requests)) users.set(r.customer, { id: r.customer });
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
        for (const r of jsonLines<LoggedRequest>(requests)) yield toEvent(r);
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
  console.error(`freeze failed: ${e.describe()}`);
  process.exit(3);
}
