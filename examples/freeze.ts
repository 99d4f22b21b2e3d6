/**
 * Freezing a slice from your own logs: a worked example.
 *
 *   node --import tsx examples/freeze.ts OUT.slice [REQUESTS.jsonl] [CATALOG.jsonl] [--frozen-at TIME] [--overwrite]
 *
 * Reads a request log (one JSON object per served request: what was shown with the model's score
 * and features, what was served, what was clicked, stage latencies) and a product catalogue — by
 * default the small ones in examples/logs/ — maps each record to RecReplay's shapes, and writes
 * OUT.slice with writeSlice: hashes, counts, offset index and feature schema are filled in, and
 * the folder appears only when complete. Copy this file and change checkRequest/toEvent and
 * checkRow/toItem to your log's fields; the rest stays as it is. Then: `npx recreplay verify
 * OUT.slice`, `npx recreplay run OUT.slice`.
 *
 * The log is read once, so it may be a pipe (`zcat requests.jsonl.gz | node --import tsx
 * examples/freeze.ts OUT.slice /dev/stdin`), and the sha256 recorded is of the bytes frozen even
 * if the log grows meanwhile. The writer takes its events after the users, so the events are read
 * again from a private copy of the log in the temp folder (TMPDIR): it needs that much free space.
 *
 * --frozen-at TIME   the freeze time slice.json records (RFC 3339 with a timezone, e.g.
 *                    2025-07-21T09:15:00Z; default: now). The inputs are recorded by file name and
 *                    sha256, not by the path typed, so with --frozen-at the same log and catalogue
 *                    give a byte-identical slice, from any folder.
 * --overwrite        replace OUT when it is a slice (or an empty folder): only once the new slice
 *                    is complete, and never a folder of anything else.
 *
 * Exit codes: 0 written · 2 usage (no OUT, an unknown option, a --frozen-at that is not a time) ·
 * 3 bad input: a log or catalogue line (named FILE:LINE), a path that cannot be read or written,
 * OUT already exists · 70 a bug in the script (the stack says where). Ctrl-C stops it at once:
 * nothing appears at OUT, and the next freeze to OUT removes the temp folder it left.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, openSync, readSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { UserError, shown } from '../src/core/errors';
import { parseEventLine } from '../src/core/slice/events';
import { lineText } from '../src/core/slice/utf8';
import { writeSlice } from '../src/core/slice/writer';
import { instantHint, parseInstant } from '../src/core/time';
import type { EventRecord, FeatureValue, ItemRecord, UserRecord } from '../src/core/slice/types';

// ─── Your log's shapes and how they map to RecReplay's: the part you change ───────────────────

/** One line of the request log (your system's shape, not RecReplay's). */
interface LoggedRequest {
  request_id: string;
  ts_ms: number;
  customer: string;
  /** null or left out when not known. */
  device?: string | null;
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

/** "got 12" for a value, "it is missing" for none: the end of a message about a field. */
function got(v: unknown): string {
  return v === undefined ? 'it is missing' : `got ${shown(v)}`;
}

/** Checks what toEvent reads, so a log line of another shape is named (file:line) instead of crashing the mapping. */
function checkRequest(r: LoggedRequest, file: string, line: number): void {
  const bad = (field: string, what: string, hint = 'Fix the line, or change checkRequest/toEvent in your copy of this script to your log\'s fields.') => {
    throw new UserError(`${field} ${what}`, { file, line, field }, hint);
  };
  if (typeof r !== 'object' || r === null || Array.isArray(r)) bad('(line)', 'must be a JSON object');
  // The request id is the event's id: left empty, the writer would refuse it as the event's "id".
  if (typeof r.request_id !== 'string' || r.request_id === '') bad('request_id', `must be the request's id, a non-empty string: ${got(r.request_id)}`, 'Write the id your system gave the request, e.g. "request_id": "req-0001".');
  if (typeof r.ts_ms !== 'number' || !Number.isFinite(new Date(r.ts_ms).getTime())) {
    bad('ts_ms', `must be a time in epoch milliseconds: ${got(r.ts_ms)}`, 'Write the request\'s time as milliseconds since 1970-01-01T00:00:00Z, e.g. "ts_ms": 1753088400000 (or convert a text time in checkRequest/toEvent in your copy of this script).');
  }
  // The customer is the event's user and a line of users.jsonl: left empty, the writer would refuse
  // that line, naming a users file the user never gave.
  if (typeof r.customer !== 'string' || r.customer === '') {
    bad(
      'customer',
      `must be the id of the customer the request was for, a non-empty string: ${got(r.customer)}`,
      'Write the customer\'s id, e.g. "customer": "cust_001". If your log leaves it empty when no one is signed in, give those requests an id in your copy of this script (checkRequest and toEvent): the session\'s, or one such as "anonymous" for all.',
    );
  }
  // The event's context: a device of another type would be replayed as it is, and `context.device == "ios"` be false for it unnoticed.
  if (r.device !== undefined && r.device !== null && typeof r.device !== 'string') bad('device', `must be the device's name, a string: ${got(r.device)}`, 'Write it as a string, e.g. "device": "ios", or leave it out (or null) when it is not known.');
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
    ...(typeof r.device === 'string' ? { context: { device: r.device } } : {}),
    candidates: r.shown.map((s) => ({ item: s.sku, features: { ctr_7d: s.ctr_7d, days_listed: s.days_listed }, score: s.model_score })),
    served: r.served,
    outcome: { clicks: r.clicked },
    system: { latencyMs: { retrieve: r.latency_ms.retrieve, score: r.latency_ms.score } },
  };
}

