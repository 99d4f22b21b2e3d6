/**
 * What a breakpoint condition costs: compiled expressions vs the same tests hand-written in JS,
 * over the same stops of a replay. Part of bench/dap.ts; also runs alone:
 *   node --import tsx bench/condition.ts [EVENTS] [SLICE] [RANKERSPEC]
 * EVENTS (stops timed) defaults to 5000, SLICE to the 10k-event bench slice (bench/slices.ts).
 * Prints the table as JSON.
 */
import { performance } from 'node:perf_hooks';
import { benchRankerSpec, benchSlice } from './slices';
import { exprScope } from '../src/core/engine/exprScope';
import { Replayer } from '../src/core/engine/replay';
import { compileExpr, type ExprScope } from '../src/core/expr';
import { loadRanker } from '../src/core/rankers';
import { Slice } from '../src/core/slice/reader';

/** One condition, timed compiled and hand-written; `ratio` is compiled over hand-written. */
export interface ConditionCase {
  name: string;
  compiledNs: number;
  handNs: number;
  ratio: number;
}

/** The median (or other quantile) of samples. */
export function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] as number;
}
const round = (x: number, d = 2) => Number(x.toFixed(d));

/** The breakpoint condition of the continue measurement, from event `from` on. */
export const conditionFor = (from: number) => `candidates.exists(c, c.rank == 1 && c.score > 0.9) && event.index >= ${from}`;

/** Conditions timed compiled and hand-written in JS over the same stops; the first is the continue's. */
export function conditionCases(item: string): { name: string; text: string; hand: (s: ExprScope) => unknown }[] {
  return [
    {
      name: 'continue condition (exists macro)',
      text: conditionFor(1),
      hand: (s) => {
        for (const c of s.candidates) if (c.rank === 1 && c.score !== null && c.score > 0.9) return (s.event['index'] as number) >= 1;
        return false;
      },
    },
    {
      name: 'item score (helper)',
      text: `score("${item}") > 0.5`,
      hand: (s) => {
        const c = s.candidates.find((x) => x.item === item);
        return c === undefined || c.score === null ? false : c.score > 0.5;
      },
    },
    {
      name: 'fields',
      text: 'system.latencyMs.score > 40 && user.id != "x"',
      hand: (s) => ((s.system['latencyMs'] as Record<string, number>)['score'] as number) > 40 && s.user['id'] !== 'x',
    },
  ];
}

/**
 * Compiled conditions vs the same tests hand-written in JS, over the same stops (scopes built and
 * warmed before timing). Alternating runs, median per side: JIT state makes single runs noisy.
 */
export async function conditionCost(events: number, slicePath: string, rankerSpec: string): Promise<{ stops: number; cases: ConditionCase[] }> {
  const slice = Slice.open(slicePath);
  const r = new Replayer(slice, { ranker: loadRanker(rankerSpec, { slice }) });
  const scopes: ExprScope[] = [];
  while (scopes.length < events && r.advance()) {
    await r.finishEvent();
    const s = exprScope(r.current as NonNullable<typeof r.current>, r);
    void [s.candidates, s.event, s.user, s.system];
    scopes.push(s);
  }
  r.dispose();
  const once = (f: (s: ExprScope) => unknown): number => {
    const t0 = performance.now();
    for (let k = 0; k < 10; k++) for (const s of scopes) f(s);
    return ((performance.now() - t0) / (10 * scopes.length)) * 1e6;
  };
  const cases = conditionCases(scopes[0]?.candidates[3]?.item ?? 'i0').map(({ name, text, hand }) => {
    const compiled = compileExpr(text);
    const comp = (s: ExprScope) => compiled.evaluate(s);
    for (const s of scopes) if (comp(s) !== hand(s)) throw new Error(`compiled and hand-written disagree on ${text}`);
    const a: number[] = [];
    const b: number[] = [];
    for (let rep = 0; rep < 9; rep++) {
      a.push(once(comp));
      b.push(once(hand));
    }
    const compiledNs = quantile(a, 0.5);
    const handNs = quantile(b, 0.5);
    return { name, compiledNs: round(compiledNs, 1), handNs: round(handNs, 1), ratio: round(compiledNs / handNs) };
  });
  return { stops: scopes.length, cases };
}

// Run alone, not when imported (bench/dap.ts), even from a bundle where `module` is the bundle's.
if (require.main === module && /condition\.[cm]?[jt]s$/.test(process.argv[1] ?? '')) {
  const [events = '5000', slicePath = benchSlice(10000, (s) => process.stderr.write(`${s}\n`)), rankerSpec = benchRankerSpec()] = process.argv.slice(2);
  conditionCost(Number(events), slicePath, rankerSpec).then(
    (r) => process.stdout.write(`${JSON.stringify({ bench: 'condition', slice: slicePath, ranker: rankerSpec, ...r, target: 2 }, null, 2)}\n`),
    (e: unknown) => {
      process.stderr.write(`bench/condition: ${(e as Error).stack ?? String(e)}\n`);
      process.exit(1);
    },
  );
}
