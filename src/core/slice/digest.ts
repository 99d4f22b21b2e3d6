/**
 * Event digests: the reader thread parses lines of events.jsonl and hands the engine thread each
 * event's candidates as numbers (item ids and feature-name lists as indexes into tables both
 * threads grow, features and scores as doubles) plus the rest of the event as a short JSON text.
 * Rebuilding the event from that costs the engine thread a fraction of parsing the line: the
 * numbers are already parsed and the strings already exist.
 *
 * Anything that does not fit the regular shape — a candidate with other keys or in another key
 * order, a feature or score that is not a finite number, a -0 or a non-finite number outside the
 * candidates (JSON text loses the sign of -0 and writes 1e999, which parses as Infinity, as null),
 * a line that does not parse — is handed over as its byte range, and the engine
 * thread parses that line itself exactly as it would without a reader thread: same value, same
 * errors.
 *
 * Layout of `nums`, per event in line order:
 *   raw:    0, byte start, byte end          (relative to the block)
 *   digest: 1, text start, text end, served count (-1: "served" left in the text), served item
 *           indexes…, candidate count, then per candidate: item index, feature-list index
 *           (-1: no "features"), score (NaN: no "score"), features…
 */

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

/**
 * Digests the lines in block[from, to) (`to` just past a newline). Self-contained on purpose (no
 * imports, no helpers outside it): the reader thread runs this very function from its source text.
 * `strIndex`/`keyIndex` are the thread's interning maps; new entries are appended to the message.
 */
export function digestLines(block: Buffer, from: number, to: number, strIndex: Map<string, number>, keyIndex: Map<string, number>, maxInterned: number, scratch: DigestScratch): { nums: Float64Array; text: string; newStrs: string[]; newKeys: string[][] } {
  let nums = scratch.nums;
  let len = 0;
  const put = (x: number): void => {
    if (len === nums.length) {
      const grown = new Float64Array(nums.length * 2);
      grown.set(nums);
      nums = scratch.nums = grown;
    }
    nums[len++] = x;
  };
  const parts: string[] = [];
  const newStrs: string[] = [];
  const newKeys: string[][] = [];
  let textLen = 0;
  const intern = (id: string): number => {
    let idx = strIndex.get(id);
    if (idx === undefined) {
      if (strIndex.size >= maxInterned) return -1;
      idx = strIndex.size;
      strIndex.set(id, idx);
      newStrs.push(id);
    }
    return idx;
  };
  // A number the JSON text of the rest would not carry over as it is: -0 (written 0) or ±Infinity (written null).
  const lossy = (v: unknown): boolean => {
    if (typeof v === 'number') return (v === 0 && 1 / v < 0) || !Number.isFinite(v);
    if (typeof v !== 'object' || v === null) return false;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) if (lossy(v[i])) return true;
      return false;
    }
    for (const k in v as Record<string, unknown>) if (lossy((v as Record<string, unknown>)[k])) return true;
    return false;
  };
  let lastKeys: string[] = [];
  let lastKeyIdx = -1;
  let s = from;
  while (s < to) {
    let nl = block.indexOf(10, s);
    if (nl === -1 || nl >= to) nl = to;
    const mark = len;
    let ok = false;
    try {
      const e = JSON.parse(block.toString('utf8', s, nl)) as Record<string, unknown>;
      const cands = typeof e === 'object' && e !== null && !Array.isArray(e) ? e['candidates'] : undefined;
      if (Array.isArray(cands)) {
        ok = true;
        put(1);
        put(0);
        put(0);
        // "served" as item indexes when it is a list of strings.
        const served = e['served'];
        let encoded = Array.isArray(served);
        for (let i = 0; encoded && i < (served as unknown[]).length; i++) encoded = typeof (served as unknown[])[i] === 'string';
        if (encoded) {
          const list = served as string[];
          put(list.length);
          for (let i = 0; i < list.length && ok; i++) {
            const idx = intern(list[i] as string);
            if (idx < 0) ok = false;
            put(idx);
          }
        } else put(-1);
        put(cands.length);
        for (let i = 0; i < cands.length && ok; i++) {
          const c = cands[i] as Record<string, unknown>;
          if (typeof c !== 'object' || c === null || Array.isArray(c)) {
            ok = false;
            break;
          }
          // Keys in this order only: item, then optionally features, then optionally score.
          let n = 0;
          let hasF = false;
          let hasS = false;
          for (const k in c) {
            if (n === 0 ? k !== 'item' : k === 'features' ? n !== 1 : k === 'score' ? hasS : true) {
              ok = false;
              break;
            }
            if (k === 'features') hasF = true;
            else if (k === 'score') hasS = true;
            n++;
          }
          const item = c['item'];
          if (!ok || n === 0 || typeof item !== 'string' || (hasS && !Number.isFinite(c['score']))) {
            ok = false;
            break;
          }
          const idx = intern(item);
          if (idx < 0) {
            ok = false;
            break;
          }
          put(idx);
          if (!hasF) {
            put(-1);
            put(hasS ? (c['score'] as number) : Number.NaN);
            continue;
          }
          const f = c['features'] as Record<string, unknown>;
          if (typeof f !== 'object' || f === null || Array.isArray(f)) {
            ok = false;
            break;
          }
          // The feature names usually repeat from one candidate to the next: compare, do not collect.
          let j = 0;
          let same = true;
          for (const k in f) {
            if (k !== lastKeys[j]) {
              same = false;
              break;
            }
            j++;
          }
          if (lastKeyIdx < 0 || !same || j !== lastKeys.length) {
            const fk = Object.keys(f);
            const name = JSON.stringify(fk);
            const known = keyIndex.get(name);
            if (known === undefined) {
              // Assigning "__proto__" would set the prototype, where JSON.parse makes a property;
              // past 4,096 distinct lists of feature names, new ones go over raw (bounds the tables).
              if (fk.includes('__proto__') || keyIndex.size >= 4096) {
                ok = false;
                break;
              }
              lastKeyIdx = keyIndex.size;
              keyIndex.set(name, lastKeyIdx);
              newKeys.push(fk);
            } else lastKeyIdx = known;
            lastKeys = fk;
          }
          put(lastKeyIdx);
          put(hasS ? (c['score'] as number) : Number.NaN);
          for (let m = 0; m < lastKeys.length; m++) {
            const v = f[lastKeys[m] as string];
            // A non-finite value (1e999 parses as Infinity) goes raw, for the engine thread to reject.
            if (typeof v !== 'number' || !Number.isFinite(v)) {
              ok = false;
              break;
            }
            put(v);
          }
        }
        if (ok) {
          // Arrays of one string hold the places: the keys keep their positions and the fields hold
          // arrays of the same kind as the real ones (an empty array is another kind, and meeting it
          // would make V8 generalise the field and throw away the code that relied on it).
          e['candidates'] = [''];
          if (encoded) e['served'] = [''];
          if (lossy(e)) ok = false;
          else {
            const t = JSON.stringify(e);
            nums[mark + 1] = textLen;
            textLen += t.length;
            nums[mark + 2] = textLen;
            parts.push(t);
          }
        }
      }
    } catch {
      ok = false;
    }
    if (!ok) {
      len = mark;
      put(0);
      put(s);
      put(nl);
    }
    s = nl + 1;
  }
  // A view of the scratch memory: the caller copies it out before the next call.
  return { nums: nums.subarray(0, len), text: parts.join(''), newStrs, newKeys };
}
