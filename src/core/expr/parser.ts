import { children, MACROS, type BinaryOp, type Expr, type MacroName, type MapEntry } from './ast';
import { ExprError } from './errors';
import { lex, type Token } from './lexer';

// Deep nesting would overflow the JS stack in the parser, checker and compiled closures alike.
const MAX_DEPTH = 200;

const TOO_DEEP = `the expression is nested too deeply (more than ${MAX_DEPTH} levels)`;
const RELATIONS: ReadonlySet<string> = new Set(['<', '<=', '>', '>=', '==', '!=', 'in']);
const WORD_OPERATORS: ReadonlyMap<string, string> = new Map([['and', '&&'], ['or', '||']]);

/** Parses `text[from, to)` into an AST; throws `ExprError` (kind `syntax`) naming the column. */
export function parse(text: string, from = 0, to = text.length): Expr {
  const e = new Parser(lex(text, from, to)).parseAll();
  checkDepth(e, 0);
  return e;
}

// Long operator chains ("a + b + … ") nest in the AST without nesting in the parser's recursion:
// each operand sits a level deeper than the next. A flat chain past the limit is said as such,
// with the shorter way to write the usual one (many alternatives).
const TOO_LONG = `the expression chains more than ${MAX_DEPTH} operands with one operator, and each one nests a level deeper: for many alternatives, write x in ["a", "b", …]`;

/** `links`: how many of the levels above `e` are a chain's (a binary node's left operand with the same operator). */
function checkDepth(e: Expr, depth: number, links = 0): void {
  if (depth > MAX_DEPTH) throw new ExprError('syntax', 2 * links > depth ? TOO_LONG : TOO_DEEP, e.start, e.end);
  for (const c of children(e)) {
    const chained = e.type === 'binary' && c.type === 'binary' && c === e.left && c.op === e.op;
    checkDepth(c, depth + 1, chained ? links + 1 : links);
  }
}

class Parser {
  private pos = 0;
  private depth = 0;

  constructor(private readonly toks: Token[]) {}

  parseAll(): Expr {
    if (this.peek().kind === 'eof') this.fail('the expression is empty', this.peek());
    const e = this.expr();
    const t = this.peek();
    if (t.kind !== 'eof') {
      // Words other languages use for the operators: say which operator to write.
      const word = t.kind === 'ident' ? WORD_OPERATORS.get(t.text) : undefined;
      const prev = this.toks[this.pos - 1];
      if (word !== undefined) this.fail(`'${t.text}' is not an operator here; use '${word}'`, t);
      if (prev?.kind === 'ident' && prev.text === 'not') this.fail("'not' is not an operator here; use '!' to negate", prev);
      this.fail(`unexpected ${describe(t)} after the end of the expression; is an operator missing?`, t);
    }
    return e;
  }

  // Expr = Or ["?" Or ":" Expr]
  private expr(): Expr {
    if (++this.depth > MAX_DEPTH) this.fail(TOO_DEEP, this.peek());
    const test = this.binary(2);
    let out = test;
    if (this.isPunct('?')) {
      const q = this.next();
      const consequent = this.binary(2);
      this.expect(':', `expected ':' to complete the '?' at column ${q.start + 1}`);
      const alternate = this.expr();
      out = { type: 'conditional', test, consequent, alternate, start: test.start, end: alternate.end };
    }
    this.depth--;
    return out;
  }

  // Precedence climbing over CEL's levels: || (2), && (3), relations (4), + - (5), * / % (6).
  private binary(level: number): Expr {
    if (level > 6) return this.unary();
    let left = this.binary(level + 1);
    for (;;) {
      const t = this.peek();
      const op = t.kind === 'punct' || t.kind === 'keyword' ? t.text : '';
      if (!isLevel(op, level)) return left;
      this.next();
      const right = this.binary(level + 1);
      left = { type: 'binary', op: op as BinaryOp, left, right, start: left.start, end: right.end };
    }
  }

  private unary(): Expr {
    const t = this.peek();
    if (this.isPunct('!') || this.isPunct('-')) {
      this.next();
      if (++this.depth > MAX_DEPTH) this.fail(TOO_DEEP, t);
      const operand = this.unary();
      this.depth--;
      return { type: 'unary', op: t.text as '!' | '-', operand, start: t.start, end: operand.end };
    }
    return this.member();
  }

  private member(): Expr {
    let e = this.primary();
    for (;;) {
      if (this.isPunct('.')) {
        const dot = this.next();
        const name = this.peek();
        if (name.kind !== 'ident' && name.kind !== 'keyword') {
          this.fail(`expected a field name after '.', found ${describe(name)}`, name.kind === 'eof' ? dot : name);
        }
        this.next();
        if (this.isPunct('(')) {
          const { args, end } = this.args('call');
          e = this.method(e, name, args, end);
        } else {
          e = { type: 'select', target: e, field: name.text, fieldStart: name.start, start: e.start, end: name.end };
        }
      } else if (this.isPunct('[')) {
        const open = this.next();
        const index = this.expr();
        const close = this.expect(']', `expected ']' to close the index opened at column ${open.start + 1}`);
        e = { type: 'index', target: e, index, start: e.start, end: close.end };
      } else {
        return e;
      }
    }
  }

