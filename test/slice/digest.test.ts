import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import fc from 'fast-check';
import { digestLines, type DigestTables } from '../../src/core/slice/digest';
import { DigestReader } from '../../src/core/slice/digestReader';
import { pieceStart, piecesOf } from '../../src/core/slice/pieces';
import { EventCursor } from '../../src/core/slice/cursor';
import { Slice } from '../../src/core/slice/reader';
import { writeSlice } from '../../src/core/slice/writer';
import type { EventRecord } from '../../src/core/slice/types';
import { fixture, makeSlice, tmp } from '../helpers';

/** What a reader thread and the engine thread do with one block of lines, in one place. */
function roundTrip(lines: string[], state = { strIndex: new Map<string, number>(), keyIndex: new Map<string, number>(), tables: { strs: [], keys: [] } as DigestTables }) {
  const block = Buffer.from(lines.map((l) => l + '\n').join(''));
  const m = digestLines(block, 0, block.length, state.strIndex, state.keyIndex, 1 << 20, { nums: new Float64Array(4) });
  for (const x of m.newStrs) state.tables.strs.push(x);
  for (const k of m.newKeys) state.tables.keys.push(k);
  const r = new DigestReader();
  r.load(m.nums, m.text, state.tables);
  const out: (EventRecord | string)[] = [];
  for (let e = r.next(); e !== undefined; e = r.next()) out.push(e === 'raw' ? block.toString('utf8', r.rawStart, r.rawEnd) : e);
  return { out, m, state };
}

/** Deep equality that also compares key order and tells -0 from 0. */
function sameValue(a: unknown, b: unknown, path = '$'): void {
  if (typeof a !== 'object' || a === null) {
    assert.ok(Object.is(a, b), `${path}: ${String(a)} vs ${String(b)}`);
    return;
  }
  assert.equal(Array.isArray(a), Array.isArray(b), path);
  assert.deepEqual(Object.keys(a), Object.keys(b as object), `${path}: key order`);
  assert.equal(Object.getPrototypeOf(a), Object.getPrototypeOf(b), `${path}: prototype`);
  for (const k of Object.keys(a)) sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
}

const regular = (id: string) => ({
  id,
  t: '2025-01-01T00:00:00.000Z',
  user: 'u1',
  context: { device: 'ios' },
  candidates: [
    { item: 'a', features: { x: 0.5, y: 2 }, score: 0.25 },
    { item: 'b', features: { x: -0, y: 1e-300 }, score: 0 },
    { item: 'c' },
  ],
  served: ['a', 'b'],
  outcome: { clicks: ['a'] },
});

/** The text of an event; JSON.stringify writes -0 as 0, so the -0 is put back by hand. */
const lineOf = (e: unknown) => JSON.stringify(e).replace('"x":0,', '"x":-0,');

test('a regular event is digested and rebuilt exactly: values, key order, -0 among the features', () => {
  const line = lineOf(regular('e1'));
  const { out } = roundTrip([line]);
  assert.equal(typeof out[0], 'object', 'digested, not handed over raw');
  sameValue(out[0], JSON.parse(line));
  assert.ok(Object.is((out[0] as EventRecord).candidates[1]?.features?.['x'], -0));
});

