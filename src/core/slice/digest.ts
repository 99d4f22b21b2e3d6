/**
 * Event digests: the reader thread scans lines of events.jsonl and hands the engine thread each
 * event's candidates as numbers (item ids and feature-name lists as indexes into tables both
 * threads grow, features and scores as doubles) plus the rest of the event as its own JSON text.
 * Rebuilding the event from that costs the engine thread a fraction of parsing the line: the
 * numbers are already read and the strings already exist.
 *
 * Anything that does not fit the regular shape — a candidate with other keys or in another key
 * order, a feature or score that is not a finite number, a string with an escape where the scan
 * reads it, a repeated "candidates" or "served", a line that does not parse — is handed over as
 * its byte range, and the engine thread parses that line itself exactly as it would without a
 * reader thread: same value, same errors.
 *
 * Layout of `nums`, per event in line order (byte offsets relative to the block):
 *   raw:    0, line start, line end
 *   digest: 1, text start, text end, line start, line end, candidate count, then per candidate:
 *           item index, feature-list index (-1: no "features"), score (NaN: no "score"),
 *           features…; then served count (-1: "served" left in the text), served item indexes…
 */
import { isUtf8 } from 'node:buffer';

/** Tables of strings the reader thread has sent so far (it sends each new one once). */
export interface DigestTables {
  /** Item ids by index. */
  strs: string[];
  /** Feature-name lists by index. */
  keys: string[][];
}

/**
 * What the reader thread sends for one piece of a block: where in the shared output its digest
 * lies (nOff -1: it did not fit, the engine thread parses the piece) and the strings it interned.
 */
export interface DigestMessage {
  /** Block number (from the reader's first block) and piece within it. */
  b: number;
  p: number;
  /** Offset and length of the piece's numbers in the shared Float64Array, of its text (UTF-8) in the shared bytes. */
  nOff: number;
  nLen: number;
  tOff: number;
  tLen: number;
  /**
   * The ids interned in this piece, as a JSON array: JSON.parse on the engine thread gives strings
   * of the very representation JSON.parse gives in a parsed line (short ones internalised), so an
   * object's fields keep one hidden class whichever thread parsed its line.
   */
  newStrs: string;
  newKeys: string[][];
}

/**
 * At most this many interned item ids; past it, events with new ids go over raw. Bounds the reader
 * thread's heap (32 MB) and the engine thread's copy of the table (~10 MB at the limit).
 */
export const MAX_INTERNED = 1 << 17;

/** Working memory a reader thread keeps between calls. */
export interface DigestScratch {
  nums: Float64Array;
}

/** The signature of digestLines (see makeDigester). */
export type DigestLines = (block: Buffer, from: number, to: number, strIndex: Map<string, number>, keyIndex: Map<string, number>, maxInterned: number, scratch: DigestScratch) => { nums: Float64Array; text: string; newStrs: string[]; newKeys: string[][] };

/**
 * Makes digestLines, which digests the lines in block[from, to) (`to` just past a newline).
 * `strIndex`/`keyIndex` are the thread's interning maps; new entries are appended to the message.
 * Self-contained on purpose (no imports, nothing from outside it): the reader thread makes its own
 * from this very source text. Small functions, not one large one: V8 optimises each alone, quickly,
 * where one large function took it ~90 ms a time, several times over, on the reader's core.
 *
 * A line is not JSON.parse'd: its text is scanned once, the candidates' numbers are read where
 * they stand, and the rest of the event is handed over as the line's own text with the candidates
 * (and served ids) cut out and `[""]` in their place. So a value outside the candidates — -0,
 * 1e999, a repeated key — reaches the engine thread's JSON.parse exactly as written. What the scan
 * reads it checks as strictly as JSON.parse (grammar of numbers and strings, whitespace); what it
 * skips it only delimits, and a line whose rest then does not parse on the engine thread is parsed
 * there whole, for JSON.parse's own error (see DigestReader). Numbers are exact: a decimal mantissa
 * below 2^53 scaled by a power of ten up to 10^22 is one correctly rounded IEEE operation
 * (Clinger's fast path); anything else goes through Number(), which rounds as JSON.parse does.
 */
