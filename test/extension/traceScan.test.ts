/**
 * The trace line scanner (traceLineScan.ts) against JSON.parse, the way every line was read before:
 * a line it matches gives the very values JSON.parse gives for what the timeline reads, and a
 * timeline read with it draws the same figures as one read by parsing every line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runHeadless } from '../../src/core/engine/run';
import { FAULT_KINDS } from '../../src/core/engine/faults';
import { streamFor } from '../../src/core/random';
import { ServedSlotReader, scanTraceLine, stringsOf, type ScannedLine } from '../../src/extension/timeline/traceLineScan';
import { readTraceTimeline, traceLineProblem, traceScan, type TraceReadOptions, type TraceTimeline } from '../../src/extension/timeline/traceReader';
import type { TraceLine } from '../../src/extension/timeline/traceMetrics';
import { lineChunksOf } from '../../src/extension/lines';
import { faultSlice } from '../dap/slices';
import { makeSlice, tmp } from '../helpers';

const host = { now: () => '2025-01-01T00:00:00.000Z', user: 'test', host: 'test', cwd: process.cwd() };
const STAGES = ['retrieve', 'features', 'score', 'rerank', 'serve', 'outcome'];

/** What the timeline reads of a line (traceReader, TraceMetrics): compared with Object.is for numbers, so -0 is not 0. */
function readOf(l: TraceLine | ScannedLine): unknown {
  const served = 'servedText' in l ? stringsOf(l.servedText) : l.stages['serve']?.served;
  return { n: l.n, id: l.id, ms: STAGES.map((s) => l.stages[s]?.ms), served, metrics: l.metrics, faults: l.faults, system: l.system };
}

/** The trace folders of real runs: fault-free, one per fault kind the slices of test/dap plant, and one of a slate of 3 over a catalogue with a fallback ranking. */
async function traces(): Promise<string[]> {
  const dirs: string[] = [];
  const plain = tmp();
  await runHeadless({ slice: makeSlice(300), ranker: 'popularity', traceDir: plain }, host).then((r) => r.replayer.dispose());
  dirs.push(plain);
  for (const kind of FAULT_KINDS.filter((k) => k !== 'ranker_error')) {
    const c = faultSlice(kind);
    const dir = tmp();
    await runHeadless({ slice: c.slice, ranker: c.ranker, traceDir: dir }, host).then((r) => r.replayer.dispose());
    dirs.push(dir);
  }
  return dirs;
}

const eventLines = (dir: string) => readFileSync(join(dir, 'trace.jsonl')).toString('utf8').trimEnd().split('\n').slice(1);

test('every line the trace writer wrote is scanned, not parsed, and gives what JSON.parse gives — faults, fallbacks, stale features, NaN scores and all', async () => {
  const seen = new Set<string>();
  for (const dir of await traces()) {
    for (const text of eventLines(dir)) {
      const got = scanTraceLine(Buffer.from(text));
      assert.ok(got, `not scanned: ${text.slice(0, 200)}`);
      assert.equal(text.slice(got.servedAt, got.servedAt + got.servedText.length), got.servedText, 'servedAt is where the served list is');
      assert.deepStrictEqual(readOf(got), readOf(JSON.parse(text) as TraceLine));
      for (const f of got.faults) seen.add(f);
      if (/"(NaN|-?Infinity)"/.test(text)) seen.add('a figure written as a string');
    }
  }
  // The traces hold what they were made for (else this compares nothing of it).
  // (metric_drop is raised where a session asks for it, ranker_error by a ranker that fails: neither in a headless run of these.)
  for (const kind of FAULT_KINDS.filter((k) => k !== 'ranker_error' && k !== 'metric_drop')) assert.ok(seen.has(kind), `no ${kind} in the traces`);
  assert.ok(seen.has('a figure written as a string'), 'a score that is no number, written "NaN" or "Infinity"');
});