test('what does not fit the regular shape goes over raw, and is then parsed like any line', () => {
  const irregular = [
    '{"id":"e2","t":"2025-01-01T00:00:00Z","user":"u","candidates":[{"features":{"x":1},"item":"a"}],"served":[]}', // key order
    '{"id":"e3","t":"2025-01-01T00:00:00Z","user":"u","candidates":[{"item":"a","features":{"x":"s"}}],"served":[]}', // string feature
    '{"id":"e4","t":"2025-01-01T00:00:00Z","user":"u","candidates":[{"item":"a","pos":1}],"served":[]}', // extra key
    '{"id":"e9","t":"2025-01-01T00:00:00Z","user":"u","candidates":[{"item":"a","features":{"x":1e999}}],"served":[]}', // parses as Infinity
    '{"id":"e10","t":"2025-01-01T00:00:00Z","user":"u","candidates":[{"item":"a","score":-1e999}],"served":[]}',
    '{"id":"e6","t":"2025-01-01T00:00:00Z","user":"u","candidates":[{"item":"a","features":{"__proto__":1}}],"served":[]}',
    '{"id":"e7", broken',
    '[1,2]',
    '{"id":"e8","t":"2025-01-01T00:00:00Z","user":"u","candidates":[{"item":"a","score":"high"}],"served":[]}',
    // Strings with an escape where the scan reads them: the value is not the text.
    '{"id":"e14","t":"2025-01-01T00:00:00Z","user":"u","candidates":[{"item":"a\\u0062"}],"served":[]}',
    '{"id":"e15","t":"2025-01-01T00:00:00Z","user":"u","candid\\u0061tes":[],"candidates":[{"item":"a"}],"served":[]}',
    '{"id":"e16","t":"2025-01-01T00:00:00Z","user":"u","candidates":[{"item":"a","features":{"x\\n":1}}],"served":[]}',
    // JSON.parse keeps the last of repeated keys.
    '{"id":"e17","t":"2025-01-01T00:00:00Z","user":"u","candidates":[{"item":"a"}],"served":["a"],"candidates":[]}',
    '{"id":"e18","t":"2025-01-01T00:00:00Z","user":"u","candidates":[{"item":"a"}],"served":["a"],"served":7}',
    '{"id":"e19","t":"2025-01-01T00:00:00Z","user":"u","candidates":[{"item":"a","features":{"x":1,"x":2}}],"served":[]}',
    // Numbers JSON does not allow, and a control character in a string.
    ...['01', '1.', '.5', '+1', '1e', '-', '1e+', '0x1', 'NaN'].map((x, i) => `{"id":"n${i}","t":"2025-01-01T00:00:00Z","user":"u","candidates":[{"item":"a","score":${x}}],"served":[]}`),
    '{"id":"e20","t":"2025-01-01T00:00:00Z","user":"u","candidates":[{"item":"a\tb"}],"served":[]}',
    // Not one JSON object: trailing text, a missing brace, a trailing comma.
    '{"id":"e21","t":"2025-01-01T00:00:00Z","user":"u","candidates":[],"served":[]} x',
    '{"id":"e22","t":"2025-01-01T00:00:00Z","user":"u","candidates":[{"item":"a"}],"served":[]',
    '{"id":"e23","t":"2025-01-01T00:00:00Z","user":"u","candidates":[{"item":"a"},],"served":[]}',
    '{"id":"e24","t":"2025-01-01T00:00:00Z","user":"u","candidates":[{"item":"a",}],"served":[]}',
    '{"id":"e25","t":"2025-01-01T00:00:00Z","user":"u","candidates":[],"served":[],}',
    // No candidates at all.
    '{"id":"e26","t":"2025-01-01T00:00:00Z","user":"u","served":[]}',
  ];
  const { out } = roundTrip(irregular);
  assert.deepEqual(out, irregular, 'each line handed over as its own bytes');
});

test('values outside the candidates reach the engine thread as written: -0, 1e999, repeated keys, odd whitespace', () => {
  const lines = [
    '{"id":"e5","t":"2025-01-01T00:00:00Z","user":"u","context":{"z":-0},"candidates":[],"served":[]}',
    '{"id":"e11","t":"2025-01-01T00:00:00Z","user":"u","context":{"x":1e999},"candidates":[],"served":[]}',
    '{"id":"e12","t":"2025-01-01T00:00:00Z","user":"u","candidates":[],"served":[],"system":{"queueDepth":-1e999}}',
    '{"id":"e13","t":"2025-01-01T00:00:00Z","user":"u","candidates":[],"served":[],"extra":[1,{"deep":1e999,"s":"]}\\"{["}]}',
    '{"id":"e14","id":"e14b","t":"2025-01-01T00:00:00Z","user":"u","candidates":[{"item":"a"}],"served":["a"],"outcome":{"clicks":["a"],"clicks":[]}}',
    ' \t{ "id" : "e15" ,"t":"2025-01-01T00:00:00Z","user":"u", "served" : [ "b" , "a" ] , "candidates" : [ { "item" : "a" , "features" : { "x" : -0.0e0 , "y" : 12.5E-3 } , "score" : -7 } , {"item":"b","score":1.7976931348623157e308} ] } \r',
    '{"id":"e16","t":"2025-01-01T00:00:00Z","user":"u","candidates":[{"item":"é☃𝄞","features":{"ü":0.1}}],"served":{"not":"a list"}}',
  ];
  const { out } = roundTrip(lines);
  out.forEach((o, i) => {
    assert.equal(typeof o, 'object', `line ${i + 1} digested`);
    sameValue(o, JSON.parse(lines[i] as string), `line ${i + 1}`);
  });
  assert.ok(Object.is((out[0] as EventRecord).context?.['z'], -0));
  assert.equal((out[1] as EventRecord).context?.['x'], Infinity);
});

