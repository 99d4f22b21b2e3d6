// Reading an event's session without parsing its line: JSON.parse's answer for every well-formed line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { sessionOfLine } from '../../src/core/slice/sessionField';

/** What grouping by session reads from a line when it parses it whole. */
function byParse(text: string): string | undefined {
  try {
    const v: unknown = JSON.parse(text);
    const s = typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as { session?: unknown }).session : undefined;
    return typeof s === 'string' ? s : undefined;
  } catch {
    return undefined;
  }
}

/** JSON text of `v` with whitespace (spaces, tabs, \r) between its tokens as JSON allows, chosen by `ws`. */
function spaced(v: unknown, ws: number[]): string {
  let k = 0;
  const pad = () => [' ', '', '\t', '  ', '\r', ''][(ws[k++ % Math.max(1, ws.length)] ?? 0) % 6] as string;
  const out = (x: unknown): string => {
    if (Array.isArray(x)) return `[${pad()}${x.map((e) => out(e)).join(`${pad()},${pad()}`)}${pad()}]`;
    if (typeof x === 'object' && x !== null) return `{${pad()}${Object.entries(x).map(([key, e]) => `${JSON.stringify(key)}${pad()}:${pad()}${out(e)}`).join(`${pad()},${pad()}`)}${pad()}}`;
    return JSON.stringify(x);
  };
  return out(v);
}

const text = fc.oneof(fc.string(), fc.constantFrom('s0', 'session', '"session"', 'a"b', 'a\\b', '}', '{[', 'é', '\u2028', '\ud83d\ude00', ''));
const value = fc.letrec((tie) => ({
  v: fc.oneof({ depthSize: 'small' }, text, fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer(), fc.boolean(), fc.constant(null), fc.array(tie('v'), { maxLength: 4 }), fc.dictionary(fc.oneof(text, fc.constant('session')), tie('v'), { maxKeys: 4 })),
})).v;

test('the session of any well-formed line is what JSON.parse reads: keys in any order, nested "session" keys, escapes, whitespace', () => {
  fc.assert(
    fc.property(
      fc.dictionary(fc.oneof(fc.constantFrom('id', 't', 'user', 'candidates', 'context', 'served'), text), value, { maxKeys: 6 }),
      fc.option(fc.oneof(text, value)),
      fc.nat(7),
      fc.array(fc.nat(), { maxLength: 20 }),
      (fields, session, at, ws) => {
        const entries = Object.entries(fields);
        if (session !== null) entries.splice(at % (entries.length + 1), 0, ['session', session]);
        // A second "session" later in the line (Object.fromEntries would keep one: written out by hand below).
        const repeated = session !== null && at % 3 === 0 ? `,"sess\\u0069on":${JSON.stringify(at)}` : '';
        const obj = Object.fromEntries(entries);
        // Keys written with escapes as well (JSON.stringify never escapes a letter): "session" repeated as "sess\u0069on".
        const escaped = JSON.stringify(obj).replace(/"session"(?=:)/g, (m, at: number) => (at % 2 ? '"sess\\u0069on"' : m));
        const withRepeat = repeated ? `${JSON.stringify(obj).slice(0, -1)}${Object.keys(obj).length ? '' : '"k":1'}${repeated}}` : JSON.stringify(obj);
        for (const line of [JSON.stringify(obj), spaced(obj, ws), escaped, withRepeat]) assert.equal(sessionOfLine(line), byParse(line), line);
      },
    ),
    { numRuns: 2000 },
  );
});

test('lines where a scan could differ from JSON.parse are parsed: repeated keys, escaped keys and values, other types, not an object', () => {
  const cases = [
    '{"id":"e1","session":"a","session":"b"}',
    '{"id":"e1","session":"a","context":{"session":"c"}}',
    '{"id":"e1","sess\\u0069on":"k"}',
    '{"session":"a","sess\\u0069on":"b"}',
    '{"session":"a","\\u0073ession":null}',
    '{"session":"a","x":"\\n"}',
    '{"id":"e1","session":"caf\\u00e9 \\"x\\""}',
    '{"id":"e1","session":42}',
    '{"id":"e1","session":null}',
    '{"id":"e1","session":{"id":"s"}}',
    '["session","s"]',
    '"session"',
    '  {"session" : "spaced" }  ',
    '{}',
    '{"a":[{"b":"]}"},{"c":"\\\\"}],"session":"after brackets in strings"}',
    '{"a":-1.5e3,"b":true,"c":null,"session":"after literals"}',
  ];
  for (const line of cases) assert.equal(sessionOfLine(line), byParse(line), line);
  assert.equal(sessionOfLine('{"id":"e1","session":"a","session":"b"}'), 'b', 'the last of repeated keys, as JSON.parse');
  assert.equal(sessionOfLine('{"id":"e1","sess\\u0069on":"k"}'), 'k');
});

test('a malformed line gives the session it names before it breaks, or none; never an exception', () => {
  assert.equal(sessionOfLine('{"id":"e1","session":"s7","candidates":[{"item":'), 's7');
  for (const line of ['', '{', '{"session"', '{"session":', '{"session":"open', '{"id":"e1",,"session":"x"}', '{"id" "e1"}', 'NaN', '{"x":[1,2}', '\u0000']) {
    assert.doesNotThrow(() => sessionOfLine(line), line);
  }
  fc.assert(fc.property(fc.string(), (s) => void sessionOfLine(s)));
});
