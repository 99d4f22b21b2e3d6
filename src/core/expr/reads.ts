import { children, type Expr } from './ast';

/** Candidate fields that are plain values on the candidate itself. */
const SCALAR_FIELDS = new Set(['item', 'score', 'rank', 'recordedRank', 'prevRank']);

/**
 * Whether evaluating `e` may read a candidate's `features` or `meta` maps — or a candidate
 * whole (compared, returned, printed, indexed), which reads them too. A stop scope built for
 * expressions that do not can leave the maps out: `candidates.exists(c, c.rank == 1 && c.score >
 * 0.9)`, evaluated at every event of a continue, then never merges twenty feature maps. When in
 * doubt the answer is true.
 */
export function readsCandidateMaps(e: Expr): boolean {
  return visit(e, false, new Set());
}

/** The value of `e` is a candidate or a list of them: `candidates`, a macro variable over them, a filter of them. */
function yieldsCandidates(e: Expr, vars: ReadonlySet<string>): boolean {
  if (e.type === 'ident') return e.name === 'candidates' || vars.has(e.name);
  return e.type === 'macro' && e.macro === 'filter' && yieldsCandidates(e.target, vars);
}

/** `asTarget`: `e` is the target of a field read or of a macro, where a candidate value is fine. */
function visit(e: Expr, asTarget: boolean, vars: ReadonlySet<string>): boolean {
  if (!asTarget && yieldsCandidates(e, vars)) return true;
  switch (e.type) {
    case 'select':
      if (yieldsCandidates(e.target, vars) && !SCALAR_FIELDS.has(e.field)) return true;
      return visit(e.target, true, vars);
    case 'call':
      // feature(id, name) reads a candidate's feature map.
      return e.callee === 'feature' || children(e).some((c) => visit(c, false, vars));
    case 'index':
      return yieldsCandidates(e.target, vars) || children(e).some((c) => visit(c, false, vars));
    case 'macro': {
      // The variable is a candidate when the target yields candidates; otherwise it shadows one.
      const inner = new Set(vars);
      if (yieldsCandidates(e.target, vars)) inner.add(e.variable);
      else inner.delete(e.variable);
      return visit(e.target, true, vars) || (e.filter !== null && visit(e.filter, false, inner)) || visit(e.body, false, inner);
    }
    default:
      return children(e).some((c) => visit(c, false, vars));
  }
}
