import { existsSync, mkdtempSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { createHash } from 'node:crypto';
import { streamFor } from '../src/core/random';
import type { EventRecord, ItemRecord, SliceManifest, UserRecord } from '../src/core/slice/types';
import { writeSlice, type SliceInput } from '../src/core/slice/writer';
import { Slice } from '../src/core/slice/reader';
import { OffsetIndex, storeIndex } from '../src/core/slice/offsetIndex';
import assert from 'node:assert/strict';
import { UserError } from '../src/core/errors';

/** Temp folders this test process made: removed when it exits (43,000 had piled up in /tmp). */
const made: string[] = [];
process.on('exit', () => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

// Tests never touch the user's cache.
if (process.env['RECREPLAY_CACHE_DIR'] === undefined) {
  process.env['RECREPLAY_CACHE_DIR'] = mkdtempSync(join(tmpdir(), 'recreplay-test-cache-'));
  made.push(process.env['RECREPLAY_CACHE_DIR']);
}

/** A fresh temp folder, removed when the test process exits. */
export function tmp(prefix = 'recreplay-test-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  made.push(d);
  return d;
}

/** A small deterministic catalogue, users and events. */
export function fixture(nEvents: number, opts: { items?: number; cands?: number; seed?: number } = {}): { events: EventRecord[]; items: ItemRecord[]; users: UserRecord[] } {
  const rng = streamFor(opts.seed ?? 1, 'fixture', 'x');
  const nItems = opts.items ?? 30;
  const items: ItemRecord[] = Array.from({ length: nItems }, (_, i) => ({ id: `i${i}`, category: ['a', 'b', 'c'][i % 3] as string, features: { pop: i % 7 } }));
  const users: UserRecord[] = Array.from({ length: 5 }, (_, u) => ({ id: `u${u}`, segment: u % 2 ? 'new' : 'returning', features: { age: 20 + u } }));
  const events: EventRecord[] = [];
  const t0 = Date.parse('2025-01-01T00:00:00Z');
  for (let e = 1; e <= nEvents; e++) {
    const cands = new Set<number>();
    while (cands.size < (opts.cands ?? 8)) cands.add(rng.int(nItems));
    const candidates = [...cands].map((i) => ({ item: `i${i}`, features: { ctr: Math.round(rng.next() * 1000) / 1000, fresh: i % 5 === 0 ? 1 : 0 }, score: Math.round(rng.next() * 1000) / 1000 }));
    const served = candidates.slice(0, 4).map((c) => c.item);
    events.push({
      id: `e${e}`,
      t: new Date(t0 + e * 1000).toISOString(),
      user: `u${e % 5}`,
      candidates,
      served,
      outcome: { clicks: rng.next() < 0.5 ? [served[rng.int(served.length)] as string] : [] },
      system: { latencyMs: { retrieve: 5, features: 10, score: 10 + (e % 10), rerank: 1 }, queueDepth: e % 9, cache: { hits: 9, misses: 1 } },
      featureTimes: { ctr: new Date(t0 + e * 1000 - 3600_000).toISOString() },
    });
  }
  return { events, items, users };
}

export const BASE_MANIFEST: SliceInput['manifest'] = {
  name: 'test',
  description: 'test slice',
  source: { kind: 'synthetic', generator: 'test/helpers.ts' },
  seed: 7,
  pipeline: { k: 4, budgetMs: 100 },
};

/** Writes a slice from the fixture into a temp folder. */
export function makeSlice(nEvents = 50, opts: { manifest?: Partial<SliceInput['manifest']>; chunkSize?: number; seed?: number } = {}): string {
  const dir = join(tmp(), 'test.slice');
  const f = fixture(nEvents, opts.seed !== undefined ? { seed: opts.seed } : {});
  writeSlice(dir, { manifest: { ...BASE_MANIFEST, ...(opts.manifest ?? {}) }, ...f }, { frozenAt: '2025-01-02T00:00:00.000Z', ...(opts.chunkSize ? { chunkSize: opts.chunkSize } : {}) });
  return dir;
}

const sha = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');

/** Writes a slice folder by hand (bypassing the writer's checks) with correct hashes, for bad-input tests. */
export function rawSlice(eventsText: string, patch: (m: SliceManifest) => void = () => {}): string {
  const dir = join(tmp(), 'raw.slice');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'events.jsonl'), eventsText);
  writeFileSync(join(dir, 'items.jsonl'), '');
  const m: SliceManifest = {
    format: 'recreplay.slice/1',
    name: 'raw',
    description: 'hand-written',
    frozenAt: '2025-01-02T00:00:00Z',
    source: { kind: 'logs' },
    clock: { start: '2025-01-01T00:00:00Z', timezone: 'UTC' },
    seed: 1,
    versions: {},
    schema: { user: {}, item: {}, context: {}, candidate: {} },
    files: [
      { path: 'events.jsonl', sha256: sha(eventsText), bytes: Buffer.byteLength(eventsText), records: eventsText.split('\n').filter((l) => l !== '').length },
      { path: 'items.jsonl', sha256: sha(''), bytes: 0, records: 0 },
    ],
    redaction: { identifiers: 'none', dropped: [] },
    faults: [],
  };
  patch(m);
  writeFileSync(join(dir, 'slice.json'), JSON.stringify(m, null, 2));
  return dir;
}

