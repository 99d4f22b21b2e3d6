import { UserError, shown } from '../errors';
import { checkRecord, windowEnd } from './events';
import { idHash } from './idHash';
import { sha256 } from './hashing';
import { loadSealedFile, storeSealedFile } from './offsetIndex';
import type { FeatureType, UserRecord } from './types';
import { RECORDS_PER_STEP, runSteps, type Steps } from '../steps';

// users.jsonl of a slice, by id. A slice holds every user of its window (the bench's 10k events
// bring 50,000), and a replay meets few of them early: parsed whole at open they cost more than the
// first thousand events (and, for a million users, seconds and hundreds of MB). So a users.jsonl
// already checked whole once — every record valid, every line the writer's shape — is opened by an
// index of ids only, and a record is parsed (and checked again) when first asked for.
//
// The index is byte offsets into the file and a hash table of the ids, all typed arrays, kept in
// the index cache under the file's sha256: a later open reads it back instead of scanning the file
// again (a million users took ~0.8 s at every open, scanned and put into a Map).

/** users.jsonl files this large or larger are never read lazily: they stay in memory while the slice is open (tests lower it). */
export const lazyUsers = { below: 256 * 1024 * 1024 };

/** The start of every line the writer writes: the id first (JSON.stringify of a record built id-first). */
const HEAD = '{"id":"';
const HEAD_BYTES = Buffer.from(HEAD);

/**
 * Where the lines of a users.jsonl in the writer's shape are, and which line holds each id. Line i
 * is buf[starts[i], ends[i]) and its id's text buf[starts[i] + 7, idEnds[i]). `table` is an
 * open-addressing hash table (linear probing, a power of two long, at most half full) of the
 * distinct ids, placed by idHash: each used place holds the line of the id's first record, and
 * `hashes` its hash.
 */
interface UserLines {
  buf: Buffer;
  starts: Uint32Array;
  ends: Uint32Array;
  idEnds: Uint32Array;
  /** 1 for a line whose id an earlier line has already. */
  repeats: Uint8Array;
  table: Int32Array;
  hashes: Int32Array;
  /** Distinct ids. */
  size: number;
}

/** The id of line i, decoded from the file's bytes. */
function idAt(lines: UserLines, i: number): string {
  return lines.buf.toString('utf8', (lines.starts[i] as number) + HEAD_BYTES.length, lines.idEnds[i]);
}

/** The line of the first record of `id`, or -1. */
function lineOf(lines: UserLines, id: string): number {
  const h = idHash(id);
  const mask = lines.table.length - 1;
  for (let p = h & mask; ; p = (p + 1) & mask) {
    const line = lines.table[p] as number;
    if (line < 0) return -1;
    if (lines.hashes[p] === h && isIdOf(lines, line, id)) return line;
  }
}

/** Whether line `line` holds `id`. */
function isIdOf(lines: UserLines, line: number, id: string): boolean {
  return isText(lines.buf, (lines.starts[line] as number) + HEAD_BYTES.length, lines.idEnds[line] as number, id);
}

/**
 * Whether the UTF-8 bytes buf[a, b) are the text `s`: compared with its characters while they are
 * ASCII (no string made: decoding each candidate took most of a lookup), decoded past that.
 */
export function isText(buf: Buffer, a: number, b: number, s: string): boolean {
  // A UTF-16 unit takes one byte or more in UTF-8: fewer bytes than units is another text.
  if (b - a !== s.length) return b - a > s.length && buf.toString('utf8', a, b) === s;
  for (let k = 0; k < s.length; k++) {
    const c = buf[a + k] as number;
    // Up to here both were the same ASCII characters, at the same places.
    if (c >= 0x80) return buf.toString('utf8', a, b) === s;
    if (c !== s.charCodeAt(k)) return false;
  }
  return true;
}

