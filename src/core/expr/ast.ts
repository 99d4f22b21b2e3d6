/**
 * AST of the expression language (a safe subset of CEL). Every node carries `start`/`end`:
 * 0-based, end-exclusive offsets into the source text, so any error can name its column.
 */

interface Span {
  start: number;
  end: number;
}

export type LiteralValue = null | boolean | number | string;

export interface Literal extends Span {
  type: 'literal';
  value: LiteralValue;
}

export interface ListLit extends Span {
  type: 'list';
  items: Expr[];
}

export interface MapEntry extends Span {
  key: Expr;
  value: Expr;
}

export interface MapLit extends Span {
  type: 'map';
  entries: MapEntry[];
}

export interface Ident extends Span {
  type: 'ident';
  name: string;
}

/** `target.field`; `fieldStart` points at the field name for "unknown field" errors. */
export interface Select extends Span {
  type: 'select';
  target: Expr;
  field: string;
  fieldStart: number;
}

export interface Index extends Span {
  type: 'index';
  target: Expr;
  index: Expr;
}

/** A global function call: helpers such as `score(id)` and `size(x)`. */
export interface Call extends Span {
  type: 'call';
  callee: string;
  args: Expr[];
}

/** `target.method(args)`: `size`, `startsWith`, `endsWith`, `contains`. */
export interface Method extends Span {
  type: 'method';
  target: Expr;
  method: string;
  methodStart: number;
  args: Expr[];
}

export const MACROS = ['exists', 'all', 'exists_one', 'filter', 'map'] as const;
export type MacroName = (typeof MACROS)[number];

/**
 * `target.exists(v, body)` and friends. For `map`, `body` is the transform and `filter` the
 * optional guard of the three-argument form `map(v, guard, transform)`.
 */
export interface Macro extends Span {
  type: 'macro';
  target: Expr;
  macro: MacroName;
  variable: string;
  variableStart: number;
  filter: Expr | null;
  body: Expr;
}

/** `has(a.b)`: a presence test, not a call, because its argument is never evaluated whole. */
export interface Has extends Span {
  type: 'has';
  target: Select;
}

export type UnaryOp = '-' | '!';

export interface Unary extends Span {
  type: 'unary';
  op: UnaryOp;
  operand: Expr;
}

export type BinaryOp = '*' | '/' | '%' | '+' | '-' | '<' | '<=' | '>' | '>=' | '==' | '!=' | 'in' | '&&' | '||';

export interface Binary extends Span {
  type: 'binary';
  op: BinaryOp;
  left: Expr;
  right: Expr;
}

export interface Conditional extends Span {
  type: 'conditional';
  test: Expr;
  consequent: Expr;
  alternate: Expr;
}

export type Expr = Literal | ListLit | MapLit | Ident | Select | Index | Call | Method | Macro | Has | Unary | Binary | Conditional;

/** Binding strength of each binary operator (higher binds tighter); CEL's table. */
export const PRECEDENCE: Record<BinaryOp, number> = {
  '||': 2,
  '&&': 3,
  '<': 4,
  '<=': 4,
  '>': 4,
  '>=': 4,
  '==': 4,
  '!=': 4,
  in: 4,
  '+': 5,
  '-': 5,
  '*': 6,
  '/': 6,
  '%': 6,
};

/** Precedence of a node as the printer and parser see it: conditional 1 … member/primary 8. */
export function precedenceOf(e: Expr): number {
  switch (e.type) {
    case 'conditional':
      return 1;
    case 'binary':
      return PRECEDENCE[e.op];
    case 'unary':
      return 7;
    default:
      return 8;
  }
}

/** The direct sub-expressions of a node, in source order. */
export function children(e: Expr): Expr[] {
  switch (e.type) {
    case 'literal':
    case 'ident':
      return [];
    case 'list':
      return e.items;
    case 'map':
      return e.entries.flatMap((en) => [en.key, en.value]);
    case 'select':
    case 'has':
      return [e.target];
    case 'index':
      return [e.target, e.index];
    case 'call':
      return e.args;
    case 'method':
      return [e.target, ...e.args];
    case 'macro':
      return e.filter ? [e.target, e.filter, e.body] : [e.target, e.body];
    case 'unary':
      return [e.operand];
    case 'binary':
      return [e.left, e.right];
    case 'conditional':
      return [e.test, e.consequent, e.alternate];
  }
}