/**
 * Checks what toItem reads. The writer would accept most mistakes silently: a row without
 * "listed" becomes an item that is always available.
 */
function checkRow(c: CatalogRow, file: string, line: number): void {
  const bad = (field: string, what: string, hint: string) => {
    throw new UserError(`${field} ${what}`, { file, line, field }, hint);
  };
  if (typeof c !== 'object' || c === null || Array.isArray(c)) {
    bad('(line)', 'must be a JSON object', 'Each line of the catalogue is one product: {"sku": "sku_00", "department": "shoes", "price_eur": 19.0, "listed": "2025-06-01T00:00:00Z"}.');
  }
  if (typeof c.sku !== 'string' || c.sku === '') bad('sku', `must be the product's id, a string: ${got(c.sku)}`, 'Write it as a string, e.g. "sku": "sku_00".');
  if (typeof c.department !== 'string') bad('department', `must be a string: ${got(c.department)}`, 'Write it as a string, e.g. "department": "shoes".');
  const price: unknown = c.price_eur;
  if (typeof price !== 'number' || !Number.isFinite(price)) {
    // "34.00" in quotes is a string: the slice would type price_eur as one, and rankers would read 0.
    const quoted = typeof price === 'string' && price.trim() !== '' && Number.isFinite(Number(price));
    bad('price_eur', `must be a number: ${got(price)}`, quoted ? `Write the number without quotes: "price_eur": ${price}.` : 'Write the price in euros as a number, e.g. "price_eur": 19.0.');
  }
  // Only that it is there: the writer checks the timestamp itself, by the rules the slice reader uses.
  if (typeof c.listed !== 'string') {
    bad('listed', `must be the time the product was listed: ${got(c.listed)}`, 'Write it as a timestamp with a timezone, e.g. "listed": "2025-06-01T00:00:00Z" (without one the item would count as always available).');
  }
}

function toItem(c: CatalogRow): ItemRecord {
  return { id: c.sku, category: c.department, features: { price_eur: c.price_eur }, available: [{ from: c.listed }] };
}

// ─── Reading the files, and what the writer cannot see ──────────────────────────────────────────

/** Where each feature was first seen and as what type (see sameTypes). */
type FirstSeen = Map<string, { type: string; line: number }>;

/**
 * The writer types each feature from its values: one price written "34.00" would make price_eur a
 * string for the whole slice, silently. So a feature must keep the type it had where it was first seen.
 */
function sameTypes(first: FirstSeen, features: Record<string, FeatureValue> | undefined, file: string, line: number): void {
  for (const [name, value] of Object.entries(features ?? {})) {
    // null or left out is a missing value, of no type.
    if (value === null || value === undefined) continue;
    const type = typeof value;
    const seen = first.get(name);
    if (seen === undefined) first.set(name, { type, line });
    else if (seen.type !== type) {
      const unquote = seen.type === 'number' && type === 'string' ? ' (no quotes)' : '';
      throw new UserError(
        `feature ${name} is a ${type} here (${shown(value)}) but a ${seen.type} on line ${seen.line}`,
        { file, line, field: name },
        `A feature has one type in every line: write it as a ${seen.type}${unquote}, or convert it in your copy of toEvent/toItem.`,
      );
    }
  }
}

