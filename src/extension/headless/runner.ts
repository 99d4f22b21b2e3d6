import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { TRACE_TEMP_FILE } from '../../core/engine/trace';
import { MACHINE } from '../../core/dirs';
import type { ReplayJob, ReplayOutcome, WorkerReply } from './protocol';

export interface RunOptions {
  onProgress?: (done: number, total: number) => void;
  /** What the slice and the ranker warn about (see Slice.warnings, Ranker.warnings), before the replay starts. */
  onWarning?: (message: string) => void;
  /** Registers a callback run when the user cancels. */
  onCancel?: (cancel: () => void) => void;
  /**
   * Registers a callback that stops the worker at once, without the grace period: the extension is
   * going away (window closed or reloaded, extension disabled), and a worker left running would go
   * on writing its trace, or die with the extension host leaving it half-written. Its temp files go.
   */
  onStop?: (stop: () => void) => void;
  /**
   * How long a cancelled worker may take to notice (the engine looks every 1,000 events; opening a
   * slice that has no index yet, or loading a large artifact, does not look at all) before it is
   * stopped outright. Default 2 s.
   */
  graceMs?: number;
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
    // Stopped outright; what it had begun to write goes with it (again once it has exited, for a
    // file it was creating as it was stopped).
    const stop = () => {
      Atomics.store(flag, 0, 1);
      if (settled) return;
      settled = true;
      resolve({ type: 'cancelled' });
      removeTemps(job.traceDir);
      void worker.terminate().then(() => removeTemps(job.traceDir));
    };
    opts.onCancel?.(() => {
      Atomics.store(flag, 0, 1);
      // A worker too busy to look at the flag is stopped.
      setTimeout(stop, opts.graceMs ?? 2000).unref();
    });
    opts.onStop?.(stop);
    worker.on('message', (m: WorkerReply) => {
      if (m.type === 'progress') opts.onProgress?.(m.done, m.total);
      else if (m.type === 'warning') opts.onWarning?.(m.message);
      else finish(m);
    });
    worker.on('error', (e) => finish({ type: 'error', message: e.stack ?? e.message, user: false }));
    worker.on('exit', (code) => finish(Atomics.load(flag, 0) === 1 ? { type: 'cancelled' } : { type: 'error', message: `the replay worker stopped unexpectedly (exit code ${code})`, user: false }));
  });
}

/** The temp files a stopped replay worker of this process left (its thread shares the pid); another run's in the same folder stay. */
function removeTemps(dir: string | undefined): void {
  if (!dir) return;
  const host = MACHINE;
  try {
    for (const f of readdirSync(dir)) {
      const m = TRACE_TEMP_FILE.exec(f);
      if (m && m[2] === host && Number(m[3]) === process.pid) rmSync(join(dir, f), { force: true });
    }
  } catch {
    // No folder yet: nothing was written.
  }
}