test('a line of another shape is left to JSON.parse; one that is scanned is valid JSON of the timeline\'s shape, with JSON.parse\'s values (120,000 mutated lines)', async () => {
  const lines = (await traces()).flatMap((d) => eventLines(d).filter((_, i) => i % 7 === 0));
  // Lines a hand or another tool wrote: escapes, other characters, numbers JSON allows, figures that are strings.
  const odd = [
    (l: string) => l.replace('"id":"e', '"id":"\\u00e9'),
    (l: string) => l.replace('"id":"e', '"id":"é'),
    (l: string) => l.replace(/"dropped":\[\]/, '"dropped":["\\"x\\\\","ü","\\ud800"]'),
    (l: string) => l.replace(/"served":\["/, '"served":["ü'),
    (l: string) => l.replace(/"served":\["/, '"served":["a\\"'),
    (l: string) => l.replace(/"score":\{"ms":[^,]*/, '"score":{"ms":"NaN"'),
    (l: string) => l.replace(/"rerank":\{"ms":[^,}]*/, '"rerank":{"ms":-0'),
    (l: string) => l.replace(/"serve":\{"ms":[^,]*/, '"serve":{"ms":1.5e2'),
    (l: string) => l.replace(/"outcome":\{"ms":[^,]*/, '"outcome":{"ms":9007199254740993'),
    (l: string) => l.replace(/"features":\{"ms":[^,]*/, '"features":{"ms":0.1000000000000000055511151231257827'),
    // Its digits past 2^53: summed one by one they round to 2^53, and 2^53 / 100 is not the double nearest.
    (l: string) => l.replace(/"features":\{"ms":[^,]*/, '"features":{"ms":90071992547409.93'),
    (l: string) => l.replace(/"hit":[^,]*/, '"hit":"Infinity"'),
    (l: string) => l.replace(/"ild":[^,]*/, '"ild":-0.0'),
    (l: string) => l.replace(/"system":\{[^}]*\}?\}/, '"system":{}'),
    (l: string) => l.replace(/"system":\{[^}]*\}?\}/, '"system":{"queueDepth":3}'),
    (l: string) => l.replace(/"system":\{[^}]*\}?\}/, '"system":{"cache":{"hits":"NaN","misses":2}}'),
    (l: string) => l.replace(/,"system":\{[^}]*\}?\}/, ''),
    (l: string) => l.replace(/"metrics":\{[^}]*\}/, '"metrics":null'),
    (l: string) => l.replace('"faults":[', '"faults":["nan_score","ünknown",'),
    (l: string) => l + '\r',
    (l: string) => ' ' + l,
    (l: string) => l.replace('"n":', '"n":1,"n":'),
    (l: string) => JSON.stringify(JSON.parse(l)),
  ];
  const rng = streamFor(7, 'traceScan', 'mutations');
  const alphabet = ['"', '\\', ',', ':', '{', '}', '[', ']', '0', '1', '9', '.', '-', '+', 'e', 'E', 'n', 'u', 'l', 't', ' ', '\t', '\n', 'x', '\u0000', '\u001f', '\u007f'];
  const highBytes = [0x80, 0xbf, 0xc3, 0xe2, 0xf0, 0xff];
  let scanned = 0;
  let total = 0;
  const check = (bytes: Buffer, what: string) => {
    total++;
    const got = scanTraceLine(bytes);
    if (got === undefined) return;
    scanned++;
    assert.equal(bytes.toString('latin1', got.servedAt, got.servedAt + got.servedText.length), got.servedText, `${what}: servedAt`);
    let parsed: unknown;
    assert.doesNotThrow(() => (parsed = JSON.parse(bytes.toString('utf8'))), `${what}: scanned, yet not JSON: ${bytes.toString('utf8').slice(0, 300)}`);
    assert.equal(traceLineProblem(parsed), undefined, `${what}: scanned, yet not of the timeline's shape`);
    assert.deepStrictEqual(readOf(got), readOf(parsed as TraceLine), `${what}: ${bytes.toString('utf8').slice(0, 300)}`);
  };
  for (const line of lines) for (const [i, edit] of odd.entries()) check(Buffer.from(edit(line)), `odd ${i}`);
  for (let t = 0; total < 120_000; t++) {
    const line = Buffer.from(lines[t % lines.length] as string);
    const edits = 1 + rng.int(3);
    let b: Buffer = line;
    for (let e = 0; e < edits; e++) {
      const at = rng.int(b.length + 1);
      const kind = rng.int(4);
      const insert = rng.int(5) === 0 ? Buffer.from([highBytes[rng.int(highBytes.length)] as number]) : Buffer.from(alphabet[rng.int(alphabet.length)] as string, 'latin1');
      if (kind === 0) b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1)]);
      else if (kind === 1) b = Buffer.concat([b.subarray(0, at), insert, b.subarray(at)]);
      else if (kind === 2) b = Buffer.concat([b.subarray(0, at), insert, b.subarray(at + 1)]);
      else b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + 1), b.subarray(at)]);
    }
    check(b, `mutation ${t}`);
  }
  // Figures of every length and scale, where the scanner reads them itself.
  for (let t = 0; t < 30_000; t++) {
    let digits = '';
    const length = 1 + rng.int(22);
    for (let i = 0; i < length; i++) digits += String(rng.int(10));
    digits = digits.replace(/^0+(?=\d)/, '');
    const point = rng.int(2) ? rng.int(digits.length) : 0;
    const small = rng.int(4) === 0 ? `0.${'0'.repeat(rng.int(26))}${digits}` : undefined;
    const number = (rng.int(3) ? '' : '-') + (small ?? (point ? `${digits.slice(0, point)}.${digits.slice(point)}` : digits)) + (rng.int(8) ? '' : `e${rng.int(40) - 20}`);
    check(Buffer.from((lines[t % lines.length] as string).replace(/"ild":[^,]*/, `"ild":${number}`)), `figure ${number}`);
  }
  // Both ways were taken, many times: a scanner that matched nothing (or everything) would not pass.
  assert.ok(scanned > 5_000 && total - scanned > 50_000, `${scanned} of ${total} scanned`);
});

