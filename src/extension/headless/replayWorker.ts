/**
 * Worker thread of "Replay Slice Headless": runs the core's runHeadless off the extension host's
 * thread (the engine loop is synchronous, so in-thread it would freeze the editor). Cancellation
 * is a flag in shared memory the engine reads every 1,000 events; a cancelled run writes no trace.
 * Bundled on its own (dist/replayWorker.js) and imports nothing of the editor.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { hostname, userInfo } from 'node:os';
import { CancelledError, runHeadless } from '../../core/engine/run';
import { countsByKind } from '../../core/engine/faults';
import { IntegrityError, UserError } from '../../core/errors';
import { ChangedWhileOpenError } from '../../core/slice/reader';
import type { ReplayJob, WorkerReply } from './protocol';

/** What a user of the editor can do about a modified slice (Replay Slice Headless never forces). */
const MODIFIED_HINT = 'Re-freeze the slice or restore the original file; to replay it as it stands, use Debug Slice with "force": true in its launch configuration.';

const job = workerData as ReplayJob;
const cancel = new Int32Array(job.cancel);
const send = (m: WorkerReply) => parentPort?.postMessage(m);

function user(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

void (async () => {
  try {
    const r = await runHeadless(
      {
        slice: job.slice,
        ranker: job.ranker,
        traceDir: job.traceDir,
        ...(job.seed !== undefined ? { seed: job.seed } : {}),
        ...(job.checkpointEvery !== undefined ? { checkpointEvery: job.checkpointEvery } : {}),
        force: job.force,
        onProgress: (done, total) => send({ type: 'progress', done, total }),
        onWarning: (message) => send({ type: 'warning', message }),
        isCancelled: () => Atomics.load(cancel, 0) === 1,
      },
      { now: () => new Date().toISOString(), user: user(), host: hostname(), cwd: job.cwd },
    );
    r.replayer.dispose();
    send({ type: 'done', events: r.events, metrics: r.metrics, faults: countsByKind((k) => r.faults[k]?.count), trace: r.trace, runRecord: r.runRecord, modified: r.modified, traceSha256: r.traceSha256 });
  } catch (e) {
    if (e instanceof CancelledError) send({ type: 'cancelled' });
    // The core's advice for a modified slice is the CLI's --force, which this command cannot pass.
    else if (e instanceof IntegrityError && !(e instanceof ChangedWhileOpenError)) send({ type: 'error', message: new UserError(e.message, e.where, MODIFIED_HINT, e.code).describe(), user: true });
    else if (e instanceof UserError) send({ type: 'error', message: e.describe(), user: true });
    else send({ type: 'error', message: e instanceof Error ? (e.stack ?? e.message) : String(e), user: false });
  }
})();