test('property: numbers read by the scan are the doubles JSON.parse gives, digit for digit', () => {
  const text = fc.oneof(
    fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => String(x)),
    fc.tuple(fc.boolean(), fc.stringMatching(/^(0|[1-9][0-9]{0,24})$/), fc.option(fc.stringMatching(/^[0-9]{1,24}$/)), fc.option(fc.tuple(fc.constantFrom('e', 'E'), fc.constantFrom('', '+', '-'), fc.integer({ min: 0, max: 340 })))).map(
      ([neg, int, frac, exp]) => `${neg ? '-' : ''}${int}${frac === null ? '' : '.' + frac}${exp === null ? '' : exp[0] + exp[1] + exp[2]}`,
    ),
  );
  fc.assert(
    fc.property(fc.array(text, { minLength: 1, maxLength: 6 }), (xs) => {
      const line = `{"id":"e","t":"2025-01-01T00:00:00Z","user":"u","candidates":[{"item":"a","features":{${xs.map((x, i) => `"f${i}":${x}`).join(',')}},"score":${xs[0]}}],"served":[]}`;
      const { out } = roundTrip([line]);
      const expected = JSON.parse(line) as EventRecord;
      // Only a value that is not finite (1e400) goes raw.
      if (typeof out[0] === 'string') assert.ok(xs.some((x) => !Number.isFinite(Number(x))), `raw: ${line}`);
      else sameValue(out[0], expected);
    }),
    { numRuns: 2000 },
  );
});

test('a long exponent with a long fraction is read as JSON.parse reads it (Infinity goes raw), and an empty scratch still grows', () => {
  const line = (x: string) => `{"id":"e","t":"2025-01-01T00:00:00Z","user":"u","candidates":[{"item":"a","score":${x}}],"served":[]}`;
  // 0.000…01e1000000: the fraction's 100,000 places and a cut-short exponent would sum to 0.
  const inf = line(`0.${'0'.repeat(99999)}1e1000000`);
  const fine = line(`0.${'0'.repeat(99999)}1e100005`);
  const { out } = roundTrip([inf, fine]);
  assert.equal(out[0], inf, 'Infinity goes raw');
  sameValue(out[1], JSON.parse(fine));
  const block = Buffer.from(line('1') + '\n');
  const m = digestLines(block, 0, block.length, new Map(), new Map(), 1 << 17, { nums: new Float64Array(0) });
  assert.equal(m.nums[0], 1, 'digested into a scratch that started empty');
});

test('property: a line cut or mangled anywhere comes back as JSON.parse gives it, or raw when JSON.parse refuses it', () => {
  const base = JSON.stringify({ id: 'e1', t: '2025-01-01T00:00:00Z', user: 'u', context: { a: [1, { b: 'x"y' }] }, candidates: [{ item: 'i1', features: { x: 0.5, y: 2 }, score: 0.25 }, { item: 'i2' }], served: ['i1'], outcome: { clicks: [] } });
  fc.assert(
    fc.property(fc.nat(base.length - 1), fc.nat(3), fc.constantFrom('', ' ', ',', '"', '{', '}', '[', ']', ':', '\\', '-', '0', 'e', 'x'), (at, cut, ins) => {
      const line = base.slice(0, at) + ins + base.slice(at + cut);
      let expected: unknown;
      try {
        expected = JSON.parse(line);
      } catch {
        expected = undefined;
      }
      // The line after it must come back whole too (a rest that fails is skipped past exactly).
      const { out } = roundTrip([line, base]);
      if (typeof out[0] === 'string') assert.equal(out[0], line);
      else {
        assert.notEqual(expected, undefined, `digested a line JSON.parse refuses: ${line}`);
        sameValue(out[0], expected);
      }
      assert.equal(out.length, 2);
      sameValue(out[1], JSON.parse(base));
    }),
    { numRuns: 3000 },
  );
});

test('served ids and item ids are interned across pieces: a known id is not sent again', () => {
  const first = roundTrip([lineOf(regular('e1'))]);
  assert.deepEqual(first.m.newStrs, ['a', 'b', 'c']);
  assert.deepEqual(first.m.newKeys, [['x', 'y']]);
  const second = roundTrip([lineOf(regular('e2'))], first.state);
  assert.deepEqual(second.m.newStrs, []);
  assert.deepEqual(second.m.newKeys, []);
  sameValue(second.out[0], JSON.parse(lineOf(regular('e2'))));
  // Rebuilt ids are the interned strings themselves.
  assert.equal((second.out[0] as EventRecord).served[0], first.state.tables.strs[0]);
});

