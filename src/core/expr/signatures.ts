import type { MacroName } from './ast';
import { BOOL, DYN, listOf, NUM, STR, type Ty } from './env';

/** What an argument must be: `sized` is a string, list or map; `numbers` a number or a list of numbers. */
export type ArgKind = 'string' | 'number' | 'any' | 'sized' | 'numbers';

/** How the checker and completions see a global function; the runtime side lives in helpers.ts. */
export interface HelperSig {
  signature: string;
  doc: string;
  /** Kinds of the arguments; the last one repeats for variadic helpers. */
  args: ArgKind[];
  min: number;
  max: number;
  result: Ty;
  /** Which argument is an item id (checked against the slice's items when it is a literal). */
  itemArg?: number;
}

/** Every global function with its signature and one line of documentation. */
export const HELPER_SIGS: Record<string, HelperSig> = {
  score: { signature: 'score(id)', doc: "the item's current score, or null when it is not a candidate", args: ['string'], min: 1, max: 1, result: NUM, itemArg: 0 },
  rank: { signature: 'rank(id)', doc: "the item's 1-based rank in the replayed order, or null when it is not a candidate", args: ['string'], min: 1, max: 1, result: NUM, itemArg: 0 },
  recordedRank: { signature: 'recordedRank(id)', doc: "the item's 1-based rank in the recorded order, or null", args: ['string'], min: 1, max: 1, result: NUM, itemArg: 0 },
  rankDelta: { signature: 'rankDelta(id)', doc: 'recordedRank(id) - rank(id): positive when the replay moved the item up; null when absent', args: ['string'], min: 1, max: 1, result: NUM, itemArg: 0 },
  topk: { signature: 'topk(k)', doc: 'the ids of the current top k candidates, best first', args: ['number'], min: 1, max: 1, result: listOf(STR) },
  feature: { signature: 'feature(id, name)', doc: "the value of a candidate's feature, or null when the item or value is absent", args: ['string', 'string'], min: 2, max: 2, result: DYN, itemArg: 0 },
  age: { signature: 'age(name) / age(id, name)', doc: 'seconds since the feature value was computed, or null when unknown', args: ['string', 'string'], min: 1, max: 2, result: NUM },
  size: { signature: 'size(x)', doc: 'length of a string (code points), list or map', args: ['sized'], min: 1, max: 1, result: NUM },
  int: { signature: 'int(x)', doc: 'a number truncated toward zero, or a string of digits as a number', args: ['any'], min: 1, max: 1, result: NUM },
  double: { signature: 'double(x)', doc: 'a number, or a numeric string as a number', args: ['any'], min: 1, max: 1, result: NUM },
  string: { signature: 'string(x)', doc: 'any value as text', args: ['any'], min: 1, max: 1, result: STR },
  abs: { signature: 'abs(x)', doc: 'absolute value', args: ['number'], min: 1, max: 1, result: NUM },
  min: { signature: 'min(a, b, …) / min(list)', doc: 'the smallest number', args: ['numbers'], min: 1, max: Infinity, result: NUM },
  max: { signature: 'max(a, b, …) / max(list)', doc: 'the largest number', args: ['numbers'], min: 1, max: Infinity, result: NUM },
};

/** A method called as `target.name(args)`. */
export interface MethodSig {
  signature: string;
  doc: string;
  on: 'string' | 'sized';
  args: ArgKind[];
  result: Ty;
}

export const METHOD_SIGS: Record<string, MethodSig> = {
  size: { signature: 'x.size()', doc: 'length of a string, list or map', on: 'sized', args: [], result: NUM },
  startsWith: { signature: 's.startsWith(prefix)', doc: 'true when the string starts with prefix', on: 'string', args: ['string'], result: BOOL },
  endsWith: { signature: 's.endsWith(suffix)', doc: 'true when the string ends with suffix', on: 'string', args: ['string'], result: BOOL },
  contains: { signature: 's.contains(part)', doc: 'true when the string contains part', on: 'string', args: ['string'], result: BOOL },
};

export const MACRO_DOCS: Record<MacroName, string> = {
  exists: 'list.exists(x, pred): true when pred holds for some element',
  all: 'list.all(x, pred): true when pred holds for every element',
  exists_one: 'list.exists_one(x, pred): true when pred holds for exactly one element',
  filter: 'list.filter(x, pred): the elements for which pred holds',
  map: 'list.map(x, expr) or list.map(x, pred, expr): expr for each (matching) element',
};

/** Own-property lookup in one of the tables above (never `constructor` or `toString`). */
export function lookup<T>(table: Record<string, T>, name: string): T | undefined {
  return Object.hasOwn(table, name) ? table[name] : undefined;
}
