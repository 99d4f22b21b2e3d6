import { createHash, type Hash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { writeAll } from '../dirs';

/** Streams bytes to a file while computing the whole-file and per-chunk sha256 and line offsets. */
export class HashingFileWriter {
  private fd: number;
  private whole = createHash('sha256');
  private chunk: Hash = createHash('sha256');
  private inChunk = 0;
  readonly chunks: string[] = [];
  bytes = 0;
  private pending: string[] = [];
  private pendingLen = 0;

  constructor(
    path: string,
    private readonly chunkSize: number,
  ) {
    // Read as well as written: a repeated event id is confirmed by reading the earlier line back.
    this.fd = openSync(path, 'w+');
  }

  /** Bytes [start, end) of what was written so far (pending bytes are written first). */
  readBack(start: number, end: number): string {
    this.flush();
    const buf = Buffer.alloc(end - start);
    let got = 0;
    while (got < buf.length) {
      const n = readSync(this.fd, buf, got, buf.length - got, start + got);
      if (n === 0) break;
      got += n;
    }
    return buf.toString('utf8', 0, got);
  }

  write(text: string): void {
    this.pending.push(text);
    this.pendingLen += text.length;
    if (this.pendingLen > 1 << 20) this.flush();
  }

  private flush(): void {
    if (!this.pending.length) return;
    const buf = Buffer.from(this.pending.join(''), 'utf8');
    this.pending = [];
    this.pendingLen = 0;
    writeAll(this.fd, buf);
    this.whole.update(buf);
    let off = 0;
    while (off < buf.length) {
      const take = Math.min(this.chunkSize - this.inChunk, buf.length - off);
      this.chunk.update(buf.subarray(off, off + take));
      this.inChunk += take;
      off += take;
      if (this.inChunk === this.chunkSize) {
        this.chunks.push(this.chunk.digest('hex'));
        this.chunk = createHash('sha256');
        this.inChunk = 0;
      }
    }
    this.bytes += buf.length;
  }

  close(): { sha256: string; bytes: number; chunks: string[] } {
    this.flush();
    if (this.inChunk > 0) this.chunks.push(this.chunk.digest('hex'));
    this.release();
    return { sha256: this.whole.digest('hex'), bytes: this.bytes, chunks: this.chunks };
  }

  /** Closes the file once (a failed write closes it too: one descriptor per failure leaked before). */
  release(): void {
    if (this.fd < 0) return;
    closeSync(this.fd);
    this.fd = -1;
  }
}
