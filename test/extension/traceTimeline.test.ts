import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { basename, dirname, join } from 'node:path';
import { runHeadless } from '../../src/core/engine/run';
import { UserError } from '../../src/core/errors';
import { cacheDir } from '../../src/core/slice/offsetIndex';
import { Slice } from '../../src/core/slice/reader';
import { needsIndex } from '../../src/extension/slices/sliceStore';
import { readTraceTimeline, TraceCancelled, traceTurns } from '../../src/extension/timeline/traceReader';
import { summaryRows } from '../../src/extension/timeline/summary';
import { makeSlice, tmp } from '../helpers';
import { writeSlice } from '../../src/core/slice/writer';

const host = { now: () => '2025-01-01T00:00:00.000Z', user: 'test', host: 'test', cwd: process.cwd() };

/** Rewrites the trace in `dir` as the version before wrote it (recreplay.trace/1: no "system"), its run.json naming the new size. */
function asV1(dir: string): void {
  const tracePath = join(dir, 'trace.jsonl');
  const [head, ...rest] = readFileSync(tracePath, 'utf8').trimEnd().split('\n');
  const old = [JSON.stringify({ ...JSON.parse(head as string), format: 'recreplay.trace/1' }), ...rest.map((l) => l.replace(/,"system":\{("queueDepth":[^,}]*)?,?("cache":\{[^}]*\})?\},"metrics"/, ',"metrics"'))].join('\n') + '\n';
  assert.ok(!old.includes('"system"'));
  writeFileSync(tracePath, old);
  const runPath = join(dir, 'run.json');
  const run = JSON.parse(readFileSync(runPath, 'utf8'));
  writeFileSync(runPath, JSON.stringify({ ...run, trace: { ...run.trace, bytes: Buffer.byteLength(old) } }));
}

test('the timeline rebuilt from a trace ends at the engine\'s own cumulative metrics', async () => {
  const slice = makeSlice(300);
  const dir = tmp();
  const r = await runHeadless({ slice, ranker: 'popularity', traceDir: dir }, host);
  const t = await readTraceTimeline(dir, { capacity: 64 });
  assert.equal(t.events, 300);
  assert.equal(t.sliceNote, undefined);
  const lane = t.buckets.toLane('cumulative', { id: 'run', label: 'run', dashed: false });
  const last = (id: string) => lane.series[id]?.v.at(-1);
  const k = 4;
  const close = (a: number | null | undefined, b: number | undefined, what: string) => assert.ok(a !== null && a !== undefined && b !== undefined && Math.abs(a - b) < 1e-9, `${what}: timeline ${a} vs engine ${b}`);
  close(last('hit_rate'), r.metrics[`hit_rate@${k}`], 'hit rate');
  close(last('mrr'), r.metrics[`mrr@${k}`], 'mrr');
  close(last('ndcg'), r.metrics[`ndcg@${k}`], 'ndcg');
  close(last('ctr'), r.metrics['ctr'], 'ctr');
  close(last('diversity'), r.metrics[`diversity@${k}`], 'diversity');
  close(last('novelty'), r.metrics[`novelty@${k}`], 'novelty');
  close(last('coverage'), r.metrics[`coverage@${k}`], 'coverage');
  close(last('gini_exposure'), r.metrics['gini_exposure'], 'gini');
  close(last('fallback_rate'), r.metrics['fallback_rate'], 'fallback');
  close(last('overlap'), r.metrics[`overlap@${k}`], 'overlap');
  close(last('kendall_tau'), r.metrics['kendall_tau'], 'kendall');
  close(last('latency.score'), r.metrics['latency.score.p99'], 'score p99');
  close(last('latency.total'), r.metrics['latency.total.p99'], 'total p99');
  close(last('cache_hit_rate'), r.metrics['cache_hit_rate'], 'cache');
  close(last('queue_depth'), r.metrics['queue_depth'], 'queue');
  assert.equal(lane.x.at(-1), 300);
  assert.ok(lane.x.length <= 64);
});

