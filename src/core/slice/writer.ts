import { createHash, randomBytes, type Hash } from 'node:crypto';
import { closeSync, existsSync, lstatSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, renameSync, rmSync, rmdirSync, writeFileSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { ensureDir, pidRuns, removeCreatedDirs, statOrNothing } from '../dirs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { UserError, shown } from '../errors';
import { TOOL_NAME, TOOL_VERSION } from '../version';
import { checkEvent, checkRecord, timeOf } from './events';
import { DEFAULT_CHUNK_SIZE, MAX_CHUNK_SIZE, MIN_CHUNK_SIZE, sha256 } from './hashing';
import { checkInside, validateManifest } from './manifest';
import { OffsetIndex, storeIndex } from './offsetIndex';
import { SLICE_FORMAT, type CandidateRecord, type EventRecord, type FeatureType, type FileEntry, type ItemRecord, type SliceManifest, type UserRecord } from './types';

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
    // Read as well as written: a repeated event id is confirmed by reading the earlier line back.
    this.fd = openSync(path, 'w+');
  }

  /** Bytes [start, end) of what was written so far (pending bytes are written first). */
  readBack(start: number, end: number): string {
    this.flush();
    const buf = Buffer.alloc(end - start);
    let got = 0;
    while (got < buf.length) {
      const n = readSync(this.fd, buf, got, buf.length - got, start + got);
      if (n === 0) break;
      got += n;
    }
    return buf.toString('utf8', 0, got);
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

/**
 * Marks a freeze's temp folder as this process's (removed just before the folder becomes the
 * slice), and an old slice it moved aside while replacing it (see install and tidyDeadFreezes).
 */
const OWNER_FILE = '.recreplay-freeze';

function owner(): { host: string; uid: number; pid: number } {
  return { host: hostname(), uid: process.getuid?.() ?? -1, pid: process.pid };
}

/**
 * The owner file in `folder`: whether its process is gone (written on this host, by this user, by
 * another process that no longer runs) and, for an old slice moved aside, the sha256 of the
 * slice.json that was to replace it. Undefined when there is no owner file (not a freeze's).
 */
function markOf(folder: string): { dead: boolean; pid: unknown; installed: string | undefined; text: string } | undefined {
  let text: string;
  try {
    text = readFileSync(join(folder, OWNER_FILE), 'utf8');
  } catch {
    return undefined;
  }
  let o: Record<string, unknown> = {};
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v === 'object' && v !== null) o = v as Record<string, unknown>;
  } catch {
    // Unreadable: nobody's that is known to be gone.
  }
  const me = owner();
  const pid = o['pid'];
  const dead = o['host'] === me.host && o['uid'] === me.uid && typeof pid === 'number' && pid !== me.pid && !pidRuns(pid);
  const installed = o['installed'];
  return { dead, pid, installed: typeof installed === 'string' ? installed : undefined, text };
}

/** Whether anything (a folder, a file, a link, even a dangling one) is at `p`. */
function lexists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return false;
    throw e;
  }
}

/**
 * Renames the folder `from` to `to` only when nothing is at `to`; false, with nothing changed, when
 * something is. A POSIX rename silently replaces an empty folder, so the name is first taken with an
 * exclusive mkdir (it fails if anything is there); the rename then replaces only that folder, and
 * fails if something was put into it meanwhile. On Windows a rename never replaces a folder.
 */
function placeNew(from: string, to: string): boolean {
  if (process.platform === 'win32') {
    try {
      renameSync(from, to);
      return true;
    } catch (e) {
      if (lexists(to)) return false;
      throw e;
    }
  }
  try {
    mkdirSync(to);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
  try {
    renameSync(from, to);
    return true;
  } catch (e) {
    try {
      rmdirSync(to);
    } catch {
      // Something was put into it meanwhile: not ours to remove.
    }
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'ENOTDIR' || code === 'EISDIR') return false;
    throw e;
  }
}

/** Whether `p` is free for a slice: nothing there, or an empty folder (removed, so placeNew can take the name). */
function freeForRestore(p: string): boolean {
  if (!lexists(p)) return true;
  const st = statOrNothing(p);
  if (!st?.isDirectory() || readdirSync(p).length > 0) return false;
  rmdirSync(p);
  return true;
}

