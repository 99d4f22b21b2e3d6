import { existsSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { cacheTemp, ensureDir, removeQuietly, writeExclusive } from '../dirs';
import { UserError, shown } from '../errors';
import { checkRecord, windowEnd } from './events';
import { sha256 } from './hashing';
import type { FeatureType, UserRecord } from './types';
import { RECORDS_PER_STEP, runSteps, type Steps } from '../steps';

// users.jsonl of a slice, by id. A slice holds every user of its window (the bench's 10k events
// bring 50,000), and a replay meets few of them early: parsed whole at open they cost more than the
// first thousand events (and, for a million users, seconds and hundreds of MB). So a users.jsonl
// already checked whole once — every record valid, every line the writer's shape — is opened by an
// index of ids only, and a record is parsed (and checked again) when first asked for.

/** users.jsonl files this large or larger are never read lazily: the index is built on the file as one string (tests lower it). */
export const lazyUsers = { below: 256 * 1024 * 1024 };

/** The start of every line the writer writes: the id first (JSON.stringify of a record built id-first). */
const HEAD = '{"id":"';

/** Where the lines of a users.jsonl in the writer's shape are: line i is windows[win[i]].slice(starts[i], ends[i]). */
interface UserLines {
  /** The file's text, decoded a window at a time (each window ends just past a newline). */
  windows: string[];
  win: Uint32Array;
  starts: Uint32Array;
  ends: Uint32Array;
  ids: string[];
}

/**
 * The lines of a users.jsonl in the writer's shape, with each line's id; undefined when a line is
 * not in it. The bytes are decoded a window at a time (recordDecoding.window, a step each: decoding
 * 200 MB whole held the thread ~0.2 s), then searched as strings (a native call per line cost more
 * than the scan). A line never spans two windows.
 */
function* scan(buf: Buffer): Steps<UserLines | undefined> {
  const windows: string[] = [];
  // Grown as lines come (a record takes at least 10 bytes: {"id":""}\n).
  let cap = Math.min(1 << 16, Math.ceil(buf.length / 10) + 1);
  let win = new Uint32Array(cap);
  let starts = new Uint32Array(cap);
  let ends = new Uint32Array(cap);
  const ids: string[] = [];
  for (let from = 0; from < buf.length; ) {
    // (Every line ends with a newline: a window without one is the file's unfinished last line.)
    const to = windowEnd(buf, from);
    if (from > 0) yield;
    const text = buf.toString('utf8', from, to);
    from = to;
    const w = windows.push(text) - 1;
    let s = 0;
    while (s < text.length) {
      if (ids.length % RECORDS_PER_STEP === RECORDS_PER_STEP - 1) yield;
      const nl = text.indexOf('\n', s);
      // Every line ends with a newline and starts {"id":" (no blank line, no other first key).
      if (nl < 0 || !text.startsWith(HEAD, s)) return undefined;
      let q = s + HEAD.length;
      for (; q < nl; q++) {
        const c = text.charCodeAt(q);
        if (c === 0x22) break;
        // An escape or a control character: the id's text is not its value.
        if (c === 0x5c || c < 0x20) return undefined;
      }
      if (q >= nl) return undefined;
      const i = ids.push(text.slice(s + HEAD.length, q)) - 1;
      if (i === cap) {
        cap *= 2;
        win = grown(win, cap);
        starts = grown(starts, cap);
        ends = grown(ends, cap);
      }
      win[i] = w;
      starts[i] = s;
      ends[i] = nl;
      s = nl + 1;
    }
  }
  const n = ids.length;
  return { windows, win: win.slice(0, n), starts: starts.slice(0, n), ends: ends.slice(0, n), ids };
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
    /** Id → index of its first record. */
    private readonly byId: Map<string, number>,
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
    const byId = yield* firstIndexes(lines.ids);
    return new UserTable(lines, file, types, new Array<UserRecord | undefined>(lines.ids.length), byId);
  }

  /** Whether `lazy` on these bytes indexes exactly these records (parsed from them), so a later open may use it. */
  static lazyReads(buf: Buffer, records: readonly UserRecord[]): boolean {
    return runSteps(UserTable.lazyReadsSteps(buf, records));
  }

  /** UserTable.lazyReads in slices of work (see steps.ts). */
  static *lazyReadsSteps(buf: Buffer, records: readonly UserRecord[]): Steps<boolean> {
    if (buf.length >= lazyUsers.below) return false;
    const lines = yield* scan(buf);
    return lines !== undefined && lines.ids.length === records.length && lines.ids.every((id, i) => id === records[i]?.id);
  }

  /** Number of records (lines), a repeated id counted each time. */
  get count(): number {
    return this.records.length;
  }

  /** Number of distinct ids. */
  get size(): number {
    return this.byId.size;
  }

  /** The index (0-based, in the order of the file) of the record get(id) returns; undefined for an unknown id. */
  indexOf(id: string): number | undefined {
    return this.byId.get(id);
  }

  get(id: string): UserRecord | undefined {
    const i = this.byId.get(id);
    return i === undefined ? undefined : this.at(i);
  }

  /**
   * The first record of each id, in the order of the file, each parsed for the pass and not kept
   * (peek): the embedding ranker reads every user's vector at launch, and through `at` a million
   * users stayed parsed in the debug adapter's memory for the whole session.
   */
  *values(): IterableIterator<UserRecord> {
    for (const i of this.byId.values()) yield this.peek(i);
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

  private parse(i: number): UserRecord {
    const line = i + 1;
    const lines = this.lines as UserLines;
    let v: unknown;
    try {
      v = JSON.parse((lines.windows[lines.win[i] as number] as string).slice(lines.starts[i], lines.ends[i]));
    } catch (e) {
      // Checked whole when it was first opened: another file now, under the same hash only by a damaged cache.
      throw new UserError(`malformed JSON: ${(e as Error).message}`, { file: this.file, line }, 'Each line must be one user object; run `recreplay verify` on the slice.');
    }
    checkRecord(v, this.file, line, 'user', this.types);
    const rec = v as UserRecord;
    // A repeated "id" key later in the line is the one JSON.parse keeps: the index would name another record.
    if (rec.id !== lines.ids[i]) {
      throw new UserError(`the line's first "id" (${shown(lines.ids[i])}) is not the one it holds (${shown(rec.id)}): a repeated "id" key`, { file: this.file, line, field: 'id' }, 'Write each user\'s "id" once.');
    }
    return rec;
  }
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
 * The name of the mark saying that a users.jsonl of this sha256 was checked whole against these
 * feature types and reads lazily (UserTable.lazyReads): the file's hash, the types' hash.
 */
function markName(fileSha256: string, types: Readonly<Record<string, FeatureType>> | undefined): string {
  const t = sha256(JSON.stringify(types ?? {})).slice(0, 16);
  return `users-${fileSha256}-${t}.ok`;
}

/** Whether a users.jsonl of this sha256 was checked whole (see markChecked). */
export function checkedBefore(dir: string, fileSha256: string, types: Readonly<Record<string, FeatureType>> | undefined): boolean {
  return existsSync(join(dir, markName(fileSha256, types)));
}

/** Marks a users.jsonl of this sha256 as checked whole; a cache that cannot be written costs a full parse next time. */
export function markChecked(dir: string, fileSha256: string, types: Readonly<Record<string, FeatureType>> | undefined): void {
  const p = join(dir, markName(fileSha256, types));
  const tmp = cacheTemp(p);
  try {
    ensureDir(dir, 'index cache');
    writeExclusive(tmp, '');
    renameSync(tmp, p);
  } catch {
    // Best effort: a cache under a file (HOME=/dev/null) fails even the removal (ENOTDIR), and the
    // mark only spares a check next time.
    removeQuietly(tmp);
  }
}