test('per-event mode keeps every bucket\'s range: the mean lies between min and max', async () => {
  const slice = makeSlice(200);
  const dir = tmp();
  await runHeadless({ slice, ranker: 'recorded', traceDir: dir }, host);
  const t = await readTraceTimeline(join(dir, 'trace.jsonl'), { capacity: 16 });
  const lane = t.buckets.toLane('event', { id: 'run', label: 'run', dashed: false });
  const s = lane.series['latency.score'];
  assert.ok(s);
  for (let i = 0; i < s.v.length; i++) assert.ok((s.lo[i] as number) <= (s.v[i] as number) && (s.v[i] as number) <= (s.hi[i] as number));
  // The fixture's score latency is 10 + e % 10 ms: every bucket of >= 10 events spans 10..19.
  assert.equal(Math.min(...(s.lo as number[])), 10);
  assert.equal(Math.max(...(s.hi as number[])), 19);
  assert.equal(lane.series['coverage'], undefined, 'coverage is cumulative only');
});

test('without run.json the slice-only series are missing and the reason is given; queue depth and cache hit rate come from the trace itself', async () => {
  const slice = makeSlice(40);
  const dir = tmp();
  await runHeadless({ slice, ranker: 'recorded', traceDir: dir }, host);
  const copy = tmp();
  writeFileSync(join(copy, 'trace.jsonl'), readFileSync(join(dir, 'trace.jsonl')));
  const t = await readTraceTimeline(copy, { capacity: 16 });
  assert.equal(t.sliceNote, 'no run.json beside the trace: coverage and Gini need the slice it names');
  const lane = t.buckets.toLane('cumulative', { id: 'run', label: 'run', dashed: false });
  assert.equal(lane.series['coverage'], undefined);
  assert.equal(lane.series['queue_depth']?.v.at(-1), 40 % 9);
  assert.equal(lane.series['cache_hit_rate']?.v.at(-1), 0.9);
  assert.ok(lane.series['hit_rate']);
  // A trace of the version before has them from the slice alone.
  asV1(dir);
  writeFileSync(join(copy, 'trace.jsonl'), readFileSync(join(dir, 'trace.jsonl')));
  const old = await readTraceTimeline(copy, { capacity: 16 });
  assert.equal(old.sliceNote, 'no run.json beside the trace: cache hit rate, queue depth, coverage and Gini need the slice it names');
  assert.equal(old.buckets.toLane('cumulative', { id: 'run', label: 'run', dashed: false }).series['queue_depth'], undefined);
});

