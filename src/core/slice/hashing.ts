import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';

/** Chunk size for per-chunk hashes: large enough to hash fast, small enough to verify on first read. */
export const DEFAULT_CHUNK_SIZE = 8 * 1024 * 1024;

export interface FileDigest {
  sha256: string;
  bytes: number;
  chunks: string[];
  chunkSize: number;
}

/** Streams a file once: whole-file sha256 plus per-chunk sha256, without loading it whole. */
export function digestFile(path: string, chunkSize = DEFAULT_CHUNK_SIZE, onChunk?: (buf: Buffer, offset: number) => void): FileDigest {
  const whole = createHash('sha256');
  const chunks: string[] = [];
  const buf = Buffer.allocUnsafe(chunkSize);
  const fd = openSync(path, 'r');
  let bytes = 0;
  try {
    for (;;) {
      const n = readFull(fd, buf, bytes);
      if (n === 0) break;
      const view = buf.subarray(0, n);
      whole.update(view);
      chunks.push(createHash('sha256').update(view).digest('hex'));
      onChunk?.(view, bytes);
      bytes += n;
      if (n < chunkSize) break;
    }
  } finally {
    closeSync(fd);
  }
  return { sha256: whole.digest('hex'), bytes, chunks, chunkSize };
}

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

/** sha256 of a string or buffer, hex. */
export function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
