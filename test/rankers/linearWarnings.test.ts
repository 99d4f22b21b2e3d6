import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadRanker } from '../../src/core/rankers';
import { runHeadless } from '../../src/core/engine/run';
import { Slice } from '../../src/core/slice/reader';
import { writeSlice } from '../../src/core/slice/writer';
import { BASE_MANIFEST, fixture, tmp } from '../helpers';

const ROOT = resolve(__dirname, '../..');
const COLD = join(ROOT, 'examples/slices/cold-start.slice');

function artifact(a: unknown): string {
  const p = join(tmp(), 'w.json');
  writeFileSync(p, JSON.stringify(a));
  return p;
}

test('linear weights are checked against the slice: a feature it lacks (with the near name), a plain weight on a string feature, an unknown key', () => {
  const slice = Slice.open(COLD);
  try {
    const p = artifact({ weights: { pop_30d: 0.9, ctr_7: 20, 'user.fav': 1, 'user.fav=denim': 0.5, 'context.device=ios': 0.2, 'online.ctrr': 1, 'online.ctr': 2, 'user.segment=new': 1 }, bais: -4, sigmoid: true });
    const w = loadRanker(`linear:${p}`, { slice }).warnings ?? [];
    assert.deepEqual(
      w.map((x) => x.replace(`linear ranker ${p}: `, '')),
      [
        'the artifact\'s key "bais" is not one the linear ranker reads, and is ignored; did you mean "bias"?',
        'weight "ctr_7": the manifest\'s schema lists no feature "ctr_7" — if the records lack it too, it adds 0 to every score; did you mean "ctr_7d"?',
        'weight "user.fav" is on a feature the manifest types "string": a weight multiplies numbers only, so its other values add 0; weigh one value with a one-hot term, e.g. "user.fav=VALUE"',
        'weight "online.ctrr": the manifest\'s schema lists no feature "online.ctrr" — if the records lack it too, it adds 0 to every score; did you mean "online.ctr"?',
      ],
    );
    // The example rankers on their own slice: nothing to say.
    for (const r of ['cold-start-linear', 'cold-start-fresh']) assert.deepEqual(loadRanker(`linear:${join(ROOT, 'examples/rankers', `${r}.json`)}`, { slice }).warnings, []);
    // Without a slice there is nothing to check against.
    assert.deepEqual(loadRanker(`linear:${p}`).warnings, []);
  } finally {
    slice.close();
  }
});

