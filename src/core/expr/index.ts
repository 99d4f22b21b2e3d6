/**
 * The expression language of breakpoint conditions, watches, log points, scenario `break`/`expect`
 * and CLI `--break`: a safe subset of CEL, parsed and compiled to closures, never `eval`ed.
 * See docs/expressions.md.
 */
import type { Expr } from './ast';
import { check, throwOnError, type CheckOptions } from './checker';
import { compile, type CompiledExpr } from './compile';
import type { CheckEnv } from './env';
import { diagnostic, ExprError, type Diagnostic } from './errors';
import { parse } from './parser';

export type { Expr } from './ast';
export type { CheckEnv } from './env';
export type { CheckOptions } from './checker';
export type { CompiledExpr } from './compile';
export type { CompiledTemplate } from './interpolate';
export type { Completions, CompletionItem, CompletionKind } from './completions';
export type { ExprCandidate, ExprScope, Value } from './scope';
export { ExprError, type Diagnostic, type ExprErrorKind } from './errors';
export { printExpr } from './print';
export { interpolate } from './interpolate';
export { completions } from './completions';
export { formatValue } from './values';
export { readsCandidateMaps } from './reads';
export { BINDINGS } from './scope';
export { HELPER_SIGS } from './signatures';

/** Parses an expression; throws `ExprError` (kind `syntax`) with the column on bad syntax. */
export function parseExpr(text: string): Expr {
  return parse(text);
}

/** Parses and checks against the slice; syntax errors come back as diagnostics too, never thrown. */
export function checkExpr(text: string, env: CheckEnv, options: CheckOptions = {}): Diagnostic[] {
  let ast: Expr;
  try {
    ast = parse(text);
  } catch (x) {
    if (!(x instanceof ExprError)) throw x;
    return [diagnostic('error', 'syntax', x.reason, x.start, x.end)];
  }
  return check(ast, env, options);
}

/**
 * Parses, checks (when `env` is given) and compiles. Throws `ExprError` with the column of the
 * first problem; warnings do not stop compilation.
 */
export function compileExpr(text: string, env?: CheckEnv, options: CheckOptions = {}): CompiledExpr {
  const ast = parse(text);
  if (env !== undefined) throwOnError(check(ast, env, options));
  return compile(ast, undefined, text);
}
