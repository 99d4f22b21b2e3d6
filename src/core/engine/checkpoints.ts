import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Checkpoints keyed by event number. The newest few stay in memory; the rest are spilled to
 * one append-only file, so memory does not grow with the slice (1M events / every 1000 = 1000
 * checkpoints of catalogue-sized state).
 */
export class CheckpointStore {
  private readonly where = new Map<number, { offset: number; length: number }>();
  private readonly hot = new Map<number, Buffer>();
  private fd: number | undefined;
  private dir: string | undefined;
  private end = 0;

  constructor(
    private readonly hotLimit = 4,
    private readonly spillRoot = tmpdir(),
  ) {}

  has(n: number): boolean {
    return this.hot.has(n) || this.where.has(n);
  }

  /** Stores the serialised state taken before event n ran. */
  put(n: number, data: Buffer): void {
    if (this.has(n)) return;
    this.hot.set(n, data);
    if (this.hot.size > this.hotLimit) {
      const [oldest, bytes] = this.hot.entries().next().value as [number, Buffer];
      this.hot.delete(oldest);
      this.spill(oldest, bytes);
    }
  }

  private spill(n: number, buf: Buffer): void {
    if (this.fd === undefined) {
      this.dir = mkdtempSync(join(this.spillRoot, 'recreplay-ckpt-'));
      this.fd = openSync(join(this.dir, 'checkpoints.bin'), 'w+');
    }
    writeSync(this.fd, buf, 0, buf.length, this.end);
    this.where.set(n, { offset: this.end, length: buf.length });
    this.end += buf.length;
  }

  /** The nearest checkpoint at or before event n. */
  nearest(n: number): { n: number; data: Buffer } | undefined {
    let best = -1;
    for (const k of this.hot.keys()) if (k <= n && k > best) best = k;
    for (const k of this.where.keys()) if (k <= n && k > best) best = k;
    if (best < 0) return undefined;
    const hot = this.hot.get(best);
    if (hot !== undefined) return { n: best, data: hot };
    const loc = this.where.get(best);
    if (!loc || this.fd === undefined) return undefined;
    const buf = Buffer.allocUnsafe(loc.length);
    readSync(this.fd, buf, 0, loc.length, loc.offset);
    return { n: best, data: buf };
  }

  get size(): number {
    return this.hot.size + this.where.size;
  }

  /** Deletes the spill file. */
  dispose(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.fd = undefined;
    this.dir = undefined;
    this.where.clear();
    this.hot.clear();
  }
}
