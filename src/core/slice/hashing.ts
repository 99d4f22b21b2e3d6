import { createHash } from 'node:crypto';
import { closeSync, fstatSync, lstatSync, openSync, readSync, readlinkSync, realpathSync } from 'node:fs';
import { basename } from 'node:path';
import { isWithin } from '../dirs';
import { UserError } from '../errors';
import { BYTES_PER_STEP, runSteps, type Steps } from '../steps';

/** Chunk size for per-chunk hashes: large enough to hash fast, small enough to verify on first read. */
export const DEFAULT_CHUNK_SIZE = 8 * 1024 * 1024;
/** Bounds of a chunk size (manifestSchema.ts says the same): a chunk is read into one buffer, and Node's are below 2 GiB. */
export const MIN_CHUNK_SIZE = 1024;
export const MAX_CHUNK_SIZE = 1024 * 1024 * 1024;

/** Reads until the buffer is full or the file ends. */
export function readFull(fd: number, buf: Buffer, position: number): number {
  let got = 0;
  while (got < buf.length) {
    const n = readSync(fd, buf, got, buf.length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}

/**
 * A file the system will not let this process read (EACCES, EPERM) is for the user to fix, not a
 * crash: the UserError names it. Any other error is returned as it is.
 */
export function cannotRead(e: unknown, path: string): unknown {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code !== 'EACCES' && code !== 'EPERM') return e;
  return new UserError(
    `${basename(path)} cannot be read: permission denied (${code})`,
    { file: path },
    'Check the permissions of the file and of its folders: the user running recreplay must be able to read them.',
    'E_UNREADABLE',
  );
}

/**
 * The largest file read whole into memory (readWhole: slice.json, items.jsonl, users.jsonl and, when
 * a slice is opened, the other files its manifest lists): 2 GiB - 1 byte, the most readFileSync
 * reads (beyond it Node fails with ERR_FS_FILE_TOO_LARGE). events.jsonl is read in blocks
 * (checkFile, EventCursor), whatever its size.
 */
export const MAX_WHOLE_FILE = 2 ** 31 - 1;

/**
 * readFileSync, with a file that may not be read reported as such (cannotRead), and one larger than
 * MAX_WHOLE_FILE as a UserError naming it (found from its size, before anything is read).
 */
export function readWhole(path: string, inside?: string): Buffer {
  return runSteps(readWholeSteps(path, () => {}, BYTES_PER_STEP, inside));
}

/**
 * readWhole in slices of `step` bytes (see steps.ts), handing each to `onChunk` as it is read (to
 * hash it): a 100 MB catalogue was one ~60 ms read, then hashed.
 */
export function* readWholeSteps(path: string, onChunk: (chunk: Buffer) => void, step = BYTES_PER_STEP, inside?: string): Steps<Buffer> {
  // Only the file system's errors are said as a read that failed (not one thrown in at a yield).
  const io = <T>(f: () => T): T => {
    try {
      return f();
    } catch (e) {
      throw cannotRead(e, path);
    }
  };
  // (With `inside`: a file that leads outside that folder is refused, see openForReading.)
  const fd = openForReading(path, inside);
  try {
    const { size } = io(() => fstatSync(fd));
    if (size > MAX_WHOLE_FILE) throw tooLarge(path, size);
    const buf = Buffer.allocUnsafe(size);
    let got = 0;
    while (got < size) {
      if (got > 0) yield;
      const want = Math.min(step, size - got);
      let n = 0;
      for (let r = -1; n < want && r !== 0; n += r) {
        const at = got + n;
        r = io(() => readSync(fd, buf, at, want - (at - got), at));
      }
      onChunk(buf.subarray(got, got + n));
      got += n;
      // Cut short (the file shrank since its size was read): what is there is the file.
      if (n < want) return buf.subarray(0, got);
    }
    // It grew since: the rest is read too, as readFileSync would have.
    const more: Buffer[] = [];
    for (;;) {
      const extra = Buffer.allocUnsafe(step);
      const at = got;
      const r = io(() => readSync(fd, extra, 0, extra.length, at));
      if (r === 0) break;
      if (got + r > MAX_WHOLE_FILE) throw tooLarge(path);
      more.push(extra.subarray(0, r));
      onChunk(extra.subarray(0, r));
      got += r;
    }
    return more.length ? Buffer.concat([buf, ...more]) : buf;
  } finally {
    closeSync(fd);
  }
}

/** The error for a file over MAX_WHOLE_FILE (`size`, when known). */
function tooLarge(path: string, size?: number): UserError {
  const held = size === undefined ? '' : ` (${(size / 2 ** 30).toFixed(1)} GiB)`;
  return new UserError(
    `${basename(path)} is too large to read${held}: recreplay reads this file whole, which it can for files under 2 GiB`,
    { file: path },
    'Check that it is the file the slice should hold: a slice\'s files other than events.jsonl (slice.json, items.jsonl, users.jsonl, artifacts) must be under 2 GiB. Make it smaller, then re-freeze the slice.',
    'E_TOO_LARGE',
  );
}

/**
 * Opens a file for reading, with a file that may not be read reported as such (cannotRead). With
 * `inside` (a slice folder), the file opened must lie in it, links followed: checked on the open
 * file itself, so a link swapped between a look at the path and the open is not read (a file
 * checked as inside, then replaced by a link to a file outside, was read as the catalogue).
 */
export function openForReading(path: string, inside?: string): number {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw cannotRead(e, path);
  }
  if (inside !== undefined) {
    let ok = false;
    try {
      ok = openedWithin(inside, fd, path);
    } finally {
      if (!ok) closeSync(fd);
    }
    if (!ok) throw new UserError(`${path} leads outside the slice folder ${inside} (a symbolic link): it is not read`, { file: path }, 'A slice\'s files lie in its folder: replace the link with the file, or re-freeze the slice.', 'E_OUTSIDE');
  }
  return fd;
}

