import { PRECEDENCE, precedenceOf, type Expr, type LiteralValue } from './ast';
import { KEYWORDS } from './lexer';

/**
 * Prints an AST back to source with the fewest parentheses that keep its shape: parsing the
 * output gives an equal AST (positions aside).
 */
export function printExpr(e: Expr): string {
  switch (e.type) {
    case 'literal':
      return printLiteral(e.value);
    case 'ident':
      return e.name;
    case 'list':
      return `[${e.items.map(printExpr).join(', ')}]`;
    case 'map':
      return `{${e.entries.map((en) => `${printExpr(en.key)}: ${printExpr(en.value)}`).join(', ')}}`;
    case 'select':
      return `${operand(e.target)}.${e.field}`;
    case 'index':
      return `${operand(e.target)}[${printExpr(e.index)}]`;
    case 'call':
      return `${e.callee}(${e.args.map(printExpr).join(', ')})`;
    case 'method':
      return `${operand(e.target)}.${e.method}(${e.args.map(printExpr).join(', ')})`;
    case 'macro': {
      const args = [e.variable, ...(e.filter ? [printExpr(e.filter)] : []), printExpr(e.body)];
      return `${operand(e.target)}.${e.macro}(${args.join(', ')})`;
    }
    case 'has':
      return `has(${printExpr(e.target)})`;
    case 'unary':
      // CEL's grammar only lets a member or another unary follow a unary operator.
      return e.op + (e.operand.type === 'unary' ? printExpr(e.operand) : operand(e.operand));
    case 'binary': {
      const p = PRECEDENCE[e.op];
      // Left-associative: a right operand of the same level needs parentheses, a left one does not.
      return `${wrap(e.left, precedenceOf(e.left) < p)} ${e.op} ${wrap(e.right, precedenceOf(e.right) <= p)}`;
    }
    case 'conditional':
      // test and consequent are `||`-level in CEL's grammar; the alternate may be another `?:`.
      return `${wrap(e.test, precedenceOf(e.test) < 2)} ? ${wrap(e.consequent, precedenceOf(e.consequent) < 2)} : ${printExpr(e.alternate)}`;
  }
}

/** A literal as source text: strings double-quoted with JSON escapes, which the lexer reads back. */
function printLiteral(v: LiteralValue): string {
  if (typeof v === 'string') return JSON.stringify(v);
  return String(v);
}

/** True when `name` can be written bare (an identifier that is not a keyword). */
export function isPlainName(name: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && !KEYWORDS.has(name);
}

function operand(e: Expr): string {
  return wrap(e, precedenceOf(e) < 8);
}

function wrap(e: Expr, paren: boolean): string {
  return paren ? `(${printExpr(e)})` : printExpr(e);
}
