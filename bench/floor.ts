/** The floor every throughput target is measured against: read events.jsonl in 8 MiB blocks, split lines, JSON.parse each — nothing else. */
import { closeSync, openSync, readSync } from 'node:fs';

/** Parses up to `limit` lines of `path`; returns the count, time and rate. */
export function jsonParseFloor(path: string, limit = Infinity): { events: number; ms: number; eventsPerSec: number } {
  const fd = openSync(path, 'r');
  const buf = Buffer.allocUnsafe(8 * 1024 * 1024);
  let pos = 0;
  let tail: Buffer | undefined;
  let n = 0;
  const t0 = performance.now();
  outer: for (;;) {
    const got = readSync(fd, buf, 0, buf.length, pos);
    if (got === 0) break;
    pos += got;
    const b = buf.subarray(0, got);
    let s = 0;
    let nl = b.indexOf(10);
    while (nl !== -1) {
      JSON.parse(tail ? Buffer.concat([tail, b.subarray(0, nl)]).toString('utf8') : b.toString('utf8', s, nl));
      tail = undefined;
      if (++n >= limit) break outer;
      s = nl + 1;
      nl = b.indexOf(10, s);
    }
    tail = Buffer.from(b.subarray(s));
  }
  closeSync(fd);
  const ms = performance.now() - t0;
  return { events: n, ms, eventsPerSec: (n / ms) * 1000 };
}
