/**
 * The lines of a stream split at "\n" only (as slices and traces number them; readline also split
 * at a lone "\r"), a last line without one included, decoded as UTF-8. A line longer than
 * `maxBytes` is refused through `tooLong(line, bytes)` before more of it is kept: readline buffered
 * a whole 600 MB line and then failed outside any caller's reach (an uncaught RangeError).
 */
export function linesOf(stream: AsyncIterable<Buffer>, maxBytes = Infinity, tooLong: (line: number, bytes: number) => Error = (line, bytes) => new Error(`line ${line} is longer than ${bytes} bytes`)): AsyncGenerator<string> {
  return splitLines(stream, maxBytes, tooLong, (b) => b.toString('utf8'));
}

/**
 * The lines of a stream as linesOf splits them, as bytes: undecoded (the trace reader matches its
 * lines on their bytes). A line may be a view of a chunk of the stream: read it before the next.
 */
export function lineBytesOf(stream: AsyncIterable<Buffer>, maxBytes = Infinity, tooLong: (line: number, bytes: number) => Error = (line, bytes) => new Error(`line ${line} is longer than ${bytes} bytes`)): AsyncGenerator<Buffer> {
  return splitLines(stream, maxBytes, tooLong, (b) => b);
}

async function* splitLines<T>(stream: AsyncIterable<Buffer>, maxBytes: number, tooLong: (line: number, bytes: number) => Error, as: (line: Buffer) => T): AsyncGenerator<T> {
  let tail: Buffer[] = [];
  let tailBytes = 0;
  let line = 0;
  for await (const chunk of stream) {
    let s = 0;
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, s)) {
      line++;
      if (tailBytes + nl - s > maxBytes) throw tooLong(line, tailBytes + nl - s);
      const part = chunk.subarray(s, nl);
      yield as(tail.length ? Buffer.concat([...tail, part]) : part);
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
  if (tail.length) yield as(Buffer.concat(tail));
}
