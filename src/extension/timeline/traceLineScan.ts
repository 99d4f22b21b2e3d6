import { METRIC_FIELDS } from '../../core/engine/traceFormat';
import type { CatalogSlots, ServedSlots, TraceLine } from './traceMetrics';

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

// The line up to its served list is captured too (a view of the text, not a copy): its length says where the list starts.
GROUPS.push('head');
const LINE = new RegExp(
  [
    String.raw`(\{"n":${cap('n', String.raw`[1-9]\d{0,15}`)},"id":${cap('id', PLAIN)},"stages":\{`,
    String.raw`"retrieve":\{"ms":${value('retrieve')},"kept":${ANY},"dropped":${list(STR)}\},`,
    String.raw`"features":\{"ms":${value('features')},"stale":${list(STR)}\},`,
    String.raw`"score":\{"ms":${value('score')},"scores":${list(ANY)}\},`,
    String.raw`"rerank":\{"ms":${value('rerank')}(?:,"top":${list(STR)})?\},`,
    String.raw`"serve":\{"ms":${value('serve')},"served":\[)${cap('served', `(?:${PLAIN}(?:,${PLAIN})*)?`)}\],"fallback":${cap('fallback', 'true|false')}\},`,
    String.raw`"outcome":\{"ms":${value('outcome')},"clicks":${list(STR)},"source":${STR}\}\},`,
    // recreplay.trace/2 on: the figures the event recorded, each only when it did.
    String.raw`(?:${cap('system', '"system":')}\{(?:"queueDepth":${value('queue')}(?:,"cache":\{"hits":${value('hits')},"misses":${value('misses')}\})?|"cache":\{"hits":${value('hits2')},"misses":${value('misses2')}\})?\},)?`,
    String.raw`"metrics":(?:${cap('noMetrics', 'null')}|\{${METRIC_FIELDS.map((f, i) => `${i ? ',' : ''}"${f}":${value(`m${i}`)}`).join('')}\}),`,
    // A line ends at its newline, or where the text does.
    String.raw`"faults":${plainList('faults')}\}(?=\n|$)`,
  ].join(''),
  // Sticky: matched where a line starts in a chunk's text, never searched for further on.
  'y',
);

const at = (name: string): number => GROUPS.indexOf(name) + 1;
const [RETRIEVE, FEATURES, SCORE, RERANK, SERVE, OUTCOME] = ['retrieve', 'features', 'score', 'rerank', 'serve', 'outcome'].map(at) as [number, number, number, number, number, number];
const M = at('m0');
/** A line's metrics, keys in METRIC_FIELDS order (written out: an object filled key by key in a loop cost more than the match). */
const metricsOf = (m: RegExpExecArray): Record<string, number | null> =>
  ({
    index: valueOf(m[M]),
    hit: valueOf(m[M + 1]),
    rr: valueOf(m[M + 2]),
    ndcg: valueOf(m[M + 3]),
    ild: valueOf(m[M + 4]),
    novelty: valueOf(m[M + 5]),
    overlap: valueOf(m[M + 6]),
    kendallTau: valueOf(m[M + 7]),
    fallback: valueOf(m[M + 8]),
    clicks: valueOf(m[M + 9]),
    impressions: valueOf(m[M + 10]),
    latencyTotalMs: valueOf(m[M + 11]),
  }) as Record<string, number | null>;
// The line matched holds the metrics in METRIC_FIELDS' order; the object above must hold the same.
const METRIC_KEYS_AGREE = Object.keys(metricsOf([] as unknown as RegExpExecArray)).join() === METRIC_FIELDS.join();
const HEAD = at('head');
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
export function stringsOf(inside: string): string[] {
  return inside === '' ? [] : inside.slice(1, -1).split('","');
}

/**
 * The fault kinds of a captured faults list, as strings of their own: the reader keeps the first of
 * each kind as a key of its counts, and a piece cut out of a chunk's text (as split cuts one of 13
 * characters or more) would keep the whole 1 MiB chunk alive with it.
 */
function faultsOf(inside: string): string[] {
  return inside === '' ? [] : (JSON.parse(`[${inside}]`) as string[]);
}

/** A scanned trace line: its served list is left as the text inside its brackets (see ServedSlotReader). */
export interface ScannedLine extends TraceLine {
  /** The inside of the served list: plain strings, comma-separated (stringsOf gives them). */
  servedText: string;
  /** Where servedText starts in the text (the bytes) the line was scanned in. */
  servedAt: number;
}

/**
 * The fields the timeline reads of one trace line (its bytes, without the newline), as
 * `JSON.parse(bytes.toString('utf8'))` gives them — or undefined when the line is not in the shape
 * the trace writer gives it: then parse it (which also says what is wrong with it, if anything).
 * A line matched is valid JSON, and of the shape the timeline reads (see traceLineProblem).
 */
export function scanTraceLine(bytes: Buffer): ScannedLine | undefined {
  const text = bytes.toString('latin1');
  return scanLineAt(text, 0, text.length);
}

/**
 * scanTraceLine of the line from `from` to `to` (its newline, or the end) of `text`: bytes read as
 * Latin-1 (Buffer#toString('latin1')), one character a byte, as a chunk of a trace is read whole.
 */
