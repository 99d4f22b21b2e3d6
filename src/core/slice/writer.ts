import { createHash, type Hash } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { ensureDir, pidRuns, removeCreatedDirs, statOrNothing } from '../dirs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { UserError, shown } from '../errors';
import { TOOL_NAME, TOOL_VERSION } from '../version';
import { checkEvent, checkRecord, timeOf } from './events';
import { DEFAULT_CHUNK_SIZE, MAX_CHUNK_SIZE, MIN_CHUNK_SIZE, sha256 } from './hashing';
import { checkInside, validateManifest } from './manifest';
import { OffsetIndex, storeIndex } from './offsetIndex';
import { SLICE_FORMAT, type EventRecord, type FeatureType, type FileEntry, type ItemRecord, type SliceManifest, type UserRecord } from './types';

/** What a caller supplies; the writer fills format, files, hashes, counts, clock and defaults. */
export interface SliceInput {
  manifest: Omit<SliceManifest, 'format' | 'files' | 'frozenAt' | 'clock' | 'schema' | 'redaction' | 'faults' | 'versions'> &
    Partial<Pick<SliceManifest, 'schema' | 'redaction' | 'faults' | 'versions'>> & {
      /** Default: the first event's time, in UTC; either part may be given alone. */
      clock?: Partial<SliceManifest['clock']>;
    };
  events: Iterable<EventRecord>;
  items?: ItemRecord[];
  users?: UserRecord[];
  /** Extra files under artifacts/ (relative name → content). */
  artifacts?: Record<string, string | Buffer>;
}

export interface WriteOptions {
  /** ISO time of the freeze; taken from the caller because the core has no wall clock. */
  frozenAt: string;
  overwrite?: boolean;
  chunkSize?: number;
  cacheDir?: string;
}

/** Streams bytes to a file while computing the whole-file and per-chunk sha256 and line offsets. */
class HashingFileWriter {
  private fd: number;
  private whole = createHash('sha256');
  private chunk: Hash = createHash('sha256');
  private inChunk = 0;
  readonly chunks: string[] = [];
  bytes = 0;
  private pending: string[] = [];
  private pendingLen = 0;

  constructor(
    path: string,
    private readonly chunkSize: number,
  ) {
    this.fd = openSync(path, 'w');
  }

  write(text: string): void {
    this.pending.push(text);
    this.pendingLen += text.length;
    if (this.pendingLen > 1 << 20) this.flush();
  }

  private flush(): void {
    if (!this.pending.length) return;
    const buf = Buffer.from(this.pending.join(''), 'utf8');
    this.pending = [];
    this.pendingLen = 0;
    writeSync(this.fd, buf);
    this.whole.update(buf);
    let off = 0;
    while (off < buf.length) {
      const take = Math.min(this.chunkSize - this.inChunk, buf.length - off);
      this.chunk.update(buf.subarray(off, off + take));
      this.inChunk += take;
      off += take;
      if (this.inChunk === this.chunkSize) {
        this.chunks.push(this.chunk.digest('hex'));
        this.chunk = createHash('sha256');
        this.inChunk = 0;
      }
    }
    this.bytes += buf.length;
  }

  close(): { sha256: string; bytes: number; chunks: string[] } {
    this.flush();
    if (this.inChunk > 0) this.chunks.push(this.chunk.digest('hex'));
    this.release();
    return { sha256: this.whole.digest('hex'), bytes: this.bytes, chunks: this.chunks };
  }

  /** Closes the file once (a failed write closes it too: one descriptor per failure leaked before). */
  release(): void {
    if (this.fd < 0) return;
    closeSync(this.fd);
    this.fd = -1;
  }
}

function inferType(v: unknown): FeatureType | undefined {
  if (typeof v === 'number') return 'number';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'boolean';
  return undefined;
}

function note(schema: Record<string, FeatureType>, features: Record<string, unknown> | undefined): void {
  if (!features) return;
  for (const k in features) {
    // A feature that is not always a number is not typed one: the reader refuses a string where the
    // schema says "number", so typing it by its first value could write a slice that does not open.
    // Own entries only: a feature named "constructor" or "toString" is a feature like any other.
    const was = Object.hasOwn(schema, k) ? schema[k] : undefined;
    if (was === undefined || was === 'number') {
      const t = inferType(features[k]);
      // defineProperty: "__proto__" is a feature name like any other, not the object's prototype.
      if (t) Object.defineProperty(schema, k, { value: t, enumerable: true, writable: true, configurable: true });
    }
  }
}

/** Keys from the record down to the value hasNonFinite found (reused: no allocation while all is well). */
const pathKeys: (string | number)[] = [];

/** Whether hasNonFinite met an object with a toJSON (what is written is then not what it walked). */
let sawToJSON = false;