test('the timeline of a recreplay.trace/2 trace reads none of its slice\'s events: the catalogue alone, for coverage and Gini; without the slice it still draws queue depth and cache hit rate', async () => {
  const slice = makeSlice(300);
  const dir = tmp();
  const r = await runHeadless({ slice, ranker: 'popularity', traceDir: dir }, host);
  r.replayer.dispose();
  const sha = createHash('sha256').update(readFileSync(join(slice, 'slice.json'))).digest('hex');
  rmSync(join(cacheDir(), `index-${sha}.f64`), { force: true });
  const spied = { open: 0, events: 0, catalog: 0 };
  const [openAsync, events, catalogAsync] = [Slice.openAsync, Slice.prototype.events, Slice.catalogAsync];
  Slice.openAsync = (...a: Parameters<typeof Slice.openAsync>) => (spied.open++, openAsync.apply(Slice, a));
  Slice.prototype.events = function (this: Slice, ...a: Parameters<typeof events>) {
    spied.events++;
    return events.apply(this, a);
  };
  Slice.catalogAsync = (...a: Parameters<typeof Slice.catalogAsync>) => (spied.catalog++, catalogAsync.apply(Slice, a));
  let t;
  try {
    t = await readTraceTimeline(dir, { capacity: 64 });
  } finally {
    [Slice.openAsync, Slice.prototype.events, Slice.catalogAsync] = [openAsync, events, catalogAsync];
  }
  assert.deepEqual(spied, { open: 0, events: 0, catalog: 1 });
  assert.equal(needsIndex(slice), true, 'no index was built');
  assert.equal(t.sliceNote, undefined);
  const lane = t.buckets.toLane('cumulative', { id: 'run', label: 'run', dashed: false });
  const close = (a: number | null | undefined, b: number | undefined, what: string) => assert.ok(a != null && b !== undefined && Math.abs(a - b) < 1e-9, `${what}: timeline ${a} vs engine ${b}`);
  close(lane.series['coverage']?.v.at(-1), r.metrics['coverage@4'], 'coverage');
  close(lane.series['gini_exposure']?.v.at(-1), r.metrics['gini_exposure'], 'gini');
  close(lane.series['queue_depth']?.v.at(-1), r.metrics['queue_depth'], 'queue');
  close(lane.series['cache_hit_rate']?.v.at(-1), r.metrics['cache_hit_rate'], 'cache');
  // events.jsonl gone: the same timeline.
  rmSync(join(slice, 'events.jsonl'));
  const without = await readTraceTimeline(dir, { capacity: 64 });
  assert.equal(without.sliceNote, undefined);
  assert.deepEqual(without.final, t.final);
  // The slice gone: all but coverage and Gini, and the note names those two.
  rmSync(slice, { recursive: true });
  const gone = await readTraceTimeline(dir, { capacity: 64 });
  assert.match(gone.sliceNote ?? '', /is not there any more: coverage and Gini need it$/);
  const lane2 = gone.buckets.toLane('event', { id: 'run', label: 'run', dashed: false });
  assert.equal(lane2.series['coverage'], undefined);
  assert.deepEqual(lane2.series['queue_depth'], t.buckets.toLane('event', { id: 'run', label: 'run', dashed: false }).series['queue_depth']);
  assert.ok(lane2.series['cache_hit_rate']?.v.some((v) => v !== null));
});

test('a file that is not a trace is refused with the file and line', async () => {
  const slice = makeSlice(5);
  const traced = tmp();
  await runHeadless({ slice, ranker: 'recorded', traceDir: traced }, host);
  const d = tmp();
  const file = join(d, 'trace.jsonl');
  const at = (line: number) => (e: unknown) => e instanceof UserError && e.where.file === file && e.where.line === line;
  writeFileSync(file, '{"format":"something else"}\n');
  await assert.rejects(readTraceTimeline(d, { capacity: 8 }), (e: unknown) => at(1)(e) && /not a RecReplay trace/.test((e as UserError).message));
  // A good header, then a cut line: the error names line 3.
  const good = readFileSync(join(traced, 'trace.jsonl'), 'utf8').split('\n');
  writeFileSync(file, `${good[0]}\n${good[1]}\n${(good[2] as string).slice(0, 20)}\n`);
  await assert.rejects(readTraceTimeline(d, { capacity: 8 }), (e: unknown) => at(3)(e) && /malformed trace line/.test((e as UserError).message));
  // A header without its event count or k: refused, rather than every point dropped or NaN.
  const header = JSON.parse(good[0] as string) as Record<string, unknown>;
  for (const field of ['events', 'k']) {
    writeFileSync(file, `${JSON.stringify({ ...header, [field]: undefined })}\n${good[1]}\n`);
    await assert.rejects(readTraceTimeline(d, { capacity: 8 }), (e: unknown) => at(1)(e) && (e as UserError).where.field === field);
  }
  writeFileSync(file, '');
  await assert.rejects(readTraceTimeline(d, { capacity: 8 }), /empty/);
});

test('reading can be cancelled', async () => {
  const slice = makeSlice(400);
  const dir = tmp();
  await runHeadless({ slice, ranker: 'recorded', traceDir: dir }, host);
  await assert.rejects(readTraceTimeline(dir, { capacity: 8, isCancelled: () => true }), TraceCancelled);
});