/**
 * The lines of a users.jsonl in the writer's shape, with each line's id in the table; undefined
 * when a line is not in it. The bytes are read a window at a time as Latin-1 text — a character a
 * byte, so a string offset is a byte offset, and the bytes the scan looks for (newline, quote,
 * backslash, control characters) are never inside a UTF-8 character — searched natively; an id
 * with bytes past ASCII is decoded as UTF-8. A step a window (recordDecoding.window bytes, ending
 * just past a newline) and every RECORDS_PER_STEP lines.
 */
function* scan(buf: Buffer): Steps<UserLines | undefined> {
  // Grown as lines come (a record takes at least 10 bytes: {"id":""}\n).
  let cap = Math.min(1 << 16, Math.ceil(buf.length / 10) + 1);
  let starts = new Uint32Array(cap);
  let ends = new Uint32Array(cap);
  let idEnds = new Uint32Array(cap);
  const ids: string[] = [];
  for (let from = 0; from < buf.length; ) {
    // (Every line ends with a newline: a window without one is the file's unfinished last line.)
    const to = windowEnd(buf, from);
    if (from > 0) yield;
    const text = buf.toString('latin1', from, to);
    let s = 0;
    while (s < text.length) {
      if (ids.length % RECORDS_PER_STEP === RECORDS_PER_STEP - 1) yield;
      const nl = text.indexOf('\n', s);
      // Every line ends with a newline and starts {"id":" (no blank line, no other first key).
      if (nl < 0 || !text.startsWith(HEAD, s)) return undefined;
      const q = text.indexOf('"', s + HEAD.length);
      if (q < 0 || q >= nl) return undefined;
      let wide = false;
      for (let k = s + HEAD.length; k < q; k++) {
        const c = text.charCodeAt(k);
        // An escape or a control character: the id's text is not its value.
        if (c === 0x5c || c < 0x20) return undefined;
        if (c >= 0x80) wide = true;
      }
      const i = ids.push(wide ? buf.toString('utf8', from + s + HEAD.length, from + q) : text.slice(s + HEAD.length, q)) - 1;
      if (i === cap) {
        cap *= 2;
        starts = grown(starts, cap);
        ends = grown(ends, cap);
        idEnds = grown(idEnds, cap);
      }
      starts[i] = from + s;
      ends[i] = from + nl;
      idEnds[i] = from + q;
      s = nl + 1;
    }
    from = to;
  }
  const n = ids.length;
  let bits = 1;
  while (1 << bits < 2 * n) bits++;
  const table = new Int32Array(1 << bits).fill(-1);
  const hashes = new Int32Array(1 << bits);
  const repeats = new Uint8Array(n);
  const mask = table.length - 1;
  let size = 0;
  for (let i = 0; i < n; i++) {
    if (i % RECORDS_PER_STEP === RECORDS_PER_STEP - 1) yield;
    const id = ids[i] as string;
    const h = idHash(id);
    for (let p = h & mask; ; p = (p + 1) & mask) {
      const line = table[p] as number;
      if (line < 0) {
        table[p] = i;
        hashes[p] = h;
        size++;
        break;
      }
      if (hashes[p] === h && ids[line] === id) {
        repeats[i] = 1;
        break;
      }
    }
  }
  return { buf, starts: starts.slice(0, n), ends: ends.slice(0, n), idEnds: idEnds.slice(0, n), repeats, table, hashes, size };
}

function grown(a: Uint32Array<ArrayBuffer>, cap: number): Uint32Array<ArrayBuffer> {
  const b = new Uint32Array(cap);
  b.set(a);
  return b;
}

/** The user records of a slice by id: the first record of an id (as the replay and metrics read it). */
export class UserTable {
  private constructor(
    /** Where users.jsonl's lines are, with the id each one's first key names, when records are parsed on demand. */
    private readonly lines: UserLines | undefined,
    private readonly file: string,
    private readonly types: Readonly<Record<string, FeatureType>> | undefined,
    private readonly records: (UserRecord | undefined)[],
    /** Id → index of its first record (records parsed already). */
    private readonly byId: Map<string, number> | undefined,
  ) {}

