/**
 * Diagnosis aid (not part of `npm run bench`; Linux only): where a full replay's time goes across
 * threads. Runs one replay of a bench slice, bundled by esbuild as the product ships, and prints
 *   - the engine thread's timeline: wall time, time on a core (run) and time runnable but waiting
 *     for one (wait), after event 1 (so: opening the slice included), every tenth of the run, and
 *     at the end (trace and run record written);
 *   - every thread's run and wait over the replay (the engine thread first; then V8's compiler and
 *     garbage-collector threads, the reader thread and the trace thread, in creation order).
 * From /proc/self/task/<tid>/schedstat. Usage: node --import tsx bench/threads.ts [SIZE=10000]
 */
import { buildSync } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_RANKER, CACHE, benchSlice } from './slices';

const CHILD = `
const { readdirSync, readFileSync } = require('node:fs');
const { join } = require('node:path');
const { runHeadless } = require(${JSON.stringify(join(__dirname, '..', 'src', 'core', 'engine', 'run.ts'))});
const [slice, ranker, traceDir, size] = process.argv.slice(2);
const sched = (tid) => readFileSync('/proc/self/task/' + tid + '/schedstat', 'utf8').split(' ').map(Number);
const threads = new Map();
const sample = () => { for (const tid of readdirSync('/proc/self/task')) { try { threads.set(tid, sched(tid)); } catch {} } };
const base = new Map();
const lines = [];
let t0 = 0;
const mark = (label) => {
  sample();
  const [run, wait] = sched(process.pid);
  const [r0, w0] = base.get(String(process.pid));
  lines.push(label.padEnd(14) + ' wall ' + (performance.now() - t0).toFixed(0).padStart(5) + ' ms   run ' + ((run - r0) / 1e6).toFixed(0).padStart(5) + ' ms   wait ' + ((wait - w0) / 1e6).toFixed(0).padStart(5) + ' ms');
};
sample();
for (const [k, v] of threads) base.set(k, v);
const timer = setInterval(sample, 5);
t0 = performance.now();
const step = Math.max(1, Math.floor(Number(size) / 10));
runHeadless({ slice, ranker, traceDir, stopWhen: (ex) => { if (ex.n === 1) mark('event 1'); else if (ex.n % step === 0) mark('event ' + ex.n); return false; } },
  { now: () => '', user: 'bench', host: 'bench', cwd: process.cwd() }).then((r) => {
  mark('end');
  clearInterval(timer);
  r.replayer.dispose();
  console.log(lines.join('\\n'));
  console.log('\\nthreads (tid: run / wait over the replay):');
  for (const [tid, [run, wait]] of threads) {
    const [r0, w0] = base.get(tid) ?? [0, 0];
    if (run - r0 > 1e6) console.log('  ' + tid + (tid === String(process.pid) ? ' (engine)' : '') + ': ' + ((run - r0) / 1e6).toFixed(0) + ' / ' + ((wait - w0) / 1e6).toFixed(0) + ' ms');
  }
});
`;

const n = Number(process.argv[2] ?? 10000);
const slice = benchSlice(n, (s) => process.stderr.write(s + '\n'));
const rankerPath = join(CACHE, 'ranker.json');
writeFileSync(rankerPath, JSON.stringify(BENCH_RANKER));
const dir = join(CACHE, 'build');
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, 'threads-entry.js'), CHILD);
const bundle = join(dir, 'threads.cjs');
buildSync({ entryPoints: [join(dir, 'threads-entry.js')], outfile: bundle, bundle: true, platform: 'node', target: 'node20', format: 'cjs', logLevel: 'warning' });
const traceDir = join(CACHE, `trace-threads-${process.pid}`);
const r = spawnSync(process.execPath, [bundle, slice, `linear:${rankerPath}`, traceDir, String(n)], {
  stdio: 'inherit',
  env: { ...process.env, RECREPLAY_CACHE_DIR: join(CACHE, 'index') },
});
rmSync(traceDir, { recursive: true, force: true });
process.exitCode = r.status ?? 1;
