import { makeDigester } from './digest';
import { pieceStart, piecesOf } from './pieces';

/** What the reader thread says when the file at its path is not the one the slice opened (PrefetchOptions.file). */
export const REPLACED = 'another file is at the path than the one that was opened';

/** How the reader thread's message starts when it cannot open the path at all (gone: the folder moved; not allowed). */
export const UNOPENED = 'the path could not be opened: ';

/**
 * The reader thread of BlockPrefetcher (see prefetch.ts for the protocol): reads blocks ahead into
 * the shared ring, checks their sha256, then digests pieces of the oldest block still held, from
 * its end (digest.ts).
 */
// Our own code, passed as source text so every bundle (CLI, debug adapter, extension host) can
// start it without shipping a second file. It never sees user input as code.
export const READER_SOURCE = `
var __name = (f) => f;
const { workerData } = require('node:worker_threads');
const fs = require('node:fs');
const { createHash } = require('node:crypto');
const digestLines = (${makeDigester.toString()})(require('node:buffer').isUtf8);
const piecesOf = ${piecesOf.toString()};
const pieceStart = ${pieceStart.toString()};
const { path, ring, ctrl, out, blockSize, slots, from, end, hashes, port, digest, pieceSize, maxInterned, file, numsCap, textCap } = workerData;
// Digests go into shared memory, per slot: numbers, then text (sizes: outputCaps in prefetch.ts).
// Passing them in messages made malloc's per-thread arenas grow (allocated on this thread, freed
// on the engine's).
const outNums = out ? new Float64Array(out, 0, slots * numsCap) : undefined;
const outText = out ? Buffer.from(out, slots * numsCap * 8, slots * textCap) : undefined;
const usedN = [], usedT = [];
const st = new Int32Array(ctrl);
const STOP = 3 * slots, FAILED = 3 * slots + 1, POSTED = 3 * slots + 2, FLAGS = 3 * slots + 3;
const maxPieces = Math.ceil(blockSize / pieceSize);
const buf = Buffer.from(ring);
const nBlocks = Math.ceil((end - from) / blockSize);
const strIndex = new Map(), keyIndex = new Map(), scratch = { nums: new Float64Array(1 << 16) };
function run() {
let fd;
try {
  try {
    fd = fs.openSync(path, 'r');
  } catch (e) {
    throw new Error(${JSON.stringify(UNOPENED)} + String(e && e.message || e));
  }
  // The path is opened anew here: it must still lead to the file the slice opened and checked (one
  // fstat per thread). An inode of 0 is not known (some Windows file systems): not checked.
  if (file && file.ino !== 0) {
    const st = fs.fstatSync(fd);
    if (st.ino !== 0 && (st.ino !== file.ino || st.dev !== file.dev)) throw new Error(${JSON.stringify(REPLACED)});
  }
  // digestAt: the oldest block this thread may still take pieces of; back: its next piece, from the end.
  let nextRead = 0, digestAt = 0, back = -1, readDone = false;
  for (;;) {
    if (Atomics.load(st, STOP)) return;
    // Reading ahead comes first: it is quick, and the engine must never wait for a block.
    if (!readDone && nextRead < nBlocks && Atomics.load(st, nextRead % slots) === 0) {
      const s = nextRead % slots;
      // The block this slot held was released, so every piece of it was taken.
      if (digestAt < nextRead - slots + 1) { digestAt = nextRead - slots + 1; back = -1; }
      const view = buf.subarray(s * blockSize, (s + 1) * blockSize);
      const pos = from + nextRead * blockSize;
      let got = 0;
      while (got < blockSize) {
        const n = fs.readSync(fd, view, got, blockSize - got, pos + got);
        if (n === 0) break;
        got += n;
      }
      const h = hashes[nextRead];
      st[slots + s] = got;
      st[2 * slots + s] = h == null ? 3 : createHash('sha256').update(view.subarray(0, got)).digest('hex') === h ? 1 : 2;
      st.fill(0, FLAGS + s * maxPieces, FLAGS + (s + 1) * maxPieces);
      usedN[s] = 0;
      usedT[s] = 0;
      Atomics.store(st, s, 1);
      Atomics.notify(st, s);
      nextRead++;
      if (got < blockSize) readDone = true;
      continue;
    }
    // Then pieces of the oldest block still held, from its end: the engine thread takes them from
    // the start, so by the time it gets to this thread's pieces they are ready. Where the two meet,
    // a piece the engine took first ends this thread's part of the block.
    if (digest && digestAt < nextRead) {
      const s = digestAt % slots;
      const view = buf.subarray(s * blockSize, s * blockSize + st[slots + s]);
      if (back < 0) back = piecesOf(view, pieceSize) - 1;
      const p = back--;
      if (p < 0 || Atomics.compareExchange(st, FLAGS + s * maxPieces + p, 0, 2) !== 0) { digestAt++; back = -1; continue; }
      const d = digestLines(view, pieceStart(view, p, pieceSize), pieceStart(view, p + 1, pieceSize), strIndex, keyIndex, maxInterned, scratch);
      const tLen = Buffer.byteLength(d.text);
      const m = { b: digestAt, p, nOff: -1, nLen: 0, tOff: 0, tLen: 0, newStrs: JSON.stringify(d.newStrs), newKeys: d.newKeys };
      if (usedN[s] + d.nums.length <= numsCap && usedT[s] + tLen <= textCap) {
        m.nOff = s * numsCap + usedN[s];
        m.nLen = d.nums.length;
        outNums.set(d.nums, m.nOff);
        usedN[s] += d.nums.length;
        m.tOff = s * textCap + usedT[s];
        m.tLen = outText.write(d.text, m.tOff, 'utf8');
        usedT[s] += m.tLen;
      }
      port.postMessage(m);
      Atomics.add(st, POSTED, 1);
      Atomics.notify(st, POSTED);
      continue;
    }
    if (readDone || nextRead >= nBlocks) return;
    Atomics.wait(st, nextRead % slots, 1, 250);
  }
} catch (e) {
  port.postMessage(String(e && e.message || e));
  Atomics.store(st, FAILED, 1);
  for (let s = 0; s < slots; s++) Atomics.notify(st, s);
  Atomics.notify(st, POSTED);
} finally {
  if (fd !== undefined) fs.closeSync(fd);
}
}
run();
`;
