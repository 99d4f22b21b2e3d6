import type { DebugProtocol } from '@vscode/debugprotocol';
import type { EventExec } from '../core/engine/replay';
import { featureValue } from '../core/engine/rows';
import type { CheckEnv } from '../core/expr';
import { candidateFeatureNames } from '../core/expr/env';
import { suggest } from '../core/expr/suggest';
import { compileGuard, HitCarry, type Guard } from './breakpoints';
import type { Lane } from './lanes';
import { THREAD_IDS } from '../shared/dap';

/** Every thread name a session may have; an id tagged with one this session lacks is refused. */
const LANE_TAGS: readonly string[] = Object.keys(THREAD_IDS);

/** What a data breakpoint watches. Its id is `score:<item>`, `rank:<item>`, `feature:<item>.<name>` or `metric:<name>`. */
export type DataTarget = { kind: 'score' | 'rank'; item: string } | { kind: 'feature'; item: string; name: string } | { kind: 'metric'; name: string };

type Value = number | string | boolean | null;

/** The data breakpoint id of a target; `@lane` names the thread in compare mode. */
export function dataIdOf(t: DataTarget, lane?: string): string {
  const base = t.kind === 'metric' ? `metric:${t.name}` : t.kind === 'feature' ? `feature:${t.item}.${t.name}` : `${t.kind}:${t.item}`;
  return lane ? `${base}@${lane}` : base;
}

/** "rank of i_42", for descriptions and stop messages. */
export function describeTarget(t: DataTarget): string {
  if (t.kind === 'metric') return `metric ${t.name}`;
  if (t.kind === 'feature') return `feature ${t.name} of ${t.item}`;
  return `${t.kind} of ${t.item}`;
}

/** Parses a data breakpoint id; a string is the reason it is not one. */
export function parseDataId(id: string, env: CheckEnv, laneNames: readonly string[]): { target: DataTarget; lane: string | undefined } | string {
  let body = id.trim();
  let lane: string | undefined;
  const at = body.lastIndexOf('@');
  if (at > 0 && laneNames.includes(body.slice(at + 1))) {
    lane = body.slice(at + 1);
    body = body.slice(0, at);
  } else if (at > 0 && LANE_TAGS.includes(body.slice(at + 1)) && !env.itemIds?.has(body.slice(body.indexOf(':') + 1))) {
    // A compare session's id (VS Code keeps data breakpoints between sessions): its thread is not
    // in this one, and read as part of an item id it could never fire (unless an item has that id).
    return `"${id}" watches thread ${body.slice(at + 1)}, which this session does not have (its threads: ${laneNames.join(', ')}): remove it, or launch with a baseline to compare`;
  }
  const colon = body.indexOf(':');
  const kind = colon < 0 ? '' : body.slice(0, colon);
  const rest = colon < 0 ? '' : body.slice(colon + 1);
  if (rest === '') return `"${id}" is not a data breakpoint: use score:<item>, rank:<item>, feature:<item>.<name> or metric:<name>`;
  if (kind === 'metric') {
    if (!env.metrics.includes(rest)) return `unknown metric "${rest}": the metrics are ${env.metrics.join(', ')}`;
    return { target: { kind: 'metric', name: rest }, lane };
  }
  if (kind === 'score' || kind === 'rank') return { target: { kind, item: rest }, lane };
  if (kind === 'feature') {
    // Item ids and feature names may both hold dots (`online.ctr`): prefer a split at a known
    // item, then one before a known feature.
    const features = candidateFeatureNames(env);
    const split = featureSplit(rest, env.itemIds, new Set(features));
    if (split === undefined || split === rest.length - 1) return `"${id}" needs a feature name: feature:<item>.<name>`;
    const name = rest.slice(split + 1);
    // As in a condition (`feature(id, name)`): a name the slice's schema does not have would never change.
    if (!features.includes(name)) return unknownFeature(name, features);
    return { target: { kind: 'feature', item: rest.slice(0, split), name }, lane };
  }
  return `"${kind}" is not a kind of data breakpoint: use score, rank, feature or metric`;
}

/** "unknown feature "ctr_7"; did you mean "ctr_7d"?", or the names there are when none is close. */
function unknownFeature(name: string, known: readonly string[]): string {
  const close = suggest(name, known);
  if (close !== undefined) return `unknown feature "${name}"; did you mean "${close}"?`;
  const MAX = 30;
  const list = known.slice(0, MAX).join(', ') + (known.length > MAX ? `, … (${known.length - MAX} more)` : '');
  return `unknown feature "${name}": a candidate's features are ${list}`;
}

