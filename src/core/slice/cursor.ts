import { DigestReader } from './digestReader';
import { pieceStart, piecesOf } from './pieces';
import { checkEvent, parseEventLine } from './events';
import { lineText } from './utf8';
import { readFull } from './hashing';
import { BlockPrefetcher, FileReplacedError, PathUnopenedError, type PrefetchedBlock } from './prefetch';
import { UserError } from '../errors';
import type { EventRecord, FeatureType } from './types';

/** Blocks larger than this are read on the engine thread (the ring holds two). */
export const MAX_PREFETCH_BLOCK = 64 * 1024 * 1024;

/**
 * The longest line of events.jsonl read, in bytes (256 MiB). A line is parsed as one string, and
 * V8's strings stop at ~512 M characters: a longer line would end in "Cannot create a string
 * longer than…" after gigabytes of copying. A line is refused as soon as its bytes so far pass
 * this, before the next block is joined to them, so memory stays within the limit and a block.
 * (Lines the reader thread parses lie within one block of at most MAX_PREFETCH_BLOCK, below it.)
 */
export const MAX_LINE_BYTES = 256 * 1024 * 1024;

/** The error for event `line` of `file`, longer than `limit` bytes (at least `bytes`). */
export function lineTooLong(file: string, line: number, bytes: number, limit = MAX_LINE_BYTES): UserError {
  return new UserError(
    `the line is longer than recreplay reads: at least ${bytes} bytes, over the limit of ${sizeText(limit)} per event`,
    { file, line },
    `One line of events.jsonl holds one event, of at most ${sizeText(limit)}. A longer line is usually a missing line break or a producer that wrote a whole table into one event: split or trim it, then re-freeze the slice.`,
    'E_LINE_TOO_LONG',
  );
}

function sizeText(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : `${bytes} bytes`;
}

/**
 * Starts a reader thread on [from, end) of the events file (`from` a multiple of the block size);
 * `hashOf(c)` is the sha256 block c must have, or null when it needs no check. The thread opens
 * the path itself: `file` is the file the slice opened there, and a thread that finds another one
 * reads nothing (FileReplacedError).
 */
export function startReader(path: string, blockSize: number, from: number, end: number, hashOf: (c: number) => string | null, file: FileId): BlockPrefetcher {
  const hashes: (string | null)[] = [];
  for (let p = from; p < end; p += blockSize) hashes.push(hashOf(p / blockSize));
  return new BlockPrefetcher(path, { blockSize, from, end, hashes, digest: true, pieceSize: EventCursor.pieceSize, file: { dev: file.dev, ino: file.ino } });
}

/** Which file: its device and inode, as fstat gives them (an inode of 0: not known). */
export interface FileId {
  readonly dev: number;
  readonly ino: number;
}

/** What a cursor needs from its slice. */
export interface CursorHost {
  readonly eventsPath: string;
  /** The manifest's schema.candidate: what a line parsed here is checked against (see checkEvent). */
  readonly candidateTypes: Readonly<Record<string, FeatureType>>;
  /** The manifest's schema.context: the request context a line holds is checked against it too. */
  readonly contextTypes: Readonly<Record<string, FeatureType>> | undefined;
  /** The events file, open for reading. */
  handle(): number;
  /** The events file the slice opened (a reader thread, which opens the path anew, checks it reads the same). */
  readonly file: FileId;
  /** A reader thread found another file at the path: throws (the file changed while open) unless forced; with force, records it, and the cursor reads on its own thread. */
  replaced(): void;
  /** Bytes per block: the manifest's chunk size, so each block is one hashed chunk. */
  readonly blockSize: number;
  /**
   * A block buffer a closed cursor gave back, for the next cursor to read into (or undefined): a
   * seek re-executes a few hundred events through a cursor of its own, and an 8 MiB buffer each
   * left ~50 MB of garbage over 100 seeks at a million events, which RSS carried.
   */
  takeBlock?(): Buffer | undefined;
  /** Gives a cursor's block buffer back (it reads no more from it). */
  giveBlock?(buf: Buffer): void;
  /** Checks block c read on this thread, the first time (throws on a mismatch unless forced). */
  verifyBlock(c: number, data: Buffer): void;
  /** Records the reader thread's verdict on block c (throws on a mismatch unless forced). */
  chunkChecked(c: number, ok: boolean): void;
  /** The sha256 block c must have, or null when it needs no check (verified already, or no chunk hashes). */
  pendingHash(c: number): string | null;
  /**
   * After a block was read (here or by the reader thread): throws if the file changed since the
   * slice was opened (one fstat; with force, records it). When only its status changed, its chunks
   * count as unchecked again (verifyBlock then checks the block in hand).
   */
  unchanged(): void;
  /**
   * Block data at byte `pos`, checked, before it is used: its line breaks that bound the lines in
   * [startByte, endByte) must be where the index has them (throws otherwise: a stale index, or with
   * force a changed file whose lines moved).
   */
  linesInPlace(pos: number, data: Buffer, startByte: number, endByte: number): void;
  /** The error for a read that ran out of data before event `line` (the file shrank since it was opened). */
  endedEarly(line: number): Error;
  /** A reader thread started or stopped (so closing the slice stops it). */
  started(p: BlockPrefetcher): void;
  stopped(p: BlockPrefetcher): void;
}