function sha256Of(file: string): string | undefined {
  try {
    return sha256(readFileSync(file));
  } catch {
    return undefined;
  }
}

/** What is done with an old slice a dead freeze moved aside (see tidyDeadFreezes); returns what to tell. */
function settleAside(aside: string, sibling: string, dir: string, mark: { pid: unknown; installed: string | undefined; text: string }): string[] {
  // Its new slice got in place: the old one was only waiting to be removed.
  if (mark.installed !== undefined && sha256Of(join(dir, 'slice.json')) === mark.installed) {
    rmSync(aside, { recursive: true, force: true });
    return [];
  }
  const who = `a freeze (process ${String(mark.pid)}) that died while replacing it`;
  if (freeForRestore(dir)) {
    rmSync(join(aside, OWNER_FILE), { force: true });
    if (placeNew(aside, dir)) {
      // That freeze's new slice, complete but never put in place: marked as a dead freeze's, or
      // (killed between unmarking it and the rename) named by the old slice's mark.
      if (markOf(sibling)?.dead || replaceable(sibling)) rmSync(sibling, { recursive: true, force: true });
      return [`${dir} was put back from ${aside}, where ${who} had moved it`];
    }
  }
  // Marked (again, or for the first time when its freeze died before marking it), so a later
  // freeze still knows it and puts it back once the path is free.
  if (!existsSync(join(aside, OWNER_FILE))) writeFileSync(join(aside, OWNER_FILE), mark.text);
  return [`${aside} holds the slice that was at ${dir} before ${who}; ${dir} now holds something else, so it was left where it is: move it back or remove it`];
}

/** An old slice moved aside during an overwrite: NAME.tmp-XXXX-old (-old2, … when another appeared meanwhile). */
const ASIDE = /-old\d*$/;

/**
 * Tidies what freezes to `dir` that were killed midway (Ctrl-C, kill -9) left beside it, and says
 * what the caller should know. Only folders carrying this tool's owner file, written on this host by
 * this user, by a process that is gone, are touched: a temp folder is removed; an old slice that an
 * overwrite had moved aside is put back when nothing is at `dir` (or an empty folder), removed when
 * its replacement is in place, and otherwise left and reported. An unmarked old slice moved aside by
 * an older version is reported, never touched. Never an error (it is tidying, not the job).
 */
function tidyDeadFreezes(dir: string): string[] {
  const parent = dirname(dir);
  const prefix = `${basename(dir)}.tmp-`;
  const notes: string[] = [];
  let names: string[];
  try {
    names = readdirSync(parent)
      .filter((n) => n.startsWith(prefix))
      .sort();
  } catch {
    return notes;
  }
  // Old slices first: one may need its freeze's temp folder to say whose it is.
  for (const name of names) {
    if (!ASIDE.test(name)) continue;
    const aside = join(parent, name);
    const sibling = join(parent, name.replace(ASIDE, ''));
    try {
      const mark = markOf(aside);
      if (mark) {
        if (mark.dead) notes.push(...settleAside(aside, sibling, dir, mark));
        continue;
      }
      // Killed between moving it aside and marking it: its freeze's temp folder is marked.
      const tmpMark = markOf(sibling);
      if (tmpMark?.dead) notes.push(...settleAside(aside, sibling, dir, { pid: tmpMark.pid, installed: undefined, text: tmpMark.text }));
      else if (tmpMark === undefined && sliceManifestAt(aside)) {
        notes.push(`${aside} looks like the slice that was at ${dir}, moved aside by an interrupted freeze; it carries no freeze's mark, so it was left as it is: move it back or remove it`);
      }
    } catch {
      // Unreadable, or changed meanwhile: left as it is.
    }
  }
  for (const name of names) {
    if (ASIDE.test(name)) continue;
    const p = join(parent, name);
    try {
      if (markOf(p)?.dead) rmSync(p, { recursive: true, force: true });
    } catch {
      // Removed meanwhile, or not removable: left as it is.
    }
  }
  return notes;
}

/**
 * Makes the temp folder beside `dir`: a random name taken with an exclusive mkdir (not mkdtemp,
 * which makes it 0700, so a slice shared with other users could not be read), so the folder gets
 * the permissions the process's umask gives, like the files written into it.
 */