/** "1 event shows" or "24 events show": the start of a warning that counts events. */
function events(n: number, one: string, many: string): string {
  return n === 1 ? `1 event ${one}` : `${n} events ${many}`;
}

/** Before 2001, and 1000 times later still before 2100: an epoch time in seconds read as milliseconds. */
const Y2001 = Date.UTC(2001, 0, 1);
const Y2100 = Date.UTC(2100, 0, 1);

/**
 * The events' times against the catalogue's availability windows, as the log is read. The writer
 * accepts an item shown outside its windows (a catalogue may date a listing late), but a replay
 * drops such a candidate: a log whose times are off — seconds read as milliseconds, another
 * timezone — replays with nothing served (empty_slate on every event), and nothing else says why.
 */
class TimeChecks {
  /** The windows of the items that have any, in ms (an item with none is always available). */
  private readonly windows = new Map<string, { from: number; to: number }[]>();
  private readonly shownWindows = new Map<string, string>();
  private unavailable = 0;
  private firstUnavailable = '';
  private early = 0;
  private firstEarly = '';

  constructor(items: ItemRecord[]) {
    for (const it of items) {
      if (!it.available || it.available.length === 0) continue;
      // A bound the core cannot read fails the freeze in the writer: here it only must not warn.
      const ms = (b: string | undefined, open: number) => (b === undefined ? open : parseInstant(b));
      const w = it.available.map((a) => ({ from: ms(a.from, -Infinity), to: ms(a.to, Infinity) }));
      if (w.some((a) => Number.isNaN(a.from) || Number.isNaN(a.to))) continue;
      this.windows.set(it.id, w);
      const text = it.available.map((a) => [a.from && `from ${a.from}`, a.to && `until ${a.to}`].filter(Boolean).join(' ') || 'always');
      this.shownWindows.set(it.id, text.length > 3 ? `${text.slice(0, 3).join(' or ')} or ${text.length - 3} more windows` : text.join(' or '));
    }
  }

  /** `where` is the event's log line (file:line). */
  check(ev: EventRecord, where: string): void {
    const t = parseInstant(ev.t);
    if (Number.isNaN(t)) return;
    if (t < Y2001 && t * 1000 >= Y2001 && t * 1000 < Y2100 && this.early++ === 0) {
      this.firstEarly = `${where} at ${ev.t} — the log's times look like seconds read as milliseconds (multiplied by 1000, the first would be ${new Date(t * 1000).toISOString()}): if they are, multiply them by 1000 in your copy of toEvent`;
    }
    if (this.windows.size === 0) return;
    // The engine's rule (isAvailable in src/core/engine/stages.ts): from <= t < to, in any window.
    const out = (item: string) => this.windows.get(item)?.every((w) => !(w.from <= t && t < w.to)) === true;
    const cand = ev.candidates.find((c) => out(c.item))?.item;
    const served = cand === undefined ? ev.served.find(out) : undefined;
    const item = cand ?? served;
    if (item !== undefined && this.unavailable++ === 0) {
      this.firstUnavailable = `${where} ${cand !== undefined ? 'candidate' : 'served item'} ${shown(item)} at ${ev.t}, available ${this.shownWindows.get(item)}`;
    }
  }

  warnings(): string[] {
    const out: string[] = [];
    if (this.early > 0) out.push(`${events(this.early, 'is dated before 2001', 'are dated before 2001')}; first: ${this.firstEarly}`);
    if (this.unavailable > 0) {
      out.push(
        `${events(this.unavailable, 'shows items that are not available at the event\'s time', 'show items that are not available at the event\'s time')} (by the catalogue's availability windows); first: ${this.firstUnavailable} — a replay drops a candidate outside its windows, so these events replay with fewer candidates, and one with none left serves nothing (an empty_slate fault); check that the log's times and the catalogue's mean the same instants (unit, timezone)`,
      );
    }
    return out;
  }
}

/** The log is read in blocks of this many bytes: a log of any size is never held whole. */
const BLOCK_BYTES = 1 << 20;

/** A file that cannot be opened or read is the user's to fix: said in one line, never a stack trace. */
function cannotRead(e: unknown, path: string, what: string): unknown {
  const code = (e as NodeJS.ErrnoException).code;
  if (typeof code !== 'string') return e;
  const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : (e as Error).message;
  return new UserError(`cannot read the ${what} (${why}): give the path of a file you can read; a relative path starts from ${process.cwd()}`, { file: path });
}