test('a trace of recreplay.trace/1 whose slice has no cached index: the index is built streamed before the slice is opened', async () => {
  const slice = makeSlice(300);
  const dir = tmp();
  await runHeadless({ slice, ranker: 'recorded', traceDir: dir }, host);
  asV1(dir);
  const sha = createHash('sha256').update(readFileSync(join(slice, 'slice.json'))).digest('hex');
  rmSync(join(cacheDir(), `index-${sha}.f64`), { force: true });
  assert.equal(needsIndex(slice), true);
  const opened = Slice.openAsync;
  const indexedWhenOpened: boolean[] = [];
  Slice.openAsync = (...args: Parameters<typeof Slice.openAsync>) => {
    indexedWhenOpened.push(!needsIndex(args[0]));
    return opened.apply(Slice, args);
  };
  try {
    const t = await readTraceTimeline(dir, { capacity: 16 });
    assert.equal(t.sliceNote, undefined);
    assert.ok(t.buckets.toLane('cumulative', { id: 'run', label: 'run', dashed: false }).series['queue_depth'], 'slice-only series are there');
  } finally {
    Slice.openAsync = opened;
  }
  assert.deepEqual(indexedWhenOpened, [true]);
});

test('a trace stopped early gets buckets sized for the events it holds, not for the whole slice (a comparison keeps one size for both lanes)', async () => {
  const slice = makeSlice(1000);
  const dir = tmp();
  const r = await runHeadless({ slice, ranker: 'popularity', traceDir: dir, stopWhen: (ex) => ex.n === 100, stopCondition: 'event.index == 100' }, host);
  assert.equal(r.events, 100);
  const t = await readTraceTimeline(dir, { capacity: 64 });
  assert.equal(t.events, 100);
  // 100 events in at most 64 buckets: size 2 (sized for the slice's 1,000 it was 16: 7 points).
  assert.equal(t.buckets.bucketSize, 2);
  assert.ok(t.buckets.toLane('event', { id: 'run', label: 'run', dashed: false }).x.length >= 50);
  const lane = await readTraceTimeline(dir, { capacity: 64, sizeForSlice: true });
  assert.equal(lane.buckets.bucketSize, 16);
});

test('a trace or run record of another format version says which format it found and which this version reads', async () => {
  const slice = makeSlice(20);
  const dir = tmp();
  await runHeadless({ slice, ranker: 'popularity', traceDir: dir }, host);
  const runPath = join(dir, 'run.json');
  const run = JSON.parse(readFileSync(runPath, 'utf8'));
  writeFileSync(runPath, JSON.stringify({ ...run, format: 'recreplay.run/2' }));
  const t = await readTraceTimeline(dir, { capacity: 16 });
  assert.match(t.sliceNote ?? '', /^run\.json beside the trace is of format "recreplay\.run\/2", not "recreplay\.run\/1": /);
  const tracePath = join(dir, 'trace.jsonl');
  const [head, ...rest] = readFileSync(tracePath, 'utf8').split('\n');
  writeFileSync(tracePath, [JSON.stringify({ ...JSON.parse(head as string), format: 'recreplay.trace/3' }), ...rest].join('\n'));
  await assert.rejects(readTraceTimeline(dir, { capacity: 16 }), (e: unknown) => e instanceof UserError && /a trace of format "recreplay\.trace\/3", which this version of RecReplay does not read \(it reads "recreplay\.trace\/1" and "recreplay\.trace\/2"\)/.test(e.message));
});

