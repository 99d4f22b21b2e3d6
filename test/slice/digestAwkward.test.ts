import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { digestLines, type DigestTables } from '../../src/core/slice/digest';
import { DigestReader } from '../../src/core/slice/digestReader';
import type { EventRecord } from '../../src/core/slice/types';

/**
 * The reader thread's digest against JSON.parse on awkward but valid JSON text, written token by
 * token (JSON.stringify never writes escapes it need not, whitespace, duplicate keys, 1E+5 or -0).
 */

/** Digests the lines as one piece and rebuilds them on "the engine thread": events, or the raw line. */
function roundTrip(lines: string[], state: { strIndex: Map<string, number>; keyIndex: Map<string, number>; tables: DigestTables }): (EventRecord | string)[] {
  const block = Buffer.from(lines.map((l) => l + '\n').join(''));
  const m = digestLines(block, 0, block.length, state.strIndex, state.keyIndex, 1 << 17, { nums: new Float64Array(16) });
  // The real hand-over: ids as JSON text, text through UTF-8 bytes.
  for (const x of JSON.parse(JSON.stringify(m.newStrs)) as string[]) state.tables.strs.push(x);
  for (const k of m.newKeys) state.tables.keys.push(k);
  const r = new DigestReader();
  r.load(m.nums.slice(), Buffer.from(m.text, 'utf8').toString('utf8'), state.tables);
  const out: (EventRecord | string)[] = [];
  for (let e = r.next(); e !== undefined; e = r.next()) out.push(e === 'raw' ? block.toString('utf8', r.rawStart, r.rawEnd) : e);
  return out;
}

/** Deep equality that also compares key order, prototypes and tells -0 from 0. */
function sameValue(a: unknown, b: unknown, path = '$'): void {
  if (typeof a !== 'object' || a === null) {
    assert.ok(Object.is(a, b), `${path}: ${String(a)} vs ${String(b)}`);
    return;
  }
  assert.equal(typeof b, 'object', path);
  assert.equal(Array.isArray(a), Array.isArray(b), path);
  assert.deepEqual(Object.keys(a), Object.keys(b as object), `${path}: key order`);
  assert.equal(Object.getPrototypeOf(a), Object.getPrototypeOf(b), `${path}: prototype`);
  for (const k of Object.keys(a)) sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
}

const ws = fc.constantFrom('', '', '', ' ', '\t', '\r', ' \t\r ');

// The text of a string: plain characters, escapes of every kind, raw characters past ASCII.
const strPart = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('a', 'i1', 'i2', 'ctr', 'x', '0', '1', '42', 'é', '𝄞', '☃', '\u2028', '\u00a0', '\ufeff', 'constructor', '__proto__', 'toString', 'candidates', 'served', 'item', 'features', 'score') },
  { weight: 1, arbitrary: fc.constantFrom('\\"', '\\\\', '\\/', '\\b', '\\f', '\\n', '\\r', '\\t', '\\u0000', '\\u0041', '\\u00e9', '\\ud83d\\ude00', '\\ud800', '\\udc00', '\\uDBFF\\uDFFF', '\\u2028', '\\uFEFF') },
  { weight: 1, arbitrary: fc.string({ maxLength: 3, unit: 'grapheme' }).map((s) => JSON.stringify(s).slice(1, -1)) },
);
const str = fc.array(strPart, { maxLength: 3 }).map((p) => `"${p.join('')}"`);

// Numbers as JSON text: edges of the double range, long mantissas, integers past 2^53, signed exponents.
const numText = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '0', '-0', '-0.0', '-0e0', '0E+0', '1e308', '1.7976931348623157e308', '1e-320', '5e-324', '4.9e-324', '2e-324', '2.2250738585072014e-308',
      '0.30000000000000004', '0.1', '0.2', '9007199254740993', '9007199254740992', '18446744073709551616', '123456789012345678901234567890',
      '1E+5', '1e+0', '2.5E-3', '1e22', '1e23', '1e-22', '1e-23', '900719925474099.1', '0.000000000000000000000001', '1.000000000000000000000001',
      '-1e999', '1e999', '1e400', '100000000000000000000000000000000000000e-30',
    ),
  },
  { weight: 3, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => (Object.is(x, -0) ? '-0' : String(x))) },
  { weight: 1, arbitrary: fc.tuple(fc.bigInt({ min: -(10n ** 25n), max: 10n ** 25n }), fc.integer({ min: -340, max: 280 }), fc.constantFrom('e', 'E', 'e+', 'E-')).map(([m, e, k]) => `${m}${k}${k.endsWith('-') ? Math.abs(e) : e}`) },
);

// Any JSON value (for the parts the scan only delimits), nested a few levels.
const { value: anyValue } = fc.letrec<{ value: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    str,
    numText,
    fc.constantFrom('true', 'false', 'null'),
    fc.array(fc.tuple(ws, tie('value'), ws), { maxLength: 3 }).map((xs) => `[${xs.map(([a, v, b]) => a + v + b).join(',')}]`),
    fc.array(fc.tuple(str, ws, tie('value')), { maxLength: 3 }).map((xs) => `{${xs.map(([k, w, v]) => `${k}${w}:${w}${v}`).join(',')}}`),
  ),
}));

/** An object's text from its members, with whitespace around every token. */
const objectOf = (members: fc.Arbitrary<[string, string][]>) =>
  fc.tuple(members, fc.array(ws, { minLength: 64, maxLength: 64 })).map(([ms, w]) => {
    const at = (i: number) => w[i % w.length] as string;
    return `{${at(0)}${ms.map(([k, v], i) => `${k}${at(i + 1)}:${at(i + 2)}${v}${at(i + 3)}`).join(',' + at(5))}}`;
  });