function makeTemp(dir: string): string {
  for (let i = 0; ; i++) {
    const p = `${dir}.tmp-${randomBytes(6).toString('hex')}`;
    try {
      mkdirSync(p);
      return p;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || i >= 100) throw e;
    }
  }
}

/**
 * Puts the finished temp folder at `dir`, by the rules the start checked, applied to what is there
 * now (something may have appeared while the events streamed): without overwrite nothing may be
 * there; with it, an empty folder or an old slice is replaced. What is replaced is moved aside and
 * marked (who moved it, and the sha256 of the slice.json replacing it) until the new slice is in
 * place, so a crash in between leaves it for the next freeze to put back.
 */
function install(tmp: string, dir: string, overwrite: boolean, installed: string): void {
  const mine = JSON.stringify(owner());
  const asides: string[] = [];
  try {
    for (let attempt = 1; ; attempt++) {
      if (lexists(dir)) {
        if (!overwrite) {
          throw new UserError(`${dir} appeared while the slice was being written`, { file: dir }, 'Nothing there was changed and the new slice was not kept: choose another name, or ask for it to be replaced (the writer\'s overwrite option).', 'E_EXISTS');
        }
        if (!replaceable(dir)) throw notReplaceable(dir, ' (it changed while the slice was being written)');
        if (attempt > 3) throw new UserError(`${dir} kept changing while the slice was being put in place`, { file: dir }, 'Is another freeze writing to the same path? Freeze to one path at a time.', 'E_EXISTS');
        const aside = `${tmp}-old${asides.length ? asides.length + 1 : ''}`;
        try {
          renameSync(dir, aside);
        } catch (e) {
          // Gone meanwhile: the path is free.
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
          continue;
        }
        // Checked again as moved: what is replaced is what was checked.
        if (!replaceable(aside)) {
          if (!placeNew(aside, dir)) asides.push(aside);
          throw notReplaceable(dir, ' (it changed while the slice was being written)');
        }
        writeFileSync(join(aside, OWNER_FILE), JSON.stringify({ ...owner(), target: basename(dir), replacedBy: basename(tmp), installed }));
        asides.push(aside);
      }
      // The owner mark goes before the folder becomes the slice (a file it does not list would be refused).
      rmSync(join(tmp, OWNER_FILE), { force: true });
      if (placeNew(tmp, dir)) break;
      writeFileSync(join(tmp, OWNER_FILE), mine);
    }
  } catch (e) {
    throw putBack(e, asides, dir);
  }
  for (const a of asides) rmSync(a, { recursive: true, force: true });
}

/** A failed install puts the first folder it moved aside back at `dir`; what cannot go back is named in the error. */
function putBack(e: unknown, asides: string[], dir: string): unknown {
  const first = asides[0];
  if (first !== undefined) {
    try {
      const text = markOf(first)?.text;
      rmSync(join(first, OWNER_FILE), { force: true });
      if (freeForRestore(dir) && placeNew(first, dir)) asides.shift();
      else if (text !== undefined) writeFileSync(join(first, OWNER_FILE), text);
    } catch {
      // Left where it is, and named below.
    }
  }
  if (asides.length === 0) return e;
  const kept = `; what was at ${dir} is kept at ${asides.join(', ')}`;
  if (e instanceof UserError) return new UserError(e.message + kept, e.where, e.hint, e.code);
  return e instanceof Error ? Object.assign(e, { message: e.message + kept }) : e;
}

function notReplaceable(dir: string, why = ''): UserError {
  return new UserError(`${dir} exists and is not a slice folder${why}: overwrite replaces only a slice (a folder with slice.json) or an empty folder`, { file: dir }, 'Choose another name; nothing was changed.', 'E_EXISTS');
}

/**
 * The ids of the events seen so far, to tell a repeated one: a 32-bit hash and the record number
 * per id in typed arrays (8 bytes a slot, at most half full), not a Set of the strings (some 60
 * bytes an id: 600 MB for ten million events). An equal hash is confirmed by `same`, which reads
 * the earlier event back: a repeat is never reported on a hash alone.
 */
class EventIds {
  private cap = 1024;
  private size = 0;
  private hashes = new Int32Array(this.cap);
  private rec = new Uint32Array(this.cap);

