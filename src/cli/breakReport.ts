import { checkEnvFor, exprScope, exprTerms } from '../core/engine/exprScope';
import type { EventExec, Replayer } from '../core/engine/replay';
import type { HeadlessResult } from '../core/engine/run';
import type { CandidateRow } from '../core/engine/rows';
import { UserError } from '../core/errors';
import { checkExpr, compileExpr, ExprError, formatValue, parseExpr, type CompiledExpr, type ExprScope } from '../core/expr';
import { EXIT } from './exitCodes';
import { fmt, say, sayJson, shout } from './format';
import { oneLine } from '../shared/printable';

/** An expression error as the CLI shows it: the place, the reason, the text with a caret under it. */
function exprUserError(text: string, e: ExprError, where = ''): UserError {
  const at = placeOf(text, e.start);
  return new UserError(`--break${where}: ${at.label}: ${e.reason}`, {}, at.excerpt, 'E_EXPR');
}

/**
 * Where offset `start` of `text` is, as a terminal shows it: "column 12", or "line 2, column 5" in
 * an expression written over several lines (// comments make that natural), and the line itself
 * with a caret under the place (tabs kept, so the caret lines up).
 */
export function placeOf(text: string, start: number): { label: string; excerpt: string } {
  const lineStart = text.lastIndexOf('\n', start - 1) + 1;
  const nl = text.indexOf('\n', start);
  const lineEnd = nl === -1 ? text.length : nl;
  const column = start - lineStart;
  const lineNo = text.slice(0, lineStart).split('\n').length;
  const label = text.includes('\n') ? `line ${lineNo}, column ${column + 1}` : `column ${start + 1}`;
  // A long line (a generated expression of thousands of characters) is shown around the place only.
  let from = lineStart;
  let to = lineEnd;
  if (lineEnd - lineStart > EXCERPT_WIDTH) {
    from = Math.max(lineStart, Math.min(start - EXCERPT_BEFORE, lineEnd - EXCERPT_WIDTH));
    to = Math.min(lineEnd, from + EXCERPT_WIDTH);
  }
  const head = from > lineStart ? '…' : '';
  const line = `${head}${text.slice(from, to)}${to < lineEnd ? '…' : ''}`;
  const before = `${head}${text.slice(from, start)}`;
  return { label, excerpt: `${line}\n  ${before.replace(/[^\t]/g, ' ')}^` };
}

/** The most of an expression's line an error shows, and how much of it before the place. */
const EXCERPT_WIDTH = 76;
const EXCERPT_BEFORE = 40;

/** The values of the parts of `text` that read the stop, e.g. `rank("i_42") = 2`. */
export function termValues(text: string, scope: ExprScope): [string, string][] {
  return exprTerms(text).map((t) => {
    try {
      return [t, formatValue(compileExpr(t).evaluate(scope), 120)];
    } catch (e) {
      return [t, `<error: ${e instanceof ExprError ? e.reason : String(e)}>`];
    }
  });
}

function pad(cells: string[][]): string {
  // A loop, not Math.max(...column): spread as arguments, a table of ~130,000 rows (a ranking
  // shown to 2k of a large k) overflowed the stack.
  const widths: number[] = (cells[0] ?? []).map(() => 0);
  for (const r of cells) for (let i = 0; i < widths.length; i++) widths[i] = Math.max(widths[i] as number, (r[i] ?? '').length);
  return cells.map((r) => `  ${r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ')}`.trimEnd()).join('\n');
}

/** Cells of a report table from slice values: one line each (oneLine), so the widths are those printed. */
function lines(cells: string[][]): string[][] {
  return cells.map((r) => r.map(oneLine));
}

