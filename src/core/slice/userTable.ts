import { existsSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDir, writeExclusive } from '../dirs';
import { UserError, shown } from '../errors';
import { checkRecord } from './events';
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

/**
 * Line starts of a users.jsonl in the writer's shape, with each line's id; undefined when a line is
 * not in it. On the file's text (one decode, then string search: a native call per line cost more
 * than the scan).
 */
function* scan(text: string): Steps<{ starts: Float64Array; ids: string[] } | undefined> {
  const ids: string[] = [];
  const starts: number[] = [];
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
    starts.push(s);
    ids.push(text.slice(s + HEAD.length, q));
    s = nl + 1;
  }
  starts.push(text.length);
  return { starts: Float64Array.from(starts), ids };
}

/** The user records of a slice by id: the first record of an id (as the replay and metrics read it). */
export class UserTable {
  private constructor(
    /** users.jsonl's text, when records are parsed on demand. */
    private readonly text: string | undefined,
    private readonly file: string,
    private readonly types: Readonly<Record<string, FeatureType>> | undefined,
    /** Line i is text[starts[i], starts[i + 1] - 1), with the id its first key names (lazy tables). */
    private readonly starts: Float64Array,
    private readonly ids: readonly string[],
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
    return new UserTable(undefined, file, undefined, new Float64Array(0), [], records, byId);
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
    // Read as one string (one step: ~0.1 s per 100 MB); a file of 256 MiB or more is parsed whole instead, in windows (parseRecordsSteps).
    if (buf.length >= lazyUsers.below) return undefined;
    const text = buf.toString('utf8');
    const lines = yield* scan(text);
    if (!lines) return undefined;
    const byId = yield* firstIndexes(lines.ids);
    return new UserTable(text, file, types, lines.starts, lines.ids, new Array<UserRecord | undefined>(lines.ids.length), byId);
  }

  /** Whether `lazy` on these bytes indexes exactly these records (parsed from them), so a later open may use it. */
  static lazyReads(buf: Buffer, records: readonly UserRecord[]): boolean {
    return runSteps(UserTable.lazyReadsSteps(buf, records));
  }

  /** UserTable.lazyReads in slices of work (see steps.ts). */
  static *lazyReadsSteps(buf: Buffer, records: readonly UserRecord[]): Steps<boolean> {
    if (buf.length >= lazyUsers.below) return false;
    const lines = yield* scan(buf.toString('utf8'));
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

  get(id: string): UserRecord | undefined {
    const i = this.byId.get(id);
    return i === undefined ? undefined : this.at(i);
  }

  /** The first record of each id, in the order of the file. */
  *values(): IterableIterator<UserRecord> {
    for (const i of this.byId.values()) yield this.at(i);
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
    const line = i + 1;
    let v: unknown;
    try {
      v = JSON.parse((this.text as string).slice(this.starts[i] as number, (this.starts[i + 1] as number) - 1));
    } catch (e) {
      // Checked whole when it was first opened: another file now, under the same hash only by a damaged cache.
      throw new UserError(`malformed JSON: ${(e as Error).message}`, { file: this.file, line }, 'Each line must be one user object; run `recreplay verify` on the slice.');
    }
    checkRecord(v, this.file, line, 'user', this.types);
    const rec = v as UserRecord;
    // A repeated "id" key later in the line is the one JSON.parse keeps: the index would name another record.
    if (rec.id !== this.ids[i]) {
      throw new UserError(`the line's first "id" (${shown(this.ids[i])}) is not the one it holds (${shown(rec.id)}): a repeated "id" key`, { file: this.file, line, field: 'id' }, 'Write each user\'s "id" once.');
    }
    this.records[i] = rec;
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
  const tmp = `${p}.${process.pid}.tmp`;
  try {
    ensureDir(dir, 'index cache');
    writeExclusive(tmp, '');
    renameSync(tmp, p);
  } catch {
    rmSync(tmp, { force: true });
  }
}