export function makeDigester(isUtf8: (bytes: Uint8Array) => boolean): DigestLines {
  // Longest line digested (bytes); longer ones the engine thread parses. (Inside: the reader thread runs this source alone.)
  const MAX_DIGEST_LINE = 1 << 20;
  // Exact powers of ten (every one up to 10^22 is a double).
  const P10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];
  // The state of one call.
  let nums: Float64Array = new Float64Array(0);
  let len = 0;
  let scratch: DigestScratch = { nums };
  let strIndex = new Map<string, number>();
  let keyIndex = new Map<string, number>();
  let maxInterned = 0;
  let newStrs: string[] = [];
  let newKeys: string[][] = [];
  let lastKeys: string[] = [];
  let lastKeyIdx = -1;
  // Just past the last number read (-1: none there).
  let numEnd = -1;
  const fail = (): number => {
    numEnd = -1;
    return Number.NaN;
  };
  const served: number[] = [];

  function put(x: number): void {
    if (len === nums.length) {
      const grown = new Float64Array(Math.max(64, nums.length * 2));
      grown.set(nums);
      nums = scratch.nums = grown;
    }
    nums[len++] = x;
  }

  // JSON whitespace: space, tab, CR (a line holds no LF).
  function ws(t: string, i: number): number {
    for (let c = t.charCodeAt(i); c === 32 || c === 9 || c === 13; c = t.charCodeAt(++i));
    return i;
  }

  // End (the closing quote) of the plain string opening at i: no escape and no control character,
  // so its text is its value; -1 otherwise.
  function plainEnd(t: string, i: number): number {
    for (let j = i + 1; j < t.length; j++) {
      const c = t.charCodeAt(j);
      if (c === 34) return j;
      if (c === 92 || c < 32) return -1;
    }
    return -1;
  }

  // Just past the value starting at i, delimited only (its validity is JSON.parse's to judge); -1 if it does not end.
  function skip(t: string, i: number): number {
    let depth = 0;
    for (;;) {
      const c = t.charCodeAt(i);
      if (c !== c) return -1;
      if (c === 34) {
        for (i++; ; i++) {
          const d = t.charCodeAt(i);
          if (d !== d) return -1;
          if (d === 92) i++;
          else if (d === 34) break;
        }
        i++;
        if (depth === 0) return i;
      } else if (c === 123 || c === 91) {
        depth++;
        i++;
      } else if (c === 125 || c === 93) {
        if (depth === 0) return i;
        i++;
        if (--depth === 0) return i;
      } else if (depth === 0 && (c === 44 || c === 32 || c === 9 || c === 13)) return i;
      else i++;
    }
  }

  // The JSON number at i, with numEnd just past it; NaN (numEnd -1) when JSON's grammar has no number there.
  function number(t: string, i: number): number {
    const start = i;
    let c = t.charCodeAt(i);
    const neg = c === 45;
    if (neg) c = t.charCodeAt(++i);
    let m = 0;
    let exact = true;
    if (c === 48) c = t.charCodeAt(++i);
    else if (c >= 49 && c <= 57) {
      do {
        if (m >= 900719925474099) exact = false;
        m = m * 10 + (c - 48);
        c = t.charCodeAt(++i);
      } while (c >= 48 && c <= 57);
    } else return fail();
    let e = 0;
    if (c === 46) {
      c = t.charCodeAt(++i);
      if (!(c >= 48 && c <= 57)) return fail();
      do {
        if (m >= 900719925474099) exact = false;
        m = m * 10 + (c - 48);
        e--;
        c = t.charCodeAt(++i);
      } while (c >= 48 && c <= 57);
    }
    if (c === 101 || c === 69) {
      c = t.charCodeAt(++i);
      const eneg = c === 45;
      if (eneg || c === 43) c = t.charCodeAt(++i);
      if (!(c >= 48 && c <= 57)) return fail();
      let x = 0;
      do {
        // Past six digits the exponent is not kept (it could add up with a long fraction to look small): Number() reads it.
        if (x < 100000) x = x * 10 + (c - 48);
        else exact = false;
        c = t.charCodeAt(++i);
      } while (c >= 48 && c <= 57);
      e += eneg ? -x : x;
    }
    numEnd = i;
    if (exact && e >= -22 && e <= 22) {
      const v = e < 0 ? m / (P10[-e] as number) : m * (P10[e] as number);
      return neg ? -v : v;
    }
    return Number(t.slice(start, i));
  }

  // Index of the id t[a, b) in the tables (interned now if new), or -1 past maxInterned.
  function intern(t: string, a: number, b: number): number {
    const id = t.slice(a, b);
    let idx = strIndex.get(id);
    if (idx === undefined) {
      if (strIndex.size >= maxInterned) return -1;
      idx = strIndex.size;
      // Kept as a string of its own: a slice of 13 characters or more is a view of its line in V8,
      // and the table kept every line that brought a new id alive — with ids like item_00000000123
      // the thread ran out of its heap after ~47,000 events. (The id has no escape, so quoted it is
      // its own JSON text.)
      const own = id.length < 13 ? id : (JSON.parse('"' + id + '"') as string);
      strIndex.set(own, idx);
      newStrs.push(own);
    }
    return idx;
  }

  // A candidate's features object at i ("{"): its values go to nums, its list of names to nums[kiAt].
  // Returns the index past it, or -1 to hand the line over raw.
  function features(t: string, i: number, kiAt: number): number {
    i = ws(t, i + 1);
    // The names usually repeat from one candidate to the next: compared where they stand, not collected.
    let j = 0;
    let same = lastKeyIdx >= 0;
    let names: string[] | undefined;
    if (t.charCodeAt(i) === 125) i++;
    else
      for (;;) {
        if (t.charCodeAt(i) !== 34) return -1;
        const k = same && j < lastKeys.length ? (lastKeys[j] as string) : undefined;
        let kEnd: number;
        if (k !== undefined && t.charCodeAt(i + 1 + k.length) === 34 && t.startsWith(k, i + 1)) kEnd = i + 1 + k.length;
        else {
          kEnd = plainEnd(t, i);
          if (kEnd < 0) return -1;
          if (same) {
            same = false;
            names = lastKeys.slice(0, j);
          }
          (names ??= []).push(t.slice(i + 1, kEnd));
        }
        i = ws(t, kEnd + 1);
        if (t.charCodeAt(i) !== 58) return -1;
        const v = number(t, ws(t, i + 1));
        // Not a number, or not finite (1e999 reads as Infinity): raw, for the engine thread to judge.
        if (!Number.isFinite(v)) return -1;
        i = numEnd;
        put(v);
        j++;
        i = ws(t, i);
        const c = t.charCodeAt(i);
        i++;
        if (c === 125) break;
        if (c !== 44) return -1;
        i = ws(t, i);
      }
    if (!same || j !== lastKeys.length) {
      const fk = names ?? lastKeys.slice(0, j);
      const name = JSON.stringify(fk);
      const known = keyIndex.get(name);
      if (known === undefined) {
        // A repeated name (JSON.parse keeps the last value, in the first place) and "__proto__"
        // (assigning it would set the prototype) go raw; so do new lists past 4,096 (bounds the tables).
        if (new Set(fk).size !== fk.length || fk.includes('__proto__') || keyIndex.size >= 4096) return -1;
        lastKeyIdx = keyIndex.size;
        keyIndex.set(name, lastKeyIdx);
        newKeys.push(fk);
      } else lastKeyIdx = known;
      lastKeys = fk;
    }
    nums[kiAt] = lastKeyIdx;
    return i;
  }

  // One candidate at i ("{"): {"item": "…", "features": {…}, "score": x}, keys in this order,
  // features and score optional. Returns the index past it, or -1.
  function candidate(t: string, i: number): number {
    i = ws(t, i + 1);
    if (!t.startsWith('"item"', i)) return -1;
    i = ws(t, i + 6);
    if (t.charCodeAt(i) !== 58) return -1;
    i = ws(t, i + 1);
    const idEnd = t.charCodeAt(i) === 34 ? plainEnd(t, i) : -1;
    if (idEnd < 0) return -1;
    const idx = intern(t, i + 1, idEnd);
    if (idx < 0) return -1;
    put(idx);
    const kiAt = len;
    put(-1);
    put(Number.NaN);
    i = ws(t, idEnd + 1);
    let more = t.charCodeAt(i) === 44;
    if (more) i = ws(t, i + 1);
    if (more && t.startsWith('"features"', i)) {
      i = ws(t, i + 10);
      if (t.charCodeAt(i) !== 58) return -1;
      i = ws(t, i + 1);
      if (t.charCodeAt(i) !== 123) return -1;
      i = features(t, i, kiAt);
      if (i < 0) return -1;
      i = ws(t, i);
      more = t.charCodeAt(i) === 44;
      if (more) i = ws(t, i + 1);
    }
    if (more) {
      if (!t.startsWith('"score"', i)) return -1;
      i = ws(t, i + 7);
      if (t.charCodeAt(i) !== 58) return -1;
      const v = number(t, ws(t, i + 1));
      if (!Number.isFinite(v)) return -1;
      i = numEnd;
      nums[kiAt + 1] = v;
      i = ws(t, i);
    }
    return t.charCodeAt(i) === 125 ? i + 1 : -1;
  }

  // The candidates array at i ("["): its count, then each candidate. Returns the index past it, or -1.
  function candidates(t: string, i: number): number {
    const countAt = len;
    put(0);
    i = ws(t, i + 1);
    if (t.charCodeAt(i) === 93) return i + 1;
    for (let n = 1; ; n++) {
      if (t.charCodeAt(i) !== 123) return -1;
      i = candidate(t, i);
      if (i < 0) return -1;
      i = ws(t, i);
      const c = t.charCodeAt(i);
      if (c === 93) {
        nums[countAt] = n;
        return i + 1;
      }
      if (c !== 44) return -1;
      i = ws(t, i + 1);
    }
  }

  // "served" at i ("["): a list of plain strings into `served`, returning the index past it; -2 when
  // it is another list (it stays in the text); -1 past maxInterned.
  function servedList(t: string, i: number): number {
    served.length = 0;
    i = ws(t, i + 1);
    if (t.charCodeAt(i) === 93) return i + 1;
    for (;;) {
      const e = t.charCodeAt(i) === 34 ? plainEnd(t, i) : -1;
      if (e < 0) return -2;
      const idx = intern(t, i + 1, e);
      if (idx < 0) return -1;
      served.push(idx);
      i = ws(t, e + 1);
      const c = t.charCodeAt(i);
      if (c === 93) return i + 1;
      if (c !== 44) return -2;
      i = ws(t, i + 1);
    }
  }

  // One line: its digest into nums and its rest into the result, or false to hand it over raw.
  function line(t: string, s: number, nl: number, parts: string[]): boolean {
    // Kind, text range (filled in below), line range (for the engine thread to parse it whole if the rest fails).
    put(1);
    put(0);
    put(0);
    put(s);
    put(nl);
    let candA = -1;
    let candB = -1;
    let servA = -1;
    let servB = -1;
    let servSeen = false;
    let i = ws(t, 0);
    if (t.charCodeAt(i) !== 123) return false;
    i = ws(t, i + 1);
    for (;;) {
      // A member: "key" : value. A key with an escape might spell "candidates": the line goes raw.
      if (t.charCodeAt(i) !== 34) return false;
      const kEnd = plainEnd(t, i);
      if (kEnd < 0) return false;
      const isCands = kEnd - i === 11 && t.startsWith('candidates', i + 1);
      const isServed = kEnd - i === 7 && t.startsWith('served', i + 1);
      i = ws(t, kEnd + 1);
      if (t.charCodeAt(i) !== 58) return false;
      i = ws(t, i + 1);
      if (isCands) {
        // JSON.parse keeps the last of repeated keys: a second one goes raw.
        if (candA >= 0 || t.charCodeAt(i) !== 91) return false;
        candA = i;
        i = candidates(t, i);
        candB = i;
      } else if (isServed) {
        if (servSeen) return false;
        servSeen = true;
        const at = i;
        i = t.charCodeAt(i) === 91 ? servedList(t, i) : -2;
        if (i === -1) return false;
        if (i === -2) {
          served.length = 0;
          i = skip(t, at);
        } else {
          servA = at;
          servB = i;
        }
      } else i = skip(t, i);
      if (i < 0) return false;
      i = ws(t, i);
      const c = t.charCodeAt(i);
      i = ws(t, i + 1);
      if (c === 125) break;
      if (c !== 44) return false;
    }
    if (candB < 0 || i !== t.length) return false;
    put(servA >= 0 ? served.length : -1);
    if (servA >= 0) for (let k = 0; k < served.length; k++) put(served[k] as number);
    // The rest: the line with [""] where the candidates and served ids were (the keys keep their
    // places, and the fields hold arrays of the kind the real ones are: an empty array is another
    // kind, and meeting it would make V8 generalise the field and throw away the code relying on it).
    let rest: string;
    if (servA < 0) rest = t.slice(0, candA) + '[""]' + t.slice(candB);
    else if (servA < candA) rest = t.slice(0, servA) + '[""]' + t.slice(servB, candA) + '[""]' + t.slice(candB);
    else rest = t.slice(0, candA) + '[""]' + t.slice(candB, servA) + '[""]' + t.slice(servB);
    parts.push(rest);
    return true;
  }

  return (block, from, to, strIndexArg, keyIndexArg, maxInternedArg, scratchArg) => {
    scratch = scratchArg;
    nums = scratch.nums;
    len = 0;
    strIndex = strIndexArg;
    keyIndex = keyIndexArg;
    maxInterned = maxInternedArg;
    newStrs = [];
    newKeys = [];
    lastKeys = [];
    lastKeyIdx = -1;
    const parts: string[] = [];
    let textLen = 0;
    let s = from;
    // Bytes that are not UTF-8 would decode to U+FFFD, silently: a piece that has any is checked a
    // line at a time, and a line that fails goes raw (the engine thread refuses it with its line).
    const utf8 = isUtf8(block.subarray(from, to));
    while (s < to) {
      let nl = block.indexOf(10, s);
      if (nl === -1 || nl >= to) nl = to;
      const mark = len;
      // A line this long goes raw without being decoded here: as a string (twice its bytes with one
      // character past Latin-1), with the copies that cut it, it did not fit the thread's heap.
      const t = nl - s <= MAX_DIGEST_LINE && (utf8 || isUtf8(block.subarray(s, nl))) ? block.toString('utf8', s, nl) : undefined;
      if (t !== undefined && line(t, s, nl, parts)) {
        nums[mark + 1] = textLen;
        textLen += (parts[parts.length - 1] as string).length;
        nums[mark + 2] = textLen;
      } else {
        len = mark;
        put(0);
        put(s);
        put(nl);
      }
      s = nl + 1;
    }
    // A view of the scratch memory: the caller copies it out before the next call.
    return { nums: nums.subarray(0, len), text: parts.join(''), newStrs, newKeys };
  };
}

/** Digests the lines in block[from, to) on this thread (see makeDigester). */
export const digestLines: DigestLines = makeDigester(isUtf8);
