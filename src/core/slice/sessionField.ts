/**
 * The "session" of one line of events.jsonl, read without parsing the line: grouping a million
 * events by session parsed every line whole (candidates, features and all) to read one string near
 * its start — 33 s for the 3.2 GB bench slice.
 *
 * The scan walks the line's top-level keys, stepping over each value (strings, nested objects and
 * arrays, numbers, literals) without building it, and stops at the key "session". The answer is
 * JSON.parse's for every well-formed line: where the scan could disagree, the line is parsed after
 * all — a key or value with escapes (JSON.parse decodes them), `"session"` written again later in
 * the line, plainly or with escapes (JSON.parse keeps the last of repeated keys: any backslash
 * after the session sends the line to JSON.parse), a line that is not an object, or one the
 * scan cannot follow. A malformed line may still give the session it names before it breaks (the
 * grouping does not judge lines: reading and replaying them does).
 */

/** The line's top-level "session" when it is a string, else undefined (no such key, another type, or a line JSON.parse refuses). */
export function sessionOfLine(text: string): string | undefined {
  const r = scan(text);
  return r === FALLBACK ? parsed(text) : r;
}

const FALLBACK = Symbol('parse the line');

function parsed(text: string): string | undefined {
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
    const s = (v as { session?: unknown }).session;
    return typeof s === 'string' ? s : undefined;
  } catch {
    return undefined;
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function skipWs(text: string, i: number): number {
  while (i < text.length && isWs(text.charCodeAt(i))) i++;
  return i;
}

/** Index just past the string whose opening quote is at `i`, or -1 when it does not end; `escaped.any` is set when it holds a backslash. */
function stringEnd(text: string, i: number, escaped: { any: boolean }): number {
  for (let j = i + 1; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (c === QUOTE) return j + 1;
    if (c === BACKSLASH) {
      escaped.any = true;
      j++;
    }
  }
  return -1;
}

/** Index just past the value starting at `i` (not checked beyond its extent), or -1 when it cannot be followed. */
function valueEnd(text: string, i: number): number {
  const c = text.charCodeAt(i);
  const escaped = { any: false };
  if (c === QUOTE) return stringEnd(text, i, escaped);
  if (c === OPEN_BRACE || c === OPEN_BRACKET) {
    let depth = 0;
    for (let j = i; j < text.length; j++) {
      const d = text.charCodeAt(j);
      if (d === QUOTE) {
        const e = stringEnd(text, j, escaped);
        if (e < 0) return -1;
        j = e - 1;
      } else if (d === OPEN_BRACE || d === OPEN_BRACKET) depth++;
      else if (d === CLOSE_BRACE || d === CLOSE_BRACKET) {
        if (--depth === 0) return j + 1;
      }
    }
    return -1;
  }
  // A number or a literal: up to the next delimiter.
  let j = i;
  while (j < text.length) {
    const d = text.charCodeAt(j);
    if (d === COMMA || d === CLOSE_BRACE || d === CLOSE_BRACKET || isWs(d)) break;
    j++;
  }
  return j > i ? j : -1;
}

function scan(text: string): string | undefined | typeof FALLBACK {
  let i = skipWs(text, 0);
  if (text.charCodeAt(i) !== OPEN_BRACE) return FALLBACK;
  i = skipWs(text, i + 1);
  if (text.charCodeAt(i) === CLOSE_BRACE) return undefined;
  const escaped = { any: false };
  for (;;) {
    if (text.charCodeAt(i) !== QUOTE) return FALLBACK;
    const keyEnd = stringEnd(text, i, escaped);
    if (keyEnd < 0 || escaped.any) return FALLBACK;
    const isSession = keyEnd - i === 9 && text.startsWith('session', i + 1);
    i = skipWs(text, keyEnd);
    if (text.charCodeAt(i) !== COLON) return FALLBACK;
    i = skipWs(text, i + 1);
    const end = valueEnd(text, i);
    if (end < 0) return FALLBACK;
    if (isSession) {
      // A repeated key (JSON.parse keeps the last one), plain or written with escapes ("sess\u0069on"):
      // either shows in the rest of the line as the plain name or as a backslash.
      if (text.indexOf('"session"', end) !== -1 || text.indexOf('\\', end) !== -1) return FALLBACK;
      if (text.charCodeAt(i) !== QUOTE) return text.startsWith('null', i) && end - i === 4 ? undefined : FALLBACK;
      const raw = text.slice(i + 1, end - 1);
      return raw.includes('\\') ? FALLBACK : raw;
    }
    i = skipWs(text, end);
    const c = text.charCodeAt(i);
    if (c === CLOSE_BRACE) return undefined;
    if (c !== COMMA) return FALLBACK;
    i = skipWs(text, i + 1);
  }
}
