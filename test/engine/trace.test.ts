import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { cpSync, lstatSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { threadId } from 'node:worker_threads';
import { spawn, spawnSync } from 'node:child_process';
import { MACHINE } from '../../src/core/dirs';
import { join } from 'node:path';
import { TRACE_FORMAT, TRACE_LOCK, TraceWriter, lockWaits, traceLine, writeFailed } from '../../src/core/engine/trace';
import { UserError } from '../../src/core/errors';
import { METRIC_FIELDS, NumBuffer, StrBuffer, encodeEvent, formatEvents, splitStrs } from '../../src/core/engine/traceFormat';
import { FAULT_KINDS } from '../../src/core/engine/faults';
import { runHeadless } from '../../src/core/engine/run';
import type { EventExec } from '../../src/core/engine/replay';
import type { CandidateRow } from '../../src/core/engine/rows';
import { Replayer } from '../../src/core/engine/replay';
import { PopularityRanker } from '../../src/core/rankers/builtin';
import { Slice } from '../../src/core/slice/reader';
import { makeSlice, rawSlice, tmp } from '../helpers';

const ids = ['a', 'b', 'c', 'x'];
const slotOf = (id: string) => ids.indexOf(id);
const row = (item: string): CandidateRow => ({ item, slot: slotOf(item), rec: { item }, itemRec: undefined, recordedRank: 1, score: 0, rank: 0, prevRank: null });

const exec = (over: Partial<EventExec> = {}): EventExec =>
  ({
    n: 3,
    event: { id: 'e"3', t: '2025-01-01T00:00:00Z', user: 'u', candidates: [], served: [] },
    tMs: 0,
    user: undefined,
    stagesDone: 6,
    rows: [row('a'), row('b'), row('c')],
    dropped: ['x'],
    recorded: [],
    recordedRanks: new Map(),
    hasDuplicates: false,
    stale: [{ name: 'ctr', ageSec: 5 }],
    scores: Float64Array.from([0.5, Number.NaN, -Infinity]),
    ranked: ['b', 'a', 'c'],
    rankedRows: [row('b'), row('a'), row('c')],
    served: ['b', 'a'],
    servedRows: [row('b'), row('a')],
    fallback: false,
    clicks: ['a'],
    outcomeSource: 'model',
    latencyMs: { retrieve: 1, features: 2.5, score: 3, rerank: 0, serve: 0.5, outcome: 0 },
    faults: [{ kind: 'nan_score', stage: 'score', message: 'x' }],
    metrics: undefined,
    ...over,
  }) as EventExec;

test('a trace line is one line of valid JSON with every stage, NaN kept visible as a string', () => {
  const line = traceLine(exec(), ids, slotOf);
  assert.ok(line.endsWith('\n') && !line.slice(0, -1).includes('\n'));
  const j = JSON.parse(line);
  assert.equal(j.id, 'e"3');
  assert.deepEqual(j.stages.score.scores, [0.5, 'NaN', '-Infinity']);
  assert.deepEqual(Object.keys(j.stages), ['retrieve', 'features', 'score', 'rerank', 'serve', 'outcome']);
  assert.deepEqual(j.stages.retrieve, { ms: 1, kept: 3, dropped: ['x'] });
  assert.deepEqual(j.stages.features.stale, ['ctr']);
  assert.deepEqual(j.stages.serve, { ms: 0.5, served: ['b', 'a'], fallback: false });
  assert.deepEqual(j.stages.outcome, { ms: 0, clicks: ['a'], source: 'model' });
  assert.deepEqual(j.faults, ['nan_score']);
  assert.equal(j.stages.rerank.top, undefined);
  assert.equal(j.metrics, null);
  assert.deepEqual(j.system, {}, 'an event that recorded no system figures');
  assert.deepEqual(JSON.parse(traceLine(exec({ fallback: true }), ids, slotOf)).stages.rerank.top, ['b', 'a']);
});

test('a trace line carries the queue depth and cache figures its event recorded, as the metrics count them', () => {
  const line = (system: NonNullable<EventExec['event']['system']>) => JSON.parse(traceLine(exec({ event: { id: 'e', t: '', user: '', candidates: [], served: [], system } }), ids, slotOf)).system;
  assert.deepEqual(line({ queueDepth: 17, cache: { hits: 40, misses: 3 }, latencyMs: { score: 2 }, fallback: true }), { queueDepth: 17, cache: { hits: 40, misses: 3 } });
  assert.deepEqual(line({ queueDepth: 0 }), { queueDepth: 0 });
  assert.deepEqual(line({ cache: { hits: 0, misses: 0 } }), { cache: { hits: 0, misses: 0 } });
  // Half a cache is no lookup to the metrics (docs/metrics.md): not carried either.
  assert.deepEqual(line({ queueDepth: 2.5, cache: { hits: 9 } as unknown as { hits: number; misses: number } }), { queueDepth: 2.5 });
  assert.deepEqual(line({ queueDepth: null as unknown as number, cache: null as unknown as { hits: number; misses: number } }), {});
  // The key sits between the stages and the metrics.
  const text = traceLine(exec({ event: { id: 'e', t: '', user: '', candidates: [], served: [], system: { queueDepth: 3 } } }), ids, slotOf);
  assert.match(text, /"source":"model"\}\},"system":\{"queueDepth":3\},"metrics":null,/);
});

