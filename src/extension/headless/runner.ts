import { Worker } from 'node:worker_threads';
import type { ReplayJob, ReplayOutcome, WorkerReply } from './protocol';

export interface RunOptions {
  onProgress?: (done: number, total: number) => void;
  /** Registers a callback run when the user cancels. */
  onCancel?: (cancel: () => void) => void;
}

/**
 * Runs one headless replay on a worker thread (`workerFile` is dist/replayWorker.js). Resolves to
 * how it ended; never rejects for a user error (bad slice, unknown ranker): those come back as
 * `{ type: 'error', user: true }` with a sentence to show.
 */
export function runReplayWorker(workerFile: string, job: Omit<ReplayJob, 'cancel'>, opts: RunOptions = {}): Promise<ReplayOutcome> {
  const cancel = new SharedArrayBuffer(4);
  const flag = new Int32Array(cancel);
  return new Promise((resolve) => {
    const worker = new Worker(workerFile, { workerData: { ...job, cancel } satisfies ReplayJob });
    let settled = false;
    const finish = (r: ReplayOutcome) => {
      if (settled) return;
      settled = true;
      resolve(r);
      void worker.terminate();
    };
    opts.onCancel?.(() => Atomics.store(flag, 0, 1));
    worker.on('message', (m: WorkerReply) => {
      if (m.type === 'progress') opts.onProgress?.(m.done, m.total);
      else finish(m);
    });
    worker.on('error', (e) => finish({ type: 'error', message: e.stack ?? e.message, user: false }));
    worker.on('exit', (code) => finish(Atomics.load(flag, 0) === 1 ? { type: 'cancelled' } : { type: 'error', message: `the replay worker stopped unexpectedly (exit code ${code})`, user: false }));
  });
}
