/**
 * Open Timeline on a finished run's trace, outside VS Code: readTraceTimeline (what the timeline
 * panel calls) over a trace, timed, with its lines scanned (traceLineScan.ts) and with every line
 * parsed by JSON.parse as before the scanner (traceScan.enabled = false), against a floor measured
 * in the same run: every line of the trace read and JSON.parse'd, nothing else (bench/floor.ts).
 * Each is run in its own process (one's garbage and inline caches never slow another). Not part
 * of `npm test` or `npm run bench`.
 *
 * Usage: node --import tsx bench/timeline.ts TRACE_DIR_OR_FILE [CAPACITY=1000]
 * (write a trace with `node dist/cli.js run SLICE --ranker linear:bench/.cache/ranker.json --trace DIR`;
 * set RECREPLAY_CACHE_DIR so that the catalogue's index cache goes where you want it)
 */
import { spawnSync } from 'node:child_process';
import { jsonParseFloor } from './floor';
import { readTraceTimeline, traceFileOf, traceScan } from '../src/extension/timeline/traceReader';

const MODES = ['floor', 'scanned', 'parsed'] as const;
type Mode = (typeof MODES)[number];

async function measure(mode: Mode, path: string, capacity: number): Promise<{ ms: number; cpuMs: number; note: string }> {
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  let note = '';
  if (mode === 'floor') note = `${jsonParseFloor(traceFileOf(path)).events} lines`;
  else {
    traceScan.enabled = mode === 'scanned';
    const t = await readTraceTimeline(path, { capacity });
    note = `${t.events} events, ${t.linesParsed} lines parsed${t.sliceNote ? `; ${t.sliceNote}` : ''}`;
  }
  const used = process.cpuUsage(cpu);
  return { ms: performance.now() - t0, cpuMs: (used.user + used.system) / 1000, note };
}

const [path, capacityArg, child] = process.argv.slice(2);
if (!path) {
  process.stderr.write('usage: node --import tsx bench/timeline.ts TRACE_DIR_OR_FILE [CAPACITY]\n');
  process.exit(2);
}
const capacity = Number(capacityArg ?? 1000);
if (child) {
  void measure(child as Mode, path, capacity).then((r) => process.stdout.write(JSON.stringify(r)));
} else {
  const runs = new Map<Mode, { ms: number; cpuMs: number; note: string }>();
  for (const mode of MODES) {
    const out = spawnSync(process.execPath, [...process.execArgv, __filename, path, String(capacity), mode], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    if (out.status !== 0) process.exit(out.status ?? 1);
    runs.set(mode, JSON.parse(out.stdout) as { ms: number; cpuMs: number; note: string });
  }
  const floor = runs.get('floor') as { ms: number; cpuMs: number };
  for (const [mode, r] of runs) {
    process.stdout.write(`${mode.padEnd(8)} ${(r.ms / 1000).toFixed(2).padStart(6)} s (CPU ${(r.cpuMs / 1000).toFixed(2)} s) = ${(r.ms / floor.ms).toFixed(2)} × the floor   ${r.note}\n`);
  }
}