  /** The record number of an earlier event with this id (confirmed by `same`), or 0 after adding it as `record`'s. */
  seen(id: string, record: number, same: (earlier: number) => boolean): number {
    // FNV-1a, then a murmur3 finaliser so that the low bits (the slot) depend on every character.
    let h = 0x811c9dc5 | 0;
    for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    const mask = this.cap - 1;
    let i = h & mask;
    for (let r = this.rec[i] as number; r !== 0; i = (i + 1) & mask, r = this.rec[i] as number) {
      if (this.hashes[i] === h && same(r)) return r;
    }
    this.hashes[i] = h;
    this.rec[i] = record;
    if (++this.size * 2 > this.cap) this.grow();
    return 0;
  }

  private grow(): void {
    const { hashes, rec } = this;
    this.cap *= 2;
    this.hashes = new Int32Array(this.cap);
    this.rec = new Uint32Array(this.cap);
    const mask = this.cap - 1;
    for (let j = 0; j < rec.length; j++) {
      if (rec[j] === 0) continue;
      let i = (hashes[j] as number) & mask;
      while (this.rec[i] !== 0) i = (i + 1) & mask;
      this.hashes[i] = hashes[j] as number;
      this.rec[i] = rec[j] as number;
    }
  }
}

/** How many records have one inconsistency, and where the first is (`events:17 served[2] "i9"`). */
interface Tally {
  count: number;
  first: string;
}

const tally = (): Tally => ({ count: 0, first: '' });

/** Counts a record; `first` is only built for the first. */
function count(t: Tally, first: () => string): void {
  if (t.count++ === 0) t.first = first();
}

/** Items or users whose id an earlier record has (the replay keeps the first record of an id). */
function repeatedIds(rows: readonly { id: string }[], file: 'items' | 'users'): string | undefined {
  const firstAt = new Map<string, number>();
  const t = tally();
  rows.forEach((r, i) => {
    const was = firstAt.get(r.id);
    if (was === undefined) firstAt.set(r.id, i + 1);
    else count(t, () => `${file}:${i + 1} repeats ${shown(r.id)} of ${file}:${was}`);
  });
  if (t.count === 0) return undefined;
  const kind = file === 'items' ? 'item' : 'user';
  const users = file === 'items' ? 'a replay and its metrics use' : 'a replay uses';
  return `${t.count} ${kind} ${t.count === 1 ? 'record repeats' : 'records repeat'} the id of an earlier one; first: ${t.first} — ${users} the first record of an id and ignore${file === 'items' ? '' : 's'} the later ones`;
}

/** Index in `served` of the first item that is not a candidate, or -1. */
function servedOutside(ev: EventRecord, scratch: Set<string>): number {
  const cands = ev.candidates;
  const served = ev.served;
  if (cands.length * served.length <= 64) {
    outer: for (let i = 0; i < served.length; i++) {
      for (let j = 0; j < cands.length; j++) if ((cands[j] as CandidateRecord).item === served[i]) continue outer;
      return i;
    }
    return -1;
  }
  scratch.clear();
  for (let j = 0; j < cands.length; j++) scratch.add((cands[j] as CandidateRecord).item);
  for (let i = 0; i < served.length; i++) if (!scratch.has(served[i] as string)) return i;
  return -1;
}

/** Whether an event names an item (candidate, served or clicked) that is not in the catalogue. */
function outsideCatalogue(ev: EventRecord, catalogue: ReadonlySet<string>): boolean {
  if (catalogue.size === 0) return ev.candidates.length > 0 || ev.served.length > 0 || (ev.outcome?.clicks?.length ?? 0) > 0;
  const cands = ev.candidates;
  for (let i = 0; i < cands.length; i++) if (!catalogue.has((cands[i] as CandidateRecord).item)) return true;
  const served = ev.served;
  for (let i = 0; i < served.length; i++) if (!catalogue.has(served[i] as string)) return true;
  const clicks = ev.outcome?.clicks ?? [];
  for (let i = 0; i < clicks.length; i++) if (!catalogue.has(clicks[i] as string)) return true;
  return false;
}

