import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MetricsAccumulator, type CatalogEntry, type EventObservation, type EventSlots } from '../../src/core/metrics/index.js';
import { latency, obs } from './helpers.js';

// 30 distinct items plus two duplicate ids (the first entry wins), some without category or group.
const catalog: CatalogEntry[] = [
  ...Array.from({ length: 30 }, (_, i) => ({
    id: `i${i}`,
    ...(i % 7 === 6 ? {} : { category: `c${i % 5}` }),
    ...(i % 4 === 0 ? { group: `g${i % 3}` } : {}),
  })),
  { id: 'i3', category: 'dup' },
  { id: 'i8', group: 'dup' },
];
const K = 5;

/** Ids drawn from the catalogue and from outside it (u0..u7), repeats included. */
const anyId = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 29 }).map((i) => `i${i}`) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 7 }).map((i) => `u${i}`) },
);

const event = fc.record({
  ranked: fc.array(anyId, { maxLength: 45 }),
  // An index into ranked where the served slate starts being taken from (as the engine serves a
  // prefix of ranked, or the fallback ranking); -1 for an unrelated slate.
  servedFrom: fc.integer({ min: -1, max: 2 }),
  servedExtra: fc.array(anyId, { maxLength: 8 }),
  recorded: fc.array(anyId, { maxLength: 45 }),
  recordedFromRanked: fc.boolean(),
  relevant: fc.array(anyId, { maxLength: 4 }),
  clickEvery: fc.integer({ min: 1, max: 4 }),
  fallback: fc.boolean(),
  latency: fc.array(fc.oneof(fc.integer({ min: 0, max: 2000 }), fc.double({ min: 0, max: 5000, noNaN: true })), { minLength: 6, maxLength: 6 }),
  queueDepth: fc.option(fc.integer({ min: 0, max: 50 }), { nil: undefined }),
  cache: fc.option(fc.record({ hits: fc.nat(30), misses: fc.nat(30) }), { nil: undefined }),
  typed: fc.boolean(),
});
type RawEvent = typeof event extends fc.Arbitrary<infer T> ? T : never;

/** Turns generated pieces into an observation shaped like the engine's (with repeats and strays). */
function observation(raw: RawEvent, index: number): EventObservation {
  const served = raw.servedFrom < 0 ? raw.servedExtra : [...raw.ranked.slice(raw.servedFrom, raw.servedFrom + K + 1), ...raw.servedExtra.slice(0, 2)];
  const recorded = raw.recordedFromRanked ? [...served, ...raw.ranked, ...raw.recorded.slice(0, 3)] : raw.recorded;
  const [retrieve, features, score, rerank, serve, outcome] = raw.latency as [number, number, number, number, number, number];
  return {
    index,
    ranked: raw.ranked,
    served,
    recorded,
    relevant: raw.relevant,
    clicks: served.filter((_, i) => i % raw.clickEvery === 0),
    fallback: raw.fallback,
    latencyMs: latency({ retrieve, features, score, rerank, serve, outcome }),
    ...(raw.queueDepth === undefined ? {} : { queueDepth: raw.queueDepth }),
    ...(raw.cache === undefined ? {} : { cache: raw.cache }),
  };
}

/**
 * Slot numberings a caller may use. All give catalogue items their catalogue slot (first entry of
 * a duplicate id); they differ for items outside the catalogue: the engine's ReplayState numbers
 * them persistently in first-seen order, but any non-negative int32 that is the same number for
 * the same item within an event must give the same results.
 */
type Numbering = 'engine' | 'perEvent' | 'sparse';

class Slotter {
  private readonly known = new Map<string, number>();
  private extra = new Map<string, number>();
  readonly size: number;

  constructor(private readonly numbering: Numbering) {
    for (const e of catalog) if (!this.known.has(e.id)) this.known.set(e.id, this.known.size);
    this.size = this.known.size;
  }

  slot(id: string): number {
    const k = this.known.get(id);
    if (k !== undefined) return k;
    let s = this.extra.get(id);
    if (s === undefined) {
      const nth = this.extra.size;
      // sparse: huge, scattered numbers near the top of the int32 range.
      s = this.numbering === 'sparse' ? 0x7fff_ffff - nth * 7919 : this.size + nth;
      this.extra.set(id, s);
    }
    return s;
  }

  slots(o: EventObservation, typed: boolean): EventSlots {
    if (this.numbering === 'perEvent') this.extra = new Map();
    const list = (ids: readonly string[]) => (typed ? Int32Array.from(ids, (id) => this.slot(id)) : ids.map((id) => this.slot(id)));
    return { ranked: list(o.ranked), served: list(o.served), recorded: list(o.recorded), relevant: list(o.relevant), clicks: list(o.clicks) };
  }
}