function hasNonFinite(v: unknown): boolean {
  if (typeof v === 'number') return !Number.isFinite(v);
  if (typeof v !== 'object' || v === null) return false;
  if (typeof (v as { toJSON?: unknown }).toJSON === 'function') sawToJSON = true;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      pathKeys.push(i);
      if (hasNonFinite(v[i])) return true;
      pathKeys.pop();
    }
    return false;
  }
  for (const k in v) {
    pathKeys.push(k);
    if (hasNonFinite((v as Record<string, unknown>)[k])) return true;
    pathKeys.pop();
  }
  return false;
}

/**
 * JSON.stringify writes NaN and ±Infinity as null, silently changing the record: any such number,
 * however deep, is refused with its path (e.g. `system.latencyMs.score`).
 */
function checkFinite(value: unknown, file: string, record: number): void {
  pathKeys.length = 0;
  if (!hasNonFinite(value)) return;
  const field = pathKeys.map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? k : `.${k}`)).join('');
  let v: unknown = value;
  for (const k of pathKeys) v = (v as Record<string | number, unknown>)[k];
  throw new UserError(`${field} is ${String(v)}, which JSON cannot hold (it would be written as null)`, { file, line: record, field }, 'Write null for a missing value, or fix the producer of the record.');
}

/**
 * A record as the line it will be written as. What is checked is that line read back, not the
 * object: a getter, a toJSON or a class instance writes something else than it shows.
 */
function lineOf(value: unknown, file: string, record: number): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (e) {
    // A BigInt, a cycle: JSON cannot hold it.
    throw new UserError(`${file} record ${record} cannot be written as JSON: ${(e as Error).message}`, { file, line: record }, 'Records hold JSON values only: numbers, strings, booleans, null, arrays and plain objects.');
  }
  if (typeof text !== 'string') throw new UserError(`${file} record ${record} is ${String(value)}, not a JSON object`, { file, line: record }, 'Pass one plain object per record.');
  sawToJSON = false;
  checkFinite(value, file, record);
  if (sawToJSON) {
    // A toJSON may return what the walk above never saw: the values as written are checked too.
    let bad: string | undefined;
    JSON.stringify(value, (k, v: unknown) => {
      if (bad === undefined && typeof v === 'number' && !Number.isFinite(v)) bad = k;
      return v;
    });
    if (bad !== undefined) throw new UserError(`${bad} is not finite in ${file} record ${record} as its toJSON writes it (it would be written as null)`, { file, line: record, field: bad }, 'Write null for a missing value, or fix the producer of the record.');
  }
  return text;
}

/** Items and users, as written: each line gets the reader's checks (so the slice opens) and the finite-number check. */
function recordLines(records: unknown, file: 'items' | 'users', types?: Readonly<Record<string, FeatureType>>): { text: string; rows: (ItemRecord | UserRecord)[] } {
  if (!Array.isArray(records)) throw new UserError(`${file} must be an array of records, got ${shown(records)}`, { field: file }, `Pass the ${file} as an array (e.g. [...set]).`);
  const kind = file === 'items' ? 'item' : 'user';
  const lines: string[] = [];
  const rows: (ItemRecord | UserRecord)[] = [];
  for (let i = 0; i < records.length; i++) {
    const line = lineOf(records[i], file, i + 1);
    const row: unknown = JSON.parse(line);
    checkRecord(row, file, i + 1, kind, types);
    lines.push(line + '\n');
    rows.push(row as ItemRecord | UserRecord);
  }
  return { text: lines.join(''), rows };
}

function isIterable(v: unknown): v is Iterable<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { [Symbol.iterator]?: unknown })[Symbol.iterator] === 'function';
}