  /** A table of records parsed already. */
  static of(records: UserRecord[], file = 'users.jsonl'): UserTable {
    return runSteps(UserTable.ofSteps(records, file));
  }

  /** UserTable.of in slices of work (see steps.ts). */
  static *ofSteps(records: UserRecord[], file = 'users.jsonl'): Steps<UserTable> {
    const byId = yield* firstIndexes(records.map((r) => r.id));
    return new UserTable(undefined, file, undefined, records, byId);
  }

  /**
   * A table that parses each record when first asked for, or undefined when `buf` is not in the
   * writer's shape (then parse it whole: parseRecords). Only for a file known to hold valid records.
   */
  static lazy(buf: Buffer, file: string, types?: Readonly<Record<string, FeatureType>>): UserTable | undefined {
    return runSteps(UserTable.lazySteps(buf, file, types));
  }

  /** UserTable.lazy in slices of work (see steps.ts): a million users took 0.65 s in one piece. */
  static *lazySteps(buf: Buffer, file: string, types?: Readonly<Record<string, FeatureType>>): Steps<UserTable | undefined> {
    // A file of 256 MiB or more is parsed whole instead, in windows (parseRecordsSteps).
    if (buf.length >= lazyUsers.below) return undefined;
    const lines = yield* scan(buf);
    if (!lines) return undefined;
    return new UserTable(lines, file, types, new Array<UserRecord | undefined>(lines.starts.length), undefined);
  }

  /** UserTable.indexSteps in one piece. */
  static index(buf: Buffer, records: readonly UserRecord[], file = 'users.jsonl', types?: Readonly<Record<string, FeatureType>>): UserTable | undefined {
    return runSteps(UserTable.indexSteps(buf, records, file, types));
  }

  /**
   * The table `lazy` makes of these bytes when it indexes exactly these records (parsed from them),
   * else undefined: what storeUsersIndex keeps for the next open.
   */
  static *indexSteps(buf: Buffer, records: readonly UserRecord[], file = 'users.jsonl', types?: Readonly<Record<string, FeatureType>>): Steps<UserTable | undefined> {
    if (buf.length >= lazyUsers.below) return undefined;
    const lines = yield* scan(buf);
    if (lines === undefined || lines.starts.length !== records.length) return undefined;
    for (let i = 0; i < records.length; i++) {
      if (i % RECORDS_PER_STEP === RECORDS_PER_STEP - 1) yield;
      if (idAt(lines, i) !== records[i]?.id) return undefined;
    }
    return new UserTable(lines, file, types, new Array<UserRecord | undefined>(lines.starts.length), undefined);
  }

  /** Number of records (lines), a repeated id counted each time. */
  get count(): number {
    return this.records.length;
  }

  /** Number of distinct ids. */
  get size(): number {
    return this.lines ? this.lines.size : (this.byId as Map<string, number>).size;
  }

  /** The index (0-based, in the order of the file) of the record get(id) returns; undefined for an unknown id. */
  indexOf(id: string): number | undefined {
    if (!this.lines) return (this.byId as Map<string, number>).get(id);
    // (Ids are strings: anything else is no user's.)
    if (typeof id !== 'string') return undefined;
    const i = lineOf(this.lines, id);
    return i < 0 ? undefined : i;
  }

  get(id: string): UserRecord | undefined {
    const i = this.indexOf(id);
    return i === undefined ? undefined : this.at(i);
  }

  /**
   * The first record of each id, in the order of the file, each parsed for the pass and not kept
   * (peek): the embedding ranker reads every user's vector at launch, and through `at` a million
   * users stayed parsed in the debug adapter's memory for the whole session.
   */
  *values(): IterableIterator<UserRecord> {
    if (this.lines) {
      const repeats = this.lines.repeats;
      for (let i = 0; i < repeats.length; i++) if (repeats[i] === 0) yield this.peek(i);
      return;
    }
    for (const i of (this.byId as Map<string, number>).values()) yield this.peek(i);
  }

