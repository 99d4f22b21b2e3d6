import { MACROS } from './ast';
import { typeOf } from './checker';
import { allFeatureNames, bindingTypes, candidateFeatureNames, DYN, STR, tyName, type CheckEnv, type Ty } from './env';
import { lex, type Token } from './lexer';
import { parse } from './parser';
import { isPlainName } from './print';
import { HELPER_SIGS, MACRO_DOCS, METHOD_SIGS } from './signatures';

export type CompletionKind = 'binding' | 'variable' | 'helper' | 'field' | 'feature' | 'metric' | 'method' | 'macro' | 'keyword' | 'item';

export interface CompletionItem {
  label: string;
  kind: CompletionKind;
  detail: string;
  /** Text to insert when it differs from the label, e.g. `["hit_rate@10"]` after a dot. */
  insertText?: string;
  /** Replace from here instead of `Completions.from` (the dot, for bracketed names). */
  from?: number;
}

/** What to offer at a cursor and which text `[from, to)` it replaces. */
export interface Completions {
  from: number;
  to: number;
  items: CompletionItem[];
}

const ITEM_HELPERS = new Set(['score', 'rank', 'recordedRank', 'rankDelta', 'feature', 'age']);
const isPunct = (t: Token | undefined, p: string): boolean => t?.kind === 'punct' && t.text === p;

/** Names, fields, helpers, features, metrics or item ids that fit at `offset` in `text`. */
export function completions(text: string, offset: number, env: CheckEnv): Completions {
  const toks = lex(text, 0, offset, true).filter((t) => t.kind !== 'eof');
  const last = toks.at(-1);
  if (last?.kind === 'string' && last.unterminated) {
    const from = last.start + (/^[rR]/.test(last.text) ? 2 : 1);
    const typed = String(last.value);
    return { from, to: offset, items: filter(stringItems(toks, toks.length - 1, text, env, typed), typed) };
  }
  let from = offset;
  let prefix = '';
  if ((last?.kind === 'ident' || last?.kind === 'keyword') && last.end === offset) {
    toks.pop();
    from = last.start;
    prefix = last.text;
  }
  const to = offset + (/^[A-Za-z0-9_]*/.exec(text.slice(offset))?.[0].length ?? 0);
  const locals = macroLocals(toks, text, env);
  const dot = toks.length - 1;
  if (isPunct(toks[dot], '.')) {
    const receiver = receiverType(toks, dot - 1, text, env, locals);
    return { from, to, items: filter(memberItems(receiver, (toks[dot] as Token).start), prefix) };
  }
  const items: CompletionItem[] = [
    ...[...locals].map(([name, t]): CompletionItem => ({ label: name, kind: 'variable', detail: tyName(t) })),
    ...[...bindingTypes(env)].map(([b, t]): CompletionItem => ({ label: b, kind: 'binding', detail: tyName(t) })),
    ...Object.entries(HELPER_SIGS).map(([name, s]): CompletionItem => ({ label: name, kind: 'helper', detail: `${s.signature}: ${s.doc}` })),
    { label: 'has', kind: 'helper', detail: 'has(a.b): true when the field is present' },
    ...['true', 'false', 'null', 'in'].map((k): CompletionItem => ({ label: k, kind: 'keyword', detail: 'keyword' })),
  ];
  return { from, to, items: filter(items, prefix) };
}

function filter(items: CompletionItem[], prefix: string): CompletionItem[] {
  const p = prefix.toLowerCase();
  return items.filter((i) => i.label.toLowerCase().startsWith(p));
}

/** Fields of a record, or the methods and macros of a string, list or map. */
function memberItems(t: Ty, dotAt: number): CompletionItem[] {
  const out: CompletionItem[] = [];
  if (t.kind === 'object') {
    const kind: CompletionKind = t.noun.includes('feature') ? 'feature' : t.noun === 'metric' ? 'metric' : 'field';
    for (const [name, ft] of t.fields) {
      const item: CompletionItem = { label: name, kind, detail: tyName(ft) };
      // A name such as "hit_rate@10" cannot follow a dot: replace the dot with an index.
      if (!isPlainName(name)) Object.assign(item, { insertText: `[${JSON.stringify(name)}]`, from: dotAt });
      out.push(item);
    }
    // Records list their fields only; `size()` and macros on them are legal but never what is wanted.
    return out;
  }
  const k = t.kind;
  for (const [name, m] of Object.entries(METHOD_SIGS)) {
    if (k === 'dyn' || (m.on === 'string' ? k === 'string' : k === 'string' || k === 'list' || k === 'map')) {
      out.push({ label: name, kind: 'method', detail: `${m.signature}: ${m.doc}` });
    }
  }
  if (k === 'list' || k === 'map' || k === 'dyn') {
    for (const name of MACROS) out.push({ label: name, kind: 'macro', detail: MACRO_DOCS[name] });
  }
  return out;
}

/** Inside a string literal: item ids for `score("…`, feature names for `feature(id, "…`, keys for `metrics["…`. */
function stringItems(toks: Token[], at: number, text: string, env: CheckEnv, typed: string): CompletionItem[] {
  const before = toks[at - 1];
  if (isPunct(before, '[')) {
    const t = receiverType(toks, at - 2, text, env, macroLocals(toks.slice(0, at), text, env));
    return t.kind === 'object' ? memberItems(t, 0).map(({ label, kind, detail }) => ({ label, kind, detail })) : [];
  }
  const call = enclosingCall(toks, at);
  if (call === undefined || !ITEM_HELPERS.has(call.name)) return [];
  const items = (): CompletionItem[] => itemCompletions(env.itemIds, typed);
  const features = (names: string[]): CompletionItem[] => names.map((n) => ({ label: n, kind: 'feature', detail: 'feature' }));
  if (call.name === 'age') return call.arg === 0 ? [...features(allFeatureNames(env)), ...items()] : features(candidateFeatureNames(env));
  if (call.name === 'feature' && call.arg === 1) return features(candidateFeatureNames(env));
  return call.arg === 0 ? items() : [];
}

