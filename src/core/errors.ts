/** Errors in user input: they name the file, line or field and say what to change. */
export class UserError extends Error {
  override readonly name = 'UserError';
  constructor(
    message: string,
    readonly where: { file?: string; line?: number; column?: number; field?: string } = {},
    readonly hint?: string,
    readonly code = 'E_INPUT',
  ) {
    super(message);
  }

  /** "file:line: message (field) — hint" as a person reads it. */
  describe(): string {
    const loc = [this.where.file, this.where.line, this.where.column].filter((x) => x !== undefined).join(':');
    const field = this.where.field ? ` (field ${this.where.field})` : '';
    const hint = this.hint ? `\n  ${this.hint}` : '';
    return `${loc ? loc + ': ' : ''}${this.message}${field}${hint}`;
  }
}

/** The slice's files do not match the hashes in its manifest. */
export class IntegrityError extends UserError {
  constructor(
    readonly modified: string[],
    sliceDir: string,
    /** Why each file differs ("its size differs", …), when known. */
    reasons: Record<string, string> = {},
  ) {
    super(
      `slice was modified since it was frozen: ${modified.map((f) => (reasons[f] ? `${f} (${reasons[f]})` : f)).join(', ')} ${modified.length === 1 ? 'does' : 'do'} not match the manifest`,
      { file: sliceDir },
      'Re-freeze the slice, restore the original file, or pass --force to replay it anyway.',
      'E_MODIFIED',
    );
  }
}

/**
 * A value as an error message quotes it: JSON, except numbers JSON cannot write (1e999 reads as
 * Infinity, which JSON.stringify would print as null), cut short at 60 characters.
 */
export function shown(v: unknown): string {
  const s = typeof v === 'number' ? String(v) : (JSON.stringify(v) ?? String(v));
  return s.length > 60 ? `${s.slice(0, 57)}…` : s;
}