export function scanLineAt(text: string, from: number, to: number): ScannedLine | undefined {
  if (!METRIC_KEYS_AGREE) return undefined;
  LINE.lastIndex = from;
  const m = LINE.exec(text);
  if (m === null || LINE.lastIndex !== to) return undefined;
  const stages: TraceLine['stages'] = {
    retrieve: { ms: valueOf(m[RETRIEVE]) as number },
    features: { ms: valueOf(m[FEATURES]) as number },
    score: { ms: valueOf(m[SCORE]) as number },
    rerank: { ms: valueOf(m[RERANK]) as number },
    serve: { ms: valueOf(m[SERVE]) as number, fallback: m[FALLBACK] === 'true' },
    outcome: { ms: valueOf(m[OUTCOME]) as number },
  };
  const line: ScannedLine = { n: Number(m[N]), id: (m[ID] as string).slice(1, -1), stages, metrics: m[NO_METRICS] === undefined ? metricsOf(m) : null, faults: faultsOf(m[FAULTS] as string), servedText: m[SERVED] as string, servedAt: from + (m[HEAD] as string).length };
  if (m[SYSTEM] !== undefined) {
    const system: Record<string, unknown> = {};
    if (m[QUEUE] !== undefined) system['queueDepth'] = valueOf(m[QUEUE]);
    const hits = m[HITS] ?? m[HITS2];
    if (hits !== undefined) system['cache'] = { hits: valueOf(hits), misses: valueOf(m[MISSES] ?? m[MISSES2]) };
    line.system = system as TraceLine['system'];
  }
  return line;
}

/**
 * The catalogue slots of a scanned line's served items: an id met before is found by its
 * characters in the line's text — no string is made of it (making one string per served id and
 * looking it up took 2.5 s of a million-line trace). Unknown ids are remembered too (slot -1); the
 * table holds up to maxIds ids, then starts again.
 */
export class ServedSlotReader {
  /** The most ids remembered at a time (tests lower it). */
  static maxIds = 1 << 20;
  private keys: (string | undefined)[] = new Array<string | undefined>(1024);
  private hashes = new Int32Array(1024);
  private vals = new Int32Array(1024);
  private used = 0;
  /** The slots of the first k items of the last list read. */
  readonly out: ServedSlots;

  constructor(
    private readonly catalog: CatalogSlots | undefined,
    private readonly k: number,
  ) {
    // Grown as lists need it: a header's k is any whole number (one of 10^9 was 4 GB at once).
    this.out = { count: 0, slots: new Int32Array(Math.min(k, 64)) };
  }

  /**
   * Reads a served list's inside (a ScannedLine's servedText, from its servedAt in the line's bytes
   * to `end`) into `out`: its item count, and (with a catalogue) the slots of its first k items.
   */
  read(bytes: Uint8Array, start: number, end: number): ServedSlots {
    const out = this.out;
    const resolve = this.catalog !== undefined;
    // One pass over the bytes (an indexOf per item, or a string's characters, cost more): plain
    // strings hold no '"', so every second '"' ends an item; the first k are hashed on the way.
    let count = 0;
    let from = -1;
    let h = 0;
    for (let i = start; i < end; i++) {
      const c = bytes[i] as number;
      if (c === 34) {
        if (from < 0) {
          from = i + 1;
          h = 0x811c9dc5 | 0;
        } else {
          // (30 bits: a small integer, never a number boxed on the heap on its way to slotOf.)
          if (resolve && count < this.k) {
            if (count === out.slots.length) out.slots = grown(out.slots, Math.min(this.k, 2 * count));
            out.slots[count] = this.slotOf(bytes, from, i, h & 0x3fffffff);
          }
          count++;
          from = -1;
        }
      } else if (from >= 0 && count < this.k) h = Math.imul(h ^ c, 0x01000193);
    }
    out.count = count;
    return out;
  }

  private slotOf(bytes: Uint8Array, from: number, to: number, h: number): number {
    const mask = this.keys.length - 1;
    for (let b = h & mask; ; b = (b + 1) & mask) {
      const key = this.keys[b];
      if (key === undefined) break;
      if (this.hashes[b] === h && key.length === to - from && sameBytes(key, bytes, from)) return this.vals[b] as number;
    }
    // (Plain strings are ASCII: the bytes are the id's characters.)
    const id = Buffer.from(bytes.buffer, bytes.byteOffset + from, to - from).toString('latin1');
    const slot = (this.catalog as CatalogSlots).get(id) ?? -1;
    this.insert(id, h, slot);
    return slot;
  }

  private insert(id: string, h: number, slot: number): void {
    if (2 * (this.used + 1) > this.keys.length) {
      const old = { keys: this.keys, hashes: this.hashes, vals: this.vals };
      const size = this.keys.length >= 2 * ServedSlotReader.maxIds ? this.keys.length : 2 * this.keys.length;
      this.keys = new Array<string | undefined>(size);
      this.hashes = new Int32Array(size);
      this.vals = new Int32Array(size);
      this.used = 0;
      // Full at maxIds ids: start again rather than grow without end (a trace of a million distinct unknown ids).
      if (size !== old.keys.length) old.keys.forEach((k, i) => k !== undefined && this.insert(k, old.hashes[i] as number, old.vals[i] as number));
    }
    const mask = this.keys.length - 1;
    let b = h & mask;
    while (this.keys[b] !== undefined) b = (b + 1) & mask;
    this.keys[b] = id;
    this.hashes[b] = h;
    this.vals[b] = slot;
    this.used++;
  }
}

/** Whether `bytes` from `at` hold the characters of `key` (a string of ASCII characters), one a byte. */
function sameBytes(key: string, bytes: Uint8Array, at: number): boolean {
  for (let i = 0; i < key.length; i++) if (key.charCodeAt(i) !== bytes[at + i]) return false;
  return true;
}

/** `a` copied into a new array of `length` items. */
function grown(a: Int32Array, length: number): Int32Array {
  const b = new Int32Array(length);
  b.set(a);
  return b;
}
