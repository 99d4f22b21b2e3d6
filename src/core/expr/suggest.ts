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
    const d = kl === lower ? 0 : lower.length >= 3 && kl.startsWith(lower) ? 0.5 : Math.abs(kl.length - lower.length) >= bestD ? Infinity : editDistance(lower, kl);
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
