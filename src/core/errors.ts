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
    const field = this.where.field ? ` (field ${this.where.field})` : '';
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