  /** Every record, in the order of the file (all parsed). */
  all(): UserRecord[] {
    return runSteps(this.allSteps());
  }

  /** UserTable.all in slices of work (see steps.ts): parsing a million users takes seconds. */
  *allSteps(): Steps<UserRecord[]> {
    for (let i = 0; i < this.records.length; i++) {
      if (i % RECORDS_PER_STEP === RECORDS_PER_STEP - 1) yield;
      this.at(i);
    }
    return this.records as UserRecord[];
  }

  /** Record i (0-based, in the order of the file, a repeated id counted each time), parsed and checked on first use. */
  at(i: number): UserRecord {
    const known = this.records[i];
    if (known !== undefined) return known;
    const rec = this.parse(i);
    this.records[i] = rec;
    return rec;
  }

  /**
   * Record i as `at` gives it, but not kept when it was not kept already: a pass over every user (the
   * Slices view's segments and feature summary) holds one at a time — through `at`, a million users
   * stayed parsed in the editor's memory (+128 MB) for as long as the slice was listed.
   */
  peek(i: number): UserRecord {
    return this.records[i] ?? this.parse(i);
  }

  /** What storeUsersIndex keeps of a table read by id: undefined for one of records parsed whole. */
  indexBody(): Uint8Array | undefined {
    const l = this.lines;
    if (!l) return undefined;
    const n = l.starts.length;
    const header = Buffer.from(JSON.stringify({ format: INDEX_FORMAT, count: n, size: l.size, tableLength: l.table.length, bytes: l.buf.length }) + '\n');
    // Each array starts at a multiple of 4 bytes, so a loaded body is viewed in place.
    const head = align4(header.length);
    const body = new Uint8Array(head + 4 * (3 * n + 2 * l.table.length) + align4(n));
    body.set(header);
    body.fill(0x20, header.length, head);
    let o = head;
    for (const a of [l.starts, l.ends, l.idEnds, l.table, l.hashes]) {
      body.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), o);
      o += a.byteLength;
    }
    body.set(l.repeats, o);
    return body;
  }

  /**
   * The table a body of indexBody() describes over these bytes of users.jsonl, or undefined when it
   * does not fit them (another format, another file's counts or size, offsets outside the file).
   */
  static fromIndex(body: Buffer, buf: Buffer, file: string, types?: Readonly<Record<string, FeatureType>>): UserTable | undefined {
    const nl = body.indexOf(10);
    if (nl < 0) return undefined;
    let h: { format?: unknown; count?: unknown; size?: unknown; tableLength?: unknown; bytes?: unknown };
    try {
      h = JSON.parse(body.toString('utf8', 0, nl)) as typeof h;
    } catch {
      return undefined;
    }
    const { count: n, size, tableLength: t } = h;
    if (h.format !== INDEX_FORMAT || h.bytes !== buf.length || !Number.isInteger(n) || !Number.isInteger(size) || !Number.isInteger(t)) return undefined;
    const count = n as number;
    const tableLength = t as number;
    if (count < 1 || tableLength < 2 * count || (tableLength & (tableLength - 1)) !== 0 || (size as number) < 1 || (size as number) > count) return undefined;
    const head = align4(nl + 1);
    if (body.length !== head + 4 * (3 * count + 2 * tableLength) + align4(count)) return undefined;
    // Typed arrays need their offset aligned: a body read into a pooled or offset buffer is copied once (into its own memory).
    const bytes = body.byteOffset % 4 === 0 ? body : new Uint8Array(body);
    let o = bytes.byteOffset + head;
    const u32 = (len: number) => {
      const a = new Uint32Array(bytes.buffer, o, len);
      o += 4 * len;
      return a;
    };
    const starts = u32(count);
    const ends = u32(count);
    const idEnds = u32(count);
    const table = new Int32Array(bytes.buffer, o, tableLength);
    o += 4 * tableLength;
    const hashes = new Int32Array(bytes.buffer, o, tableLength);
    o += 4 * tableLength;
    const repeats = new Uint8Array(bytes.buffer, o, count);
    // The last line ends at the end of the file, with its newline.
    if ((ends[count - 1] as number) + 1 !== buf.length || starts[0] !== 0) return undefined;
    const lines: UserLines = { buf, starts, ends, idEnds, repeats, table, hashes, size: size as number };
    return new UserTable(lines, file, types, new Array<UserRecord | undefined>(count), undefined);
  }

  private parse(i: number): UserRecord {
    const line = i + 1;
    const lines = this.lines as UserLines;
    let v: unknown;
    try {
      v = JSON.parse(lines.buf.toString('utf8', lines.starts[i], lines.ends[i]));
    } catch (e) {
      // Checked whole when it was first opened: another file now, under the same hash only by a damaged cache.
      throw new UserError(`malformed JSON: ${(e as Error).message}`, { file: this.file, line }, 'Each line must be one user object; run `recreplay verify` on the slice.');
    }
    checkRecord(v, this.file, line, 'user', this.types);
    const rec = v as UserRecord;
    // A repeated "id" key later in the line is the one JSON.parse keeps: the index would name another record.
    const first = idAt(lines, i);
    if (rec.id !== first) {
      throw new UserError(`the line's first "id" (${shown(first)}) is not the one it holds (${shown(rec.id)}): a repeated "id" key`, { file: this.file, line, field: 'id' }, 'Write each user\'s "id" once.');
    }
    return rec;
  }
}

