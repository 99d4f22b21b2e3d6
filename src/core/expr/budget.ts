import { WorkLimitError } from './errors';

/**
 * Elements one evaluation may visit: each element a macro visits, and each element that `+` on
 * lists copies, `==`/`in` compare or string() writes. Nested macros multiply, and 24 nested maps
 * over a slate would never finish; `L.map(a, L.map(b, L + [a]))` over a list of 500 would build
 * 125 million elements and exhaust the heap.
 */
export const MAX_MACRO_STEPS = 1_000_000;

/** Steps left in the evaluation under way (reset by each evaluate; evaluation is synchronous). */
export const work = { left: MAX_MACRO_STEPS };

/** Charges `n` elements handled by an operation (`what`, e.g. "'+' on lists") at node `at` to the evaluation's budget. */
export function charge(n: number, at: { start: number; end: number }, what: string): void {
  work.left -= n;
  if (work.left < 0) throw new WorkLimitError('runtime', `${what} and the macros around it visit more than ${MAX_MACRO_STEPS.toLocaleString('en-US')} elements in one evaluation: nest fewer macros, or filter first`, at.start, at.end);
}