test('property: the encoded trace line equals plain JSON of the same values', () => {
  fc.assert(
    fc.property(fc.array(fc.double(), { maxLength: 6 }), fc.option(fc.double({ noNaN: true }), { nil: null, freq: 3 }), fc.string(), (scores, hit, id) => {
      const metrics = Object.fromEntries(METRIC_FIELDS.map((f, i) => [f, f === 'hit' ? hit : i]));
      const ex = exec({ scores: Float64Array.from(scores), metrics: metrics as unknown as EventExec['metrics'], event: { id, t: '', user: '', candidates: [], served: [] } });
      const j = JSON.parse(traceLine(ex, ids, slotOf));
      assert.equal(j.id, id);
      const expected = Object.fromEntries(Object.entries(metrics).map(([k, v]) => [k, v === null || Number.isFinite(v) ? v : String(v)]));
      assert.deepEqual(j.metrics, JSON.parse(JSON.stringify(expected)), 'finite values as numbers, null as null, ±Infinity as strings');
      assert.deepEqual(j.stages.score.scores, scores.map((s) => (Number.isFinite(s) ? (Object.is(s, -0) ? 0 : s) : String(s))));
    }),
  );
});

/** The recorded system figures a trace line carries: queue depth when a number, the cache when both its figures are numbers. */
function systemOf(ex: EventExec): Record<string, unknown> {
  const v = (x: number) => (Number.isFinite(x) ? x : String(x));
  const sys = ex.event.system;
  const c = sys?.cache;
  return {
    ...(typeof sys?.queueDepth === 'number' ? { queueDepth: v(sys.queueDepth) } : {}),
    ...(c && typeof c.hits === 'number' && typeof c.misses === 'number' ? { cache: { hits: v(c.hits), misses: v(c.misses) } } : {}),
  };
}

/** What a trace line must be, byte for byte: JSON.stringify of its object (numbers that are not finite as strings, null metrics as null). */
function expectedLine(ex: EventExec): string {
  const v = (x: number) => (Number.isFinite(x) ? x : String(x));
  const L = ex.latencyMs;
  const top = ex.fallback ? { top: ex.rankedRows.slice(0, ex.servedRows.length || ex.rankedRows.length).map((r) => r.item) } : {};
  const m = ex.metrics as unknown as Record<string, number | null> | undefined;
  return (
    JSON.stringify({
      n: ex.n,
      id: ex.event.id,
      stages: {
        retrieve: { ms: v(L.retrieve), kept: ex.rows.length, dropped: ex.dropped },
        features: { ms: v(L.features), stale: ex.stale.map((x) => x.name) },
        score: { ms: v(L.score), scores: Array.from(ex.scores ?? [], v) },
        rerank: { ms: v(L.rerank), ...top },
        serve: { ms: v(L.serve), served: ex.servedRows.map((r) => r.item), fallback: ex.fallback },
        outcome: { ms: v(L.outcome), clicks: ex.clicks, source: ex.outcomeSource },
      },
      system: systemOf(ex),
      metrics: m ? Object.fromEntries(METRIC_FIELDS.map((f) => [f, m[f] === null || m[f] === undefined || Number.isNaN(m[f]) ? null : v(m[f] as number)])) : null,
      faults: ex.faults.map((f) => f.kind),
    }) + '\n'
  );
}