/** Whether the file open at `fd` (opened from `path`) lies inside `dir`: by the kernel's own name for it where there is one (Linux), else by the real path found after opening, which must be that very file. */
function openedWithin(dir: string, fd: number, path: string): boolean {
  const root = realpathSync(dir);
  let real: string | undefined;
  if (process.platform === 'linux') {
    try {
      real = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      real = undefined;
    }
  }
  if (real === undefined || !real.startsWith('/')) {
    real = realpathSync(path);
    const a = fstatSync(fd);
    const b = lstatSync(real);
    if (a.dev !== b.dev || a.ino !== b.ino) return false;
  }
  return real !== root && isWithin(root, real);
}

/** sha256 of a string or buffer, hex. */
export function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** How a file differs from its manifest entry (none: it matches). */
export type FileMismatch = 'size' | 'sha256' | 'chunk sha256';

/**
 * Checks a file's bytes, fed in order in pieces of any size, against its manifest entry: its size,
 * its sha256 and, when the entry has them, the sha256 of every chunk. The three must agree for the
 * file to count as intact, so a whole-file check (`recreplay verify`, the first open) and a check
 * chunk by chunk as events are read can never disagree about the same bytes.
 */
export class FileChecker {
  private readonly whole = createHash('sha256');
  private chunk: ReturnType<typeof createHash> | undefined;
  private chunkFill = 0;
  private readonly chunkHashes: string[] = [];
  private bytes = 0;

  constructor(private readonly entry: { sha256: string; bytes: number; chunks?: { size: number; sha256: string[] } }) {}

