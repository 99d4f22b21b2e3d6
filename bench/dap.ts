/**
 * The debugger's benchmark (issue 3), through the standalone adapter over stdio, in one run:
 *   node --import tsx bench/dap.ts [SLICE] [RANKERSPEC]
 * Defaults to the 1M-event bench slice and its linear ranker (cached offset index in
 * bench/.cache/index). Needs `npm run build` (dist/debugAdapter.js). Prints one JSON object and
 * writes it to bench/results/dap.json. Figures are reported against a floor measured in the same
 * run: JSON.parse of every line of the same events.jsonl. The condition cost and the engine's own
 * loop come from bench/condition.ts and bench/engineRate.ts, run bundled (as the adapter ships) in
 * processes of their own; both also run alone.
 */
import { jsonParseFloor } from './floor';
import { buildSync } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { conditionFor, quantile, type ConditionCase } from './condition';
import { benchRankerSpec, benchSlice } from './slices';
import { streamFor } from '../src/core/random';
import { Slice } from '../src/core/slice/reader';
import { METRIC_SERIES, METRIC_SERIES_REQUEST, type MetricSeriesResponseBody } from '../src/shared/dap';

const ROOT = join(__dirname, '..');
const ADAPTER = join(ROOT, 'dist/debugAdapter.js');
const log = (s: string) => process.stderr.write(`${s}\n`);
const [slicePath = benchSlice(1_000_000, log), rankerSpec = benchRankerSpec()] = process.argv.slice(2);

const round = (x: number, d = 2) => Number(x.toFixed(d));

/** The floor over the first `limit` events (bench/floor.ts). */
function floor(path: string, limit: number): { events: number; eventsPerSec: number } {
  const f = jsonParseFloor(path, limit);
  return { events: f.events, eventsPerSec: f.eventsPerSec };
}

/**
 * Runs a bench module bundled by esbuild, as the adapter ships the code it measures, and returns
 * the JSON it prints. Run through tsx instead, every read of a module's mutable
 * export (the expression budget's counter) went through a getter: a condition read 3× its cost.
 */
