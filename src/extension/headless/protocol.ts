/** Messages between the extension host and the headless replay worker. */
export interface ReplayJob {
  slice: string;
  ranker: string;
  traceDir: string;
  seed?: number;
  checkpointEvery?: number;
  force: boolean;
  cwd: string;
  /** An Int32Array(1) view of it: 1 = cancel. */
  cancel: SharedArrayBuffer;
}

export type WorkerReply =
  | { type: 'progress'; done: number; total: number }
  | { type: 'warning'; message: string }
  | { type: 'done'; events: number; metrics: Record<string, number>; faults: Record<string, number>; trace: string | null; runRecord: string | null; modified: string[]; traceSha256: string }
  | { type: 'cancelled' }
  | { type: 'error'; message: string; user: boolean };

export type ReplayOutcome = Exclude<WorkerReply, { type: 'progress' } | { type: 'warning' }>;
