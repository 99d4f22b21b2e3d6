import { shown } from '../errors';
import { idHash } from './idHash';
import type { CandidateRecord, EventRecord } from './types';

// The warnings writeSlice returns: what a slice holds that a replay accepts but reads in a way worth
// knowing, one sentence per kind, counting the records and naming the first.

/**
 * The ids of the events seen so far, to tell a repeated one: a 32-bit hash and the record number
 * per id in typed arrays (8 bytes a slot, at most half full), not a Set of the strings (some 60
 * bytes an id: 600 MB for ten million events). An equal hash is confirmed by `same`, which reads
 * the earlier event back: a repeat is never reported on a hash alone.
 */
class EventIds {
  private cap = 1024;
  private size = 0;
  private hashes = new Int32Array(this.cap);
  private rec = new Uint32Array(this.cap);

  /** The record number of an earlier event with this id (confirmed by `same`), or 0 after adding it as `record`'s. */
  seen(id: string, record: number, same: (earlier: number) => boolean): number {
    const h = idHash(id);
    const mask = this.cap - 1;
    let i = h & mask;
    for (let r = this.rec[i] as number; r !== 0; i = (i + 1) & mask, r = this.rec[i] as number) {
      if (this.hashes[i] === h && same(r)) return r;
    }
    this.hashes[i] = h;
    this.rec[i] = record;
    if (++this.size * 2 > this.cap) this.grow();
    return 0;
  }

  private grow(): void {
    const { hashes, rec } = this;
    this.cap *= 2;
    this.hashes = new Int32Array(this.cap);
    this.rec = new Uint32Array(this.cap);
    const mask = this.cap - 1;
    for (let j = 0; j < rec.length; j++) {
      if (rec[j] === 0) continue;
      let i = (hashes[j] as number) & mask;
      while (this.rec[i] !== 0) i = (i + 1) & mask;
      this.hashes[i] = hashes[j] as number;
      this.rec[i] = rec[j] as number;
    }
  }
}

/** How many records have one inconsistency, and where the first is (`events:17 served[2] "i9"`). */
interface Tally {
  count: number;
  first: string;
}

const tally = (): Tally => ({ count: 0, first: '' });

/** Counts a record; `first` is only built for the first. */
function count(t: Tally, first: () => string): void {
  if (t.count++ === 0) t.first = first();
}

/** Items or users whose id an earlier record has (the replay keeps the first record of an id). */
export function repeatedIds(rows: readonly { id: string }[], file: 'items' | 'users'): string | undefined {
  const firstAt = new Map<string, number>();
  const t = tally();
  rows.forEach((r, i) => {
    const was = firstAt.get(r.id);
    if (was === undefined) firstAt.set(r.id, i + 1);
    else count(t, () => `${file}:${i + 1} repeats ${shown(r.id)} of ${file}:${was}`);
  });
  if (t.count === 0) return undefined;
  const kind = file === 'items' ? 'item' : 'user';
  const users = file === 'items' ? 'a replay and its metrics use' : 'a replay uses';
  return `${t.count} ${kind} ${t.count === 1 ? 'record repeats' : 'records repeat'} the id of an earlier one; first: ${t.first} — ${users} the first record of an id and ignore${file === 'items' ? '' : 's'} the later ones`;
}

/** Index in `served` of the first item that is not a candidate, or -1. */
/**
 * The index of the first click that is not among the served items, or -1. Looked up in a set past a
 * few: a feed event of 200,000 served items and 100,000 clicks, a scan of the served list per click,
 * held the writer ~50 s.
 */
function clickOutside(served: readonly string[], clicks: readonly string[], scratch: Set<string>): number {
  if (clicks.length * served.length <= 64) {
    for (let i = 0; i < clicks.length; i++) if (!served.includes(clicks[i] as string)) return i;
    return -1;
  }
  scratch.clear();
  for (let j = 0; j < served.length; j++) scratch.add(served[j] as string);
  for (let i = 0; i < clicks.length; i++) if (!scratch.has(clicks[i] as string)) return i;
  return -1;
}

