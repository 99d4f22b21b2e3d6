/** Errors in user input: they name the file, line or field and say what to change. */
export class UserError extends Error {
  override readonly name = 'UserError';
  constructor(
    message: string,
    readonly where: { file?: string; line?: number; column?: number; field?: string } = {},
    readonly hint?: string,
    readonly code = 'E_INPUT',
  ) {
    super(message);
  }

  /** "file:line: message (field) — hint" as a person reads it. */
  describe(): string {
    const loc = [this.where.file, this.where.line, this.where.column].filter((x) => x !== undefined).join(':');
    // A field holds keys from the input (a feature name, a weight's name), which can be megabytes long.
    const field = this.where.field ? ` (field ${shownName(this.where.field, FIELD_MAX)})` : '';
    const hint = this.hint ? `\n  ${this.hint}` : '';
    return `${loc ? loc + ': ' : ''}${this.message}${field}${hint}`;
  }
}

/** The slice's files do not match the hashes in its manifest. */
export class IntegrityError extends UserError {
  constructor(
    readonly modified: string[],
    sliceDir: string,
    /** Why each file differs ("its size differs", …), when known. */
    reasons: Record<string, string> = {},
  ) {
    super(
      `slice was modified since it was frozen: ${modified.map((f) => (reasons[f] ? `${f} (${reasons[f]})` : f)).join(', ')} ${modified.length === 1 ? 'does' : 'do'} not match the manifest`,
      { file: sliceDir },
      'Re-freeze the slice, restore the original file, or pass --force to replay it anyway.',
      'E_MODIFIED',
    );
  }
}

/** How many characters of a value an error message quotes (see shown). */
export const SHOWN_MAX = 60;

/**
 * A value as an error message quotes it: JSON, except numbers JSON cannot write (1e999 reads as
 * Infinity, which JSON.stringify would print as null), cut short at 60 characters (see preview).
 * One argument only, so `.map(shown)` stays right.
 */
export function shown(v: unknown): string {
  return preview(v, SHOWN_MAX);
}

/**
 * How many characters of a field path describe() prints: a path is a prefix of the error's own
 * (`candidates[12].features.`) and a key the messages cut to SHOWN_MAX already (see shownName).
 */
const FIELD_MAX = 2 * SHOWN_MAX;

/**
 * A name from the input (a key, a field path, a file path) as an error message writes it: as it is
 * (no quotes), cut to `max` characters with "…" like shown, a surrogate pair never split.
 */
export function shownName(s: string, max = SHOWN_MAX): string {
  if (s.length <= max) return s;
  let n = max - 1;
  const c = s.charCodeAt(n - 1);
  if (c >= 0xd800 && c <= 0xdbff) n--;
  return `${s.slice(0, n)}…`;
}

/**
 * Where JSON.parse stopped in `text`, as a line and column (1-based) and a reason without V8's
 * "at position N" or its quote of the text (which spans lines in a pretty-printed file). Where V8
 * gives no position (an unexpected token), a scan of the text's syntax finds it.
 */
export function jsonSyntaxError(text: string, e: unknown): { reason: string; line: number; column: number } {
  const message = e instanceof Error ? e.message : String(e);
  const reason = message
    .replace(/^(Unexpected token '[\s\S]*?'), [\s\S]*is not valid JSON$/, '$1')
    .replace(/ in JSON at position \d+(?: \(line \d+ column \d+\))?$/, '')
    .replace(/ at position \d+(?: \(line \d+ column \d+\))?$/, '')
    .replace(/\n/g, '\\n');
  const given = / at position (\d+)/.exec(message);
  const at = Math.max(0, Math.min(given ? Number(given[1]) : jsonErrorOffset(text), text.length));
  const nl = text.lastIndexOf('\n', at - 1);
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < at; i = text.indexOf('\n', i + 1)) line++;
  return { reason, line, column: at - nl };
}

/** The offset of the first character that makes `s` not JSON (s.length when it ends too soon; -1 when it is JSON). */
function jsonErrorOffset(s: string): number {
  const stack: ('{' | '[')[] = [];
  let i = 0;
  let state: 'value' | 'key' | 'after' = 'value';
  const skip = () => {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t' || s[i] === '\n' || s[i] === '\r')) i++;
  };
  for (;;) {
    skip();
    const c = s[i];
    if (state === 'after') {
      const top = stack[stack.length - 1];
      if (top === undefined) return i < s.length ? i : -1;
      if (c === ',') {
        i++;
        state = top === '{' ? 'key' : 'value';
      } else if ((top === '{' && c === '}') || (top === '[' && c === ']')) {
        i++;
        stack.pop();
      } else return i;
    } else if (state === 'key') {
      if (c !== '"') return i;
      const end = stringEnd(s, i);
      if (end < 0) return -end - 1;
      i = end;
      skip();
      if (s[i] !== ':') return i;
      i++;
      state = 'value';
    } else if (c === '{' || c === '[') {
      i++;
      skip();
      if (s[i] === (c === '{' ? '}' : ']')) {
        i++;
        state = 'after';
      } else {
        stack.push(c);
        state = c === '{' ? 'key' : 'value';
      }
    } else if (c === '"') {
      const end = stringEnd(s, i);
      if (end < 0) return -end - 1;
      i = end;
      state = 'after';
    } else if (c === 't' || c === 'f' || c === 'n') {
      const word = c === 't' ? 'true' : c === 'f' ? 'false' : 'null';
      for (let k = 0; k < word.length; k++, i++) if (s[i] !== word[k]) return i;
      state = 'after';
    } else {
      // A number: where one part lacks its digits ("-", "1.", "1e+"), the error is where they should be.
      if (s[i] === '-') i++;
      if (!isDigit(s, i)) return i;
      if (s[i] === '0') i++;
      else while (isDigit(s, i)) i++;
      if (s[i] === '.') {
        if (!isDigit(s, ++i)) return i;
        while (isDigit(s, i)) i++;
      }
      if (s[i] === 'e' || s[i] === 'E') {
        if (s[++i] === '+' || s[i] === '-') i++;
        if (!isDigit(s, i)) return i;
        while (isDigit(s, i)) i++;
      }
      state = 'after';
    }
  }
}

