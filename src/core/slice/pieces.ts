/**
 * Pieces of a block: the reader thread and the engine thread split the lines between a block's
 * first and last newline into pieces of about `pieceSize` bytes and take them one at a time, so
 * whichever thread is free parses the next piece. Both threads compute the same boundaries.
 * Self-contained (the reader thread runs it from its source text).
 */
export function piecesOf(block: Buffer, pieceSize: number): number {
  return block.indexOf(10) === -1 ? 0 : Math.ceil(block.length / pieceSize);
}

/** Byte where piece k's first line starts (a piece holds the lines that start in it; k = piecesOf gives the end). Self-contained. */
export function pieceStart(block: Buffer, k: number, pieceSize: number): number {
  const first = block.indexOf(10) + 1;
  const last = block.lastIndexOf(10);
  const a = k * pieceSize;
  if (a <= first) return first;
  if (a > last) return last + 1;
  return block.indexOf(10, a - 1) + 1;
}
