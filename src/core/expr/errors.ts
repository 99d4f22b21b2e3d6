import { UserError } from '../errors';

/** Where an expression problem was found: parsing, checking against the slice, or evaluating. */
export type ExprErrorKind = 'syntax' | 'check' | 'runtime';

/** One problem the checker found; positions are 0-based offsets into the expression text. */
export interface Diagnostic {
  severity: 'error' | 'warning';
  /** Stable id for quick fixes and tests, e.g. `unknown-feature`. */
  code: string;
  /** The sentence without the column prefix (editors show the range themselves). */
  message: string;
  start: number;
  end: number;
  /** 1-based column of `start`. */
  column: number;
  /** The name the user probably meant, when one is close enough. */
  suggestion?: string;
}

/**
 * An error in an expression. `message` reads "column 12: expected ')' …"; `reason` is the same
 * sentence without the column, for callers that show the range another way. It is a `UserError`
 * (code `E_EXPR`) so the CLI and adapter report it like any other mistake in user input.
 */
export class ExprError extends UserError {
  readonly column: number;

  constructor(
    readonly kind: ExprErrorKind,
    readonly reason: string,
    readonly start: number,
    readonly end: number,
    /** Every diagnostic when this error stands for a failed check (the first error is this one). */
    readonly diagnostics: readonly Diagnostic[] = [],
  ) {
    super(`column ${start + 1}: ${reason}`, { column: start + 1 }, undefined, 'E_EXPR');
    this.column = start + 1;
  }

  // The message already carries the column; the caller prefixes file and line when it has them.
  override describe(): string {
    return this.message;
  }
}

/** Builds a diagnostic with its column filled in. */
export function diagnostic(
  severity: Diagnostic['severity'],
  code: string,
  message: string,
  start: number,
  end: number,
  suggestion?: string,
): Diagnostic {
  const d: Diagnostic = { severity, code, message, start, end, column: start + 1 };
  if (suggestion !== undefined) d.suggestion = suggestion;
  return d;
}

/** An evaluation that ran out of steps (see MAX_MACRO_STEPS): never absorbed by exists()/all()/||/&&, it ends the evaluation. */
export class WorkLimitError extends ExprError {}