const featureValue = fc.oneof({ weight: 30, arbitrary: numText }, { weight: 1, arbitrary: fc.constantFrom('null', 'true', '"s"') });
const featureKey = fc.oneof({ weight: 1, arbitrary: fc.constant('"__proto__"') }, { weight: 12, arbitrary: fc.constantFrom('"ctr"', '"pop"', '"age"', '"1"', '"0"', '"10"', '"constructor"', '"toString"', '"a b"', '"é"') }, { weight: 1, arbitrary: str });
const featureMap = fc.oneof(
  { weight: 12, arbitrary: objectOf(fc.uniqueArray(fc.tuple(featureKey, featureValue), { maxLength: 5, selector: ([k]) => k })) },
  // Repeated names (JSON.parse keeps the last value, in the first place).
  { weight: 1, arbitrary: objectOf(fc.array(fc.tuple(featureKey, featureValue), { maxLength: 5 })) },
  { weight: 1, arbitrary: fc.constant('{}') },
  // 500 keys, numbers, sometimes one repeated (JSON.parse keeps the last value, in the first place).
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 0, max: 1 }), fc.integer({ min: 0, max: 499 })).map(([dup, at]) => `{${Array.from({ length: 500 }, (_, i) => `"f${dup && i === at ? 0 : i}":${i / 7}`).join(',')}}`) },
);

const itemId = fc.oneof({ weight: 12, arbitrary: fc.constantFrom('"i1"', '"i2"', '"i3"', '"item_000000000123"', '"__proto__"', '"constructor"') }, { weight: 1, arbitrary: str });
const candidate = fc.oneof(
  // The regular shape, in the order the scan reads: item, features?, score?
  { weight: 20, arbitrary: fc.tuple(itemId, fc.option(featureMap), fc.option(numText)).chain(([id, f, s]) => objectOf(fc.constant([['"item"', id], ...(f === null ? [] : [['"features"', f]]), ...(s === null ? [] : [['"score"', s]])] as [string, string][]))) },
  // Other orders, extra and repeated keys, scores that are not numbers.
  {
    weight: 1,
    arbitrary: objectOf(
      fc.shuffledSubarray([['"item"', '"i1"'], ['"features"', '{"x":1}'], ['"score"', '0.5'], ['"item"', '"i2"'], ['"rank"', '3'], ['"score"', 'null'], ['"features"', '{"x":1,"x":2}']] as [string, string][], { minLength: 1 }),
    ),
  },
);
const arrayOf = (xs: fc.Arbitrary<string[]>) => fc.tuple(xs, ws).map(([a, w]) => `[${w}${a.join(`${w},${w}`)}${w}]`);
const candidates = fc.oneof({ weight: 1, arbitrary: fc.constant('[]') }, { weight: 6, arbitrary: arrayOf(fc.array(candidate, { maxLength: 6 })) });
const served = fc.oneof(arrayOf(fc.constant([])), arrayOf(fc.array(itemId, { maxLength: 4 })), arrayOf(fc.array(str, { maxLength: 2 })), anyValue);

const member = (k: string, v: fc.Arbitrary<string>) => v.map((x) => [k, x] as [string, string]);
const event = fc
  .tuple(
    fc.constantFrom('"e1"', '"e\\u0032"', '"e\\"3\\\\"', '"\\ud800"'),
    fc.constantFrom('"2025-01-01T00:00:00Z"', '"2025-01-01T00:00:00.000+02:00"'),
    str,
    candidates,
    served,
    fc.array(fc.oneof(member('"context"', anyValue), member('"__proto__"', anyValue), member('"constructor"', anyValue), member('"id"', str), member('"x"', anyValue), member('"cand\\u0069dates"', candidates), member('"served"', served), member('"candidates"', candidates), member('"features"', featureMap)), { maxLength: 2 }),
    fc.nat(),
  )
  .chain(([id, t, user, cands, srv, extra, seed]) => {
    const ms: [string, string][] = [['"id"', id], ['"t"', t], ['"user"', user], ['"candidates"', cands], ['"served"', srv]];
    // Extra members anywhere, repeated keys included.
    extra.forEach((m, i) => ms.splice((seed >> i) % (ms.length + 1), 0, m));
    return objectOf(fc.constant(ms));
  })
  .chain((text) => fc.tuple(ws, ws).map(([a, b]) => a + text + b));

test('property: awkward JSON text (escapes, surrogates, -0, huge and tiny numbers, repeated keys, __proto__, whitespace) comes back as JSON.parse gives it', () => {
  let digested = 0;
  let lines = 0;
  fc.assert(
    fc.property(fc.array(event, { minLength: 1, maxLength: 6 }), (evs) => {
      // The tables carry over between the pieces of one run, as on the reader thread.
      const state = { strIndex: new Map<string, number>(), keyIndex: new Map<string, number>(), tables: { strs: [], keys: [] } as DigestTables };
      const out = [...roundTrip(evs.slice(0, 3), state), ...roundTrip(evs.slice(3), state)];
      assert.equal(out.length, evs.length);
      out.forEach((o, i) => {
        const line = evs[i] as string;
        lines++;
        let expected: unknown;
        try {
          expected = JSON.parse(line);
        } catch {
          expected = undefined;
        }
        if (typeof o === 'string') assert.equal(o, line, 'a raw line is handed over as its own text');
        else {
          digested++;
          assert.notEqual(expected, undefined, `digested a line JSON.parse refuses: ${line}`);
          sameValue(o, expected, `line ${JSON.stringify(line)}`);
        }
      });
    }),
    { numRuns: 1500, seed: 20250721 },
  );
  // The property means something only if most lines take the digest path.
  assert.ok(digested > lines / 4, `only ${digested} of ${lines} lines were digested`);
});
