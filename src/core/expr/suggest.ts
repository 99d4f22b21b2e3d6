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
 * The known name closest to `name`, if it is close enough to be a typo: a case-insensitive
 * match first, then a known name the given one is a prefix of, then the smallest edit distance
 * within a third of the name's length (at least 2).
 */
export function suggest(name: string, known: Iterable<string>): string | undefined {
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestD = Math.max(2, Math.floor(name.length / 3)) + 1;
  for (const k of known) {
    if (k === name) continue;
    const kl = k.toLowerCase();
    // A name cut short ("hit_rate" for "hit_rate@10") is as likely a slip as a one-letter typo.
    const d = kl === lower ? 0 : lower.length >= 3 && kl.startsWith(lower) ? 0.5 : editDistance(lower, kl);
    // Ties go to the shorter name, then the alphabetically first, so the hint is stable.
    if (d < bestD || (d === bestD && best !== undefined && (k.length < best.length || (k.length === best.length && k < best)))) {
      best = k;
      bestD = d;
    }
  }
  return best;
}

/** "; did you mean 'x'?" or nothing. */
export function didYouMean(suggestion: string | undefined): string {
  return suggestion === undefined ? '' : `; did you mean '${suggestion}'?`;
}