/** Where the first item outside the catalogue is in an event (`candidates[3].item "i9"`), for the warning. */
function firstOutside(ev: EventRecord, catalogue: ReadonlySet<string>): string {
  const fields: [string, readonly string[]][] = [
    ['candidates', ev.candidates.map((c) => c.item)],
    ['served', ev.served],
    ['outcome.clicks', ev.outcome?.clicks ?? []],
  ];
  for (const [field, ids] of fields) {
    const i = ids.findIndex((id) => !catalogue.has(id));
    if (i >= 0) return `${field}[${i}]${field === 'candidates' ? '.item' : ''} ${shown(ids[i])}`;
  }
  return '';
}

/**
 * What a log may hold that a replay accepts but reads in a way worth knowing: repeated event ids,
 * served items that are not candidates, clicks on items not served, items outside the catalogue.
 * One warning per kind, counting the events, with the first.
 */
class EventChecks {
  readonly ids = new EventIds();
  readonly repeated = tally();
  readonly notCandidates = tally();
  readonly notServed = tally();
  readonly outside = tally();
  private readonly scratch = new Set<string>();

  constructor(private readonly catalogue: ReadonlySet<string>) {}

  check(ev: EventRecord, n: number, earlier: (id: string) => number): void {
    const was = earlier(ev.id);
    if (was !== 0) count(this.repeated, () => `events:${n} repeats ${shown(ev.id)} of events:${was}`);
    const s = servedOutside(ev, this.scratch);
    if (s >= 0) count(this.notCandidates, () => `events:${n} served[${s}] ${shown(ev.served[s])}`);
    const clicks = ev.outcome?.clicks;
    if (clicks !== undefined) {
      for (let i = 0; i < clicks.length; i++) {
        if (!ev.served.includes(clicks[i] as string)) {
          count(this.notServed, () => `events:${n} outcome.clicks[${i}] ${shown(clicks[i])}`);
          break;
        }
      }
    }
    if (outsideCatalogue(ev, this.catalogue)) count(this.outside, () => `events:${n} ${firstOutside(ev, this.catalogue)}`);
  }

  warnings(): string[] {
    const out: string[] = [];
    const events = (t: Tally, one: string, many: string) => `${t.count} ${t.count === 1 ? `event ${one}` : `events ${many}`}; first: ${t.first}`;
    if (this.repeated.count) out.push(`${events(this.repeated, 'repeats the id of an earlier event', 'repeat the id of an earlier event')} — a replay draws the model clicks of events with one id from one random stream (it is keyed by the id), so they are not independent, and the id no longer names one event`);
    if (this.notCandidates.count) out.push(`${events(this.notCandidates, 'serves an item that is not among its candidates', 'serve items that are not among their candidates')} — a replay serves only candidates, so it can never serve these items, and the recorded ranking starts with items no ranker can rank`);
    if (this.notServed.count) out.push(`${events(this.notServed, 'records a click on an item it did not serve', 'record clicks on items they did not serve')} — such a click counts as a relevant item in the ranking metrics, and a replay that serves the item gives it a clicked item's attractiveness (0.9) in the click model`);
    if (this.outside.count) {
      const lead = this.catalogue.size === 0 ? 'no items were given (the catalogue is empty): ' : '';
      out.push(`${lead}${events(this.outside, 'names items that are not in the catalogue (items)', 'name items that are not in the catalogue (items)')} — a replay knows no category, item features or availability windows for them (always available, capped by no maxPerCategory), and they count towards no catalogue metric (coverage, Gini, parity)`);
    }
    return out;
  }
}

/** A valid freeze time and clock start, standing in for what is checked separately or known only later. */
const SOME_TIME = '1970-01-01T00:00:00Z';

/** The manifest as written: the caller's, with what the writer computed and fills in. */
function assemble(m: SliceInput['manifest'], frozenAt: string, firstT: string | undefined, inferred: SliceManifest['schema'], files: FileEntry[]): SliceManifest {
  return {
    format: SLICE_FORMAT,
    ...m,
    frozenAt,
    // The first event's time unless given (a window may start earlier, never later).
    clock: { start: m.clock?.start ?? firstT ?? frozenAt, timezone: m.clock?.timezone ?? 'UTC' },
    versions: { code: { name: TOOL_NAME, version: TOOL_VERSION }, ...(m.versions ?? {}) },
    schema: m.schema ?? inferred,
    files,
    redaction: m.redaction ?? { identifiers: 'as recorded', dropped: [] },
    faults: m.faults ?? [],
  };
}

