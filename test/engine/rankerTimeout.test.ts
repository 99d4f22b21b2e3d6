// A ranker of the caller's own may score asynchronously (a model behind a socket, in another
// process). One whose promise never settles held runHeadless for ever — a CI job with it — without
// a word; now the run stops after rankerTimeoutMs with an error naming the ranker and the event,
// writes no trace, and leaves nothing open.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RANKER_TIMEOUT_MS, runHeadless } from '../../src/core/engine/run';
import { UserError } from '../../src/core/errors';
import type { Ranker, ScoreRequest } from '../../src/core/rankers/types';
import { eventLine, makeSlice, openOn, rawSlice, tmp } from '../helpers';

const HOST = { now: () => '2025-01-01T00:00:00.000Z', user: 'u', host: 'h', cwd: process.cwd() };
const scores = (req: ScoreRequest) => req.rows.map((r) => (r.recordedRank * 7919) % 101);

test('a ranker whose promise never settles stops the run after rankerTimeoutMs: the error names the ranker and the event, no trace is written, the slice is closed, the ranker is not disposed (it is the caller\'s)', { timeout: 30_000 }, async () => {
  const slice = makeSlice(12);
  const traceDir = join(tmp(), 'run');
  let disposed = false;
  const stuck: Ranker = {
    info: { kind: 'code:stuck' },
    score: (req) => (req.event.id === 'e5' ? new Promise<number[]>(() => undefined) : Promise.resolve(scores(req))),
    dispose: () => {
      disposed = true;
    },
  };
  await assert.rejects(runHeadless({ slice, ranker: stuck, traceDir, rankerTimeoutMs: 150 }, HOST), (e: unknown) => {
    assert.ok(e instanceof UserError, String(e));
    assert.match(e.message, /^ranker "code:stuck" did not answer event "e5" within 0\.15 s \(its score\(\) promise has not settled\): the run stops, and writes no trace$/);
    assert.match(e.hint ?? '', /raise rankerTimeoutMs/);
    return true;
  });
  assert.ok(!existsSync(traceDir) || readdirSync(traceDir).length === 0, `nothing written: ${existsSync(traceDir) ? readdirSync(traceDir).join(', ') : ''}`);
  assert.equal(openOn(join(slice, 'events.jsonl')), 0, 'events.jsonl is not left open');
  assert.equal(disposed, false);
});

test('a ranker that answers, late or at once, in promises or not, gives the same trace as without the watch (the timers change nothing it writes)', async () => {
  const slice = makeSlice(30);
  const run = async (ranker: Ranker, rankerTimeoutMs?: number) => {
    const traceDir = join(tmp(), 'run');
    const r = await runHeadless({ slice, ranker, traceDir, ...(rankerTimeoutMs === undefined ? {} : { rankerTimeoutMs }) }, HOST);
    r.replayer.dispose();
    return readFileSync(join(traceDir, 'trace.jsonl'), 'utf8');
  };
  const info = { kind: 'code:same' };
  const sync = await run({ info, score: scores });
  // Answers after a turn of the event loop (a reply from a socket), well within the time.
  const late = await run({ info, score: (req) => new Promise((ok) => setImmediate(() => ok(scores(req)))) }, 10_000);
  const never = await run({ info, score: (req) => Promise.resolve(scores(req)) }, Infinity);
  // A thenable that is no Promise (another library's): its then() is called once per score.
  let thens = 0;
  const thenable = await run({ info, score: (req) => ({ then: (ok: (v: number[]) => void) => (thens++, ok(scores(req))) }) as unknown as Promise<number[]> });
  assert.equal(late, sync);
  assert.equal(never, sync);
  assert.equal(thenable, sync);
  assert.equal(thens, 30, 'then() once per event');
});

test('a ranker\'s own methods are called on it (a class with private fields works through the watch), and its latencyMs is used', async () => {
  class Model implements Ranker {
    readonly #bias = 1;
    readonly info = { kind: 'code:class' };
    score(req: ScoreRequest): Promise<number[]> {
      return Promise.resolve(req.rows.map((r) => this.#bias / r.recordedRank));
    }
    latencyMs(n: number): number {
      return this.#bias * 500 + n;
    }
  }
  // Events that record no latencies: the score stage takes what latencyMs says.
  const slice = rawSlice([1, 2, 3, 4].map((i) => eventLine(`e${i}`, `2025-01-01T00:00:0${i}Z`)).join('\n') + '\n');
  const r = await runHeadless({ slice, ranker: new Model(), traceDir: join(tmp(), 'run') }, HOST);
  // The score stage's 502 ms is over the default budget: every event falls back, which only latencyMs could cause.
  assert.equal(r.faults.over_budget?.events, 4, JSON.stringify(r.faults));
  assert.equal(r.faults.ranker_error, undefined);
  r.replayer.dispose();
});

test('rankerTimeoutMs is checked: 0, a negative number, NaN or text are refused before the replay, naming the option', async () => {
  assert.equal(RANKER_TIMEOUT_MS, 60_000);
  const slice = makeSlice(3);
  for (const bad of [0, -1, Number.NaN, '5000']) {
    await assert.rejects(
      runHeadless({ slice, ranker: { info: { kind: 'code:x' }, score: scores }, rankerTimeoutMs: bad as number }, HOST),
      (e: unknown) => e instanceof UserError && e.where.field === 'rankerTimeoutMs' && /must be a number of ms above 0/.test(e.message),
    );
    assert.equal(openOn(join(slice, 'events.jsonl')), 0, 'events.jsonl is not left open');
  }
});
