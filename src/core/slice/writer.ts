import { createHash, type Hash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { ensureDir, removeCreatedDirs } from '../dirs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { UserError } from '../errors';
import { TOOL_NAME, TOOL_VERSION } from '../version';
import { checkEvent, checkRecord, timeOf } from './events';
import { DEFAULT_CHUNK_SIZE, MAX_CHUNK_SIZE, MIN_CHUNK_SIZE, sha256 } from './hashing';
import { checkInside, validateManifest } from './manifest';
import { OffsetIndex, storeIndex } from './offsetIndex';
import { SLICE_FORMAT, type EventRecord, type FeatureType, type FileEntry, type ItemRecord, type SliceManifest, type UserRecord } from './types';

/** What a caller supplies; the writer fills format, files, hashes, counts, clock and defaults. */
export interface SliceInput {
  manifest: Omit<SliceManifest, 'format' | 'files' | 'frozenAt' | 'clock' | 'schema' | 'redaction' | 'faults' | 'versions'> &
    Partial<Pick<SliceManifest, 'clock' | 'schema' | 'redaction' | 'faults' | 'versions'>>;
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

function hasNonFinite(v: unknown): boolean {
  if (typeof v === 'number') return !Number.isFinite(v);
  if (typeof v !== 'object' || v === null) return false;
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

/** Items and users get the reader's checks (so the slice opens) and the finite-number check. */
function checkRecords(records: { id: unknown }[], file: 'items' | 'users', types?: Readonly<Record<string, FeatureType>>): void {
  const kind = file === 'items' ? 'item' : 'user';
  for (let i = 0; i < records.length; i++) {
    checkRecord(records[i], file, i + 1, kind, types);
    checkFinite(records[i], file, i + 1);
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
  if (existsSync(dir) && !opts.overwrite) {
    throw new UserError(`${dir} already exists`, { file: dir }, 'Choose another name or pass overwrite (--force) to replace it.', 'E_EXISTS');
  }
  const createdParents = ensureDir(dirname(dir), 'slice\'s parent folder');
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  let w: HashingFileWriter | undefined;
  try {
    const items = input.items ?? [];
    const users = input.users ?? [];
    checkRecords(items, 'items', input.manifest.schema?.item);
    checkRecords(users, 'users', input.manifest.schema?.user);
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
    for (const ev of input.events) {
      count++;
      checkEvent(ev, 'events', count, false, input.manifest.schema?.candidate, input.manifest.schema?.context);
      checkFinite(ev, 'events', count);
      const t = timeOf(ev.t);
      if (t < lastT) throw new UserError(`event ${ev.id} is out of time order (${ev.t} is before the previous event)`, { file: 'events', line: count, field: 't' }, 'Sort events by "t" before freezing.');
      lastT = t;
      firstT ??= ev.t;
      note(inferred.context, ev.context);
      for (const c of ev.candidates) note(inferred.candidate, c.features);
      const line = JSON.stringify(ev) + '\n';
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
    const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r) + '\n').join('');
    for (const it of items) note(inferred.item, it.features);
    for (const u of users) note(inferred.user, u.features);
    small('items.jsonl', jsonl(items), items.length);
    small('users.jsonl', jsonl(users), users.length);
    for (const [name, content] of Object.entries(input.artifacts ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      // A plain relative name under artifacts/: "../events.jsonl" would overwrite a file already hashed.
      const parts = name.split(/[\\/]/);
      if (name === '' || isAbsolute(name) || parts.some((p) => p === '' || p === '.' || p === '..')) {
        throw new UserError(`artifact name "${name}" is not a plain relative path inside artifacts/`, { field: `artifacts.${name}` }, 'Name artifacts like "model.json" or "v2/weights.json" (no "..", ".", empty or absolute parts).');
      }
      small(`artifacts/${name}`, content);
    }
    const m = input.manifest;
    const manifest: SliceManifest = {
      format: SLICE_FORMAT,
      ...m,
      frozenAt: opts.frozenAt,
      clock: m.clock ?? { start: firstT ?? opts.frozenAt, timezone: 'UTC' },
      versions: { code: { name: TOOL_NAME, version: TOOL_VERSION }, ...(m.versions ?? {}) },
      schema: m.schema ?? inferred,
      files,
      redaction: m.redaction ?? { identifiers: 'as recorded', dropped: [] },
      faults: m.faults ?? [],
    };
    validateManifest(manifest, join(dir, 'slice.json'));
    const manifestText = JSON.stringify(manifest, null, 2) + '\n';
    writeFileSync(join(tmp, 'slice.json'), manifestText);
    if (existsSync(dir)) {
      // The old slice is moved aside, not deleted, until the new one is in place: a failure (or a
      // crash) in between never loses both.
      const aside = `${dir}.old-${process.pid}`;
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
