import { mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadRanker, loadRankerAsync, type Ranker } from '../../src/core/rankers';
import { LinearRanker } from '../../src/core/rankers/linear';
import { artifactThreads } from '../../src/core/rankers/artifacts';
import { packLinear } from '../../src/core/rankers/linearThread';
import { ReplayState } from '../../src/core/engine/state';
import { Slice } from '../../src/core/slice/reader';
import { writeSlice } from '../../src/core/slice/writer';
import { RECORDS_PER_STEP, StepsCancelled } from '../../src/core/steps';
import { UserError } from '../../src/core/errors';
import type { CandidateRow } from '../../src/core/engine/rows';
import { BASE_MANIFEST, caught, fixture, tmp, turnCounter } from '../helpers';

/** A slice whose schema the weights are checked against (warnings), and its events to score. */
function sliceOf(): { slice: Slice; events: ReturnType<typeof fixture>['events'] } {
  const f = fixture(12, { items: 40 });
  const dir = join(tmp(), 'lin.slice');
  writeSlice(dir, { manifest: BASE_MANIFEST, ...f }, { frozenAt: '2025-01-02T00:00:00.000Z' });
  return { slice: Slice.open(dir), events: f.events };
}

/** Every score the ranker gives the slice's events, as an array per event. */
function scores(r: Ranker, slice: Slice, events: ReturnType<typeof fixture>['events']): number[][] {
  const state = new ReplayState([]);
  return events.map((event) => {
    const rows = event.candidates.map((c, i): CandidateRow => ({ item: c.item, slot: i, rec: c, itemRec: slice.itemById.get(c.item), recordedRank: i + 1, score: Number.NaN, rank: 0, prevRank: null }));
    return Array.from(r.score({ event, user: slice.userById.get(event.user), state, rows }) as Float64Array);
  });
}

/**
 * An artifact with every kind of name (plain, one-hot, scoped, inherited, dotted, empty, astral,
 * unknown), keys written twice (more than the warnings list), an unknown top-level key, a numeric
 * version and a BOM; `extra` hashed weights make it wide.
 */
function artifactText(extra: number): string {
  const names = ['ctr', 'fresh', 'pop', 'category=a', 'category=b', 'user.age', 'user.segment=new', 'context.device=ios', 'online.clicks', 'constructor', 'toString=x', 'x.y', '', '=1', 'caf\u00e9', '\u{1f600}', 'ctr=0.5', 'nope', 'age', '__proto__', '7', '0', 'user.__proto__'];
  const parts = names.map((n, i) => `${JSON.stringify(n)}: ${((i % 7) - 3) / 4}`);
  for (let i = 0; i < extra; i++) parts.push(`"hash_${i}": ${((i % 13) - 6) / 100}`);
  // Twelve weights written twice: the second value counts, and the warnings list ten and count two.
  for (let i = 0; i < 12; i++) parts.push(`\n"hash_dup${i}": 1, "hash_dup${i}": ${i / 8}`);
  return `\ufeff{"weights": {${parts.join(', ')}},\n "bias": -0.25, "sigmoid": true, "version": 12, "owner": "ranking"}`;
}