/** Reads the next block into `buf` and says how many bytes it holds (0 at the end). */
type ReadBlock = (buf: Buffer) => number;

/** The records of a JSONL file with their line numbers (a blank line is counted and skipped), its blocks given by `read`. */
function* jsonLines<T>(path: string, read: ReadBlock): Generator<{ value: T; line: number }> {
  const buf = Buffer.alloc(BLOCK_BYTES);
  // Lines are cut at their newline bytes and each is decoded whole: a character split across two
  // blocks (Cyrillic, Greek, CJK, emoji take 2 to 4 bytes in UTF-8) keeps its bytes, and a line
  // that is not UTF-8 (a Latin-1 "é" is the single byte 0xE9) is refused with its line and column,
  // as the slice reader refuses it, instead of being decoded to U+FFFD — which would silently merge
  // "café" and "cafè" into one id.
  let pending: Buffer[] = [];
  let line = 0;
  const record = (bytes: Buffer): { value: T; line: number } | undefined => {
    line++;
    const text = lineText(bytes, 0, bytes.length, path, line);
    if (text.trim() === '') return undefined;
    try {
      return { value: JSON.parse(text) as T, line };
    } catch (e) {
      if (!(e instanceof SyntaxError)) throw e;
      // The slice reader's parser explains what JSON.parse's message hides (a byte-order mark,
      // NaN or Infinity): for a line that is not JSON it throws that error, which is ours.
      parseEventLine(text, path, line);
      throw e;
    }
  };
  for (;;) {
    const n = read(buf);
    if (n === 0) {
      // The last line, when the file does not end with a newline.
      if (pending.length > 0) {
        const r = record(Buffer.concat(pending));
        if (r) yield r;
      }
      return;
    }
    const block = buf.subarray(0, n);
    let start = 0;
    for (let nl = block.indexOf(10); nl !== -1; start = nl + 1, nl = block.indexOf(10, start)) {
      const bytes = pending.length > 0 ? Buffer.concat([...pending, block.subarray(start, nl)]) : block.subarray(start, nl);
      pending = [];
      const r = record(bytes);
      if (r) yield r;
    }
    // `buf` is read into again: the start of a line that goes on keeps a copy of its bytes.
    if (start < n) pending.push(Buffer.from(block.subarray(start)));
  }
}

/**
 * The records of the file at `path`, read once from its start (a pipe too). Each block read is
 * given to `seen` first: the file's sha256 and the copy for the writer's pass (see Spool) are of
 * exactly the bytes the records came from, and cost no second reading.
 */
function* fileLines<T>(path: string, what: string, seen: (block: Buffer) => void): Generator<{ value: T; line: number }> {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw cannotRead(e, path, what);
  }
  try {
    yield* jsonLines<T>(path, (buf) => {
      let n: number;
      try {
        n = readSync(fd, buf);
      } catch (e) {
        throw cannotRead(e, path, what);
      }
      seen(buf.subarray(0, n));
      return n;
    });
  } finally {
    closeSync(fd);
  }
}

/**
 * A private copy of the request log, made as the first pass reads it. The writer needs the users
 * and the log's sha256 before its first event, so the events are read a second time — from this
 * copy, never from the log: a pipe cannot be read twice, and a log appended to (or rewritten)
 * between two reads would put in the slice lines that were never checked, under the sha256 of
 * other bytes. The file is removed from its folder as soon as it is open, so even a Ctrl-C leaves
 * nothing behind (where the system allows it: otherwise close() removes it).
 */
class Spool {
  private readonly path: string;
  private readonly fd: number;
  private bytes = 0;
  private unlinked = false;

  constructor(private readonly log: string) {
    this.path = join(tmpdir(), `recreplay-freeze-${process.pid}-${randomBytes(6).toString('hex')}.jsonl`);
    // Only this process may read it: a log holds customers' data, and the temp folder is shared.
    this.fd = this.io(() => openSync(this.path, 'wx+', 0o600));
    try {
      unlinkSync(this.path);
      this.unlinked = true;
    } catch {
      // Windows may keep the name of an open file: close() removes it.
    }
  }

  write(block: Buffer): void {
    for (let off = 0; off < block.length; ) off += this.io(() => writeSync(this.fd, block, off, block.length - off, this.bytes + off));
    this.bytes += block.length;
  }

