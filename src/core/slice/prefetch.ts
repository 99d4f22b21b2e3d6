import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { MAX_INTERNED, type DigestMessage, type DigestTables } from './digest';
import { READER_SOURCE, REPLACED, UNOPENED } from './readerThread';

/**
 * Reads events.jsonl ahead of the engine on a worker thread (readerThread.ts): the worker reads
 * chunk-aligned blocks into a ring of shared buffers and checks each block's sha256 against the
 * manifest. With `digest`, it also parses: the lines of a held block are cut into pieces
 * (pieces.ts); the engine thread takes pieces from the start, the worker from the end, and each
 * piece is claimed with an atomic flag, so whichever thread gets there first parses it. The
 * worker's pieces come back as digests (digest.ts) in a shared output area, announced by a small
 * message that also carries the strings it interned.
 *
 * Hand-off is synchronous (the event reader is a generator): one Int32 state per ring slot,
 * 0 = free, 1 = filled, with Atomics.wait/notify on both sides. The worker is started only for
 * long sequential reads (see Slice.events), so seeks and single steps never pay its start-up.
 */

/** Digest output per ring slot: doubles for the numbers, bytes for the text (see BlockPrefetcher). */
export function outputCaps(blockSize: number): { numsCap: number; textCap: number } {
  return { numsCap: blockSize >> 3, textCap: blockSize >> 1 };
}

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
  /**
   * Whether the reader thread also parses lines (see digest.ts): it takes pieces of the held
   * block as the engine thread does, whichever comes first; piece() says who has which.
   */
  digest?: boolean;
  /** Bytes per piece (default 256 KiB). */
  pieceSize?: number;
  /**
   * The file the slice opened at `path` (fstat's device and inode): the reader thread checks that
   * the file it opens there is that one, and reads nothing otherwise (FileReplacedError). An inode
   * of 0 (not known, on some Windows file systems) is not checked.
   */
  file?: { dev: number; ino: number };
}

/** The reader thread found another file at the path than the one the slice opened (see PrefetchOptions.file). */
export class FileReplacedError extends Error {
  constructor(readonly path: string) {
    super(`reading ${path} failed: another file is at its path now than the one that was opened`);
  }
}

/**
 * The reader thread could not open the path at all (the slice folder moved or was renamed, the file
 * made unreadable): it read nothing. The slice's own descriptor still reads the file it opened.
 */
export class PathUnopenedError extends Error {
  constructor(
    readonly path: string,
    why: string,
  ) {
    super(`reading ${path} failed: ${why}`);
  }
}