/** The watched value at a completed event, or undefined when it does not exist there (item not a candidate). */
export function readTarget(t: DataTarget, lane: Lane, ex: EventExec): Value | undefined {
  if (t.kind === 'metric') return lane.replayer.metrics.value(t.name);
  const row = ex.rows.find((r) => r.item === t.item);
  if (row === undefined) return undefined;
  if (t.kind === 'score') return row.score;
  if (t.kind === 'rank') return row.rank;
  if (t.kind !== 'feature') return undefined;
  const v = featureValue(row, t.name, { event: ex.event, user: ex.user, state: lane.replayer.state });
  return v === undefined ? undefined : v;
}

function same(a: Value, b: Value): boolean {
  return a === b || (typeof a === 'number' && typeof b === 'number' && Number.isNaN(a) && Number.isNaN(b));
}

/** A data breakpoint and the value it saw at the last completed event. */
export interface DataBreakpoint extends Guard {
  target: DataTarget;
  lane: Lane;
  lastEvent: number;
  lastValue: Value | undefined;
}

/** A change seen at a completed event: from → to. */
export interface DataChange {
  bp: DataBreakpoint;
  from: Value;
  to: Value;
}

/**
 * Records the value at completed event n and reports a change against event n - 1. A value
 * that does not exist at either event (the item was not a candidate) is not a change.
 */
export function sampleData(bp: DataBreakpoint, ex: EventExec): DataChange | undefined {
  const v = readTarget(bp.target, bp.lane, ex);
  const prev = bp.lastValue;
  const consecutive = bp.lastEvent === ex.n - 1;
  bp.lastEvent = ex.n;
  bp.lastValue = v;
  if (!consecutive || prev === undefined || v === undefined || same(prev, v)) return undefined;
  return { bp, from: prev, to: v };
}

/**
 * Builds data breakpoints from a setDataBreakpoints request; problems come back as unverified
 * breakpoints. `old` are the ones it replaces: an unchanged one (same target, thread, condition
 * and hit condition) keeps its hit count.
 */
export function buildDataBreakpoints(
  req: readonly DebugProtocol.DataBreakpoint[],
  env: CheckEnv,
  lanes: readonly Lane[],
  primary: Lane,
  newId: () => number,
  old: readonly DataBreakpoint[] = [],
): { bps: DataBreakpoint[]; results: DebugProtocol.Breakpoint[] } {
  const carry = new HitCarry(old.map((b) => ({ place: dataIdOf(b.target, b.lane.name), guard: b })));
  const bps: DataBreakpoint[] = [];
  const results = req.map((d): DebugProtocol.Breakpoint => {
    const id = newId();
    // Only "write" is offered (dataBreakpointInfo): a break on read would be taken and fire on changes.
    if (d.accessType !== undefined && d.accessType !== 'write') return { id, verified: false, message: `only "write" data breakpoints (break when the value changes) are supported, not "${d.accessType}"` };
    const parsed = parseDataId(d.dataId, env, lanes.map((l) => l.name));
    if (typeof parsed === 'string') return { id, verified: false, message: parsed };
    const g = compileGuard(id, d.condition, d.hitCondition, env);
    if ('error' in g) return { id, verified: false, message: g.error };
    const lane = lanes.find((l) => l.name === parsed.lane) ?? primary;
    bps.push({ ...g.guard, ...carry.take(dataIdOf(parsed.target, lane.name), d.condition, d.hitCondition), target: parsed.target, lane, lastEvent: -1, lastValue: undefined });
    const t = parsed.target;
    const warn = t.kind !== 'metric' && env.itemIds && !env.itemIds.has(t.item) ? `item ${t.item} is not in the slice's catalogue` : g.warning;
    return { id, verified: true, ...(warn ? { message: warn } : {}) };
  });
  return { bps, results };
}

/**
 * Where `item.name` splits: at the first dot before which is a known item, else the first after
 * which is a known feature, else the first dot; undefined without one. Linear in the id's length:
 * only prefixes as long as some item id, and suffixes as long as some feature name, are looked up
 * (slicing at every dot of a 100 kB id took seconds of the extension host's thread).
 */
export function featureSplit(rest: string, itemIds: ReadonlySet<string> | undefined, features: ReadonlySet<string>): number | undefined {
  const longestFeature = longest(features);
  const longestItem = itemIds ? longest(itemIds) : 0;
  let first: number | undefined;
  let byFeature: number | undefined;
  for (let d = rest.indexOf('.'); d >= 0; d = rest.indexOf('.', d + 1)) {
    first ??= d;
    if (d <= longestItem && itemIds?.has(rest.slice(0, d))) return d;
    if (byFeature === undefined && rest.length - d - 1 <= longestFeature && features.has(rest.slice(d + 1))) byFeature = d;
  }
  return byFeature ?? first;
}

const longestOf = new WeakMap<ReadonlySet<string>, number>();

/** The length of the longest string of a set (kept per set: a catalogue's ids are a million). */
function longest(set: ReadonlySet<string>): number {
  let n = longestOf.get(set);
  if (n === undefined) {
    n = 0;
    for (const s of set) if (s.length > n) n = s.length;
    longestOf.set(set, n);
  }
  return n;
}
