import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { runHeadless } from '../../src/core/engine/run';
import { Replayer, type EventExec } from '../../src/core/engine/replay';
import { traceLine } from '../../src/core/engine/traceFormat';
import { loadRanker } from '../../src/core/rankers';
import { streamFor } from '../../src/core/random';
import { EventCursor } from '../../src/core/slice/cursor';
import { Slice } from '../../src/core/slice/reader';
import type { EventRecord, ItemRecord } from '../../src/core/slice/types';
import { writeSlice } from '../../src/core/slice/writer';
import { tmp } from '../helpers';

// Same slice + config + seed ⇒ byte-identical trace (docs/engine.md), whatever else differs: the
// checkpoint interval, the reader thread and how it cuts blocks into pieces, the path the slice is
// given by, a copy of it elsewhere, the index cache, the time zone and the locale.

const CLI = resolve(__dirname, '../../dist/cli.js');

/** 250 events over 4 KiB chunks: multi-byte ids and feature names cut by block ends, events of 80 candidates (over the insertion-sort limit), equal scores and -0. */
function oddSlice(): string {
  const rng = streamFor(3, 'runSettings', 'slice');
  const ids = Array.from({ length: 120 }, (_, i) => [`i${i}`, `é中${i}`, `😀${i}`][i % 3] as string);
  const items: ItemRecord[] = ids.filter((_, i) => i % 5 !== 0).map((id, i) => ({ id, category: ['a', 'b', 'c', ''][i % 4] as string, group: i % 2 ? 'g1' : 'g2' }));
  const values = [0.5, 0.5, -0, 0.1, 0.7, 2.675, 0.30000000000000004, 1e-7, 123456789.12345679];
  const t0 = Date.parse('2025-05-01T00:00:00Z');
  const events: EventRecord[] = Array.from({ length: 250 }, (_, e) => {
    const n = e % 40 === 7 ? 80 : 2 + rng.int(12);
    const seen = new Set<string>();
    const candidates = [];
    for (let j = 0; j < n; j++) {
      const item = ids[rng.int(ids.length)] as string;
      if (seen.has(item)) continue;
      seen.add(item);
      candidates.push({ item, features: { ctr: values[rng.int(values.length)] as number, 'prix_€': j % 3, 年齢: 1 }, score: values[rng.int(values.length)] as number });
    }
    const served = candidates.slice(0, 4).map((c) => c.item);
    return {
      id: `ev-${e}-é`,
      t: new Date(t0 + e * 1500).toISOString(),
      user: `u${e % 5}`,
      candidates,
      served,
      outcome: { clicks: rng.next() < 0.4 && served[0] !== undefined ? [served[rng.int(served.length)] as string] : [] },
      system: { latencyMs: { score: 5 + rng.int(200) }, queueDepth: e % 4, cache: { hits: 3, misses: 1 } },
      featureTimes: { ctr: new Date(t0 + e * 1500 - rng.int(200_000) * 1000).toISOString() },
    };
  });
  const dir = join(tmp(), 'odd.slice');
  const manifest = { name: 'odd', description: 'odd', source: { kind: 'synthetic' as const, generator: 'runSettings.test.ts' }, seed: 9, pipeline: { k: 5, budgetMs: 150, staleAfterSec: 86_400, maxPerCategory: 2 } };
  writeSlice(dir, { manifest, events, items, users: [{ id: 'u1', features: { age: 3 } }] }, { frozenAt: '2025-05-02T00:00:00.000Z', chunkSize: 4096 });
  return dir;
}

const host = { now: () => '2025-01-01T00:00:00.000Z', user: 'tester', host: 'ci', cwd: process.cwd() };

/** The run record without what tells runs apart by design: times, who and where, and the checkpoint interval asked for. */
function deterministicPart(runJson: string): unknown {
  const { startedAt: _s, endedAt: _e, user: _u, host: _h, slice, trace, config, ...rest } = JSON.parse(runJson) as Record<string, Record<string, unknown>>;
  const { path: _p, ...sliceRest } = slice as Record<string, unknown>;
  const { path: _tp, ...traceRest } = trace as Record<string, unknown>;
  const { checkpointEvery: _c, ...configRest } = config as Record<string, unknown>;
  return { ...rest, slice: sliceRest, trace: traceRest, config: configRest };
}

async function run(slice: string, ranker: string, opts: { checkpointEvery?: number } = {}): Promise<{ trace: string; record: unknown }> {
  const out = tmp();
  const r = await runHeadless({ slice, ranker, traceDir: out, ...opts }, host);
  r.replayer.dispose();
  return { trace: readFileSync(join(out, 'trace.jsonl'), 'utf8'), record: deterministicPart(readFileSync(join(out, 'run.json'), 'utf8')) };
}

/** With a setting changed for the length of `fn`. */
async function withSetting<T>(set: () => () => void, fn: () => Promise<T>): Promise<T> {
  const undo = set();
  try {
    return await fn();
  } finally {
    undo();
  }
}

