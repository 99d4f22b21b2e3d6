import { ExprError } from './errors';

export type TokenKind = 'number' | 'string' | 'ident' | 'keyword' | 'punct' | 'eof' | 'error';

export interface Token {
  kind: TokenKind;
  /** Source text of punctuation, identifiers and keywords; the raw text otherwise. */
  text: string;
  /** Decoded value of number and string literals. */
  value: number | string | null;
  start: number;
  end: number;
  /** Set in tolerant mode on a string literal that runs to the end of the text. */
  unterminated?: boolean;
}

export const KEYWORDS: ReadonlySet<string> = new Set(['true', 'false', 'null', 'in']);

// Longest first so that `<=` wins over `<`.
const PUNCT = ['&&', '||', '==', '!=', '<=', '>=', '(', ')', '[', ']', '{', '}', '.', ',', ':', '?', '+', '-', '*', '/', '%', '<', '>', '!'];

// Common slips from other languages get a sentence that says what to write instead.
const HINTS: Record<string, string> = {
  '=': "'=' is not an operator here; use '==' to compare",
  '&': "use '&&' for 'and'",
  '|': "use '||' for 'or'",
};

/**
 * Whether a whole-number literal past 2^53 reads as another number. Not when the double holds it
 * exactly (2^53 + 2), nor when it is how that double is written (12345678901234567000, as the
 * printer writes it back), only when digits would be lost (9007199254740993 reads as …992).
 * `raw` is unsigned digits and `v` finite; int() applies the same rule to text.
 */
export function inexact(raw: string, v: number, hex: boolean): boolean {
  if (BigInt(raw) === BigInt(v)) return false;
  return hex || String(v) !== raw.replace(/^0+(?=\d)/, '');
}

const SIMPLE_ESCAPES: Record<string, string> = {
  n: '\n', r: '\r', t: '\t', b: '\b', f: '\f', v: '\v', a: '\x07',
  '\\': '\\', "'": "'", '"': '"', '`': '`', '?': '?',
};

const NUMBER = /(?:0[xX][0-9a-fA-F]+|(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?)/y;
const NUMBER_TAIL = /[A-Za-z0-9_.]*/y;
const IDENT = /[A-Za-z_][A-Za-z0-9_]*/y;

/**
 * Splits `text[from, to)` into tokens; offsets stay absolute so errors in an embedded expression
 * (a log-point template) name the column in the whole text. In tolerant mode (completions) bad
 * input becomes `error` tokens instead of throwing.
 */
export function lex(text: string, from = 0, to = text.length, tolerant = false): Token[] {
  const out: Token[] = [];
  let i = from;
  const tok = (kind: TokenKind, start: number, end: number, value: number | string | null = null): void => {
    out.push({ kind, text: text.slice(start, end), value, start, end });
  };
  const fail = (reason: string, start: number, end: number): void => {
    if (!tolerant) throw new ExprError('syntax', reason, start, end);
    tok('error', start, end);
  };
  while (i < to) {
    const c = text[i] ?? '';
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < to && text[i] !== '\n') i++;
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(text[i + 1] ?? '') && !endsValue(out.at(-1)))) {
      NUMBER.lastIndex = i;
      NUMBER.exec(text);
      let end = Math.min(NUMBER.lastIndex, to);
      const raw = text.slice(i, end);
      NUMBER_TAIL.lastIndex = end;
      NUMBER_TAIL.exec(text);
      // A number glued to letters ("1e", "12abc", "3u") is one bad literal, not two tokens.
      // A '.' after the digits is member access ("1.size()") unless a digit follows it.
      let tail = text.slice(end, Math.min(NUMBER_TAIL.lastIndex, to));
      const dot = tail.indexOf('.');
      if (dot >= 0 && !/^\.[0-9]/.test(tail.slice(dot))) tail = tail.slice(0, dot);
      if (tail !== '') {
        end += tail.length;
        fail(`invalid number literal '${text.slice(i, end)}'`, i, end);
      } else {
        const hex = raw.startsWith('0x') || raw.startsWith('0X');
        const v = hex ? parseInt(raw, 16) : Number(raw);
        // Numbers are doubles: a literal they cannot hold would silently be another number.
        if (!Number.isFinite(v)) fail(`number literal '${raw}' is out of range (numbers are doubles, up to about 1.8e308)`, i, end);
        // The other end: a nonzero literal too small for a double (below ~4.9e-324) would read as 0.
        else if (v === 0 && !hex && /[1-9]/.test(raw.split(/[eE]/)[0] ?? '')) fail(`number literal '${raw}' is too small for a double (the smallest is about 4.9e-324): it would read as 0; write 0 if that is meant`, i, end);
        else if (!Number.isSafeInteger(v) && (hex || /^\d+$/.test(raw)) && inexact(raw, v, hex)) fail(`whole number literal '${raw}' cannot be held exactly: numbers are doubles, exact up to 2^53 (9007199254740992); it would read as ${String(v)}`, i, end);
        else tok('number', i, end, v);
      }
      i = end;
    } else if (c === '"' || c === "'" || ((c === 'r' || c === 'R') && i + 1 < to && (text[i + 1] === '"' || text[i + 1] === "'"))) {
      // (An `r` just before the end — the cursor, for completions — is a name being typed, even
      // when a quote follows it: reading the quote put the string past the cursor.)
      // CEL's triple-quoted strings are not supported here: say so, rather than "" followed by a stray string.
      const q = c === 'r' || c === 'R' ? i + 1 : i;
      if (text.startsWith((text[q] ?? '').repeat(3), q)) fail(`triple-quoted strings are not supported: write "…" and \\n for a line break`, i, q + 3);
      const t = lexString(text, i, to, tolerant);
      out.push(t);
      i = t.end;
    } else if (/[A-Za-z_]/.test(c)) {
      IDENT.lastIndex = i;
      IDENT.exec(text);
      const end = Math.min(IDENT.lastIndex, to);
      const name = text.slice(i, end);
      if (/^(?:[bB]|[rR][bB]|[bB][rR])$/.test(name) && end < to && (text[end] === '"' || text[end] === "'")) fail('bytes literals are not supported: write a string', i, end + 1);
      tok(KEYWORDS.has(name) ? 'keyword' : 'ident', i, end);
      i = end;
    } else {
      const p = PUNCT.find((x) => text.startsWith(x, i) && i + x.length <= to);
      if (p !== undefined) {
        tok('punct', i, i + p.length);
        i += p.length;
      } else {
        const ch = String.fromCodePoint(text.codePointAt(i) ?? 0);
        // `x => 3` is `x >= 3` written the other way round far more often than a mistyped `==`.
        const hint = ch === '=' && text[i + 1] === '>' ? "'=>' is not an operator; use '>=' for 'at least'" : HINTS[ch];
        fail(hint ?? `unexpected character '${ch}'`, i, i + ch.length);
        i += ch.length;
      }
    }
  }
  tok('eof', to, to);
  return out;
}