/**
 * Item ids that start with what is typed (case aside), at most MAX_ITEM_COMPLETIONS of them in
 * catalogue order: a million-item catalogue made a 40 MB answer to every keystroke.
 */
function itemCompletions(ids: Iterable<string> | undefined, typed: string): CompletionItem[] {
  const p = typed.toLowerCase();
  const out: CompletionItem[] = [];
  for (const id of ids ?? []) {
    if (!id.toLowerCase().startsWith(p)) continue;
    out.push({ label: id, kind: 'item', detail: 'item' });
    if (out.length === MAX_ITEM_COMPLETIONS) break;
  }
  return out;
}

/** The most item ids offered at once; typing more of an id narrows them. */
export const MAX_ITEM_COMPLETIONS = 1000;

/** The global call whose argument list contains token `at`, and which argument it is. */
function enclosingCall(toks: Token[], at: number): { name: string; arg: number } | undefined {
  let depth = 0;
  let arg = 0;
  for (let i = at - 1; i >= 0; i--) {
    const t = toks[i] as Token;
    if (isPunct(t, ')') || isPunct(t, ']') || isPunct(t, '}')) depth++;
    else if (isPunct(t, '(') || isPunct(t, '[') || isPunct(t, '{')) {
      if (depth === 0) {
        const callee = toks[i - 1];
        const global = callee?.kind === 'ident' && !isPunct(toks[i - 2], '.');
        return isPunct(t, '(') && global ? { name: callee.text, arg } : undefined;
      }
      depth--;
    } else if (depth === 0 && isPunct(t, ',')) arg++;
  }
  return undefined;
}

/** Index of the bracket that `toks[close]` closes. */
function matchOpen(toks: Token[], close: number): number | undefined {
  let depth = 0;
  for (let i = close; i >= 0; i--) {
    const t = toks[i];
    if (isPunct(t, ')') || isPunct(t, ']') || isPunct(t, '}')) depth++;
    else if (isPunct(t, '(') || isPunct(t, '[') || isPunct(t, '{')) if (--depth === 0) return i;
  }
  return undefined;
}

/** First token of the member chain (`a.b(x)[0].c`) that ends at `end`. */
function chainStart(toks: Token[], end: number): number | undefined {
  let i = end;
  for (;;) {
    const t = toks[i];
    if (t === undefined) return undefined;
    if (isPunct(t, ')') || isPunct(t, ']')) {
      const open = matchOpen(toks, i);
      if (open === undefined) return undefined;
      const prev = toks[open - 1];
      const continues = prev !== undefined && (prev.kind === 'ident' || (t.text === ']' && (isPunct(prev, ')') || isPunct(prev, ']') || prev.kind === 'string')));
      i = continues ? open - 1 : open;
      if (continues && prev.kind !== 'ident') continue;
    } else if (t.kind !== 'ident' && t.kind !== 'keyword' && t.kind !== 'string' && t.kind !== 'number') {
      return undefined;
    }
    if (!isPunct(toks[i - 1], '.')) return i;
    i -= 2;
  }
}

/** The type of the receiver ending at token `end`, or `dyn` when it cannot be worked out. */
function receiverType(toks: Token[], end: number, text: string, env: CheckEnv, locals: ReadonlyMap<string, Ty>): Ty {
  const start = chainStart(toks, end);
  const first = start === undefined ? undefined : toks[start];
  const lastTok = toks[end];
  if (first === undefined || lastTok === undefined) return DYN;
  try {
    return typeOf(parse(text, first.start, lastTok.end), env, locals);
  } catch {
    return DYN;
  }
}

/** Macro variables bound at the cursor: `c` inside an unclosed `candidates.exists(c, …`. */
function macroLocals(toks: Token[], text: string, env: CheckEnv): Map<string, Ty> {
  const open: { paren: number; frame?: { name: string; dot: number } }[] = [];
  toks.forEach((t, i) => {
    if (isPunct(t, '(') || isPunct(t, '[') || isPunct(t, '{')) {
      const name = toks[i - 1];
      const v = toks[i + 1];
      const isMacro = name?.kind === 'ident' && (MACROS as readonly string[]).includes(name.text) && isPunct(toks[i - 2], '.');
      const frame = isMacro && v?.kind === 'ident' && isPunct(toks[i + 2], ',') ? { name: v.text, dot: i - 2 } : undefined;
      open.push(frame ? { paren: i, frame } : { paren: i });
    } else if (isPunct(t, ')') || isPunct(t, ']') || isPunct(t, '}')) {
      open.pop();
    }
  });
  const locals = new Map<string, Ty>();
  for (const { frame } of open) {
    if (frame === undefined) continue;
    const range = receiverType(toks, frame.dot - 1, text, env, locals);
    const elem = range.kind === 'list' ? range.elem : range.kind === 'map' || range.kind === 'object' ? STR : DYN;
    locals.set(frame.name, elem);
  }
  return locals;
}