test('a trace is written as recreplay.trace/2, with the system figures; one of recreplay.trace/1 (no system figures) still opens, its queue depth and cache hit rate read from the slice', async () => {
  const slice = makeSlice(40);
  const dir = tmp();
  await runHeadless({ slice, ranker: 'popularity', traceDir: dir }, host);
  const [head, ...rest] = readFileSync(join(dir, 'trace.jsonl'), 'utf8').trimEnd().split('\n');
  assert.equal(JSON.parse(head as string).format, 'recreplay.trace/2');
  assert.deepEqual(JSON.parse(rest[4] as string).system, { queueDepth: 5, cache: { hits: 9, misses: 1 } });
  const v2 = await readTraceTimeline(dir, { capacity: 64 });
  // The same trace as the version before wrote it.
  asV1(dir);
  const v1 = await readTraceTimeline(dir, { capacity: 64 });
  assert.equal(v1.header.format, 'recreplay.trace/1');
  assert.equal(v1.sliceNote, undefined);
  const series = (t: typeof v1, id: string) => (t.buckets.toLane('event', { id: 'x', label: 'x', dashed: false }).series as Record<string, { v: (number | null)[] }>)[id];
  for (const id of ['queue_depth', 'cache_hit_rate']) {
    assert.ok(series(v1, id)?.v.some((v) => v !== null), `${id} from the slice`);
    assert.deepEqual(series(v1, id), series(v2, id), id);
  }
  assert.deepEqual(v1.final, v2.final);
});

test('a run.json that describes another trace (the run before, beside a trace a killed run put in place) is not used for this one: the timeline says so', async () => {
  const slice = makeSlice(20);
  const a = tmp();
  const b = tmp();
  await runHeadless({ slice, ranker: 'popularity', traceDir: a }, host);
  await runHeadless({ slice: makeSlice(30), ranker: 'popularity', traceDir: b }, host);
  // a's trace beside b's run record.
  writeFileSync(join(a, 'run.json'), readFileSync(join(b, 'run.json')));
  const t = await readTraceTimeline(a, { capacity: 16 });
  assert.match(t.sliceNote ?? '', /^run\.json beside the trace describes another trace \(of \d+ bytes; this one has \d+\): /);
  const own = await readTraceTimeline(b, { capacity: 16 });
  assert.equal(own.sliceNote, undefined);
});

test('a trace of recreplay.trace/1 with gaps (a debug session\'s gotos) re-aligns with the slice without leaving a reader (and its thread) open per gap', async () => {
  // Small chunks: a sequential read starts a reader thread after a few blocks.
  const slice = makeSlice(3000, { chunkSize: 4096 });
  const dir = tmp();
  await runHeadless({ slice, ranker: 'recorded', traceDir: dir }, host);
  // (A /2 trace reads no event of the slice: the gaps matter to a /1 trace only.)
  asV1(dir);
  const trace = join(dir, 'trace.jsonl');
  // Every 100th event left out, as a session that went to another event leaves a gap.
  const lines = readFileSync(trace, 'utf8').split('\n');
  writeFileSync(trace, lines.filter((_, i) => i === 0 || i % 100 !== 0).join('\n'));
  // Its run record describes it, as a session's does.
  const runPath = join(dir, 'run.json');
  const rec = JSON.parse(readFileSync(runPath, 'utf8')) as { trace: { bytes: number } };
  rec.trace.bytes = statSync(trace).size;
  writeFileSync(runPath, JSON.stringify(rec));
  const events = Slice.prototype.events;
  let open = 0;
  let most = 0;
  Slice.prototype.events = function (this: Slice, ...a: Parameters<typeof events>) {
    const g = events.apply(this, a);
    open++;
    most = Math.max(most, open);
    const ret = g.return.bind(g);
    g.return = (v) => {
      open--;
      return ret(v);
    };
    return g;
  };
  try {
    const t = await readTraceTimeline(trace, { capacity: 64 });
    assert.equal(t.events, 2970);
    assert.equal(t.sliceNote, undefined, 'the slice was read beside the trace');
  } finally {
    Slice.prototype.events = events;
  }
  assert.ok(most <= 2, `${most} sequential readers were open at once`);
});

