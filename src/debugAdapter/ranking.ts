import type { EventExec } from '../core/engine/replay';
import { allFeatures, recordedRankOf, type CandidateRow } from '../core/engine/rows';
import { dataIdOf, describeTarget, type DataTarget } from './dataBreakpoints';
import type { Lane } from './lanes';
import { fmtNum, lazyContainer, valueSpec, type Container, type VarSpec } from './variables';

/** "+2" when the replay moved an item up from its recorded place, "-1" down, "=" unchanged. */
export function deltaText(recordedRank: number, rank: number): string {
  const d = recordedRank - rank;
  return d > 0 ? `+${d}` : d < 0 ? String(d) : '=';
}

/** The rows in display order: replayed order once ranked, recorded order before. */
export function orderedRows(ex: EventExec): CandidateRow[] {
  if (ex.stagesDone >= 4 && ex.rankedRows.length === ex.rows.length) return ex.rankedRows;
  return ex.rows.slice().sort((a, b) => a.recordedRank - b.recordedRank);
}

/** `#1 i_42 0.82 (recorded #3, +2)`: one row of the Ranking scope, as name and value. */
export function rowLabel(row: CandidateRow, stagesDone: number): { name: string; value: string } {
  if (stagesDone >= 4) return { name: `#${row.rank}`, value: `${row.item} ${fmtNum(row.score)} (recorded #${row.recordedRank}, ${deltaText(row.recordedRank, row.rank)})` };
  if (stagesDone === 3) return { name: `rec #${row.recordedRank}`, value: `${row.item} ${fmtNum(row.score)} (not ranked yet)` };
  return { name: `rec #${row.recordedRank}`, value: `${row.item} (not scored yet)` };
}

function dataSpec(spec: VarSpec, target: DataTarget, lane: string | undefined): VarSpec {
  return { ...spec, dataId: dataIdOf(target, lane), dataDescription: describeTarget(target) };
}

/** A row's children: score, ranks, served/clicked, features (each a data breakpoint target). */
function rowContainer(row: CandidateRow, lane: Lane, ex: EventExec, laneTag: string | undefined): Container {
  return lazyContainer(() => {
    const id = JSON.stringify(row.item);
    const item = row.item;
    const features = allFeatures(row, { event: ex.event, user: ex.user, state: lane.replayer.state });
    const featureKids = lazyContainer(() =>
      Object.entries(features).map(([name, v]) => dataSpec(valueSpec(name, v, `feature(${id}, ${JSON.stringify(name)})`), { kind: 'feature', item, name }, laneTag)),
    );
    const specs: VarSpec[] = [
      valueSpec('item', item),
      // null until the score stage has run, as score(id) says (NaN would read as a nan_score fault).
      dataSpec(valueSpec('score', ex.stagesDone >= 3 ? row.score : null, `score(${id})`), { kind: 'score', item }, laneTag),
      dataSpec(valueSpec('rank', ex.stagesDone >= 4 ? row.rank : null, `rank(${id})`), { kind: 'rank', item }, laneTag),
      valueSpec('recordedRank', row.recordedRank, `recordedRank(${id})`),
      valueSpec('rankDelta', ex.stagesDone >= 4 ? row.recordedRank - row.rank : null, `rankDelta(${id})`),
      valueSpec('prevRank', row.prevRank),
      valueSpec('served', ex.stagesDone >= 5 ? ex.served.indexOf(item) + 1 || false : null),
      valueSpec('clicked', ex.stagesDone >= 6 ? ex.clicks.includes(item) : null),
      { name: 'features', value: `${Object.keys(features).length} features`, type: 'map', child: featureKids },
    ];
    if (row.itemRec) specs.push(valueSpec('catalogue', row.itemRec));
    if (row.rec.score !== undefined) specs.push(valueSpec('recordedScore', row.rec.score));
    return specs;
  });
}

/** The Ranking scope: every candidate in replayed order, paged. */
export function rankingContainer(lane: Lane, laneTag: string | undefined): Container {
  const ex = lane.exec;
  if (ex.stagesDone === 0) {
    const cands = ex.event.candidates;
    // Before retrieve there is no replayed order yet: the candidates in recorded order (a stable
    // sort by recorded rank; a repeated item keeps its first occurrence's rank).
    const order = cands.map((_, i) => i).sort((a, b) => (ex.candidateRanks[a] ?? Infinity) - (ex.candidateRanks[b] ?? Infinity) || a - b);
    return {
      indexed: cands.length,
      list: (start, count) =>
        order.slice(start, start + count).map((i): VarSpec => {
          const c = cands[i] as (typeof cands)[number];
          return { name: `rec #${recordedRankOf(ex.recorded, c.item) ?? '?'}`, value: `${c.item} (not retrieved yet)`, type: 'candidate' };
        }),
    };
  }
  const rows = orderedRows(ex);
  return {
    indexed: rows.length,
    list: (start, count) =>
      rows.slice(start, start + count).map((row) => {
        const { name, value } = rowLabel(row, ex.stagesDone);
        const target: DataTarget = { kind: 'rank', item: row.item };
        return { name, value, type: 'candidate', child: rowContainer(row, lane, ex, laneTag), evaluateName: `rank(${JSON.stringify(row.item)})`, dataId: dataIdOf(target, laneTag), dataDescription: describeTarget(target) };
      }),
  };
}