function isDigit(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  return c >= 0x30 && c <= 0x39;
}

/** The offset after the string that starts at `i`, or -(offset of its error) - 1. */
function stringEnd(s: string, i: number): number {
  for (i++; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) return i + 1;
    if (c < 0x20) return -i - 1;
    if (c === 0x5c) {
      const n = s[i + 1];
      if (n === 'u') {
        for (let k = i + 2; k < i + 6; k++) if (!/[0-9a-fA-F]/.test(s[k] ?? '')) return -k - 1;
        i += 5;
      } else if (n !== undefined && '"\\/bfnrt'.includes(n)) i++;
      else return -(i + 1) - 1;
    }
  }
  return -s.length - 1;
}

/**
 * shown with room for `max` characters: a longer text is cut to its first `max` - 3 characters and
 * "…". Bounded whatever the value: it is written iteratively and only until it is longer than
 * `max`, so an array nested 200,000 deep (where JSON.stringify overflows the stack) or a 20 MB
 * array costs a few dozen steps and gives a short message. A value whose JSON fits reads exactly
 * as JSON.stringify writes it.
 */
export function preview(v: unknown, max: number): string {
  const s = typeof v === 'number' || typeof v === 'undefined' || typeof v === 'function' || typeof v === 'symbol' ? String(v) : jsonPrefix(v, max);
  return s.length > max ? `${s.slice(0, max - 3)}…` : s;
}

/** An array or object being written by jsonPrefix: its entries, and the next one to write. */
interface Open {
  readonly value: readonly unknown[] | Readonly<Record<string, unknown>>;
  /** An object's own keys (JSON.stringify's order); undefined for an array. */
  readonly keys: readonly string[] | undefined;
  next: number;
  /** An entry was written (an object skips entries JSON leaves out, so `next` does not say). */
  wrote: boolean;
}

/**
 * JSON.stringify(v), or a prefix of it longer than `room` characters: written with a stack of its
 * own (no recursion) and stopped as soon as the text is longer than `room`. Strings are cut before
 * they are escaped, so a long string or key costs no more than `room` characters either.
 */
function jsonPrefix(root: unknown, room: number): string {
  let out = '';
  const stack: Open[] = [];
  let pending = true;
  let value = toJson(root, '');
  while (out.length <= room) {
    if (pending) {
      pending = false;
      const v = value;
      if (Array.isArray(v)) {
        out += '[';
        stack.push({ value: v, keys: undefined, next: 0, wrote: false });
      } else if (typeof v === 'object' && v !== null) {
        out += '{';
        stack.push({ value: v as Record<string, unknown>, keys: Object.keys(v), next: 0, wrote: false });
      } else {
        out += scalar(v, room);
      }
      continue;
    }
    const top = stack[stack.length - 1];
    if (top === undefined) break;
    if (top.keys === undefined) {
      const a = top.value as readonly unknown[];
      if (top.next >= a.length) {
        out += ']';
        stack.pop();
        continue;
      }
      if (top.wrote) out += ',';
      top.wrote = true;
      const i = top.next++;
      value = toJson(a[i], String(i));
      // What JSON cannot write is null in an array.
      if (omitted(value)) out += 'null';
      else pending = true;
    } else {
      const o = top.value as Readonly<Record<string, unknown>>;
      const keys = top.keys;
      if (top.next >= keys.length) {
        out += '}';
        stack.pop();
        continue;
      }
      const key = keys[top.next++] as string;
      value = toJson(o[key], key);
      // What JSON cannot write is left out of an object.
      if (omitted(value)) continue;
      if (top.wrote) out += ',';
      top.wrote = true;
      out += `${quoted(key, room)}:`;
      pending = true;
    }
  }
  return out;
}

/** A value as JSON.stringify sees it: through its toJSON (a Date's), if it has one. */
function toJson(v: unknown, key: string): unknown {
  return typeof v === 'object' && v !== null && typeof (v as { toJSON?: unknown }).toJSON === 'function' ? (v as { toJSON(k: string): unknown }).toJSON(key) : v;
}

/** Values JSON has no text for (left out of an object, null in an array). */
function omitted(v: unknown): boolean {
  return v === undefined || typeof v === 'function' || typeof v === 'symbol';
}

function scalar(v: unknown, room: number): string {
  if (typeof v === 'string') return quoted(v, room);
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null';
  if (typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return 'null';
}

/**
 * JSON.stringify of a string, of its first `room` + 2 characters only when it is longer (then the
 * text is longer than `room`, and all but its closing quote is JSON.stringify's own). A surrogate
 * pair is not split, so the cut never turns a character into an escape.
 */
function quoted(s: string, room: number): string {
  if (s.length <= room + 2) return JSON.stringify(s);
  let n = room + 2;
  const c = s.charCodeAt(n - 1);
  if (c >= 0xd800 && c <= 0xdbff) n++;
  return JSON.stringify(s.slice(0, n));
}