test('a run record naming a slice the timeline may not read, or another slice than the trace\'s, reads none of its events and builds no index for it', async () => {
  const slice = makeSlice(300);
  const dir = tmp();
  await runHeadless({ slice, ranker: 'recorded', traceDir: dir }, host);
  const sha = createHash('sha256').update(readFileSync(join(slice, 'slice.json'))).digest('hex');
  const opened = Slice.openAsync;
  const catalog = Slice.catalogAsync;
  const opens: string[] = [];
  Slice.openAsync = (...args: Parameters<typeof Slice.openAsync>) => {
    opens.push(args[0]);
    return opened.apply(Slice, args);
  };
  Slice.catalogAsync = (...args: Parameters<typeof Slice.catalogAsync>) => {
    opens.push(args[0]);
    return catalog.apply(Slice, args);
  };
  try {
    // Refused (an untrusted workspace, the slice outside it): not read at all, and said why.
    rmSync(join(cacheDir(), `index-${sha}.f64`), { force: true });
    let t = await readTraceTimeline(dir, { capacity: 16, sliceAllowed: () => 'it lies outside this workspace' });
    assert.match(t.sliceNote ?? '', /is not read: it lies outside this workspace/);
    assert.equal(needsIndex(slice), true, 'no index was built for it');
    // Another slice at the path (its manifest differs from the run record's): nothing read past slice.json.
    const run = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as { slice: { manifestSha256: string } };
    run.slice.manifestSha256 = '0'.repeat(64);
    writeFileSync(join(dir, 'run.json'), JSON.stringify(run));
    const header = readFileSync(join(dir, 'trace.jsonl'), 'utf8').split('\n');
    header[0] = JSON.stringify({ ...(JSON.parse(header[0] as string) as object), sliceManifestSha256: '0'.repeat(64) });
    writeFileSync(join(dir, 'trace.jsonl'), header.join('\n'));
    t = await readTraceTimeline(dir, { capacity: 16 });
    assert.match(t.sliceNote ?? '', /is not the one this trace replayed/);
    assert.equal(needsIndex(slice), true, 'no index was built for it');
  } finally {
    Slice.openAsync = opened;
    Slice.catalogAsync = catalog;
  }
  assert.deepEqual(opens, []);
});

test('a run record naming a folder whose slice.json is a named pipe gets a note, not a read that never returns', { timeout: 20_000, skip: process.platform === 'win32' }, async () => {
  const slice = makeSlice(50);
  const dir = tmp();
  await runHeadless({ slice, ranker: 'recorded', traceDir: dir }, host);
  const fake = join(tmp(), 'fake.slice');
  mkdirSync(fake);
  execFileSync('mkfifo', [join(fake, 'slice.json')]);
  const run = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as { slice: { path: string } };
  run.slice.path = fake;
  writeFileSync(join(dir, 'run.json'), JSON.stringify(run));
  const t = await readTraceTimeline(dir, { capacity: 16 });
  assert.match(t.sliceNote ?? '', /not the one this trace replayed|could not be opened/);
  assert.equal(needsIndex(fake), false, 'the index warm-up takes no slice.json that is not a file');
});

test('a run.json of the right format but the wrong shape is said, field by field, and the timeline opens from the trace alone', async () => {
  const slice = makeSlice(40);
  const dir = tmp();
  (await runHeadless({ slice, ranker: 'recorded', traceDir: dir }, host)).replayer.dispose();
  const good = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as Record<string, unknown>;
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ format: 'recreplay.run/1' }, /run\.json beside the trace: "slice" is missing/],
    [{ ...good, slice: { path: 42 } }, /"slice\.path" must be a string/],
    [{ ...good, metrics: undefined }, /"metrics" must be an object of numbers/],
    [{ ...good, metrics: { ctr: 'high' } }, /"metrics\.ctr" must be a number/],
  ];
  for (const [rec, why] of cases) {
    writeFileSync(join(dir, 'run.json'), JSON.stringify(rec));
    const t = await readTraceTimeline(dir, { capacity: 16 });
    assert.match(t.sliceNote ?? '', why);
    assert.equal(t.run, undefined);
    assert.ok(t.buckets.toLane('cumulative', { id: 'run', label: 'run', dashed: false }).series['hit_rate']);
  }
});