for (const [label, extra, threadFrom] of [
  ['a small artifact (read on the caller\'s thread)', 0, artifactThreads.from],
  ['a small artifact read on a thread', 0, 0],
  ['a wide artifact (scored by name)', 3 * RECORDS_PER_STEP, artifactThreads.from],
] as const) {
  test(`loadRankerAsync gives ${label} the very ranker loadRanker gives: same scores, info and warnings, with and without a slice`, async () => {
    const path = join(tmp(), 'model.json');
    writeFileSync(path, artifactText(extra));
    const { slice, events } = sliceOf();
    const was = artifactThreads.from;
    artifactThreads.from = threadFrom;
    try {
      for (const opts of [{ slice }, {}]) {
        const sync = loadRanker(`linear:${path}`, opts);
        const async = await loadRankerAsync(`linear:${path}`, opts);
        assert.ok(async instanceof LinearRanker);
        assert.deepEqual(async.info, sync.info);
        assert.deepEqual(async.warnings, sync.warnings);
        const a = scores(async, slice, events);
        const s = scores(sync, slice, events);
        for (let e = 0; e < a.length; e++) for (let i = 0; i < (a[e] as number[]).length; i++) assert.ok(Object.is(a[e]?.[i], s[e]?.[i]), `event ${e}, row ${i}: ${a[e]?.[i]} async, ${s[e]?.[i]} sync`);
      }
      const warnings = loadRanker(`linear:${path}`, { slice }).warnings ?? [];
      // What the comparison covers is there to compare.
      assert.match(warnings.join('\n'), /and 2 more keys written twice/);
      assert.match(warnings.join('\n'), /"owner" is not one the linear ranker reads/);
      assert.match(warnings.join('\n'), /weight "category=a": the manifest's schema lists no feature "category"/);
      assert.match(warnings.join('\n'), /more weights like these: \d+ on features the manifest's schema lists none of/);
      assert.equal(loadRanker(`linear:${path}`).info.version, '12');
    } finally {
      artifactThreads.from = was;
      slice.close();
    }
  });
}

test('loadRankerAsync reads a linear artifact under 64 KiB on the caller\'s thread (a thread cost ~40 ms to start, the read a few); one of 64 KiB or more on a thread', async () => {
  const small = join(tmp(), 'small.json');
  writeFileSync(small, artifactText(0));
  const wide = join(tmp(), 'wide.json');
  writeFileSync(wide, artifactText(3 * RECORDS_PER_STEP));
  assert.ok(statSync(small).size < artifactThreads.from && statSync(wide).size >= artifactThreads.from);
  for (const [path, parsedHere] of [[small, 1], [wide, 0]] as const) {
    const body = readFileSync(path, 'utf8').slice(1);
    const parse = mock.method(JSON, 'parse');
    try {
      assert.ok((await loadRankerAsync(`linear:${path}`)) instanceof LinearRanker);
      assert.equal(parse.mock.calls.filter((c) => c.arguments[0] === body).length, parsedHere, path);
    } finally {
      parse.mock.restore();
    }
  }
});

test('loadRankerAsync gives an artifact without weights the ranker loadRanker gives (the bias alone, and the warning that says so)', async () => {
  const path = join(tmp(), 'none.json');
  writeFileSync(path, '{"weights": {}, "bias": 2}');
  const sync = loadRanker(`linear:${path}`);
  const async = await loadRankerAsync(`linear:${path}`);
  assert.deepEqual(async.info, sync.info);
  assert.deepEqual(async.warnings, sync.warnings);
  assert.match((async.warnings ?? []).join(' '), /"weights" is empty/);
  const rows = [{ item: 'a', rec: { item: 'a' } }];
  assert.deepEqual(async.score({ rows } as never), sync.score({ rows } as never));
});

test('loadRankerAsync reads and parses a linear artifact on a thread of its own: the caller never JSON.parses its text, and its event loop turns meanwhile', async () => {
  const path = join(tmp(), 'wide.json');
  const text = artifactText(3 * RECORDS_PER_STEP);
  writeFileSync(path, text);
  const body = text.slice(1);
  const parse = mock.method(JSON, 'parse');
  const turns = turnCounter();
  try {
    const ranker = await loadRankerAsync(`linear:${path}`);
    turns.stop();
    assert.ok(ranker instanceof LinearRanker);
    assert.equal(parse.mock.calls.filter((c) => c.arguments[0] === body).length, 0, 'the artifact parsed on the caller\'s thread');
    // Terms and the index by name, 3 slices of work at least, a turn of the event loop apart.
    assert.ok(turns.turns >= 3, `the event loop turned ${turns.turns} times while the artifact loaded`);
  } finally {
    turns.stop();
    parse.mock.restore();
  }
  // The spy sees the caller's parse, when there is one: loadRanker parses on this thread.
  const again = mock.method(JSON, 'parse');
  try {
    loadRanker(`linear:${path}`);
    assert.equal(again.mock.calls.filter((c) => c.arguments[0] === body).length, 1);
  } finally {
    again.mock.restore();
  }
});

test('loadRankerAsync says what is wrong with a linear artifact exactly as loadRanker does (message, file, line, column, field)', async () => {
  const dir = tmp();
  mkdirSync(join(dir, 'folder.json'));
  const cases: Record<string, string | Buffer | undefined> = {
    'not JSON': '{"weights": {"a": 1,}}',
    'NaN in JSON': '{"weights": {"a": NaN}}',
    'Latin-1': Buffer.from('{"weights": {"caf\xe9": 1}}', 'latin1'),
    empty: '',
    'only spaces': ' \n ',
    'an array': '[1, 2]',
    'no weights, vectors': JSON.stringify({ dim: 2, items: {} }),
    'weights an array': JSON.stringify({ weights: [1, 2] }),
    'a weight null': JSON.stringify({ weights: { a: 1, 'b\nc': null } }),
    'a weight text': JSON.stringify({ weights: { a: '1' } }),
    'a weight too large': '{"weights": {"a": 1e999}}',
    'bias null': JSON.stringify({ weights: { a: 1 }, bias: null }),
    'sigmoid text': JSON.stringify({ weights: { a: 1 }, sigmoid: 'yes' }),
    'weight and bias both wrong': JSON.stringify({ weights: { a: 'x' }, bias: 'y' }),
    missing: undefined,
    'folder': undefined,
  };
  for (const [name, content] of Object.entries(cases)) {
    const file = join(dir, `${name}.json`);
    if (content !== undefined) writeFileSync(file, content);
    const sync = caught(() => loadRanker(`linear:${file}`));
    assert.ok(sync instanceof UserError, name);
    await assert.rejects(
      loadRankerAsync(`linear:${file}`),
      (e: unknown) => {
        assert.ok(e instanceof UserError, `${name}: ${String(e)}`);
        assert.equal(e.describe(), sync.describe(), name);
        assert.deepEqual(e.where, sync.where, name);
        assert.equal(e.code, sync.code, name);
        return true;
      },
      name,
    );
  }
});

test('the linear artifact thread hands a bad artifact back to the caller (it words no error of its own), and a good one as packed weights and names', async () => {
  const dir = tmp();
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, JSON.stringify({ weights: { a: 1 }, bias: 'x' }));
  assert.equal(await packLinear(bad), undefined);
  const good = join(dir, 'good.json');
  writeFileSync(good, '{"weights": {"b": 2, "": -1, "\u{1f600}=x": 0.5, "b": 3}, "version": "v1"}');
  const p = await packLinear(good);
  assert.ok(p);
  assert.deepEqual(Array.from(p.weights), [3, -1, 0.5]);
  assert.deepEqual(Array.from(p.ends), [1, 1, 5]);
  assert.equal(p.names, 'b\u{1f600}=x');
  assert.deepEqual(p.repeats, [{ field: 'weights.b', line: 1 }]);
  assert.equal(p.repeatCount, 1);
});

test('loadRankerAsync stops loading a linear artifact when its runner says cancelled', async () => {
  const path = join(tmp(), 'wide.json');
  writeFileSync(path, artifactText(3 * RECORDS_PER_STEP));
  let asked = 0;
  await assert.rejects(loadRankerAsync(`linear:${path}`, {}, { cancelled: () => ++asked > 2 }), StepsCancelled);
});
