import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadRanker } from '../../src/core/rankers';
import { Slice } from '../../src/core/slice/reader';
import { caught, tmp } from '../helpers';

const COLD = join(resolve(__dirname, '../..'), 'examples/slices/cold-start.slice');
const HUGE = 'w'.repeat(2_000_000);

function file(text: string): string {
  const p = join(tmp(), 'a.json');
  writeFileSync(p, text);
  return p;
}

test('a malformed pretty-printed artifact is named with its line and column, and says what to do', () => {
  const p = file('{\n  "weights": {\n    "ctr": NaN\n  }\n}\n');
  const e = caught(() => loadRanker(`linear:${p}`));
  assert.deepEqual([e.where.file, e.where.line, e.where.column], [p, 3, 12]);
  assert.match(e.describe(), new RegExp(`^${p}:3:12: linear artifact is not valid JSON: Unexpected token 'N'\n`));
  assert.doesNotMatch(e.message, /position|"ctr"/);
  assert.match(e.hint ?? '', /NaN and Infinity are not JSON numbers/);
  const comma = caught(() => loadRanker(`embedding:${file('{\n  "dim": 2,\n  "items": {}\n  "users": {}\n}')}`));
  assert.deepEqual([comma.where.line, comma.where.column], [4, 3]);
  assert.match(comma.message, /Expected ',' or '}' after property value$/);
  assert.ok(comma.hint);
});

test('an artifact that is not an object, or a weight that is not a number, says what to write', () => {
  const arr = caught(() => loadRanker(`linear:${file('[1]')}`));
  assert.match(arr.message, /linear artifact must be a JSON object, got \[1\]/);
  assert.match(arr.hint ?? '', /"weights"/);
  const w = caught(() => loadRanker(`linear:${file('{"weights":{"ctr":"4"}}')}`));
  assert.equal(w.where.field, 'weights.ctr');
  assert.match(w.hint ?? '', /JSON number/);
});

test('a 2 MB weight name is cut: in the error of a bad weight and in the warning of an unknown one', () => {
  const bad = caught(() => loadRanker(`linear:${file(JSON.stringify({ weights: { [HUGE]: 'x' } }))}`));
  assert.ok(bad.describe().length < 1000, `${bad.describe().length} characters`);
  const slice = Slice.open(COLD);
  try {
    const warnings = loadRanker(`linear:${file(JSON.stringify({ weights: { [HUGE]: 1 }, [HUGE + 'x']: 1 }))}`, { slice }).warnings ?? [];
    assert.equal(warnings.length, 2);
    for (const x of warnings) assert.ok(x.length < 1000, `${x.length} characters`);
  } finally {
    slice.close();
  }
});

test('a 2 MB item id of an embedding artifact is cut in the error', () => {
  const e = caught(() => loadRanker(`embedding:${file(JSON.stringify({ dim: 2, items: { [HUGE]: [1] } }))}`));
  assert.match(e.where.field ?? '', /^items\.w+…$/);
  assert.ok(e.describe().length < 1000, `${e.describe().length} characters`);
});

test('an embedding artifact\'s unknown top-level key (a misspelt "itms") is warned about, as the linear ranker does', () => {
  const p = file(JSON.stringify({ dim: 2, users: { u1: [1, 0] }, itms: { i1: [1, 0] }, name: 'e', version: '1' }));
  assert.deepEqual(loadRanker(`embedding:${p}`).warnings, [`embedding ranker ${p}: the artifact's key "itms" is not one the embedding ranker reads, and is ignored; did you mean "items"?`]);
  assert.deepEqual(loadRanker(`embedding:${file(JSON.stringify({ dim: 2, users: { u1: [1, 0] }, items: { i1: [1, 0] } }))}`).warnings, []);
});

test('a linear "bias" or "sigmoid" written as null is refused naming the field (a NaN bias exported as null was a bias of 0, without a word)', () => {
  const bias = caught(() => loadRanker(`linear:${file('{"weights":{"ctr":1},"bias":null}')}`));
  assert.equal(bias.where.field, 'bias');
  assert.match(bias.message, /bias must be a finite number, got null$/);
  assert.match(bias.hint ?? '', /leave the key out/);
  const sig = caught(() => loadRanker(`linear:${file('{"weights":{"ctr":1},"sigmoid":null}')}`));
  assert.equal(sig.where.field, 'sigmoid');
  assert.match(sig.message, /got null$/);
  assert.ok(sig.hint);
});

test('an embedding artifact\'s bad vector is said with what is wrong in it: its length, or the value at its index (and a bad "dim" with the value)', () => {
  const long = caught(() => loadRanker(`embedding:${file('{"dim":2,"items":{"i1":[1,2,3]}}')}`));
  assert.equal(long.where.field, 'items.i1');
  assert.match(long.message, /vector must hold 2 finite numbers, but it has 3$/);
  assert.match(long.hint ?? '', /set "dim"/);
  const hole = caught(() => loadRanker(`embedding:${file('{"dim":3,"users":{"u1":[0.5,null,1]}}')}`));
  assert.equal(hole.where.field, 'users.u1');
  assert.match(hole.message, /but it holds null at \[1\]$/);
  const text = caught(() => loadRanker(`embedding:${file('{"dim":2,"users":{"u1":"0.5,1"}}')}`));
  assert.match(text.message, /but it is "0\.5,1", not an array$/);
  const dim = caught(() => loadRanker(`embedding:${file('{"dim":"16"}')}`));
  assert.equal(dim.where.field, 'dim');
  assert.match(dim.message, /got "16"$/);
  assert.ok(dim.hint);
});

test('an artifact given to the other ranker kind says so: a linear model as embedding:PATH, vectors as linear:PATH (it said "dim" must be a positive integer, or asked for weights)', () => {
  const lin = file('{"format":"recreplay.linear/1","weights":{"ctr":1},"bias":0}');
  const asEmbedding = caught(() => loadRanker(`embedding:${lin}`));
  assert.equal(asEmbedding.where.field, 'dim');
  assert.match(asEmbedding.message, /embedding artifact needs "dim"/);
  assert.match(asEmbedding.hint ?? '', /linear model's, so give it as linear:PATH/);
  const asLinear = caught(() => loadRanker(`linear:${file('{"dim":2,"users":{"u1":[1,2]}}')}`));
  assert.equal(asLinear.where.field, 'weights');
  assert.match(asLinear.hint ?? '', /embedding model's, so give it as embedding:PATH/);
  // Neither: the plain examples of what to write.
  assert.match(caught(() => loadRanker(`embedding:${file('{}')}`)).hint ?? '', /"dim": 16/);
  const notObject = caught(() => loadRanker(`linear:${file('{"weights":[1,2]}')}`));
  assert.match(notObject.message, /got \[1,2\]$/);
  assert.match(notObject.hint ?? '', /Example/);
});