/** Everything a timeline shows of a read trace: lanes in both modes, fault counts and first events, final values, event count. */
function shown(t: TraceTimeline): unknown {
  const lane = (mode: 'event' | 'cumulative') => t.buckets.toLane(mode, { id: 'run', label: 'run', dashed: false });
  return { event: lane('event'), cumulative: lane('cumulative'), faults: [...t.faults], final: t.final, events: t.events, note: t.sliceNote, through: t.buckets.through };
}

async function bothWays(dir: string, opts: TraceReadOptions): Promise<{ scanned: TraceTimeline; parsed: TraceTimeline }> {
  const scanned = await readTraceTimeline(dir, opts);
  traceScan.enabled = false;
  try {
    return { scanned, parsed: await readTraceTimeline(dir, opts) };
  } finally {
    traceScan.enabled = true;
  }
}

test('a timeline read by scanning its lines shows what one read by parsing each shows: real traces, both lanes of a comparison, a trace of recreplay.trace/1, odd lines', async () => {
  const dirs = await traces();
  for (const dir of dirs) {
    for (const capacity of [1000, 7]) {
      const { scanned, parsed } = await bothWays(dir, { capacity });
      assert.equal(scanned.linesParsed, 0, `${dir}: every line the writer wrote is scanned`);
      assert.equal(parsed.linesParsed, parsed.events);
      assert.deepStrictEqual(shown(scanned), shown(parsed), dir);
    }
  }
  // Compare Runs: the lanes share a bucket size, sized for the slice.
  for (const dir of dirs.slice(0, 3)) {
    const { scanned, parsed } = await bothWays(dir, { capacity: 16, initialBucketSize: 32, sizeForSlice: true });
    assert.deepStrictEqual(shown(scanned), shown(parsed));
  }
  // recreplay.trace/1 (no "system"): queue depth and cache read from the slice, beside the scanned lines.
  const v1 = dirs[0] as string;
  const p = join(v1, 'trace.jsonl');
  const [head, ...rest] = readFileSync(p, 'utf8').trimEnd().split('\n');
  const old = [JSON.stringify({ ...JSON.parse(head as string), format: 'recreplay.trace/1' }), ...rest.map((l) => l.replace(/,"system":\{("queueDepth":[^,}]*)?,?("cache":\{[^}]*\})?\},"metrics"/, ',"metrics"'))];
  writeFileSync(p, old.join('\n') + '\n');
  rmSync(join(v1, 'run.json'));
  const one = await bothWays(v1, { capacity: 50 });
  assert.equal(one.scanned.linesParsed, 0);
  assert.deepStrictEqual(shown(one.scanned), shown(one.parsed));
  // Hand-edited lines among the writer's: blank, CRLF, keys reordered, an id with an escape; parsed, the rest scanned.
  const lines = old.slice();
  lines[3] = '';
  lines[5] = `${lines[5]}\r`;
  const seventh = JSON.parse(lines[7] as string) as Record<string, unknown>;
  lines[7] = JSON.stringify({ faults: ['nan_score', 'made_up'], ...seventh, id: 'e\u00e9"7' });
  lines[9] = '   ';
  writeFileSync(p, lines.join('\n') + '\n');
  const edited = await bothWays(v1, { capacity: 50 });
  assert.equal(edited.scanned.linesParsed, 2, 'the CRLF line and the re-ordered one');
  assert.deepStrictEqual(shown(edited.scanned), shown(edited.parsed));
});