/** One event line, for raw slices. */
export function eventLine(id: string, t: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ id, t, user: 'u1', candidates: [{ item: 'a', features: { x: 1 } }, { item: 'b', features: { x: 2 } }], served: ['a', 'b'], outcome: { clicks: ['a'] }, ...extra });
}

/** Runs `fn` with long reads moving to the reader thread after `after` blocks. */
export function withPrefetchAfter<T>(after: number, fn: () => T): T {
  const was = Slice.prefetchAfterBlocks;
  Slice.prefetchAfterBlocks = after;
  try {
    return fn();
  } finally {
    Slice.prefetchAfterBlocks = was;
  }
}

/** The UserError `fn` throws (a test fails when it throws something else, or nothing). */
export function caught(fn: () => unknown): UserError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof UserError, String(e));
    return e;
  }
  assert.fail('no error');
}

/** How many descriptors of this process are open on `path` (Linux, through /proc); 0 where /proc is not there. */
export function openOn(path: string): number {
  if (!existsSync('/proc/self/fd')) return 0;
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === path;
    } catch {
      return false;
    }
  }).length;
}

/**
 * Counts turns of the event loop from now until stop(), with a self-rescheduling immediate: work
 * that never hands the thread back runs within one turn, however long it takes.
 */
export function turnCounter(): { readonly turns: number; stop(): void } {
  let turns = 0;
  let ticking = true;
  const tick = () => {
    turns++;
    if (ticking) setImmediate(tick);
  };
  setImmediate(tick);
  return {
    get turns() {
      return turns;
    },
    stop: () => void (ticking = false),
  };
}

/** The offsets a cached index file holds (its seal, the last 32 bytes, left out). */
export function readIndexFile(p: string): Float64Array {
  const b = readFileSync(p);
  return new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length - 32));
}

/**
 * Writes `offsets` as the cached index file `p` (…/index-KEY.f64), sealed as a run would seal it:
 * tests of what a wrong but well-sealed index does (a bug, not an edit) get past the seal.
 */
export function writeIndexFile(p: string, offsets: Float64Array | number[]): void {
  const key = /^index-(.*)\.f64$/.exec(basename(p))?.[1];
  if (key === undefined) throw new Error(`${p} is not a cached index`);
  rmSync(p, { force: true });
  storeIndex(key, new OffsetIndex(Float64Array.from(offsets)), dirname(p));
}

/**
 * Runs `fn` counting the elements that includes(), indexOf() and find() scan — a measure of work
 * that does not depend on the machine: a list searched once per element of another grows as the
 * product of their lengths. Past `limit` elements it throws at once (a quadratic path fails fast).
 */
export async function scanned<T>(limit: number, fn: () => T | Promise<T>): Promise<{ result: T; elements: number }> {
  const proto = Array.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
  const saved = { includes: proto['includes'], indexOf: proto['indexOf'], find: proto['find'] };
  let elements = 0;
  for (const name of ['includes', 'indexOf', 'find'] as const) {
    const original = saved[name] as (...args: unknown[]) => unknown;
    proto[name] = function (this: unknown[], ...args: unknown[]) {
      elements += this.length;
      if (elements > limit) {
        Object.assign(proto, saved);
        throw new assert.AssertionError({ message: `more than ${limit} list elements scanned (${name} of ${this.length})` });
      }
      return original.apply(this, args);
    };
  }
  try {
    return { result: await fn(), elements };
  } finally {
    Object.assign(proto, saved);
  }
}
