import { parseRecordLine } from './events';
import type { UserRecord } from './types';

/**
 * users.jsonl, indexed when the slice opens and parsed one user at a time, the first time that
 * user is asked for. A replay meets a fraction of a slice's users, and parsing every record at
 * open — with the garbage collection that tens of thousands of surviving objects cost — was most
 * of the time to open a slice. A line is checked when it is parsed, with the errors (file:line)
 * that opening gave before; `all()` parses and checks every line.
 *
 * The index reads the id at the start of a line as the writer writes it (`{"id":"…",`); a line in
 * any other form is parsed at once. If a parsed record turns out to carry another id (a line with
 * "id" twice, say), the table falls back to parsing everything, so lookups answer exactly what a
 * map built from all records would (the last record with an id wins).
 */
export class UserTable {
  private readonly index = new Map<string, number>();
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];
  private parsed = new Map<string, UserRecord>();
  private list: UserRecord[] | undefined;
  private exact = false;

  constructor(
    private readonly text: string,
    private readonly file: string,
  ) {
    const PREFIX = '{"id":"';
    let line = 0;
    for (let s = 0; s < text.length; ) {
      let nl = text.indexOf('\n', s);
      if (nl === -1) nl = text.length;
      const i = line++;
      this.starts.push(s);
      this.ends.push(nl);
      let id: string | undefined;
      if (text.startsWith(PREFIX, s)) {
        const close = text.indexOf('"', s + PREFIX.length);
        const after = text.charCodeAt(close + 1);
        // A backslash before the first quote means escapes: that line is parsed instead.
        if (close !== -1 && close < nl && (after === 44 || after === 125)) {
          const found = text.slice(s + PREFIX.length, close);
          if (!found.includes('\\')) id = found;
        }
      }
      if (id !== undefined) {
        this.index.set(id, i);
        // A later line wins over one parsed before it.
        this.parsed.delete(id);
      }
      else if (text.slice(s, nl).trim() !== '') {
        const rec = parseRecordLine<UserRecord>(text.slice(s, nl), file, i + 1, 'user');
        this.index.set(rec.id, i);
        this.parsed.set(rec.id, rec);
      }
      s = nl + 1;
    }
  }

  /** The user with this id (the last record with it), or undefined. */
  get(id: string): UserRecord | undefined {
    const done = this.parsed.get(id);
    if (done !== undefined || this.exact) return done;
    const i = this.index.get(id);
    if (i === undefined) return undefined;
    const rec = this.parseLine(i);
    if (rec.id !== id) {
      this.parseAll();
      return this.parsed.get(id);
    }
    this.parsed.set(id, rec);
    return rec;
  }

  /** Every record in file order, each parsed and checked once. */
  all(): UserRecord[] {
    if (!this.list) this.parseAll();
    return this.list as UserRecord[];
  }

  private parseLine(i: number): UserRecord {
    return parseRecordLine<UserRecord>(this.text.slice(this.starts[i], this.ends[i]), this.file, i + 1, 'user');
  }

  private parseAll(): void {
    const list: UserRecord[] = [];
    const byId = new Map<string, UserRecord>();
    for (let i = 0; i < this.starts.length; i++) {
      const raw = this.text.slice(this.starts[i], this.ends[i]);
      if (raw.trim() === '') continue;
      let rec = parseRecordLine<UserRecord>(raw, this.file, i + 1, 'user');
      // The object already handed out for this line stays the one.
      const given = this.parsed.get(rec.id);
      if (given !== undefined && this.index.get(rec.id) === i) rec = given;
      list.push(rec);
      byId.set(rec.id, rec);
    }
    this.list = list;
    this.parsed = byId;
    this.exact = true;
  }
}