function bundled(entry: string, args: string[]): unknown {
  const out = join(ROOT, 'bench/.cache/build', entry.replace(/\.ts$/, '.cjs'));
  buildSync({ entryPoints: [join(__dirname, entry)], outfile: out, bundle: true, platform: 'node', target: 'node20', format: 'cjs', logLevel: 'warning' });
  const r = spawnSync(process.execPath, [out, ...args], { encoding: 'utf8', env: process.env, maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`${entry} failed:\n${r.stderr}`);
  return JSON.parse(r.stdout);
}

async function stopAfter(dc: DebugClient, send: () => Promise<unknown>, timeout = 30_000): Promise<DebugProtocol.StoppedEvent> {
  const stopped = dc.waitForEvent('stopped', timeout);
  await send();
  return (await stopped) as DebugProtocol.StoppedEvent;
}

async function main(): Promise<void> {
  if (!existsSync(ADAPTER)) throw new Error('dist/debugAdapter.js is missing: run `npm run build` first');
  const eventCount = Slice.open(slicePath).eventCount;
  const T = { threadId: 1 };
  const breakFrom = Math.floor(eventCount * 0.99);
  const around = Math.floor(eventCount * 0.9);

  log(`floor: JSON.parse of ${eventCount} lines…`);
  const fl = floor(join(slicePath, 'events.jsonl'), eventCount);

  const dc = new DebugClient(process.execPath, ADAPTER, 'recreplay', { env: { ...process.env } });
  dc.defaultTimeout = 600_000;
  await dc.start();
  await dc.initializeRequest({ adapterID: 'recreplay', pathFormat: 'path', linesStartAt1: true, columnsStartAt1: true });
  const t0 = performance.now();
  const initialized = dc.waitForEvent('initialized', 120_000);
  await dc.launchRequest({ slice: slicePath, ranker: rankerSpec, stopOnEntry: true } as DebugProtocol.LaunchRequestArguments);
  await initialized;
  const condition = conditionFor(breakFrom);
  const fb = await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'outcome', condition }] });
  if (!fb.body.breakpoints[0]?.verified) throw new Error(`condition refused: ${fb.body.breakpoints[0]?.message}`);
  await stopAfter(dc, () => dc.configurationDoneRequest());
  const firstStopMs = performance.now() - t0;

  log(`continue to: ${condition}`);
  // Progress events give the continue's rate over the same first events the engine loop is timed on.
  const sampleTo = Math.min(eventCount, 200_000);
  let sampled: { event: number; ms: number } | undefined;
  let c0 = 0;
  const onPosition = (e: DebugProtocol.Event) => {
    if (sampled === undefined && e.body.state === 'running' && e.body.event >= sampleTo) sampled = { event: e.body.event, ms: performance.now() - c0 };
  };
  dc.on('recreplay/position', onPosition);
  c0 = performance.now();
  const hit = await stopAfter(dc, () => dc.continueRequest(T), 1_800_000);
  dc.removeListener('recreplay/position', onPosition);
  const continueMs = performance.now() - c0;
  const stopLine = (await dc.stackTraceRequest(T)).body.stackFrames[0]?.line as number;
  if (hit.body.reason !== 'function breakpoint') throw new Error(`continue stopped for ${hit.body.reason}, not the breakpoint`);
  const continueEps = (stopLine / continueMs) * 1000;

  log(`round trips at event ${around}…`);
  await stopAfter(dc, () => dc.gotoRequest({ ...T, targetId: around }));
  const trips: number[] = [];
  for (let i = 0; i < 220; i++) {
    const s = performance.now();
    await stopAfter(dc, () => dc.nextRequest(T));
    const st = await dc.stackTraceRequest({ ...T, startFrame: 0, levels: 20 });
    const scopes = await dc.scopesRequest({ frameId: st.body.stackFrames[0]?.id as number });
    const ranking = scopes.body.scopes.find((x) => x.name === 'Ranking') as DebugProtocol.Scope;
    await dc.variablesRequest({ variablesReference: ranking.variablesReference, filter: 'indexed', start: 0, count: 100 });
    if (i >= 20) trips.push(performance.now() - s);
  }

  log('the timeline at a stop…');
  // What the session timeline asks at every stop (sessionSource.ts): the 14 series of the lane,
  // 4,000 buckets, running means. First with nothing held (a timeline just opened), then at each of
  // 20 stops one event further, offering the buckets held from the stop before.
  const held = new Map<string, { bucketSize: number; buckets: number }>();
  const fetchAll = async (): Promise<{ ms: number; bytes: number }> => {
    const s = performance.now();
    let bytes = 0;
    for (const metric of METRIC_SERIES) {
      const known = held.get(metric);
      const body = (await dc.customRequest(METRIC_SERIES_REQUEST, { metric, maxPoints: 4000, cumulative: true, ...(known ? { known } : {}) })).body as MetricSeriesResponseBody;
      held.set(metric, { bucketSize: body.bucketSize, buckets: body.first + body.buckets.length });
      bytes += JSON.stringify(body).length;
    }
    return { ms: performance.now() - s, bytes };
  };
  const opened = await fetchAll();
  const stops: { ms: number; bytes: number }[] = [];
  for (let i = 0; i < 20; i++) {
    await stopAfter(dc, () => dc.nextRequest(T));
    stops.push(await fetchAll());
  }

  log('goto and stepBack to random events…');
  const rng = streamFor(7, 'bench-dap', slicePath);
  const gotos: number[] = [];
  const backs: number[] = [];
  for (let i = 0; i < 41; i++) {
    const target = 2 + rng.int(stopLine - 2);
    let s = performance.now();
    await stopAfter(dc, () => dc.gotoRequest({ ...T, targetId: target }));
    gotos.push(performance.now() - s);
    s = performance.now();
    await stopAfter(dc, () => dc.stepBackRequest(T));
    backs.push(performance.now() - s);
  }
  await dc.disconnectRequest({});
  await dc.stop().catch(() => undefined);

  log('condition cost and engine loop, bundled as the adapter ships…');
  const { stops: condStops, cases: condCases } = bundled('condition.ts', [String(Math.min(5000, eventCount)), slicePath, rankerSpec]) as { stops: number; cases: ConditionCase[] };
  const cond = { stops: condStops, cases: condCases };
  const engineEps = (bundled('engineRate.ts', [String(sampleTo), slicePath, rankerSpec]) as { eventsPerSec: number }).eventsPerSec;
  const continueHeadEps = sampled ? (sampled.event / sampled.ms) * 1000 : continueEps;

  const result = {
    bench: 'dap',
    slice: slicePath,
    ranker: rankerSpec,
    events: eventCount,
    floor: { eventsPerSec: Math.round(fl.eventsPerSec) },
    firstStopMs: round(firstStopMs),
    continue: { condition, stoppedAt: stopLine, seconds: round(continueMs / 1000), eventsPerSec: Math.round(continueEps), ratioToFloor: round(continueEps / fl.eventsPerSec), target: 0.5 },
    // The engine alone (no adapter, no condition) and the continue, both over the first 200k events: what the adapter adds.
    engine: { events: sampleTo, eventsPerSec: Math.round(engineEps), ratioToFloor: round(engineEps / fl.eventsPerSec), continueEventsPerSec: Math.round(continueHeadEps), continueVsEngine: round(continueHeadEps / engineEps) },
    roundTrip: { at: around, samples: trips.length, p50Ms: round(quantile(trips, 0.5)), p99Ms: round(quantile(trips, 0.99)), targets: { p50Ms: 5, p99Ms: 25 } },
    // At the stops of the round trips (event ~900k): every series of the timeline, opened and then one event further at a time.
    timeline: { series: METRIC_SERIES.length, maxPoints: 4000, openedMs: round(opened.ms), openedBytes: opened.bytes, stops: stops.length, stopP50Ms: round(quantile(stops.map((x) => x.ms), 0.5)), stopP99Ms: round(quantile(stops.map((x) => x.ms), 0.99)), stopBytesP50: quantile(stops.map((x) => x.bytes), 0.5) },
    goto: { samples: gotos.length, medianMs: round(quantile(gotos, 0.5)), p90Ms: round(quantile(gotos, 0.9)), target: 50 },
    stepBack: { samples: backs.length, medianMs: round(quantile(backs, 0.5)), p90Ms: round(quantile(backs, 0.9)), target: 50 },
    condition: { ...cond, target: 2 },
  };
  const pass = {
    roundTrip: result.roundTrip.p50Ms <= 5 && result.roundTrip.p99Ms <= 25,
    goto: result.goto.medianMs <= 50,
    stepBack: result.stepBack.medianMs <= 50,
    continue: result.continue.ratioToFloor >= 0.5,
    condition: result.condition.cases.every((c) => c.ratio <= 2),
  };
  const out = JSON.stringify({ ...result, pass }, null, 2);
  process.stdout.write(`${out}\n`);
  const dir = join(ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.dap.json.${process.pid}.tmp`);
  writeFileSync(tmp, `${out}\n`);
  renameSync(tmp, join(dir, 'dap.json'));
}

main().catch((e: unknown) => {
  process.stderr.write(`bench/dap: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