/** Items in `a`'s first k but not in `b`'s. */
function missingFrom(a: readonly string[], b: readonly string[], k: number): string[] {
  const inB = new Set(b.slice(0, k));
  return a.slice(0, k).filter((x) => !inB.has(x));
}

/** The first 1-based position where two orders differ, or 0. */
function firstDifference(a: readonly string[], b: readonly string[], k: number): number {
  for (let i = 0; i < Math.min(k, Math.max(a.length, b.length)); i++) if (a[i] !== b[i]) return i + 1;
  return 0;
}

function sideBySide(a: readonly string[], b: readonly string[], bName: string): Container {
  const n = Math.max(a.length, b.length);
  return {
    indexed: n,
    list: (start, count) => {
      const out: VarSpec[] = [];
      for (let i = start; i < Math.min(n, start + count); i++) {
        const x = a[i] ?? '—';
        const y = b[i] ?? '—';
        out.push({ name: `#${i + 1}`, value: `${x} | ${bName} ${y}${x === y ? '' : '  ≠'}` });
      }
      return out;
    },
  };
}

/** Diff vs recorded: where the replayed ranking parts from the one production served. */
export function diffVsRecorded(lane: Lane): Container {
  const ex = lane.exec;
  const k = lane.replayer.pipeline.k;
  if (ex.stagesDone < 4) return lazyContainer(() => [{ name: 'not ranked yet', value: 'the diff is available after the rerank stage' }]);
  return lazyContainer(() => {
    const first = firstDifference(ex.ranked, ex.recorded, k);
    const moved: Record<string, string> = {};
    for (const row of [...ex.rankedRows].sort((a, b) => Math.abs(b.recordedRank - b.rank) - Math.abs(a.recordedRank - a.rank))) {
      if (row.rank !== row.recordedRank) moved[row.item] = `#${row.recordedRank} → #${row.rank} (${deltaText(row.recordedRank, row.rank)})`;
    }
    const specs: VarSpec[] = [
      { name: 'first difference', value: first ? `#${first}: replayed ${ex.ranked[first - 1] ?? '—'}, recorded ${ex.recorded[first - 1] ?? '—'}` : `none in the top ${k}` },
      valueSpec(`entered top ${k}`, missingFrom(ex.ranked, ex.recorded, k)),
      valueSpec(`left top ${k}`, missingFrom(ex.recorded, ex.ranked, k)),
      valueSpec('moved', moved),
    ];
    if (ex.metrics) specs.push(valueSpec(`overlap@${k}`, ex.metrics.overlap), valueSpec('kendall tau', ex.metrics.kendallTau));
    if (ex.stagesDone >= 5) specs.push(valueSpec('served', ex.served), valueSpec('recorded served', ex.event.served), valueSpec('fallback', ex.fallback));
    specs.push({ name: 'side by side', value: `replayed | recorded, ${Math.max(ex.ranked.length, ex.recorded.length)} places`, child: sideBySide(ex.ranked, ex.recorded, 'recorded') });
    return specs;
  });
}

/** Diff in compare mode: where the candidate's ranking parts from the baseline's. */
export function diffVsBaseline(candidate: Lane, baseline: Lane): Container {
  const a = candidate.exec;
  const b = baseline.exec;
  const k = candidate.replayer.pipeline.k;
  if (a.stagesDone < 4) return lazyContainer(() => [{ name: 'not ranked yet', value: 'the diff is available after the rerank stage' }]);
  return lazyContainer(() => {
    const first = firstDifference(a.ranked, b.ranked, k);
    const scoreDiff: Record<string, number> = {};
    const baseScore = new Map(b.rows.map((r) => [r.item, r.score]));
    for (const row of a.rows) scoreDiff[row.item] = row.score - (baseScore.get(row.item) ?? Number.NaN);
    const specs: VarSpec[] = [
      { name: 'first difference', value: first ? `#${first}: candidate ${a.ranked[first - 1] ?? '—'}, baseline ${b.ranked[first - 1] ?? '—'}` : `none in the top ${k}` },
      valueSpec(`entered top ${k}`, missingFrom(a.ranked, b.ranked, k)),
      valueSpec(`left top ${k}`, missingFrom(b.ranked, a.ranked, k)),
      valueSpec('score candidate − baseline', scoreDiff),
    ];
    if (a.stagesDone >= 5) specs.push(valueSpec('served (candidate)', a.served), valueSpec('served (baseline)', b.served));
    if (a.metrics && b.metrics) specs.push(valueSpec(`overlap@${k} with recorded`, { candidate: a.metrics.overlap, baseline: b.metrics.overlap }));
    specs.push({ name: 'side by side', value: `candidate | baseline, ${Math.max(a.ranked.length, b.ranked.length)} places`, child: sideBySide(a.ranked, b.ranked, 'baseline') });
    return specs;
  });
}
