import { METRIC_FIELDS } from '../../core/engine/traceFormat';
import type { TraceLine } from './traceMetrics';

// Opening the timeline of a million-event trace spent 15 of its 22 s in JSON.parse of every line
// (~1 KB each, most of it the scores and item lists the timeline never reads). A line as the trace
// writer formats it (traceFormat.ts, formatEvents) is matched instead by one anchored regular
// expression that checks the whole line against JSON's grammar, in the writer's key order, and
// captures only what the timeline reads. A line it does not match (hand-edited, another writer's,
// a damaged one, ids with escapes or non-ASCII characters) is left to JSON.parse, as before.

/** A JSON number (RFC 8259). */
const NUM = String.raw`-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?`;
/**
 * Any JSON string. Matched on the line's bytes read as Latin-1, one character a byte: a byte of a
 * multi-byte (or invalid) UTF-8 sequence is never `"`, `\` or a control character, so a string
 * matches here exactly when it is a valid JSON string once the line is decoded as UTF-8.
 */
const STR = String.raw`"(?:[^"\\\x00-\x1f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"`;
/** A string the timeline reads: printable ASCII without `"` or `\`, so its text is its value (any other goes to JSON.parse). */
const PLAIN = String.raw`"[ !#-\[\]-~]*"`;
/** The names of the capturing groups, in the order they open in LINE: group i + 1 is GROUPS[i] (numbered groups: a named one's "groups" object cost more than the match). */
const GROUPS: string[] = [];
/** A capturing group named `name` (see GROUPS). */
const cap = (name: string, re: string) => (GROUPS.push(name), `(${re})`);
/** A number, null or plain string, captured (the writer writes a figure that is not finite as a string, "NaN"). */
const value = (name: string) => cap(name, `${NUM}|null|${PLAIN}`);
/** A list skipped: its items are checked, not kept. */
const list = (item: string) => String.raw`\[(?:${item}(?:,${item})*)?\]`;
/** A list of plain strings, its inside captured. */
const plainList = (name: string) => String.raw`\[${cap(name, `(?:${PLAIN}(?:,${PLAIN})*)?`)}\]`;
const ANY = `(?:${NUM}|null|${STR})`;

export const LINE = new RegExp(
  [
    String.raw`^\{"n":${cap('n', String.raw`[1-9]\d{0,15}`)},"id":${cap('id', PLAIN)},"stages":\{`,
    String.raw`"retrieve":\{"ms":${value('retrieve')},"kept":${ANY},"dropped":${list(STR)}\},`,
    String.raw`"features":\{"ms":${value('features')},"stale":${list(STR)}\},`,
    String.raw`"score":\{"ms":${value('score')},"scores":${list(ANY)}\},`,
    String.raw`"rerank":\{"ms":${value('rerank')}(?:,"top":${list(STR)})?\},`,
    String.raw`"serve":\{"ms":${value('serve')},"served":${plainList('served')},"fallback":${cap('fallback', 'true|false')}\},`,
    String.raw`"outcome":\{"ms":${value('outcome')},"clicks":${list(STR)},"source":${STR}\}\},`,
    // recreplay.trace/2 on: the figures the event recorded, each only when it did.
    String.raw`(?:${cap('system', '"system":')}\{(?:"queueDepth":${value('queue')}(?:,"cache":\{"hits":${value('hits')},"misses":${value('misses')}\})?|"cache":\{"hits":${value('hits2')},"misses":${value('misses2')}\})?\},)?`,
    String.raw`"metrics":(?:${cap('noMetrics', 'null')}|\{${METRIC_FIELDS.map((f, i) => `${i ? ',' : ''}"${f}":${value(`m${i}`)}`).join('')}\}),`,
    String.raw`"faults":${plainList('faults')}\}$`,
  ].join(''),
);