  update(buf: Buffer): void {
    this.whole.update(buf);
    this.bytes += buf.length;
    const size = this.entry.chunks?.size;
    // (A manifest not yet validated may hold anything: only a positive whole size cuts chunks.)
    if (size === undefined || !Number.isInteger(size) || size < 1) return;
    let o = 0;
    while (o < buf.length) {
      this.chunk ??= createHash('sha256');
      const take = Math.min(size - this.chunkFill, buf.length - o);
      this.chunk.update(buf.subarray(o, o + take));
      this.chunkFill += take;
      o += take;
      if (this.chunkFill === size) this.closeChunk();
    }
  }

  private closeChunk(): void {
    if (this.chunk) this.chunkHashes.push(this.chunk.digest('hex'));
    this.chunk = undefined;
    this.chunkFill = 0;
  }

  /** What differs, the first of size, sha256, chunk sha256; undefined when the file matches. */
  finish(): FileMismatch | undefined {
    if (this.chunkFill > 0) this.closeChunk();
    if (this.bytes !== this.entry.bytes) return 'size';
    if (this.whole.digest('hex') !== this.entry.sha256) return 'sha256';
    const want = this.entry.chunks?.sha256;
    if (want && (want.length !== this.chunkHashes.length || want.some((h, i) => h !== this.chunkHashes[i]))) return 'chunk sha256';
    return undefined;
  }
}

/**
 * Per-chunk sha256 of bytes fed in order, in chunks of `size` (the last may be short): the chunk
 * hashes of an events.jsonl whose manifest has none, worked out while it is checked whole.
 */
export class ChunkHasher {
  private hash = createHash('sha256');
  private inChunk = 0;
  private readonly sha256: string[] = [];

  constructor(readonly size = DEFAULT_CHUNK_SIZE) {}

  update(buf: Uint8Array): void {
    let off = 0;
    while (off < buf.length) {
      const take = Math.min(this.size - this.inChunk, buf.length - off);
      this.hash.update(buf.subarray(off, off + take));
      this.inChunk += take;
      off += take;
      if (this.inChunk === this.size) {
        this.sha256.push(this.hash.digest('hex'));
        this.hash = createHash('sha256');
        this.inChunk = 0;
      }
    }
  }

  finish(): { size: number; sha256: string[] } {
    if (this.inChunk > 0) {
      this.sha256.push(this.hash.digest('hex'));
      this.inChunk = 0;
    }
    return { size: this.size, sha256: this.sha256 };
  }
}

/**
 * Checks a whole file against its manifest entry (see FileChecker), reading it in blocks: by path,
 * or through a descriptor already open (then the bytes checked are those of the file every later
 * read through it gets, whatever the path holds meanwhile; the descriptor stays open).
 */
export function checkFile(file: string | number, entry: { sha256: string; bytes: number; chunks?: { size: number; sha256: string[] } }, onBlock?: (buf: Buffer, offset: number) => void): FileMismatch | undefined {
  const fd = typeof file === 'number' ? file : openForReading(file);
  try {
    return runSteps(checkFileSteps(fd, entry, onBlock));
  } finally {
    if (typeof file !== 'number') closeSync(fd);
  }
}

/**
 * checkFile of an open file, yielding between blocks (see steps.ts): what a slice opened in the
 * editor does for an events.jsonl whose manifest has no chunk hashes, instead of one synchronous
 * read of it all (its caller works the chunk hashes out in `onBlock`).
 */
export function* checkFileSteps(fd: number, entry: { sha256: string; bytes: number; chunks?: { size: number; sha256: string[] } }, onBlock?: (buf: Buffer, offset: number) => void): Steps<FileMismatch | undefined> {
  const checker = new FileChecker(entry);
  const buf = Buffer.allocUnsafe(entry.chunks?.size ?? DEFAULT_CHUNK_SIZE);
  for (let off = 0; ; ) {
    if (off > 0) yield;
    const n = readFull(fd, buf, off);
    if (n === 0) break;
    const view = buf.subarray(0, n);
    checker.update(view);
    onBlock?.(view, off);
    off += n;
    if (n < buf.length) break;
  }
  return checker.finish();
}