  /** A method call, or a macro when the name is one: `list.exists(c, c.score > 0.5)`. */
  private method(target: Expr, name: Token, args: Expr[], end: number): Expr {
    const base = { target, start: target.start, end };
    if (!(MACROS as readonly string[]).includes(name.text)) {
      return { ...base, type: 'method', method: name.text, methodStart: name.start, args };
    }
    const macro = name.text as MacroName;
    const shape = macro === 'map' ? 'a variable and a transform (or a variable, a filter and a transform)' : 'a variable and a predicate';
    const arity = macro === 'map' ? [2, 3] : [2];
    if (!arity.includes(args.length)) {
      this.fail(`${macro}() takes ${arity.join(' or ')} arguments: ${shape}`, name, end);
    }
    const v = args[0];
    if (v?.type !== 'ident') {
      const at = v ?? name;
      this.fail(`the first argument of ${macro}() must be a variable name, as in ${macro}(c, c.score > 0.5)`, at, at.end);
    }
    const body = args[args.length - 1] as Expr;
    const filter = args.length === 3 ? (args[1] as Expr) : null;
    return { ...base, type: 'macro', macro, variable: v.name, variableStart: v.start, filter, body };
  }

  private primary(): Expr {
    const t = this.peek();
    if (t.kind === 'number' || t.kind === 'string') {
      this.next();
      return { type: 'literal', value: t.value, start: t.start, end: t.end };
    }
    if (t.kind === 'keyword' && t.text !== 'in') {
      this.next();
      const value = t.text === 'null' ? null : t.text === 'true';
      return { type: 'literal', value, start: t.start, end: t.end };
    }
    if (t.kind === 'ident') {
      this.next();
      if (!this.isPunct('(')) return { type: 'ident', name: t.text, start: t.start, end: t.end };
      const { args, end } = this.args('call');
      if (t.text !== 'has') return { type: 'call', callee: t.text, args, start: t.start, end };
      const arg = args[0];
      if (args.length !== 1 || arg?.type !== 'select') {
        this.fail('has() takes one field selection, as in has(event.session)', t, end);
      }
      return { type: 'has', target: arg, start: t.start, end };
    }
    if (this.isPunct('(')) {
      const open = this.next();
      const inner = this.expr();
      this.expect(')', `expected ')' to close the parenthesis opened at column ${open.start + 1}`);
      // Parentheses leave no node: positions of the inner expression are what errors point at.
      return inner;
    }
    if (this.isPunct('[')) {
      const { args, start, end } = this.args('list');
      return { type: 'list', items: args, start, end };
    }
    if (this.isPunct('{')) return this.map();
    if (t.kind === 'eof') return this.fail('the expression ends too early: expected a value', t);
    return this.fail(`expected a value, found ${describe(t)}`, t);
  }

  private map(): Expr {
    const open = this.next();
    const entries: MapEntry[] = [];
    const closing = `expected '}' to close the map opened at column ${open.start + 1}`;
    const literalKeys = new Set<string>();
    while (!this.isPunct('}')) {
      const key = this.expr();
      // A repeated literal key is a mistake in the text: said now, not at the first event evaluated.
      if (key.type === 'literal' && typeof key.value === 'string') {
        if (literalKeys.has(key.value)) throw new ExprError('syntax', `duplicate key ${JSON.stringify(key.value)} in a map`, key.start, key.end);
        literalKeys.add(key.value);
      }
      this.expect(':', `expected ':' after the map key`);
      const value = this.expr();
      entries.push({ key, value, start: key.start, end: value.end });
      if (!this.isPunct(',')) break;
      this.next();
    }
    const close = this.expect('}', closing);
    return { type: 'map', entries, start: open.start, end: close.end };
  }

  /** Comma-separated expressions after `(` or `[`; lists may end with a trailing comma. */
  private args(what: 'call' | 'list'): { args: Expr[]; start: number; end: number } {
    const open = this.next();
    const close = what === 'call' ? ')' : ']';
    const args: Expr[] = [];
    while (!this.isPunct(close)) {
      args.push(this.expr());
      if (!this.isPunct(',')) break;
      const comma = this.next();
      if (what === 'call' && this.isPunct(')')) this.fail(`expected an argument after ','`, comma);
    }
    const end = this.expect(close, `expected '${close}' to close the ${what} opened at column ${open.start + 1}`);
    return { args, start: open.start, end: end.end };
  }

  private peek(): Token {
    return this.toks[this.pos] as Token;
  }

  private next(): Token {
    const t = this.peek();
    if (t.kind !== 'eof') this.pos++;
    return t;
  }

  private isPunct(p: string): boolean {
    const t = this.peek();
    return t.kind === 'punct' && t.text === p;
  }

  private expect(p: string, message: string): Token {
    if (!this.isPunct(p)) this.fail(message, this.peek());
    return this.next();
  }

  private fail(reason: string, at: { start: number; end: number }, end = at.end): never {
    throw new ExprError('syntax', reason, at.start, Math.max(end, at.start));
  }
}

function isLevel(op: string, level: number): boolean {
  switch (level) {
    case 2:
      return op === '||';
    case 3:
      return op === '&&';
    case 4:
      return RELATIONS.has(op);
    case 5:
      return op === '+' || op === '-';
    default:
      return op === '*' || op === '/' || op === '%';
  }
}

function describe(t: Token): string {
  return t.kind === 'eof' ? 'the end of the expression' : `'${t.text}'`;
}
