/**
 * Work done in slices: a generator that yields between slices of its work and returns its result.
 * The CLI runs it whole (runSteps); the editor runs a slice per turn of the event loop
 * (runStepsAsync), so opening a slice with a million-item catalogue never freezes the extension
 * host it shares with every other extension. Slices are counted in records, never timed: the
 * core reads no clock, and the result is the same however the work was cut.
 */
export type Steps<T> = Generator<void, T, void>;

/** Records (items, ids) handled between two yields: a few milliseconds of work when records are small. */
export const RECORDS_PER_STEP = 4096;

/**
 * Text parsed between two yields (characters, a record counting its text and 64 more): records
 * with 768-dimension embeddings took 240 ms a step counted by records alone.
 */
export const CHARS_PER_STEP = 1 << 20;

/** Bytes read or hashed between two yields (~10 ms at the disk cache's and sha256's speed). */
export const BYTES_PER_STEP = 16 * 1024 * 1024;

/** Runs the steps to the end, at once. */
export function runSteps<T>(steps: Steps<T>): T {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/** How runStepsAsync lets others run between slices, and how it learns it should stop. */
export interface StepRunner {
  /** Resolves when the thread has done other work (the default: the next turn of the event loop, after I/O). */
  pause?: () => Promise<void>;
  /** Asked before each slice: true stops the work (runStepsAsync rejects with StepsCancelled). */
  cancelled?: () => boolean;
}

/** Why runStepsAsync stopped before the end: its runner said cancelled. */
export class StepsCancelled extends Error {
  constructor() {
    super('cancelled');
    this.name = 'StepsCancelled';
  }
}

/** The next turn of the event loop, after pending I/O and timers. */
export const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Candidates re-executed or read between two turns of the event loop (~10–30 ms of work). */
export const CANDIDATES_PER_TURN = 16_384;

/**
 * Paces async work that is not a Steps generator: add(n) counts n units of work done and gives a
 * turn of the event loop each time `limit` of them have added up (undefined otherwise: no await).
 */
export function pacer(limit: number): { add(n: number): Promise<void> | undefined } {
  let work = 0;
  return {
    add(n) {
      work += n;
      if (work < limit) return undefined;
      work = 0;
      return nextTurn();
    },
  };
}

/**
 * Runs the steps a slice per pause. On cancellation StepsCancelled is thrown *into* the generator,
 * so its catch and finally blocks release what it holds (an open file, a reader thread) as they
 * would for any other error, and then it comes out of this promise.
 */
export async function runStepsAsync<T>(steps: Steps<T>, runner: StepRunner = {}): Promise<T> {
  const pause = runner.pause ?? nextTurn;
  let r = steps.next();
  while (!r.done) {
    await pause();
    r = runner.cancelled?.() ? steps.throw(new StepsCancelled()) : steps.next();
  }
  return r.value;
}