test('property: a batch of trace lines is the bytes of JSON.stringify of each line, whatever the numbers and ids', () => {
  const anyNum = fc.oneof(fc.double(), fc.integer(), fc.constantFrom(-0, 1e15, -1e15, 2 ** 53, 1e21, 5e-324, 0.1), fc.integer({ min: -1e9, max: 1e9 }).map((x) => x / 7));
  const figure = anyNum.filter((x) => !Number.isNaN(x));
  const idArb = fc.oneof(fc.constantFrom('a', 'b', 'c', 'x'), fc.string({ maxLength: 6 }), fc.constantFrom('é"\\', '☃\n\u0000', '\ud83d\ude00'));
  const event = fc.record({
    id: idArb,
    n: fc.integer({ min: 1, max: 2 ** 31 }),
    lat: fc.array(anyNum, { minLength: 6, maxLength: 6 }),
    scores: fc.option(fc.array(anyNum, { maxLength: 12 }), { nil: undefined }),
    fallback: fc.boolean(),
    stale: fc.array(idArb, { maxLength: 3 }),
    metrics: fc.option(fc.array(fc.option(anyNum, { nil: null }), { minLength: METRIC_FIELDS.length, maxLength: METRIC_FIELDS.length }), { nil: undefined }),
    faults: fc.array(fc.constantFrom(...FAULT_KINDS), { maxLength: 3 }),
    served: fc.array(fc.constantFrom('a', 'b', 'c', 'x', 'new', 'ü"'), { maxLength: 4 }),
    // Recorded figures, and what a log may hold instead: nothing, null, half a cache. (Never NaN:
    // JSON has none, and the encoding spends it on "not recorded".)
    queueDepth: fc.option(fc.oneof(figure, fc.constant(null)), { nil: undefined }),
    cache: fc.option(fc.record({ hits: fc.option(figure, { nil: undefined }), misses: fc.option(fc.oneof(figure, fc.constant(null)), { nil: undefined }) }), { nil: undefined }),
  });
  fc.assert(
    fc.property(fc.array(event, { minLength: 1, maxLength: 70, size: 'max' }), (events) => {
      const table = [...ids];
      const slot = (id: string) => {
        const i = table.indexOf(id);
        return i >= 0 ? i : table.push(id) - 1;
      };
      const nums = new NumBuffer();
      const strs = new StrBuffer();
      const expected: string[] = [];
      for (const e of events) {
        const rowOf = (item: string): CandidateRow => ({ ...row(item), slot: slot(item) });
        const ex = exec({
          n: e.n,
          event: { id: e.id, t: '', user: '', candidates: [], served: [], system: { ...(e.queueDepth !== undefined ? { queueDepth: e.queueDepth as number } : {}), ...(e.cache ? { cache: e.cache as { hits: number; misses: number } } : {}) } },
          latencyMs: { retrieve: e.lat[0]!, features: e.lat[1]!, score: e.lat[2]!, rerank: e.lat[3]!, serve: e.lat[4]!, outcome: e.lat[5]! },
          scores: e.scores && Float64Array.from(e.scores),
          fallback: e.fallback,
          stale: e.stale.map((name) => ({ name, ageSec: 1 })),
          metrics: e.metrics && (Object.fromEntries(METRIC_FIELDS.map((f, i) => [f, e.metrics![i]])) as unknown as EventExec['metrics']),
          faults: e.faults.map((kind) => ({ kind, stage: 'score', message: '' })),
          rankedRows: [...e.served, 'c'].map(rowOf),
          servedRows: e.served.map(rowOf),
          clicks: e.served.slice(0, 1),
        });
        encodeEvent(ex, slot, nums, strs);
        expected.push(expectedLine(ex));
      }
      // As the trace thread calls it: text to a sink every 32 events, the rest returned.
      const parts: string[] = [];
      const rest = formatEvents(nums.data, 0, splitStrs(strs.take()), 0, table, FAULT_KINDS, METRIC_FIELDS, events.length, [], (t) => parts.push(t));
      assert.equal(parts.length, Math.floor(events.length / 32));
      assert.equal(parts.join('') + rest, expected.join(''));
    }),
    { numRuns: 200 },
  );
});

