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
