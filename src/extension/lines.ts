/**
 * The lines of a stream split at "\n" only (as slices and traces number them; readline also split
 * at a lone "\r"), a last line without one included, decoded as UTF-8. A line longer than
 * `maxBytes` is refused through `tooLong(line, bytes)` before more of it is kept: readline buffered
 * a whole 600 MB line and then failed outside any caller's reach (an uncaught RangeError).
 */
export async function* linesOf(stream: AsyncIterable<Buffer>, maxBytes = Infinity, tooLong: (line: number, bytes: number) => Error = (line, bytes) => new Error(`line ${line} is longer than ${bytes} bytes`)): AsyncGenerator<string> {
  let tail: Buffer[] = [];
  let tailBytes = 0;
  let line = 0;
  for await (const chunk of stream) {
    let s = 0;
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, s)) {
      line++;
      if (tailBytes + nl - s > maxBytes) throw tooLong(line, tailBytes + nl - s);
      const part = chunk.subarray(s, nl);
      yield (tail.length ? Buffer.concat([...tail, part]) : part).toString('utf8');
      tail = [];
      tailBytes = 0;
      s = nl + 1;
    }
    if (s < chunk.length) {
      tailBytes += chunk.length - s;
      if (tailBytes > maxBytes) throw tooLong(line + 1, tailBytes);
      tail.push(chunk.subarray(s));
    }
  }
  if (tail.length) yield Buffer.concat(tail).toString('utf8');
}

/**
 * The bytes of a stream cut after its last "\n" so far: each piece holds whole lines, a line begun
 * in one chunk of the stream finished with the next (the trace reader splits and matches the lines
 * of a piece itself: a line at a time through an async generator cost more than its match). The
 * last piece is what follows the last "\n", if anything. A line still open past `maxBytes` is
 * refused through `tooLong(bytes)` before more of it is kept; the caller checks the lengths of the
 * lines it finds (it knows their numbers).
 */
export async function* lineChunksOf(stream: AsyncIterable<Buffer>, maxBytes: number, tooLong: (bytes: number) => Error): AsyncGenerator<Buffer> {
  let tail: Buffer[] = [];
  let tailBytes = 0;
  for await (const chunk of stream) {
    const end = chunk.lastIndexOf(10) + 1;
    if (end === 0) {
      tailBytes += chunk.length;
      if (tailBytes > maxBytes) throw tooLong(tailBytes);
      tail.push(chunk);
      continue;
    }
    yield tail.length ? Buffer.concat([...tail, chunk.subarray(0, end)]) : chunk.subarray(0, end);
    tail = end < chunk.length ? [chunk.subarray(end)] : [];
    tailBytes = chunk.length - end;
    if (tailBytes > maxBytes) throw tooLong(tailBytes);
  }
  if (tail.length) yield Buffer.concat(tail);
}