test('the slot path gives bit-identical per-event values, snapshots and checkpoints to the id path', () => {
  fc.assert(
    fc.property(
      fc.array(event, { minLength: 1, maxLength: 40 }),
      fc.constantFrom<Numbering>('engine', 'perEvent', 'sparse'),
      (raws, numbering) => {
        const byIds = new MetricsAccumulator(catalog, K);
        const bySlots = new MetricsAccumulator(catalog, K);
        const slotter = new Slotter(numbering);
        raws.forEach((raw, i) => {
          const o = observation(raw, i + 1);
          const fast = { ...o, slots: slotter.slots(o, raw.typed) };
          // deepStrictEqual compares numbers with Object.is: −0, NaN and every last bit count.
          assert.deepStrictEqual(bySlots.update(fast), byIds.update(o), `event ${i + 1}`);
        });
        assert.deepStrictEqual(bySlots.snapshot(), byIds.snapshot());
        assert.deepStrictEqual(bySlots.save(), byIds.save());
        for (const name of MetricsAccumulator.names(K)) assert.ok(Object.is(bySlots.value(name), byIds.value(name)), name);
      },
    ),
    { numRuns: 150 },
  );
});

test('a checkpoint taken on one path resumes identically on the other', () => {
  fc.assert(
    fc.property(fc.array(event, { minLength: 1, maxLength: 30 }), fc.nat(30), (raws, cut) => {
      const at = Math.min(cut, raws.length);
      const events = raws.map((raw, i) => observation(raw, i + 1));
      const slotter = new Slotter('engine');
      const fast = events.map((o, i) => ({ ...o, slots: slotter.slots(o, raws[i]!.typed) }));
      const straight = new MetricsAccumulator(catalog, K);
      const points = events.map((o) => straight.update(o));
      // Slots up to the checkpoint, then ids after it, and the other way round.
      for (const [head, tail] of [
        [fast, events],
        [events, fast],
      ] as const) {
        const first = new MetricsAccumulator(catalog, K);
        head.slice(0, at).forEach((o) => first.update(o));
        const resumed = MetricsAccumulator.restore(catalog, K, JSON.parse(JSON.stringify(first.save())));
        assert.deepStrictEqual(resumed.snapshot(), first.snapshot());
        assert.deepStrictEqual(tail.slice(at).map((o) => resumed.update(o)), points.slice(at));
        assert.deepStrictEqual(resumed.snapshot(), straight.snapshot());
      }
    }),
    { numRuns: 60 },
  );
});

test('slot lists must match their id lists and hold non-negative integers', () => {
  const acc = new MetricsAccumulator(catalog, K);
  const o = obs({ ranked: ['i0', 'i1'], served: ['i0'], recorded: ['i1', 'i0'], relevant: ['i1'], clicks: ['i0'] });
  const good: EventSlots = { ranked: [0, 1], served: [0], recorded: [1, 0], relevant: [1], clicks: [0] };
  assert.throws(() => acc.update({ ...o, slots: { ...good, recorded: [1] } }), /1 slots for 2 recorded ids/);
  assert.throws(() => acc.update({ ...o, slots: { ...good, clicks: [] } }), /0 slots for 1 clicks ids/);
  for (const bad of [-1, 1.5, Number.NaN, 2 ** 31]) {
    assert.throws(() => acc.update({ ...o, slots: { ...good, ranked: [0, bad] } }), RangeError, String(bad));
  }
  // A refused event leaves no trace: the totals still read zero.
  assert.equal(acc.snapshot()['events'], 0);
  assert.deepStrictEqual(acc.update({ ...o, slots: good }), new MetricsAccumulator(catalog, K).update(o));
});

test('every slot is checked, also the clicks\' and those of served items past k, which no metric reads', () => {
  // docs/metrics.md: a slot that is not a non-negative int32 throws before anything is counted; a
  // click slot of -1 or a served slot of 1.5 past the top k were taken without a word.
  const acc = new MetricsAccumulator(catalog, 1);
  const o = obs({ ranked: ['i0', 'i1'], served: ['i0', 'i1'], recorded: ['i0'], relevant: [], clicks: ['i0'] });
  const good: EventSlots = { ranked: [0, 1], served: [0, 1], recorded: [0], relevant: [], clicks: [0] };
  for (const bad of [-1, 1.5, Number.NaN, 2 ** 31]) {
    assert.throws(() => acc.update({ ...o, slots: { ...good, clicks: [bad] } }), RangeError, `click slot ${bad}`);
    assert.throws(() => acc.update({ ...o, slots: { ...good, served: [0, bad] } }), RangeError, `served slot ${bad} past k`);
  }
  assert.equal(acc.snapshot()['events'], 0);
  assert.deepStrictEqual(acc.update({ ...o, slots: good }), new MetricsAccumulator(catalog, 1).update(o));
});

test('unknown items keep their semantics on the slot path, whatever their slot numbers', () => {
  const acc = new MetricsAccumulator(catalog, 3);
  assert.equal(acc.catalogSize, 30);
  // 'ghost' served twice at slot 2^31 − 1 and relevant: overflow exposures, category "?", novelty x = 0.
  const ghost = 0x7fff_ffff;
  const e = acc.update(
    obs({
      ranked: ['ghost', 'i1', 'i2'],
      served: ['ghost', 'i1', 'ghost'],
      recorded: ['i1', 'ghost'],
      relevant: ['ghost'],
      slots: { ranked: [ghost, 1, 2], served: [ghost, 1, ghost], recorded: [1, ghost], relevant: [ghost], clicks: [] },
    }),
  );
  assert.deepEqual([e.hit, e.rr, e.kendallTau], [1, 1, -1]);
  const s = acc.snapshot();
  assert.equal(s['overflow_exposures'], 2);
  assert.equal(s['coverage@3'], 1 / 30);
});
