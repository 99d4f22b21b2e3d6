/**
 * Profiling aid (not part of `npm run bench`): one full replay of a bench slice, nothing else, so
 * `node --cpu-prof --import tsx bench/profile.ts SIZE` shows where the replay's time goes.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { CACHE, benchRankerSpec, benchSlice } from './slices';
import { runHeadless } from '../src/core/engine/run';

const n = Number(process.argv[2] ?? 100000);
const slice = benchSlice(n, (s) => process.stderr.write(s + '\n'));
const t0 = performance.now();
const traceDir = join(CACHE, `trace-profile-${process.pid}`);
runHeadless({ slice, ranker: benchRankerSpec(), traceDir }, { now: () => '', user: 'bench', host: 'bench', cwd: process.cwd() }).then((r) => {
  const ms = performance.now() - t0;
  r.replayer.dispose();
  rmSync(traceDir, { recursive: true, force: true });
  const mu = process.memoryUsage();
  process.stdout.write(`${r.events} events in ${ms.toFixed(0)} ms = ${((r.events / ms) * 1000).toFixed(0)} events/s; peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB; heap ${(mu.heapUsed / 2 ** 20).toFixed(0)} MB\n`);
});