function servedOutside(ev: EventRecord, scratch: Set<string>): number {
  const cands = ev.candidates;
  const served = ev.served;
  if (cands.length * served.length <= 64) {
    outer: for (let i = 0; i < served.length; i++) {
      for (let j = 0; j < cands.length; j++) if ((cands[j] as CandidateRecord).item === served[i]) continue outer;
      return i;
    }
    return -1;
  }
  scratch.clear();
  for (let j = 0; j < cands.length; j++) scratch.add((cands[j] as CandidateRecord).item);
  for (let i = 0; i < served.length; i++) if (!scratch.has(served[i] as string)) return i;
  return -1;
}

/** Where an event first lists an item a second time (`candidates[1].item "i1"`, `served[2] "i4"`), or undefined. */
function listedTwice(ev: EventRecord, scratch: Set<string>): string | undefined {
  scratch.clear();
  const cands = ev.candidates;
  for (let i = 0; i < cands.length; i++) {
    const id = (cands[i] as CandidateRecord).item;
    if (scratch.has(id)) return `candidates[${i}].item ${shown(id)}`;
    scratch.add(id);
  }
  scratch.clear();
  const served = ev.served;
  for (let i = 0; i < served.length; i++) {
    if (scratch.has(served[i] as string)) return `served[${i}] ${shown(served[i])}`;
    scratch.add(served[i] as string);
  }
  return undefined;
}

/** Whether an event names an item (candidate, served or clicked) that is not in the catalogue. */
function outsideCatalogue(ev: EventRecord, catalogue: ReadonlySet<string>): boolean {
  if (catalogue.size === 0) return ev.candidates.length > 0 || ev.served.length > 0 || (ev.outcome?.clicks?.length ?? 0) > 0;
  const cands = ev.candidates;
  for (let i = 0; i < cands.length; i++) if (!catalogue.has((cands[i] as CandidateRecord).item)) return true;
  const served = ev.served;
  for (let i = 0; i < served.length; i++) if (!catalogue.has(served[i] as string)) return true;
  const clicks = ev.outcome?.clicks ?? [];
  for (let i = 0; i < clicks.length; i++) if (!catalogue.has(clicks[i] as string)) return true;
  return false;
}

/** Where the first item outside the catalogue is in an event (`candidates[3].item "i9"`), for the warning. */
function firstOutside(ev: EventRecord, catalogue: ReadonlySet<string>): string {
  const fields: [string, readonly string[]][] = [
    ['candidates', ev.candidates.map((c) => c.item)],
    ['served', ev.served],
    ['outcome.clicks', ev.outcome?.clicks ?? []],
  ];
  for (const [field, ids] of fields) {
    const i = ids.findIndex((id) => !catalogue.has(id));
    if (i >= 0) return `${field}[${i}]${field === 'candidates' ? '.item' : ''} ${shown(ids[i])}`;
  }
  return '';
}

/**
 * What a log may hold that a replay accepts but reads in a way worth knowing: repeated event ids,
 * served items that are not candidates, clicks on items not served, items outside the catalogue.
 * One warning per kind, counting the events, with the first.
 */
export class EventChecks {
  readonly ids = new EventIds();
  readonly repeated = tally();
  readonly notCandidates = tally();
  readonly notServed = tally();
  readonly outside = tally();
  readonly shortSlates = tally();
  readonly unknownUsers = tally();
  readonly twice = tally();
  readonly sessions = tally();
  private readonly scratch = new Set<string>();

  /**
   * `k`: the slate size the slice's pipeline replays with. `users`: the ids of users.jsonl, or
   * undefined when the slice has no users (they are optional: then no event's user is looked for).
   */
  constructor(
    private readonly catalogue: ReadonlySet<string>,
    private readonly k: number,
    private readonly users?: ReadonlySet<string>,
  ) {}