test('the served items of a scanned line are counted, and the first k found in the catalogue as it finds them, ids seen before or not, past the table\'s growth and its fill', () => {
  const ids = Array.from({ length: 3000 }, (_, i) => (i % 7 === 0 ? `i,${i}` : i % 11 === 0 ? `[i ${i}]` : `i${i}`));
  const catalogue = new Map(ids.map((id, i) => [id, i * 3]));
  const catalog = { get: (id: string) => catalogue.get(id), size: catalogue.size };
  const rng = streamFor(3, 'traceScan', 'served');
  const was = ServedSlotReader.maxIds;
  ServedSlotReader.maxIds = 2048;
  try {
    for (const k of [1, 4, 10]) {
      const reader = new ServedSlotReader(catalog, k);
      const counting = new ServedSlotReader(undefined, k);
      for (let t = 0; t < 5000; t++) {
        const list = Array.from({ length: rng.int(14) }, () => (rng.int(5) === 0 ? `x${rng.int(4000)}` : (ids[rng.int(ids.length)] as string)));
        const text = list.map((id) => JSON.stringify(id)).join(',');
        assert.deepEqual(stringsOf(text), list);
        // Where a line holds it: somewhere in its bytes.
        const at = rng.int(30);
        const bytes = Buffer.concat([Buffer.alloc(at, 0x22), Buffer.from(text), Buffer.from('"]"')]);
        const got = reader.read(bytes, at, at + text.length);
        assert.equal(got.count, list.length);
        assert.equal(counting.read(bytes, at, at + text.length).count, list.length);
        for (let j = 0; j < Math.min(k, list.length); j++) assert.equal(got.slots[j], catalogue.get(list[j] as string) ?? -1, `${text} item ${j}`);
      }
    }
  } finally {
    ServedSlotReader.maxIds = was;
  }
});