export interface CursorRange {
  /** First and last event (1-based, inclusive). */
  from: number;
  to: number;
  /** Byte offset of event `from`, and the byte reading stops at. */
  startByte: number;
  endByte: number;
  /** Blocks read on this thread before the reader thread starts (≥ 1). */
  startAfter: number;
}

/**
 * Reads events sequentially in chunk-aligned blocks, each verified as it is first read. After
 * `startAfter` blocks a long read moves to the reader thread (BlockPrefetcher), which reads and
 * checks blocks ahead and parses pieces of them (digest.ts) while this thread parses the pieces it
 * gets to first. A plain object with a small next(), not a generator with the whole loop inside: V8
 * keeps this optimised where a large generator deoptimised on each new path through it.
 */
export class EventCursor {
  /** Bytes per piece of a block (tests lower it to make the threads share small blocks). */
  static pieceSize = 256 * 1024;
  /** The longest line read, in bytes (tests lower it; see MAX_LINE_BYTES). */
  static maxLineBytes = MAX_LINE_BYTES;
  private readonly file: string;
  private readonly types: Readonly<Record<string, FeatureType>>;
  private readonly contextTypes: Readonly<Record<string, FeatureType>> | undefined;
  private readonly digests = new DigestReader();
  private buf: Buffer | undefined;
  private prefetch: BlockPrefetcher | undefined;
  /** The block being read: valid until the next block is taken. */
  private block: Buffer = Buffer.alloc(0);
  /** File offset of the next block to read. */
  private pos: number;
  private blocks = 0;
  /** Bytes to skip in the first block (up to event `from`). */
  private skip: number;
  /**
   * The unfinished line at the end of the blocks read so far: copies of the parts of it each block
   * holds, joined once the line ends (a line over many blocks is copied once, not once per block).
   */
  private tail: Buffer[] = [];
  private tailBytes = 0;
  /** A line put together across blocks, to be parsed next. */
  private pending: string | undefined;
  private line: number;
  /** Lines [s, end) of the block are this thread's to parse. */
  private s = 0;
  private end = 0;
  /** Pieces of a prefetched block, and the one being read. */
  private pieces = 0;
  private piece = 0;
  private digesting = false;
  private done = false;
  /** A reader thread found another file at the path (with force): no reader thread again. */
  private ownThread = false;

  constructor(
    private readonly host: CursorHost,
    private readonly range: CursorRange,
    early?: BlockPrefetcher,
  ) {
    this.file = host.eventsPath;
    this.types = host.candidateTypes;
    this.contextTypes = host.contextTypes;
    this.pos = Math.floor(range.startByte / host.blockSize) * host.blockSize;
    this.skip = range.startByte - this.pos;
    this.line = range.from;
    // A reader thread started as the slice opened (Slice.open readAhead), reading from this first block.
    if (early) this.prefetch = early;
  }