test('weights on features the slice lacks are listed ten at most, the rest counted by problem (an artifact of 100,000 hashed features printed 100,000 warning lines)', () => {
  const slice = Slice.open(COLD);
  try {
    const weights: Record<string, number> = { 'user.fav': 1, 'user.fav=x': 1 };
    for (let i = 0; i < 100_000; i++) weights[`h_${i}`] = 0.5;
    weights['user.fav=y'] = 1;
    const p = artifact({ weights });
    const w = (loadRanker(`linear:${p}`, { slice }).warnings ?? []).map((x) => x.replace(`linear ranker ${p}: `, ''));
    assert.equal(w.length, 11, w.join('\n'));
    assert.match(w[0] ?? '', /^weight "user\.fav" is on a feature the manifest types "string"/);
    assert.match(w[1] ?? '', /^weight "h_0": the manifest's schema lists no feature "h_0"/);
    assert.match(w[9] ?? '', /^weight "h_8": /);
    assert.equal(w[10], 'and 99991 more weights like these: 99991 on features the manifest\'s schema lists none of');
  } finally {
    slice.close();
  }
});

test('a linear artifact with no weights is said: every candidate scores the bias, and the recorded order is served (it was accepted without a word)', async () => {
  const p = artifact({ weights: {}, bias: 0.5 });
  assert.deepEqual(loadRanker(`linear:${p}`).warnings, [`linear ranker ${p}: "weights" is empty, so every candidate scores the bias alone and the recorded order is served`]);
  // And it is so: a replay with it serves what was recorded.
  const r = await runHeadless({ slice: COLD, ranker: `linear:${p}` }, { now: () => '', user: 't', host: 't', cwd: ROOT });
  try {
    assert.equal(r.metrics['overlap@10'], 1);
    assert.equal(r.outcomes.impressions.simulated, 0);
  } finally {
    r.replayer.dispose();
  }
});

test('recreplay run prints the ranker\'s warnings on stderr before replaying (stdout, and the exit code, as without them)', () => {
  const p = artifact({ weights: { pop_30d: 0.9, ctr_7: 20 }, bias: -4 });
  const r = spawnSync(process.execPath, [join(ROOT, 'dist/cli.js'), 'run', COLD, '--ranker', `linear:${p}`, '--json'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /^recreplay: warning: linear ranker .*: weight "ctr_7": the manifest's schema lists no feature "ctr_7" .*did you mean "ctr_7d"\?\n$/);
  assert.equal(JSON.parse(r.stdout).events, 650);
});

test('a numeric artifact "version" goes into the ranker info (and so the run record) as text', () => {
  const p = artifact({ weights: { pop_30d: 1 }, version: 12 });
  assert.equal(loadRanker(`linear:${p}`).info.version, '12');
  assert.equal(loadRanker(`linear:${artifact({ weights: {}, version: 'v3' })}`).info.version, 'v3');
});

test('a feature name with a dot that is not a scope (user., context., online.) is a feature like any other: no false warning', () => {
  const dir = join(tmp(), 'dots.slice');
  const f = fixture(4);
  for (const e of f.events) for (const c of e.candidates) (c.features as Record<string, unknown>)['price.eur'] = 3;
  writeSlice(dir, { manifest: BASE_MANIFEST, ...f }, { frozenAt: '2025-01-02T00:00:00.000Z' });
  const slice = Slice.open(dir);
  try {
    assert.deepEqual(loadRanker(`linear:${artifact({ weights: { 'price.eur': 1, 'price.eur=3': 1, ctr: 1 } })}`, { slice }).warnings, []);
  } finally {
    slice.close();
  }
});

test('a user feature named like a user field (segment, id) is the one a weight reads: typed number, a plain weight on it is not warned about', () => {
  const dir = join(tmp(), 'segment.slice');
  const f = fixture(4);
  f.users = f.users.map((u) => ({ ...u, segment: 'label', features: { ...(u.features ?? {}), segment: 4 } }));
  writeSlice(dir, { manifest: BASE_MANIFEST, ...f }, { frozenAt: '2025-01-02T00:00:00.000Z' });
  const slice = Slice.open(dir);
  try {
    assert.deepEqual(loadRanker(`linear:${artifact({ weights: { 'user.segment': 100 } })}`, { slice }).warnings, []);
  } finally {
    slice.close();
  }
});

test('a weight, or "weights" itself, written twice in the artifact is warned about with its line: JSON keeps the last one, which scored without a word', () => {
  const p = join(tmp(), 'w.json');
  writeFileSync(p, '{\n  "weights": {"ctr_7d": 4.0,\n    "ctr_7d": 0.4, "a\\u002eb": 1, "a.b": 2},\n  "bias": 0,\n  "weights": {"ctr_7d": 4.0}\n}\n');
  const r = loadRanker(`linear:${p}`);
  assert.deepEqual(
    (r.warnings ?? []).map((x) => x.replace(`linear ranker ${p}: `, '')),
    [
      'line 3: "weights.ctr_7d" is written twice in one object; JSON keeps the last one, so the first is ignored: remove one of them',
      'line 3: "weights.a.b" is written twice in one object; JSON keeps the last one, so the first is ignored: remove one of them',
      'line 5: "weights" is written twice in one object; JSON keeps the last one, so the first is ignored: remove one of them',
    ],
  );
  // The same artifact without the repeats: nothing to say (without a slice, nothing else is checked).
  assert.deepEqual(loadRanker(`linear:${artifact({ weights: { ctr_7d: 4, 'a.b': 2 }, bias: 0 })}`).warnings, []);
});

test('a one-hot term that can never match its number or boolean feature\'s text is warned about, with the text to write ("fresh=1.0" never met a 1)', async () => {
  const dir = join(tmp(), 'typed.slice');
  const events = [1, 2].map((n) => ({ id: `e${n}`, t: `2025-01-01T00:00:0${n}Z`, user: 'u1', candidates: [{ item: 'a', features: { fresh: 1, flag: true } }, { item: 'b', features: { fresh: 0.5, flag: false } }], served: ['a', 'b'] }));
  writeSlice(dir, { manifest: BASE_MANIFEST, events, items: [{ id: 'a' }, { id: 'b' }], users: [{ id: 'u1' }] }, { frozenAt: '2025-01-02T00:00:00.000Z' });
  const slice = Slice.open(dir);
  try {
    const weights = { 'fresh=1.0': 1, 'fresh=.5': 1, 'fresh=1': 2, 'fresh=0.5': 4, 'fresh=x': 1, 'flag=True': 1, 'flag=1': 1, 'flag=true': 8, 'flag=yes': 1 };
    const p = artifact({ weights });
    const r = loadRanker(`linear:${p}`, { slice });
    assert.deepEqual(
      (r.warnings ?? []).map((x) => x.replace(`linear ranker ${p}: `, '')),
      [
        'weight "fresh=1.0" never matches: "fresh" is a number feature, whose value 1.0 reads "1" (a one-hot term compares that text); write "fresh=1"',
        'weight "fresh=.5" never matches: "fresh" is a number feature, whose value .5 reads "0.5" (a one-hot term compares that text); write "fresh=0.5"',
        'weight "fresh=x" never matches: "fresh" is a number feature, and "x" is no number\'s text',
        'weight "flag=True" never matches: "flag" is a boolean feature, whose values read "true" and "false"; write "flag=true"',
        'weight "flag=1" never matches: "flag" is a boolean feature, whose values read "true" and "false"; write "flag=true"',
        'weight "flag=yes" never matches: "flag" is a boolean feature, whose values read "true" and "false"',
      ],
    );
    // What the warnings say is what scoring does: only the terms written as the values read count.
    const run = await runHeadless({ slice: dir, ranker: `linear:${p}` }, { now: () => '', user: 'u', host: 'h', cwd: process.cwd() });
    try {
      const rows = run.replayer.current?.rows ?? [];
      assert.deepEqual(Object.fromEntries(rows.map((row) => [row.item, row.score])), { a: 2 + 8, b: 4 });
    } finally {
      run.replayer.dispose();
    }
  } finally {
    slice.close();
  }
});