// Arbitrary events, mostly of the regular shape and sometimes not.
const num = fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer(), fc.constant(-0));
const featureValue = fc.oneof({ weight: 8, arbitrary: num }, { weight: 1, arbitrary: fc.string() }, { weight: 1, arbitrary: fc.boolean() }, { weight: 1, arbitrary: fc.constant(null) });
const featureName = fc.oneof(fc.constantFrom('ctr', 'pop', 'age', '__proto__', '0', 'é'), fc.string({ maxLength: 4 }));
const candidate = fc.record(
  { item: fc.oneof(fc.constantFrom('i1', 'i2', 'i3'), fc.string({ maxLength: 6 })), features: fc.dictionary(featureName, featureValue, { maxKeys: 4 }), score: num, extra: fc.integer() },
  { requiredKeys: ['item'] },
);
const event = fc.record({
  id: fc.string({ minLength: 1, maxLength: 5 }),
  t: fc.constant('2025-01-01T00:00:00.000Z'),
  user: fc.string({ maxLength: 4 }),
  context: fc.dictionary(featureName, featureValue, { maxKeys: 3 }),
  candidates: fc.array(candidate, { maxLength: 5 }),
  served: fc.oneof(fc.array(fc.constantFrom('i1', 'i2', 'x'), { maxLength: 4 }), fc.array(fc.oneof(fc.string(), fc.integer()), { maxLength: 2 })),
  system: fc.record({ queueDepth: num }),
});

