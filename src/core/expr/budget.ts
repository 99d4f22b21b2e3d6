import { WorkLimitError } from './errors';

/**
 * Elements one evaluation may visit: each element a macro visits, each element a list or map
 * literal builds, and each element that `+` on
 * lists copies, `==`/`in` compare and min()/max() look at, each key size() of a map counts, and
 * each character that string() writes, `+` on strings joins, a comparison of strings reads and
 * size(), int(), double(), contains(), startsWith() and endsWith() read: whatever takes time in
 * proportion to its input, or a short condition in a macro could scan a long text 10^10 times. Nested macros multiply, and 24 nested maps over a slate would never finish;
 * `L.map(a, L.map(b, L + [a]))` over a list of 500 would build 125 million elements and exhaust
 * the heap, and string() nested 30 deep over a string whose quotes it escapes, a text of 2^30.
 */
export const MAX_MACRO_STEPS = 1_000_000;

/**
 * Steps left in the evaluation under way (reset by each evaluate; evaluation is synchronous), and
 * a count of evaluations, so that what holds for one (a scope is not changed while an expression
 * reads it) is checked once per evaluation rather than once per call.
 */
export const work = { left: MAX_MACRO_STEPS, evaluation: 0 };

type At = { start: number; end: number };

const LIMIT = MAX_MACRO_STEPS.toLocaleString('en-US');

/** Charges `n` elements handled by an operation (`what`, e.g. "'+' on lists") at node `at` to the evaluation's budget. */
export function charge(n: number, at: At, what: string): void {
  work.left -= n;
  if (work.left < 0) throw overBudget(at, what);
}

/** Charges `n` characters of text an operation (`what`, e.g. "string()") builds at node `at`. */
export function chargeText(n: number, at: At, what: string): void {
  work.left -= n;
  if (work.left < 0) throw new WorkLimitError('runtime', `${what} and the macros around it handle more than ${LIMIT} elements and characters of text in one evaluation: build less text, nest fewer macros, or filter first`, at.start, at.end);
}

/**
 * Steps one runtime error costs. Raising and catching one takes 10 to 100 times a macro's visit,
 * and exists(), all(), || and && absorb them: a condition failing for every pair of 1,000
 * candidates ran 8 to 30 s within the budget when errors cost nothing.
 */
export const ERROR_COST = 20;

/** Charges one runtime error raised at `at`; past the budget, the budget's error is raised there instead. */
export function chargeError(at: At): void {
  work.left -= ERROR_COST;
  if (work.left < 0) {
    throw new WorkLimitError('runtime', `this fails so often that the errors exists(), all(), '||' and '&&' absorb run past the ${LIMIT} steps one evaluation may take (each error counts ${ERROR_COST}): test first for what makes it fail, e.g. with has() or a type check, or filter first`, at.start, at.end);
  }
}

/** The error of an evaluation that ran out of budget at `what`, an operation on elements at `at`. */
export function overBudget(at: At, what: string): WorkLimitError {
  return new WorkLimitError('runtime', `${what} and the macros around it visit more than ${LIMIT} elements in one evaluation: nest fewer macros, or filter first`, at.start, at.end);
}