test('the trace carries every per-event metric the accumulator produces', async () => {
  const r = new Replayer(Slice.open(makeSlice(3)), { ranker: new PopularityRanker() });
  r.advance();
  await r.finishEvent();
  assert.deepEqual(Object.keys(r.current?.metrics ?? {}), [...METRIC_FIELDS]);
  r.dispose();
});

test('a trace thread that dies is an error for the engine, not a hang', async () => {
  const table = { ids, slot: slotOf };
  const dir = tmp('recreplay-trace-');
  const w = new TraceWriter(dir, { format: TRACE_FORMAT, slice: 's', sliceManifestSha256: '', ranker: { kind: 'test' }, seed: 1, k: 2, budgetMs: 100, events: 1e6 }, table);
  await (w as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
  const was = TraceWriter.stallWaits;
  TraceWriter.stallWaits = 3;
  try {
    assert.throws(() => {
      for (let i = 0; i < 20 * 2048; i++) w.write(exec(), table);
    }, /trace thread stopped writing/);
  } finally {
    TraceWriter.stallWaits = was;
    await w.abort();
  }
});

test('trace and run record go into place together: a run record that cannot be made leaves the old trace, the old record and no temp file', async () => {
  const table = { ids, slot: slotOf };
  const dir = tmp('recreplay-trace-');
  writeFileSync(join(dir, 'trace.jsonl'), 'old trace\n');
  writeFileSync(join(dir, 'run.json'), 'old record\n');
  const header = { format: TRACE_FORMAT, slice: 's', sliceManifestSha256: '', ranker: { kind: 'test' }, seed: 1, k: 2, budgetMs: 100, events: 3 } as const;
  const w = new TraceWriter(dir, header, table);
  for (let i = 0; i < 3; i++) w.write(exec(), table);
  await assert.rejects(
    w.close(table, () => {
      throw new Error('metrics unavailable');
    }),
    /metrics unavailable/,
  );
  assert.deepEqual(readdirSync(dir).sort(), ['run.json', 'trace.jsonl']);
  assert.equal(readFileSync(join(dir, 'trace.jsonl'), 'utf8'), 'old trace\n');
  assert.equal(readFileSync(join(dir, 'run.json'), 'utf8'), 'old record\n');
  // When both can be made, both are replaced, and the record names the trace's hash.
  const w2 = new TraceWriter(dir, header, table);
  for (let i = 0; i < 3; i++) w2.write(exec(), table);
  const t = await w2.close(table, (info) => ({ format: 'recreplay.run/1', tool: { name: 't', version: '0' }, slice: { path: '', name: 's', manifestSha256: '', versions: {}, modified: [], eventsVerified: true }, config: { ranker: {}, seed: 1, pipeline: {}, checkpointEvery: 1, forced: false }, seed: 1, startedAt: '', endedAt: '', user: 'u', host: 'h', trace: info, events: 3, metrics: {}, faults: {}, faultEvents: {} }));
  assert.deepEqual(readdirSync(dir).sort(), ['run.json', 'trace.jsonl']);
  assert.equal(t.runRecord, join(dir, 'run.json'));
  assert.equal(JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')).trace.sha256, t.sha256);
  assert.equal(readFileSync(join(dir, 'trace.jsonl'), 'utf8').split('\n').length, 5);
});

test('writing and closing a trace draws no warning from Node (its file is opened and closed on the engine thread)', () => {
  const parent = tmp('recreplay-trace-warn-');
  const script = join(parent, 'child.ts');
  // A child process: the trace thread's warnings reach the process's stderr, not 'warning' events here.
  writeFileSync(
    script,
    `import { TRACE_FORMAT, TraceWriter } from ${JSON.stringify(join(__dirname, '../../src/core/engine/trace'))};
const w = new TraceWriter(${JSON.stringify(join(parent, 'out'))}, { format: TRACE_FORMAT, slice: 's', sliceManifestSha256: '0', ranker: { kind: 'recorded' }, seed: 1, k: 10, budgetMs: 100, events: 0 }, { ids: [], slot: () => 0 });
w.close({ ids: [], slot: () => 0 }).then(() => setTimeout(() => process.exit(0), 200));
`,
  );
  const r = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.deepEqual(readdirSync(join(parent, 'out')), ['trace.jsonl']);
});

test('a batch keeps its strings as one text: any id comes back as it went in, lone surrogates, NUL and all', () => {
  const b = new StrBuffer();
  const ids = ['e1', 'é-ü', '\ud800x', 'x\udc00', '', '日本', 'a\u0000b', '\u0000', 'a'.repeat(70000)];
  for (const id of ids) b.push(id);
  assert.deepEqual(splitStrs(b.take()), ids);
  // Taken means empty: the next batch starts afresh.
  b.push('e2');
  assert.deepEqual(splitStrs(b.take()), ['e2']);
});

test('an event id holding U+0000 keeps every id of the trace in place', async () => {
  const lines = ['e1', 'e2\u0000x', 'e3', 'e4'].map((id, i) => JSON.stringify({ id, t: `2025-01-01T00:00:0${i + 1}Z`, user: 'u1', candidates: [{ item: 'a' }], served: ['a'] }));
  const dir = rawSlice(lines.join('\n') + '\n');
  const out = tmp();
  await runHeadless({ slice: dir, ranker: 'recorded', traceDir: out }, { now: () => '', user: 'u', host: 'h', cwd: process.cwd() });
  const ids = readFileSync(join(out, 'trace.jsonl'), 'utf8').trim().split('\n').slice(1).map((l) => (JSON.parse(l) as { id: string }).id);
  assert.deepEqual(ids, ['e1', 'e2\u0000x', 'e3', 'e4']);
});

test('a process that exits with its trace unfinished leaves no temp file and no folder it made', () => {
  const parent = tmp('recreplay-trace-exit-');
  const out = join(parent, 'made', 'here');
  const script = join(parent, 'child.ts');
  // The child opens a trace, waits until the trace thread has made its temp file, then exits hard.
  writeFileSync(
    script,
    `import { existsSync, readdirSync } from 'node:fs';
import { TRACE_FORMAT, TraceWriter } from ${JSON.stringify(join(__dirname, '../../src/core/engine/trace'))};
const out = ${JSON.stringify(out)};
new TraceWriter(out, { format: TRACE_FORMAT, slice: 's', sliceManifestSha256: '0', ranker: { kind: 'recorded' }, seed: 1, k: 10, budgetMs: 100, events: 5 }, { ids: [], slot: () => 0 });
const t0 = Date.now();
const wait = () => {
  if (existsSync(out) && readdirSync(out).some((f) => f.endsWith('.tmp'))) process.exit(7);
  if (Date.now() - t0 > 20000) process.exit(9);
  setTimeout(wait, 5);
};
wait();
`,
  );
  const r = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 7, `the temp file never appeared: ${r.stderr}`);
  assert.deepEqual(readdirSync(parent), ['child.ts']);
});

test('temp files are created, never opened through a file or symbolic link planted at their name (the trace, its run record)', async () => {
  const out = tmp();
  const victim = join(tmp(), 'victim.txt');
  writeFileSync(victim, 'precious\n');
  // The names are predictable (pid, thread, a count): plant links at the next few of them.
  for (let n = 1; n <= 200; n++) {
    for (const name of [`.trace.jsonl.${MACHINE}.${process.pid}-${threadId}-${n}.tmp`, `.run.json.${MACHINE}.${process.pid}-${threadId}-${n}.tmp`, `.trace.jsonl.${MACHINE}.${process.pid}-${threadId}-${n}.old`]) symlinkSync(victim, join(out, name));
  }
  const r = await runHeadless({ slice: makeSlice(20), ranker: 'recorded', traceDir: out }, { now: () => '', user: 'u', host: 'h', cwd: process.cwd() });
  r.replayer.dispose();
  assert.equal(readFileSync(victim, 'utf8'), 'precious\n');
  assert.ok(lstatSync(join(out, 'trace.jsonl')).isFile() && !lstatSync(join(out, 'trace.jsonl')).isSymbolicLink());
  assert.ok(lstatSync(join(out, 'run.json')).isFile() && !lstatSync(join(out, 'run.json')).isSymbolicLink());
  assert.equal(JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')).events, 20);
});

test('a run removes the temp files a killed run on this machine left in its trace folder, and no one else\'s', async () => {
  const out = tmp();
  // A pid that ran and is gone (a run killed by SIGKILL or the out-of-memory killer never cleans up).
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
  const host = MACHINE;
  const gone = [`.trace.jsonl.${host}.${dead}-0-1.tmp`, `.run.json.${host}.${dead}-0-2.tmp`, `.trace.jsonl.${host}.${dead}-0-3.old`];
  // Another machine's (a shared folder), a live process's, and files that are not temp files.
  const kept = [`.trace.jsonl.other-host.${dead}-0-1.tmp`, `.trace.jsonl.${host}.${process.ppid}-0-1.tmp`, 'notes.txt', `.trace.jsonl.${dead}-0-1.tmp`];
  for (const f of [...gone, ...kept]) writeFileSync(join(out, f), 'x');
  const r = await runHeadless({ slice: makeSlice(10), ranker: 'recorded', traceDir: out }, { now: () => '', user: 'u', host: 'h', cwd: process.cwd() });
  r.replayer.dispose();
  assert.deepEqual(readdirSync(out).sort(), [...kept, 'run.json', 'trace.jsonl'].sort());
});

test('the trace and its run record go in as a pair: when the record cannot be renamed into place, the old trace is put back (or the new one taken away)', async () => {
  const host = { now: () => '', user: 'u', host: 'h', cwd: process.cwd() };
  const slice = makeSlice(30);
  // Between the start of the run and its end, a folder takes run.json's place (another run, a user).
  const blockRecord = (out: string) => (ex: EventExec) => {
    if (ex.n === 5) {
      rmSync(join(out, 'run.json'), { force: true });
      mkdirSync(join(out, 'run.json', 'x'), { recursive: true });
    }
    return false;
  };
  const withOld = tmp();
  const first = await runHeadless({ slice, ranker: 'recorded', traceDir: withOld }, host);
  first.replayer.dispose();
  const oldTrace = readFileSync(join(withOld, 'trace.jsonl'));
  await assert.rejects(runHeadless({ slice, ranker: 'popularity', traceDir: withOld, stopWhen: blockRecord(withOld) }, host));
  assert.ok(readFileSync(join(withOld, 'trace.jsonl')).equals(oldTrace), 'the old trace is back');
  assert.deepEqual(readdirSync(withOld).sort(), ['run.json', 'trace.jsonl']);

  const fresh = tmp();
  await assert.rejects(runHeadless({ slice, ranker: 'popularity', traceDir: fresh, stopWhen: blockRecord(fresh) }, host));
  assert.deepEqual(readdirSync(fresh), ['run.json'], 'no trace without its record');
});

test('a write error of the trace thread names the trace (a full disk said only "no space left on device, write")', () => {
  const full = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
  const e = writeFailed(full, '/data/run/trace.jsonl');
  assert.ok(e instanceof UserError);
  assert.match(e.message, /cannot write the trace \/data\/run\/trace\.jsonl: the disk is full/);
  assert.match(e.describe(), /Free space on that disk/);
  const denied = writeFailed(Object.assign(new Error('EACCES: permission denied, write'), { code: 'EACCES' }), '/data/t.jsonl');
  assert.match(denied.message, /cannot write the trace \/data\/t\.jsonl: EACCES: permission denied/);
  // Not a file system error (a bug in the thread): passed on as it is, for the internal-error report.
  const bug = new TypeError('x is not a function');
  assert.equal(writeFailed(bug, '/data/t.jsonl'), bug);
});

test('the trace of a forced replay of a modified slice says so in its header (it was byte for byte the trace of the intact slice)', async () => {
  const host = { now: () => '', user: 'u', host: 'h', cwd: process.cwd() };
  const intact = makeSlice(15);
  const changed = join(tmp(), 'changed.slice');
  cpSync(intact, changed, { recursive: true });
  // A user's feature the recorded ranker never reads: the replay's events come out the same.
  const users = join(changed, 'users.jsonl');
  writeFileSync(users, readFileSync(users, 'utf8').replace('"age":20', '"age":21'));
  const header = async (slice: string, force: boolean) => {
    const out = tmp();
    const r = await runHeadless({ slice, ranker: 'recorded', traceDir: out, force }, host);
    r.replayer.dispose();
    const lines = readFileSync(join(out, 'trace.jsonl'), 'utf8').split('\n');
    return { head: JSON.parse(lines[0] as string) as Record<string, unknown>, body: lines.slice(1).join('\n'), sha: r.traceSha256 };
  };
  const a = await header(intact, false);
  const b = await header(changed, true);
  assert.equal(a.head['modified'], undefined);
  assert.deepEqual(b.head['modified'], ['users.jsonl']);
  assert.equal(b.body, a.body);
  assert.notEqual(b.sha, a.sha);
});

test('a run renames its trace and run record into place holding the folder\'s lock: it waits for another run\'s renames, takes over a dead run\'s lock, and names a lock held too long', async () => {
  const host = { now: () => '', user: 'u', host: 'h', cwd: process.cwd() };
  const slice = makeSlice(10);
  const out = tmp();
  const lock = join(out, TRACE_LOCK);
  const saved = lockWaits.max;
  try {
    lockWaits.max = 5;
    // Held by a live process (this one's parent): the run waits, then says who holds it; nothing is renamed.
    writeFileSync(lock, `${MACHINE} ${process.ppid} 0\n`);
    await assert.rejects(runHeadless({ slice, ranker: 'recorded', traceDir: out }, host), (e: unknown) => e instanceof UserError && /another run is renaming its trace there/.test(e.message) && e.where.file === lock);
    assert.deepEqual(readdirSync(out), [TRACE_LOCK]);
    // Left by a process of this machine that is gone: taken over, and released after.
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    writeFileSync(lock, `${MACHINE} ${dead} 0\n`);
    const r = await runHeadless({ slice, ranker: 'recorded', traceDir: out }, host);
    r.replayer.dispose();
    assert.deepEqual(readdirSync(out).sort(), ['run.json', 'trace.jsonl']);
    // Released by its holder (another process) while the run waits: the run goes on.
    lockWaits.max = 3000;
    writeFileSync(lock, `${MACHINE} ${process.ppid} 0\n`);
    const holder = spawn(process.execPath, ['-e', `setTimeout(() => require('node:fs').rmSync(${JSON.stringify(lock)}), 300)`]);
    // Listened for at once: the wait yields to the event loop, so the holder's exit may come before the run ends.
    const holderExited = new Promise((r) => holder.once('exit', r));
    const done = await runHeadless({ slice, ranker: 'popularity', traceDir: out }, host);
    await holderExited;
    done.replayer.dispose();
    assert.equal(JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')).config.ranker.kind, 'popularity');
  } finally {
    lockWaits.max = saved;
  }
});
