import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';

/**
 * Reads events.jsonl ahead of the engine on a worker thread: the worker reads chunk-aligned
 * blocks into a ring of shared buffers and checks each block's sha256 against the manifest, so
 * the engine thread only splits lines and parses them. Reading and hashing are about a fifth of a
 * replay's work; on a second core they cost the replay nothing.
 *
 * Hand-off is synchronous (the event reader is a generator): one Int32 state per ring slot,
 * 0 = free, 1 = filled, with Atomics.wait/notify on both sides. The worker is started only for
 * long sequential reads (see Slice.events), so seeks and single steps never pay its start-up.
 */

// Our own code, passed as source text so every bundle (CLI, debug adapter, extension host) can
// start it without shipping a second file. It never sees user input as code.
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const fs = require('node:fs');
const { createHash } = require('node:crypto');
const { path, ring, ctrl, blockSize, slots, from, end, hashes, port } = workerData;
const st = new Int32Array(ctrl);
const STOP = 3 * slots, FAILED = 3 * slots + 1;
const buf = Buffer.from(ring);
function run() {
let fd;
try {
  fd = fs.openSync(path, 'r');
  for (let pos = from, i = 0; pos < end; pos += blockSize, i++) {
    const s = i % slots;
    while (Atomics.load(st, s) !== 0) {
      if (Atomics.load(st, STOP)) return;
      Atomics.wait(st, s, 1, 250);
    }
    if (Atomics.load(st, STOP)) break;
    const view = buf.subarray(s * blockSize, (s + 1) * blockSize);
    let got = 0;
    while (got < blockSize) {
      const n = fs.readSync(fd, view, got, blockSize - got, pos + got);
      if (n === 0) break;
      got += n;
    }
    const h = hashes[i];
    st[slots + s] = got;
    st[2 * slots + s] = h == null ? 3 : createHash('sha256').update(view.subarray(0, got)).digest('hex') === h ? 1 : 2;
    Atomics.store(st, s, 1);
    Atomics.notify(st, s);
    if (got < blockSize) break;
  }
} catch (e) {
  port.postMessage(String(e && e.message || e));
  Atomics.store(st, FAILED, 1);
  for (let s = 0; s < slots; s++) Atomics.notify(st, s);
} finally {
  if (fd !== undefined) fs.closeSync(fd);
}
}
run();
`;

/** One block handed over by the reader thread. */
export interface PrefetchedBlock {
  /** A view into the shared ring: valid until release(). */
  data: Buffer;
  /** Byte offset of the block in the file. */
  pos: number;
  /** 1 = hash matches, 2 = hash differs, 3 = not checked (no hash asked for). */
  verdict: 1 | 2 | 3;
}

export interface PrefetchOptions {
  /** Block size in bytes (the manifest's chunk size, so each block is one hashed chunk). */
  blockSize: number;
  /** First byte to read (a multiple of blockSize). */
  from: number;
  /** Reading stops at the block that holds this byte. */
  end: number;
  /** Expected sha256 per block from `from` on; null where the block needs no check. */
  hashes: (string | null)[];
  /** Blocks in the ring (default 2: one being parsed, one read ahead — reading and hashing a block is far quicker than parsing it). */
  slots?: number;
}

export class BlockPrefetcher {
  private readonly worker: Worker;
  private readonly st: Int32Array;
  private readonly ring: SharedArrayBuffer;
  private readonly slots: number;
  private readonly port: MessagePort;
  private i = 0;
  private held = -1;
  private done = false;
  private closed = false;

  constructor(
    readonly path: string,
    private readonly opts: PrefetchOptions,
  ) {
    this.slots = opts.slots ?? 2;
    this.ring = new SharedArrayBuffer(this.slots * opts.blockSize);
    const ctrl = new SharedArrayBuffer(4 * (3 * this.slots + 2));
    this.st = new Int32Array(ctrl);
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { path, ring: this.ring, ctrl, blockSize: opts.blockSize, slots: this.slots, from: opts.from, end: opts.end, hashes: opts.hashes, port: port2 },
      transferList: [port2],
      // It allocates almost nothing (the blocks live in the shared ring): a small heap keeps RSS down.
      resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 16 },
    });
    // A reader that is not waited for must not keep the process alive.
    this.worker.unref();
    this.port.unref();
  }

  /** The next block in file order (blocking until the reader thread has it), or undefined at the end. */
  next(): PrefetchedBlock | undefined {
    if (this.closed) throw new Error(`reading ${this.path} stopped: the slice was closed`);
    this.release();
    if (this.done) return undefined;
    const pos = this.opts.from + this.i * this.opts.blockSize;
    if (pos >= this.opts.end) return this.finish();
    const s = this.i % this.slots;
    let idle = 0;
    while (Atomics.load(this.st, s) !== 1) {
      if (Atomics.load(this.st, 3 * this.slots + 1)) {
        const msg = receiveMessageOnPort(this.port)?.message as string | undefined;
        this.close();
        throw new Error(`reading ${this.path} failed: ${msg ?? 'the reader thread stopped'}`);
      }
      // A reader that hands over nothing for 30 s (killed, say) is an error, not a hang.
      if (Atomics.wait(this.st, s, 0, 250) === 'timed-out' && ++idle >= 120) {
        this.close();
        throw new Error(`reading ${this.path} failed: the reader thread stopped responding`);
      }
    }
    const len = this.st[this.slots + s] as number;
    const verdict = this.st[2 * this.slots + s] as 1 | 2 | 3;
    this.held = s;
    this.i++;
    if (len === 0) return this.finish();
    if (len < this.opts.blockSize) this.done = true;
    return { data: Buffer.from(this.ring, s * this.opts.blockSize, len), pos, verdict };
  }

  /** Gives the block returned by the last next() back to the reader thread. */
  release(): void {
    if (this.held < 0) return;
    Atomics.store(this.st, this.held, 0);
    Atomics.notify(this.st, this.held);
    this.held = -1;
  }

  private finish(): undefined {
    this.close();
    this.closed = false;
    return undefined;
  }

  /** Stops the reader thread (it exits at its next block) and frees the ring. */
  close(): void {
    this.closed = true;
    if (this.done && this.held < 0 && Atomics.load(this.st, 3 * this.slots)) return;
    this.done = true;
    this.held = -1;
    Atomics.store(this.st, 3 * this.slots, 1);
    for (let s = 0; s < this.slots; s++) {
      Atomics.store(this.st, s, 0);
      Atomics.notify(this.st, s);
    }
    this.port.close();
    void this.worker.terminate();
  }
}