test('a trace is cut into pieces of whole lines, whatever its chunks: a line across chunks is whole in one piece, a last line without a newline comes last, a line open past the limit is refused', async () => {
  const rng = streamFor(5, 'traceScan', 'chunks');
  const text = Buffer.from(Array.from({ length: 400 }, (_, i) => 'x'.repeat(rng.int(i % 50 === 0 ? 3000 : 40))).join('\n') + '\nlast');
  async function* chunked(b: Buffer): AsyncGenerator<Buffer> {
    for (let at = 0; at < b.length; ) {
      const n = 1 + rng.int(rng.int(4) === 0 ? 5000 : 60);
      yield b.subarray(at, at + n);
      at += n;
    }
  }
  for (let t = 0; t < 20; t++) {
    const pieces: Buffer[] = [];
    for await (const p of lineChunksOf(chunked(text), 4000, (bytes) => new Error(`open past ${bytes}`))) pieces.push(p);
    assert.deepEqual(Buffer.concat(pieces), text);
    pieces.slice(0, -1).forEach((p) => assert.equal(p.at(-1), 10, 'a piece ends with a line'));
    assert.equal(pieces.at(-1)?.toString(), 'last');
  }
  // (Whole lines are measured by the reader, which numbers them.)
  const open = Buffer.concat([Buffer.from('a\n'), Buffer.alloc(9000, 0x78)]);
  const seen: string[] = [];
  await assert.rejects(async () => {
    for await (const p of lineChunksOf(chunked(open), 2000, (bytes) => new Error(`open past ${bytes > 2000 ? 'the limit' : bytes}`))) seen.push(p.toString());
  }, /open past the limit/);
  assert.deepEqual(seen, ['a\n']);
});

test('a trace of more than a chunk (1 MiB) reads the same scanned as parsed, its lines across chunks included; so do served lists past 64 items under a k of 10^15', async () => {
  const dir = (await traces())[0] as string;
  const p = join(dir, 'trace.jsonl');
  const [head, ...rest] = readFileSync(p, 'utf8').trimEnd().split('\n');
  /** Writes the trace, its run record naming its new size (so that its slice's catalogue is read: coverage, Gini). */
  const write = (header: Record<string, unknown>, lines: string[]) => {
    const text = [JSON.stringify({ ...JSON.parse(head as string), ...header, events: lines.length }), ...lines].join('\n');
    writeFileSync(p, text);
    const run = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'));
    writeFileSync(join(dir, 'run.json'), JSON.stringify({ ...run, trace: { ...run.trace, events: lines.length, bytes: Buffer.byteLength(text) } }));
  };
  const lines: string[] = [];
  for (let r = 0; lines.length < 6000; r++) for (const l of rest) lines.push(l.replace(/^\{"n":\d+,/, `{"n":${lines.length + 1},`));
  write({}, lines);
  assert.ok(readFileSync(p).length > 3 << 20);
  const { scanned, parsed } = await bothWays(dir, { capacity: 300 });
  assert.equal(scanned.events, 6000);
  assert.equal(scanned.linesParsed, 0);
  assert.equal(scanned.sliceNote, undefined, 'the catalogue was read');
  assert.deepStrictEqual(shown(scanned), shown(parsed));
  // Lists longer than the 64 slots first kept, under a header's k of 10^15 (a slate size the reader once allocated whole: a RangeError).
  // (Each the served lists of the 20 lines from it: items met unevenly, as exposure counts them.)
  const servedOf = (l: string) => /"served":\[([^\]]*)\]/.exec(l)?.[1] as string;
  const long = lines.slice(0, 50).map((l, i) => l.replace(/"served":\[[^\]]*\]/, `"served":[${lines.slice(i, i + 20).map(servedOf).join(',')}]`));
  assert.ok(long.every((l) => ((JSON.parse(l) as TraceLine).stages['serve']?.served?.length ?? 0) > 64));
  write({ k: 1e15 }, long);
  const big = await bothWays(dir, { capacity: 300 });
  assert.equal(big.scanned.linesParsed, 0);
  assert.equal(big.scanned.sliceNote, undefined);
  assert.deepStrictEqual(shown(big.scanned), shown(big.parsed));
});