export class BlockPrefetcher {
  /** 250 ms waits without progress before the reader thread counts as dead (30 s; tests lower it). */
  static stallWaits = 120;
  private readonly worker: Worker;
  private readonly st: Int32Array;
  private readonly ring: SharedArrayBuffer;
  private readonly slots: number;
  readonly pieceSize: number;
  private readonly maxPieces: number;
  /** Strings the reader thread interned, in the order it sent them. */
  readonly tables: DigestTables = { strs: [], keys: [] };
  private readonly outNums: Float64Array;
  private readonly outText: Buffer;
  /** Digests received and not yet used, by block and piece. */
  private readonly stash = new Map<number, DigestMessage>();
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
    this.pieceSize = opts.pieceSize ?? 256 * 1024;
    this.ring = new SharedArrayBuffer(this.slots * opts.blockSize);
    // Digest output per slot (see the worker): numbers in as many bytes as the block has, text in
    // half as many. (Half and a quarter were too few for 20 candidates × 8 features: one piece in
    // eight did not fit, and this thread parsed again what the reader thread had parsed.) Pages
    // never written take no memory.
    const { numsCap, textCap } = outputCaps(opts.blockSize);
    const out = opts.digest ? new SharedArrayBuffer(this.slots * (numsCap * 8 + textCap)) : undefined;
    this.outNums = out ? new Float64Array(out, 0, this.slots * numsCap) : new Float64Array(0);
    this.outText = out ? Buffer.from(out, this.slots * numsCap * 8, this.slots * textCap) : Buffer.alloc(0);
    // Per slot: state, length, verdict; then stop, failed, pieces posted; then per slot and piece who took it (0 nobody, 1 this thread, 2 the reader).
    this.maxPieces = Math.ceil(opts.blockSize / this.pieceSize);
    const ctrl = new SharedArrayBuffer(4 * (3 * this.slots + 3 + this.slots * this.maxPieces));
    this.st = new Int32Array(ctrl);
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.worker = new Worker(READER_SOURCE, {
      eval: true,
      workerData: {
        path,
        ring: this.ring,
        out,
        ctrl,
        blockSize: opts.blockSize,
        slots: this.slots,
        from: opts.from,
        end: opts.end,
        hashes: opts.hashes,
        port: port2,
        digest: opts.digest ?? false,
        pieceSize: this.pieceSize,
        maxInterned: MAX_INTERNED,
        file: opts.file ?? null,
        numsCap,
        textCap,
      },
      transferList: [port2],
      // The blocks live in the shared ring and a piece's objects die young: a small heap keeps RSS down.
      resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 32 },
    });
    // A thread that dies (out of its heap, say) ends in an 'error' event, which comes only once
    // this thread is back in its event loop: the read has by then failed as stalled (below). Left
    // unhandled, the event would take the process down — in the editor, the extension host.
    this.worker.on('error', () => {});
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
      if (Atomics.load(this.st, 3 * this.slots + 1)) this.fail();
      // A reader that hands over nothing for 30 s (killed, say) is an error, not a hang.
      if (Atomics.wait(this.st, s, 0, 250) === 'timed-out' && ++idle >= BlockPrefetcher.stallWaits) {
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

  /**
   * Piece k of the block last returned by next(), pieces taken in order: its digest when the
   * reader thread took it (waiting for it if need be), or undefined when this thread just took it
   * and parses its lines itself.
   */
  piece(k: number): DigestMessage | undefined {
    if (this.closed || this.held < 0) throw new Error(`reading ${this.path} stopped: the slice was closed`);
    if (Atomics.compareExchange(this.st, 3 * this.slots + 3 + this.held * this.maxPieces + k, 0, 1) === 0) return undefined;
    const key = (this.i - 1) * this.maxPieces + k;
    const posted = 3 * this.slots + 2;
    let idle = 0;
    for (;;) {
      const seen = Atomics.load(this.st, posted);
      this.receive();
      const m = this.stash.get(key);
      if (m) {
        this.stash.delete(key);
        return m;
      }
      if (Atomics.load(this.st, 3 * this.slots + 1)) this.fail();
      if (Atomics.wait(this.st, posted, seen, 250) === 'timed-out' && ++idle >= BlockPrefetcher.stallWaits) {
        this.close();
        throw new Error(`reading ${this.path} failed: the reader thread stopped responding`);
      }
    }
  }

  /** The numbers and text of a digest (valid while its block is held), or undefined when it did not fit and this thread must parse the piece. */
  digestOf(m: DigestMessage): { nums: Float64Array; text: string } | undefined {
    if (m.nOff < 0) return undefined;
    return { nums: this.outNums.subarray(m.nOff, m.nOff + m.nLen), text: this.outText.toString('utf8', m.tOff, m.tOff + m.tLen) };
  }

  /** Takes every digest that has arrived: its new strings go into the tables at once, in the order sent. */
  private receive(): void {
    for (let r = receiveMessageOnPort(this.port); r; r = receiveMessageOnPort(this.port)) {
      const m = r.message as DigestMessage | string;
      if (typeof m === 'string') this.fail(m);
      for (const x of JSON.parse(m.newStrs) as string[]) this.tables.strs.push(x);
      for (const x of m.newKeys) this.tables.keys.push(x);
      this.stash.set(m.b * this.maxPieces + m.p, m);
    }
  }

  /** The reader thread failed: its message (if not read yet) becomes this thread's error. */
  private fail(msg?: string): never {
    while (msg === undefined) {
      const r = receiveMessageOnPort(this.port);
      if (!r) break;
      if (typeof r.message === 'string') msg = r.message;
    }
    this.close();
    if (msg === REPLACED) throw new FileReplacedError(this.path);
    if (msg?.startsWith(UNOPENED)) throw new PathUnopenedError(this.path, msg.slice(UNOPENED.length));
    throw new Error(`reading ${this.path} failed: ${msg ?? 'the reader thread stopped'}`);
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