  /** The next event, or undefined after the last one. */
  next(): EventRecord | undefined {
    for (;;) {
      if (this.line > this.range.to || this.done) return this.close();
      if (this.pending !== undefined) {
        const text = this.pending;
        this.pending = undefined;
        return parseEventLine(text, this.file, this.line++, this.types, this.contextTypes);
      }
      if (this.digesting) {
        const e = this.digests.next();
        if (e === 'raw') {
          const { rawStart, rawEnd } = this.digests;
          if (rawEnd - rawStart > EventCursor.maxLineBytes) throw this.tooLong(rawEnd - rawStart);
          const n = this.line++;
          return parseEventLine(lineText(this.block, rawStart, rawEnd, this.file, n), this.file, n, this.types, this.contextTypes);
        }
        if (e !== undefined) return checkEvent(e, this.file, this.line++, true, undefined, this.contextTypes);
        this.digesting = false;
      } else if (this.s < this.end) {
        const nl = this.block.indexOf(10, this.s);
        if (nl - this.s > EventCursor.maxLineBytes) throw this.tooLong(nl - this.s);
        const text = lineText(this.block, this.s, nl, this.file, this.line);
        this.s = nl + 1;
        return parseEventLine(text, this.file, this.line++, this.types, this.contextTypes);
      }
      if (!this.advance()) {
        this.close();
        // Fewer events than the index holds: never a silent early end.
        if (this.line <= this.range.to) throw this.host.endedEarly(this.line);
        return undefined;
      }
    }
  }

  /** Moves to the next piece of a prefetched block, or the next block; false at the end. */
  private advance(): boolean {
    const p = this.prefetch;
    if (p && this.piece < this.pieces) {
      const k = this.piece++;
      const m = p.piece(k);
      const d = m && p.digestOf(m);
      if (d) {
        this.digests.load(d.nums, d.text, p.tables);
        this.digesting = true;
      } else {
        this.s = pieceStart(this.block, k, p.pieceSize);
        this.end = pieceStart(this.block, k + 1, p.pieceSize);
      }
      return true;
    }
    return this.nextBlock();
  }

  private nextBlock(): boolean {
    const { blockSize } = this.host;
    if (this.pos >= this.range.endByte) return this.lastLine();
    const c = this.pos / blockSize;
    let block: Buffer;
    // (null: this thread reads the block.)
    const b = this.prefetch ? this.fromReader() : null;
    if (b === undefined) return this.lastLine();
    if (b) {
      block = b.data;
      // A block the reader thread was not asked to check is checked here when the file's status
      // changed since (see Slice.checkUnchanged): verifyBlock does nothing for a checked chunk.
      this.host.unchanged();
      if (b.verdict !== 3) this.host.chunkChecked(c, b.verdict === 1);
      else this.host.verifyBlock(c, block);
    } else {
      this.buf ??= this.host.takeBlock?.() ?? Buffer.allocUnsafe(blockSize);
      const n = readFull(this.host.handle(), this.buf, this.pos);
      if (n === 0) return this.lastLine();
      block = this.buf.subarray(0, n);
      this.host.unchanged();
      this.host.verifyBlock(c, block);
      this.maybeStartReader(n);
    }
    // (Only after the chunk check: a mismatch found there is what makes the file modified.)
    this.host.linesInPlace(this.pos, block, this.range.startByte, this.range.endByte);
    this.blocks++;
    this.pos += block.length;
    this.block = block;
    const skip = this.skip;
    this.skip = 0;
    const first = block.indexOf(10, skip);
    // The bytes of the unfinished line before this block's (skip is only ever set with no tail).
    // Every line before it has been parsed: it is event this.line.
    const before = this.tailBytes - skip;
    if (first === -1) {
      // No line ends in this block: all of it belongs to the unfinished line.
      if (before + block.length > EventCursor.maxLineBytes) throw this.tooLong(before + block.length);
      this.tail.push(Buffer.from(block.subarray(skip)));
      this.tailBytes += block.length - skip;
      this.s = this.end = 0;
      this.pieces = this.piece = 0;
      return true;
    }
    if (before + first > EventCursor.maxLineBytes) throw this.tooLong(before + first);
    const head = this.tail.length ? Buffer.concat([...this.tail, block.subarray(0, first)]) : block.subarray(skip, first);
    this.pending = lineText(head, 0, head.length, this.file, this.line);
    const last = block.lastIndexOf(10);
    this.tail = last + 1 < block.length ? [Buffer.from(block.subarray(last + 1))] : [];
    this.tailBytes = block.length - last - 1;
    if (b && this.prefetch) {
      // The lines after the first newline come in pieces, each parsed by whichever thread takes it first.
      this.pieces = piecesOf(block, this.prefetch.pieceSize);
      this.piece = 0;
      this.s = this.end = 0;
    } else {
      this.pieces = this.piece = 0;
      this.s = first + 1;
      this.end = last + 1;
    }
    return true;
  }