// After a value, ".5" is a member access gone wrong ("a.1"), not the number 0.5.
function endsValue(t: Token | undefined): boolean {
  return t !== undefined && (t.kind !== 'punct' || t.text === ')' || t.text === ']' || t.text === '}');
}

/** Reads one string literal starting at `start` (its quote, or the `r` of a raw string). */
function lexString(text: string, start: number, to: number, tolerant: boolean): Token {
  const raw = text[start] === 'r' || text[start] === 'R';
  let i = raw ? start + 1 : start;
  const quote = text[i];
  i++;
  let value = '';
  while (i < to && text[i] !== quote && text[i] !== '\n') {
    const c = text[i] ?? '';
    if (c !== '\\' || raw) {
      value += c;
      i++;
      continue;
    }
    // A backslash at the end of the text or of the line escapes nothing: the string is unterminated.
    if (i + 1 >= to || text[i + 1] === '\n') {
      i++;
      break;
    }
    const e = text[i + 1] ?? '';
    const simple = SIMPLE_ESCAPES[e];
    const width = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0;
    const hex = text.slice(i + 2, i + 2 + width);
    const oct = text.slice(i + 1, i + 4);
    if (simple !== undefined) {
      value += simple;
      i += 2;
    } else if (width > 0 && hex.length === width && /^[0-9a-fA-F]+$/.test(hex) && parseInt(hex, 16) <= 0x10ffff) {
      const code = parseInt(hex, 16);
      value += width === 4 ? String.fromCharCode(code) : String.fromCodePoint(code);
      i += 2 + width;
    } else if (/^[0-3][0-7][0-7]$/.test(oct)) {
      value += String.fromCharCode(parseInt(oct, 8));
      i += 4;
    } else if (tolerant) {
      i += 2;
    } else {
      // Only the escape's own characters: in "\x4" the closing quote is not part of it.
      const digits = /^[0-9a-fA-F]*/.exec(hex)?.[0] ?? '';
      const bad = text.slice(i, Math.min(i + 2 + digits.length, to));
      // Eight hex digits that were refused name a code point past Unicode's last.
      const need = width === 8 && digits.length === 8 ? ': it is above U+10FFFF, the last code point'
        : width > 0 ? `: \\${e} takes ${width} hex digits`
        : /[0-7]/.test(e) ? ': an octal escape takes three digits, \\000 to \\377'
        : ': write \\\\ for a backslash, or a raw string (r"…"), which keeps backslashes';
      throw new ExprError('syntax', `invalid escape sequence '${bad}' in a string${need}`, i, i + bad.length);
    }
  }
  if (i >= to || text[i] !== quote) {
    if (!tolerant) {
      throw new ExprError('syntax', 'unterminated string: close it with the quote it was opened with', start, i);
    }
    // In tolerant mode the rest of the text is the string the user is still typing.
    return { kind: 'string', text: text.slice(start, i), value, start, end: i, unterminated: true };
  }
  return { kind: 'string', text: text.slice(start, i + 1), value, start, end: i + 1 };
}