test('property: every line comes back as JSON.parse would give it (or raw), whatever its shape', () => {
  fc.assert(
    fc.property(fc.array(event, { minLength: 1, maxLength: 8 }), fc.boolean(), fc.boolean(), (events, shuffleKeys, negZeros) => {
      const lines = events.map((e) => {
        // JSON.stringify writes -0 as 0: some zeros become -0 in the text, anywhere in the event.
        let text = JSON.stringify(e);
        if (negZeros) text = text.replace(/":0([,}])/g, '":-0$1');
        // Sometimes the candidate keys come in another order (valid JSON, not the regular shape).
        return shuffleKeys ? text.replace(/\{"item":("(?:[^"\\]|\\.)*"),"features"/, '{"features":{},"item":$1,"f2"') : text;
      });
      const { out } = roundTrip(lines);
      assert.equal(out.length, lines.length);
      out.forEach((o, i) => (typeof o === 'string' ? assert.equal(o, lines[i]) : sameValue(o, JSON.parse(lines[i] as string))));
    }),
    { numRuns: 400 },
  );
});

test('property: the pieces of a block hold each line between its first and last newline exactly once', () => {
  fc.assert(
    fc.property(fc.array(fc.string({ maxLength: 30 }).map((s) => s.replace(/\n/g, '')), { minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 64 }), fc.boolean(), (parts, pieceSize, endsInLine) => {
      const block = Buffer.from(parts.join('\n') + (endsInLine ? '\nunfinished' : '\n'));
      const first = block.indexOf(10) + 1;
      const last = block.lastIndexOf(10);
      const starts: number[] = [];
      for (let k = 0; k < piecesOf(block, pieceSize); k++) {
        for (let s = pieceStart(block, k, pieceSize); s < pieceStart(block, k + 1, pieceSize); s = block.indexOf(10, s) + 1) starts.push(s);
      }
      const expected: number[] = [];
      for (let s = first; s <= last && s > 0; s = block.indexOf(10, s) + 1) if (s <= last) expected.push(s);
      assert.deepEqual(starts, expected.filter((s) => s <= last));
    }),
    { numRuns: 300 },
  );
});

/** Runs fn with the reader thread starting at once and small pieces, so both threads take some. */
function withSmallPieces<T>(pieceSize: number, fn: () => T): T {
  const [was, wasAfter] = [EventCursor.pieceSize, Slice.prefetchAfterBlocks];
  EventCursor.pieceSize = pieceSize;
  Slice.prefetchAfterBlocks = 1;
  try {
    return fn();
  } finally {
    EventCursor.pieceSize = was;
    Slice.prefetchAfterBlocks = wasAfter;
  }
}

test('reads shared between the threads give the events a read on one thread gives, irregular lines included', () => {
  const f = fixture(300, { seed: 7 });
  // A few events the reader thread hands back raw: string features, extra candidate keys.
  f.events[40] = { ...(f.events[40] as EventRecord), candidates: [{ item: 'i1', features: { tag: 'x' } }] };
  f.events[41] = { ...(f.events[41] as EventRecord), candidates: [{ item: 'i2', rank: 3 } as never] };
  const dir = join(tmp(), 'mixed.slice');
  writeSlice(dir, { manifest: JSON.parse(JSON.stringify(Slice.open(makeSlice(1)).manifest)), ...f }, { frozenAt: '2025-01-02T00:00:00.000Z', chunkSize: 4096 });
  const plain = (() => {
    const was = Slice.prefetchAfterBlocks;
    Slice.prefetchAfterBlocks = Infinity;
    try {
      const s = Slice.open(dir);
      const all = [...s.events()];
      s.close();
      return all;
    } finally {
      Slice.prefetchAfterBlocks = was;
    }
  })();
  assert.equal(plain.length, 300);
  for (const pieceSize of [64, 700, 1 << 20]) {
    withSmallPieces(pieceSize, () => {
      const s = Slice.open(dir);
      const started = Slice.prefetchesStarted;
      const all = [...s.events()];
      assert.ok(Slice.prefetchesStarted > started, 'the reader thread ran');
      assert.equal(all.length, plain.length);
      all.forEach((e, i) => sameValue(e, plain[i], `event ${i + 1} (pieces of ${pieceSize} bytes)`));
      for (const [from, to] of [[5, 250], [123, 124], [280, 300]] as const) {
        const part = [...s.events(from, to)];
        assert.equal(part.length, to - from + 1);
        part.forEach((e, i) => sameValue(e, plain[from - 1 + i]));
      }
      s.close();
    });
  }
});

test('past the cap on interned ids, an event with a new id goes over raw (and known ids still digest)', () => {
  const strIndex = new Map<string, number>();
  const keyIndex = new Map<string, number>();
  const lines = ['{"id":"e1","t":"2025-01-01T00:00:00Z","user":"u","candidates":[{"item":"a"}],"served":["a"]}', '{"id":"e2","t":"2025-01-01T00:00:00Z","user":"u","candidates":[{"item":"a"},{"item":"b"}],"served":[]}', '{"id":"e3","t":"2025-01-01T00:00:00Z","user":"u","candidates":[{"item":"a"}],"served":[]}'];
  const block = Buffer.from(lines.join('\n') + '\n');
  const m = digestLines(block, 0, block.length, strIndex, keyIndex, 1, { nums: new Float64Array(2) });
  assert.deepEqual(m.newStrs, ['a']);
  const r = new DigestReader();
  r.load(m.nums, m.text, { strs: m.newStrs, keys: m.newKeys });
  const kinds = [r.next(), r.next(), r.next()].map((e) => (e === 'raw' ? 'raw' : (e as EventRecord).id));
  assert.deepEqual(kinds, ['e1', 'raw', 'e3']);
});

test('past 4,096 distinct lists of feature names, a new list goes over raw', () => {
  const keyIndex = new Map<string, number>();
  for (let i = 0; i < 4096; i++) keyIndex.set(`k${i}`, i);
  const line = '{"id":"e1","t":"2025-01-01T00:00:00Z","user":"u","candidates":[{"item":"a","features":{"brand-new":1}}],"served":[]}';
  const block = Buffer.from(line + '\n');
  const m = digestLines(block, 0, block.length, new Map(), keyIndex, 1 << 17, { nums: new Float64Array(8) });
  assert.deepEqual(Array.from(m.nums), [0, 0, line.length]);
});

test('feature-name lists that would join to the same text stay apart ([] and [""], ["a,b"] and ["a", "b"])', () => {
  const cands = [{ item: 'a', features: {} }, { item: 'b', features: { '': 1 } }, { item: 'c', features: { 'a,b': 2 } }, { item: 'd', features: { a: 4, b: 5 } }];
  const line = JSON.stringify({ id: 'e1', t: '2025-01-01T00:00:00Z', user: 'u', candidates: cands, served: [] });
  const { out, m } = roundTrip([line]);
  assert.equal(m.newKeys.length, 4);
  sameValue(out[0], JSON.parse(line));
});
