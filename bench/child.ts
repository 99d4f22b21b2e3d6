/**
 * One measurement in its own process, so peak RSS belongs to that measurement alone.
 * Usage: node --import tsx bench/child.ts floor|replay|firststop|phases|engine SLICE RANKER (bench/run.ts runs it bundled).
 */
import { readFileSync, rmSync } from 'node:fs';
import { jsonParseFloor } from './floor';
import { join } from 'node:path';
import { CACHE } from './slices';
import { Slice } from '../src/core/slice/reader';
import { Replayer } from '../src/core/engine/replay';
import { runHeadless } from '../src/core/engine/run';
import { loadRanker } from '../src/core/rankers';
import { streamFor } from '../src/core/random';
import type { EventRecord } from '../src/core/slice/types';

const [mode, slicePath, rankerSpec] = process.argv.slice(2) as [string, string, string];
const now = () => Number(process.hrtime.bigint()) / 1e6;
const rssMB = () => process.resourceUsage().maxRSS / 1024;

/** The floor (bench/floor.ts) over the whole file. */
function floor(): Record<string, number> {
  const f = jsonParseFloor(join(slicePath, 'events.jsonl'));
  return { events: f.events, ms: f.ms, eventsPerSec: f.eventsPerSec, peakRssMB: rssMB() };
}

async function replay(): Promise<Record<string, number>> {
  const traceDir = join(CACHE, `trace-${process.pid}`);
  const t0 = now();
  const r = await runHeadless({ slice: slicePath, ranker: rankerSpec, traceDir }, { now: () => new Date().toISOString(), user: 'bench', host: 'bench', cwd: process.cwd() });
  const ms = now() - t0;
  // Seek to random events on the replayer that just ran (its checkpoints exist).
  const rng = streamFor(3, 'bench-seek', slicePath);
  const times: number[] = [];
  for (let i = 0; i < 100; i++) {
    const target = 1 + rng.int(r.replayer.eventCount);
    const s0 = now();
    await r.replayer.seek(target, 6);
    times.push(now() - s0);
  }
  times.sort((a, b) => a - b);
  r.replayer.dispose();
  // A 1M-event trace is ~1 GB: measured, it goes (every bench run left ~3 GB behind).
  rmSync(traceDir, { recursive: true, force: true });
  return {
    events: r.events,
    ms,
    eventsPerSec: (r.events / ms) * 1000,
    traceBytesPerEvent: r.traceBytes / r.events,
    seekMedianMs: times[Math.floor(times.length / 2)] as number,
    seekP99Ms: times[Math.ceil(times.length * 0.99) - 1] as number,
    peakRssMB: rssMB(),
  };
}

/** Open → first stop (event 1 fully executed), with the cached offset index. */
async function firstStop(): Promise<Record<string, number>> {
  const t0 = now();
  const slice = Slice.open(slicePath);
  const r = new Replayer(slice, { ranker: loadRanker(rankerSpec, { slice }) });
  r.advance();
  await r.finishEvent();
  const ms = now() - t0;
  r.dispose();
  return { firstStopMs: ms, peakRssMB: rssMB() };
}

/**
 * Where a replay's time goes, for the cost model's fixed part: opening the slice alone, then a full
 * replay (the engine compiled cold), then the same replay again in this process (compiled warm),
 * each with the process's CPU time (all threads) beside its wall time.
 */
async function phases(): Promise<Record<string, number>> {
  const traceDir = join(CACHE, `trace-${process.pid}`);
  const cpuMs = (c: NodeJS.CpuUsage) => (c.user + c.system) / 1000;
  let t0 = now();
  Slice.open(slicePath, { readAhead: true }).close();
  const openMs = now() - t0;
  const runs: { ms: number; cpuMs: number; first1000Ms: number }[] = [];
  for (let pass = 0; pass < 2; pass++) {
    const c0 = process.cpuUsage();
    let first1000Ms = Number.NaN;
    t0 = now();
    const r = await runHeadless({ slice: slicePath, ranker: rankerSpec, traceDir, onProgress: (n) => void (n === 1000 && (first1000Ms = now() - t0)) }, { now: () => new Date().toISOString(), user: 'bench', host: 'bench', cwd: process.cwd() });
    runs.push({ ms: now() - t0, cpuMs: cpuMs(process.cpuUsage(c0)), first1000Ms });
    r.replayer.dispose();
    rmSync(traceDir, { recursive: true, force: true });
  }
  const [cold, warm] = runs as [(typeof runs)[0], (typeof runs)[0]];
  return { openMs, coldMs: cold.ms, coldCpuMs: cold.cpuMs, coldFirst1000Ms: cold.first1000Ms, warmMs: warm.ms, warmCpuMs: warm.cpuMs, warmFirst1000Ms: warm.first1000Ms };
}

/**
 * The engine alone: the same cold replay as `replay`, with every event parsed before the clock
 * starts and handed to the engine from memory (the slice's reader is bypassed). What is left is
 * opening the items and users, the stages, the metrics, the checkpoints and the trace: a bound on
 * what any faster reading or parsing of events.jsonl could win.
 */
async function engineAlone(): Promise<Record<string, number>> {
  const parsed = readFileSync(join(slicePath, 'events.jsonl'), 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as EventRecord);
  Slice.prototype.events = function* (from = 1, to = parsed.length) {
    for (let n = from; n <= to; n++) yield parsed[n - 1] as EventRecord;
  };
  // Nor does a reader thread start at open to read ahead what nobody will take.
  const open = Slice.open.bind(Slice);
  Slice.open = (dir, opts) => open(dir, { ...opts, readAhead: false });
  const traceDir = join(CACHE, `trace-${process.pid}`);
  const cpuMs = (c: NodeJS.CpuUsage) => (c.user + c.system) / 1000;
  const c0 = process.cpuUsage();
  const t0 = now();
  const r = await runHeadless({ slice: slicePath, ranker: rankerSpec, traceDir }, { now: () => new Date().toISOString(), user: 'bench', host: 'bench', cwd: process.cwd() });
  const ms = now() - t0;
  const cpu = cpuMs(process.cpuUsage(c0));
  r.replayer.dispose();
  rmSync(traceDir, { recursive: true, force: true });
  return { engineAloneMs: ms, engineAloneCpuMs: cpu };
}

const modes: Record<string, () => Promise<Record<string, number>>> = { floor: async () => floor(), replay, phases, engine: engineAlone, firststop: firstStop };
const run = modes[mode];
if (!run) throw new Error(`unknown mode ${mode}: one of ${Object.keys(modes).join(', ')}`);
run().then((res) => {
  // bench/run.ts reads the result from the last line of stdout.
  process.stdout.write(JSON.stringify(res) + '\n');
});