test('a trace line of the wrong shape (null, no stages, faults that are no list, a fractional event, system figures that are no object) is refused naming the line, not a TypeError', async () => {
  const dir = tmp();
  await runHeadless({ slice: makeSlice(10), ranker: 'popularity', traceDir: dir }, host).then((r) => r.replayer.dispose());
  const p = join(dir, 'trace.jsonl');
  const good = readFileSync(p, 'utf8').split('\n');
  const fifth = JSON.parse(good[4] as string) as Record<string, unknown>;
  for (const [bad, said] of [
    ['null', /an event line must be a JSON object/],
    [JSON.stringify({ ...fifth, stages: undefined }), /"stages" must be an object/],
    [JSON.stringify({ ...fifth, faults: 3 }), /"faults" must be a list/],
    [JSON.stringify({ ...fifth, faults: 'abc' }), /"faults" must be a list/],
    [JSON.stringify({ ...fifth, n: 3.5 }), /"n" must be a whole event number/],
    [JSON.stringify({ ...fifth, system: 17 }), /"system" must be an object/],
    [JSON.stringify({ ...fifth, system: null }), /"system" must be an object/],
  ] as const) {
    const lines = [...good];
    lines[4] = bad;
    writeFileSync(p, lines.join('\n'));
    await assert.rejects(readTraceTimeline(dir, { capacity: 100 }), (e: unknown) => e instanceof UserError && e.where.line === 5 && said.test(e.message), bad.slice(0, 30));
  }
});

test('a trace whose line has no end in sight is refused at the limit, with bounded memory (readline buffered 600 MB, then threw out of reach)', async () => {
  const dir = tmp();
  const p = join(dir, 'trace.jsonl');
  // 70 MB without a newline, past the 64 MiB a trace line may have.
  writeFileSync(p, Buffer.alloc(70 * 1024 * 1024, 0x61));
  await assert.rejects(readTraceTimeline(dir, { capacity: 100 }), (e: unknown) => e instanceof UserError && /line 1 is longer than a trace line can be/.test(e.message) && e.where.line === 1);
});

test('the cumulative queue depth keeps the latest depth reported, as run.json does, through events that report none', async () => {
  const sliceDir = join(tmp(), 'q.slice');
  const c = [{ item: 'a', score: 1 }];
  writeSlice(sliceDir, { manifest: { name: 'q', description: 'q', source: { kind: 'synthetic' }, seed: 1 }, events: [
    { id: 'e1', t: '2025-01-01T00:00:01Z', user: 'u', candidates: c, served: ['a'], system: { queueDepth: 5 } },
    { id: 'e2', t: '2025-01-01T00:00:02Z', user: 'u', candidates: c, served: ['a'], system: { cache: { hits: 1, misses: 1 } } },
    { id: 'e3', t: '2025-01-01T00:00:03Z', user: 'u', candidates: c, served: ['a'], system: { cache: { hits: 1, misses: 1 } } },
  ] }, { frozenAt: '2025-01-02T00:00:00Z' });
  const dir = tmp();
  await runHeadless({ slice: sliceDir, ranker: 'recorded', traceDir: dir }, host).then((r) => r.replayer.dispose());
  const t = await readTraceTimeline(dir, { capacity: 100 });
  const lane = t.buckets.toLane('cumulative', { id: 'run', label: 'run', dashed: false });
  assert.deepEqual(lane.x, [1, 2, 3]);
  assert.deepEqual(lane.series['queue_depth']?.v, [5, 5, 5]);
});

test('reading a trace gives the event loop turns within a chunk of the file, not only between chunks (a 1 MiB chunk of a million-event trace held the editor 130–250 ms)', async () => {
  const slice = makeSlice(600);
  const dir = tmp();
  await runHeadless({ slice, ranker: 'popularity', traceDir: dir }, host);
  // The whole trace fits one chunk of the stream: any turn seen is one the reader gave.
  assert.ok(statSync(join(dir, 'trace.jsonl')).size < 1 << 20);
  const was = traceTurns.everyMs;
  traceTurns.everyMs = 0;
  let turns = 0;
  let reading = true;
  const tick = () => {
    turns++;
    if (reading) setImmediate(tick);
  };
  try {
    setImmediate(tick);
    const t = await readTraceTimeline(dir, { capacity: 64 });
    assert.equal(t.events, 600);
  } finally {
    reading = false;
    traceTurns.everyMs = was;
  }
  // One turn every 64 lines at the least (600 lines: 9).
  assert.ok(turns >= 9, `${turns} turns`);
});