test('determinism: the trace and the run record\'s deterministic parts are the same bytes whatever the checkpoint interval, reader thread, piece size, slice path, copy and index cache', async () => {
  const dir = oddSlice();
  const art = join(tmp(), 'linear.json');
  writeFileSync(art, JSON.stringify({ weights: { 'online.ctr': 4, ctr: 2, 'prix_€': 0.5, 年齢: 1, 'user.age': 0.1 } }));
  for (const ranker of ['popularity', `linear:${art}`]) {
    const base = await run(dir, ranker);
    const variants: [string, () => Promise<{ trace: string; record: unknown }>][] = [
      ['checkpointEvery 1', () => run(dir, ranker, { checkpointEvery: 1 })],
      ['checkpointEvery 7', () => run(dir, ranker, { checkpointEvery: 7 })],
      [
        'pieces of 300 bytes',
        () =>
          withSetting(() => {
            const was = EventCursor.pieceSize;
            EventCursor.pieceSize = 300;
            return () => (EventCursor.pieceSize = was);
          }, () => run(dir, ranker)),
      ],
      ['a relative path', () => run(relative(process.cwd(), dir), ranker)],
      [
        'a symbolic link',
        () => {
          const link = join(tmp(), 'link.slice');
          symlinkSync(dir, link);
          return run(link, ranker);
        },
      ],
      [
        'a copy in another folder',
        () => {
          const copy = join(tmp(), 'copied.slice');
          cpSync(dir, copy, { recursive: true });
          return run(copy, ranker);
        },
      ],
      [
        'no index cache, then the cache, then a damaged cache',
        () =>
          withSetting(() => {
            const was = process.env['RECREPLAY_CACHE_DIR'];
            process.env['RECREPLAY_CACHE_DIR'] = tmp();
            return () => (process.env['RECREPLAY_CACHE_DIR'] = was);
          }, async () => {
            const cache = process.env['RECREPLAY_CACHE_DIR'] as string;
            const first = await run(dir, ranker);
            assert.ok(readdirSync(cache).some((f) => f.startsWith('index-')));
            const second = await run(dir, ranker);
            assert.deepEqual(second, first);
            for (const f of readdirSync(cache).filter((n) => n.startsWith('index-'))) {
              const b = readFileSync(join(cache, f));
              b[9] = (b[9] as number) ^ 1;
              writeFileSync(join(cache, f), b);
            }
            return run(dir, ranker);
          }),
      ],
    ];
    for (const [what, variant] of variants) {
      const got = await variant();
      assert.ok(got.trace === base.trace, `${ranker}, ${what}: the trace differs`);
      assert.deepEqual(got.record, base.record, `${ranker}, ${what}: the run record differs`);
    }
    // With no reader thread at all (a debugger's read, event by event on the engine thread).
    const lines = await withSetting(() => {
      const was = Slice.prefetchAfterBlocks;
      Slice.prefetchAfterBlocks = 1e9;
      return () => (Slice.prefetchAfterBlocks = was);
    }, async () => {
      const slice = Slice.open(dir);
      const started = Slice.prefetchesStarted;
      const r = new Replayer(slice, { ranker: loadRanker(ranker, { slice }) });
      const out: string[] = [];
      while (r.advance()) {
        r.finishEvent();
        out.push(traceLine(r.current as EventExec, r.state.ids, (id) => r.state.peek(id)));
      }
      r.dispose();
      assert.equal(Slice.prefetchesStarted, started);
      return out;
    });
    assert.ok(lines.join('') === base.trace.slice(base.trace.indexOf('\n') + 1), `${ranker}: events read on the engine thread alone give another trace`);
  }
});

test('determinism: the CLI writes the same trace under TZ=Pacific/Chatham, LANG=de_DE.UTF-8 and LC_ALL=tr_TR.UTF-8 as under TZ=UTC and LANG=C', { skip: existsSync(CLI) ? false : 'run `npm run build` first (npm test does)' }, () => {
  const dir = oddSlice();
  const sha = (env: Record<string, string>) => {
    const out = tmp();
    const r = spawnSync(process.execPath, [CLI, 'run', dir, '--ranker', 'popularity', '--trace', out, '--json'], { encoding: 'utf8', env: { ...process.env, ...env } });
    assert.equal(r.status, 0, r.stderr);
    return (JSON.parse(r.stdout) as { traceSha256: string }).traceSha256;
  };
  const utc = sha({ TZ: 'UTC', LANG: 'C', LC_ALL: 'C' });
  assert.equal(sha({ TZ: 'Pacific/Chatham', LANG: 'de_DE.UTF-8', LC_ALL: 'tr_TR.UTF-8' }), utc);
  assert.equal(sha({ TZ: 'America/St_Johns', LANG: 'tr_TR.UTF-8', LC_ALL: '' }), utc);
});
