import { compile } from './compile';
import type { CheckEnv } from './env';
import { ExprError } from './errors';
import { parse } from './parser';
import type { ExprScope } from './scope';
import { formatValue } from './values';

/** A log-point message with `{expression}` holes, compiled once. */
export interface CompiledTemplate {
  /** The message at one stop. A hole that fails renders as `<error: reason>`: a log point never throws. */
  evaluate(scope: ExprScope): string;
  readonly source: string;
  /** Bindings and helpers used by all holes, for stop reports. */
  readonly identifiers: readonly string[];
  /** Whether a hole may read candidates' feature or meta maps. */
  readonly readsCandidateMaps: boolean;
}

type Piece = string | { start: number; end: number };

/**
 * Splits a template into text and `{expr}` holes. `{{` and `}}` are literal braces; inside a hole
 * braces nest (map literals) and quoted strings may contain any brace.
 */
export function splitTemplate(template: string): Piece[] {
  const pieces: Piece[] = [];
  let text = '';
  let i = 0;
  while (i < template.length) {
    const c = template[i];
    if ((c === '{' || c === '}') && template[i + 1] === c) {
      text += c;
      i += 2;
    } else if (c === '}') {
      throw new ExprError('syntax', "unmatched '}' in the message; write '}}' for a literal brace", i, i + 1);
    } else if (c === '{') {
      const end = holeEnd(template, i);
      if (text !== '') pieces.push(text);
      text = '';
      pieces.push({ start: i + 1, end });
      i = end + 1;
    } else {
      text += c;
      i++;
    }
  }
  if (text !== '') pieces.push(text);
  return pieces;
}

/** Offset of the `}` closing the hole opened at `open`. */
function holeEnd(t: string, open: number): number {
  let depth = 0;
  // Where a comment hid a '}' (it reads to the end of its line): the reason to give, not the '{'.
  let hidden = -1;
  for (let i = open + 1; i < t.length; i++) {
    const c = t[i];
    // As the lexer reads a hole: a raw string (r"C:\") keeps its backslashes, a comment runs to the
    // end of its line (braces and quotes in either are text); an identifier ending in r is no raw string.
    const raw = (c === 'r' || c === 'R') && (t[i + 1] === '"' || t[i + 1] === "'") && !/[A-Za-z0-9_]/.test(t[i - 1] ?? '');
    if (c === '"' || c === "'" || raw) {
      if (raw) i++;
      const q = t[i];
      // Skip the string, escapes included (none in a raw one); an unterminated one is reported by the parser.
      for (i++; i < t.length && t[i] !== q; i++) if (t[i] === '\\' && !raw) i++;
    } else if (c === '/' && t[i + 1] === '/') {
      const from = i;
      while (i < t.length && t[i] !== '\n') i++;
      if (hidden < 0 && t.slice(from, i).includes('}')) hidden = from;
    } else if (c === '{') {
      depth++;
    } else if (c === '}') {
      if (depth === 0) return i;
      depth--;
    }
  }
  if (hidden >= 0) throw new ExprError('syntax', `the '//' at column ${hidden + 1} starts a comment that runs to the end of the line, so the '}' after it does not close the '{' at column ${open + 1}; end the comment with a new line, or leave it out`, hidden, t.length);
  throw new ExprError('syntax', `the '{' at column ${open + 1} is never closed; write '{{' for a literal brace`, open, t.length);
}

/**
 * Compiles a log-point template such as "score is {score('i_42')}". Errors in a hole carry
 * columns in the whole template; with `env` the holes are checked against the slice.
 */
export function interpolate(template: string, env?: CheckEnv): CompiledTemplate {
  const identifiers = new Set<string>();
  const parts = splitTemplate(template).map((p) => {
    if (typeof p === 'string') return p;
    const compiled = compile(parse(template, p.start, p.end), env, template.slice(p.start, p.end));
    for (const id of compiled.identifiers) identifiers.add(id);
    return compiled;
  });
  return {
    source: template,
    identifiers: [...identifiers],
    readsCandidateMaps: parts.some((p) => typeof p !== 'string' && p.readsCandidateMaps),
    evaluate(scope) {
      let out = '';
      for (const p of parts) {
        if (typeof p === 'string') {
          out += p;
          continue;
        }
        try {
          const v = p.evaluate(scope);
          out += typeof v === 'string' ? v : formatValue(v, 1000);
        } catch (x) {
          if (!(x instanceof ExprError)) throw x;
          out += `<error: ${x.reason}>`;
        }
      }
      return out;
    },
  };
}