test('Compare Runs works a run\'s final metrics out from its trace when it has no run.json (they were "—"), equal to what its run record said', async () => {
  const slice = makeSlice(200);
  const a = tmp();
  const b = tmp();
  const ra = await runHeadless({ slice, ranker: 'popularity', traceDir: a }, host);
  await runHeadless({ slice, ranker: 'recorded', traceDir: b }, host);
  rmSync(join(b, 'run.json'));
  const runs = [await readTraceTimeline(a, { capacity: 64 }), await readTraceTimeline(b, { capacity: 64 })];
  assert.equal(runs[1]?.run, undefined);
  const rows = summaryRows(runs);
  const row = (m: string) => rows.find((r) => r.metric === m)?.values;
  for (const m of ['hit_rate@4', 'ctr', 'ndcg@4', 'kendall_tau', 'latency.score.p99']) {
    const v = row(m);
    assert.ok(v && typeof v[1] === 'number', `${m} of the run without run.json: ${JSON.stringify(v)}`);
  }
  // The same trace read with its run record gives the same numbers: for the run that has one, compare both ways.
  rmSync(join(a, 'run.json'));
  const alone = summaryRows([await readTraceTimeline(a, { capacity: 64 })]);
  for (const key of ['hit_rate@4', 'ctr', 'ndcg@4', 'kendall_tau', 'latency.score.p99']) {
    const m = key;
    const got = alone.find((r) => r.metric === key)?.values[0];
    assert.ok(typeof got === 'number' && Math.abs(got - (ra.metrics[key] as number)) < 1e-9, `${m}: from the trace ${got}, run record ${ra.metrics[key]}`);
  }
  // Coverage needs the slice, which only a run record names: still "—" for the run without one (its timeline says why).
  assert.deepEqual(row('coverage@4')?.map((v) => v === null), [false, true]);
  assert.deepEqual(row('events'), [200, 200], 'the event count of the run without a record is its trace\'s');
  // A run of another slate size without a record: its numbers under its own k, never under the other run's.
  const c = tmp();
  const rc = await runHeadless({ slice, ranker: 'popularity', traceDir: c, pipeline: { k: 3 } }, host);
  rmSync(join(c, 'run.json'));
  const mixed = summaryRows([await readTraceTimeline(a, { capacity: 64 }), await readTraceTimeline(c, { capacity: 64 })]);
  const at = (m: string) => mixed.find((r) => r.metric === m)?.values;
  assert.equal(at('hit_rate@4')?.[1], null, 'no k=3 value under hit_rate@4');
  assert.equal(at('hit_rate@3')?.[0], null, 'nor a k=4 one under hit_rate@3');
  assert.ok(Math.abs((at('hit_rate@3')?.[1] as number) - (rc.metrics['hit_rate@3'] as number)) < 1e-9);
});

test('a run record naming its slice by a relative path reads no slice from the extension host\'s working folder, and says what to write', async () => {
  const slice = makeSlice(30);
  const dir = tmp();
  await runHeadless({ slice, ranker: 'recorded', traceDir: dir }, host);
  const run = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as { slice: { path: string } };
  // The slice lies there relative to the host's working folder: it was found and read.
  const was = process.cwd();
  run.slice.path = basename(slice);
  writeFileSync(join(dir, 'run.json'), JSON.stringify(run));
  process.chdir(dirname(slice));
  try {
    const t = await readTraceTimeline(dir, { capacity: 16 });
    assert.match(t.sliceNote ?? '', new RegExp(`the slice ${basename(slice)} is not read: run\\.json names it by a relative path, .*: write the slice's full path in run\\.json`));
  } finally {
    process.chdir(was);
  }
});