/** The layout of a kept index (UserTable.indexBody): a header line, then the arrays. */
const INDEX_FORMAT = 'recreplay.users-index/2';

function align4(n: number): number {
  return (n + 3) & ~3;
}

/** Each id's first index in `ids`, in slices of work. */
function* firstIndexes(ids: readonly string[]): Steps<Map<string, number>> {
  const byId = new Map<string, number>();
  for (let i = 0; i < ids.length; i++) {
    if (i % RECORDS_PER_STEP === RECORDS_PER_STEP - 1) yield;
    const id = ids[i] as string;
    if (!byId.has(id)) byId.set(id, i);
  }
  return byId;
}

/**
 * The name of the index kept for a users.jsonl of this sha256, checked whole against these
 * feature types (UserTable.indexSteps): the file's hash, the types' hash. Its seal names both.
 */
function indexName(fileSha256: string, types: Readonly<Record<string, FeatureType>> | undefined): { name: string; seal: string } {
  const t = sha256(JSON.stringify(types ?? {})).slice(0, 16);
  return { name: `users-${fileSha256}-${t}.idx`, seal: `users:${fileSha256}:${t}` };
}

/**
 * The table read by id from the index kept for these bytes of users.jsonl (sha256 `fileSha256`,
 * checked whole against `types` when it was kept); undefined when none is kept, or it is not sealed
 * by this user's runs, or does not fit the bytes.
 */
export function loadUsersIndex(dir: string, fileSha256: string, types: Readonly<Record<string, FeatureType>> | undefined, buf: Buffer, file: string): UserTable | undefined {
  if (buf.length === 0 || buf.length >= lazyUsers.below) return undefined;
  const { name, seal } = indexName(fileSha256, types);
  const body = loadSealedFile(name, seal, dir);
  return body && UserTable.fromIndex(body, buf, file, types);
}

/** Keeps the index of a users.jsonl checked whole (a table `lazy` made of it) for the next open; a cache that cannot be written costs a scan next time. */
export function storeUsersIndex(dir: string, fileSha256: string, types: Readonly<Record<string, FeatureType>> | undefined, table: UserTable): void {
  const body = table.indexBody();
  if (!body) return;
  const { name, seal } = indexName(fileSha256, types);
  storeSealedFile(name, seal, body, dir);
}