/** The manifest of a RecReplay slice at `dir`, or undefined (none there, another tool's slice.json, unreadable). */
function sliceManifestAt(dir: string): { files?: { path?: unknown }[] } | undefined {
  try {
    const m = JSON.parse(readFileSync(join(dir, 'slice.json'), 'utf8').replace(/^\uFEFF/, '')) as { format?: unknown; files?: { path?: unknown }[] };
    return typeof m === 'object' && m !== null && typeof m.format === 'string' && m.format.startsWith('recreplay.slice/') ? m : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether overwrite may replace `dir`: an empty folder, or a RecReplay slice holding nothing but
 * the files its manifest lists — never a folder of something else that merely has a slice.json.
 */
function replaceable(dir: string): boolean {
  const st = statOrNothing(dir);
  if (!st?.isDirectory()) return false;
  const names = readdirSync(dir);
  if (names.length === 0) return true;
  const m = sliceManifestAt(dir);
  if (!m) return false;
  const listed = new Set(['slice.json', ...(Array.isArray(m.files) ? m.files : []).map((f) => String(f?.path ?? '').split(/[\\/]/)[0])]);
  return names.every((n) => listed.has(n));
}

/** The RecReplay slice folder that holds `dir`, if any (a slice folder is never written into). */
function enclosingSlice(dir: string): string | undefined {
  for (let p = dirname(dir); ; p = dirname(p)) {
    if (existsSync(join(p, 'slice.json')) && sliceManifestAt(p)) return p;
    if (dirname(p) === p) return undefined;
  }
}

/** Marks a freeze's temp folder as this process's (removed before the folder becomes the slice). */
const OWNER_FILE = '.recreplay-freeze';

function owner(): { host: string; uid: number; pid: number } {
  return { host: hostname(), uid: process.getuid?.() ?? -1, pid: process.pid };
}

/**
 * Removes the temp folders beside `dir` that a freeze killed midway (Ctrl-C) left: only folders
 * that carry this tool's owner file, written on this host by this user, by a process that is gone —
 * never anything else, and never an error (it is tidying, not the job).
 */
function removeStaleTemps(dir: string): void {
  const parent = dirname(dir);
  const prefix = `${basename(dir)}.tmp-`;
  const me = owner();
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const p = join(parent, name);
    try {
      const o = JSON.parse(readFileSync(join(p, OWNER_FILE), 'utf8')) as { host?: unknown; uid?: unknown; pid?: unknown };
      if (o.host !== me.host || o.uid !== me.uid || typeof o.pid !== 'number' || o.pid === me.pid) continue;
      if (pidRuns(o.pid)) continue;
      rmSync(p, { recursive: true, force: true });
    } catch {
      // No owner file (not ours), unreadable, or removed meanwhile: left as it is.
    }
  }
}

/**
 * Writes a slice folder atomically: everything goes to a temp folder beside the target, which
 * is renamed into place only when complete. Items and users are checked as the reader checks
 * them, events (shape, finite numbers, time order) as they stream through; an error names the
 * file (events, items, users), the record number and the field. Returns the path and the manifest written.
 */
export function writeSlice(outDir: string, input: SliceInput, opts: WriteOptions): { dir: string; manifest: SliceManifest } {
  const dir = resolve(outDir);
  const inside = enclosingSlice(dir);
  if (inside !== undefined) {
    throw new UserError(`${dir} is inside the slice ${inside}`, { file: dir }, 'A slice folder is never written into: write the new slice beside it.', 'E_PATH');
  }
  if (statOrNothing(dir) !== undefined) {
    if (!opts.overwrite) throw new UserError(`${dir} already exists`, { file: dir }, 'Choose another name, or ask for it to be replaced (the writer\'s overwrite option).', 'E_EXISTS');
    // Overwrite replaces an old slice, never a folder of something else (or a file).
    if (!replaceable(dir)) throw new UserError(`${dir} exists and is not a slice folder: overwrite replaces only a slice (a folder with slice.json) or an empty folder`, { file: dir }, 'Choose another name; nothing was changed.', 'E_EXISTS');
  }
  if (!isIterable(input.events)) throw new UserError(`events must be an iterable of event records (an array or a generator), got ${shown(input.events)}`, { field: 'events' }, 'Pass an array or a generator function\'s result; an async iterable must be collected first.');
  const createdParents = ensureDir(dirname(dir), 'slice\'s parent folder');
  removeStaleTemps(dir);
  // A name no other writer has (mkdtemp adds random characters), marked as this process's.
  const tmp = mkdtempSync(`${dir}.tmp-`);
  writeFileSync(join(tmp, OWNER_FILE), JSON.stringify(owner()));
  let w: HashingFileWriter | undefined;
  try {
    const itemLines = recordLines(input.items ?? [], 'items', input.manifest.schema?.item);
    const userLines = recordLines(input.users ?? [], 'users', input.manifest.schema?.user);
    const chunkSize = opts.chunkSize ?? DEFAULT_CHUNK_SIZE;
    if (!Number.isInteger(chunkSize) || chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_CHUNK_SIZE) {
      throw new UserError(`chunk size ${chunkSize} is not a whole number of bytes from ${MIN_CHUNK_SIZE} to ${MAX_CHUNK_SIZE} (1 GiB)`, { field: 'chunkSize' }, `Leave it out for the default (${DEFAULT_CHUNK_SIZE} bytes).`);
    }
    const inferred = { user: {}, item: {}, context: {}, candidate: {} } as SliceManifest['schema'];
    const files: FileEntry[] = [];
    w = new HashingFileWriter(join(tmp, 'events.jsonl'), chunkSize);
    const offsets: number[] = [0];
    let count = 0;
    let lastT = -Infinity;
    let firstT: string | undefined;
    let byteLen = 0;
    for (const given of input.events) {
      count++;
      const text = lineOf(given, 'events', count);
      const ev = checkEvent(JSON.parse(text), 'events', count, false, input.manifest.schema?.candidate, input.manifest.schema?.context);
      const t = timeOf(ev.t);
      if (t < lastT) throw new UserError(`event ${ev.id} is out of time order (${ev.t} is before the previous event)`, { file: 'events', line: count, field: 't' }, 'Sort events by "t" before freezing.');
      lastT = t;
      firstT ??= ev.t;
      note(inferred.context, ev.context);
      for (const c of ev.candidates) note(inferred.candidate, c.features);
      const line = text + '\n';
      w.write(line);
      byteLen += Buffer.byteLength(line);
      offsets.push(byteLen);
    }
    if (count === 0) throw new UserError('no events to freeze', { field: 'events' }, 'A slice needs at least one event.', 'E_EMPTY');
    const ev = w.close();
    files.push({ path: 'events.jsonl', sha256: ev.sha256, bytes: ev.bytes, records: count, chunks: { size: chunkSize, sha256: ev.chunks } });
    const small = (name: string, content: string | Buffer, records?: number) => {
      checkInside(name, join(dir, 'slice.json'));
      const p = join(tmp, name);
      ensureDir(dirname(p));
      writeFileSync(p, content);
      const bytes = typeof content === 'string' ? Buffer.byteLength(content) : content.length;
      files.push({ path: name, sha256: sha256(content), bytes, ...(records !== undefined ? { records } : {}) });
    };
    for (const it of itemLines.rows) note(inferred.item, it.features);
    for (const u of userLines.rows) note(inferred.user, u.features);
    small('items.jsonl', itemLines.text, itemLines.rows.length);
    small('users.jsonl', userLines.text, userLines.rows.length);
    for (const [name, content] of Object.entries(input.artifacts ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      // A plain relative name under artifacts/: "../events.jsonl" would overwrite a file already hashed.
      const parts = name.split(/[\\/]/);
      if (name === '' || isAbsolute(name) || parts.some((p) => p === '' || p === '.' || p === '..')) {
        throw new UserError(`artifact name "${name}" is not a plain relative path inside artifacts/`, { field: `artifacts.${name}` }, 'Name artifacts like "model.json" or "v2/weights.json" (no "..", ".", empty or absolute parts).');
      }
      small(`artifacts/${name}`, content);
    }
    const m = input.manifest;
    const start = m.clock?.start;
    if (start !== undefined && firstT !== undefined && timeOf(start) > timeOf(firstT)) {
      throw new UserError(`clock.start ${start} is after the first event (${firstT})`, { field: 'clock.start' }, 'Leave clock.start out (it is then the first event\'s time), or give the start of the window the events were taken from.');
    }
    const manifest: SliceManifest = {
      format: SLICE_FORMAT,
      ...m,
      frozenAt: opts.frozenAt,
      // The first event's time unless given (a window may start earlier, never later).
      clock: { start: m.clock?.start ?? firstT ?? opts.frozenAt, timezone: m.clock?.timezone ?? 'UTC' },
      versions: { code: { name: TOOL_NAME, version: TOOL_VERSION }, ...(m.versions ?? {}) },
      schema: m.schema ?? inferred,
      files,
      redaction: m.redaction ?? { identifiers: 'as recorded', dropped: [] },
      faults: m.faults ?? [],
    };
    validateManifest(manifest, join(dir, 'slice.json'));
    // The owner mark goes before the folder becomes the slice (a file it does not list would be refused).
    rmSync(join(tmp, OWNER_FILE), { force: true });
    const manifestText = JSON.stringify(manifest, null, 2) + '\n';
    writeFileSync(join(tmp, 'slice.json'), manifestText);
    if (existsSync(dir)) {
      // The old slice is moved aside, not deleted, until the new one is in place: a failure (or a
      // crash) in between never loses both.
      const aside = `${tmp}-old`;
      rmSync(aside, { recursive: true, force: true });
      renameSync(dir, aside);
      try {
        renameSync(tmp, dir);
      } catch (e) {
        renameSync(aside, dir);
        throw e;
      }
      rmSync(aside, { recursive: true, force: true });
    } else renameSync(tmp, dir);
    // The offset index is built at freeze and cached so the first open never scans the file.
    storeIndex(sha256(manifestText), new OffsetIndex(Float64Array.from(offsets)), opts.cacheDir);
    return { dir, manifest };
  } catch (e) {
    w?.release();
    rmSync(tmp, { recursive: true, force: true });
    removeCreatedDirs(createdParents);
    throw e;
  }
}
