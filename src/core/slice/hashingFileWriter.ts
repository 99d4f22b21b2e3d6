import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readSync } from 'node:fs';
import { writeAll } from '../dirs';
import { ChunkHasher } from './hashing';

/** Streams bytes to a file while computing the whole-file and per-chunk sha256 and line offsets. */
export class HashingFileWriter {
  private fd: number;
  private whole = createHash('sha256');
  private readonly chunker: ChunkHasher;
  bytes = 0;
  private pending: string[] = [];
  private pendingLen = 0;

  constructor(path: string, chunkSize: number) {
    this.chunker = new ChunkHasher(chunkSize);
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
    this.chunker.update(buf);
    this.bytes += buf.length;
  }

  /** Writes what is pending and flushes the file to disk (it is renamed into place next), then closes it. */
  close(): { sha256: string; bytes: number; chunks: string[] } {
    this.flush();
    fsyncSync(this.fd);
    const { sha256: chunks } = this.chunker.finish();
    this.release();
    return { sha256: this.whole.digest('hex'), bytes: this.bytes, chunks };
  }

  /** Closes the file once (a failed write closes it too: one descriptor per failure leaked before). */
  release(): void {
    if (this.fd < 0) return;
    closeSync(this.fd);
    this.fd = -1;
  }
}
