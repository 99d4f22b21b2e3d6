import { STAGES, type FeatureType } from '../slice/types';

/** What the checker knows about a slice: its feature schema, metric names and (optionally) item ids. */
export interface CheckEnv {
  schema: {
    user: Record<string, FeatureType>;
    item: Record<string, FeatureType>;
    context: Record<string, FeatureType>;
    candidate: Record<string, FeatureType>;
  };
  metrics: readonly string[];
  itemIds?: ReadonlySet<string>;
  /** Feature names the engine adds beyond the schema (e.g. `online.ctr`), accepted by feature() and age(). */
  extraFeatures?: readonly string[];
}

/** The checker's light types: enough to catch `score(id) > "a"` without a full CEL type system. */
export type Ty = { kind: 'dyn' | 'null' | 'bool' | 'number' | 'string' } | ListTy | MapTy | ObjTy;
export interface ListTy {
  kind: 'list';
  elem: Ty;
}
/** A map with arbitrary string keys (`outcome.dwellMs`, `candidate.meta`). */
export interface MapTy {
  kind: 'map';
  value: Ty;
}
/** A record with known fields; `open` ones also carry fields nobody declared (event extras). */
export interface ObjTy {
  kind: 'object';
  /** What it is, for messages: "event", "candidate". */
  name: string;
  /** What an unknown field is called in messages: "unknown feature 'x'". */
  noun: string;
  fields: ReadonlyMap<string, Ty>;
  open: boolean;
  /** Said after "unknown <noun> 'x'" when no known name is close: where such a field is found instead. */
  hint?: string;
  /**
   * Fields beyond the known ones a record may carry (a users.jsonl record's own, e.g. `country`):
   * an unknown name no known one is close to is read from the record, with a warning, not refused;
   * one close to a known name stays an error (a misspelt feature).
   */
  extras?: boolean;
}

export const DYN: Ty = { kind: 'dyn' };
export const NULL: Ty = { kind: 'null' };
export const BOOL: Ty = { kind: 'bool' };
export const NUM: Ty = { kind: 'number' };
export const STR: Ty = { kind: 'string' };
export const listOf = (elem: Ty): ListTy => ({ kind: 'list', elem });
export const mapOf = (value: Ty): MapTy => ({ kind: 'map', value });

function obj(name: string, noun: string, fields: Iterable<[string, Ty]>, open = false, hint?: string): ObjTy {
  const t: ObjTy = { kind: 'object', name, noun, fields: new Map(fields), open };
  if (hint !== undefined) t.hint = hint;
  return t;
}

/** The checker type of a feature declared in the slice schema. */
export function featureTy(t: FeatureType | undefined): Ty {
  return t === 'number' ? NUM : t === 'string' ? STR : t === 'boolean' ? BOOL : DYN;
}

function features(name: string, noun: string, ...schemas: Record<string, FeatureType>[]): ObjTy {
  const merged = Object.assign({}, ...schemas) as Record<string, FeatureType>;
  return obj(name, noun, Object.entries(merged).map(([k, t]) => [k, featureTy(t)]));
}

/** Candidate features: the candidate's own plus the item's catalogue features, as the engine joins them. */
export function candidateFeatureNames(env: CheckEnv): string[] {
  return [...new Set([...Object.keys(env.schema.candidate), ...Object.keys(env.schema.item), ...(env.extraFeatures ?? [])])];
}

/** Every feature name in the schema, for `age(name)`. */
export function allFeatureNames(env: CheckEnv): string[] {
  const s = env.schema;
  return [...new Set([...Object.keys(s.user), ...Object.keys(s.item), ...Object.keys(s.context), ...Object.keys(s.candidate), ...(env.extraFeatures ?? [])])];
}

/** The types of the bindings at a stop, derived from the slice schema. */
export function bindingTypes(env: CheckEnv): Map<string, Ty> {
  const s = env.schema;
  const context = features('context', 'context feature', s.context);
  const candidate = obj('candidate', 'candidate field', [
    ['item', STR], ['score', NUM], ['rank', NUM], ['recordedRank', NUM], ['prevRank', NUM],
    ['features', features('candidate features', 'feature', s.candidate, s.item)], ['meta', mapOf(DYN)],
  ]);
  const userBase: [string, Ty][] = [
    ['id', STR], ['segment', STR], ['features', features('user features', 'user feature', s.user)], ['embedding', listOf(NUM)],
  ];
  // `user.ctr` is shorthand for `user.features.ctr`; a real user field wins over a feature of the same name.
  const userShorthand = Object.entries(s.user).map(([k, t]): [string, Ty] => [k, featureTy(t)]);
  const user = obj('user', 'user field or feature', [...userShorthand, ...userBase]);
  user.extras = true;
  const outcome = obj('outcome', 'outcome field', [['clicks', listOf(STR)], ['dwellMs', mapOf(NUM)]], true);
  const systemOf = (name: string): ObjTy => obj(name, 'system field', [
    ['latencyMs', obj(`${name}.latencyMs`, 'stage', STAGES.map((st) => [st, NUM]))],
    ['queueDepth', NUM],
    ['cache', obj(`${name}.cache`, 'cache field', [['hits', NUM], ['misses', NUM]])],
    ['fallback', BOOL],
  ], true);
  // `event` is the record as the slice holds it, not the replay's view of it: its candidates are
  // the recorded ones (the item, the candidate's own features, the logged score: no ranks, no
  // item features), and its latencies are the stages the slice recorded, where `system` has all six.
  const recordedCandidate = obj('recorded candidate', 'recorded candidate field', [
    ['item', STR], ['score', NUM], ['features', features('recorded candidate features', 'candidate feature', s.candidate)],
  ], false, 'event.candidates are the records of the slice (item, features, score); the replayed candidates, with ranks and item features, are `candidates`');
  const event = obj('event', 'event field', [
    ['id', STR], ['t', STR], ['user', STR], ['session', STR], ['context', context], ['candidates', listOf(recordedCandidate)],
    ['served', listOf(STR)], ['outcome', outcome], ['system', systemOf('event.system')], ['index', NUM], ['line', NUM],
    ['featureTimes', mapOf(STR)],
  ], true);
  const system = systemOf('system');
  return new Map<string, Ty>([
    ['event', event], ['user', user], ['context', context], ['candidates', listOf(candidate)], ['served', listOf(STR)],
    ['outcome', outcome], ['system', system], ['stage', STR], ['metrics', obj('metrics', 'metric', env.metrics.map((m) => [m, NUM]))],
  ]);
}

/** A type as messages name it. */
export function tyName(t: Ty): string {
  switch (t.kind) {
    case 'list':
      return t.elem.kind === 'dyn' ? 'list' : `list of ${tyName(t.elem)}`;
    case 'object':
      return t.name;
    case 'dyn':
      return 'any';
    default:
      return t.kind;
  }
}

/** The value kind a type belongs to, with records counted as maps. */
export function kindOf(t: Ty): 'dyn' | 'null' | 'bool' | 'number' | 'string' | 'list' | 'map' {
  return t.kind === 'object' ? 'map' : t.kind;
}
