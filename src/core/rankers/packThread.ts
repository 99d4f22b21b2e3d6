import { Worker } from 'node:worker_threads';

/**
 * Runs an artifact reader's source (our own code, passed as text so every bundle can start it
 * without shipping a second file) on a thread of its own with `{ path }` as its workerData, and
 * gives what it posts; undefined when it posts 'fallback', cannot start, fails or exits first —
 * the caller then reads the artifact itself, and says what is wrong if anything is.
 */
export function packOnThread<T>(source: string, path: string): Promise<T | undefined> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (v: T | undefined) => {
      if (settled) return;
      settled = true;
      resolve(v);
    };
    let worker: Worker;
    try {
      worker = new Worker(source, { eval: true, workerData: { path } });
    } catch {
      settle(undefined);
      return;
    }
    worker.once('message', (m: T | 'fallback') => {
      settle(m === 'fallback' ? undefined : m);
      void worker.terminate();
    });
    // Out of memory, or gone.
    worker.once('error', () => settle(undefined));
    worker.once('exit', () => settle(undefined));
  });
}