const INVALID = 'manifest is invalid — ';

/**
 * validateManifest, with its errors said about what the caller gave — the `frozenAt` option or a
 * field of the manifest it passed — rather than a slice.json that is not written yet.
 */
function validateInput(manifest: SliceManifest, about: 'frozenAt' | 'manifest'): void {
  try {
    validateManifest(manifest, 'slice.json');
  } catch (e) {
    if (!(e instanceof UserError) || !e.message.startsWith(INVALID)) throw e;
    const rest = e.message.slice(INVALID.length);
    const field = e.where.field ?? '(root)';
    // A timestamp's hint (add a timezone) stands; the general one spoke of editing slice.json.
    const general = e.hint === undefined || e.hint.includes('slice.json');
    if (about === 'frozenAt') {
      throw new UserError(`the frozenAt option ${rest.replace(/^frozenAt:? /, '')}`, { field: 'frozenAt' }, general ? 'Pass the time of the freeze as an RFC 3339 timestamp with a timezone, e.g. 2025-07-21T09:12:03Z.' : e.hint, e.code);
    }
    const name = field === '(root)' ? 'manifest' : `manifest.${field}`;
    throw new UserError(`the manifest given to writeSlice is invalid — ${rest}`, { field: name }, general ? `Fix ${name} in what you pass to writeSlice (see docs/slice-format.md); nothing was written.` : e.hint, e.code);
  }
}

/**
 * Checks what can be checked of the manifest before a single event is read: the frozenAt option,
 * then the caller's manifest with stand-ins for what the writer computes (files, schema, clock start).
 */
function checkManifestInput(m: SliceInput['manifest'], frozenAt: string): void {
  const good: SliceInput['manifest'] = { name: 'x', description: 'x', source: { kind: 'logs' }, seed: 0, clock: { start: SOME_TIME } };
  const files = (): FileEntry[] => [{ path: 'events.jsonl', sha256: '0'.repeat(64), bytes: 0, records: 0 }];
  const noSchema = () => ({ user: {}, item: {}, context: {}, candidate: {} });
  validateInput(assemble(good, frozenAt, undefined, noSchema(), files()), 'frozenAt');
  validateInput(assemble(m, SOME_TIME, undefined, noSchema(), files()), 'manifest');
}

/** What writeSlice wrote, and what it noticed. */
export interface WriteResult {
  dir: string;
  manifest: SliceManifest;
  /**
   * What the slice holds that a replay accepts but reads in a way worth knowing (repeated ids,
   * served items that are not candidates, …), and what was tidied or found beside the target
   * (an old slice a killed freeze had moved aside): one sentence each, with the first record
   * (`events:17`), counting the rest. The core prints nothing: the caller shows them.
   */
  warnings: string[];
}

/**
 * Writes a slice folder atomically: everything goes to a temp folder beside the target, which
 * is renamed into place only when complete. Items and users are checked as the reader checks
 * them, events (shape, finite numbers, time order) as they stream through; an error names the
 * file (events, items, users), the record number and the field. Returns the path, the manifest
 * written and warnings about records a replay accepts but that are inconsistent.
 */
