import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Slice } from '../../src/core/slice/reader';
import { Replayer } from '../../src/core/engine/replay';
import { runHeadless } from '../../src/core/engine/run';
import { loadRanker } from '../../src/core/rankers';
import { writeSlice } from '../../src/core/slice/writer';
import { manifestWarnings, repeatedKeys } from '../../src/core/slice/manifest';
import type { SliceManifest } from '../../src/core/slice/types';
import { eventLine, makeSlice, rawSlice, tmp } from '../helpers';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';

const LINE = eventLine('e1', '2025-01-01T00:00:00Z') + '\n';
type Loose = SliceManifest & Record<string, unknown>;

test('a misspelt optional manifest field opens, is named in a warning with the field meant, and is ignored', () => {
  const dir = rawSlice(LINE, (m) => ((m as Loose)['pipline'] = { k: 3, budgetMs: 40 }));
  const slice = Slice.open(dir);
  try {
    assert.deepEqual(slice.warnings, ['slice.json: "pipline" is not a field of the manifest, so it is ignored; did you mean "pipeline"?']);
    // Ignored: the replay runs with the default pipeline, which is what the warning is there to say.
    assert.equal(new Replayer(slice, { ranker: loadRanker('recorded') }).pipeline.k, 10);
  } finally {
    slice.close();
  }
});

test('unknown fields inside the manifest\'s objects and arrays are named with their path; name maps are not checked', () => {
  const dir = rawSlice(LINE, (m) => {
    m.source = { kind: 'logs', windw: { from: '2025-01-01T00:00:00Z', to: '2025-01-02T00:00:00Z' } } as never;
    (m.clock as Record<string, unknown>)['tz'] = 'Europe/Berlin';
    (m.files[1] as unknown as Record<string, unknown>)['sha'] = 'x';
    m.faults = [{ kind: 'cold_start', event: 'e1', notes: 'typo' } as never];
    // Keys that are names, not fields: any is fine.
    m.versions = { ranker: { name: 'lr', version: '3' } };
    m.schema.candidate = { anything_goes: 'number' };
  });
  const slice = Slice.open(dir);
  try {
    assert.deepEqual(slice.warnings, [
      'slice.json: "source.windw" is not a field of "source", so it is ignored; did you mean "window"?',
      'slice.json: "clock.tz" is not a field of "clock", so it is ignored',
      'slice.json: "files[1].sha" is not a field of "files[1]", so it is ignored; did you mean "sha256"?',
      'slice.json: "faults[0].notes" is not a field of "faults[0]", so it is ignored; did you mean "note"?',
    ]);
  } finally {
    slice.close();
  }
});

test('a manifest of the format has no warnings, and a long list of unknown fields is cut after ten', () => {
  const clean = Slice.open(rawSlice(LINE));
  assert.deepEqual(clean.warnings, []);
  clean.close();
  const m = JSON.parse(JSON.stringify({ ...Object.fromEntries(Array.from({ length: 14 }, (_, i) => [`extra${i}`, i])) })) as unknown;
  const w = manifestWarnings(m);
  assert.equal(w.length, 11);
  assert.equal(w[10], 'and 4 more fields the format does not know');
});

test('the headless run passes the slice\'s warnings on before the replay starts; the writer returns them for what it was given', async () => {
  const dir = rawSlice(LINE, (m) => ((m as Loose)['pipline'] = { k: 3, budgetMs: 40 }));
  const said: string[] = [];
  const r = await runHeadless({ slice: dir, ranker: 'recorded', onWarning: (w) => said.push(w) }, { now: () => '2025-01-01T00:00:00Z', user: 'u', host: 'h', cwd: process.cwd() });
  r.replayer.dispose();
  assert.equal(said.length, 1);
  assert.match(said[0] ?? '', /"pipline" is not a field of the manifest/);
  const out = writeSlice(join(tmp(), 'w.slice'), { manifest: { name: 'w', description: 'd', source: { kind: 'logs' }, seed: 1, pipline: { k: 3 } } as never, events: [{ id: 'e1', t: '2025-01-01T00:00:00Z', user: 'u', candidates: [], served: [] }] }, { frozenAt: '2025-01-02T00:00:00Z' });
  assert.ok(out.warnings.some((w) => /"pipline" is not a field of the manifest, so it is ignored; did you mean "pipeline"\?/.test(w)), out.warnings.join('\n'));
  const reopened = Slice.open(out.dir);
  assert.equal(reopened.warnings.length, 1);
  reopened.close();
});

test('a clock.timezone this machine does not know is said (it is only shown); IANA names, UTC and offsets are not', () => {
  for (const tz of ['UTC', 'Europe/Berlin', 'Z', '+02:00', '-11:30']) {
    const s = Slice.open(rawSlice(LINE, (m) => (m.clock.timezone = tz)));
    assert.deepEqual(s.warnings, [], tz);
    s.close();
  }
  const s = Slice.open(rawSlice(LINE, (m) => (m.clock.timezone = 'Europe/Berln')));
  assert.deepEqual(s.warnings, ['slice.json: clock.timezone "Europe/Berln" is not a time zone this machine knows (an IANA name such as "Europe/Berlin", "UTC", or an offset such as "+02:00"); it is shown as written, and a replay does not use it']);
  s.close();
});

test('a key written twice in one object of slice.json is warned of with its line and path (JSON.parse keeps the last, silently); escapes and nesting read right', () => {
  const text = '{\n  "seed": 1,\n  "files": [\n    {"path": "a", "bytes": 1, "bytes": 2},\n    {"path": "b"}\n  ],\n  "s\\u0065ed": 2,\n  "x": {"seed": 3, "y": "\\"seed\\": 4"}\n}';
  assert.deepEqual(repeatedKeys(text), [
    { field: 'files[0].bytes', line: 4 },
    { field: 'seed', line: 7 },
  ]);
  assert.deepEqual(repeatedKeys('{"a":[{"k":1},{"k":2}],"b":{"k":1,"c":{"k":2}}}'), [], 'the same key in different objects is no repeat');
  const dir = makeSlice(5);
  const p = join(dir, 'slice.json');
  const manifest = readFileSync(p, 'utf8');
  writeFileSync(p, manifest.replace(/\n\s*"seed": (\d+),/, (m: string, seed: string) => `${m}\n  "seed": ${Number(seed) + 1},`));
  const s = Slice.open(dir);
  try {
    assert.ok(s.warnings.some((w) => /^slice\.json:\d+: "seed" is written twice in one object; JSON keeps the last one/.test(w)), s.warnings.join(' | '));
  } finally {
    s.close();
  }
});

test('many keys written twice are named ten at a time (the rest counted), each cut short when long', () => {
  const dir = makeSlice(3);
  const p = join(dir, 'slice.json');
  const long = 'k'.repeat(500);
  const extra = Array.from({ length: 12 }, (_, i) => `"x${i}": 1, "x${i}": 2`).join(', ');
  writeFileSync(p, readFileSync(p, 'utf8').replace(/^\{/, `{ "${long}": 1, "${long}": 2, ${extra},`));
  const s = Slice.open(dir);
  try {
    const repeats = s.warnings.filter((w) => /written twice/.test(w));
    assert.equal(repeats.length, 11);
    assert.match(repeats[10] as string, /^slice\.json: and 3 more keys written twice$/);
    assert.ok((repeats[0] as string).length < 300, 'a long key is cut short');
  } finally {
    s.close();
  }
});