  /** The copy's blocks from its start, for jsonLines. */
  reader(): ReadBlock {
    let at = 0;
    return (buf) => {
      const n = this.io(() => readSync(this.fd, buf, 0, Math.min(buf.length, this.bytes - at), at));
      at += n;
      return n;
    };
  }

  close(): void {
    closeSync(this.fd);
    if (!this.unlinked) rmSync(this.path, { force: true });
  }

  /** The temp folder's failures (most likely a full disk) said as such: not as OUT's, which the script's catch would name. */
  private io<T>(f: () => T): T {
    try {
      return f();
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (typeof code !== 'string') throw e;
      const why = code === 'ENOSPC' || code === 'EDQUOT' ? 'the disk is full' : (e as Error).message;
      throw new UserError(
        `cannot copy the request log to a temp file in ${tmpdir()} (${why})`,
        { file: this.log },
        'The freeze keeps a copy of the log there while it writes the slice: free that much space, or set TMPDIR to a folder on a disk with room.',
      );
    }
  }
}

// ─── The freeze ──────────────────────────────────────────────────────────────────────────────────

/** What the command line asks for. */
interface FreezeJob {
  out: string;
  requests: string;
  catalog: string;
  frozenAt: string;
  /** Replace OUT when it is a slice or an empty folder (the writer's overwrite). */
  overwrite: boolean;
}

/** What to print, and the exit code. */
interface FreezeResult {
  code: number;
  stdout: string[];
  stderr: string[];
}

/**
 * What writeSlice returns, as this script reads it. `warnings` (what a replay accepts but reads in
 * a way worth knowing) is read only when there, so the script also runs with a writer that has none.
 */
interface WriteResult {
  manifest: { files: { path: string; records?: number }[] };
  warnings?: unknown;
}

function freeze({ out, requests, catalog, frozenAt, overwrite }: FreezeJob): FreezeResult {
  // The writer names an event or item by its number; these say which line of the file it came from.
  let lastLine = 0;
  const catalogLines: number[] = [];
  const requestLines: number[] = [];
  let spool: Spool | undefined;
  try {
    const catalogHash = createHash('sha256');
    const items: ItemRecord[] = [];
    const itemTypes: FirstSeen = new Map();
    for (const { value, line } of fileLines<CatalogRow>(catalog, 'catalogue', (block) => catalogHash.update(block))) {
      checkRow(value, catalog, line);
      const item = toItem(value);
      sameTypes(itemTypes, item.features, catalog, line);
      items.push(item);
      catalogLines.push(line);
    }
    // The one pass over the log checks every line before anything is written, and collects the
    // users: the customers seen in the log (add segments or features from your user table here).
    const requestsHash = createHash('sha256');
    const copy = (spool = new Spool(requests));
    const times = new TimeChecks(items);
    const users = new Map<string, UserRecord>();
    const candidateTypes: FirstSeen = new Map();
    const read = (block: Buffer) => {
      requestsHash.update(block);
      copy.write(block);
    };
    for (const { value, line } of fileLines<LoggedRequest>(requests, 'request log', read)) {
      checkRequest(value, requests, line);
      requestLines.push(line);
      const ev = toEvent(value);
      for (const c of ev.candidates) sameTypes(candidateTypes, c.features, requests, line);
      times.check(ev, `${requests}:${line}`);
      users.set(value.customer, { id: value.customer });
    }
    // Said of the log itself: the writer's own "no events to freeze" names no file.
    if (requestLines.length === 0) {
      throw new UserError('the request log holds no requests: it is empty, or only blank lines', { file: requests }, 'Give the log with one JSON object per served request, one per line: a slice needs at least one event.');
    }
    const result: WriteResult = writeSlice(
      out,
      {
        manifest: {
          name: 'my-first-slice',
          description: 'Requests 09:00-09:15 on 2025-07-21, frozen from the request log',
          // The inputs by name and content, not by the path typed: the same files give the same
          // manifest from any folder, and the hashes say which files they were.
          source: { kind: 'logs', query: `${basename(requests)} sha256:${requestsHash.digest('hex')} + ${basename(catalog)} sha256:${catalogHash.digest('hex')}` },
          seed: 1,
          pipeline: { k: 5, budgetMs: 80 },
        },
        // A generator: events are streamed into the slice as they are read and mapped — from the
        // copy of the bytes the first pass checked and hashed, line for line (see Spool).
        events: (function* () {
          for (const { value, line } of jsonLines<LoggedRequest>(requests, copy.reader())) {
            lastLine = line;
            yield toEvent(value);
          }
        })(),
        items,
        users: [...users.values()],
      },
      // The freeze time comes from the caller (the engine never reads the clock).
      { frozenAt, overwrite },
    );
    // The writer's warnings name records by number too (events:17, items:4): said as file:line here.
    const atLine = (w: string) =>
      w.replace(/\b(events|items):(\d+)/g, (whole, file: string, n: string) => {
        const line = (file === 'events' ? requestLines : catalogLines)[Number(n) - 1];
        return line === undefined ? whole : `${file === 'events' ? requests : catalog}:${line}`;
      });
    const warnings = [...times.warnings(), ...(Array.isArray(result.warnings) ? result.warnings.map((w) => atLine(String(w))) : [])].map((w) => `warning: ${w}`);
    const events = result.manifest.files.find((f) => f.path === 'events.jsonl');
    return { code: 0, stdout: [`froze ${events?.records} events, ${items.length} items and ${users.size} users into ${out}`], stderr: warnings };
  } catch (e) {
    if (e instanceof UserError) {
      // A record the writer refused is said as the line of the log or catalogue it came from.
      const at = (file: string, line: number | undefined) => new UserError(e.message, { file, ...(line !== undefined ? { line } : {}), ...(e.where.field ? { field: e.where.field } : {}) }, e.hint);
      // The writer's option is this script's flag.
      if (e.code === 'E_EXISTS' && !overwrite && /already exists/.test(e.message)) return { code: 3, stdout: [], stderr: [`freeze failed: ${new UserError(e.message, e.where, 'Choose another name, or pass --overwrite to replace the slice there (once the new one is complete).').describe()}`] };
      const err = e.where.file === 'events' ? at(requests, lastLine) : e.where.file === 'items' && e.where.line !== undefined ? at(catalog, catalogLines[e.where.line - 1]) : e;
      return { code: 3, stdout: [], stderr: [`freeze failed: ${err.describe()}`] };
    }
    // A path the system refused (OUT in a folder that cannot be written, a full disk): the message names it.
    if (typeof (e as NodeJS.ErrnoException).syscall === 'string') return { code: 3, stdout: [], stderr: [`freeze failed: cannot write ${out}: ${(e as Error).message}`] };
    throw e;
  } finally {
    spool?.close();
  }
}

