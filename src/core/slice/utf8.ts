import { isUtf8 } from 'node:buffer';
import { UserError } from '../errors';

// Slice files are UTF-8. Bytes that are not (a Latin-1 "é" is the single byte 0xE9) decode to
// U+FFFD, silently, so "café" and "cafè" from a Latin-1 log would both become "caf\uFFFD": two
// items merged into one id. Every line is checked (natively) before it is decoded; only a line
// that fails is scanned here, for where.

const HINT = 'Slice files are UTF-8: convert what the producer wrote (e.g. `iconv -f latin1 -t utf-8`), or fix the producer, then freeze the slice again.';

/** Index of the first byte of `b` that is not part of a well-formed UTF-8 sequence, or -1. */
export function firstBadUtf8(b: Uint8Array): number {
  for (let i = 0; i < b.length; ) {
    const c = b[i] as number;
    if (c < 0x80) {
      i++;
      continue;
    }
    // Sequence length and the range of its second byte (no overlongs, no surrogates, ≤ U+10FFFF).
    let n: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) n = 2;
    else if (c >= 0xe0 && c <= 0xef) {
      n = 3;
      if (c === 0xe0) lo = 0xa0;
      else if (c === 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 4;
      if (c === 0xf0) lo = 0x90;
      else if (c === 0xf4) hi = 0x8f;
    } else return i;
    const second = b[i + 1];
    if (second === undefined || second < lo || second > hi) return i;
    for (let k = 2; k < n; k++) {
      const x = b[i + k];
      if (x === undefined || x < 0x80 || x > 0xbf) return i;
    }
    i += n;
  }
  return -1;
}

/** The error for bytes `b` (line `line` of `file`, or the whole file when line is undefined) that are not UTF-8. */
export function notUtf8(b: Uint8Array, file: string, line?: number): UserError {
  let at = firstBadUtf8(b);
  let ln = line;
  let lineStart = 0;
  if (line === undefined) {
    // A whole file: count the lines before the bad byte.
    ln = 1;
    for (let i = 0; i < at; i++) {
      if (b[i] === 10) {
        ln++;
        lineStart = i + 1;
      }
    }
  }
  if (at < 0) at = 0;
  const byte = (b[at] as number).toString(16).toUpperCase().padStart(2, '0');
  // The column of the bad byte, in characters of the (valid) text before it.
  const column = Buffer.from(b.buffer, b.byteOffset + lineStart, at - lineStart).toString('utf8').length + 1;
  return new UserError(`the line is not valid UTF-8: byte 0x${byte} at column ${column} does not start or continue a UTF-8 character`, { file, ...(ln !== undefined ? { line: ln, column } : {}) }, HINT);
}

/** `buf[s, e)` as text: line `line` of `file`, refused with a UserError when it is not UTF-8. */
export function lineText(buf: Buffer, s: number, e: number, file: string, line: number): string {
  const bytes = buf.subarray(s, e);
  if (!isUtf8(bytes)) throw notUtf8(bytes, file, line);
  return bytes.toString('utf8');
}

/** A whole file's bytes as text, refused with the line and column of the first byte that is not UTF-8. */
export function fileText(buf: Buffer, file: string): string {
  if (!isUtf8(buf)) throw notUtf8(buf, file);
  return buf.toString('utf8');
}

export { isUtf8 };
