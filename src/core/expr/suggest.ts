/** Levenshtein distance with adjacent transpositions counted as one edit ("socre" → "score"). */
export function editDistance(a: string, b: string): number {
  const prev2: number[] = new Array<number>(b.length + 1).fill(0);
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, (prev2[j - 2] ?? 0) + 1);
      cur.push(d);
    }
    // Copied element by element: spreading a long name's row into splice() overflows the stack.
    for (let j = 0; j < prev.length; j++) prev2[j] = prev[j] as number;
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

// Rows of editDistanceWithin, kept between calls: suggest() compares a name with every known one.
let rowA = new Int32Array(0);
let rowB = new Int32Array(0);
let rowC = new Int32Array(0);

/**
 * editDistance(a, b) when it is at most `max`; otherwise max + 1, found as soon as it is certain.
 * Only the band of cells within `max` of the diagonal is computed, and a row with no cell within
 * `max` ends it: over a million-item catalogue, suggest() took 2 s with the full distance.
 */
export function editDistanceWithin(a: string, b: string, max: number): number {
  const n = a.length;
  const m = b.length;
  const big = max + 1;
  if (Math.abs(n - m) > max) return big;
  if (rowA.length < m + 1) {
    rowA = new Int32Array(m + 1);
    rowB = new Int32Array(m + 1);
    rowC = new Int32Array(m + 1);
  }
  let prev2 = rowA;
  let prev = rowB;
  let cur = rowC;
  for (let j = 0; j <= m; j++) prev[j] = j <= max ? j : big;
  for (let i = 1; i <= n; i++) {
    const lo = Math.max(1, i - max);
    const hi = Math.min(m, i + max);
    cur[0] = i <= max ? i : big;
    if (lo > 1) cur[lo - 1] = big;
    let rowMin = cur[0] as number;
    const ai = a.charCodeAt(i - 1);
    for (let j = lo; j <= hi; j++) {
      const bj = b.charCodeAt(j - 1);
      let d = Math.min((prev[j] as number) + 1, (cur[j - 1] as number) + 1, (prev[j - 1] as number) + (ai === bj ? 0 : 1));
      if (i > 1 && j > 1 && ai === b.charCodeAt(j - 2) && a.charCodeAt(i - 2) === bj) d = Math.min(d, (prev2[j - 2] as number) + 1);
      if (d > big) d = big;
      cur[j] = d;
      if (d < rowMin) rowMin = d;
    }
    // The next row reads one cell past this row's band.
    if (hi < m) cur[hi + 1] = big;
    if (rowMin > max) return big;
    const spare = prev2;
    prev2 = prev;
    prev = cur;
    cur = spare;
  }
  return Math.min(prev[m] as number, big);
}

/**
 * Names longer than this get no suggestion. A key can be text an expression built at run time,
 * and comparing two long names costs the product of their lengths (12 s for a key of a few
 * thousand characters, once per element of an `exists` that absorbs the error anyway).
 */
export const MAX_SUGGESTED_NAME = 64;

/**
 * The known name closest to `name`, if it is close enough to be a typo: a case-insensitive
 * match first, then a known name the given one is a prefix of, then the smallest edit distance
 * within a third of the name's length (at least 2). Work per known name is bounded: a name
 * longer than MAX_SUGGESTED_NAME gets no suggestion, and only the start of a long known name is read.
 */
export function suggest(name: string, known: Iterable<string>): string | undefined {
  if (name.length > MAX_SUGGESTED_NAME) return undefined;
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestD = Math.max(2, Math.floor(name.length / 3)) + 1;
  for (const k of known) {
    if (k === name) continue;
    // Cut past any distance that could count: the rest of a long name can only be a prefix's tail.
    const kl = (k.length > 2 * MAX_SUGGESTED_NAME ? k.slice(0, 2 * MAX_SUGGESTED_NAME) : k).toLowerCase();
    // A name cut short ("hit_rate" for "hit_rate@10") is as likely a slip as a one-letter typo.
    // The edit distance is at least the difference in length: no need to compute it past that.
    const d = kl === lower ? 0 : lower.length >= 3 && kl.startsWith(lower) ? 0.5 : Math.abs(kl.length - lower.length) >= bestD ? Infinity : editDistanceWithin(lower, kl, bestD);
    // Ties go to the shorter name, then the alphabetically first, so the hint is stable.
    if (d < bestD || (d === bestD && best !== undefined && (k.length < best.length || (k.length === best.length && k < best)))) {
      best = k;
      bestD = d;
    }
  }
  return best;
}

/** "; did you mean 'x'?" or nothing. A long name (one the given name is a prefix of) is cut short. */
export function didYouMean(suggestion: string | undefined): string {
  if (suggestion === undefined) return '';
  return `; did you mean '${suggestion.length > 80 ? `${suggestion.slice(0, 79)}…` : suggestion}'?`;
}