/** Rows shown in the report: the top of the ranking plus any candidate the expression names. */
function shownRows(ex: EventExec, text: string, limit: number): { rows: CandidateRow[]; hidden: number } {
  const order = ex.rankedRows.length ? ex.rankedRows : ex.rows;
  const named = new Set([...text.matchAll(/"([^"\\]+)"|'([^'\\]+)'/g)].map((m) => m[1] ?? m[2]));
  const rows = order.filter((r, i) => i < limit || named.has(r.item));
  return { rows, hidden: order.length - rows.length };
}

/** The ranking at the stop: replayed rank, item, score, recorded rank and delta, served, clicked. */
export function rankingTable(ex: EventExec, rows: readonly CandidateRow[]): string {
  const served = new Set(ex.served);
  const clicked = new Set(ex.clicks);
  const cells = [['rank', 'item', 'score', 'recorded', 'delta', 'served', 'clicked']];
  for (const r of rows) {
    const d = r.recordedRank - r.rank;
    cells.push([`#${r.rank}`, r.item, fmt(r.score), `#${r.recordedRank}`, d > 0 ? `+${d}` : d < 0 ? String(d) : '=', served.has(r.item) ? 'yes' : '', clicked.has(r.item) ? 'yes' : '']);
  }
  return pad(lines(cells));
}

/**
 * `recreplay run --break EXPR`: a stop condition for runHeadless and the report printed after it.
 * Syntax is checked now, before the slice opens; names against the slice's schema at the first event.
 */
export function breakOption(text: string, warn: (message: string) => void = (m) => shout(m)): { stopWhen: (ex: EventExec, r: Replayer) => boolean; report: (res: HeadlessResult, json: Record<string, unknown> | undefined) => number } {
  try {
    parseExpr(text);
  } catch (e) {
    if (e instanceof ExprError) throw exprUserError(text, e);
    throw e;
  }
  let compiled: CompiledExpr | undefined;
  const stopWhen = (ex: EventExec, r: Replayer): boolean => {
    if (compiled === undefined) {
      const env = checkEnvFor(r);
      try {
        compiled = compileExpr(text, env, { expect: 'bool' });
      } catch (e) {
        if (e instanceof ExprError) throw exprUserError(text, e);
        throw e;
      }
      // What the debugger shows beside a breakpoint (an item id not in the slice, a number compared
      // with a string) is said here too, before a run that may never stop because of it.
      for (const d of checkExpr(text, env, { expect: 'bool' })) {
        if (d.severity === 'warning') {
          const at = placeOf(text, d.start);
          warn(`recreplay: warning: --break, ${at.label}: ${d.message}\n  ${at.excerpt}`);
        }
      }
    }
    let v: unknown;
    try {
      v = compiled.evaluate(exprScope(ex, r, { candidateMaps: compiled.readsCandidateMaps }));
    } catch (e) {
      if (e instanceof ExprError) throw exprUserError(text, e, ` failed at event ${ex.n} (${ex.event.id}, line ${ex.n} of ${r.slice.eventsPath})`);
      throw e;
    }
    // A condition that is not true or false is a mistake to say, not a silent "never held" (as in the debugger).
    if (v !== true && v !== false) {
      throw new UserError(`--break failed at event ${ex.n} (${ex.event.id}, line ${ex.n} of ${r.slice.eventsPath}): column 1: the expression (all of it) gave ${formatValue(v, 80)}, not true or false`, {}, `${text}\n  Compare it with something, e.g. … == "x" or … > 0.`, 'E_EXPR');
    }
    return v;
  };
  /** Prints the stop (or that there was none); `json`: the run's --json summary, which the report extends. */
  const report = (res: HeadlessResult, json: Record<string, unknown> | undefined): number => {
    const ex = res.stoppedAt;
    const r = res.replayer;
    if (ex === undefined) {
      if (json) sayJson({ ...json, hit: false, expression: text, events: res.events });
      else say(`not hit: ${text} never held in ${res.events} events of ${res.slice}`);
      return EXIT.NOT_HIT;
    }
    const values = termValues(text, exprScope(ex, r));
    const { rows, hidden } = shownRows(ex, text, Math.max(20, 2 * r.pipeline.k));
    if (json) {
      // Sets, as the table uses: a scan of the served ids per row did not end on 150,000 rows.
      const served = new Set(ex.served);
      const clicked = new Set(ex.clicks);
      const ranking = rows.map((row) => ({ rank: row.rank, item: row.item, score: row.score, recordedRank: row.recordedRank, delta: row.recordedRank - row.rank, served: served.has(row.item), clicked: clicked.has(row.item) }));
      // `faults` stays the run's counts by kind (as without --break); the stopped event's own are `eventFaults`.
      sayJson({ ...json, hit: true, expression: text, event: ex.n, id: ex.event.id, line: ex.n, file: r.slice.eventsPath, t: ex.event.t, values: Object.fromEntries(values), ranking, eventFaults: ex.faults });
      return EXIT.OK;
    }
    say(`hit: ${text}`);
    say(`at event ${ex.n} (${oneLine(ex.event.id)}), line ${ex.n} of ${r.slice.eventsPath}`);
    say(`  t ${oneLine(ex.event.t)}, user ${oneLine(ex.event.user)}${ex.fallback ? ', fallback served' : ''}\n`);
    if (values.length) {
      say('values');
      say(pad(lines(values.map(([t, v]) => [t, '=', v]))));
      say('');
    }
    say(`ranking (replayed, ${ex.rows.length} candidates${hidden ? `, ${hidden} not shown` : ''})`);
    say(rankingTable(ex, rows));
    if (ex.faults.length) say(`\nfaults at this event\n${ex.faults.map((f) => `  ${f.kind} (${f.stage}): ${oneLine(f.message)}`).join('\n')}`);
    return EXIT.OK;
  };
  return { stopWhen, report };
}
