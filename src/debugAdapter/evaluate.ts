import { printable } from '../shared/printable';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { exprScope } from '../core/engine/exprScope';
import { compileExpr, completions, ExprError, formatValue, parseExpr, type CheckEnv, type CompletionKind, type Expr } from '../core/expr';
import { AdapterError, ERROR_IDS } from './errors';
import type { Lane } from './lanes';
import { orderedRows, rowLabel } from './ranking';
import { preview, valueSpec, type VariableRegistry } from './variables';

/** Compiled expressions per slice environment: a watch is evaluated at every stop, and compiling is the costly part. */
const caches = new WeakMap<CheckEnv, Map<string, ReturnType<typeof compileExpr>>>();

function compiled(text: string, env: CheckEnv): ReturnType<typeof compileExpr> {
  let cache = caches.get(env);
  if (cache === undefined) caches.set(env, (cache = new Map()));
  let c = cache.get(text);
  if (c === undefined) {
    c = compileExpr(text, env);
    if (cache.size > 500) cache.clear();
    cache.set(text, c);
  }
  return c;
}

/** Hovering an item id in events.jsonl shows that item's row of the current ranking. */
function hoverItem(text: string, lane: Lane, vars: VariableRegistry): DebugProtocol.EvaluateResponse['body'] | undefined {
  const id = text.replace(/^["']|["']$/g, '');
  const ex = lane.exec;
  const row = orderedRows(ex).find((r) => r.item === id);
  if (row === undefined) return undefined;
  const { name, value } = rowLabel(row, ex.stagesDone);
  // Null until the stage that gives each one has run, as score(id), rank(id) and the Ranking scope say (a score is NaN before).
  const spec = valueSpec(id, { score: ex.stagesDone >= 3 ? row.score : null, rank: ex.stagesDone >= 4 ? row.rank : null, recordedRank: row.recordedRank, prevRank: row.prevRank }, undefined);
  return { result: printable(`${name} ${value}`), variablesReference: spec.child ? vars.add(spec.child) : 0 };
}

/** The last quoted token of hovered text: `i_42` of `"item":"i_42`, `"i_42"` or `i_42"`. */
function lastQuoted(text: string): string {
  const parts = text.split(/["']/).filter((p) => p !== '');
  return parts[parts.length - 1] ?? '';
}

/**
 * Evaluates an expression of the expression language at the lane's current stop. Errors name
 * the column; hovers fail quietly (a hover over text that is not an expression is normal).
 */
export function evaluate(args: DebugProtocol.EvaluateArguments, lane: Lane, env: CheckEnv, vars: VariableRegistry): DebugProtocol.EvaluateResponse['body'] {
  const text = args.expression.trim();
  const hover = args.context === 'hover';
  if (hover) {
    const item = hoverItem(text, lane, vars);
    if (item) return item;
  }
  let value: unknown;
  try {
    let expr: ReturnType<typeof compileExpr>;
    try {
      expr = compiled(text, env);
    } catch (e) {
      // Not an expression. Without an evaluatable-expression provider VS Code hovers the word with
      // what precedes it up to a bracket, comma or space: `"item":"i_42` in a candidate entry.
      const item = hover && e instanceof ExprError ? hoverItem(lastQuoted(text), lane, vars) : undefined;
      if (item) return item;
      throw e;
    }
    value = expr.evaluate(exprScope(lane.exec, lane.replayer));
  } catch (e) {
    // The console, watch and hover show the message where it was asked; a pop-up would be noise.
    if (e instanceof ExprError) throw new AdapterError(`${text}: ${e.message}`, ERROR_IDS.expression, false);
    throw e;
  }
  const spec = valueSpec('result', value);
  const body: DebugProtocol.EvaluateResponse['body'] = {
    // (Copy Value copies the value as it is; shown, its bidi overrides and control characters are escapes.)
    result: args.context === 'clipboard' ? formatValue(value, Infinity) : printable(preview(value)),
    variablesReference: spec.child ? vars.add(spec.child) : 0,
  };
  if (spec.type && vars.withTypes) body.type = spec.type;
  if (spec.child?.indexed !== undefined) body.indexedVariables = spec.child.indexed;
  return body;
}

const TYPES: Record<CompletionKind, DebugProtocol.CompletionItemType> = {
  binding: 'variable',
  variable: 'variable',
  helper: 'function',
  field: 'property',
  feature: 'field',
  metric: 'value',
  method: 'method',
  macro: 'snippet',
  keyword: 'keyword',
  item: 'value',
};

/** Completions for the debug console and watch input, from the expression language. */
export function complete(args: DebugProtocol.CompletionsArguments, env: CheckEnv, columnsStartAt1: boolean): DebugProtocol.CompletionItem[] {
  // Only the line the cursor is on matters: expressions are one line.
  const lines = args.text.split('\n');
  const lineIndex = Math.min(lines.length, Math.max(1, args.line ?? lines.length)) - 1;
  const text = lines[lineIndex] ?? '';
  const offset = Math.min(text.length, Math.max(0, args.column - (columnsStartAt1 ? 1 : 0)));
  const c = completions(text, offset, env);
  return c.items.map((it) => {
    const from = it.from ?? c.from;
    const item: DebugProtocol.CompletionItem = {
      label: it.label,
      type: TYPES[it.kind],
      detail: it.detail,
      start: from + (columnsStartAt1 ? 1 : 0),
      length: c.to - from,
    };
    if (it.insertText !== undefined) item.text = it.insertText;
    return item;
  });
}

/** A string literal's value, or undefined for any other node. */
function literalText(e: Expr | undefined): string | undefined {
  return e?.type === 'literal' && typeof e.value === 'string' ? e.value : undefined;
}

/**
 * A data breakpoint id for an expression typed by the user: `score("i_42")`, `rank('i_42')`,
 * `feature("i_42", "ctr_7d")`, `metrics.ctr`, `metrics["hit_rate@10"]`, or an id itself. Read by
 * the expression parser, so the id names what evaluating the expression reads (escapes, quotes,
 * comments alike), and text that is no expression gets none.
 */
export function dataIdForExpression(text: string): string | undefined {
  const t = text.trim();
  if (/^(score|rank|feature|metric):./.test(t)) return t;
  let e: Expr;
  try {
    e = parseExpr(t);
  } catch (x) {
    if (x instanceof ExprError) return undefined;
    throw x;
  }
  if (e.type === 'call' && (e.callee === 'score' || e.callee === 'rank') && e.args.length === 1) {
    const item = literalText(e.args[0]);
    return item ? `${e.callee}:${item}` : undefined;
  }
  if (e.type === 'call' && e.callee === 'feature' && e.args.length === 2) {
    const [item, name] = [literalText(e.args[0]), literalText(e.args[1])];
    return item && name ? `feature:${item}.${name}` : undefined;
  }
  const metrics = (x: Expr): boolean => x.type === 'ident' && x.name === 'metrics';
  if (e.type === 'select' && metrics(e.target)) return `metric:${e.field}`;
  if (e.type === 'index' && metrics(e.target)) {
    const name = literalText(e.index);
    return name ? `metric:${name}` : undefined;
  }
  return undefined;
}