export function writeSlice(outDir: string, input: SliceInput, opts: WriteOptions): WriteResult {
  const dir = resolve(outDir);
  const inside = enclosingSlice(dir);
  if (inside !== undefined) {
    throw new UserError(`${dir} is inside the slice ${inside}`, { file: dir }, 'A slice folder is never written into: write the new slice beside it.', 'E_PATH');
  }
  if (!isIterable(input.events)) throw new UserError(`events must be an iterable of event records (an array or a generator), got ${shown(input.events)}`, { field: 'events' }, 'Pass an array or a generator function\'s result; an async iterable must be collected first.');
  const chunkSize = opts.chunkSize ?? DEFAULT_CHUNK_SIZE;
  if (!Number.isInteger(chunkSize) || chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_CHUNK_SIZE) {
    throw new UserError(`chunk size ${chunkSize} is not a whole number of bytes from ${MIN_CHUNK_SIZE} to ${MAX_CHUNK_SIZE} (1 GiB)`, { field: 'chunkSize' }, `Leave it out for the default (${DEFAULT_CHUNK_SIZE} bytes).`);
  }
  checkManifestInput(input.manifest, opts.frozenAt);
  // Before the target is looked at: a dead freeze may have left the old slice aside, to be put back.
  const warnings = tidyDeadFreezes(dir);
  if (lexists(dir)) {
    const found = warnings.length ? ` (${warnings.join('; ')})` : '';
    if (!opts.overwrite) throw new UserError(`${dir} already exists${found}`, { file: dir }, 'Choose another name, or ask for it to be replaced (the writer\'s overwrite option).', 'E_EXISTS');
    // Overwrite replaces an old slice, never a folder of something else (or a file).
    if (!replaceable(dir)) throw notReplaceable(dir, found);
  }
  const createdParents = ensureDir(dirname(dir), 'slice\'s parent folder');
  // A name no other writer has, marked as this process's.
  const tmp = makeTemp(dir);
  let w: HashingFileWriter | undefined;
  try {
    writeFileSync(join(tmp, OWNER_FILE), JSON.stringify(owner()));
    const itemLines = recordLines(input.items ?? [], 'items', input.manifest.schema?.item);
    const userLines = recordLines(input.users ?? [], 'users', input.manifest.schema?.user);
    for (const [rows, file] of [[itemLines.rows, 'items'], [userLines.rows, 'users']] as const) {
      const repeated = repeatedIds(rows, file);
      if (repeated !== undefined) warnings.push(repeated);
    }
    const inferred = { user: {}, item: {}, context: {}, candidate: {} } as SliceManifest['schema'];
    const files: FileEntry[] = [];
    const events = new HashingFileWriter(join(tmp, 'events.jsonl'), chunkSize);
    w = events;
    const offsets: number[] = [0];
    const checks = new EventChecks(new Set(itemLines.rows.map((r) => r.id)));
    let id = '';
    // A hash match is confirmed against the earlier line as written.
    const sameId = (earlier: number) => (JSON.parse(events.readBack(offsets[earlier - 1] as number, offsets[earlier] as number)) as { id?: unknown }).id === id;
    const earlier = (evId: string) => {
      id = evId;
      return checks.ids.seen(evId, offsets.length - 1, sameId);
    };
    let n = 0;
    let lastT = -Infinity;
    let firstT: string | undefined;
    let byteLen = 0;
    for (const given of input.events) {
      n++;
      const text = lineOf(given, 'events', n);
      const ev = checkEvent(JSON.parse(text), 'events', n, false, input.manifest.schema?.candidate, input.manifest.schema?.context);
      const t = timeOf(ev.t);
      if (t < lastT) throw new UserError(`event ${ev.id} is out of time order (${ev.t} is before the previous event)`, { file: 'events', line: n, field: 't' }, 'Sort events by "t" before freezing.');
      lastT = t;
      if (firstT === undefined) {
        firstT = ev.t;
      }
      note(inferred.context, ev.context);
      for (const c of ev.candidates) note(inferred.candidate, c.features);
      const line = text + '\n';
      events.write(line);
      byteLen += Buffer.byteLength(line);
      offsets.push(byteLen);
      checks.check(ev, n, earlier);
    }
    if (n === 0) throw new UserError('no events to freeze', { field: 'events' }, 'A slice needs at least one event.', 'E_EMPTY');
    const ev = events.close();
    files.push({ path: 'events.jsonl', sha256: ev.sha256, bytes: ev.bytes, records: n, chunks: { size: chunkSize, sha256: ev.chunks } });
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
    const manifest = assemble(m, opts.frozenAt, firstT, inferred, files);
    validateInput(manifest, 'manifest');
    const manifestText = JSON.stringify(manifest, null, 2) + '\n';
    writeFileSync(join(tmp, 'slice.json'), manifestText);
    install(tmp, dir, opts.overwrite === true, sha256(manifestText));
    // The offset index is built at freeze and cached so the first open never scans the file.
    storeIndex(sha256(manifestText), new OffsetIndex(Float64Array.from(offsets)), opts.cacheDir);
    warnings.push(...checks.warnings());
    return { dir, manifest, warnings };
  } catch (e) {
    w?.release();
    rmSync(tmp, { recursive: true, force: true });
    removeCreatedDirs(createdParents);
    throw e;
  }
}