const at = (name: string): number => GROUPS.indexOf(name) + 1;
const [RETRIEVE, FEATURES, SCORE, RERANK, SERVE, OUTCOME] = ['retrieve', 'features', 'score', 'rerank', 'serve', 'outcome'].map(at) as [number, number, number, number, number, number];
const METRIC_AT = METRIC_FIELDS.map((_, i) => at(`m${i}`));
const [N, ID, SERVED, FALLBACK, SYSTEM, QUEUE, HITS, MISSES, HITS2, MISSES2, NO_METRICS, FAULTS] = ['n', 'id', 'served', 'fallback', 'system', 'queue', 'hits', 'misses', 'hits2', 'misses2', 'noMetrics', 'faults'].map(at) as number[] as [number, number, number, number, number, number, number, number, number, number, number, number];

/** 10^0 … 10^22: the powers of ten a double holds exactly. */
const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);

/**
 * The value of a captured number, null or plain string, as JSON.parse gives it. A number without
 * an exponent whose digits make an integer M below 2^53 (a sum past it stays at or past it), with f ≤ 22 digits after the point, is
 * M / 10^f: two exact doubles, one correctly rounded division — the double nearest the decimal,
 * as JSON.parse gives it ("fast path" of Clinger's algorithm). Others (and Number() took a call
 * into the runtime for each of ~20 figures a line) go to Number().
 */
function valueOf(text: string | undefined): number | string | null | undefined {
  if (text === undefined) return undefined;
  const c0 = text.charCodeAt(0);
  if (c0 === 110) return null;
  if (c0 === 34) return text.slice(1, -1);
  let i = c0 === 45 ? 1 : 0;
  let m = 0;
  let point = -1;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) m = m * 10 + (c - 48);
    else if (c === 46) point = i;
    else return Number(text);
  }
  const f = point < 0 ? 0 : text.length - 1 - point;
  if (m >= 2 ** 53 || f > 22) return Number(text);
  const v = f === 0 ? m : m / (POW10[f] as number);
  return c0 === 45 ? -v : v;
}

/** The strings of a captured list of plain strings (its inside, between the brackets). */
function stringsOf(inside: string): string[] {
  return inside === '' ? [] : inside.slice(1, -1).split('","');
}

/**
 * The fields the timeline reads of one trace line (its bytes, without the newline), as
 * `JSON.parse(bytes.toString('utf8'))` gives them — or undefined when the line is not in the shape
 * the trace writer gives it: then parse it (which also says what is wrong with it, if anything).
 * A line matched is valid JSON, and of the shape the timeline reads (see traceLineProblem).
 */
export function scanTraceLine(bytes: Buffer): TraceLine | undefined {
  const m = LINE.exec(bytes.toString('latin1'));
  if (m === null) return undefined;
  const stages: TraceLine['stages'] = {
    retrieve: { ms: valueOf(m[RETRIEVE]) as number },
    features: { ms: valueOf(m[FEATURES]) as number },
    score: { ms: valueOf(m[SCORE]) as number },
    rerank: { ms: valueOf(m[RERANK]) as number },
    serve: { ms: valueOf(m[SERVE]) as number, served: stringsOf(m[SERVED] as string), fallback: m[FALLBACK] === 'true' },
    outcome: { ms: valueOf(m[OUTCOME]) as number },
  };
  let metrics: Record<string, number | null> | null = null;
  if (m[NO_METRICS] === undefined) {
    metrics = {};
    for (let i = 0; i < METRIC_FIELDS.length; i++) metrics[METRIC_FIELDS[i] as string] = valueOf(m[METRIC_AT[i] as number]) as number | null;
  }
  const line: TraceLine = { n: Number(m[N]), id: (m[ID] as string).slice(1, -1), stages, metrics, faults: stringsOf(m[FAULTS] as string) };
  if (m[SYSTEM] !== undefined) {
    const system: Record<string, unknown> = {};
    if (m[QUEUE] !== undefined) system['queueDepth'] = valueOf(m[QUEUE]);
    const hits = m[HITS] ?? m[HITS2];
    if (hits !== undefined) system['cache'] = { hits: valueOf(hits), misses: valueOf(m[MISSES] ?? m[MISSES2]) };
    line.system = system as TraceLine['system'];
  }
  return line;
}