  /** At the end of the data: the unfinished line, if any, is the last event. */
  private lastLine(): boolean {
    // The data ended before the index says it does: the file was cut or rewritten since it was
    // opened, and what is left of the line being read is no event to parse (it was said as a
    // malformed line of the slice, exit 3, for a file changed under the run).
    if (this.pos < this.range.endByte) {
      this.close();
      this.host.unchanged();
      throw this.host.endedEarly(this.line);
    }
    this.pos = this.range.endByte;
    const bytes = this.tailBytes;
    const parts = this.tail;
    this.tail = [];
    this.tailBytes = 0;
    // Past the last event of the range (a block reaches beyond it), the tail is no event of ours.
    if (bytes === 0 || this.line > this.range.to) return false;
    if (bytes > EventCursor.maxLineBytes) throw this.tooLong(bytes);
    const last = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, bytes);
    this.pending = lineText(last, 0, last.length, this.file, this.line);
    return true;
  }

  /**
   * The reader thread's next block; undefined at the end; null when it found another file at the
   * path (with force: the read goes on here, through the slice's descriptor; else host.replaced throws)
   * or could not open the path at all (the read goes on here).
   */
  private fromReader(): PrefetchedBlock | undefined | null {
    const p = this.prefetch as BlockPrefetcher;
    try {
      return p.next();
    } catch (e) {
      if (!(e instanceof FileReplacedError) && !(e instanceof PathUnopenedError)) throw e;
      this.prefetch = undefined;
      this.host.stopped(p);
      this.ownThread = true;
      // Nothing at the path (the slice folder moved, say) is no other file there: the file opened
      // is still read, checked block by block, through the slice's descriptor.
      if (e instanceof FileReplacedError) this.host.replaced();
      return null;
    }
  }

  private maybeStartReader(n: number): void {
    const { blockSize } = this.host;
    const next = this.pos + blockSize;
    const endByte = this.range.endByte;
    if (this.ownThread || this.blocks + 1 < this.range.startAfter || n !== blockSize || endByte - next <= blockSize || blockSize > MAX_PREFETCH_BLOCK) return;
    this.prefetch = startReader(this.file, blockSize, next, endByte, (c) => this.host.pendingHash(c), this.host.file);
    this.host.started(this.prefetch);
  }

  /** The error for event this.line, of at least `bytes` bytes; the cursor stops (its reader thread too). */
  private tooLong(bytes: number): UserError {
    this.tail = [];
    this.tailBytes = 0;
    this.close();
    return lineTooLong(this.file, this.line, bytes, EventCursor.maxLineBytes);
  }

  /** Stops the reader thread, if one started; later calls to next() return undefined. */
  close(): undefined {
    this.done = true;
    this.pending = undefined;
    this.digesting = false;
    this.s = this.end = 0;
    this.pieces = this.piece = 0;
    // No line of the block is read after this (the events parsed from it are strings of their own).
    this.block = Buffer.alloc(0);
    if (this.buf) {
      this.host.giveBlock?.(this.buf);
      this.buf = undefined;
    }
    if (this.prefetch) {
      this.prefetch.close();
      this.host.stopped(this.prefetch);
      this.prefetch = undefined;
    }
    return undefined;
  }
}