// ─── The command line ───────────────────────────────────────────────────────────────────────────

const USAGE = `usage: node --import tsx examples/freeze.ts OUT.slice [REQUESTS.jsonl] [CATALOG.jsonl] [--frozen-at TIME] [--overwrite]
  --frozen-at TIME   the freeze time to record, e.g. 2025-07-21T09:15:00Z (default: now): the same inputs then give the same slice
  --overwrite        replace OUT when it is a slice (or an empty folder), once the new one is complete`;

function usage(problem: string): void {
  console.error(`${problem}\n${USAGE}`);
  process.exitCode = 2;
}

// Ctrl-C stops the freeze at once. Nothing appears at OUT: the writer builds the slice in a temp
// folder beside it (OUT.tmp-…), renamed into place only when complete, and the next freeze to OUT
// removes a temp folder that a stopped freeze left.
function main(): void {
  let args;
  try {
    args = parseArgs({ allowPositionals: true, options: { 'frozen-at': { type: 'string' }, overwrite: { type: 'boolean' } } });
  } catch (e) {
    return usage((e as Error).message);
  }
  const [out, requests = join(__dirname, 'logs/requests.jsonl'), catalog = join(__dirname, 'logs/catalog.jsonl'), extra] = args.positionals;
  if (!out) return usage('OUT.slice is missing.');
  if (extra !== undefined) return usage(`one argument too many: ${extra}`);
  const at = args.values['frozen-at'];
  const ms = at === undefined ? Date.now() : parseInstant(at);
  if (Number.isNaN(ms)) return usage(`--frozen-at ${shown(at)} is not a time. ${instantHint(at)}`);
  // Written in UTC, so one instant is always written the same way.
  const frozenAt = new Date(ms).toISOString();
  const result = freeze({ out, requests, catalog, frozenAt, overwrite: args.values.overwrite === true });
  for (const line of result.stderr) console.error(line);
  for (const line of result.stdout) console.log(line);
  process.exitCode = result.code;
}

try {
  main();
} catch (e) {
  // Anything else is a bug in this script: its stack says where, and the exit code says which kind of failure (sysexits' EX_SOFTWARE).
  console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.exitCode = 70;
}