  check(ev: EventRecord, n: number, earlier: (id: string) => number): void {
    const was = earlier(ev.id);
    if (was !== 0) count(this.repeated, () => `events:${n} repeats ${shown(ev.id)} of events:${was}`);
    const s = servedOutside(ev, this.scratch);
    if (s >= 0) count(this.notCandidates, () => `events:${n} served[${s}] ${shown(ev.served[s])}`);
    const clicks = ev.outcome?.clicks;
    if (clicks !== undefined) {
      const c = clickOutside(ev.served, clicks, this.scratch);
      if (c >= 0) count(this.notServed, () => `events:${n} outcome.clicks[${c}] ${shown(clicks[c])}`);
    }
    if (outsideCatalogue(ev, this.catalogue)) count(this.outside, () => `events:${n} ${firstOutside(ev, this.catalogue)}`);
    if (this.users !== undefined && !this.users.has(ev.user)) count(this.unknownUsers, () => `events:${n} user ${shown(ev.user)}`);
    const twice = listedTwice(ev, this.scratch);
    if (twice !== undefined) count(this.twice, () => `events:${n} ${twice}`);
    const session: unknown = ev.session;
    if (session !== undefined && typeof session !== 'string') count(this.sessions, () => `events:${n} session ${shown(session)}`);
    // A recording that showed fewer items than k, with more candidates to show: the replay fills the slate.
    if (ev.served.length < this.k && ev.candidates.length > ev.served.length) count(this.shortSlates, () => `events:${n} served ${ev.served.length} of its ${ev.candidates.length} candidates`);
  }

  warnings(): string[] {
    const out: string[] = [];
    const events = (t: Tally, one: string, many: string) => `${t.count} ${t.count === 1 ? `event ${one}` : `events ${many}`}; first: ${t.first}`;
    if (this.repeated.count) out.push(`${events(this.repeated, 'repeats the id of an earlier event', 'repeat the id of an earlier event')} — a replay draws the model clicks of events with one id from one random stream (it is keyed by the id), so they are not independent, and the id no longer names one event`);
    if (this.notCandidates.count) out.push(`${events(this.notCandidates, 'serves an item that is not among its candidates', 'serve items that are not among their candidates')} — a replay serves only candidates, so it can never serve these items, and the recorded ranking starts with items no ranker can rank`);
    if (this.notServed.count) out.push(`${events(this.notServed, 'records a click on an item it did not serve', 'record clicks on items they did not serve')} — such a click counts as a relevant item in the ranking metrics, and a replay that serves the item clicks it wherever the user examines it (a clicked item's certain attractiveness in the click model)`);
    if (this.outside.count) {
      const lead = this.catalogue.size === 0 ? 'no items were given (the catalogue is empty): ' : '';
      out.push(`${lead}${events(this.outside, 'names items that are not in the catalogue (items)', 'name items that are not in the catalogue (items)')} — a replay knows no category, item features or availability windows for them (always available, capped by no maxPerCategory), and they count towards no catalogue metric (coverage, Gini, parity)`);
    }
    if (this.unknownUsers.count) {
      out.push(`${events(this.unknownUsers, 'names a user who is not in users.jsonl', 'name users who are not in users.jsonl')} — a replay knows no segment, features or embedding for them: their features read as missing (a linear weight on one adds nothing), an embedding ranker finds no vector for them, and in expressions user holds only their id`);
    }
    if (this.twice.count) {
      out.push(`${events(this.twice, 'lists an item twice among its candidates or its served items', 'list an item twice among their candidates or their served items')} — a replay keeps an item's first candidate (the later one is dropped, with its features and score) and serves an item once, so the slate it compares with is not the one logged`);
    }
    if (this.sessions.count) {
      out.push(`${events(this.sessions, 'has a session that is not a string', 'have a session that is not a string')} — the format's "session" is a string: the Slices view groups these events under "(no session)"; write the session id as a string (e.g. "101")`);
    }
    if (this.shortSlates.count) {
      out.push(`${events(this.shortSlates, `served fewer items than the slate size k = ${this.k}`, `served fewer items than the slate size k = ${this.k}`)} — a replay serves up to k items, and the slots the recording did not show get clicks from the click model, so CTR and the relevance metrics describe a longer slate than the one logged; give pipeline.k the slate size the system served`);
    }
    return out;
  }
}
